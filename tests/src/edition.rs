//! The student edition: the course without the reference answers, as
//! `cargo grade --student-edition DIR` writes it.
//!
//! Left out: `solutions/`, and every check of `tests/tests/` that compiles a
//! solution crate. Changed: the workspace's members (no `solutions/`), the
//! `lab-tests` manifest (no solution dev-dependencies), each lesson's solution
//! page (a short note in its place, so `SUMMARY.md` stays valid) and
//! `Cargo.lock` (the caller prunes it with cargo). Added: GitHub Classroom's
//! autograding workflow. Everything else is the instructor's file, byte for byte.
//!
//! The edition says what it is in its `Cargo.toml` (`[workspace.metadata.lab]
//! edition = "student"`): the course checks that need the solutions skip them
//! there, and nowhere else.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::course::Lesson;

/// The files of the edition: path relative to the course folder, and content.
pub type Files = BTreeMap<PathBuf, Vec<u8>>;

/// The line of `Cargo.toml` that marks the student edition.
const MARK: &str = "[workspace.metadata.lab]\nedition = \"student\"\n";

/// Whether the course at `root` is the student edition.
pub fn is_student_edition(root: &Path) -> bool {
    std::fs::read_to_string(root.join("Cargo.toml")).is_ok_and(|t| t.contains(MARK))
}

/// The course's own files: what git tracks (and new files it does not ignore)
/// when `root` is a git checkout, else every file but build output.
pub fn course_files(root: &Path) -> BTreeMap<PathBuf, PathBuf> {
    let listed = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success() && !o.stdout.is_empty());
    match listed {
        Some(out) => out
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .filter(|p| root.join(p).is_file())
            .map(|p| (p.clone(), root.join(p)))
            .collect(),
        None => crate::class::course_files(root),
    }
}

/// The student edition of the course at `root`, in memory.
pub fn student_edition(root: &Path, lessons: &[Lesson]) -> Result<Files, String> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let solution_crates: Vec<&str> = lessons.iter().map(|l| l.solution.as_str()).collect();
    let solution_pages: Vec<PathBuf> = lessons
        .iter()
        .map(|l| Path::new("book/src").join(solution_page(l)))
        .collect();
    let mut files = Files::new();
    for (relative, path) in course_files(root) {
        if relative.starts_with("solutions") {
            continue;
        }
        let bytes = read(&path)?;
        let text = String::from_utf8_lossy(&bytes);
        // A check that compiles or runs a solution (tests/tests/browser.rs
        // calls `solution05::…`; tests/tests/mix_up.rs runs "solution03").
        let uses_a_solution = relative.starts_with("tests/tests")
            && solution_crates
                .iter()
                .any(|s| text.contains(&format!("{s}::")) || text.contains(&format!("\"{s}\"")));
        if uses_a_solution {
            continue;
        }
        let bytes = if relative == Path::new("Cargo.toml") {
            workspace_manifest(&text)?.into_bytes()
        } else if relative == Path::new("tests/Cargo.toml") {
            without_solution_lines(&text).into_bytes()
        } else if let Some(i) = solution_pages.iter().position(|p| *p == relative) {
            solution_note(&lessons[i]).into_bytes()
        } else {
            bytes
        };
        files.insert(relative, bytes);
    }
    files.insert(
        PathBuf::from(".github/workflows/classroom.yml"),
        classroom_workflow(lessons).into_bytes(),
    );
    Ok(files)
}

/// `lessonNN/solution.md`, beside the lesson's chapter.
pub fn solution_page(lesson: &Lesson) -> String {
    lesson.chapter.replace("index.md", "solution.md")
}

/// The workspace manifest without the solutions among its members, marked as
/// the student edition.
fn workspace_manifest(text: &str) -> Result<String, String> {
    let mut out = String::new();
    for line in text.lines() {
        let key = line.split('=').next().unwrap_or("").trim();
        if key == "members" || key == "default-members" {
            let (head, list) = line.split_once('=').unwrap();
            let items: Vec<&str> = list
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .split(',')
                .map(str::trim)
                .filter(|i| !i.is_empty() && !i.trim_matches('"').starts_with("solutions/"))
                .collect();
            let _ = writeln!(out, "{}= [{}]", head, items.join(", "));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(
        "\n# The student edition (`cargo grade --student-edition`): no reference answers.\n",
    );
    out.push_str(MARK);
    let parsed: toml::Table = out
        .parse()
        .map_err(|e| format!("the student edition's Cargo.toml does not parse: {e}"))?;
    let members = format!("{:?}", parsed["workspace"]["members"]);
    if members.contains("solutions/") || !members.contains("lessons/") {
        return Err(format!(
            "Cargo.toml: cannot take the solutions out of members = {members}: keep each array on one line"
        ));
    }
    Ok(out)
}

/// A manifest without its dependencies on solution crates, and without the
/// comment right above them.
fn without_solution_lines(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.contains("../solutions/") {
            while out.last().is_some_and(|l| l.trim_start().starts_with('#')) {
                out.pop();
            }
            continue;
        }
        out.push(line);
    }
    out.join("\n") + "\n"
}

/// What a solution page says in the student edition.
fn solution_note(lesson: &Lesson) -> String {
    format!(
        "# Solution: Lesson {id}\n\n\
         This is the student edition of the course: the reference answer (the package\n\
         `{solution}`) is not part of it, your instructor has it.\n\n\
         <!-- solution listing: {solution} -->\n\n\
         Check your own work with `cargo test -p {package}`, or let `cargo lab` watch it; its\n\
         hints (`cargo lab hint {id}`) come one at a time, from a nudge to a near-answer.\n",
        id = lesson.id,
        solution = lesson.solution,
        package = lesson.package,
    )
}

/// GitHub Classroom's autograding: one step a lesson, worth its points, and
/// the reporter that sums them on the assignment's page.
pub fn classroom_workflow(lessons: &[Lesson]) -> String {
    let mut out = String::from(
        "# GitHub Classroom's autograding: a step a lesson (its checks, worth its points\n\
         # in lessons/lessons.toml), then the report that adds them up. It runs in the\n\
         # student's own repository, with the student's own copy of the checks: a\n\
         # convenience for students, not the grade. For the marks, clone every\n\
         # repository into one folder and run `cargo grade --class` on it (see the\n\
         # instructor guide, book/src/appendix/instructor.md).\n\
         name: Autograding\n\
         on: [push, repository_dispatch]\n\
         permissions:\n  checks: write\n  actions: read\n  contents: read\n\
         jobs:\n  run-autograding-tests:\n    runs-on: ubuntu-latest\n    \
         if: github.actor != 'github-classroom[bot]'\n    steps:\n\
         \x20     - uses: actions/checkout@v4\n\
         \x20     - name: Build the checks once\n\
         \x20       run: cargo test --workspace --locked --no-run\n",
    );
    let mut ids = Vec::new();
    for lesson in lessons {
        let id = format!("lesson{}", lesson.id);
        let _ = write!(
            out,
            "      - name: Lesson {nn}\n        id: {id}\n        \
             uses: classroom-resources/autograding-command-grader@v1\n        with:\n          \
             test-name: \"Lesson {nn}: {title}\"\n          \
             command: cargo test --locked -p {package} --test check\n          \
             timeout: 10\n          max-score: {points}\n",
            nn = lesson.id,
            title = lesson.title.replace('"', "'"),
            package = lesson.package,
            points = lesson.points(),
        );
        ids.push(id);
    }
    let _ = write!(
        out,
        "      - name: Autograding Reporter\n        \
         uses: classroom-resources/autograding-grading-reporter@v1\n        env:\n"
    );
    for id in &ids {
        let _ = writeln!(
            out,
            "          {}_RESULTS: \"${{{{steps.{id}.outputs.result}}}}\"",
            id.to_uppercase()
        );
    }
    let _ = writeln!(out, "        with:\n          runners: {}", ids.join(","));
    out
}

/// Writes `files` into `dir`, which must not exist yet or be empty; the
/// executable bit of each file is the instructor's.
pub fn write(root: &Path, files: &Files, dir: &Path) -> Result<(), String> {
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(format!(
            "{} is not empty: give a new folder for the student edition",
            dir.display()
        ));
    }
    for (relative, bytes) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if let Ok(meta) = std::fs::metadata(root.join(relative)) {
            let _ = std::fs::set_permissions(&path, meta.permissions());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::{lessons, root};

    /// The edition of this very checkout: no answer in it, a workspace and a
    /// book that still hold together.
    #[test]
    fn the_edition_has_no_reference_answer_and_stays_whole() {
        let root = root();
        if is_student_edition(&root) {
            eprintln!("this is the student edition: it is written from the instructor's");
            return;
        }
        let lessons = lessons(&root).unwrap();
        let files = student_edition(&root, &lessons).unwrap();
        assert!(files.keys().all(|p| !p.starts_with("solutions")));
        let answers: Vec<String> = lessons
            .iter()
            .map(|l| std::fs::read_to_string(l.solution_dir(&root).join("src/lib.rs")).unwrap())
            .collect();
        for (path, bytes) in &files {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !answers.iter().any(|a| *a == text),
                "{} is a reference answer",
                path.display()
            );
            assert!(
                !path.starts_with("book/src") || !text.contains("{{#include ../../../solutions/"),
                "{} shows a solution",
                path.display()
            );
        }
        let manifest = String::from_utf8_lossy(&files[Path::new("Cargo.toml")]).into_owned();
        let manifest: toml::Table = manifest.parse().unwrap();
        for key in ["members", "default-members"] {
            let list = format!("{:?}", manifest["workspace"][key]);
            assert!(!list.contains("solutions"), "{key}: {list}");
            assert!(list.contains("\"tests\""), "{key}: {list}");
        }
        let tests = String::from_utf8_lossy(&files[Path::new("tests/Cargo.toml")]).into_owned();
        assert!(!tests.contains("solution"), "{tests}");
        for runs_solutions in ["tests/tests/browser.rs", "tests/tests/mix_up.rs"] {
            assert!(
                !files.contains_key(Path::new(runs_solutions)),
                "{runs_solutions}"
            );
        }
        assert!(files.contains_key(Path::new("tests/tests/course.rs")));
        for lesson in &lessons {
            let page = Path::new("book/src").join(solution_page(lesson));
            let note = String::from_utf8_lossy(&files[&page]).into_owned();
            assert!(
                note.contains(&lesson.solution) && note.len() < 600,
                "{note}"
            );
        }
        let summary = &files[Path::new("book/src/SUMMARY.md")];
        assert_eq!(
            summary,
            &std::fs::read(root.join("book/src/SUMMARY.md")).unwrap()
        );
        let workflow =
            String::from_utf8_lossy(&files[Path::new(".github/workflows/classroom.yml")])
                .into_owned();
        for lesson in &lessons {
            assert!(workflow.contains(&format!("-p {} --test check", lesson.package)));
        }
    }

    #[test]
    fn only_the_solutions_leave_the_members() {
        let manifest = "[workspace]\nresolver = \"3\"\nmembers = [\"lessons/lesson*\", \"solutions/lesson*\", \"tests\"]\ndefault-members = [\"solutions/lesson*\", \"tests\"]\n";
        let edition = workspace_manifest(manifest).unwrap();
        assert!(edition.contains("members = [\"lessons/lesson*\", \"tests\"]\n"));
        assert!(edition.contains("default-members = [\"tests\"]\n"));
        assert!(edition.ends_with(MARK));
        let dev = "[dev-dependencies]\ngetrandom.workspace = true\n# the browser test\nsolution05 = { path = \"../solutions/lesson05\" }\n";
        assert_eq!(
            without_solution_lines(dev),
            "[dev-dependencies]\ngetrandom.workspace = true\n"
        );
    }
}
