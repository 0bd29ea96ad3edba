//! Grading: runs each lesson's suite as its own `cargo test`, so one lesson that
//! does not compile cannot hide the others, and reads the result back.

use serde::Serialize;

/// How a lesson stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

/// Reads `cargo test` output (stdout, then stderr) into a grade. `order` is the
/// suite's check names in course order, so "first failing" means the first in
/// the suite, not the first to finish. `untouched`: the lesson still has every
/// `todo!()` it was shipped with.
pub fn grade_from_output(
    lesson: &crate::course::Lesson,
    order: &[&str],
    stdout: &str,
    stderr: &str,
    untouched: bool,
) -> Grade {
    let mut grade = Grade {
        id: lesson.id.clone(),
        package: lesson.package.clone(),
        title: lesson.title.clone(),
        status: Status::Passed,
        passed: 0,
        total: order.len(),
        first_failure: None,
        message: None,
    };
    if !stdout.contains("running ") {
        grade.status = Status::DoesNotCompile;
        // The first error and the `--> file:line:col` under it.
        let mut lines = stderr.lines().skip_while(|l| !l.starts_with("error"));
        let error = lines
            .next()
            .unwrap_or("cargo test did not run the suite")
            .to_string();
        let place = lines
            .find_map(|l| l.trim_start().strip_prefix("--> "))
            .map(|p| format!(" at {p}"));
        grade.message = Some(error + &place.unwrap_or_default());
        return grade;
    }
    let ran = parse_libtest(stdout);
    grade.passed = order
        .iter()
        .filter(|n| ran.iter().any(|r| r.name == **n && r.ok))
        .count();
    let failed: Vec<&Ran> = order
        .iter()
        .filter_map(|n| ran.iter().find(|r| r.name == *n && !r.ok))
        .collect();
    if failed.is_empty() && grade.passed == order.len() {
        return grade;
    }
    grade.status = if untouched {
        Status::NotStarted
    } else {
        Status::Failed
    };
    if let Some(first) = failed.first() {
        grade.first_failure = Some(first.name.clone());
        grade.message = Some(first.message.lines().next().unwrap_or("").to_string());
    } else {
        grade.message = Some("some checks did not run".into());
    }
    grade
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
    use crate::course::Lesson;

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

    const ORDER: &[&str] = &["first_check", "second_check", "third_check"];

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
        let g = grade_from_output(&lesson(), ORDER, &out, "", false);
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
            grade_from_output(&lesson(), ORDER, &out, "", true).status,
            Status::NotStarted
        );
        // A step written, the rest still todo: started, and failing.
        assert_eq!(
            grade_from_output(&lesson(), ORDER, &out, "", false).status,
            Status::Failed
        );
    }

    #[test]
    fn first_failure_is_first_in_suite_order_with_its_message() {
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
        let g = grade_from_output(&lesson(), ORDER, &out, "", false);
        assert_eq!(g.status, Status::Failed);
        assert_eq!(g.first_failure.as_deref(), Some("second_check"));
        assert_eq!(
            g.message.as_deref(),
            Some("stray requests must not end the wait")
        );
        assert_eq!(g.passed, 1);
    }

    #[test]
    fn no_test_run_is_a_compile_error_with_its_first_error_line() {
        let stderr = "   Compiling lesson03 v0.1.0\nerror[E0308]: mismatched types\n --> lessons/lesson03/src/lib.rs:3:1\n";
        let g = grade_from_output(&lesson(), ORDER, "", stderr, false);
        assert_eq!(g.status, Status::DoesNotCompile);
        assert_eq!(
            g.message.as_deref(),
            Some("error[E0308]: mismatched types at lessons/lesson03/src/lib.rs:3:1")
        );
    }
}
