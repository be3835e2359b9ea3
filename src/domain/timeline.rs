//! Incident timelines.
