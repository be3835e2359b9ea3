//! Reusable widgets.

pub mod chart;
