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
    pub student: String,
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
        }
    }
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

/// What differs between a submission and the instructor's checkout outside
/// the student files: changed, added and missing files.
pub fn changed_elsewhere(
    instructor: &BTreeMap<PathBuf, PathBuf>,
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
        let same = instructor.get(relative).is_some_and(|mine| {
            std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
                && same_text(
                    &std::fs::read(mine).unwrap_or_default(),
                    &std::fs::read(path).unwrap_or_default(),
                )
        });
        if !same {
            changed.push(relative.display().to_string());
        }
    }
    for relative in instructor.keys() {
        if !theirs.contains_key(relative) && !own.contains(relative) {
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
/// re-grade compiles only what changed.
pub fn prepare_scratch(
    instructor: &BTreeMap<PathBuf, PathBuf>,
    scratch: &Path,
) -> std::io::Result<()> {
    for (relative, path) in instructor {
        write_if_different(&scratch.join(relative), &std::fs::read(path)?)?;
    }
    Ok(())
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
        let theirs = std::fs::symlink_metadata(submission.join(&relative))
            .ok()
            .filter(|m| m.file_type().is_file())
            .and_then(|_| std::fs::read(submission.join(&relative)).ok());
        let bytes = theirs.unwrap_or_else(|| shipped.clone());
        if !same_text(&bytes, &shipped) {
            untouched[i] = false;
        }
        write_if_different(&scratch.join(&relative), &bytes)?;
    }
    let mut grades = Vec::new();
    for (i, lesson) in lessons.iter().enumerate() {
        eprintln!("  {name}: lesson {}", lesson.id);
        let known = totals.lock().unwrap().get(&lesson.id).copied();
        let grade = runner.grade(lesson, &lesson.package, untouched[i], known)?;
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
    let cell = |l: &LessonReport| match l.status {
        Status::Passed => format!("ok {}/{}", l.passed, l.total),
        Status::Failed => format!("{}/{}", l.passed, l.total),
        Status::NotStarted => "-".into(),
        Status::TimedOut => "timeout".into(),
        Status::DoesNotCompile => "no build".into(),
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
        let _ = write!(out, " {:>8}", lesson.id);
    }
    out.push_str("  changed elsewhere\n");
    for student in &report.students {
        let _ = write!(out, "{:<name_width$}", student.student);
        for l in &student.lessons {
            let _ = write!(out, " {:>8}", cell(l));
        }
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
    out.push_str("\nok N/M: passed; N/M: failed (checks passed of all); -: not started; timeout: stopped at the time limit; no build: did not compile.\n");
    out
}

/// One row per student, one column per lesson, for a spreadsheet.
pub fn csv(report: &ClassReport, lessons: &[Lesson]) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let mut out = String::from("student");
    for lesson in lessons {
        let _ = write!(
            out,
            ",lesson {0} status,lesson {0} passed,lesson {0} total",
            lesson.id
        );
    }
    out.push_str(",changed elsewhere\n");
    for s in &report.students {
        out.push_str(&quote(&s.student));
        for l in &s.lessons {
            let _ = write!(out, ",{},{},{}", l.status.words(), l.passed, l.total);
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
         .elsewhere{color:#a00;font-size:.85rem}</style></head><body>\n\
         <h1>Class report</h1>\n<p>Each cell: checks passed of all. Hover or click a cell for its first failing check.</p>\n<table><tr><th>Student</th>",
    );
    for lesson in lessons {
        let _ = write!(
            out,
            "<th title=\"{}\">{}</th>",
            e(&lesson.title),
            e(&lesson.id)
        );
    }
    out.push_str("<th>Changed outside the lesson files</th></tr>\n");
    for s in &report.students {
        let _ = write!(out, "<tr><th>{}</th>", e(&s.student));
        for l in &s.lessons {
            let class = l.status.words().replace(' ', "-");
            let detail = [l.first_failure.as_deref(), l.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ");
            let summary = match l.status {
                Status::NotStarted => "not started".to_string(),
                Status::TimedOut | Status::DoesNotCompile => l.status.words().to_string(),
                _ => format!("{}/{}", l.passed, l.total),
            };
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
/// scored by checks passed.
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
                "score": if l.status == Status::NotStarted { 0 } else { l.passed },
                "max_score": l.total,
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
        let changed = changed_elsewhere(&course_files(&mine), &theirs, &lessons());
        assert_eq!(
            changed,
            ["notes.txt", "tests/src/lesson03.rs", "Cargo.lock (missing)"]
        );
        let _ = std::fs::remove_dir_all(mine);
        let _ = std::fs::remove_dir_all(theirs);
    }

    fn report() -> ClassReport {
        ClassReport {
            students: vec![StudentReport {
                student: "<eve>".into(),
                lessons: vec![LessonReport {
                    id: "03".into(),
                    status: Status::Failed,
                    passed: 9,
                    total: 11,
                    first_failure: Some("state_is_long_random_and_url_safe".into()),
                    message: Some("the state <script> is short".into()),
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
        assert!(html.contains("<details><summary>9/11</summary>"));
    }

    #[test]
    fn json_csv_and_gradescope_have_their_shapes() {
        let json = serde_json::to_value(report()).unwrap();
        assert_eq!(json["students"][0]["lessons"][0]["status"], "failed");
        assert_eq!(
            json["students"][0]["changed_elsewhere"][0],
            "tests/src/lib.rs"
        );
        let csv = csv(&report(), &lessons());
        assert_eq!(
            csv.lines().collect::<Vec<_>>(),
            [
                "student,lesson 03 status,lesson 03 passed,lesson 03 total,changed elsewhere",
                "\"<eve>\",failed,9,11,\"tests/src/lib.rs\""
            ]
        );
        let results = gradescope(&report().students[0], &lessons());
        assert_eq!(results["tests"][0]["score"], 9);
        assert_eq!(results["tests"][0]["max_score"], 11);
        assert_eq!(results["tests"][0]["name"], "Lesson 03: Ask for permission");
    }
}
