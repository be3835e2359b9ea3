//! Capacity forecasts.
use super::CapacityForecast;
use crate::domain::Series;

/// Forecasts when `series` reaches `capacity`, from its recent trend. `None` when there is
/// not enough data or no trend toward the limit.
pub fn capacity_forecast(_series: &Series, _capacity: f64) -> Option<CapacityForecast> {
    None
}
