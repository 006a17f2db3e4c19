//! Tauri commands, one file per area. Each is a few lines: take state, call `counter-core`.

pub mod connection;
