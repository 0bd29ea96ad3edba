//! ```text
//! cargo build --release -p loadtest -p mock-provider
//! target/release/loadtest [--students 20] [--duration 10s | --soak 10m] [--url URL]
//!     [--new-connection-per-request] [--slowloris 10000 [--slowloris-every 3s]]
//! ```
//!
//! Many simulated students, each running full OAuth2 flows in a loop against one
//! mock provider: authorize (auto-approved) → token → `/api/me`, with
//! PKCE. Prints flows per second, latency per full flow, errors and the
//! provider's resident memory. The provider is the release `mock-provider`
//! binary, started here as a process of its own so that its memory is its own.
//! Only ever targets this machine's loopback, and always stops by itself; exits
//! non-zero when a flow failed (or, in a soak, memory grew).

mod client;
mod flow;
mod provider;
mod slowloris;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;

use flow::Student;
use provider::{Provider, mib};
use stats::{Recorder, Tally, flatness, ms};

/// The longest a run may last, whatever the flags say.
const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Load the mock provider with many students running full OAuth2 flows.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Simulated students, each with its own keep-alive connection.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u16).range(1..=2000))]
    students: u16,
    /// How long to measure, after the warm-up.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    duration: Duration,
    /// Soak: run this long (for example 10m), report every --every, and say
    /// whether the provider's memory stayed flat.
    #[arg(long, value_parser = humantime::parse_duration, conflicts_with = "duration")]
    soak: Option<Duration>,
    /// How often a soak reports.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    every: Duration,
    /// Flows run but not counted first (connections opening, caches warming).
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    warmup: Duration,
    /// Stop after this many flows in all, even if time is left.
    #[arg(long, default_value_t = 100_000_000)]
    max_flows: u64,
    /// Load a provider that is already running (on 127.0.0.1 only), started
    /// with `--auto-approve alice`, instead of starting one.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// With --url: the provider's process id, to report its memory.
    #[arg(long, value_name = "PID", requires = "url")]
    provider_pid: Option<u32>,
    /// The provider to start [default: mock-provider beside this program].
    #[arg(long, value_name = "PATH", conflicts_with = "url")]
    provider_bin: Option<PathBuf>,
    /// Each student opens a new connection for every request (`Connection:
    /// close`), as a client without a connection pool does.
    #[arg(long)]
    new_connection_per_request: bool,
    /// Also hold this many slow connections (half a request head, a byte every
    /// --slowloris-every, reconnecting when closed), and probe the metadata on
    /// a new connection once a second: the run fails if a probe is not answered.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=60_000))]
    slowloris: u32,
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    slowloris_every: Duration,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let run_for = args.soak.unwrap_or(args.duration);
    if run_for.is_zero() || run_for + args.warmup > MAX_DURATION {
        eprintln!(
            "error: a run lasts more than nothing and at most {}: shorten --duration or --soak",
            humantime::format_duration(MAX_DURATION)
        );
        return ExitCode::FAILURE;
    }
    if args.every < Duration::from_secs(1) {
        eprintln!("error: --every must be at least 1s");
        return ExitCode::FAILURE;
    }
    // Many connections need many open files, here as in the provider: the
    // same call as the provider's binary makes.
    if args.slowloris > 0 {
        if let Err(e) = mock_provider::http::raise_fd_limit() {
            eprintln!("warning: could not raise the limit on open files: {e}");
        }
    }
    let provider = match &args.url {
        Some(url) => Provider::external(url, args.provider_pid),
        None => Provider::spawn(
            &args
                .provider_bin
                .clone()
                .unwrap_or_else(provider::default_binary),
        ),
    };
    let provider = match provider {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "loadtest: {} students{}, full flows (authorize → token → /api/me, PKCE S256) for {} after a {} warm-up",
        args.students,
        if args.new_connection_per_request {
            ", a new connection per request"
        } else {
            ", one keep-alive connection each"
        },
        humantime::format_duration(run_for),
        humantime::format_duration(args.warmup),
    );
    println!(
        "provider: {}{}",
        provider.base_url,
        provider
            .pid
            .map(|pid| format!(" (pid {pid})"))
            .unwrap_or_else(|| " (memory not reported: pass --provider-pid)".into())
    );
    if run(&args, &provider, run_for) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the students and prints the figures; true when no flow failed (and, in
/// a soak, memory stayed flat).
fn run(args: &Args, provider: &Provider, run_for: Duration) -> bool {
    let slow = (args.slowloris > 0).then(|| {
        let addr = provider::loopback_addr(&provider.base_url).expect("a loopback URL");
        let started = Instant::now();
        let slow = slowloris::Slowloris::start(addr, args.slowloris as usize, args.slowloris_every);
        println!(
            "slowloris {} connections opened in {:.1} s, each sending a byte every {}",
            args.slowloris,
            started.elapsed().as_secs_f64(),
            humantime::format_duration(args.slowloris_every)
        );
        slow
    });
    let recorder = Arc::new(Recorder::new());
    let stop = Arc::new(AtomicBool::new(false));
    let flows_started = Arc::new(AtomicU64::new(0));
    let students_running = Arc::new(AtomicUsize::new(args.students.into()));
    let mut handles = Vec::new();
    for n in 0..usize::from(args.students) {
        let mut student = match Student::new(&provider.base_url, n, args.new_connection_per_request)
        {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                stop.store(true, Ordering::Relaxed);
                return false;
            }
        };
        let (recorder, stopping, started, running) = (
            recorder.clone(),
            stop.clone(),
            flows_started.clone(),
            students_running.clone(),
        );
        let max_flows = args.max_flows;
        let spawned = std::thread::Builder::new()
            .name(format!("student-{n}"))
            .stack_size(256 * 1024)
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed)
                    && started.fetch_add(1, Ordering::Relaxed) < max_flows
                {
                    let began = Instant::now();
                    let outcome = student.full_flow();
                    recorder.record(began, outcome);
                }
                running.fetch_sub(1, Ordering::Relaxed);
            });
        match spawned {
            Ok(handle) => handles.push(handle),
            Err(e) => {
                eprintln!("error: cannot start student {n}: {e}");
                stop.store(true, Ordering::Relaxed);
                students_running.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
    let all_done = || students_running.load(Ordering::Relaxed) == 0;
    sleep_until(Instant::now() + args.warmup, &all_done);
    recorder.start_counting();
    let began = Instant::now();
    let cpu_before = (provider.cpu_time(), provider::cpu_time_of("self"));
    let mut soak_memory = Vec::new();
    if args.soak.is_some() {
        println!(
            "{:>8} {:>9} {:>9} {:>9} {:>7} {:>11}  store (codes, grants, access, refresh tokens)",
            "time", "flows/s", "p50", "p99", "errors", "resident"
        );
        let mut last = began;
        while began.elapsed() < run_for && !all_done() {
            let next = (last + args.every).min(began + run_for);
            sleep_until(next, &all_done);
            let interval = recorder.take_interval();
            let elapsed = last.elapsed();
            last = Instant::now();
            let memory = provider.memory();
            if let Some(m) = memory {
                soak_memory.push(m.resident);
            }
            println!(
                "{:>8} {:>9.0} {:>9} {:>9} {:>7} {:>11}  {}",
                humantime::format_duration(Duration::from_secs(began.elapsed().as_secs()))
                    .to_string(),
                interval.flows() as f64 / elapsed.as_secs_f64(),
                ms(interval.percentile(0.5)),
                ms(interval.percentile(0.99)),
                interval.error_count(),
                memory
                    .map(|m| mib(m.resident))
                    .unwrap_or_else(|| "?".into()),
                store_counts(&provider.base_url).unwrap_or_else(|| "?".into()),
            );
        }
    } else {
        sleep_until(began + run_for, &all_done);
    }
    let measured = began.elapsed();
    let total = recorder.finish();
    let cpu_after = (provider.cpu_time(), provider::cpu_time_of("self"));
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        let _ = handle.join();
    }
    let memory = provider.memory();
    report(&total, measured, memory);
    let used = |before: Option<Duration>, after: Option<Duration>| Some(after? - before?);
    if let (Some(theirs), Some(ours)) = (
        used(cpu_before.0, cpu_after.0),
        used(cpu_before.1, cpu_after.1),
    ) {
        println!(
            "cpu      provider {:.2} cores ({:.0} µs per flow), loadtest {:.2} cores, of {} on this machine",
            theirs.as_secs_f64() / measured.as_secs_f64(),
            theirs.as_secs_f64() * 1e6 / total.flows().max(1) as f64,
            ours.as_secs_f64() / measured.as_secs_f64(),
            std::thread::available_parallelism().map_or(1, |n| n.get()),
        );
    }

    let mut success = total.error_count() == 0 && total.flows() > 0;
    if let Some(slow) = slow {
        let (trickled, probed) = slow.finish();
        println!(
            "slowloris open {}..{} of {} ({} reconnects after the provider closed them, {} connects failed)",
            trickled.fewest,
            trickled.most,
            args.slowloris,
            trickled.reconnects,
            trickled.failed_connects
        );
        println!(
            "probe    {} of {} answered 200 (slowest {})",
            probed.ok,
            probed.ok + probed.failures.len() as u64,
            ms(probed.slowest)
        );
        for failure in &probed.failures {
            println!("         failed: {failure}");
        }
        success &= probed.failures.is_empty() && probed.ok > 0;
    }
    if args.soak.is_some() {
        match flatness(&soak_memory) {
            Some(f) => {
                println!(
                    "soak     memory {} : highest {} in the middle third of the run, {} in the last third",
                    if f.flat { "stayed flat" } else { "GREW" },
                    mib(f.middle),
                    mib(f.last)
                );
                success &= f.flat;
            }
            None => println!(
                "soak     too few memory readings to tell whether memory stayed flat (run longer, or pass --provider-pid)"
            ),
        }
    }
    success
}

/// Sleeps until `deadline`, waking early when every student has stopped.
fn sleep_until(deadline: Instant, all_done: &dyn Fn() -> bool) {
    loop {
        let now = Instant::now();
        if now >= deadline || all_done() {
            return;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
    }
}

fn report(total: &Tally, measured: Duration, memory: Option<provider::Memory>) {
    let flows = total.flows();
    println!(
        "flows    {flows} in {:.1} s = {:.0} full flows/s ({:.0} requests/s)",
        measured.as_secs_f64(),
        flows as f64 / measured.as_secs_f64(),
        3.0 * flows as f64 / measured.as_secs_f64(),
    );
    println!(
        "latency  per full flow (3 requests): p50 {}  p99 {}  max {}",
        ms(total.percentile(0.5)),
        ms(total.percentile(0.99)),
        ms(total.max()),
    );
    println!("errors   {}", total.error_count());
    for (error, n) in &total.errors {
        println!("         {n} × {error}");
    }
    match memory {
        Some(m) => println!(
            "memory   provider resident: peak {} (VmHWM), {} at the end (VmRSS)",
            mib(m.peak),
            mib(m.resident)
        ),
        None => println!("memory   provider's not known"),
    }
}

/// What the provider holds now, from its inspector (`GET /_lab/events`), which
/// reports counts after purging what expired.
fn store_counts(base_url: &str) -> Option<String> {
    let mut client = client::Client::new(base_url).ok()?;
    let answer = client
        .get(&format!("/_lab/events?after={}", u64::MAX), None)
        .ok()?;
    let json: serde_json::Value = serde_json::from_slice(&answer.body).ok()?;
    let c = &json["counts"];
    Some(format!(
        "{} {} {} {}",
        c["codes"].as_u64()?,
        c["grants"].as_u64()?,
        c["access_tokens"].as_u64()?,
        c["refresh_tokens"].as_u64()?
    ))
}
