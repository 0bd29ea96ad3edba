//! Grading: runs each lesson's suite as its own `cargo test`, so one lesson that
//! does not compile (or hangs) cannot hide the others, and reads the result back.

use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::course::Lesson;

/// How a lesson stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    #[serde(rename = "passed")]
    Passed,
    #[serde(rename = "failed")]
    Failed,
    #[serde(rename = "not started")]
    NotStarted,
    #[serde(rename = "timed out")]
    TimedOut,
    #[serde(rename = "did not compile")]
    DoesNotCompile,
}

impl Status {
    /// The words of the reports: `passed`, `not started`, `did not compile`, …
    pub fn words(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::NotStarted => "not started",
            Status::TimedOut => "timed out",
            Status::DoesNotCompile => "did not compile",
        }
    }
}

/// One row of the grade table.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    /// Points earned of `max_points` (lessons.toml's `points`, shared by the
    /// checks passed); 0 unless the lesson was started.
    pub points: f64,
    pub max_points: u32,
}

// Points are never NaN (a share of a whole number of points), so equality is total.
impl Eq for Grade {}

impl Grade {
    /// A lesson that ends before its checks give a result.
    fn empty(lesson: &Lesson, status: Status, message: Option<String>) -> Grade {
        Grade {
            id: lesson.id.clone(),
            package: lesson.package.clone(),
            title: lesson.title.clone(),
            status,
            passed: 0,
            total: 0,
            first_failure: None,
            message,
            points: 0.0,
            max_points: lesson.points(),
        }
    }

    /// The student file is as shipped: not started, nothing earned, whatever
    /// checks happen to pass as shipped.
    pub fn not_started(lesson: &Lesson, total: usize) -> Grade {
        Grade {
            total,
            ..Grade::empty(lesson, Status::NotStarted, None)
        }
    }

    /// The result column of the table.
    pub fn result(&self) -> String {
        match self.status {
            Status::Passed => format!("passed ({}/{} checks)", self.passed, self.total),
            Status::NotStarted => "not started".into(),
            Status::DoesNotCompile => {
                format!("did not compile: {}", self.message.as_deref().unwrap_or(""))
            }
            Status::TimedOut => format!("timed out: {}", self.message.as_deref().unwrap_or("")),
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
    Grade::empty(
        lesson,
        Status::DoesNotCompile,
        Some(error + &place.unwrap_or_default()),
    )
}

/// Reads `cargo test` output (stdout, then stderr) into a grade. `checks` is
/// every check of the suite. Of the failures, the one reported first is a
/// check failing for a reason of its own (something written is wrong) before
/// one that stopped at a `todo!()`, and among those the earliest step.
/// `untouched`: the student file is as shipped (see [`Grade::not_started`]).
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
        total: checks.len(),
        ..Grade::empty(lesson, Status::Passed, None)
    };
    let ran = parse_libtest(stdout);
    let passed: Vec<String> = checks
        .iter()
        .filter(|n| ran.iter().any(|r| &r.name == *n && r.ok))
        .cloned()
        .collect();
    grade.passed = passed.len();
    grade.points = lesson.score(checks, &passed);
    let mut failed: Vec<&Ran> = checks
        .iter()
        .filter_map(|n| ran.iter().find(|r| &r.name == n && !r.ok))
        .collect();
    if failed.is_empty() && grade.passed == checks.len() {
        if untouched {
            return Grade::not_started(lesson, checks.len());
        }
        return grade;
    }
    grade.status = Status::Failed;
    if untouched {
        // What passes as shipped earns nothing; the first failure (a todo!())
        // still says where to start.
        grade.status = Status::NotStarted;
        grade.passed = 0;
        grade.points = 0.0;
    }
    failed.sort_by_key(|r| todo_step(&r.message).unwrap_or(0));
    if let Some(first) = failed.first() {
        grade.first_failure = Some(first.name.clone());
        grade.message = Some(first.message.lines().next().unwrap_or("").to_string());
    } else {
        grade.message = Some("some checks did not run".into());
    }
    grade
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

/// Where and how the checks run: which `cargo`, in which checkout, with which
/// target folder, and for how long a lesson's checks may run.
#[derive(Clone, Debug)]
pub struct Runner {
    /// `$CARGO` under cargo, or a stand-in.
    pub cargo: OsString,
    /// The workspace the lesson is graded in.
    pub root: PathBuf,
    /// `None`: the workspace's own `target/`.
    pub target_dir: Option<PathBuf>,
    /// How long one lesson's checks may run once built.
    pub timeout: Duration,
    /// Build every lesson with [`ALL_LESSONS_FEATURES`] (grading all of
    /// them), or with the lesson's own (`cargo lab`, one lesson at a time:
    /// lesson 01 does not build the replicas' tokio).
    pub all_lessons_features: bool,
}

/// How long building one lesson's checks may take: generous, since the first
/// build of a class compiles every dependency.
const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Every lesson's checks are built with the features of all of them (the
/// suites that play providers need `replicas`, and with it httpmock, which
/// turns on more features of shared crates such as serde and once_cell): the
/// shared dependencies then resolve the same for every lesson and are built
/// once, not once per feature set.
pub const ALL_LESSONS_FEATURES: &str = "lab-tests/replicas";

/// What one `cargo build` of every lesson's checks gave.
#[derive(Debug, Default)]
pub struct Built {
    /// Package → its `check` test binary.
    pub binaries: std::collections::BTreeMap<String, PathBuf>,
    /// Package → its first compiler error, with its place.
    pub errors: std::collections::BTreeMap<String, String>,
    /// The build ran past its time limit.
    pub timed_out: bool,
}

impl Built {
    fn timed_out() -> Built {
        Built {
            timed_out: true,
            ..Built::default()
        }
    }

    /// Reads cargo's `--message-format json` lines: the test binaries built,
    /// and each package's first error (`error[E0308]: mismatched types at
    /// lessons/lesson03/src/lib.rs:3:1`).
    pub fn from_messages(stdout: &str) -> Built {
        let mut built = Built::default();
        for line in stdout.lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let Some(package) = message["package_id"].as_str().map(package_name) else {
                continue;
            };
            match message["reason"].as_str() {
                Some("compiler-artifact") if message["target"]["name"] == "check" => {
                    if let Some(binary) = message["executable"].as_str() {
                        built.binaries.insert(package, PathBuf::from(binary));
                    }
                }
                Some("compiler-message") if message["message"]["level"] == "error" => {
                    let m = &message["message"];
                    let mut text = match m["code"]["code"].as_str() {
                        Some(code) => format!("error[{code}]: "),
                        None => "error: ".into(),
                    };
                    text.push_str(m["message"].as_str().unwrap_or(""));
                    let spans = m["spans"].as_array().cloned().unwrap_or_default();
                    let span = spans
                        .iter()
                        .find(|s| s["is_primary"] == true)
                        .or(spans.first());
                    if let Some(span) = span {
                        text.push_str(&format!(
                            " at {}:{}:{}",
                            span["file_name"].as_str().unwrap_or("?"),
                            span["line_start"],
                            span["column_start"]
                        ));
                    }
                    built.errors.entry(package).or_insert(text);
                }
                _ => {}
            }
        }
        built
    }
}

/// The package name of a cargo package id: `path+file:///…/lesson05#0.1.0`
/// (the folder's name, when it is the package's) or `…#lesson05@0.1.0`.
fn package_name(id: &str) -> String {
    let (path, version) = id.rsplit_once('#').unwrap_or((id, ""));
    match version.split_once('@') {
        Some((name, _)) => name.to_string(),
        None => path.rsplit('/').next().unwrap_or(path).to_string(),
    }
}

/// How long the output of a finished `cargo test` may take to arrive.
const PIPE_GRACE: Duration = Duration::from_secs(5);

/// A command that ran to its end, or was stopped at its time limit.
enum Ended {
    Finished(Output),
    TimedOut,
}

impl Runner {
    /// `cargo` from `$CARGO` (set when running under cargo), in `root`.
    pub fn new(root: &Path, timeout: Duration) -> Runner {
        Runner {
            cargo: std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            root: root.to_path_buf(),
            target_dir: None,
            timeout,
            all_lessons_features: true,
        }
    }

    /// `cargo test -p PACKAGE --test check -- ARGS`, stopped with everything it
    /// started (its process group) after `limit`.
    fn cargo_test(&self, package: &str, args: &[&str], limit: Duration) -> io::Result<Ended> {
        let mut command = cargo_command(&self.cargo, &self.root);
        command.args(["test", "-p", package, "--test", "check", "--color", "never"]);
        if self.all_lessons_features {
            command.args(["--features", ALL_LESSONS_FEATURES]);
        }
        command.arg("--").args(args);
        self.run_limited(command, limit)
    }

    /// Runs `command` (stdout and stderr read whole) in a process group of
    /// its own, stopped with the whole group after `limit`.
    fn run_limited(&self, mut command: Command, limit: Duration) -> io::Result<Ended> {
        command
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.target_dir {
            command.env("CARGO_TARGET_DIR", dir);
        }
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut child = command.spawn()?;
        // Each pipe is read on a thread of its own, which hands its bytes over a
        // channel: a process that left the group (and keeps the pipe open)
        // cannot keep the grader waiting once the lesson is over.
        let read = |pipe: Option<Box<dyn Read + Send>>| {
            let (send, receive) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                let _ = send.send(bytes);
            });
            receive
        };
        let stdout = read(child.stdout.take().map(|p| Box::new(p) as _));
        let stderr = read(child.stderr.take().map(|p| Box::new(p) as _));
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break Some(status);
            }
            if Instant::now() >= deadline {
                stop_group(&mut child);
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let ended = Instant::now();
        let collect = |pipe: std::sync::mpsc::Receiver<Vec<u8>>| {
            let left = PIPE_GRACE.saturating_sub(ended.elapsed());
            pipe.recv_timeout(left).unwrap_or_default()
        };
        let (stdout, stderr) = (collect(stdout), collect(stderr));
        Ok(match status {
            Some(status) => Ended::Finished(Output {
                status,
                stdout,
                stderr,
            }),
            None => Ended::TimedOut,
        })
    }

    /// Builds the checks of every lesson given, in one `cargo build` (features
    /// resolved once for all of them; a lesson that does not compile does not
    /// stop the others: `--keep-going`), and says where each test binary is.
    pub fn build_all(&self, lessons: &[Lesson]) -> io::Result<Built> {
        let mut command = cargo_command(&self.cargo, &self.root);
        command.args(["build", "--keep-going", "--test", "check"]);
        command.args(["--message-format", "json", "--color", "never"]);
        command.args(["--features", ALL_LESSONS_FEATURES]);
        for lesson in lessons {
            command.args(["-p", &lesson.package]);
        }
        let output = match self.run_limited(command, BUILD_LIMIT)? {
            Ended::TimedOut => return Ok(Built::timed_out()),
            Ended::Finished(output) => output,
        };
        let mut built = Built::from_messages(&String::from_utf8_lossy(&output.stdout));
        if built.binaries.is_empty() && built.errors.is_empty() {
            // cargo itself failed (a broken manifest, a lock file it may not
            // change): its own message, for every lesson.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .find(|l| l.starts_with("error"))
                .unwrap_or("cargo built nothing")
                .to_string();
            for lesson in lessons {
                built.errors.insert(lesson.package.clone(), first.clone());
            }
        }
        Ok(built)
    }

    /// Grades a lesson [`Runner::build_all`] built: its test binary asked for
    /// the list of its checks, then run within [`Runner::timeout`], directly
    /// (as `cargo test` would: in the lesson's folder), so no cargo runs again.
    pub fn grade_built(
        &self,
        lesson: &Lesson,
        built: &Built,
        untouched: bool,
        total: Option<usize>,
    ) -> io::Result<Grade> {
        let timed_out = |what: &str, limit: Duration, total: usize| Grade {
            total,
            ..Grade::empty(
                lesson,
                Status::TimedOut,
                Some(format!(
                    "stopped after {} s: {what} did not finish",
                    limit.as_secs()
                )),
            )
        };
        if built.timed_out {
            return Ok(timed_out(
                "building the checks",
                BUILD_LIMIT,
                total.unwrap_or(0),
            ));
        }
        let Some(binary) = built.binaries.get(&lesson.package) else {
            let message = built
                .errors
                .get(&lesson.package)
                .cloned()
                .unwrap_or_else(|| "cargo did not build its checks".into());
            return Ok(Grade {
                total: total.unwrap_or(0),
                ..Grade::empty(lesson, Status::DoesNotCompile, Some(message))
            });
        };
        let dir = lesson.dir(&self.root);
        let test_binary = |args: &[&str]| {
            let mut command = Command::new(binary);
            command
                .current_dir(&dir)
                .args(args)
                .env("CARGO_MANIFEST_DIR", &dir)
                .env("CARGO_PKG_NAME", &lesson.package);
            command
        };
        let list =
            match self.run_limited(test_binary(&["--list", "--format", "terse"]), self.timeout)? {
                Ended::TimedOut => return Ok(timed_out("listing the checks", self.timeout, 0)),
                Ended::Finished(list) => list,
            };
        let checks = checks_from_list(&String::from_utf8_lossy(&list.stdout));
        let run = match self.run_limited(test_binary(&["--color", "never"]), self.timeout)? {
            Ended::TimedOut => return Ok(timed_out("the checks", self.timeout, checks.len())),
            Ended::Finished(run) => run,
        };
        Ok(grade_from_output(
            lesson,
            &checks,
            &String::from_utf8_lossy(&run.stdout),
            &String::from_utf8_lossy(&run.stderr),
            untouched,
        ))
    }

    /// Grades one lesson (or its solution) by its own test binary: first the
    /// list of its checks, which also builds it (so a lesson that does not
    /// compile says so here), then the checks, within [`Runner::timeout`].
    /// `total` is the suite's size when the caller knows it already (a lesson
    /// that does not compile or times out still has that many checks).
    pub fn grade(
        &self,
        lesson: &Lesson,
        package: &str,
        untouched: bool,
        total: Option<usize>,
    ) -> io::Result<Grade> {
        let timed_out = |what: &str, limit: Duration| Grade {
            package: package.to_string(),
            total: total.unwrap_or(0),
            ..Grade::empty(
                lesson,
                Status::TimedOut,
                Some(format!(
                    "stopped after {} s: {what} did not finish",
                    limit.as_secs()
                )),
            )
        };
        let list = match self.cargo_test(package, &["--list", "--format", "terse"], BUILD_LIMIT)? {
            Ended::TimedOut => return Ok(timed_out("building the checks", BUILD_LIMIT)),
            Ended::Finished(list) => list,
        };
        if !list.status.success() {
            let mut grade = does_not_compile(lesson, &String::from_utf8_lossy(&list.stderr));
            grade.package = package.to_string();
            grade.total = total.unwrap_or(0);
            return Ok(grade);
        }
        let checks = checks_from_list(&String::from_utf8_lossy(&list.stdout));
        let run = match self.cargo_test(package, &["--color", "never"], self.timeout)? {
            Ended::TimedOut => {
                let mut grade = timed_out("the checks", self.timeout);
                grade.total = checks.len();
                return Ok(grade);
            }
            Ended::Finished(run) => run,
        };
        let mut grade = grade_from_output(
            lesson,
            &checks,
            &String::from_utf8_lossy(&run.stdout),
            &String::from_utf8_lossy(&run.stderr),
            untouched,
        );
        grade.package = package.to_string();
        Ok(grade)
    }
}

/// Grades one lesson (or, with `solution`, its solution) in `root` with the
/// default time limit: what `cargo lab` does for the lesson it watches.
pub fn grade_package(
    cargo: &OsStr,
    root: &Path,
    lesson: &Lesson,
    solution: bool,
) -> io::Result<Grade> {
    let runner = Runner {
        cargo: cargo.to_os_string(),
        all_lessons_features: false,
        ..Runner::new(root, Duration::from_secs(120))
    };
    let package = if solution {
        &lesson.solution
    } else {
        &lesson.package
    };
    // Solutions have no todo!()s; a lesson untouched still has all it shipped with.
    let untouched = !solution
        && lesson
            .todos_now(root)
            .is_ok_and(|now| now == lesson.shipped_todos());
    runner.grade(lesson, package, untouched, None)
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

/// Kills a child and every process it started (its process group: cargo, the
/// test binary, whatever the student's code spawned).
fn stop_group(child: &mut Child) {
    #[cfg(unix)]
    {
        // SAFETY: kill(2) with a negative pid signals that process group; the
        // group is the child's own (process_group(0) above), never ours.
        let group = -(child.id() as i32);
        unsafe {
            libc::kill(group, libc::SIGKILL);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::Lesson;

    fn lesson() -> Lesson {
        Lesson::example()
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

    /// Lesson 07 as shipped passed 2 of its checks: an untouched lesson earns
    /// nothing, whatever passes as shipped.
    #[test]
    fn an_untouched_lesson_is_not_started_with_nothing_passed_whatever_passes() {
        let todo = "not yet implemented: Step 1: make a fresh, unguessable state — see chapter 3";
        let out = output(
            &[
                ("first_check", "ok"),
                ("second_check", "ok"),
                ("third_check", "FAILED"),
            ],
            &[("third_check", todo)],
        );
        let g = grade_from_output(&lesson(), &checks(), &out, "", true);
        assert_eq!((g.status, g.passed, g.total), (Status::NotStarted, 0, 3));
        assert_eq!((g.points, g.max_points), (0.0, 10));
        assert_eq!(
            g.first_failure.as_deref(),
            Some("third_check"),
            "where to start"
        );
        let all = output(
            &[
                ("first_check", "ok"),
                ("second_check", "ok"),
                ("third_check", "ok"),
            ],
            &[],
        );
        let g = grade_from_output(&lesson(), &checks(), &all, "", true);
        assert_eq!((g.status, g.passed, g.points), (Status::NotStarted, 0, 0.0));
        // Started: the same output earns its share of the points.
        let g = grade_from_output(&lesson(), &checks(), &out, "", false);
        assert_eq!((g.status, g.passed, g.points), (Status::Failed, 2, 6.67));
    }

    /// lessons.toml's `points` and `check_points`: a lesson's points shared by
    /// the weights of the checks passed.
    #[test]
    fn points_are_shared_by_the_weights_of_the_checks() {
        let lesson = Lesson {
            points: Some(20),
            check_points: [("third_check".to_string(), 2)].into(),
            ..lesson()
        };
        let passed = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            lesson.score(&checks(), &passed(&["first_check", "second_check"])),
            10.0
        );
        assert_eq!(lesson.score(&checks(), &passed(&["third_check"])), 10.0);
        assert_eq!(lesson.score(&checks(), &passed(&["first_check"])), 5.0);
        assert_eq!(lesson.score(&checks(), &checks()), 20.0);
        let entry = "id = \"03\"\npackage = \"lesson03\"\nsolution = \"solution03\"\ntitle = \"t\"\nminutes = 30\nchapter = \"lesson03/index.md\"\nsteps = []\nhints = []\npoints = 20\ncheck_points = { third_check = 2 }\n";
        let parsed: Lesson = toml::from_str(entry).unwrap();
        assert_eq!(
            (parsed.points(), parsed.check_points),
            (20, lesson.check_points)
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

    /// A stand-in for cargo: lists one check, then "runs" it by starting a
    /// process that never ends (in the group, or in a session of its own
    /// when `ESCAPE` is set) and never ending itself.
    #[cfg(unix)]
    fn hanging_cargo(dir: &Path, escape: bool) -> (PathBuf, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).unwrap();
        let pid_file = dir.join("child.pid");
        let script = dir.join("cargo");
        let start = if escape {
            "setsid sleep 600"
        } else {
            "sleep 600"
        };
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\ncase \"$*\" in *--list*) echo 'loops_forever: test'; exit 0;; esac\n{start} &\necho $! > '{}'\nwait\n",
                pid_file.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        (script, pid_file)
    }

    /// Whether a process is still running (not gone, not a zombie).
    #[cfg(unix)]
    fn running(pid: i32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
    }

    /// A lesson whose checks never end is stopped at the time limit with
    /// everything it started, and graded "timed out"; and a process that left
    /// the group with the output pipe open does not keep the grader waiting.
    #[cfg(unix)]
    #[test]
    fn a_lesson_that_never_ends_is_stopped_with_its_group_and_timed_out() {
        for escape in [false, true] {
            let dir = std::env::temp_dir()
                .join(format!("lab-grade-hang-{}-{escape}", std::process::id()));
            let (cargo, pid_file) = hanging_cargo(&dir, escape);
            let runner = Runner {
                cargo: cargo.into_os_string(),
                ..Runner::new(&dir, Duration::from_millis(500))
            };
            let (done, result) = std::sync::mpsc::channel();
            let lesson = lesson();
            std::thread::spawn(move || {
                let _ = done.send(runner.grade(&lesson, "lesson03", false, None).unwrap());
            });
            let grade = result
                .recv_timeout(Duration::from_secs(60))
                .expect("the grader waits for a lesson that never ends");
            assert_eq!(grade.status, Status::TimedOut, "{grade:?}");
            assert_eq!((grade.passed, grade.total), (0, 1));
            assert_eq!(
                grade.message.as_deref(),
                Some("stopped after 0 s: the checks did not finish")
            );
            let pid: i32 = std::fs::read_to_string(&pid_file)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            if escape {
                // Out of reach of the group kill, as a student's program could be.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            } else {
                // SIGKILL is delivered at once, but the process may take a
                // moment to be gone: wait for that, a bounded while.
                let until = Instant::now() + Duration::from_secs(5);
                while running(pid) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(10));
                }
                assert!(
                    !running(pid),
                    "the lesson's child {pid} was left running: {:?}",
                    std::fs::read_to_string(format!("/proc/{pid}/stat"))
                );
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    /// One build of all lessons: the test binary of each that compiled, and
    /// the first error, with its place, of each that did not.
    #[test]
    fn one_build_gives_each_lesson_its_binary_or_its_first_error() {
        let messages = [
            r#"{"reason":"compiler-artifact","package_id":"path+file:///c/lessons/lesson03#0.1.0","target":{"kind":["test"],"name":"check"},"executable":"/c/target/debug/deps/check-03"}"#,
            r#"{"reason":"compiler-artifact","package_id":"path+file:///c/lessons/lesson03#0.1.0","target":{"kind":["lib"],"name":"lesson03"},"executable":null}"#,
            r#"{"reason":"compiler-message","package_id":"path+file:///c/lessons/lesson05#lesson05@0.1.0","message":{"level":"warning","message":"unused","code":null,"spans":[]}}"#,
            r#"{"reason":"compiler-message","package_id":"path+file:///c/lessons/lesson05#lesson05@0.1.0","message":{"level":"error","message":"mismatched types","code":{"code":"E0308"},"spans":[{"file_name":"lessons/lesson05/src/lib.rs","line_start":3,"column_start":1,"is_primary":true}]}}"#,
            r#"{"reason":"compiler-message","package_id":"path+file:///c/lessons/lesson05#lesson05@0.1.0","message":{"level":"error","message":"aborting due to 1 previous error","code":null,"spans":[]}}"#,
            "   Compiling lesson05 v0.1.0",
        ];
        let built = Built::from_messages(&messages.join("\n"));
        assert_eq!(
            built
                .binaries
                .get("lesson03")
                .map(|p| p.display().to_string())
                .as_deref(),
            Some("/c/target/debug/deps/check-03")
        );
        assert_eq!(
            built.errors.get("lesson05").map(String::as_str),
            Some("error[E0308]: mismatched types at lessons/lesson05/src/lib.rs:3:1")
        );
        assert!(!built.binaries.contains_key("lesson05") && built.errors.len() == 1);
        let runner = Runner::new(Path::new("/c"), Duration::from_secs(1));
        let lesson = Lesson {
            package: "lesson05".into(),
            ..lesson()
        };
        let grade = runner
            .grade_built(&lesson, &built, false, Some(10))
            .unwrap();
        assert_eq!((grade.status, grade.total), (Status::DoesNotCompile, 10));
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
