//! Embedded demo scenario.
