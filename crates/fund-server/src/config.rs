//! Where the server keeps its data and which currency it counts in.

use std::path::{Path, PathBuf};

/// Server settings that are not the ledger's policy.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// `sqlite://path/to/fund.sqlite`; PostgreSQL URLs come with the PostgreSQL backend.
    pub database_url: String,
}

impl ServerConfig {
    /// The embedded default: a SQLite file inside the data directory.
    pub fn database_url_in(data_dir: &Path) -> String {
        let path: PathBuf = data_dir.join("fund.sqlite");
        format!("sqlite://{}", path.display())
    }
}
