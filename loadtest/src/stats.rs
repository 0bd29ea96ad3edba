//! What the students measured: flows, their latency and their failures, per
//! reporting interval and for the whole run.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::flow::FlowError;

/// Latencies are kept in microseconds, up to a minute, to three significant figures.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Flows finished in some span of time.
#[derive(Clone)]
pub struct Tally {
    pub latency: Histogram<u64>,
    pub errors: BTreeMap<FlowError, u64>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency: histogram(),
            errors: BTreeMap::new(),
        }
    }

    pub fn flows(&self) -> u64 {
        self.latency.len() + self.error_count()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The latency at `quantile` (0.5, 0.99) of the flows that succeeded.
    pub fn percentile(&self, quantile: f64) -> Duration {
        Duration::from_micros(self.latency.value_at_quantile(quantile))
    }

    pub fn max(&self) -> Duration {
        Duration::from_micros(self.latency.max())
    }

    fn add(&mut self, other: &Tally) {
        self.latency
            .add(&other.latency)
            .expect("histograms with the same bounds");
        for (error, n) in &other.errors {
            *self.errors.entry(error.clone()).or_default() += n;
        }
    }
}

/// Shared by every student: one lock per finished flow, a few thousand a
/// second, which costs far less than the flow itself.
pub struct Recorder {
    state: Mutex<State>,
}

struct State {
    /// Flows that begin before this (the warm-up) are not counted, nor any
    /// after the end (`None`).
    counting_since: Option<Instant>,
    interval: Tally,
    total: Tally,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder {
            state: Mutex::new(State {
                counting_since: None,
                interval: Tally::new(),
                total: Tally::new(),
            }),
        }
    }

    /// A flow that began at `began` and has just ended.
    pub fn record(&self, began: Instant, outcome: Result<(), FlowError>) {
        let took = began.elapsed();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.counting_since.is_none_or(|since| began < since) {
            return;
        }
        match outcome {
            Ok(()) => {
                let micros = (took.as_micros() as u64).clamp(1, 60_000_000);
                state
                    .interval
                    .latency
                    .record(micros)
                    .expect("clamped into the histogram's bounds");
            }
            Err(error) => *state.interval.errors.entry(error).or_default() += 1,
        }
    }

    /// Counts the flows that begin from now on (the warm-up is over).
    pub fn start_counting(&self) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .counting_since = Some(Instant::now());
    }

    /// The flows since the last call, also added to the total.
    pub fn take_interval(&self) -> Tally {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let interval = std::mem::replace(&mut state.interval, Tally::new());
        state.total.add(&interval);
        interval
    }

    /// Stops counting and returns the whole run.
    pub fn finish(&self) -> Tally {
        self.take_interval();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.counting_since = None;
        state.total.clone()
    }
}

/// A duration in milliseconds, with enough digits for sub-millisecond values.
pub fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// Whether memory stayed flat: the highest reading of the last third of the
/// run against the highest of the middle third (the first third is warm-up:
/// codes live a minute, so the store fills before it levels off).
#[derive(Debug, PartialEq)]
pub struct Flatness {
    pub middle: u64,
    pub last: u64,
    pub flat: bool,
}

/// Growth allowed between the two thirds: 5 %, and never less than 2 MiB
/// (the allocator holds on to freed memory in steps of that order).
pub fn flatness(samples: &[u64]) -> Option<Flatness> {
    if samples.len() < 3 {
        return None;
    }
    let third = samples.len() / 3;
    let middle = *samples[third..2 * third].iter().max()?;
    let last = *samples[2 * third..].iter().max()?;
    let allowed = (middle / 20).max(2 * 1024 * 1024);
    Some(Flatness {
        middle,
        last,
        flat: last <= middle + allowed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_up_and_late_flows_are_not_counted() {
        let recorder = Recorder::new();
        let in_warm_up = Instant::now();
        recorder.record(in_warm_up, Ok(()));
        recorder.start_counting();
        recorder.record(in_warm_up, Ok(()));
        let began = Instant::now();
        recorder.record(began, Ok(()));
        recorder.record(began, Err("token: status 400".into()));
        let first = recorder.take_interval();
        assert_eq!((first.flows(), first.error_count()), (2, 1));
        std::thread::sleep(Duration::from_millis(5));
        recorder.record(began, Ok(()));
        let total = recorder.finish();
        recorder.record(Instant::now(), Ok(()));
        assert_eq!(total.flows(), 3);
        assert_eq!(total.errors.get("token: status 400"), Some(&1));
        assert!(total.max() >= Duration::from_millis(5));
    }

    #[test]
    fn memory_that_keeps_growing_is_not_flat() {
        let mib = |n: u64| n * 1024 * 1024;
        let level: Vec<u64> = [10, 20, 30, 30, 31, 30, 30, 31, 31].map(mib).to_vec();
        assert!(flatness(&level).unwrap().flat);
        let leak: Vec<u64> = [10, 20, 30, 40, 50, 60, 70, 80, 90].map(mib).to_vec();
        assert!(!flatness(&leak).unwrap().flat);
        assert_eq!(flatness(&[1, 2]), None);
    }
}
