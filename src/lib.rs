//! pagerpilot: a terminal on-call copilot.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod analysis;
pub mod demo;
pub mod domain;
pub mod sources;
pub mod store;
