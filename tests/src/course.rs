//! The course itself: `lessons/lessons.toml`, read by the course checks, the
//! grader and the book's checks.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One lesson, as `lessons/lessons.toml` describes it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    pub id: String,
    pub package: String,
    pub solution: String,
    /// What the student writes, relative to the lesson's folder: the only files
    /// `cargo grade --class` takes from a submission (`src/lib.rs` when not given).
    #[serde(default = "student_file")]
    pub files: Vec<String>,
    pub title: String,
    pub minutes: u32,
    /// What the lesson is worth in the reports ([`DEFAULT_POINTS`] when not given).
    #[serde(default)]
    pub points: Option<u32>,
    /// Weights of single checks (by name) within the lesson's points; a check
    /// not named weighs 1.
    #[serde(default)]
    pub check_points: std::collections::BTreeMap<String, u32>,
    /// The book chapter, relative to `book/src`.
    pub chapter: String,
    /// What each `todo!()` of the lesson as shipped asks for, in order.
    pub steps: Vec<String>,
    /// Layered: a nudge first, then nearer and nearer the answer.
    pub hints: Vec<String>,
    /// A long lesson in sittings: consecutive steps, each part with its own
    /// title and minutes (empty: one sitting).
    #[serde(default)]
    pub parts: Vec<Part>,
}

/// One sitting of a long lesson: the next `steps` steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub title: String,
    pub steps: usize,
    pub minutes: u32,
}

/// What a lesson without `points` in lessons.toml is worth.
pub const DEFAULT_POINTS: u32 = 10;

fn student_file() -> Vec<String> {
    vec!["src/lib.rs".into()]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    lesson: Vec<Lesson>,
}

/// The workspace's root folder (where `lessons/` and `solutions/` are).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_path_buf()
}

/// The lessons in course order.
pub fn lessons(root: &Path) -> Result<Vec<Lesson>, String> {
    let path = root.join("lessons/lessons.toml");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(file.lesson)
}

impl Lesson {
    /// Lesson 03 as lessons.toml describes it, for the grader's own tests.
    #[cfg(test)]
    pub(crate) fn example() -> Lesson {
        Lesson {
            id: "03".into(),
            package: "lesson03".into(),
            solution: "solution03".into(),
            files: vec!["src/lib.rs".into()],
            title: "Ask for permission".into(),
            minutes: 30,
            points: None,
            check_points: Default::default(),
            chapter: "lesson03/index.md".into(),
            steps: vec!["one".into()],
            hints: vec![],
            parts: vec![],
        }
    }

    /// The part step `number` (from 1) belongs to, with the part's number
    /// (from 1) and count; `None` for a lesson in one sitting.
    pub fn part_of(&self, number: usize) -> Option<(usize, usize, &Part)> {
        let mut last = 0;
        for (i, part) in self.parts.iter().enumerate() {
            last += part.steps;
            if number <= last {
                return Some((i + 1, self.parts.len(), part));
            }
        }
        None
    }

    /// `lessons/lessonNN`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join("lessons").join(&self.package)
    }

    pub fn solution_dir(&self, root: &Path) -> PathBuf {
        root.join("solutions").join(&self.package)
    }

    /// What the lesson is worth.
    pub fn points(&self) -> u32 {
        self.points.unwrap_or(DEFAULT_POINTS)
    }

    /// The points earned with the checks `passed` of all `checks`: the lesson's
    /// points shared by weight (`check_points`, 1 by default), to the hundredth.
    pub fn score(&self, checks: &[String], passed: &[String]) -> f64 {
        let weight = |name: &String| f64::from(self.check_points.get(name).copied().unwrap_or(1));
        let all: f64 = checks.iter().map(weight).sum();
        if all == 0.0 {
            return 0.0;
        }
        let won: f64 = checks
            .iter()
            .filter(|c| passed.contains(c))
            .map(weight)
            .sum();
        (f64::from(self.points()) * won / all * 100.0).round() / 100.0
    }
}

impl Lesson {
    /// The `todo!()` messages of the lesson as shipped, in order.
    pub fn shipped_todos(&self) -> Vec<String> {
        let chapter = self.id.trim_start_matches('0');
        self.steps
            .iter()
            .enumerate()
            .map(|(i, step)| {
                format!(
                    "Step {}: {step} — see chapter {chapter} (book/src/{})",
                    i + 1,
                    self.chapter
                )
            })
            .collect()
    }

    /// The `todo!()` messages in the lesson's `src/lib.rs` now, in order.
    pub fn todos_now(&self, root: &Path) -> Result<Vec<String>, String> {
        let path = self.dir(root).join("src/lib.rs");
        let source =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(todo_messages(&source))
    }
}

/// The messages of the `todo!("…")` calls in Rust source, however formatted.
pub fn todo_messages(source: &str) -> Vec<String> {
    source
        .split("todo!(")
        .skip(1)
        .filter_map(|rest| {
            let rest = rest.trim_start().strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// Set by the course's own CI: every lesson must be exactly as shipped. Without
/// it (a student's or instructor's checkout), a lesson someone has worked on is
/// left to `cargo grade`.
pub fn must_be_shipped() -> bool {
    std::env::var_os("LAB_CHECK_SHIPPED").is_some_and(|v| v == "1")
}

/// The lesson `package` as shipped stops at its `todo!()`s and nowhere else:
/// not a compile error (this would not build), not a pass, not a check failing
/// for another reason. Its todo!()s are the `steps` of lessons.toml, in order,
/// each with a `// TODO:` saying what to write.
pub fn check_shipped(package: &str, checks: &[crate::Check]) {
    let root = root();
    let lesson = lessons(&root)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .find(|l| l.package == package)
        .unwrap_or_else(|| panic!("{package} has no entry in lessons/lessons.toml"));
    let now = lesson.todos_now(&root).unwrap_or_else(|e| panic!("{e}"));
    let shipped = lesson.shipped_todos();
    if now != shipped {
        assert!(
            !must_be_shipped(),
            "{package}: the todo!()s should be, in order, {shipped:#?}\nbut are {now:#?}\n(fix the lesson or its `steps` in lessons/lessons.toml)"
        );
        eprintln!("{package} has been worked on: its as-shipped checks are left to `cargo grade`");
        return;
    }
    let source = std::fs::read_to_string(lesson.dir(&root).join("src/lib.rs"))
        .unwrap_or_else(|e| panic!("{package}/src/lib.rs: {e}"));
    assert_eq!(
        source.matches("// TODO: ").count(),
        shipped.len(),
        "{package}: each todo!() comes with one `// TODO:` saying what to write"
    );
    let outcomes: Vec<_> = checks
        .iter()
        .map(|c| (c.name, crate::run_check(c)))
        .collect();
    assert!(
        outcomes.iter().any(|(_, o)| o.is_todo()),
        "{package} as shipped must fail its suite at a todo!(), got {outcomes:?}"
    );
    for (name, outcome) in &outcomes {
        if let crate::Outcome::Failed(message) = outcome {
            assert!(
                outcome.is_todo(),
                "{package} check {name} fails for another reason than a todo!(): {message}"
            );
        }
    }
}
