//! Memory bound of streaming pattern mining: feeds N synthetic lines (default 10 million) drawn
//! from 1,000 distinct message shapes, with fresh numbers, ids and IPs on every line, to one
//! default [`Miner`] (which caps its patterns and evicts the least recently used), keeping per
//! pattern a count and the latest three raw lines, and prints the peak resident set size
//! (`VmHWM` from `/proc/self/status`, Linux only).
//!
//! ```sh
//! cargo run --release --example patterns_memory            # 10,000,000 lines
//! cargo run --release --example patterns_memory -- 1000000 # fewer
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Instant;

use pagerpilot::analysis::patterns::{Miner, PatternRef, MAX_EXAMPLES};

const SHAPES: usize = 1_000;

const WORDS: [&str; 40] = [
    "cache",
    "refused",
    "upstream",
    "worker",
    "shard",
    "timeout",
    "commit",
    "rollback",
    "lease",
    "queue",
    "flushed",
    "session",
    "token",
    "expired",
    "replica",
    "lagging",
    "snapshot",
    "compaction",
    "segment",
    "evicted",
    "handshake",
    "failed",
    "retry",
    "scheduled",
    "volume",
    "mounted",
    "quota",
    "exceeded",
    "socket",
    "closed",
    "backend",
    "healthy",
    "draining",
    "config",
    "reloaded",
    "index",
    "rebuilt",
    "ledger",
    "written",
    "partition",
];

struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Shape `k`: 6 to 11 constant words chosen from `k`, with variable slots between them.
fn shapes() -> Vec<Vec<&'static str>> {
    (0..SHAPES)
        .map(|k| {
            let mut g = Gen(0x2545_f491_4f6c_dd1d ^ (k as u64 + 1).wrapping_mul(0x9e37_79b9));
            let n = 6 + (g.next() % 6) as usize;
            (0..n)
                .map(|_| WORDS[(g.next() % WORDS.len() as u64) as usize])
                .collect()
        })
        .collect()
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> ExitCode {
    let n: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 10_000_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("error: the line count must be a whole number: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shapes = shapes();
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut miner = Miner::new();
    // Per pattern: count and the latest MAX_EXAMPLES raw lines (a bounded ring).
    let mut kept: HashMap<PatternRef, (u64, Vec<String>)> = HashMap::new();
    let mut line = String::new();
    let started = Instant::now();
    for i in 0..n {
        let shape = &shapes[(g.next() % SHAPES as u64) as usize];
        line.clear();
        let r = g.next();
        let _ = write!(
            line,
            "{}.{}.{}.{} ",
            r % 256,
            (r >> 8) % 256,
            (r >> 16) % 256,
            (r >> 24) % 256
        );
        for (j, w) in shape.iter().enumerate() {
            line.push_str(w);
            if j % 3 == 1 {
                let _ = write!(line, " {}ms", (r >> (j * 4)) % 5_000);
            }
            line.push(' ');
        }
        let _ = write!(line, "id={:x}", r >> 8);
        let p = miner.add(&line);
        let entry = kept.entry(p).or_default();
        entry.0 += 1;
        if entry.1.len() < MAX_EXAMPLES {
            entry.1.push(line.clone());
        } else if let Some(slot) = entry.1.get_mut((i % MAX_EXAMPLES as u64) as usize) {
            slot.clear();
            slot.push_str(&line);
        }
        if kept.len() > 2 * miner.len() + 1_024 {
            // Forget evicted or merged-away patterns so the side table stays bounded too.
            kept.retain(|r, _| miner.template(*r).is_some() && miner.resolve(*r) == *r);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!("lines:            {n}");
    println!("message shapes:   {SHAPES}");
    println!("patterns (live):  {}", miner.len());
    println!("patterns evicted: {}", miner.evicted());
    println!(
        "time:             {secs:.1} s ({:.0} lines/s, incl. generating them)",
        n as f64 / secs.max(1e-9)
    );
    match peak_rss_kib() {
        Some(kib) => println!("peak RSS (VmHWM): {:.1} MB", kib as f64 / 1024.0),
        None => println!("peak RSS (VmHWM): unavailable (needs Linux /proc)"),
    }
    ExitCode::SUCCESS
}
