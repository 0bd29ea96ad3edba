//! Course checks (like rustlings' `dev check`): every lesson as shipped stops at
//! a todo!() — not a compile error, not a pass — every solution passes, and
//! every lesson has its todo!()s and a complete `lessons.toml` entry.
//!
//! The suites run in-process: a nested `cargo test` here would wait forever on
//! the build lock that this `cargo test` holds.

use lab_tests::course::{Lesson, lessons, root};
use lab_tests::{Check, Outcome, run_check};

/// Every crate's suite, by package name.
fn suites() -> Vec<(&'static str, &'static [Check])> {
    vec![
        ("lesson01", lab_tests::lesson01_suite!(list, lesson01)),
        ("lesson02", lab_tests::lesson02_suite!(list, lesson02)),
        ("lesson03", lab_tests::lesson03_suite!(list, lesson03)),
        ("lesson04", lab_tests::lesson04_suite!(list, lesson04)),
        ("lesson05", lab_tests::lesson05_suite!(list, lesson05)),
        ("lesson06", lab_tests::lesson06_suite!(list, lesson06)),
        ("lesson07", lab_tests::lesson07_suite!(list, lesson07)),
        ("lesson08", lab_tests::lesson08_suite!(list, lesson08)),
        ("lesson09", lab_tests::lesson09_suite!(list, lesson09)),
        ("lesson10", lab_tests::lesson10_suite!(list, lesson10)),
        ("solution01", lab_tests::lesson01_suite!(list, solution01)),
        ("solution02", lab_tests::lesson02_suite!(list, solution02)),
        ("solution03", lab_tests::lesson03_suite!(list, solution03)),
        ("solution04", lab_tests::lesson04_suite!(list, solution04)),
        ("solution05", lab_tests::lesson05_suite!(list, solution05)),
        ("solution06", lab_tests::lesson06_suite!(list, solution06)),
        ("solution07", lab_tests::lesson07_suite!(list, solution07)),
        ("solution08", lab_tests::lesson08_suite!(list, solution08)),
        ("solution09", lab_tests::lesson09_suite!(list, solution09)),
        ("solution10", lab_tests::lesson10_suite!(list, solution10)),
    ]
}

fn suite(package: &str) -> &'static [Check] {
    suites()
        .into_iter()
        .find(|(p, _)| *p == package)
        .unwrap_or_else(|| {
            panic!("{package} has no suite in tests/tests/course.rs: add it to suites()")
        })
        .1
}

fn all_lessons() -> Vec<Lesson> {
    lessons(&root()).unwrap_or_else(|e| panic!("{e}"))
}

fn lesson_source(lesson: &Lesson) -> String {
    let path = lesson.dir(&root()).join("src/lib.rs");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Set by the course's own CI: every lesson must be exactly as shipped. Without
/// it (a student's or instructor's checkout), a lesson someone has worked on is
/// left to `cargo grade`.
fn must_be_shipped() -> bool {
    std::env::var_os("LAB_CHECK_SHIPPED").is_some_and(|v| v == "1")
}

#[test]
fn every_solution_passes_its_suite() {
    for lesson in all_lessons() {
        for check in suite(&lesson.solution) {
            if let Outcome::Failed(message) = run_check(check) {
                panic!("{} fails {}: {message}", lesson.solution, check.name);
            }
        }
    }
}

#[test]
fn every_lesson_as_shipped_stops_at_its_todos() {
    for lesson in all_lessons() {
        let now = lesson.todos_now(&root()).unwrap_or_else(|e| panic!("{e}"));
        let shipped = lesson.shipped_todos();
        if now != shipped {
            assert!(
                !must_be_shipped(),
                "{}: the todo!()s should be, in order, {shipped:#?}\nbut are {now:#?}\n(fix the lesson or its `steps` in lessons/lessons.toml)",
                lesson.package
            );
            eprintln!(
                "{} has been worked on: its as-shipped checks are left to `cargo grade`",
                lesson.package
            );
            continue;
        }
        assert!(
            lesson_source(&lesson).contains("// TODO: "),
            "{}: each todo!() comes with a `// TODO:` saying what to write",
            lesson.package
        );
        let outcomes: Vec<_> = suite(&lesson.package)
            .iter()
            .map(|c| (c.name, run_check(c)))
            .collect();
        assert!(
            outcomes.iter().any(|(_, o)| o.is_todo()),
            "{} as shipped must fail its suite at a todo!(), got {outcomes:?}",
            lesson.package
        );
        for (name, outcome) in &outcomes {
            if let Outcome::Failed(message) = outcome {
                assert!(
                    outcome.is_todo(),
                    "{} check {name} fails for another reason than a todo!(): {message}",
                    lesson.package
                );
            }
        }
    }
}

#[test]
fn lessons_toml_is_complete_and_matches_the_crates() {
    let lessons = all_lessons();
    assert!(!lessons.is_empty());
    for (i, lesson) in lessons.iter().enumerate() {
        let id = format!("{:02}", i + 1);
        assert_eq!(lesson.id, id, "lessons are numbered in order");
        assert_eq!(lesson.package, format!("lesson{id}"));
        assert_eq!(lesson.solution, format!("solution{id}"));
        assert_eq!(
            lesson.chapter,
            format!("lesson{id}/index.md"),
            "the book mirrors lessons/ one to one"
        );
        assert!(!lesson.title.trim().is_empty(), "lesson {id} needs a title");
        assert!(
            (5..=60).contains(&lesson.minutes),
            "lesson {id}: minutes should be 5 to 60"
        );
        assert!(
            lesson.hints.len() >= 2,
            "lesson {id}: at least two hints, a nudge then a near-answer"
        );
        assert!(
            lesson.hints.iter().all(|h| h.len() > 20),
            "lesson {id}: a hint must say something"
        );
        for dir in [lesson.dir(&root()), lesson.solution_dir(&root())] {
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("lesson {id}: {}: {e}", dir.display()));
            assert!(manifest.contains("name = \"lesson") || manifest.contains("name = \"solution"));
            let check = std::fs::read_to_string(dir.join("tests/check.rs")).unwrap_or_default();
            assert_eq!(
                check.trim().lines().count(),
                1,
                "{}: tests/check.rs is one line",
                dir.display()
            );
            assert!(
                check.contains(&format!("lesson{id}_suite!")),
                "{}: applies the lesson {id} suite",
                dir.display()
            );
        }
    }
    // Every lesson folder has its entry.
    for entry in std::fs::read_dir(root().join("lessons")).unwrap().flatten() {
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().to_string();
            assert!(
                lessons.iter().any(|l| l.package == name),
                "lessons/{name} has no entry in lessons.toml"
            );
        }
    }
}

#[test]
fn a_lesson_and_its_solution_share_the_finished_code_of_earlier_lessons() {
    for lesson in all_lessons() {
        let earlier =
            |dir: std::path::PathBuf| std::fs::read_to_string(dir.join("src/earlier.rs")).ok();
        assert_eq!(
            earlier(lesson.dir(&root())),
            earlier(lesson.solution_dir(&root())),
            "{}: src/earlier.rs must be the same in the lesson and its solution",
            lesson.package
        );
    }
}
