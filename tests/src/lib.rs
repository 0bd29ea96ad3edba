//! # lab-tests
//!
//! The check suites of OAuth2 Lab, written once and applied to both a lesson and
//! its solution: `tests/check.rs` of `lesson03` is the one line
//! `lab_tests::lesson03_suite!(lesson03);`. Each check runs against a mock
//! provider started on an ephemeral port. A failing check says what was
//! expected, what came, and where to look.
//!
//! The same lists of checks also run in-process (see [`run_check`]): each
//! solution's `tests/shipped.rs` applies its lesson's suite to the lesson as
//! shipped with [`shipped!`], which must stop at a `todo!()`.
//!
//! Every lesson has one `mod` line below; the course checks compare them with
//! `lessons/lessons.toml`. A suite that plays a provider with `httpmock` is
//! compiled only with the `replicas` feature, which only the lessons that need
//! it ask for: a student's first `cargo test -p lesson01` does not build tokio.

pub mod browser;
pub mod class;
pub mod copies;
pub mod course;
pub mod edition;
pub mod grade;
pub mod lesson01;
pub mod lesson02;
pub mod lesson03;
#[cfg(feature = "replicas")]
pub mod lesson04;
pub mod lesson05;
pub mod lesson06;
pub mod lesson07;
#[cfg(feature = "replicas")]
pub mod lesson08;
pub mod lesson09;
#[cfg(feature = "replicas")]
pub mod lesson10;
pub mod lesson11;
pub mod lesson12;
pub mod nochmod;
pub mod randomness;
pub mod support;

use std::panic::{self, AssertUnwindSafe};

/// One named check of a lesson's suite.
#[derive(Clone, Copy)]
pub struct Check {
    pub name: &'static str,
    pub run: fn(),
}

/// Turns a list of `name => expression;` into `#[test]` functions (`tests`) or
/// a list of [`Check`]s (`list`).
#[macro_export]
macro_rules! suite {
    (tests; $($name:ident => $body:expr;)*) => {
        $( #[test] fn $name() { $body; } )*
    };
    (list; $($name:ident => $body:expr;)*) => {
        &[ $( $crate::Check { name: stringify!($name), run: || { $body; } } ),* ] as &[$crate::Check]
    };
}

/// `tests/shipped.rs` of a solution: `lab_tests::shipped!(lesson03, lesson03_suite);`
/// runs the lesson's suite on the lesson as shipped, which must stop at its
/// `todo!()`s and nowhere else (see [`course::check_shipped`]).
#[macro_export]
macro_rules! shipped {
    ($lesson:ident, $suite:ident) => {
        #[test]
        fn the_lesson_as_shipped_stops_at_its_todos() {
            $crate::course::check_shipped(stringify!($lesson), $crate::$suite!(list, $lesson));
        }
    };
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
