//! Differential tests: the one-pass tokenizer in `mask.rs` must give exactly the tokens of the
//! old one (`reference.rs`) on hand-picked, LogHub, random, non-ASCII and very long lines.

use proptest::prelude::*;

use super::mask::{render_pieces, tokenize_into, Piece};
use super::reference;

/// A comparable view of a token list.
fn view(pieces: &[Piece]) -> Vec<(String, String, bool, bool, u8)> {
    pieces
        .iter()
        .map(|p| {
            (
                p.pre.to_string(),
                p.post.to_string(),
                p.masked,
                p.glued,
                p.group,
            )
        })
        .collect()
}

/// Asserts both tokenizers agree on `line` (tokens and rendered masked line).
fn agree(line: &str) -> Result<(), TestCaseError> {
    let (mut new, mut old) = (Vec::new(), Vec::new());
    tokenize_into(line, &mut new);
    reference::tokenize_into(line, &mut old);
    prop_assert_eq!(view(&new), view(&old), "line {:?}", line);
    let (mut a, mut b) = (String::new(), String::new());
    render_pieces(&new, &mut a);
    render_pieces(&old, &mut b);
    prop_assert_eq!(a, b);
    Ok(())
}

const SAMPLES: &[&str] = &[
    "",
    "   ",
    "user=alice id=42 took 12ms",
    "Failed password for invalid user test from 187.141.143.180 port 45395 ssh2",
    "10.11.10.1 \"GET /v2/54fadb412c4e40cdbaed9335e4c35a9e/servers/detail HTTP/1.1\" status: 200 len: 1893 time: 0.2477829",
    "[instance: 1f2e3d4c-1f2e-4d3c-9b8a-0123456789ab] VM Started (Lifecycle Event)",
    "proxy.example.com:443 close, 1433 bytes (1.39 KB) sent, 2011 bytes (1.96 KB) received, lifetime 00:02",
    "Block rdd_42_7 stored as bytes in memory (estimated size 12.0 KB, free 317.5 MB)",
    "{\"key\":\"value\",\"n\":12,\"ok\":true}",
    "onExtend:1514038550000 retry:3 a=b=c, x,y,z",
    "Loaded Servicing Stack v6.1.7601.23505 with Core: C:\\Windows\\winsxs\\amd64_x\\cbscore.dll",
    "took 5 sec, 3 MB, 12 % [worker-3] (0x1f) [a b] (1 2 3 4 5)",
    "caf\u{e9} \u{a0}nbsp\u{a0}sep\u{3000}ideo\u{2028}line \u{85}nel \u{1680}ogham µs 5 µs",
    "tab\tsep\x0bvt\x0cff\rcr\nnl\x1cfs not-space",
    "user='bob' name=\"x y\" q=\"\" k='' v=\"1\"",
    "fe80::1ff:fe23:4567:890a [::1]:8080 host-1.example.org:80 a@b.c /a ./b ../c ~/d x/y/z",
];

#[test]
fn hand_picked_lines_agree() {
    for line in SAMPLES {
        agree(line).unwrap();
    }
}

#[test]
fn very_long_lines_agree() {
    let long_words = [
        "x".repeat(5_000),
        "(".repeat(300) + "1" + &")".repeat(300),
        // A masked piece whose frame was dropped, then a unit: the unit fold must not join.
        "(".repeat(300) + " KB",
        "(".repeat(20) + "5 KB",
        "[".repeat(17) + "0x1f ms, " + &",".repeat(300) + " sec",
    ];
    for w in &long_words {
        agree(w).unwrap();
    }
    let many: String = (0..500).map(|i| format!("k{i}={i} w{} ", i % 7)).collect();
    agree(&many).unwrap();
    let glued: String = (0..400).map(|i| format!("a{i},")).collect();
    agree(&glued).unwrap();
}

/// Every `Content` line of the LogHub systems, when the data is next to the crate.
#[test]
fn loghub_lines_agree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/loghub");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    for entry in entries.flatten() {
        let system = entry.file_name().to_string_lossy().into_owned();
        let file = entry.path().join(format!("{system}_2k.log"));
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for line in text.lines() {
            agree(line).unwrap();
        }
    }
}

/// Words that exercise every rule: numbers, units, hex, UUIDs, IPs, paths, quotes, groups.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z]{1,8}",
        "-?[0-9]{1,6}(\\.[0-9]{1,3})?",
        "(b|KB|mb|GiB|bytes|ms|µs|s|sec|min|h|hours|%)[,.;)\\]]?",
        "0x[0-9a-f]{1,8}|[0-9a-f]{6,12}",
        "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
        "[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}(:[0-9]{1,5})?",
        "[a-z]{1,5}(:|=|,|\":)[a-z0-9\"']{0,6}",
        "[(\\[{<\"']{0,2}[a-z0-9_./\\\\@:-]{0,10}[)\\]}>\"'.,;:!?]{0,2}",
        "[/~.]{0,2}/[a-z0-9]{1,4}(/[a-z0-9._-]{1,4}){0,3}",
        "[a-z]{1,5}-[0-9a-z]{1,6}(_[0-9]{1,3})?",
        "\\PC{1,6}",
    ]
}

fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just(" ".to_string()),
        1 => "[ \t\u{a0}\u{3000}\u{2009}\u{85}]{1,3}",
    ]
}

fn line() -> impl Strategy<Value = String> {
    proptest::collection::vec((word(), separator()), 0..40)
        .prop_map(|ws| ws.into_iter().map(|(w, s)| w + &s).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn log_like_lines_agree(line in line()) {
        agree(&line)?;
    }

    #[test]
    fn arbitrary_text_agrees(line in "\\PC{0,200}") {
        agree(&line)?;
    }

    #[test]
    fn punctuation_soup_agrees(line in "[ a-z0-9=,:;.\"'()\\[\\]{}<>/\\\\@_%µ\u{a0}\t-]{0,300}") {
        agree(&line)?;
    }
}

/// Feeds `lines` to two miners, one without the raw-line cache, and asserts they agree on every
/// line's pattern and on every template.
fn miners_agree(lines: &[String], max_clusters: usize) {
    let (mut a, mut b) = (super::Miner::new(), super::Miner::new());
    a.set_max_clusters(max_clusters);
    b.set_max_clusters(max_clusters);
    let ra: Vec<_> = lines.iter().map(|l| a.add_with(l, 1, true)).collect();
    let rb: Vec<_> = lines.iter().map(|l| b.add_with(l, 1, false)).collect();
    assert_eq!(ra, rb);
    // The batch path (its own raw-line cache over the caller's slice) agrees too.
    let mut c = super::Miner::new();
    c.set_max_clusters(max_clusters);
    let rc: Vec<_> = c.add_lines(lines).into_iter().flatten().collect();
    assert_eq!(ra, rc);
    for r in ra {
        assert_eq!(a.template(a.resolve(r)), b.template(b.resolve(r)));
        assert_eq!(a.template(a.resolve(r)), c.template(c.resolve(r)));
        assert_eq!(a.count(r), b.count(r));
        assert_eq!(a.count(r), c.count(r));
    }
    assert_eq!(a.evicted(), b.evicted());
    assert_eq!(a.evicted(), c.evicted());
}

#[test]
fn the_raw_line_cache_never_changes_a_pattern() {
    // Many shapes (the caches fill and are emptied), repeats, merges, and an eviction cap.
    let mut g = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        g ^= g << 13;
        g ^= g >> 7;
        g ^= g << 17;
        g
    };
    let words = [
        "alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta", "iota",
    ];
    let mut lines: Vec<String> = (0..20_000)
        .map(|_| {
            let n = 2 + next() % 6;
            (0..n)
                .map(|_| match next() % 5 {
                    0 => format!("{}", next() % 1000),
                    1 => format!("w{}", next() % 3_000),
                    _ => words[(next() % words.len() as u64) as usize].to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let again: Vec<String> = lines.iter().step_by(3).cloned().collect();
    lines.extend(again);
    miners_agree(&lines, usize::MAX);
    miners_agree(&lines, 50);
}
