//! The only layer that does I/O besides the sources and the store: pollers, the effect
//! runner, the interactive loop and the one-shot cycle of the headless commands.

pub mod demo_serve;
pub mod doctor;
pub mod effects;
pub mod execute;
pub mod headless;
pub mod poll;
pub mod pollers;
pub mod rules;
pub mod setup;
pub mod tui;
