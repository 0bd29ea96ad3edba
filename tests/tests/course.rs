//! Course checks (like rustlings' `dev check`): `lessons/lessons.toml` is the one
//! list of lessons, and everything that must still be spelled once per lesson is
//! compared with it here, each failure naming the line to add. The lesson as
//! shipped stopping at its `todo!()`s is each solution's `tests/shipped.rs`; each
//! solution passing its suite is its `tests/check.rs`.
//!
//! CONTRIBUTING.md has the checklist for adding a lesson.
//!
//! In the student edition (`cargo grade --student-edition`) there are no
//! solutions: what concerns them is skipped there, and only there.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use lab_tests::course::{Lesson, lessons, root};
use lab_tests::edition::is_student_edition;

fn all_lessons() -> Vec<Lesson> {
    lessons(&root()).unwrap_or_else(|e| panic!("{e}"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn manifest(dir: &Path) -> toml::Table {
    let path = dir.join("Cargo.toml");
    read(&path)
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `dir`'s files, relative to it, skipping `target/`.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeSet<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if entry.file_name() != "target" {
                    walk(&path, base, out);
                }
            } else {
                out.insert(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// Where two texts first differ, for a failure message.
fn first_difference(a: &str, b: &str) -> String {
    let (a, b): (Vec<_>, Vec<_>) = (a.lines().collect(), b.lines().collect());
    let line = (0..a.len().max(b.len()))
        .find(|&i| a.get(i) != b.get(i))
        .unwrap_or(a.len());
    format!(
        "Line {}: {:?} in the lesson, {:?} in the solution",
        line + 1,
        a.get(line).copied().unwrap_or("(end of file)"),
        b.get(line).copied().unwrap_or("(end of file)")
    )
}

#[test]
fn lessons_toml_is_complete_and_in_course_order() {
    let lessons = all_lessons();
    assert!(!lessons.is_empty());
    let mut previous = 0;
    for lesson in &lessons {
        let id = lesson.id.clone();
        let number: u32 = id.parse().unwrap_or(0);
        assert!(
            id.len() == 2 && number > previous,
            "lesson {id:?}: ids are two digits, in course order"
        );
        previous = number;
        assert_eq!(lesson.package, format!("lesson{id}"));
        assert_eq!(lesson.solution, format!("solution{id}"));
        assert_eq!(
            lesson.chapter,
            format!("lesson{id}/index.md"),
            "the book mirrors lessons/ one to one"
        );
        assert!(!lesson.title.trim().is_empty(), "lesson {id} needs a title");
        // Measured by the method in lessons.toml's header; a long lesson is
        // split in parts (sittings), never given a lower figure.
        assert!(
            (5..=180).contains(&lesson.minutes),
            "lesson {id}: minutes should be 5 to 180"
        );
        check_parts(lesson);
        assert!(
            !lesson.steps.is_empty(),
            "lesson {id}: the steps of its todo!()s"
        );
        assert!(
            lesson.files.iter().any(|f| f == "src/lib.rs"),
            "lesson {id}: files names what the student writes, src/lib.rs at least"
        );
        assert!(
            lesson.hints.len() >= 2,
            "lesson {id}: at least two hints, a nudge then a near-answer"
        );
        assert!(
            lesson.hints.iter().all(|h| h.len() > 20),
            "lesson {id}: a hint must say something"
        );
    }
}

/// The folders, crates and files of each lesson, and nothing without an entry.
#[test]
fn every_lesson_of_lessons_toml_has_its_crates_and_suite() {
    let root = root();
    let lessons = all_lessons();
    let suites_lib = read(&root.join("tests/src/lib.rs"));
    for lesson in &lessons {
        let (id, package, solution) = (&lesson.id, &lesson.package, &lesson.solution);
        let suite = format!("lesson{id}_suite");
        let mut crates = vec![(lesson.dir(&root), package)];
        if !is_student_edition(&root) {
            crates.push((lesson.solution_dir(&root), solution));
        }
        for (dir, name) in crates {
            let found = manifest(&dir)["package"]["name"].as_str().map(String::from);
            assert_eq!(
                found.as_deref(),
                Some(name.as_str()),
                "{}: name = \"{name}\" in [package]",
                dir.join("Cargo.toml").display()
            );
            let check = dir.join("tests/check.rs");
            assert_eq!(
                std::fs::read_to_string(&check).unwrap_or_default().trim(),
                format!("lab_tests::{suite}!({name});"),
                "{}: the one line `lab_tests::{suite}!({name});`",
                check.display()
            );
        }
        assert!(
            root.join(format!("tests/src/{package}.rs")).is_file(),
            "lesson {id}'s suite is tests/src/{package}.rs"
        );
        assert!(
            suites_lib
                .lines()
                .any(|l| l.trim() == format!("pub mod {package};")),
            "tests/src/lib.rs: add the line `pub mod {package};` (under `#[cfg(feature = \"replicas\")]` if the suite uses httpmock)"
        );
        if is_student_edition(&root) {
            continue;
        }
        let shipped = lesson.solution_dir(&root).join("tests/shipped.rs");
        assert_eq!(
            std::fs::read_to_string(&shipped).unwrap_or_default().trim(),
            format!("lab_tests::shipped!({package}, {suite});"),
            "{}: the one line `lab_tests::shipped!({package}, {suite});`",
            shipped.display()
        );
        let dev = manifest(&lesson.solution_dir(&root))
            .get("dev-dependencies")
            .and_then(|d| d.get(package.as_str()))
            .and_then(|d| d.get("path"))
            .and_then(|p| p.as_str())
            .map(String::from);
        assert_eq!(
            dev.as_deref(),
            Some(format!("../../lessons/{package}").as_str()),
            "solutions/{package}/Cargo.toml: [dev-dependencies] {package} = {{ path = \"../../lessons/{package}\" }} (for tests/shipped.rs)"
        );
    }
    let known = |name: &str| lessons.iter().any(|l| l.package == name);
    for entry in std::fs::read_dir(root.join("lessons")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if entry.path().is_dir() {
            assert!(
                known(&name),
                "lessons/{name} has no entry in lessons/lessons.toml"
            );
        }
    }
    assert_eq!(
        root.join("solutions").exists(),
        !is_student_edition(&root),
        "solutions/ is in the instructor's checkout, never in the student edition"
    );
    for entry in std::fs::read_dir(root.join("solutions"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().to_string();
        assert!(
            known(&name),
            "solutions/{name} has no entry in lessons/lessons.toml"
        );
    }
    for line in suites_lib.lines() {
        if let Some(module) = line.trim().strip_prefix("pub mod lesson") {
            let package = format!("lesson{}", module.trim_end_matches(';'));
            assert!(
                known(&package),
                "tests/src/lib.rs has `pub mod {package};` but lessons/lessons.toml no entry for it"
            );
        }
    }
}

/// A lesson's and its solution's crates are the same program but for the
/// student's file (`src/lib.rs`): every other file is identical, the crate name
/// aside, so nothing a student is given differs from what the solution is
/// checked with. `src/main.rs` differs in exactly one line, `use NAME as lesson;`.
#[test]
fn a_lesson_and_its_solution_differ_only_in_the_student_s_file() {
    let root = root();
    if is_student_edition(&root) {
        eprintln!("the student edition has no solutions to compare with");
        return;
    }
    for lesson in all_lessons() {
        let (package, solution) = (&lesson.package, &lesson.solution);
        let (lesson_dir, solution_dir) = (lesson.dir(&root), lesson.solution_dir(&root));
        let (ours, theirs) = (files(&lesson_dir), files(&solution_dir));
        for file in &ours {
            let shown = format!("lessons/{package}/{}", file.display());
            assert!(
                theirs.contains(file),
                "{shown} has no counterpart in solutions/{package}/"
            );
            let student = lesson.files.iter().any(|f| Path::new(f) == file);
            let compared = file == Path::new("Cargo.toml") || file.starts_with("tests");
            if student || compared {
                continue;
            }
            let a = read(&lesson_dir.join(file));
            let b = read(&solution_dir.join(file));
            if file == Path::new("src/main.rs") {
                let differing: Vec<_> = a.lines().zip(b.lines()).filter(|(x, y)| x != y).collect();
                assert!(
                    a.lines().count() == b.lines().count()
                        && differing
                            == [(
                                format!("use {package} as lesson;").as_str(),
                                format!("use {solution} as lesson;").as_str()
                            )],
                    "{shown} and its solution's are the same program: only the line `use {package} as lesson;` / `use {solution} as lesson;` may differ, got {differing:?}"
                );
            } else {
                let b = b.replace(solution.as_str(), package);
                assert!(
                    a == b,
                    "{shown} must be identical in solutions/{package}/ (the crate name aside): it is what the student is given. {}",
                    first_difference(&a, &b)
                );
            }
        }
        for file in theirs.difference(&ours) {
            assert!(
                file.starts_with("tests"),
                "solutions/{package}/{} has no counterpart in lessons/{package}/ (only tests may be the solution's own)",
                file.display()
            );
        }
        // Cargo.toml: the same dependencies; the lesson adds only its lint allowances.
        let (a, b) = (manifest(&lesson_dir), manifest(&solution_dir));
        assert_eq!(
            a.get("dependencies"),
            b.get("dependencies"),
            "lessons/{package}/Cargo.toml and its solution's have the same [dependencies]"
        );
        let (a_dev, b_dev) = (
            a.get("dev-dependencies").and_then(|d| d.as_table()),
            b.get("dev-dependencies").and_then(|d| d.as_table()),
        );
        for (name, spec) in a_dev.into_iter().flatten() {
            assert_eq!(
                b_dev.and_then(|d| d.get(name)),
                Some(spec),
                "solutions/{package}/Cargo.toml has the lesson's dev-dependency {name} = {spec:?}"
            );
        }
        assert!(
            b.get("lints").is_none(),
            "solutions/{package}/Cargo.toml allows no lints: the reference answer compiles without warnings"
        );
        let lints = a.get("lints").and_then(|l| l.get("rust"));
        for allowed in ["unused_imports", "unused_variables", "dead_code"] {
            assert_eq!(
                lints.and_then(|l| l.get(allowed)).and_then(|v| v.as_str()),
                Some("allow"),
                "lessons/{package}/Cargo.toml: [lints.rust] {allowed} = \"allow\" (an unfinished lesson has unused code; the student's file carries no allowances)"
            );
        }
        // No crate depends on another lesson's: a solution on its own lesson only,
        // as a dev-dependency.
        let lesson_crate = |name: &str| name.starts_with("lesson") || name.starts_with("solution");
        for (dir, table) in [(&lesson_dir, &a), (&solution_dir, &b)] {
            for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
                for name in table
                    .get(section)
                    .and_then(|d| d.as_table())
                    .into_iter()
                    .flatten()
                    .map(|(n, _)| n)
                {
                    let allowed =
                        section == "dev-dependencies" && dir == &solution_dir && name == package;
                    assert!(
                        !lesson_crate(name) || allowed,
                        "{}/Cargo.toml: [{section}] {name}: a lesson never depends on another lesson's crate",
                        dir.display()
                    );
                }
            }
        }
        for file in &lesson.files {
            assert!(
                lesson_dir.join(file).is_file(),
                "lessons/{package}/{file} is named in lessons.toml's files but does not exist"
            );
        }
        let student_file = read(&lesson_dir.join("src/lib.rs"));
        assert!(
            !student_file.contains("#![allow"),
            "lessons/{package}/src/lib.rs: lint allowances go in its Cargo.toml's [lints], not in the student's file"
        );
    }
}

/// A lesson over 90 minutes comes in parts of at most 75, which cover its
/// steps in order and its minutes exactly, each with a heading in the chapter.
fn check_parts(lesson: &Lesson) {
    let id = &lesson.id;
    if lesson.parts.is_empty() {
        assert!(
            lesson.minutes <= 90,
            "lesson {id} takes {} minutes: split it in parts of at most 75 (`parts` in lessons/lessons.toml, a `### Part N: title` heading in its chapter)",
            lesson.minutes
        );
        return;
    }
    let steps: usize = lesson.parts.iter().map(|p| p.steps).sum();
    assert_eq!(
        steps,
        lesson.steps.len(),
        "lesson {id}: its parts cover {steps} steps of {}",
        lesson.steps.len()
    );
    let minutes: u32 = lesson.parts.iter().map(|p| p.minutes).sum();
    assert_eq!(
        minutes, lesson.minutes,
        "lesson {id}: its parts' minutes add up to {minutes}, the lesson's to {}",
        lesson.minutes
    );
    let chapter = std::fs::read_to_string(root().join("book/src").join(&lesson.chapter)).unwrap();
    for (i, part) in lesson.parts.iter().enumerate() {
        assert!(
            part.steps > 0 && part.minutes <= 75,
            "lesson {id}, part {}: a part is at least one step and at most 75 minutes",
            i + 1
        );
        let heading = format!("### Part {}: {}", i + 1, part.title);
        assert!(
            chapter.lines().any(|l| l.trim_end() == heading),
            "book/src/{} lacks the heading `{heading}`",
            lesson.chapter
        );
    }
}
