//! Likely cause within an incident.
