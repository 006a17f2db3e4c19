//! The Tillfund fund server: the single source of truth for customers' money.
//!
//! `main.rs` is the operator's command line; everything it does is a call into this library,
//! so tests drive the same code in process (`http::app`) and as the real binary.

pub mod config;
pub mod credentials;
pub mod demo;
pub mod http;
pub mod ledger;
pub mod ledger_writer;
pub mod model;
pub mod operators;
pub mod pin_checker;
pub mod service;
pub mod store;
pub mod vault;
