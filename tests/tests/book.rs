//! The book (`book/`) against the files it describes, without mdBook:
//!
//! - every page in `SUMMARY.md` exists, and every page under `book/src` is in it;
//!   each solution page sits under its lesson's chapter;
//! - every `{{#include path:anchor}}` finds its file and its `ANCHOR:` pair;
//! - every link between pages finds its page, and its `#heading`;
//! - the lessons of `lessons/lessons.toml` and the lesson chapters match one to one;
//! - no Rust code is pasted: Rust blocks only `{{#include}}` files `cargo test` builds;
//! - every text a check expects (`tests/src/expected/lessonNN_*.txt`) is shown in
//!   its lesson's chapter as it is, in a `text` block that reads without mdBook;
//! - the commands and mock provider facts the book names exist in the code.
//!
//! `.ci/book.sh` builds the book and checks the HTML (diagrams, nothing loaded
//! from another host).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn src() -> PathBuf {
    root().join("book/src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// `a/b/../c` → `a/c`, without touching the file system; `None` if it climbs above the start.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            _ => return None,
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// SUMMARY.md

#[derive(Debug, Clone)]
struct Entry {
    title: String,
    /// Relative to book/src.
    path: String,
    indent: usize,
    line: usize,
    /// The entry this one is nested under, if any (index into the list).
    parent: Option<usize>,
}

fn summary() -> Vec<Entry> {
    let text = read(&src().join("SUMMARY.md"));
    let mut entries: Vec<Entry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let item = line.trim_start();
        let item = item
            .strip_prefix("- ")
            .or_else(|| item.strip_prefix("* "))
            .unwrap_or(item);
        if !item.starts_with('[') {
            continue;
        }
        let (Some(close), Some(end)) = (item.find("]("), item.rfind(')')) else {
            continue;
        };
        let parent = entries.iter().rposition(|e| e.indent < indent);
        entries.push(Entry {
            title: item[1..close].to_string(),
            path: item[close + 2..end].trim().to_string(),
            indent,
            line: i + 1,
            parent: if indent == 0 { None } else { parent },
        });
    }
    assert!(!entries.is_empty(), "book/src/SUMMARY.md lists no chapters");
    entries
}

/// Every `.md` file under book/src but SUMMARY.md, relative to book/src, with `/`.
fn pages() -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.path());
        for entry in entries {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                let rel = path
                    .strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel != "SUMMARY.md" {
                    out.push(rel);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(&src(), &src(), &mut out);
    out
}

#[test]
fn every_chapter_in_the_summary_exists_and_every_page_is_in_the_summary() {
    let entries = summary();
    let mut seen = BTreeSet::new();
    for e in &entries {
        assert!(
            !e.path.is_empty(),
            "SUMMARY.md:{}: [{}]() is a draft chapter: write the page, or take the line out",
            e.line,
            e.title
        );
        assert!(
            src().join(&e.path).is_file(),
            "SUMMARY.md:{}: [{}]({}) but book/src/{} does not exist",
            e.line,
            e.title,
            e.path,
            e.path
        );
        assert!(
            seen.insert(e.path.clone()),
            "SUMMARY.md:{}: {} is listed twice",
            e.line,
            e.path
        );
    }
    let missing: Vec<_> = pages().into_iter().filter(|p| !seen.contains(p)).collect();
    assert!(
        missing.is_empty(),
        "pages under book/src that SUMMARY.md does not list (mdBook would leave them out): {missing:?}"
    );
}

#[test]
fn each_solution_page_sits_under_its_lesson_chapter() {
    let entries = summary();
    let mut solutions = 0;
    for e in entries.iter().filter(|e| e.path.ends_with("/solution.md")) {
        solutions += 1;
        let dir = e.path.trim_end_matches("solution.md");
        let parent = e.parent.map(|p| entries[p].path.as_str());
        assert_eq!(
            parent,
            Some(format!("{dir}index.md").as_str()),
            "SUMMARY.md:{}: {} must be indented under {dir}index.md, so it is not read by accident",
            e.line,
            e.path
        );
    }
    assert!(solutions > 0, "SUMMARY.md lists no solution pages");
}

// ---------------------------------------------------------------------------
// Markdown, just enough of it

/// The lines of a page with, for each, whether it is inside a fenced code block
/// (the fence lines themselves count as inside) and the fence's info string.
fn lines_with_fences(text: &str) -> Vec<(usize, &str, Option<String>)> {
    let mut out = Vec::new();
    let mut fence: Option<(char, usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let marker = t.chars().next().filter(|c| *c == '`' || *c == '~');
        let run = marker.map_or(0, |c| t.chars().take_while(|x| *x == c).count());
        match (&fence, marker) {
            (None, Some(c)) if run >= 3 => {
                let info = t[run..].trim().to_string();
                fence = Some((c, run, info.clone()));
                out.push((i + 1, line, Some(info)));
            }
            (Some((c, n, info)), Some(m)) if m == *c && run >= *n && t[run..].trim().is_empty() => {
                out.push((i + 1, line, Some(info.clone())));
                fence = None;
            }
            (Some((_, _, info)), _) => out.push((i + 1, line, Some(info.clone()))),
            (None, _) => out.push((i + 1, line, None)),
        }
    }
    out
}

/// A line with its inline code spans blanked out (links inside them are not links).
fn without_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|c| *c == '`').count();
        let after = &rest[start + ticks..];
        let closer = "`".repeat(ticks);
        match after.find(&closer) {
            Some(end) => {
                out.push_str(&" ".repeat(ticks * 2 + end));
                rest = &after[end + ticks..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// mdBook's heading ids (mdbook-html 0.5 `id_from_content` + `unique_id`),
/// for ATX headings and definition-list terms, in document order.
fn anchors(text: &str) -> HashSet<String> {
    let lines = lines_with_fences(text);
    let mut used = HashSet::new();
    let mut unique = |id: String| {
        if used.insert(id.clone()) {
            return;
        }
        let mut n = 1;
        while !used.insert(format!("{id}-{n}")) {
            n += 1;
        }
    };
    for (k, (_, line, fence)) in lines.iter().enumerate() {
        if fence.is_some() {
            continue;
        }
        let t = line.trim();
        let hashes = t.chars().take_while(|c| *c == '#').count();
        let heading = (1..=6).contains(&hashes) && t[hashes..].starts_with(' ');
        let term = !heading
            && !t.is_empty()
            && !t.starts_with(':')
            && lines
                .get(k + 1)
                .is_some_and(|(_, next, f)| f.is_none() && next.starts_with(": "));
        let content = if heading {
            t[hashes..].trim().trim_end_matches('#').trim()
        } else if term {
            t
        } else {
            continue;
        };
        // `## Title {#custom-id}`
        if let Some(open) = content.rfind("{#").filter(|_| content.ends_with('}')) {
            let id = content[open + 2..content.len() - 1]
                .split_whitespace()
                .next()
                .unwrap_or("");
            unique(id.to_string());
            continue;
        }
        unique(id_from_content(&visible_text(content)));
    }
    used
}

/// The text a reader sees: code spans' contents, link texts, no emphasis stars or tags.
fn visible_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut chars = markdown.chars().peekable();
    let mut in_code = false;
    while let Some(c) = chars.next() {
        match c {
            '`' => in_code = !in_code,
            _ if in_code => out.push(c),
            '*' => {}
            '<' => {
                for x in chars.by_ref() {
                    if x == '>' {
                        break;
                    }
                }
            }
            ']' if chars.peek() == Some(&'(') => {
                for x in chars.by_ref() {
                    if x == ')' {
                        break;
                    }
                }
            }
            '[' => {}
            _ => out.push(c),
        }
    }
    out
}

/// mdbook-html 0.5's `id_from_content`.
fn id_from_content(content: &str) -> String {
    content
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|ch| {
            if ch.is_alphanumeric() || ch == '_' || ch == '-' {
                Some(ch)
            } else if ch.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// `[text](target)`, `![alt](target)`, `[label]: target`, `href="…"` and `src="…"`
/// outside code: (line number, target).
fn links(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line, fence) in lines_with_fences(text) {
        if fence.is_some() {
            continue;
        }
        let line = without_code_spans(line);
        let trimmed = line.trim_start();
        if let Some(close) = trimmed.find("]:").filter(|_| trimmed.starts_with('[')) {
            let target = trimmed[close + 2..].split_whitespace().next().unwrap_or("");
            out.push((n, target.trim_matches(['<', '>']).to_string()));
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((n, target.trim_matches(['<', '>']).to_string()));
            rest = &after[end..];
        }
        for attr in ["href=\"", "src=\""] {
            let mut rest = line.as_str();
            while let Some(at) = rest.find(attr) {
                let after = &rest[at + attr.len()..];
                let end = after.find('"').unwrap_or(after.len());
                out.push((n, after[..end].to_string()));
                rest = &after[end..];
            }
        }
    }
    out
}

#[test]
fn every_link_between_pages_finds_its_page_and_heading() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = read(&src().join(&page));
        let dir = Path::new(&page).parent().unwrap_or(Path::new(""));
        for (line, target) in links(&text) {
            let external = target.contains("://") || target.starts_with("mailto:");
            if external || target.is_empty() {
                continue;
            }
            checked += 1;
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let at = format!("book/src/{page}:{line}: {target}");
            let resolved = if path.is_empty() {
                PathBuf::from(&page)
            } else {
                match normalize(&dir.join(path)) {
                    Some(p) => p,
                    None => {
                        problems.push(format!(
                            "{at}: leaves the book (the rendered page could not follow it): link to a full URL instead"
                        ));
                        continue;
                    }
                }
            };
            if path.ends_with(".html") {
                problems.push(format!(
                    "{at}: link to the .md page; mdBook turns it into .html"
                ));
                continue;
            }
            let file = src().join(&resolved);
            if !file.is_file() {
                problems.push(format!("{at}: no such file under book/src"));
                continue;
            }
            let missing = fragment.filter(|fragment| {
                resolved.extension().is_some_and(|e| e == "md")
                    && !anchors(&read(&file)).contains(*fragment)
            });
            if let Some(fragment) = missing {
                problems.push(format!(
                    "{at}: book/src/{} has no heading with id #{fragment} (ids: lowercase, spaces to -, other punctuation dropped)",
                    resolved.display()
                ));
            }
        }
    }
    assert!(
        checked > 0,
        "the book has no links between its pages at all"
    );
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------
// {{#include}}

/// The `{{#include …}}`-like directives of a page that mdBook expands (not the
/// escaped `\{{#include}}`): (line, directive, argument).
fn directives(text: &str) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("{{#") {
            let escaped = rest[..at].ends_with('\\');
            let after = &rest[at + 3..];
            let Some(end) = after.find("}}") else { break };
            if !escaped {
                let body = after[..end].trim();
                let (name, arg) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
                out.push((i + 1, name.to_string(), arg.trim().to_string()));
            }
            rest = &after[end + 2..];
        }
    }
    out
}

/// `N`, `N:`, `:M`, `N:M`: an mdBook line range.
fn line_range(spec: &str) -> Option<(Option<usize>, Option<usize>)> {
    let num = |s: &str| -> Option<Option<usize>> {
        if s.is_empty() {
            Some(None)
        } else {
            s.parse().ok().map(Some)
        }
    };
    match spec.split_once(':') {
        Some((a, b)) => Some((num(a)?, num(b)?)),
        None => {
            let n = spec.parse().ok()?;
            Some((Some(n), Some(n)))
        }
    }
}

/// The lines of `text` that mdBook's anchor regex (`ANCHOR:\s*name`) matches.
fn anchor_lines(text: &str, marker: &str, name: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            l.find(marker).is_some_and(|at| {
                let after = l[at + marker.len()..].trim_start();
                let word: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                word == name
            })
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// Checks one include argument (`path`, `path:anchor` or `path:range`); returns the file.
fn check_include(
    page: &str,
    line: usize,
    arg: &str,
    problems: &mut Vec<String>,
) -> Option<PathBuf> {
    let at = format!("book/src/{page}:{line}: {{{{#include {arg}}}}}");
    let target = arg.split_whitespace().next().unwrap_or("");
    let (path, spec) = match target.split_once(':') {
        Some((p, s)) => (p, Some(s)),
        None => (target, None),
    };
    let dir = Path::new(page).parent().unwrap_or(Path::new(""));
    let Some(rel) = normalize(&Path::new("book/src").join(dir).join(path)) else {
        problems.push(format!("{at}: the path leaves the repository"));
        return None;
    };
    let file = root().join(&rel);
    if !file.is_file() {
        problems.push(format!("{at}: {} does not exist", rel.display()));
        return None;
    }
    let text = read(&file);
    match spec {
        None => {}
        Some(spec) => match line_range(spec) {
            Some((from, to)) => {
                let lines = text.lines().count();
                let (from, to) = (from.unwrap_or(1), to.unwrap_or(lines));
                if from == 0 || from > to || to > lines {
                    problems.push(format!(
                        "{at}: lines {spec} are not in {} ({lines} lines); better, use an ANCHOR",
                        rel.display()
                    ));
                }
            }
            None => {
                let starts = anchor_lines(&text, "ANCHOR:", spec);
                let ends = anchor_lines(&text, "ANCHOR_END:", spec);
                match (starts.as_slice(), ends.as_slice()) {
                    ([s], [e]) if s < e => {
                        if e - s < 2 {
                            problems.push(format!("{at}: anchor {spec} in {} is empty", rel.display()));
                        }
                    }
                    ([], _) | (_, []) => problems.push(format!(
                        "{at}: {} has no `ANCHOR: {spec}` … `ANCHOR_END: {spec}` pair",
                        rel.display()
                    )),
                    _ => problems.push(format!(
                        "{at}: `ANCHOR: {spec}` must appear once, before its one `ANCHOR_END: {spec}`, in {} (found at lines {starts:?} and {ends:?})",
                        rel.display()
                    )),
                }
            }
        },
    }
    Some(rel)
}

#[test]
fn every_include_finds_its_file_and_anchor() {
    let mut problems = Vec::new();
    for page in pages() {
        let text = read(&src().join(&page));
        for (line, name, arg) in directives(&text) {
            match name.as_str() {
                "include" | "rustdoc_include" | "playground" => {
                    check_include(&page, line, &arg, &mut problems);
                }
                "title" => {}
                other => problems.push(format!(
                    "book/src/{page}:{line}: {{{{#{other}}}}} is not an mdBook directive (write \\{{{{# to show one as text)"
                )),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "includes that do not resolve:\n{}",
        problems.join("\n")
    );
}

#[test]
fn no_rust_code_is_pasted_into_the_book() {
    let mut problems = Vec::new();
    for page in pages() {
        let text = read(&src().join(&page));
        let mut lines = lines_with_fences(&text).into_iter().peekable();
        while let Some((n, _, fence)) = lines.next() {
            let Some(info) = fence else { continue };
            let is_rust = info.split([',', ' ']).next() == Some("rust");
            // Walk to the end of this block.
            let mut body = Vec::new();
            while let Some((_, l, f)) = lines.peek() {
                if f.is_none() {
                    break;
                }
                let l = l.trim();
                lines.next();
                if l.starts_with("```") || l.starts_with("~~~") {
                    break;
                }
                body.push(l.to_string());
            }
            let pasted: Vec<_> = body
                .iter()
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("{{#include")
                        && !l.starts_with("{{#rustdoc_include")
                })
                .collect();
            if is_rust && !pasted.is_empty() {
                problems.push(format!(
                    "book/src/{page}:{n}: a Rust block with pasted code ({:?}…): {{{{#include}}}} it from a file `cargo test` builds, with an ANCHOR",
                    pasted[0]
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The texts the checks expect are pasted, not included, so that the chapter
/// reads the same in an editor or on a forge as in the rendered book; this
/// keeps each copy equal to the file the check compares with.
#[test]
fn every_expected_text_is_shown_in_its_chapter() {
    let mut problems = Vec::new();
    let dir = root().join("tests/src/expected");
    for entry in std::fs::read_dir(&dir).expect("tests/src/expected") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(id) = name
            .strip_prefix("lesson")
            .and_then(|rest| rest.get(..2))
            .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
        else {
            problems.push(format!("tests/src/expected/{name}: name it lessonNN_….txt"));
            continue;
        };
        let chapter = format!("lesson{id}/index.md");
        let page = read(&src().join(&chapter));
        let block = format!("```text\n{}\n```", read(&path).trim_end());
        if !page.contains(&block) {
            problems.push(format!(
                "book/src/{chapter} should show tests/src/expected/{name} as it is, in a ```text block"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Lessons and their chapters

struct Lesson {
    id: String,
    package: String,
    solution: String,
    title: String,
    minutes: i64,
    chapter: String,
}

/// `lessons/lessons.toml`, if it exists yet.
fn lessons_toml() -> Option<Vec<Lesson>> {
    let path = root().join("lessons/lessons.toml");
    if !path.is_file() {
        return None;
    }
    let table: toml::Table = read(&path)
        .parse()
        .unwrap_or_else(|e| panic!("lessons/lessons.toml is not valid TOML: {e}"));
    let list = table
        .get("lesson")
        .and_then(|l| l.as_array())
        .expect("lessons/lessons.toml has [[lesson]] entries");
    Some(
        list.iter()
            .map(|l| {
                let s = |key: &str| {
                    l.get(key)
                        .and_then(|v| v.as_str())
                        .unwrap_or_else(|| {
                            panic!("a [[lesson]] in lessons/lessons.toml has no {key}")
                        })
                        .to_string()
                };
                Lesson {
                    id: s("id"),
                    package: s("package"),
                    solution: s("solution"),
                    title: s("title"),
                    minutes: l
                        .get("minutes")
                        .and_then(|v| v.as_integer())
                        .expect("every [[lesson]] has minutes"),
                    chapter: s("chapter"),
                }
            })
            .collect(),
    )
}

/// `lessonNN/index.md` → `NN`.
fn lesson_number(path: &str) -> Option<&str> {
    let n = path.strip_prefix("lesson")?.strip_suffix("/index.md")?;
    (n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit())).then_some(n)
}

#[test]
fn every_lesson_has_its_chapter_and_every_lesson_chapter_its_lesson() {
    let entries = summary();
    let chapters: BTreeMap<&str, &Entry> = entries
        .iter()
        .filter(|e| lesson_number(&e.path).is_some())
        .map(|e| (e.path.as_str(), e))
        .collect();
    assert!(
        !chapters.is_empty(),
        "SUMMARY.md has no lessonNN/index.md chapters"
    );

    // The lesson crates on disk, whatever lessons.toml says.
    let on_disk: BTreeSet<String> = std::fs::read_dir(root().join("lessons"))
        .map(|dir| {
            dir.flatten()
                .filter(|e| e.path().join("Cargo.toml").is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    for package in &on_disk {
        assert!(
            chapters.contains_key(format!("{package}/index.md").as_str()),
            "lessons/{package} has no chapter: add book/src/{package}/index.md and list it in SUMMARY.md"
        );
    }

    let Some(lessons) = lessons_toml() else {
        // Until lessons.toml exists, the crates on disk stand for the lessons.
        if !on_disk.is_empty() {
            for path in chapters.keys() {
                let package = path.trim_end_matches("/index.md");
                assert!(
                    on_disk.contains(package),
                    "book/src/{path} is a lesson chapter, but there is no lessons/{package}"
                );
            }
        }
        return;
    };
    let mut listed = BTreeSet::new();
    for lesson in &lessons {
        let Lesson {
            id,
            package,
            solution,
            title,
            minutes,
            chapter,
        } = lesson;
        assert!(
            listed.insert(chapter.as_str()),
            "lessons.toml: two lessons have chapter {chapter}"
        );
        let Some(entry) = chapters.get(chapter.as_str()) else {
            panic!(
                "lessons.toml: lesson {id} ({title}) has chapter {chapter:?}, which is not a lessonNN/index.md chapter in SUMMARY.md"
            );
        };
        assert_eq!(
            chapter,
            &format!("{package}/index.md"),
            "lessons.toml: lesson {id}'s chapter mirrors its package: {package}/index.md"
        );
        assert!(
            entry.title.contains(title.as_str()) && entry.title.contains(id.as_str()),
            "SUMMARY.md:{}: the chapter of lesson {id} is titled {:?}; it should name the lesson as lessons.toml does: \"Lesson {id}: {title}\"",
            entry.line,
            entry.title
        );
        let text = read(&src().join(chapter));
        for command in [
            format!("cargo run -p {package}"),
            format!("cargo test -p {package}"),
        ] {
            assert!(
                text.contains(&command),
                "book/src/{chapter} should tell how to run `{command}`"
            );
        }
        assert!(
            text.contains(&format!("about {minutes} minutes")),
            "book/src/{chapter} should state the time lessons.toml gives lesson {id}: \"about {minutes} minutes\""
        );
        let solution_page = chapter.replace("index.md", "solution.md");
        let solution_entry = entries.iter().find(|e| e.path == solution_page);
        assert!(
            solution_entry.is_some_and(
                |e| e.parent.map(|p| entries[p].path.as_str()) == Some(chapter.as_str())
            ),
            "SUMMARY.md: lesson {id}'s solution page {solution_page} must be listed, indented under {chapter}"
        );
        assert!(
            read(&src().join(&solution_page)).contains(solution.as_str()),
            "book/src/{solution_page} should name the solution package {solution} (`cargo run -p {solution}`)"
        );
    }
    for path in chapters.keys() {
        assert!(
            listed.contains(path),
            "book/src/{path} is a lesson chapter, but no [[lesson]] in lessons/lessons.toml has chapter = {path:?}"
        );
    }
}

/// Until the code exists, a lesson chapter holds a placeholder where its code
/// goes; once it does, the placeholder must give way to `{{#include}}`s of it.
#[test]
fn lesson_chapters_show_the_code_of_their_lesson_and_solution() {
    let entries = summary();
    let mut problems = Vec::new();
    for e in entries.iter().filter(|e| lesson_number(&e.path).is_some()) {
        let nn = lesson_number(&e.path).unwrap();
        for (page, dir, placeholder, heading) in [
            (
                e.path.clone(),
                format!("lessons/lesson{nn}"),
                format!("<!-- code listings: lesson{nn} -->"),
                Some("## What to write"),
            ),
            (
                e.path.replace("index.md", "solution.md"),
                format!("solutions/lesson{nn}"),
                format!("<!-- solution listing: solution{nn} -->"),
                None,
            ),
        ] {
            let Ok(text) = std::fs::read_to_string(src().join(&page)) else {
                problems.push(format!("book/src/{page} is missing"));
                continue;
            };
            if let Some(heading) = heading.filter(|h| !text.lines().any(|l| l.trim() == *h)) {
                problems.push(format!("book/src/{page} has no `{heading}` section"));
            }
            let includes = directives(&text)
                .into_iter()
                .filter(|(_, name, arg)| {
                    name.ends_with("include") && arg.contains(&format!("{dir}/"))
                })
                .count();
            let has_placeholder = text.contains(&placeholder);
            let code = format!("{dir}/src/lib.rs");
            if has_placeholder && root().join(&code).is_file() {
                problems.push(format!(
                    "book/src/{page}: {code} exists now: replace `{placeholder}` with {{{{#include ../../../{code}:ANCHOR}}}} listings of it"
                ));
            } else if !has_placeholder && includes == 0 {
                problems.push(format!(
                    "book/src/{page} shows no code of {dir}: {{{{#include}}}} it (or, before it exists, keep `{placeholder}`)"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// What the book says about the code

/// Every package name of the workspace (each Cargo.toml with a [package]).
fn packages() -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() && name != "target" && !name.starts_with('.') && name != "book" {
                walk(&path, out);
            } else if name == "Cargo.toml" {
                let manifest: toml::Table = read(&path).parse().unwrap();
                if let Some(n) = manifest
                    .get("package")
                    .and_then(|p| p.get("name"))
                    .and_then(|n| n.as_str())
                {
                    out.insert(n.to_string());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&root(), &mut out);
    out
}

#[test]
fn every_package_the_book_runs_exists() {
    let mut known = packages();
    // The student edition has no solution crates; its pages still name them
    // (`cargo run -p solution05`), and its solution pages say where they went.
    if lab_tests::edition::is_student_edition(&root()) {
        known.extend(
            lessons_toml()
                .unwrap_or_default()
                .into_iter()
                .map(|l| l.solution),
        );
    }
    let mut problems = Vec::new();
    let mut seen = 0;
    for page in pages() {
        let text = read(&src().join(&page));
        for (n, line) in text.lines().enumerate() {
            let words: Vec<&str> = line
                .split(|c: char| c.is_whitespace() || c == '`')
                .filter(|w| !w.is_empty())
                .collect();
            for w in words.windows(2) {
                if w[0] == "-p" {
                    seen += 1;
                    let name = w[1].trim_end_matches([',', '.', ')', ':', ';']);
                    if !known.contains(name) && !name.contains("NN") {
                        problems.push(format!(
                            "book/src/{page}:{}: -p {name}: no such package",
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(seen > 0, "the book names no `cargo … -p PACKAGE` command");
    assert!(
        problems.is_empty(),
        "{}\n(packages: {known:?})",
        problems.join("\n")
    );
}

/// The mock provider's flags (from `mock-provider/src/main.rs`) and routes (from
/// `mock-provider/src/router.rs`) are all in its appendix, and the appendix's flag
/// table names no flag the binary lacks.
#[test]
fn the_mock_provider_appendix_matches_its_flags_and_endpoints() {
    let appendix_path = "appendix/mock-provider.md";
    let appendix = read(&src().join(appendix_path));

    let main = read(&root().join("mock-provider/src/main.rs"));
    let mut flags = BTreeSet::new();
    let mut long = false;
    for line in main.lines().map(str::trim) {
        if line.starts_with("#[arg(") {
            long = line.contains("long");
        } else if long && !line.starts_with("///") && !line.starts_with("#[") {
            if let Some((field, _)) = line.split_once(':') {
                flags.insert(format!(
                    "--{}",
                    field.trim().trim_start_matches("pub ").replace('_', "-")
                ));
            }
            long = false;
        }
    }
    assert!(
        flags.contains("--port"),
        "found no flags in mock-provider/src/main.rs: {flags:?}"
    );
    for flag in &flags {
        assert!(
            appendix.contains(&format!("`{flag}")),
            "book/src/{appendix_path} does not document the mock provider's {flag}"
        );
    }
    for line in appendix.lines().filter(|l| l.starts_with("| `--")) {
        let flag: String = line[3..]
            .chars()
            .take_while(|c| *c != ' ' && *c != '`')
            .collect();
        assert!(
            flags.contains(&flag),
            "book/src/{appendix_path} documents {flag}, which mock-provider does not have (it has {flags:?})"
        );
    }

    let router = read(&root().join("mock-provider/src/router.rs"));
    let mut routes = Vec::new();
    for line in router.lines().map(str::trim) {
        // `("GET", "/api/me") => …`
        let Some(rest) = line.strip_prefix("(\"") else {
            continue;
        };
        let Some((method, rest)) = rest.split_once("\", \"") else {
            continue;
        };
        let Some((path, _)) = rest.split_once("\")") else {
            continue;
        };
        if path.starts_with('/') {
            routes.push(format!("{method} {path}"));
        }
    }
    assert!(
        routes.len() >= 5,
        "found no routes in mock-provider/src/router.rs: {routes:?}"
    );
    for route in routes {
        assert!(
            appendix.contains(&format!("`{route}`")) || appendix.contains(&format!("`{route}?")),
            "book/src/{appendix_path} does not document `{route}`"
        );
    }
}

#[test]
fn mermaid_is_bundled_not_fetched() {
    let book = root().join("book");
    let config: toml::Table = read(&book.join("book.toml"))
        .parse()
        .expect("book/book.toml is TOML");
    assert!(
        config
            .get("preprocessor")
            .and_then(|p| p.get("mermaid"))
            .is_some(),
        "book.toml must run the mermaid preprocessor: the diagrams are ```mermaid blocks"
    );
    let js = config
        .get("output")
        .and_then(|o| o.get("html"))
        .and_then(|h| h.get("additional-js"))
        .and_then(|j| j.as_array())
        .expect("book.toml has output.html.additional-js");
    let js: Vec<&str> = js.iter().filter_map(|v| v.as_str()).collect();
    for file in ["mermaid.min.js", "mermaid-init.js"] {
        assert!(js.contains(&file), "book.toml's additional-js lists {file}");
        assert!(
            book.join(file).is_file(),
            "book/{file} is committed (no CDN)"
        );
    }
    for file in &js {
        assert!(
            !file.contains("://"),
            "additional-js {file} must be a file in book/, not a URL"
        );
    }
    let mut diagrams = 0;
    for page in pages() {
        let text = read(&src().join(&page));
        let mut lines = lines_with_fences(&text).into_iter();
        while let Some((n, _, fence)) = lines.next() {
            if fence.as_deref() == Some("mermaid") {
                diagrams += 1;
                let first = lines
                    .next()
                    .map(|(_, l, _)| l.trim().to_string())
                    .unwrap_or_default();
                assert!(
                    first == "sequenceDiagram",
                    "book/src/{page}:{n}: the book's diagrams are sequence diagrams; this one starts {first:?}"
                );
                for (m, l, f) in lines.by_ref() {
                    if f.is_none() || l.trim_start().starts_with("```") {
                        break;
                    }
                    // Mermaid ends a statement at `;`: the rest of a note or
                    // message would be read as a statement and fail to draw.
                    assert!(
                        !l.contains(';') || l.contains("#59;"),
                        "book/src/{page}:{m}: a `;` in a diagram ends the statement there: write a comma, or #59;"
                    );
                }
            }
        }
    }
    assert!(diagrams > 0, "the book has no ```mermaid diagrams");
}
