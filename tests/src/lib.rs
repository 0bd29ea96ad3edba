//! # lab-tests
//!
//! The check suites of OAuth2 Lab, written once and applied to both a lesson and
//! its solution: `tests/check.rs` of `lesson03` is the one line
//! `lab_tests::lesson03_suite!(lesson03);`. Each check runs against a mock
//! provider started on an ephemeral port. A failing check says what was
//! expected, what came, and where to look.
//!
//! The same lists of checks also run in-process (see [`run_check`]) for the
//! course checks and the grader.

pub mod browser;
pub mod course;
pub mod grade;
pub mod lesson01;
pub mod lesson02;
pub mod lesson03;
pub mod lesson04;
pub mod lesson05;
pub mod lesson06;
pub mod lesson07;
pub mod lesson08;
pub mod lesson09;
pub mod lesson10;
pub mod support;

use std::panic::{self, AssertUnwindSafe};

/// One named check of a lesson's suite.
#[derive(Clone, Copy)]
pub struct Check {
    pub name: &'static str,
    pub run: fn(),
}

/// Turns a list of `name => expression;` into `#[test]` functions (`tests`), a
/// list of [`Check`]s (`list`), or the names alone (`names`).
#[macro_export]
macro_rules! suite {
    (tests; $($name:ident => $body:expr;)*) => {
        $( #[test] fn $name() { $body; } )*
    };
    (list; $($name:ident => $body:expr;)*) => {
        &[ $( $crate::Check { name: stringify!($name), run: || { $body; } } ),* ] as &[$crate::Check]
    };
    (names; $($name:ident => $body:expr;)*) => {
        &[ $( stringify!($name) ),* ] as &[&str]
    };
}

/// The expected text of a committed insta snapshot (`tests/src/snapshots/*.snap`),
/// without its header. The suites compare with it *before* `assert_snapshot!`, so
/// a student cannot make a wrong answer pass by accepting a new snapshot.
pub fn snapshot_text(snap_file: &str) -> &str {
    snap_file
        .splitn(3, "---\n")
        .nth(2)
        .unwrap_or("")
        .trim_end_matches('\n')
}

/// How a check ended when run in-process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Failed with this message.
    Failed(String),
}

impl Outcome {
    /// The check stopped at a `todo!()`: the step is not written yet.
    pub fn is_todo(&self) -> bool {
        matches!(self, Outcome::Failed(m) if m.contains("not yet implemented"))
    }
}

/// Runs one check and catches its panic, keeping the message. The panic is not
/// printed (the caller reports it); panics on the check's helper threads are
/// printed as usual, and a test harness captures them.
pub fn run_check(check: &Check) -> Outcome {
    thread_local! {
        static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                default(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = panic::catch_unwind(AssertUnwindSafe(check.run));
    QUIET.with(|q| q.set(false));
    match result {
        Ok(()) => Outcome::Passed,
        Err(payload) => Outcome::Failed(labkit::panic_message(payload.as_ref())),
    }
}
