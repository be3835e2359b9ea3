//! Metric-only root-cause ranking from a normal and an anomalous period (`pagerpilot rca`).
//!
//! Method (robust scaling, in the spirit of BARO): every metric column is scaled by the median and
//! the inter-quartile range of its *normal* period; its score is the largest absolute scaled value
//! in the *anomalous* period. A service scores the maximum over its columns, and services are
//! ranked by score. The evidence names the column, how far it moved and in which direction.
//!
//! The scale is the IQR, or the median absolute deviation when the IQR is below [`LEVEL_SHARE`]
//! of the column's level, and never less than that share of the level: flat columns do not turn
//! small moves into huge scores, and nothing divides by zero. Non-finite cells are ignored; a
//! column with no finite value in either period is skipped and reported.

use std::collections::BTreeMap;

use serde::Serialize;

/// The smallest scale a column gets, as a share of its normal level: a move smaller than 1 % of
/// a metric's level is not meaningful however flat the metric was (a database's memory that sat
/// still for an hour would otherwise out-score the service whose CPU tripled).
pub const LEVEL_SHARE: f64 = 0.01;

/// One metric column over both periods.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub service: String,
    pub normal: Vec<f64>,
    pub anomalous: Vec<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnScore {
    pub column: String,
    pub service: String,
    /// Largest |value − normal median| / normal scale in the anomalous period.
    pub score: f64,
    pub normal_median: f64,
    /// The anomalous value that scored highest.
    pub peak: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceScore {
    pub service: String,
    pub score: f64,
    /// Its highest-scoring column.
    pub top: ColumnScore,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RcaResult {
    /// Services, most likely cause first.
    pub ranking: Vec<ServiceScore>,
    /// Columns skipped, with why.
    pub skipped: Vec<(String, String)>,
}

/// The service a column belongs to by default: a trailing numeric suffix (`_50`, `_99`) is
/// dropped, then the name up to its last `_`; a `-db` suffix folds the database into its service
/// (`carts-db_cpu` → `carts`, `carts_lat_99` → `carts`).
pub fn default_service(column: &str) -> String {
    let trimmed = match column.rsplit_once('_') {
        Some((head, tail)) if !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) => head,
        _ => column,
    };
    let service = trimmed.rsplit_once('_').map_or(trimmed, |(head, _)| head);
    service.strip_suffix("-db").unwrap_or(service).to_string()
}

/// Ranks the services of `columns` (see the module docs).
pub fn rank(columns: &[Column]) -> RcaResult {
    let mut result = RcaResult::default();
    let mut best: BTreeMap<&str, ColumnScore> = BTreeMap::new();
    for c in columns {
        match score_column(c) {
            Ok(s) => {
                let slot = best.entry(c.service.as_str());
                match slot {
                    std::collections::btree_map::Entry::Vacant(v) => {
                        v.insert(s);
                    }
                    std::collections::btree_map::Entry::Occupied(mut o) => {
                        if s.score > o.get().score {
                            o.insert(s);
                        }
                    }
                }
            }
            Err(why) => result.skipped.push((c.name.clone(), why)),
        }
    }
    result.ranking = best
        .into_iter()
        .map(|(service, top)| ServiceScore {
            service: service.to_string(),
            score: top.score,
            top,
        })
        .collect();
    result.ranking.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.service.cmp(&b.service))
    });
    result
}

fn score_column(c: &Column) -> Result<ColumnScore, String> {
    let mut normal: Vec<f64> = c.normal.iter().copied().filter(|x| x.is_finite()).collect();
    if normal.is_empty() {
        return Err("no numeric value in the normal period".to_string());
    }
    normal.sort_by(f64::total_cmp);
    let median = quantile(&normal, 0.5);
    let iqr = quantile(&normal, 0.75) - quantile(&normal, 0.25);
    let mut deviations: Vec<f64> = normal.iter().map(|x| (x - median).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let mad = quantile(&deviations, 0.5) * 1.4826;
    let floor = (LEVEL_SHARE * median.abs()).max(1e-6);
    let scale = if iqr > floor {
        iqr
    } else if mad > floor {
        mad
    } else {
        floor
    };
    let (score, peak) = c
        .anomalous
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .map(|x| ((x - median).abs() / scale, x))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .ok_or_else(|| "no numeric value in the anomalous period".to_string())?;
    Ok(ColumnScore {
        column: c.name.clone(),
        service: c.service.clone(),
        score,
        normal_median: median,
        peak,
    })
}

/// Linear-interpolated quantile of sorted, non-empty `xs`.
fn quantile(xs: &[f64], q: f64) -> f64 {
    let pos = q * (xs.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let w = pos - lo as f64;
    xs[lo] * (1.0 - w) + xs[hi.min(xs.len() - 1)] * w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, normal: Vec<f64>, anomalous: Vec<f64>) -> Column {
        Column {
            name: name.into(),
            service: default_service(name),
            normal,
            anomalous,
        }
    }

    fn wobble(level: f64, n: usize) -> Vec<f64> {
        (0..n).map(|i| level + ((i * 7) % 5) as f64 * 0.1).collect()
    }

    #[test]
    fn services_come_from_column_names() {
        assert_eq!(default_service("carts_cpu"), "carts");
        assert_eq!(default_service("carts-db_cpu"), "carts");
        assert_eq!(default_service("carts_lat_99"), "carts");
        assert_eq!(default_service("front-end_mem"), "front-end");
        assert_eq!(default_service("plain"), "plain");
    }

    #[test]
    fn the_service_that_moved_most_against_its_own_spread_ranks_first() {
        let cols = vec![
            // Large values, large spread, modest move.
            column("orders_cpu", wobble(50.0, 100), wobble(50.6, 50)),
            // Small values, tiny spread, big move: the cause.
            column("carts_cpu", wobble(1.0, 100), wobble(3.0, 50)),
            column("user_mem", wobble(10.0, 100), wobble(10.0, 50)),
        ];
        let r = rank(&cols);
        let order: Vec<&str> = r.ranking.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(order, ["carts", "orders", "user"]);
        assert_eq!(r.ranking[0].top.column, "carts_cpu");
        assert!(r.ranking[0].score > 5.0);
    }

    #[test]
    fn a_flat_column_that_moves_a_little_does_not_outrank_a_real_move() {
        // Memory at 700 MB that never moved, then drops 3 %; CPU that triples.
        let cols = vec![
            column("db_mem", vec![700e6; 100], vec![679e6; 50]),
            column("api_cpu", wobble(1.0, 100), wobble(3.0, 50)),
        ];
        let r = rank(&cols);
        assert_eq!(r.ranking[0].service, "api", "{r:?}");
        assert!(r.ranking[1].score < 5.0, "{r:?}");
    }

    #[test]
    fn degenerate_columns_neither_panic_nor_divide_by_zero() {
        let cols = vec![
            column("a_cpu", vec![1.0; 50], vec![1.0, 1.0, 2.0]),
            column("b_cpu", vec![f64::NAN; 5], vec![1.0]),
            column("c_cpu", vec![0.0; 5], vec![f64::NAN]),
            column("d_cpu", vec![0.0; 5], vec![0.0]),
        ];
        let r = rank(&cols);
        assert_eq!(r.ranking.first().map(|s| s.service.as_str()), Some("a"));
        assert!(r.ranking.iter().all(|s| s.score.is_finite()));
        let skipped: Vec<&str> = r.skipped.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(skipped, ["b_cpu", "c_cpu"]);
    }
}
