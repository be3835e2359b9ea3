//! Ranking incidents.
