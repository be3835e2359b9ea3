//! pagerpilot: a terminal on-call copilot.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod analysis;
pub mod app;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod exec;
pub mod report;
pub mod runtime;
pub mod sources;
pub mod store;
pub mod ui;
