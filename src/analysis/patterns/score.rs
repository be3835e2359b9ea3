//! Scores for a template miner against ground truth, as LogPAI's LogHub benchmark defines them.
//!
//! Both take one label per line: `truth[i]` is line `i`'s true event id, `predicted[i]` the
//! group the miner put it in (any text; equal text = same group). Lines beyond the shorter slice
//! are ignored. Both run in O(n) with hash maps of counts.

use std::collections::HashMap;

/// Grouping accuracy: a predicted group is correct when all of its lines share one true id
/// **and** it holds every line with that id; GA = lines in correct groups / all lines
/// (1 for no lines).
pub fn grouping_accuracy(truth: &[&str], predicted: &[&str]) -> f64 {
    let n = truth.len().min(predicted.len());
    if n == 0 {
        return 1.0;
    }
    let (truth_sizes, pred_sizes, joint) = counts(&truth[..n], &predicted[..n]);
    // For each predicted group: how many distinct true ids, and one of them.
    let mut ids_in_group: HashMap<&str, (usize, &str)> = HashMap::new();
    for &(p, t) in joint.keys() {
        let e = ids_in_group.entry(p).or_insert((0, t));
        e.0 += 1;
    }
    let correct: usize = ids_in_group
        .iter()
        .filter_map(|(p, &(distinct, t))| {
            let size = pred_sizes.get(p).copied().unwrap_or(0);
            (distinct == 1 && truth_sizes.get(t).copied() == Some(size)).then_some(size)
        })
        .sum();
    correct as f64 / n as f64
}

/// Pairwise precision, recall and F1 over line pairs that share a group: precision = pairs in
/// the same predicted group that are also in the same true group / pairs in the same predicted
/// group; recall = the same / pairs in the same true group. With no predicted pairs precision is
/// 1, with no true pairs recall is 1; F1 is 0 when both are 0.
pub fn pairwise_f1(truth: &[&str], predicted: &[&str]) -> (f64, f64, f64) {
    let n = truth.len().min(predicted.len());
    let (truth_sizes, pred_sizes, joint) = counts(&truth[..n], &predicted[..n]);
    let true_pairs = pairs(truth_sizes.values());
    let pred_pairs = pairs(pred_sizes.values());
    let both = pairs(joint.values());
    let precision = if pred_pairs == 0 {
        1.0
    } else {
        both as f64 / pred_pairs as f64
    };
    let recall = if true_pairs == 0 {
        1.0
    } else {
        both as f64 / true_pairs as f64
    };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    (precision, recall, f1)
}

/// Sum of `k choose 2` over group sizes `k`.
fn pairs<'a>(sizes: impl Iterator<Item = &'a usize>) -> u64 {
    sizes
        .map(|&k| (k as u64) * (k as u64).saturating_sub(1) / 2)
        .sum()
}

type Counts<'a> = (
    HashMap<&'a str, usize>,
    HashMap<&'a str, usize>,
    HashMap<(&'a str, &'a str), usize>,
);

/// Lines per true id, per predicted group, and per (predicted group, true id).
fn counts<'a>(truth: &[&'a str], predicted: &[&'a str]) -> Counts<'a> {
    let mut t_sizes = HashMap::new();
    let mut p_sizes = HashMap::new();
    let mut joint = HashMap::new();
    for (&t, &p) in truth.iter().zip(predicted) {
        *t_sizes.entry(t).or_insert(0) += 1;
        *p_sizes.entry(p).or_insert(0) += 1;
        *joint.entry((p, t)).or_insert(0) += 1;
    }
    (t_sizes, p_sizes, joint)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn f1(truth: &[&str], pred: &[&str]) -> (f64, f64, f64) {
        pairwise_f1(truth, pred)
    }

    #[test]
    fn a_perfect_grouping_scores_one_even_with_other_labels() {
        let truth = ["a", "a", "b", "c", "c", "c"];
        let pred = ["x", "x", "y", "z", "z", "z"];
        assert!(close(grouping_accuracy(&truth, &pred), 1.0));
        assert_eq!(f1(&truth, &pred), (1.0, 1.0, 1.0));
    }

    #[test]
    fn one_group_for_everything() {
        let truth = ["a", "a", "b", "c", "c", "c"];
        let pred = ["x"; 6];
        assert!(close(grouping_accuracy(&truth, &pred), 0.0));
        // True pairs 1 + 3 = 4; predicted pairs 15.
        let (p, r, f) = f1(&truth, &pred);
        assert!(close(p, 4.0 / 15.0) && close(r, 1.0));
        assert!(close(f, 2.0 * (4.0 / 15.0) / (4.0 / 15.0 + 1.0)));
        // When the truth is one group too, it is perfect.
        assert!(close(grouping_accuracy(&["a"; 6], &pred), 1.0));
    }

    #[test]
    fn all_singletons() {
        let truth = ["a", "a", "b", "c", "c", "c"];
        let pred = ["1", "2", "3", "4", "5", "6"];
        // Only "b" (a true singleton) is grouped correctly.
        assert!(close(grouping_accuracy(&truth, &pred), 1.0 / 6.0));
        assert_eq!(f1(&truth, &pred), (1.0, 0.0, 0.0));
    }

    #[test]
    fn a_split_group_fails_ga_for_all_its_lines_but_keeps_precision() {
        let truth = ["a", "a", "a", "a", "b"];
        let pred = ["x", "x", "x", "y", "z"];
        assert!(close(grouping_accuracy(&truth, &pred), 0.2));
        // True pairs 6, predicted 3, all 3 correct.
        let (p, r, f) = f1(&truth, &pred);
        assert!(close(p, 1.0) && close(r, 0.5) && close(f, 2.0 / 3.0));
    }

    #[test]
    fn a_merged_pair_scores_zero_ga_but_some_f1() {
        let truth = ["a", "a", "b"];
        let pred = ["x", "x", "x"];
        assert!(close(grouping_accuracy(&truth, &pred), 0.0));
        let (p, r, f) = f1(&truth, &pred);
        assert!(close(p, 1.0 / 3.0) && close(r, 1.0) && close(f, 0.5));
    }

    #[test]
    fn ga_and_f1_can_rank_two_groupings_oppositely() {
        let truth = ["a", "a", "b", "b", "b", "b", "b", "b", "b", "b"];
        // Everything merged: no correct group, but every true pair is kept.
        let merged = ["x"; 10];
        // "a" right, the eight "b" lines scattered into singletons.
        let scattered = ["x", "x", "1", "2", "3", "4", "5", "6", "7", "8"];
        let ga_merged = grouping_accuracy(&truth, &merged);
        let ga_scattered = grouping_accuracy(&truth, &scattered);
        assert!(close(ga_merged, 0.0) && close(ga_scattered, 0.2));
        let f_merged = f1(&truth, &merged).2;
        let f_scattered = f1(&truth, &scattered).2;
        // merged: P = 29/45, R = 1; scattered: P = 1, R = 1/29.
        assert!(close(f_merged, 2.0 * (29.0 / 45.0) / (29.0 / 45.0 + 1.0)));
        assert!(close(f_scattered, 2.0 * (1.0 / 29.0) / (1.0 / 29.0 + 1.0)));
        assert!(ga_scattered > ga_merged && f_merged > f_scattered);
    }

    #[test]
    fn empty_and_uneven_inputs() {
        assert!(close(grouping_accuracy(&[], &[]), 1.0));
        assert_eq!(pairwise_f1(&[], &[]), (1.0, 1.0, 1.0));
        // The extra predicted label is ignored.
        assert!(close(grouping_accuracy(&["a", "a"], &["x", "x", "y"]), 1.0));
    }
}
