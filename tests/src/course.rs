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
    pub title: String,
    pub minutes: u32,
    /// The book chapter, relative to `book/src`.
    pub chapter: String,
    /// What each `todo!()` of the lesson as shipped asks for, in order.
    pub steps: Vec<String>,
    /// Layered: a nudge first, then nearer and nearer the answer.
    pub hints: Vec<String>,
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
    /// `lessons/lessonNN`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join("lessons").join(&self.package)
    }

    pub fn solution_dir(&self, root: &Path) -> PathBuf {
        root.join("solutions").join(&self.package)
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
