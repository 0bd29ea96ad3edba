//! Workspace-wide checks: the layout ARCHITECTURE.md describes, the rules its
//! "Invariants" section states for tests, and that the repository cites only
//! what a reader of it can open.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn manifest() -> toml::Table {
    let text = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    text.parse().unwrap()
}

fn strings(value: &toml::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn default_members_are_every_member_but_the_lessons() {
    let manifest = manifest();
    let workspace = manifest["workspace"].as_table().unwrap();
    let members = strings(&workspace["members"]);
    let defaults = strings(&workspace["default-members"]);
    let expected: Vec<_> = members
        .iter()
        .filter(|m| !m.starts_with("lessons/"))
        .cloned()
        .collect();
    assert_eq!(
        defaults, expected,
        "default-members must be the members without lessons/*, so `cargo test` is green on a fresh checkout"
    );
    for required in ["mock-provider", "tests"] {
        assert!(
            members.iter().any(|m| m == required),
            "{required} is a member"
        );
    }
}

#[test]
fn the_lock_file_and_the_grade_alias_are_committed() {
    assert!(
        root().join("Cargo.lock").is_file(),
        "Cargo.lock is committed (students build the same versions)"
    );
    let config = std::fs::read_to_string(root().join(".cargo/config.toml")).unwrap();
    let config: toml::Table = config.parse().unwrap();
    assert!(
        config["alias"]["grade"].as_str().is_some(),
        "`cargo grade` is defined"
    );
}

/// Every Rust file under `dir`, recursively, skipping `target`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() && name != "target" && !name.to_string_lossy().starts_with('.') {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Tests pick ephemeral ports, so they can run in parallel and whatever else
/// listens on this machine changes nothing (ARCHITECTURE.md, "Invariants").
/// The lines of test code (files under a `tests` folder) that `offends`,
/// as `file:line: text`.
fn test_lines(offends: impl Fn(&str) -> bool) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&root(), &mut files);
    files
        .iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "tests"))
        .filter(|p| !p.ends_with("workspace.rs"))
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.lines()
                .enumerate()
                .filter(|(_, line)| offends(line))
                .map(|(n, line)| format!("{}:{}: {}", p.display(), n + 1, line.trim()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn no_test_binds_a_fixed_port() {
    // A URL naming port 9000 is only an example; binding or listening on it is the problem.
    let binds = ["bind(", "listen(", "Server::http(", "\"--port\""];
    let fixed = ["8000", "8080", "9000"];
    let offenders = test_lines(|line| {
        binds.iter().any(|b| line.contains(b)) && fixed.iter().any(|port| line.contains(port))
    });
    assert!(
        offenders.is_empty(),
        "use port 0 and read the port back: {offenders:?}"
    );
}

/// Expiry is tested with an injected clock: no test waits whole seconds.
#[test]
fn no_test_sleeps_whole_seconds() {
    let offenders = test_lines(|line| {
        let millis = line
            .split("sleep(Duration::from_millis(")
            .nth(1)
            .map(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
            });
        line.contains("sleep(") && line.contains("from_secs(")
            || millis.is_some_and(|ms| ms.parse::<u64>().is_ok_and(|ms| ms >= 1000))
    });
    assert!(
        offenders.is_empty(),
        "move time with mock_provider::ManualClock or an injected sleep instead: {offenders:?}"
    );
}

/// The repository's text files (code, docs, manifests, scripts), skipping
/// what is built or bundled (`target/`, the rendered book, mermaid.js).
fn text_files(dir: &Path, out: &mut Vec<PathBuf>) {
    const TEXT: &[&str] = &["rs", "md", "toml", "sh", "txt", "yml", "yaml"];
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if path.is_dir() {
            let skipped = name == "target"
                || name == "node_modules"
                || name.starts_with('.') && name != ".ci" && name != ".cargo";
            if !skipped && !path.ends_with("book/book") {
                text_files(&path, out);
            }
        } else if path
            .extension()
            .is_some_and(|e| TEXT.iter().any(|t| e == *t))
            || path.parent().and_then(Path::file_name) == Some(".ci".as_ref())
        {
            out.push(path);
        }
    }
}

/// The name the team's design contract goes by, in capitals; spelled in two
/// parts so that this checker does not cite the contract itself.
const CONTRACT: &str = concat!("DESI", "GN");

/// Words that cite a document the repository does not contain: the team's
/// design contract (its name in capitals, or a section such as D followed by a
/// number) and its numbered behaviours (the word behaviour and a number).
fn cites_the_design_contract(line: &str) -> Option<String> {
    let words: Vec<&str> = line
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for (i, word) in words.iter().enumerate() {
        let numbered = |w: &str| w.len() <= 2 && w.chars().all(|c| c.is_ascii_digit());
        if *word == CONTRACT {
            return Some(CONTRACT.into());
        }
        if word.len() <= 3 && word.starts_with('D') && numbered(&word[1..]) && word.len() > 1 {
            return Some((*word).into());
        }
        let behaviour = ["behaviour", "behaviours", "behavior", "behaviors"];
        if behaviour.contains(word) && words.get(i + 1).is_some_and(|n| numbered(n)) {
            return Some(format!("{word} {}", words[i + 1]));
        }
    }
    None
}

/// The `*.md` files a line names (`ARCHITECTURE.md`, `book/src/setup.md`, ...),
/// leaving out web addresses and names built at run time (`{dir}/index.md`,
/// `$page.md`, `lessonNN/index.md`).
fn named_documents(line: &str) -> Vec<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || "_./-".contains(c);
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find(is_name) {
        let before = rest[..start].chars().last();
        let word = &rest[start..];
        let word = &word[..word.find(|c| !is_name(c)).unwrap_or(word.len())];
        rest = &rest[start + word.len()..];
        let built =
            matches!(before, Some('$' | '}')) || word.starts_with('/') || word.contains("NN");
        if word.len() > 3 && word.ends_with(".md") && !built && !word.contains("//") {
            out.push(word.to_string());
        }
    }
    out
}

#[test]
fn the_repository_cites_only_what_it_contains() {
    let root = root();
    let mut files = Vec::new();
    text_files(&root, &mut files);
    let names: std::collections::HashSet<String> = files
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().to_string()))
        .collect();
    let mut offenders = Vec::new();
    for path in &files {
        // This file names the words it looks for.
        if path.ends_with("tests/tests/workspace.rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let shown = path.strip_prefix(&root).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            if let Some(word) = cites_the_design_contract(line) {
                offenders.push(format!("{shown}:{}: cites {word:?}, a document the repository does not hold: cite the RFC section or ARCHITECTURE.md", n + 1));
            }
            for doc in named_documents(line) {
                let here = path.parent().unwrap().join(&doc);
                let found = if doc.contains('/') {
                    root.join(&doc).exists()
                        || here.exists()
                        || files.iter().any(|f| f.ends_with(&doc))
                } else {
                    names.contains(&doc) || here.exists()
                };
                if !found {
                    offenders.push(format!(
                        "{shown}:{}: names {doc}, which is not in the repository",
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "cite only what the repository holds:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_reference_check_sees_what_it_should() {
    for line in [
        format!("// secrets are never printed ({CONTRACT} D7)"),
        format!("/// {} {}: the device grant", "behaviour", 14),
        "see D5 for the page contract".to_string(),
    ] {
        assert!(cites_the_design_contract(&line).is_some(), "{line}");
    }
    for line in [
        "RFC 6749 §4.1.2: a code works once",
        "let d5 = 0xD5;",
        "the provider's behaviour when 2 codes",
    ] {
        assert!(cites_the_design_contract(line).is_none(), "{line}");
    }
    assert_eq!(
        named_documents(
            "see ARCHITECTURE.md and book/src/setup.md, not https://x.example/a.md, {dir}/index.md or $page.md"
        ),
        ["ARCHITECTURE.md", "book/src/setup.md"]
    );
}
