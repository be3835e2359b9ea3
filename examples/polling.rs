//! Live polling cost against a real Prometheus (Debian's package, started here on a free loopback
//! port with a temp dir, stopped by its PID): 500 watched series (one watch each, step 15 s, the
//! live mode's 6 h history window) polled every 15 s, with incremental fetching (the cache asks
//! only for the new step-aligned range) versus refetching the whole window every poll. Reports
//! bytes on the wire per poll (a counting loopback proxy sits between pagerpilot and Prometheus),
//! CPU per poll for pagerpilot (the polling thread) and for Prometheus, and the frame time of the
//! incident detail screen while polls are in flight versus idle.
//!
//! The server holds 6 h + the measured span of history, backfilled with promtool; each poll's
//! "now" moves 15 s forward through it, so the steady state is measured without waiting 15 s of
//! wall time per poll (the server does the same work either way).
//!
//! `cargo run --release --example polling [-- POLLS]` (default 40 polls = 10 simulated minutes)

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::TestBackend;
use ratatui::Terminal;

use pagerpilot::app::Screen;
use pagerpilot::runtime::poll::{poll_metrics, MetricsCache};
use pagerpilot::runtime::rules::DEFAULT_RULE_HISTORY_SECS;
use pagerpilot::sources::http::HttpConfig;
use pagerpilot::sources::prometheus::PrometheusClient;
use pagerpilot::sources::Watch;
use pagerpilot::ui::fixture::big_app;
use pagerpilot::ui::theme::Theme;
use pagerpilot::ui::view;

const SERIES: usize = 500;
const STEP: i64 = 15;

fn value(series: usize, ts: i64) -> f64 {
    let phase = series as f64 * 0.37 + ts as f64 / 900.0;
    50.0 + 20.0 * phase.sin() + (ts / STEP % 7) as f64 * 0.01
}

fn find(binary: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(binary))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("`{binary}` is not installed (apt-get install prometheus)"))
}

/// The running Prometheus; dropping it kills the child by its PID.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn backfill(dir: &Path, first: i64, last: i64) -> Result<PathBuf, String> {
    let file = dir.join("history.om");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&file).map_err(|e| format!("{}: {e}", file.display()))?,
    );
    let w = |out: &mut std::io::BufWriter<std::fs::File>, text: String| {
        out.write_all(text.as_bytes())
            .map_err(|e| format!("writing the history: {e}"))
    };
    w(&mut out, "# TYPE pp_bench_value gauge\n".to_string())?;
    for s in 0..SERIES {
        let mut ts = first;
        while ts <= last {
            w(
                &mut out,
                format!(
                    "pp_bench_value{{series=\"{s}\",service=\"svc-{}\"}} {} {ts}\n",
                    s % 25,
                    value(s, ts)
                ),
            )?;
            ts += STEP;
        }
    }
    w(&mut out, "# EOF\n".to_string())?;
    out.flush()
        .map_err(|e| format!("writing the history: {e}"))?;
    drop(out);
    let data = dir.join("data");
    let status = Command::new(find("promtool")?)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&file)
        .arg(&data)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("promtool: {e}"))?;
    if !status.success() {
        return Err(format!("promtool failed: {status}"));
    }
    let _ = std::fs::remove_file(&file);
    Ok(data)
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

fn start(dir: &Path, data: &Path) -> Result<(Server, u16), String> {
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 1m\n").map_err(|e| e.to_string())?;
    let port = free_port()?;
    let log = std::fs::File::create(dir.join("prometheus.log")).map_err(|e| e.to_string())?;
    let child = Command::new(find("prometheus")?)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg("--storage.tsdb.retention.time=30d")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start prometheus: {e}"))?;
    Ok((Server(child), port))
}

/// Bytes each way through the proxy.
#[derive(Default)]
struct Counters {
    up: AtomicU64,
    down: AtomicU64,
}

fn pump(mut from: TcpStream, mut to: TcpStream, counter: Arc<Counters>, down: bool) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let c = if down { &counter.down } else { &counter.up };
                c.fetch_add(n as u64, Ordering::Relaxed);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// A loopback TCP proxy to `target` counting the bytes; returns its port.
fn proxy(target: u16, counters: Arc<Counters>) -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                continue;
            };
            let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
                continue;
            };
            let (a, b) = (counters.clone(), counters.clone());
            std::thread::spawn(move || pump(client, server, a, false));
            std::thread::spawn(move || pump(s2, c2, b, true));
        }
    });
    Ok(port)
}

/// CPU time of the calling thread, from `/proc/thread-self/schedstat` (ns).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of a process, in ms (all its threads).
fn process_cpu_ms(pid: u32) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    let Some(rest) = stat.rsplit(')').next() else {
        return 0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|x| x.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    ticks * 10 // CLK_TCK is 100 on Linux
}

struct PollStats {
    up: u64,
    down: u64,
    client_cpu_ms: f64,
    server_cpu_ms: f64,
    wall_ms: f64,
    points: usize,
}

/// `polls` polls at `t0 + k*STEP`, each one measured; `incremental` keeps the cache between
/// polls, otherwise every poll starts empty (refetches the window).
/// What every measured poll needs.
struct Bench<'a> {
    rt: &'a tokio::runtime::Runtime,
    client: &'a PrometheusClient,
    watches: &'a [Watch],
    counters: &'a Counters,
    server_pid: u32,
    t0: i64,
}

fn measure(b: &Bench<'_>, polls: usize, incremental: bool) -> Result<Vec<PollStats>, String> {
    let Bench {
        rt,
        client,
        watches,
        counters,
        server_pid,
        t0,
    } = *b;
    let mut cache = MetricsCache::default();
    // The cold first poll fills the cache (not counted: both modes pay it once).
    rt.block_on(poll_metrics(
        client,
        watches,
        &mut cache,
        t0,
        DEFAULT_RULE_HISTORY_SECS,
    ))
    .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for k in 1..=polls {
        if !incremental {
            cache = MetricsCache::default();
        }
        let now = t0 + k as i64 * STEP;
        let (up0, down0) = (
            counters.up.load(Ordering::SeqCst),
            counters.down.load(Ordering::SeqCst),
        );
        let (cpu0, srv0, wall0) = (thread_cpu_ns(), process_cpu_ms(server_pid), Instant::now());
        let series = rt
            .block_on(poll_metrics(
                client,
                watches,
                &mut cache,
                now,
                DEFAULT_RULE_HISTORY_SECS,
            ))
            .map_err(|e| e.to_string())?;
        let wall_ms = wall0.elapsed().as_secs_f64() * 1e3;
        let client_cpu_ms = (thread_cpu_ns() - cpu0) as f64 / 1e6;
        // Let the proxy threads finish copying before reading the counters.
        std::thread::sleep(Duration::from_millis(20));
        out.push(PollStats {
            up: counters.up.load(Ordering::SeqCst) - up0,
            down: counters.down.load(Ordering::SeqCst) - down0,
            client_cpu_ms,
            server_cpu_ms: process_cpu_ms(server_pid).saturating_sub(srv0) as f64,
            wall_ms,
            points: series.iter().map(|s| s.len()).sum(),
        });
    }
    Ok(out)
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v.get(i).copied().unwrap_or(0.0)
}

fn report(name: &str, stats: &[PollStats]) {
    println!(
        "{name:<12} bytes/poll: {:>10.0} down + {:>7.0} up | client CPU {:>6.1} ms | prometheus CPU {:>6.1} ms | wall {:>6.1} ms | {} points held",
        mean(stats.iter().map(|s| s.down as f64)),
        mean(stats.iter().map(|s| s.up as f64)),
        mean(stats.iter().map(|s| s.client_cpu_ms)),
        mean(stats.iter().map(|s| s.server_cpu_ms)),
        mean(stats.iter().map(|s| s.wall_ms)),
        stats.last().map_or(0, |s| s.points),
    );
}

/// Frame times (ms) of the incident detail screen drawn on this thread for `for_how_long`,
/// keeping only frames drawn while `busy` matched `want_busy`.
fn frames(for_how_long: Duration, busy: &AtomicBool, want_busy: bool) -> Vec<f64> {
    let theme = Theme::default();
    let mut app = big_app(200, 5, 4_320);
    let first = app.visible_incidents().first().map(|i| i.id.clone());
    app.screen = Screen::Detail {
        incident_id: first.unwrap_or_default(),
    };
    let Ok(mut terminal) = Terminal::new(TestBackend::new(160, 48));
    let mut out = Vec::new();
    let end = Instant::now() + for_how_long;
    while Instant::now() < end {
        let started = Instant::now();
        let before = busy.load(Ordering::SeqCst);
        if terminal.draw(|f| view(&app, &theme, f)).is_err() {
            break;
        }
        let ms = started.elapsed().as_secs_f64() * 1e3;
        if before == want_busy && busy.load(Ordering::SeqCst) == want_busy {
            out.push(ms);
        }
        // About the TUI's frame pacing (at most one frame every ~30 ms).
        std::thread::sleep(Duration::from_millis(5));
    }
    out
}

/// Frames drawn on this thread while a 2-worker runtime polls back to back (incrementally, or
/// refetching the whole window); only frames drawn entirely while a poll was in flight count.
fn frames_while_polling(
    port: u16,
    watches: &[Watch],
    t0: i64,
    polls: usize,
    incremental: bool,
) -> Result<(Vec<f64>, u32), String> {
    let workers = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let busy = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut http = HttpConfig::new(format!("http://127.0.0.1:{port}"));
    http.timeout = Duration::from_secs(60);
    let client = PrometheusClient::new(http).map_err(|e| e.to_string())?;
    let poller = {
        let (busy, stop, watches) = (busy.clone(), stop.clone(), watches.to_vec());
        workers.spawn(async move {
            let history = DEFAULT_RULE_HISTORY_SECS;
            let mut count = 0u32;
            'outer: while !stop.load(Ordering::SeqCst) {
                // A cold poll fills the cache (not counted), then steady-state polls.
                let mut cache = MetricsCache::default();
                let _ = poll_metrics(&client, &watches, &mut cache, t0, history).await;
                for k in 1..=polls as i64 {
                    if stop.load(Ordering::SeqCst) {
                        break 'outer;
                    }
                    if !incremental {
                        cache = MetricsCache::default();
                    }
                    busy.store(true, Ordering::SeqCst);
                    let _ =
                        poll_metrics(&client, &watches, &mut cache, t0 + k * STEP, history).await;
                    busy.store(false, Ordering::SeqCst);
                    count += 1;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            count
        })
    };
    let during = frames(Duration::from_secs(8), &busy, true);
    stop.store(true, Ordering::SeqCst);
    let count = workers.block_on(poller).unwrap_or(0);
    Ok((during, count))
}

fn run(polls: usize) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp();
    let last = now - now.rem_euclid(STEP) - 60;
    let t0 = last - polls as i64 * STEP;
    let first = t0 - DEFAULT_RULE_HISTORY_SECS - 10 * STEP;
    eprintln!(
        "backfilling {SERIES} series x {} points ...",
        (last - first) / STEP + 1
    );
    let started = Instant::now();
    let data = backfill(dir.path(), first, last)?;
    eprintln!("backfilled in {:.0} s", started.elapsed().as_secs_f64());
    let (server, port) = start(dir.path(), &data)?;
    let server_pid = server.0.id();
    let counters = Arc::new(Counters::default());
    let proxy_port = proxy(port, counters.clone())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut http = HttpConfig::new(format!("http://127.0.0.1:{proxy_port}"));
    http.timeout = Duration::from_secs(60);
    let client = PrometheusClient::new(http).map_err(|e| e.to_string())?;
    let ready = Instant::now() + Duration::from_secs(60);
    while rt.block_on(client.http().get("/-/ready", &[])).is_err() {
        if Instant::now() > ready {
            return Err("prometheus not ready after 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let watches: Vec<Watch> = (0..SERIES)
        .map(|s| Watch {
            name: format!("w{s}"),
            query: format!("pp_bench_value{{series=\"{s}\"}}"),
            step: STEP,
            capacity: None,
            slo: None,
            service_label: Some("service".into()),
            alert_labels: None,
        })
        .collect();

    println!(
        "{SERIES} series, one watch each, step {STEP} s, {} h window, {polls} polls 15 s apart",
        DEFAULT_RULE_HISTORY_SECS / 3600
    );
    let bench = Bench {
        rt: &rt,
        client: &client,
        watches: &watches,
        counters: &counters,
        server_pid,
        t0,
    };
    let inc = measure(&bench, polls, true)?;
    report("incremental", &inc);
    // Refetching is slow; a few polls give its (steady) cost.
    let full = measure(&bench, polls.min(8), false)?;
    report("refetch", &full);
    let ratio = mean(full.iter().map(|s| (s.down + s.up) as f64))
        / mean(inc.iter().map(|s| (s.down + s.up) as f64)).max(1.0);
    println!("bytes ratio (refetch / incremental): {ratio:.1}x");

    // Frame time: draw on this thread while polls run on a 2-worker runtime (as in the TUI).
    let mut idle = frames(Duration::from_secs(3), &AtomicBool::new(false), false);
    println!(
        "frame (detail, 160x48) idle:                   p50 {:.2} ms  p99 {:.2} ms  ({} frames)",
        percentile(&mut idle, 0.5),
        percentile(&mut idle, 0.99),
        idle.len()
    );
    for incremental in [true, false] {
        let (mut during, background_polls) =
            frames_while_polling(port, &watches, t0, polls, incremental)?;
        println!(
            "frame (detail, 160x48) {} poll in flight: p50 {:.2} ms  p99 {:.2} ms  ({} frames, {background_polls} polls)",
            if incremental { "incremental" } else { "refetch    " },
            percentile(&mut during, 0.5),
            percentile(&mut during, 0.99),
            during.len(),
        );
    }
    drop(server);
    Ok(())
}

fn main() -> ExitCode {
    let polls = match std::env::args().nth(1).map(|a| a.parse::<usize>()) {
        None => 40,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("usage: polling [POLLS]  (a positive number)");
            return ExitCode::from(2);
        }
    };
    match run(polls) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
