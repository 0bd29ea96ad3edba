//! `cargo grade`: one row per lesson — passed, failed (with the first failing
//! check), not started, timed out, did not compile — for the checkout it runs
//! in; `cargo grade --class DIR`: every student's submission in DIR, graded
//! with this checkout's own checks. Exits 0 only when every lesson passes
//! (for a class: always, once every report is written).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

use clap::Parser;
use lab_tests::class::{self, ClassReport, StudentReport};
use lab_tests::course::{Lesson, lessons, root};
use lab_tests::grade::{Grade, Runner, Status};

/// Grades OAuth2 Lab lessons with the course's own checks.
///
/// Without --class: each lesson of this checkout, one row each (passed, failed
/// with the first failing check, not started, timed out, did not compile).
/// With --class DIR: every student folder in DIR, each student's lesson files
/// graded inside a scratch copy of this checkout; files changed elsewhere are
/// reported, never used. This is not a sandbox: see the instructor guide
/// (book/src/appendix/instructor.md) before grading code you do not trust.
#[derive(Parser)]
#[command(name = "cargo grade", bin_name = "cargo grade")]
struct Args {
    /// Grade every student folder in DIR (one folder per student, named for them).
    #[arg(long, value_name = "DIR")]
    class: Option<PathBuf>,
    /// Print the grades as JSON; with --class, write them to FILE.
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    json: Option<Option<PathBuf>>,
    /// With --class: one row per student, one column per lesson.
    #[arg(long, value_name = "FILE", requires = "class")]
    csv: Option<PathBuf>,
    /// With --class: one self-contained page, the class at a glance.
    #[arg(long, value_name = "FILE", requires = "class")]
    html: Option<PathBuf>,
    /// With --class: Gradescope's results.json, one folder per student.
    #[arg(long, value_name = "DIR", requires = "class")]
    gradescope: Option<PathBuf>,
    /// Seconds one lesson's checks may run once built; then they are stopped
    /// with everything they started and the lesson is "timed out".
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    timeout: u64,
    /// With --class: students graded at once, each in a scratch copy of its own.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "class")]
    jobs: usize,
    /// With --class: where the scratch copies go (kept between runs, so a
    /// re-grade builds only what changed).
    #[arg(long, value_name = "DIR", requires = "class")]
    scratch: Option<PathBuf>,
    /// Grade the reference solutions instead (to check the grader itself).
    #[arg(long, conflicts_with = "class")]
    solutions: bool,
    /// Write the student edition of this course into DIR (a new folder): no
    /// reference solutions, a note in place of each solution page, GitHub
    /// Classroom's autograding workflow. Publish that one to students.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["class", "solutions", "json"])]
    student_edition: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let root = checkout();
    let lessons = match lessons(&root) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}: run cargo grade from an OAuth2 Lab checkout");
            return ExitCode::FAILURE;
        }
    };
    let result = match (&args.class, &args.student_edition) {
        (_, Some(dir)) => student_edition(&root, &lessons, dir),
        (Some(dir), None) => grade_class(&args, &root, &lessons, dir),
        (None, None) => grade_here(&args, &root, &lessons),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The checkout `cargo grade` runs in: the nearest folder around the current
/// one with `lessons/lessons.toml`, else the one this program was built in.
fn checkout() -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|here| {
            here.ancestors()
                .find(|dir| {
                    dir.join("lessons/lessons.toml").is_file() && dir.join("Cargo.toml").is_file()
                })
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(root)
}

/// Writes the student edition into `dir`, then lets cargo prune `Cargo.lock`
/// of the solutions (nothing else in it changes: every other version stays
/// locked, so `cargo test --locked` works there).
fn student_edition(root: &Path, lessons: &[Lesson], dir: &Path) -> Result<ExitCode, String> {
    if lab_tests::edition::is_student_edition(root) {
        return Err(
            "this is the student edition already: write it from the instructor's checkout".into(),
        );
    }
    let files = lab_tests::edition::student_edition(root, lessons)?;
    lab_tests::edition::write(root, &files, dir)?;
    // `cargo update --workspace` re-locks the workspace's own packages only:
    // the solutions leave the lock file, every other version stays as it is.
    // Offline first (the registry's copy is here after any build), else online.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let prune = |offline: bool| {
        let mut command = lab_tests::grade::cargo_command(&cargo, dir);
        command.args(["update", "--workspace", "--quiet"]);
        if offline {
            command.arg("--offline");
        }
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))
    };
    let mut pruned = prune(true)?;
    if !pruned.status.success() {
        pruned = prune(false)?;
    }
    if !pruned.status.success() {
        return Err(format!(
            "cargo could not update {}/Cargo.lock: {}",
            dir.display(),
            String::from_utf8_lossy(&pruned.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ));
    }
    eprintln!(
        "The student edition is in {} ({} files, no reference solutions). Publish that folder; see the instructor guide (book/src/appendix/instructor.md).",
        dir.display(),
        files.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// The lessons of this checkout.
fn grade_here(args: &Args, root: &Path, lessons: &[Lesson]) -> Result<ExitCode, String> {
    let json = args.json.is_some();
    let runner = Runner::new(root, Duration::from_secs(args.timeout));
    let mut grades: Vec<Grade> = Vec::new();
    // The lessons' checks, built at once (not for the solutions: theirs are
    // other packages, graded one by one).
    let built = if args.solutions {
        None
    } else {
        if !json {
            eprintln!("building every lesson's checks…");
        }
        Some(
            runner
                .build_all(lessons)
                .map_err(|e| format!("cannot run {}: {e}", runner.cargo.to_string_lossy()))?,
        )
    };
    for lesson in lessons {
        let package = if args.solutions {
            &lesson.solution
        } else {
            &lesson.package
        };
        if !json {
            eprintln!("grading {package}…");
        }
        // Solutions have no todo!()s; a lesson untouched still has all it shipped with.
        let untouched = !args.solutions
            && lesson
                .todos_now(root)
                .is_ok_and(|now| now == lesson.shipped_todos());
        let grade = match &built {
            Some(built) => runner.grade_built(lesson, built, untouched, None),
            None => runner.grade(lesson, package, untouched, None),
        }
        .map_err(|e| format!("cannot run {}: {e}", runner.cargo.to_string_lossy()))?;
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
        let points: f64 = grades.iter().map(|g| g.points).sum();
        let max: u32 = grades.iter().map(|g| g.max_points).sum();
        println!(
            "\n{passed} of {} lessons passed; {} of {max} points.",
            grades.len(),
            (points * 100.0).round() / 100.0
        );
    }
    Ok(if passed == grades.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every student of a class folder.
fn grade_class(
    args: &Args,
    root: &Path,
    lessons: &[Lesson],
    dir: &Path,
) -> Result<ExitCode, String> {
    if args.json == Some(None) {
        return Err("with --class, --json needs a FILE to write: --json grades.json".into());
    }
    let students = class::students(dir)?;
    let instructor = class::course_files(root);
    // A submission may start from the student edition: its files count as unchanged.
    let edition = &lab_tests::edition::student_edition(root, lessons)?;
    let scratch = args
        .scratch
        .clone()
        .unwrap_or_else(|| root.join("target/grade-class"));
    let jobs = args.jobs.clamp(1, students.len());
    eprintln!(
        "grading {} students with this checkout's checks, {jobs} at a time, in {}",
        students.len(),
        scratch.display()
    );
    let queue = Mutex::new(students.iter().enumerate());
    let reports: Mutex<Vec<(usize, StudentReport)>> = Mutex::new(Vec::new());
    let totals = Mutex::new(BTreeMap::new());
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for job in 0..jobs {
            let (queue, reports, totals, failure) = (&queue, &reports, &totals, &failure);
            let instructor = &instructor;
            let job_dir = scratch.join(format!("job-{job}"));
            scope.spawn(move || {
                if let Err(e) = class::prepare_scratch(instructor, &job_dir, lessons) {
                    *failure.lock().unwrap() = Some(format!(
                        "cannot write the scratch copy {}: {e}",
                        job_dir.display()
                    ));
                    return;
                }
                let runner = Runner::new(&job_dir, Duration::from_secs(args.timeout));
                loop {
                    let Some((i, (name, path))) = queue.lock().unwrap().next() else {
                        return;
                    };
                    eprintln!("grading {name}…");
                    let grades =
                        match class::grade_student(&runner, lessons, root, name, path, totals) {
                            Ok(g) => g,
                            Err(e) => {
                                *failure.lock().unwrap() =
                                    Some(format!("grading {name} in {}: {e}", job_dir.display()));
                                return;
                            }
                        };
                    let changed = class::changed_elsewhere(instructor, edition, path, lessons);
                    let report = StudentReport::new(name, path, &grades, lessons, changed);
                    reports.lock().unwrap().push((i, report));
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().unwrap() {
        return Err(e);
    }
    let mut reports = reports.into_inner().unwrap();
    reports.sort_by_key(|(i, _)| *i);
    // A lesson whose size came to be known only after a student was graded.
    let totals = totals.into_inner().unwrap();
    let mut report = ClassReport {
        students: reports.into_iter().map(|(_, r)| r).collect(),
    };
    for l in report
        .students
        .iter_mut()
        .flat_map(|s| s.lessons.iter_mut())
    {
        if l.total == 0 {
            l.total = totals.get(&l.id).copied().unwrap_or(0);
        }
    }
    class::flag_copies(root, lessons, &students, &mut report.students);
    print!("{}", class::table(&report, lessons));
    let write = |path: &Path, text: String| {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    if let Some(Some(path)) = &args.json {
        write(
            path,
            serde_json::to_string_pretty(&report).expect("the report serializes"),
        )?;
    }
    if let Some(path) = &args.csv {
        write(path, class::csv(&report, lessons))?;
    }
    if let Some(path) = &args.html {
        write(path, class::html(&report, lessons))?;
    }
    if let Some(dir) = &args.gradescope {
        for student in &report.students {
            let folder = dir.join(&student.student);
            std::fs::create_dir_all(&folder)
                .map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
            write(
                &folder.join("results.json"),
                serde_json::to_string_pretty(&class::gradescope(student, lessons))
                    .expect("results serialize"),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
