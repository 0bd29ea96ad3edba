//! Grading: runs each lesson's suite as its own `cargo test`, so one lesson that
//! does not compile cannot hide the others, and reads the result back.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use serde::{Deserialize, Serialize};

use crate::course::Lesson;

/// How a lesson stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Passed,
    Failed,
    NotStarted,
    DoesNotCompile,
}

/// One row of the grade table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grade {
    pub id: String,
    pub package: String,
    pub title: String,
    pub status: Status,
    pub passed: usize,
    pub total: usize,
    /// The first failing check, in suite order, and the first line of its message.
    pub first_failure: Option<String>,
    pub message: Option<String>,
}

impl Grade {
    /// The result column of the table.
    pub fn result(&self) -> String {
        match self.status {
            Status::Passed => format!("passed ({}/{} checks)", self.passed, self.total),
            Status::NotStarted => "not started".into(),
            Status::DoesNotCompile => format!(
                "failed: does not compile: {}",
                self.message.as_deref().unwrap_or("")
            ),
            Status::Failed => format!(
                "failed ({}/{}): {} — {}",
                self.passed,
                self.total,
                self.first_failure.as_deref().unwrap_or("?"),
                self.message.as_deref().unwrap_or("")
            ),
        }
    }
}

/// What libtest printed for one check.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ran {
    name: String,
    ok: bool,
    message: String,
}

/// The names of a suite's checks from `cargo test … --test check -- --list
/// --format terse` (lines `NAME: test`), as the test binary itself knows them.
pub fn checks_from_list(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(|name| name.trim().to_string())
        .collect()
}

/// Reads the compiler's first error and its `--> file:line:col` from cargo's
/// stderr: what a lesson that does not compile is graded with.
pub fn does_not_compile(lesson: &Lesson, stderr: &str) -> Grade {
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("error"));
    let error = lines
        .next()
        .unwrap_or("cargo test did not run the suite")
        .to_string();
    let place = lines
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .map(|p| format!(" at {p}"));
    Grade {
        id: lesson.id.clone(),
        package: lesson.package.clone(),
        title: lesson.title.clone(),
        status: Status::DoesNotCompile,
        passed: 0,
        total: 0,
        first_failure: None,
        message: Some(error + &place.unwrap_or_default()),
    }
}

/// Reads `cargo test` output (stdout, then stderr) into a grade. `checks` is
/// every check of the suite. Of the failures, the one reported first is a
/// check failing for a reason of its own (something written is wrong) before
/// one that stopped at a `todo!()`, and among those the earliest step.
/// `untouched`: the lesson still has every `todo!()` it was shipped with.
pub fn grade_from_output(
    lesson: &Lesson,
    checks: &[String],
    stdout: &str,
    stderr: &str,
    untouched: bool,
) -> Grade {
    if !stdout.contains("running ") {
        return does_not_compile(lesson, stderr);
    }
    let mut grade = Grade {
        id: lesson.id.clone(),
        package: lesson.package.clone(),
        title: lesson.title.clone(),
        status: Status::Passed,
        passed: 0,
        total: checks.len(),
        first_failure: None,
        message: None,
    };
    let ran = parse_libtest(stdout);
    grade.passed = checks
        .iter()
        .filter(|n| ran.iter().any(|r| &r.name == *n && r.ok))
        .count();
    let mut failed: Vec<&Ran> = checks
        .iter()
        .filter_map(|n| ran.iter().find(|r| &r.name == n && !r.ok))
        .collect();
    if failed.is_empty() && grade.passed == checks.len() {
        return grade;
    }
    grade.status = if untouched {
        Status::NotStarted
    } else {
        Status::Failed
    };
    failed.sort_by_key(|r| todo_step(&r.message).unwrap_or(0));
    if let Some(first) = failed.first() {
        grade.first_failure = Some(first.name.clone());
        grade.message = Some(first.message.lines().next().unwrap_or("").to_string());
    } else {
        grade.message = Some("some checks did not run".into());
    }
    grade
}

/// `cargo` to run in `root` from a program that `cargo run` started (`cargo
/// grade`, `cargo lab`), without the variables `cargo run` set for that
/// program: a build script that watches one (ring's watches
/// `CARGO_MANIFEST_DIR`) would otherwise see it change, and the TLS stack and
/// everything above it would be rebuilt on every run, and again by the next
/// plain `cargo test`.
pub fn cargo_command(cargo: &OsStr, root: &Path) -> Command {
    let mut command = Command::new(cargo);
    command.current_dir(root);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_run = name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&name.as_ref());
        if set_by_cargo_run {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// `cargo test -p PACKAGE --test check` in `root`, with `args` for the test
/// binary. `cargo` is the program to run: `$CARGO` under cargo, or a stand-in.
pub fn cargo_test(
    cargo: &OsStr,
    root: &Path,
    package: &str,
    args: &[&str],
) -> std::io::Result<Output> {
    cargo_command(cargo, root)
        .args([
            "test", "-p", package, "--test", "check", "--color", "never", "--",
        ])
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
}

/// Grades one lesson (or, with `solution`, its solution) by its own test
/// binary: first the list of its checks, which also builds it (so a lesson
/// that does not compile says so here), then the checks themselves. What
/// `cargo grade` does for each row and `cargo lab` for the lesson it watches.
pub fn grade_package(
    cargo: &OsStr,
    root: &Path,
    lesson: &Lesson,
    solution: bool,
) -> std::io::Result<Grade> {
    let package = if solution {
        &lesson.solution
    } else {
        &lesson.package
    };
    let list = cargo_test(cargo, root, package, &["--list", "--format", "terse"])?;
    if !list.status.success() {
        let mut grade = does_not_compile(lesson, &String::from_utf8_lossy(&list.stderr));
        grade.package = package.clone();
        return Ok(grade);
    }
    let checks = checks_from_list(&String::from_utf8_lossy(&list.stdout));
    let run = cargo_test(cargo, root, package, &["--color", "never"])?;
    // Solutions have no todo!()s; a lesson untouched still has all it shipped with.
    let untouched = !solution
        && lesson
            .todos_now(root)
            .is_ok_and(|now| now == lesson.shipped_todos());
    let mut grade = grade_from_output(
        lesson,
        &checks,
        &String::from_utf8_lossy(&run.stdout),
        &String::from_utf8_lossy(&run.stderr),
        untouched,
    );
    grade.package = package.clone();
    Ok(grade)
}

/// The step of a failure that stopped at a lesson's `todo!("Step N: …")`.
pub fn todo_step(message: &str) -> Option<usize> {
    let rest = message.split("not yet implemented: Step ").nth(1)?;
    rest[..rest.find(':')?].trim().parse().ok()
}

/// `test NAME ... ok|FAILED` lines, and the panic message of each failure.
fn parse_libtest(stdout: &str) -> Vec<Ran> {
    let mut ran: Vec<Ran> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("test "))
        .filter_map(|l| {
            let (name, result) = l.rsplit_once(" ... ")?;
            Some(Ran {
                name: name.trim().to_string(),
                ok: result.trim() == "ok",
                message: String::new(),
            })
        })
        .collect();
    // Failure sections: `---- NAME stdout ----`, then `thread '…' panicked at …:`, then the message.
    for section in stdout.split("---- ").skip(1) {
        let Some((name, body)) = section.split_once(" stdout ----") else {
            continue;
        };
        let message = body
            .lines()
            .skip_while(|l| !l.contains("panicked at"))
            .skip(1)
            .take_while(|l| {
                !l.trim().is_empty() && !l.starts_with("note:") && !l.starts_with("stack backtrace")
            })
            .collect::<Vec<_>>()
            .join("\n");
        if let Some(r) = ran.iter_mut().find(|r| r.name == name.trim()) {
            r.message = message;
        }
    }
    ran
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson() -> Lesson {
        Lesson {
            id: "03".into(),
            package: "lesson03".into(),
            solution: "solution03".into(),
            title: "Ask for permission".into(),
            minutes: 30,
            chapter: "lesson03/index.md".into(),
            steps: vec!["one".into()],
            hints: vec![],
        }
    }

    fn checks() -> Vec<String> {
        ["first_check", "second_check", "third_check"]
            .map(String::from)
            .to_vec()
    }

    fn output(results: &[(&str, &str)], failures: &[(&str, &str)]) -> String {
        let mut out = format!("\nrunning {} tests\n", results.len());
        for (name, result) in results {
            out.push_str(&format!("test {name} ... {result}\n"));
        }
        out.push_str("\nfailures:\n\n");
        for (name, message) in failures {
            out.push_str(&format!(
                "---- {name} stdout ----\n\nthread '{name}' (123) panicked at lessons/lesson03/src/lib.rs:24:5:\n{message}\nnote: run with `RUST_BACKTRACE=1`\n\n"
            ));
        }
        out
    }

    #[test]
    fn all_ok_is_passed() {
        let out = output(
            &[
                ("third_check", "ok"),
                ("first_check", "ok"),
                ("second_check", "ok"),
            ],
            &[],
        );
        let g = grade_from_output(&lesson(), &checks(), &out, "", false);
        assert_eq!((g.status, g.passed, g.total), (Status::Passed, 3, 3));
        assert_eq!(g.result(), "passed (3/3 checks)");
    }

    #[test]
    fn only_todos_is_not_started() {
        let todo = "not yet implemented: Step 1: make a fresh, unguessable state — see chapter 3";
        let out = output(
            &[
                ("first_check", "FAILED"),
                ("second_check", "FAILED"),
                ("third_check", "FAILED"),
            ],
            &[
                ("first_check", todo),
                ("second_check", todo),
                ("third_check", todo),
            ],
        );
        assert_eq!(
            grade_from_output(&lesson(), &checks(), &out, "", true).status,
            Status::NotStarted
        );
        // A step written, the rest still todo: started, and failing.
        assert_eq!(
            grade_from_output(&lesson(), &checks(), &out, "", false).status,
            Status::Failed
        );
    }

    #[test]
    fn first_failure_is_a_wrong_answer_before_a_todo_with_its_message() {
        let out = output(
            &[
                ("third_check", "FAILED"),
                ("first_check", "ok"),
                ("second_check", "FAILED"),
            ],
            &[
                (
                    "second_check",
                    "stray requests must not end the wait\nmore detail",
                ),
                ("third_check", "not yet implemented: Step 3"),
            ],
        );
        let g = grade_from_output(&lesson(), &checks(), &out, "", false);
        assert_eq!(g.status, Status::Failed);
        assert_eq!(g.first_failure.as_deref(), Some("second_check"));
        assert_eq!(
            g.message.as_deref(),
            Some("stray requests must not end the wait")
        );
        assert_eq!(g.passed, 1);
    }

    #[test]
    fn among_todos_the_earliest_step_comes_first() {
        let out = output(
            &[("first_check", "FAILED"), ("third_check", "FAILED")],
            &[
                (
                    "first_check",
                    "not yet implemented: Step 3: wait — see chapter 3",
                ),
                (
                    "third_check",
                    "not yet implemented: Step 1: state — see chapter 3",
                ),
            ],
        );
        let g = grade_from_output(&lesson(), &checks(), &out, "", false);
        assert_eq!(g.first_failure.as_deref(), Some("third_check"));
        assert_eq!(todo_step("not yet implemented: Step 12: x"), Some(12));
        assert_eq!(todo_step("assertion failed"), None);
    }

    /// `cargo test` sets these for this test as `cargo run` does for `cargo
    /// grade`: a child cargo must not inherit them (ring's build script would
    /// rerun, and the TLS stack be rebuilt on every grading).
    #[test]
    fn a_child_cargo_does_not_inherit_what_cargo_run_set() {
        let command = cargo_command("cargo".as_ref(), Path::new("."));
        let removed: Vec<String> = command
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        for name in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME", "CARGO_PKG_VERSION"] {
            assert!(
                std::env::var_os(name).is_none() || removed.iter().any(|r| r == name),
                "{name} is passed on: {removed:?}"
            );
        }
        assert!(
            std::env::var_os("CARGO_MANIFEST_DIR").is_some(),
            "cargo test sets it"
        );
        for kept in ["CARGO", "CARGO_HOME", "CARGO_TARGET_DIR", "PATH"] {
            assert!(!removed.iter().any(|r| r == kept), "{kept} is kept");
        }
    }

    #[test]
    fn the_list_gives_every_check() {
        let list = "first_check: test\nsecond_check: test\n";
        assert_eq!(checks_from_list(list), ["first_check", "second_check"]);
    }

    #[test]
    fn no_test_run_is_a_compile_error_with_its_first_error_line() {
        let stderr = "   Compiling lesson03 v0.1.0\nerror[E0308]: mismatched types\n --> lessons/lesson03/src/lib.rs:3:1\n";
        let g = grade_from_output(&lesson(), &checks(), "", stderr, false);
        assert_eq!(g.status, Status::DoesNotCompile);
        assert_eq!(
            g.message.as_deref(),
            Some("error[E0308]: mismatched types at lessons/lesson03/src/lib.rs:3:1")
        );
    }
}
