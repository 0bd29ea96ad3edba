//! `cargo grade [--json] [--solutions]`: one row per lesson — passed, failed
//! (with the first failing check), or not started — for a student's checkout.
//! Exits 0 only when every lesson passes, so a CI job can gate on it.

use std::process::{Command, ExitCode};

use lab_tests::course::{lessons, root};
use lab_tests::grade::{Grade, Status, grade_from_output};

/// The suite's check names, in order, by lesson id.
fn check_names(id: &str) -> Option<&'static [&'static str]> {
    Some(match id {
        "01" => lab_tests::lesson01_suite!(names, x),
        "02" => lab_tests::lesson02_suite!(names, x),
        "03" => lab_tests::lesson03_suite!(names, x),
        "04" => lab_tests::lesson04_suite!(names, x),
        "05" => lab_tests::lesson05_suite!(names, x),
        "06" => lab_tests::lesson06_suite!(names, x),
        "07" => lab_tests::lesson07_suite!(names, x),
        "08" => lab_tests::lesson08_suite!(names, x),
        "09" => lab_tests::lesson09_suite!(names, x),
        "10" => lab_tests::lesson10_suite!(names, x),
        _ => return None,
    })
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
        let Some(order) = check_names(&lesson.id) else {
            eprintln!(
                "error: lesson {} has no suite in the grader: update tests/src/bin/grade.rs",
                lesson.id
            );
            return ExitCode::FAILURE;
        };
        if !json {
            eprintln!("grading {package}…");
        }
        let output = Command::new(&cargo)
            .current_dir(&root)
            .args([
                "test", "-p", package, "--test", "check", "--color", "never", "--", "--color",
                "never",
            ])
            .env("RUST_BACKTRACE", "0")
            .output();
        let output = match output {
            Ok(o) => o,
            Err(e) => {
                eprintln!("error: cannot run {cargo}: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Solutions have no todo!()s; a lesson untouched still has all it shipped with.
        let untouched = !solutions
            && lesson
                .todos_now(&root)
                .is_ok_and(|now| now == lesson.shipped_todos());
        let mut grade = grade_from_output(
            lesson,
            order,
            &String::from_utf8_lossy(&output.stdout),
            &String::from_utf8_lossy(&output.stderr),
            untouched,
        );
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
