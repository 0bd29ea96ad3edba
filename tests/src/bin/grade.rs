//! `cargo grade [--json] [--solutions]`: one row per lesson — passed, failed
//! (with the first failing check), or not started — for a student's checkout.
//! Exits 0 only when every lesson passes, so a CI job can gate on it.

use std::process::ExitCode;

use lab_tests::course::{lessons, root};
use lab_tests::grade::{Grade, Status, grade_package};

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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut grades: Vec<Grade> = Vec::new();
    for lesson in &lessons {
        if !json {
            let package = if solutions {
                &lesson.solution
            } else {
                &lesson.package
            };
            eprintln!("grading {package}…");
        }
        match grade_package(&cargo, &root, lesson, solutions) {
            Ok(grade) => grades.push(grade),
            Err(e) => {
                eprintln!("error: cannot run {}: {e}", cargo.to_string_lossy());
                return ExitCode::FAILURE;
            }
        }
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
