//! Workspace-wide checks: the layout of DESIGN D2 and the test rules of D6.

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

/// DESIGN D6: tests pick ephemeral ports, so they can run in parallel.
#[test]
fn no_test_binds_a_fixed_port() {
    let mut files = Vec::new();
    rust_files(&root(), &mut files);
    // A URL naming port 9000 is only an example; binding or listening on it is the problem.
    let binds = ["bind(", "listen(", "Server::http(", "\"--port\""];
    let fixed = ["8000", "8080", "9000"];
    let offenders: Vec<String> = files
        .iter()
        .filter(|p| p.components().any(|c| c.as_os_str() == "tests"))
        .filter(|p| !p.ends_with("workspace.rs"))
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_default();
            text.lines()
                .enumerate()
                .filter(|(_, line)| binds.iter().any(|b| line.contains(b)))
                .filter(|(_, line)| fixed.iter().any(|port| line.contains(port)))
                .map(|(n, line)| format!("{}:{}: {}", p.display(), n + 1, line.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "use port 0 and read the port back: {offenders:?}"
    );
}
