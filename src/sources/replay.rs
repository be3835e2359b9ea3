//! Replay source.
