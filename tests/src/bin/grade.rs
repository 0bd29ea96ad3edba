//! `cargo grade [--json] [--solutions]`: one row per lesson — passed, failed
//! (with the first failing check), or not started — for a student's checkout.
//! Exits 0 only when every lesson passes, so a CI job can gate on it.

use std::path::Path;
use std::process::{Command, ExitCode, Output};

use lab_tests::course::{Lesson, lessons, root};
use lab_tests::grade::{Grade, Status, checks_from_list, does_not_compile, grade_from_output};

/// `cargo test -p PACKAGE --test check` with `args` for the test binary.
fn cargo_test(cargo: &str, root: &Path, package: &str, args: &[&str]) -> std::io::Result<Output> {
    Command::new(cargo)
        .current_dir(root)
        .args([
            "test", "-p", package, "--test", "check", "--color", "never", "--",
        ])
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
}

/// Grades one lesson (or its solution) by its own test binary: first the list
/// of its checks, which also builds it (so a lesson that does not compile says
/// so here), then the checks themselves.
fn grade_one(
    cargo: &str,
    root: &Path,
    lesson: &Lesson,
    package: &str,
    solutions: bool,
) -> std::io::Result<Grade> {
    let list = cargo_test(cargo, root, package, &["--list", "--format", "terse"])?;
    if !list.status.success() {
        return Ok(does_not_compile(
            lesson,
            &String::from_utf8_lossy(&list.stderr),
        ));
    }
    let checks = checks_from_list(&String::from_utf8_lossy(&list.stdout));
    let run = cargo_test(cargo, root, package, &["--color", "never"])?;
    // Solutions have no todo!()s; a lesson untouched still has all it shipped with.
    let untouched = !solutions
        && lesson
            .todos_now(root)
            .is_ok_and(|now| now == lesson.shipped_todos());
    Ok(grade_from_output(
        lesson,
        &checks,
        &String::from_utf8_lossy(&run.stdout),
        &String::from_utf8_lossy(&run.stderr),
        untouched,
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    const USAGE: &str = "usage: cargo grade [--json] [--solutions]\n\
        Runs each lesson's checks and prints one row per lesson: passed, failed (with the\n\
        first failing check), or not started. --json prints the same as JSON;\n\
        --solutions grades the reference solutions instead. Exits 0 when all pass.";
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let json = args.iter().any(|a| a == "--json");
    let solutions = args.iter().any(|a| a == "--solutions");
    if let Some(other) = args.iter().find(|a| *a != "--json" && *a != "--solutions") {
        eprintln!("error: unknown argument {other}: see cargo grade --help");
        return ExitCode::FAILURE;
    }
    let root = root();
    let lessons = match lessons(&root) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}: run cargo grade from an OAuth2 Lab checkout");
            return ExitCode::FAILURE;
        }
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut grades: Vec<Grade> = Vec::new();
    for lesson in &lessons {
        let package = if solutions {
            &lesson.solution
        } else {
            &lesson.package
        };
        if !json {
            eprintln!("grading {package}…");
        }
        let mut grade = match grade_one(&cargo, &root, lesson, package, solutions) {
            Ok(grade) => grade,
            Err(e) => {
                eprintln!("error: cannot run {cargo}: {e}");
                return ExitCode::FAILURE;
            }
        };
        grade.package = package.clone();
        grades.push(grade);
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&grades).expect("grades serialize")
        );
    } else {
        let width = grades
            .iter()
            .map(|g| g.title.len())
            .max()
            .unwrap_or(5)
            .max(5);
        println!("{:<7} {:<width$}  Result", "Lesson", "Title");
        for g in &grades {
            println!("{:<7} {:<width$}  {}", g.id, g.title, g.result());
        }
    }
    let passed = grades.iter().filter(|g| g.status == Status::Passed).count();
    if !json {
        println!("\n{passed} of {} lessons passed.", grades.len());
    }
    if passed == grades.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
