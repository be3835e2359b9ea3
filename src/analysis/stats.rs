//! Robust statistics on plain slices.
