//! SIPREMS: a retail back office — point of sale, stock ledger, demand forecasting and
//! restock advice.
//!
//! Layers, from the outside in:
//! - [`http`]: routes, extractors and the one place where errors become responses;
//! - [`domain`]: the shop's rules (checkout, stock, products, events, dashboard), no HTTP;
//! - [`storage`]: the database behind one handle, SQLite or PostgreSQL.
//!
//! [`app`] builds the application state from [`config::Config`] and runs the server;
//! [`cli`] is the command line on top of it.

pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod http;
pub mod import;
pub mod infra;
pub mod observability;
pub mod progress;
pub mod services;
pub mod storage;
