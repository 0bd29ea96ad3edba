//! `cargo lab`: the student's companion. In a terminal it watches the lesson
//! being worked on and checks it on each save; its subcommands work anywhere
//! (pipes, CI) and print plain text.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand};
use lab_tests::grade::Status;

use lab::course::{Course, Report, Standing};
use lab::state::State;
use lab::{reset, screen, watch};

/// OAuth2 Lab's companion. With no command, in a terminal: watches the first
/// lesson not passed yet (or LESSON) and checks it each time you save.
/// Keys: h next hint, r run the lesson program, n next lesson once green,
/// l list, q quit.
#[derive(Parser)]
#[command(name = "cargo lab", version)]
struct Cli {
    /// The lesson to watch: 05, 5 or lesson05.
    lesson: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// One line per lesson: passed, N of M checks, or not started.
    List,
    /// The next hint layer of a lesson, one more each time.
    Hint {
        lesson: String,
        /// Every layer at once.
        #[arg(long)]
        all: bool,
    },
    /// Puts the lesson's src/lib.rs back as shipped, keeping a copy of yours in .lab/backup/.
    Reset { lesson: String },
    /// Runs the lesson's checks once; exits 0 when they all pass.
    Check { lesson: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let course = Course::from_env()
        .map_err(|e| format!("{e}: run cargo lab inside an OAuth2 Lab checkout"))?;
    match cli.command {
        Some(Command::List) => list(&course),
        Some(Command::Hint { lesson, all }) => hint(&course, &lesson, all),
        Some(Command::Reset { lesson }) => do_reset(&course, &lesson),
        Some(Command::Check { lesson }) => check(&course, &lesson),
        None => start_watch(course, cli.lesson.as_deref()),
    }
}

fn list(course: &Course) -> Result<ExitCode, String> {
    let standings = course.standings(false, |l| eprintln!("checking {}…", l.package))?;
    for line in screen::list_lines(&course.lessons, &standings) {
        println!("{line}");
    }
    let passed = standings.iter().filter(|s| **s == Standing::Passed).count();
    println!("\n{passed} of {} lessons passed.", standings.len());
    Ok(ExitCode::SUCCESS)
}

fn hint(course: &Course, name: &str, all: bool) -> Result<ExitCode, String> {
    let lesson = &course.lessons[course.find(name)?];
    let total = lesson.hints.len();
    if total == 0 {
        println!("Lesson {} has no hints.", lesson.id);
        return Ok(ExitCode::SUCCESS);
    }
    if all {
        for (i, hint) in lesson.hints.iter().enumerate() {
            println!("Hint {} of {total}: {hint}", i + 1);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut shown = 0;
    State::change(&course.root, |state| {
        let memory = state.memory(lesson);
        memory.hints_shown = (memory.hints_shown + 1).min(total);
        shown = memory.hints_shown;
    })?;
    println!("Hint {shown} of {total}: {}", lesson.hints[shown - 1]);
    if shown < total {
        println!("(cargo lab hint {} again for the next one)", lesson.id);
    } else {
        println!(
            "(that was the last; then comes the lesson's solution page, book/src/{})",
            lesson.chapter.replace("index.md", "solution.md")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn do_reset(course: &Course, name: &str) -> Result<ExitCode, String> {
    let lesson = &course.lessons[course.find(name)?];
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let file = reset::student_file(lesson);
    match reset::reset(&course.root, lesson, now)? {
        reset::Reset::AlreadyShipped => println!("{file} is already as shipped: nothing to do."),
        reset::Reset::Restored { commit, backup } => {
            let short = &commit[..commit.len().min(12)];
            println!("{file} is back as shipped (from commit {short}).");
            if let Some(backup) = backup {
                let shown = backup.strip_prefix(&course.root).unwrap_or(&backup);
                println!("Your version is kept in {}.", shown.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn check(course: &Course, name: &str) -> Result<ExitCode, String> {
    let index = course.find(name)?;
    let lesson = &course.lessons[index];
    eprintln!(
        "checking {} (cargo test -p {} --test check)…",
        lesson.package, lesson.package
    );
    let report = course.check(index)?;
    for line in report_lines(course, &report) {
        println!("{line}");
    }
    Ok(if report.grade.status == Status::Passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A check's result as plain lines (what `cargo lab check` prints).
fn report_lines(course: &Course, report: &Report) -> Vec<String> {
    let lesson = &course.lessons[report.index];
    let g = &report.grade;
    let mut lines = vec![format!("Lesson {}: {}", lesson.id, lesson.title)];
    match g.status {
        Status::Passed => {
            lines.push(format!("passed: all {} checks", g.total));
            return lines;
        }
        Status::DoesNotCompile => {
            lines.push(format!(
                "does not compile: {}",
                g.message.as_deref().unwrap_or("")
            ));
        }
        Status::TimedOut => {
            lines.push(format!(
                "timed out: {} (look for a loop that never ends, or a wait with no deadline)",
                g.message.as_deref().unwrap_or("")
            ));
        }
        Status::Failed | Status::NotStarted => {
            let not_started = if g.status == Status::NotStarted {
                " (not started)"
            } else {
                ""
            };
            lines.push(format!(
                "{} of {} checks pass{not_started}",
                g.passed, g.total
            ));
            if let Some(step) = &report.step {
                lines.push(format!(
                    "Step {} of {}: {}",
                    step.number, step.of, step.name
                ));
            }
            lines.push(format!(
                "first failing check: {} — {}",
                g.first_failure.as_deref().unwrap_or("?"),
                g.message.as_deref().unwrap_or("")
            ));
        }
    }
    lines.push(format!("Read: {}", report.read));
    lines
}

fn start_watch(course: Course, name: Option<&str>) -> Result<ExitCode, String> {
    if !console::Term::stdout().is_term() {
        return Err(
            "the watch needs a terminal; here use cargo lab list, cargo lab check NN, cargo lab hint NN or cargo lab reset NN".into(),
        );
    }
    let start = match name {
        Some(name) => course.find(name)?,
        None => {
            eprintln!("Finding the first lesson not passed yet…");
            let standings = course.standings(true, |l| eprintln!("checking {}…", l.package))?;
            standings
                .iter()
                .position(|s| *s != Standing::Passed)
                .unwrap_or(course.lessons.len() - 1)
        }
    };
    watch::run(course, start)?;
    Ok(ExitCode::SUCCESS)
}
