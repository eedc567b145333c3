//! API tests: the real server on a random port, a fresh database per test, HTTP only.

mod auth;
mod bad_input;
mod barcodes;
mod bounds;
mod catalogue;
mod chat;
mod chat_providers;
mod checkout;
mod consequences;
mod dashboard;
mod events;
mod forecasting;
mod operations;
mod sessions;
mod settings;
mod shared_state;
mod support;
mod users;
mod web;
