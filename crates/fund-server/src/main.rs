//! `fund-server`: the operator's command line. Each subcommand is a thin call into the
//! library; errors reach the operator as one readable line and a non-zero exit.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use fund_server::config::ServerConfig;
use fund_server::http::{AppState, app};
use fund_server::store::Store;
use tillfund_core::Currency;

#[derive(Parser)]
#[command(name = "fund-server", version, about = "Tillfund fund server")]
struct Cli {
    /// Directory for the embedded SQLite database.
    #[arg(long, env = "TILLFUND_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
    /// Database URL; overrides --data-dir. Example: sqlite:///var/lib/tillfund/fund.sqlite
    #[arg(long, env = "DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// ISO 4217 code of the deployment's one currency.
    #[arg(long, env = "TILLFUND_CURRENCY", default_value = "CNY", global = true)]
    currency: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply database migrations, then serve HTTP until Ctrl-C or SIGTERM.
    Serve {
        /// Address to listen on; port 0 picks a free port (printed on start).
        #[arg(long, env = "TILLFUND_LISTEN", default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        /// Also seed the demo store, its counter and a demo customer (idempotent).
        #[arg(long)]
        seed_demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Seed the demo store, its counter and a demo customer (idempotent).
    SeedDemo,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("fund-server: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let currency = Currency::from_code(&cli.currency)?;
    let database_url =
        cli.database_url.unwrap_or_else(|| ServerConfig::database_url_in(&cli.data_dir));
    let config = ServerConfig { database_url, currency };
    let store = Store::connect(&config.database_url)
        .await
        .with_context(|| format!("cannot open the database {}", config.database_url))?;
    store.migrate().await?;
    match cli.command {
        Command::Migrate => {
            println!("database is up to date");
        }
        Command::SeedDemo => seed_demo(&store).await?,
        Command::Serve { listen, seed_demo: seed } => {
            if seed {
                seed_demo(&store).await?;
            }
            serve(store, config, listen).await?;
        }
    }
    Ok(())
}

async fn seed_demo(store: &Store) -> anyhow::Result<()> {
    let outcome = fund_server::demo::seed_demo(store).await?;
    let verb = if outcome.created { "created" } else { "already present" };
    println!(
        "demo store {verb}: merchant {}, terminal {}, customer {} (phone {}, PIN {})",
        fund_server::demo::DEMO_MERCHANT_ID,
        fund_server::demo::DEMO_TERMINAL_ID,
        fund_server::demo::DEMO_CUSTOMER_ID,
        fund_server::demo::DEMO_CUSTOMER_PHONE,
        fund_server::demo::DEMO_CUSTOMER_PIN,
    );
    Ok(())
}

async fn serve(store: Store, config: ServerConfig, listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local_address = listener.local_addr()?;
    // Tests and scripts read this exact line to learn the port when started on port 0.
    println!("fund-server listening on http://{local_address}");
    std::io::stdout().flush()?;
    let router = app(AppState::new(store.clone(), config));
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await?;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
