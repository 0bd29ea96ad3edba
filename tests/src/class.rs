//! `cargo grade --class DIR`: every student's submission, graded with the
//! instructor's own checks.
//!
//! DIR holds one folder per student (a clone or an unpacked copy of the course;
//! the folder's name is the student's). Of each submission only the files
//! `lessons/lessons.toml` declares as the student's (`files`) are taken; they are
//! copied into a scratch copy of the instructor's checkout (its checks, labkit,
//! provider and Cargo.lock) and graded there. Every other file that differs from
//! the instructor's is reported and never used. Nothing is written into a
//! student's folder.
//!
//! This is not a sandbox: the student's code runs with the instructor's rights.
//! The instructor guide says how to grade an untrusted class in a container.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use crate::course::Lesson;
use crate::grade::{Grade, Runner, Status};

/// One student's row.
#[derive(Debug, Clone, Serialize)]
pub struct StudentReport {
    /// The name of the student's folder.
    pub student: String,
    /// `git rev-parse HEAD` of the folder, when it is a git repository.
    pub commit: Option<String>,
    /// When the submission last changed (RFC 3339, UTC): the last commit's
    /// time in a git repository, else the newest of the student's files.
    pub last_change: Option<String>,
    /// Points earned of the most there are (`points` in lessons.toml).
    pub points: f64,
    pub max_points: f64,
    pub lessons: Vec<LessonReport>,
    /// Files outside the lesson files that differ from the instructor's checkout
    /// (changed, added or missing), relative to the course folder.
    pub changed_elsewhere: Vec<String>,
}

/// One cell: a lesson of a student.
#[derive(Debug, Clone, Serialize)]
pub struct LessonReport {
    pub id: String,
    pub status: Status,
    pub passed: usize,
    pub total: usize,
    pub first_failure: Option<String>,
    pub message: Option<String>,
    pub points: f64,
    pub max_points: f64,
    /// Why the file deserves a second look (see [`crate::copies`]); `None`
    /// when nothing was seen. Never changes the grade.
    pub flag: Option<String>,
}

impl From<&Grade> for LessonReport {
    fn from(g: &Grade) -> Self {
        LessonReport {
            id: g.id.clone(),
            status: g.status,
            passed: g.passed,
            total: g.total,
            first_failure: g.first_failure.clone(),
            message: g.message.clone(),
            points: g.points,
            max_points: f64::from(g.max_points),
            flag: None,
        }
    }
}

impl StudentReport {
    /// A student's row from their grades, with the commit and time of their folder.
    pub fn new(
        name: &str,
        folder: &Path,
        grades: &[Grade],
        lessons: &[Lesson],
        changed_elsewhere: Vec<String>,
    ) -> StudentReport {
        let lessons_report: Vec<LessonReport> = grades.iter().map(LessonReport::from).collect();
        StudentReport {
            student: name.to_string(),
            commit: git(folder, &["rev-parse", "HEAD"]),
            last_change: git(folder, &["log", "-1", "--format=%ct"])
                .and_then(|t| t.parse().ok())
                .map(|secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                .or_else(|| newest_student_file(folder, lessons))
                .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
            points: round(lessons_report.iter().map(|l| l.points).sum()),
            max_points: round(lessons_report.iter().map(|l| l.max_points).sum()),
            lessons: lessons_report,
            changed_elsewhere,
        }
    }
}

fn round(points: f64) -> f64 {
    (points * 100.0).round() / 100.0
}

/// `git -C FOLDER ARGS` when the folder itself is a git repository (not one
/// that merely sits inside the instructor's), its output's first line.
fn git(folder: &Path, args: &[&str]) -> Option<String> {
    if !folder.join(".git").exists() {
        return None;
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(folder)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let line = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .trim()
        .to_string();
    (!line.is_empty()).then_some(line)
}

/// When the newest of the student's lesson files was last written.
fn newest_student_file(folder: &Path, lessons: &[Lesson]) -> Option<std::time::SystemTime> {
    student_files(lessons)
        .into_iter()
        .filter_map(|(_, f)| {
            std::fs::symlink_metadata(folder.join(f))
                .ok()?
                .modified()
                .ok()
        })
        .max()
}

/// The whole class, as `--json` writes it.
#[derive(Debug, Clone, Serialize)]
pub struct ClassReport {
    pub students: Vec<StudentReport>,
}

/// The students of a class folder: its subfolders, by name.
pub fn students(class: &Path) -> Result<Vec<(String, PathBuf)>, String> {
    let entries = std::fs::read_dir(class)
        .map_err(|e| format!("cannot read the class folder {}: {e}", class.display()))?;
    let mut students: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .filter(|(name, _)| !name.starts_with('.'))
        .collect();
    students.sort();
    if students.is_empty() {
        return Err(format!(
            "{} has no student folders: put one folder per student in it (a clone or an unpacked copy of the course)",
            class.display()
        ));
    }
    Ok(students)
}

/// Folders and files that are built or run, never part of a submission.
fn ignored(relative: &Path) -> bool {
    let first = relative.components().next().map(|c| c.as_os_str());
    let name = relative
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    matches!(
        first.and_then(|f| f.to_str()),
        Some("target" | ".git" | ".lab")
    ) || relative.starts_with("book/book")
        || name.starts_with("posts.jsonl")
        || name.ends_with(".snap.new")
        || name.ends_with(".pending-snap")
}

/// Every file under `dir`, relative to it, but what [`ignored`] leaves out.
/// Links are not followed: a submission's link is reported, never read through.
pub fn course_files(dir: &Path) -> BTreeMap<PathBuf, PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<PathBuf, PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let relative = path.strip_prefix(base).unwrap().to_path_buf();
            if ignored(&relative) {
                continue;
            }
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(&path, base, out),
                Ok(_) => {
                    out.insert(relative, path);
                }
                Err(_) => {}
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The student files of every lesson, relative to the course folder.
fn student_files(lessons: &[Lesson]) -> Vec<(usize, PathBuf)> {
    lessons
        .iter()
        .enumerate()
        .flat_map(|(i, l)| {
            l.files
                .iter()
                .map(move |f| (i, Path::new("lessons").join(&l.package).join(f)))
        })
        .collect()
}

/// What differs between a submission and the course outside the student
/// files: changed, added and missing files, and links. A submission may start
/// from the instructor's checkout or from the student edition
/// (`edition`, see [`crate::edition`]): a file like either one's is unchanged,
/// and a file only one of them has may be missing.
pub fn changed_elsewhere(
    instructor: &BTreeMap<PathBuf, PathBuf>,
    edition: &crate::edition::Files,
    submission: &Path,
    lessons: &[Lesson],
) -> Vec<String> {
    let theirs = course_files(submission);
    let own: Vec<PathBuf> = student_files(lessons).into_iter().map(|(_, f)| f).collect();
    let mut changed = Vec::new();
    for (relative, path) in &theirs {
        if own.contains(relative) {
            continue;
        }
        let regular = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file());
        if !regular {
            changed.push(format!("{} (link)", relative.display()));
            continue;
        }
        let bytes = std::fs::read(path).unwrap_or_default();
        let same = instructor
            .get(relative)
            .is_some_and(|mine| same_text(&std::fs::read(mine).unwrap_or_default(), &bytes))
            || edition
                .get(relative)
                .is_some_and(|student_edition| same_text(student_edition, &bytes));
        if !same {
            changed.push(relative.display().to_string());
        }
    }
    for relative in instructor.keys() {
        let in_both = edition.contains_key(relative);
        if in_both && !theirs.contains_key(relative) && !own.contains(relative) {
            changed.push(format!("{} (missing)", relative.display()));
        }
    }
    changed
}

/// Equal, but for line endings (a submission checked out on Windows).
fn same_text(a: &[u8], b: &[u8]) -> bool {
    let strip = |t: &[u8]| -> Vec<u8> { t.iter().copied().filter(|&c| c != b'\r').collect() };
    a == b || strip(a) == strip(b)
}

/// Writes `bytes` to `path` only when they differ, so that cargo sees a file
/// as changed only when it is: a re-grade rebuilds only what changed.
fn write_if_different(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, bytes)
}

/// A scratch copy of the instructor's checkout, kept between runs so that a
/// re-grade compiles only what changed. The student files are left as they
/// are (each student's are written in turn): writing the shipped ones back
/// would make every lesson crate build again on every re-grade.
pub fn prepare_scratch(
    instructor: &BTreeMap<PathBuf, PathBuf>,
    scratch: &Path,
    lessons: &[Lesson],
) -> std::io::Result<()> {
    let own: Vec<PathBuf> = student_files(lessons).into_iter().map(|(_, f)| f).collect();
    for (relative, path) in instructor {
        if own.contains(relative) && scratch.join(relative).is_file() {
            continue;
        }
        write_if_different(&scratch.join(relative), &std::fs::read(path)?)?;
    }
    Ok(())
}

/// The student's file(s) of a lesson, as graded: a regular file of theirs, or
/// the shipped one when theirs is missing or a link (which could reach anywhere).
pub fn submitted_file(
    instructor_root: &Path,
    submission: &Path,
    relative: &Path,
) -> std::io::Result<Vec<u8>> {
    let theirs = std::fs::symlink_metadata(submission.join(relative))
        .ok()
        .filter(|m| m.file_type().is_file())
        .and_then(|_| std::fs::read(submission.join(relative)).ok());
    match theirs {
        Some(bytes) => Ok(bytes),
        None => std::fs::read(instructor_root.join(relative)),
    }
}

/// The first link inside a lesson's folder of a submission, relative to the course.
fn link_in(submission: &Path, lesson: &Lesson) -> Option<String> {
    let base = Path::new("lessons").join(&lesson.package);
    course_files(&submission.join(&base))
        .into_iter()
        .find(|(_, path)| std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()))
        .map(|(relative, path)| {
            let to = std::fs::read_link(&path)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            format!("{} -> {to}", base.join(relative).display())
        })
}

/// Flags each student's lessons (see [`crate::copies`]): the reference
/// solution, code from outside the file, a later lesson's `earlier.rs`, a link,
/// another student's file. Grades are left as they are.
pub fn flag_copies(
    root: &Path,
    lessons: &[Lesson],
    students: &[(String, PathBuf)],
    reports: &mut [StudentReport],
) {
    use crate::copies::{Reference, Submitted, flags, tokens};
    let read_tokens = |path: &Path| tokens(&std::fs::read_to_string(path).unwrap_or_default());
    for (i, lesson) in lessons.iter().enumerate() {
        let files: Vec<PathBuf> = lesson
            .files
            .iter()
            .map(|f| Path::new("lessons").join(&lesson.package).join(f))
            .collect();
        let joined = |dir: &Path| -> Vec<String> {
            files
                .iter()
                .flat_map(|f| read_tokens(&dir.join(f)))
                .collect()
        };
        let solution_dir = root.join("solutions").join(&lesson.package);
        let reference = Reference {
            shipped: joined(root),
            solution: lesson
                .files
                .iter()
                .flat_map(|f| read_tokens(&solution_dir.join(f)))
                .collect(),
            earlier: lessons[i + 1..]
                .iter()
                .map(|later| {
                    let path = Path::new("lessons")
                        .join(&later.package)
                        .join("src/earlier.rs");
                    (path.display().to_string(), read_tokens(&root.join(&path)))
                })
                .filter(|(_, t)| !t.is_empty())
                .collect(),
        };
        let class: Vec<Submitted> = students
            .iter()
            .map(|(name, folder)| Submitted {
                student: name.clone(),
                tokens: files
                    .iter()
                    .flat_map(|f| {
                        let bytes = submitted_file(root, folder, f).unwrap_or_default();
                        tokens(&String::from_utf8_lossy(&bytes))
                    })
                    .collect(),
                link: link_in(folder, lesson),
            })
            .collect();
        for (flag, report) in flags(&reference, &class)
            .into_iter()
            .zip(reports.iter_mut())
        {
            if let Some(cell) = report.lessons.get_mut(i) {
                cell.flag = flag;
            }
        }
    }
}

/// Grades one student inside `scratch`: their lesson files in, then every lesson.
pub fn grade_student(
    runner: &Runner,
    lessons: &[Lesson],
    instructor_root: &Path,
    name: &str,
    submission: &Path,
    totals: &Mutex<BTreeMap<String, usize>>,
) -> std::io::Result<Vec<Grade>> {
    let scratch = &runner.root;
    let mut untouched = vec![true; lessons.len()];
    for (i, relative) in student_files(lessons) {
        let shipped = std::fs::read(instructor_root.join(&relative))?;
        // Only a regular file of the student's is taken: a missing file, or a
        // link (which could reach anywhere), leaves the lesson as shipped.
        let bytes = submitted_file(instructor_root, submission, &relative)?;
        if !same_text(&bytes, &shipped) {
            untouched[i] = false;
        }
        write_if_different(&scratch.join(&relative), &bytes)?;
    }
    eprintln!("  {name}: building every lesson's checks");
    let built = runner.build_all(lessons)?;
    let mut grades = Vec::new();
    for (i, lesson) in lessons.iter().enumerate() {
        eprintln!("  {name}: lesson {}", lesson.id);
        let known = totals.lock().unwrap().get(&lesson.id).copied();
        let grade = runner.grade_built(lesson, &built, untouched[i], known)?;
        if grade.total > 0
            && matches!(
                grade.status,
                Status::Passed | Status::Failed | Status::NotStarted
            )
        {
            totals
                .lock()
                .unwrap()
                .insert(lesson.id.clone(), grade.total);
        }
        grades.push(grade);
    }
    Ok(grades)
}

/// The terminal table: students × lessons.
pub fn table(report: &ClassReport, lessons: &[Lesson]) -> String {
    let cell = |l: &LessonReport| {
        let verdict = match l.status {
            Status::Passed => format!("ok {}/{}", l.passed, l.total),
            Status::Failed => format!("{}/{}", l.passed, l.total),
            Status::NotStarted => "-".into(),
            Status::TimedOut => "timeout".into(),
            Status::DoesNotCompile => "no build".into(),
        };
        if l.flag.is_some() {
            verdict + " !"
        } else {
            verdict
        }
    };
    let name_width = report
        .students
        .iter()
        .map(|s| s.student.chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = format!("{:<name_width$}", "Student");
    for lesson in lessons {
        let _ = write!(out, " {:>10}", lesson.id);
    }
    out.push_str("      points  changed elsewhere\n");
    for student in &report.students {
        let _ = write!(out, "{:<name_width$}", student.student);
        for l in &student.lessons {
            let _ = write!(out, " {:>10}", cell(l));
        }
        let _ = write!(
            out,
            " {:>11}",
            format!("{}/{}", student.points, student.max_points)
        );
        let _ = writeln!(
            out,
            "  {}",
            if student.changed_elsewhere.is_empty() {
                "-".to_string()
            } else {
                student.changed_elsewhere.join(", ")
            }
        );
    }
    out.push_str("\nok N/M: passed; N/M: failed (checks passed of all); -: not started; timeout: stopped at the time limit; no build: did not compile; !: flagged, see below.\n");
    let flagged: Vec<String> = report
        .students
        .iter()
        .flat_map(|s| {
            s.lessons.iter().filter_map(move |l| {
                Some(format!(
                    "  {} lesson {}: {}",
                    s.student,
                    l.id,
                    l.flag.as_ref()?
                ))
            })
        })
        .collect();
    if !flagged.is_empty() {
        out.push_str("\nFlagged for a second look (grades are unchanged):\n");
        for line in flagged {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// One row per student, one column per lesson, for a spreadsheet.
pub fn csv(report: &ClassReport, lessons: &[Lesson]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("student,commit,last change,points,max points");
    for lesson in lessons {
        let _ = write!(
            out,
            ",lesson {0} status,lesson {0} passed,lesson {0} total,lesson {0} points,lesson {0} flag",
            lesson.id
        );
    }
    out.push_str(",changed elsewhere\n");
    for s in &report.students {
        let _ = write!(
            out,
            "{},{},{},{},{}",
            quote(&s.student),
            s.commit.as_deref().unwrap_or(""),
            s.last_change.as_deref().unwrap_or(""),
            s.points,
            s.max_points
        );
        for l in &s.lessons {
            let _ = write!(
                out,
                ",{},{},{},{},{}",
                l.status.words(),
                l.passed,
                l.total,
                l.points,
                quote(l.flag.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(out, ",{}", quote(&s.changed_elsewhere.join("; ")));
    }
    out
}

/// One self-contained page: the class at a glance, each cell's first failing
/// check on hover and on click.
pub fn html(report: &ClassReport, lessons: &[Lesson]) -> String {
    let e = mock_provider::escape_html;
    let mut out = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>OAuth2 Lab: class report</title><style>\
         body{font-family:system-ui,sans-serif;margin:2rem;color:#222}\
         table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;font-size:.9rem}\
         th{background:#f4f4f4}td.passed{background:#d9f2d9}td.failed{background:#fde2c8}\
         td.not-started{background:#eee;color:#777}td.timed-out,td.did-not-compile{background:#f8cfcf}\
         details summary{cursor:pointer}details p{margin:.3rem 0 0;max-width:22rem;font-family:monospace;font-size:.8rem}\
         .elsewhere{color:#a00;font-size:.85rem}td.flagged{outline:3px solid #c00;outline-offset:-3px}</style></head><body>\n\
         <h1>Class report</h1>\n<p>Each cell: checks passed of all. Hover or click a cell for its first failing check. A cell outlined in red and marked ⚑ is flagged for a second look (its grade is unchanged).</p>\n<table><tr><th>Student</th>",
    );
    for lesson in lessons {
        let _ = write!(
            out,
            "<th title=\"{}\">{}</th>",
            e(&lesson.title),
            e(&lesson.id)
        );
    }
    out.push_str("<th>Points</th><th>Changed outside the lesson files</th></tr>\n");
    for s in &report.students {
        let _ = write!(out, "<tr><th>{}</th>", e(&s.student));
        for l in &s.lessons {
            let mut class = l.status.words().replace(' ', "-");
            let mut detail = [l.first_failure.as_deref(), l.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            let mut summary = match l.status {
                Status::NotStarted => "not started".to_string(),
                Status::TimedOut | Status::DoesNotCompile => l.status.words().to_string(),
                _ => format!("{}/{}", l.passed, l.total),
            };
            if let Some(flag) = &l.flag {
                class.push_str(" flagged");
                summary.push_str(" ⚑");
                if !detail.is_empty() {
                    detail.push_str(" — ");
                }
                detail.push_str(&format!("flagged: {flag}"));
            }
            if detail.is_empty() {
                let _ = write!(out, "<td class=\"{class}\">{}</td>", e(&summary));
            } else {
                let _ = write!(
                    out,
                    "<td class=\"{class}\" title=\"{0}\"><details><summary>{1}</summary><p>{0}</p></details></td>",
                    e(&detail),
                    e(&summary)
                );
            }
        }
        let _ = write!(
            out,
            "<td>{}</td>",
            e(&format!("{}/{}", s.points, s.max_points))
        );
        let _ = writeln!(
            out,
            "<td class=\"elsewhere\">{}</td></tr>",
            s.changed_elsewhere
                .iter()
                .map(|p| e(p))
                .collect::<Vec<_>>()
                .join("<br>")
        );
    }
    out.push_str("</table>\n</body></html>\n");
    out
}

/// Gradescope's autograder `results.json` for one student: a test per lesson,
/// scored by its points (lessons.toml). Flags are not in it: students may
/// see these results, and a flag is for the instructor to look into.
pub fn gradescope(student: &StudentReport, lessons: &[Lesson]) -> serde_json::Value {
    let tests: Vec<serde_json::Value> = student
        .lessons
        .iter()
        .zip(lessons)
        .map(|(l, lesson)| {
            let mut output = l.status.words().to_string();
            if let Some(first) = &l.first_failure {
                let _ = write!(output, ": {first}");
            }
            if let Some(message) = &l.message {
                let _ = write!(output, " — {message}");
            }
            serde_json::json!({
                "name": format!("Lesson {}: {}", lesson.id, lesson.title),
                "score": l.points,
                "max_score": l.max_points,
                "status": if l.status == Status::Passed { "passed" } else { "failed" },
                "output": output,
            })
        })
        .collect();
    let mut output = String::new();
    if !student.changed_elsewhere.is_empty() {
        let _ = write!(
            output,
            "Changed outside the lesson files (not used for grading): {}",
            student.changed_elsewhere.join(", ")
        );
    }
    serde_json::json!({ "tests": tests, "output": output })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lessons() -> Vec<Lesson> {
        vec![Lesson::example()]
    }

    fn tree(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "lab-class-{}-{}",
            std::process::id(),
            files.len() * 1000 + files.iter().map(|f| f.1.len()).sum::<usize>()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    #[test]
    fn changed_elsewhere_lists_changed_added_and_missing_files_only() {
        let mine = tree(&[
            ("solutions/lesson03/src/lib.rs", "the answer"),
            ("tests/src/lesson03.rs", "the checks"),
            ("lessons/lesson03/src/lib.rs", "todo!()"),
            ("README.md", "readme\n"),
            ("Cargo.lock", "lock"),
        ]);
        let theirs = tree(&[
            ("tests/src/lesson03.rs", "checks that always pass"),
            ("lessons/lesson03/src/lib.rs", "the student's answer"),
            ("README.md", "readme\r\n"),
            ("notes.txt", "mine"),
            ("target/debug/x", "built"),
            ("posts.jsonl", "{}"),
        ]);
        let edition: crate::edition::Files = course_files(&mine)
            .into_iter()
            .filter(|(p, _)| !p.starts_with("solutions"))
            .map(|(p, path)| (p, std::fs::read(path).unwrap()))
            .chain([(PathBuf::from("Cargo.lock"), b"pruned lock".to_vec())])
            .collect();
        let changed = changed_elsewhere(&course_files(&mine), &edition, &theirs, &lessons());
        assert_eq!(
            changed,
            ["notes.txt", "tests/src/lesson03.rs", "Cargo.lock (missing)"]
        );
        // A student who started from the student edition: no solutions, its lock file.
        #[cfg(unix)]
        {
            std::fs::write(theirs.join("Cargo.lock"), "pruned lock").unwrap();
            std::fs::remove_file(theirs.join("tests/src/lesson03.rs")).unwrap();
            std::os::unix::fs::symlink("../solutions/x.rs", theirs.join("tests/src/lesson03.rs"))
                .unwrap();
            let changed = changed_elsewhere(&course_files(&mine), &edition, &theirs, &lessons());
            assert_eq!(changed, ["notes.txt", "tests/src/lesson03.rs (link)"]);
        }
        let _ = std::fs::remove_dir_all(mine);
        let _ = std::fs::remove_dir_all(theirs);
    }

    fn report() -> ClassReport {
        ClassReport {
            students: vec![StudentReport {
                student: "<eve>".into(),
                commit: Some("0123abc".into()),
                last_change: Some("2026-11-30T21:00:00Z".into()),
                points: 8.18,
                max_points: 10.0,
                lessons: vec![LessonReport {
                    id: "03".into(),
                    status: Status::Failed,
                    passed: 9,
                    total: 11,
                    first_failure: Some("state_is_long_random_and_url_safe".into()),
                    message: Some("the state <script> is short".into()),
                    points: 8.18,
                    max_points: 10.0,
                    flag: Some("87% like <bob>'s (of what each wrote)".into()),
                }],
                changed_elsewhere: vec!["tests/src/lib.rs".into()],
            }],
        }
    }

    #[test]
    fn the_html_report_is_self_contained_and_escaped() {
        let html = html(&report(), &lessons());
        assert!(html.contains("&lt;eve&gt;") && !html.contains("<eve>"));
        assert!(html.contains("the state &lt;script&gt; is short"));
        assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="));
        assert!(html.contains("<details><summary>9/11 ⚑</summary>"));
        assert!(
            html.contains("flagged: 87% like &lt;bob&gt;&#39;s")
                || html.contains("flagged: 87% like &lt;bob&gt;'s"),
            "{html}"
        );
        assert!(html.contains("class=\"failed flagged\""));
    }

    #[test]
    fn json_csv_and_gradescope_have_their_shapes() {
        let json = serde_json::to_value(report()).unwrap();
        assert_eq!(json["students"][0]["lessons"][0]["status"], "failed");
        assert_eq!(
            json["students"][0]["changed_elsewhere"][0],
            "tests/src/lib.rs"
        );
        assert_eq!(json["students"][0]["lessons"][0]["points"], 8.18);
        assert_eq!(json["students"][0]["commit"], "0123abc");
        assert!(json["students"][0]["lessons"][0]["flag"].is_string());
        let csv = csv(&report(), &lessons());
        assert_eq!(
            csv.lines().collect::<Vec<_>>(),
            [
                "student,commit,last change,points,max points,lesson 03 status,lesson 03 passed,lesson 03 total,lesson 03 points,lesson 03 flag,changed elsewhere",
                "\"<eve>\",0123abc,2026-11-30T21:00:00Z,8.18,10,failed,9,11,8.18,\"87% like <bob>'s (of what each wrote)\",\"tests/src/lib.rs\""
            ]
        );
        let results = gradescope(&report().students[0], &lessons());
        assert_eq!(results["tests"][0]["score"], 8.18);
        assert_eq!(results["tests"][0]["max_score"], 10.0);
        assert!(
            !results.to_string().contains("like"),
            "no flag for students to see"
        );
        let table = table(&report(), &lessons());
        assert!(table.contains("9/11 !"), "{table}");
        assert!(
            table.contains("<eve> lesson 03: 87% like <bob>'s"),
            "{table}"
        );
        assert_eq!(results["tests"][0]["name"], "Lesson 03: Ask for permission");
    }
}
