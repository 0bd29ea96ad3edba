//! The modules of `src/` stand in layers: each file imports only modules below
//! it in [`LAYERS`], so no two files import each other in a circle.
//!
//! Imports are read from the source text: `use crate::x…`, `crate::x::` paths,
//! `use crate::{a, b::C}` groups, `x::name` after `x` itself was imported, and
//! in `lib.rs` its `mod x;` declarations and `x::` paths. Comments, string
//! literals and `#[cfg(test)] mod` blocks are left out: a module's own tests
//! may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The files of `src/`, from the bottom layer to the top. Each may import only
/// the ones listed before it; a new file must be placed here.
const LAYERS: &[&str] = &[
    // Importing nothing of the crate.
    "clock",   // time, injectable
    "secrets", // making, digesting and shortening secrets
    "keys",    // the keys that sign ID tokens, and the JWK Set
    "params",  // strict query and form decoding
    "http",    // the HTTP/1.1 server
    "owner",   // the simulated resource owner, a client of the pages
    // Registrations, memory and pages.
    "config",      // clients, users, scopes, settings
    "data",        // each user's posts
    "trace",       // one line per protocol step, and its events
    "events_file", // --events-file: the steps as JSON Lines, read back on start
    "store",       // codes, grants and tokens
    "pages",       // the HTML pages
    "class",       // class-init: a class's config and handouts
    // What every endpoint shares.
    "state",    // `App`: settings, issuer, store and trace
    "endpoint", // JSON answers, OAuth errors, client authentication, token answers
    // The endpoints; the token endpoint hands the device grant to `device`.
    "metadata",
    "authorize",
    "resource",
    "oidc", // discovery, ID tokens, /userinfo; uses resource's bearer check
    "revoke",
    "device",
    "token",
    "lab", // the inspector
    // On top.
    "router", // which path and method go to which endpoint
    "lib",    // the crate root: `MockProvider` and the public names
    "main",   // the binary, a user of the library
];

/// Which module imports which, and the names each takes from the other.
type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// `text` without comments, and with string and character literals emptied,
/// so that neither can pass for code.
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        let after_ident = i > 0 && (c[i - 1].is_alphanumeric() || c[i - 1] == '_');
        if c[i] == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c[i] == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
            continue;
        }
        if !after_ident {
            // r"…", r#"…"#, br"…"
            let r = if c[i] == 'b' { i + 1 } else { i };
            if at(r) == 'r' {
                let mut k = r + 1;
                while at(k) == '#' {
                    k += 1;
                }
                let hashes = k - r - 1;
                if at(k) == '"' {
                    k += 1;
                    while k < c.len() && !(c[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#')) {
                        k += 1;
                    }
                    out.push_str("\"\"");
                    i = k + 1 + hashes;
                    continue;
                }
            }
            if c[i] == 'b' && at(i + 1) == '"' {
                i += 1;
            }
        }
        if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                i += if c[i] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i += 1;
            continue;
        }
        // A character literal; `'a` alone is a lifetime and stays.
        if c[i] == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // To the closing quote, past an escaped character.
            i += if at(i + 1) == '\\' { 3 } else { 2 };
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            out.push_str("' '");
            i += 1;
            continue;
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// `code` without its `#[cfg(test)] mod name { … }` blocks.
fn without_test_modules(code: &str) -> String {
    let mut code = code.to_string();
    let mut from = 0;
    while let Some(found) = code[from..].find("#[cfg(test)]") {
        let start = from + found;
        let rest = code[start + "#[cfg(test)]".len()..].trim_start();
        let is_module = rest
            .strip_prefix("mod")
            .is_some_and(|r| r.starts_with(char::is_whitespace));
        let open = code[start..].find(['{', ';']).map(|o| start + o);
        match open {
            Some(open) if is_module && code[open..].starts_with('{') => {
                let mut depth = 0;
                let mut end = code.len();
                for (i, b) in code.bytes().enumerate().skip(open) {
                    match b {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                end = i + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                code.replace_range(start..end, "");
                from = start;
            }
            _ => from = start + 1,
        }
    }
    code
}

/// Identifiers, `::`, and every other character alone.
fn tokens(code: &str) -> Vec<String> {
    let c: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_whitespace() {
            i += 1;
        } else if c[i].is_alphanumeric() || c[i] == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push(c[start..i].iter().collect());
        } else if c[i] == ':' && c.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else {
            out.push(c[i].to_string());
            i += 1;
        }
    }
    out
}

fn is_ident(token: &str) -> bool {
    token.starts_with(|c: char| c.is_alphabetic() || c == '_')
}

/// The paths of a use tree starting at `tokens[at]`, each after `prefix`:
/// `a::{b, c::d}` gives `a::b` and `a::c::d`. Returns where the tree ends.
fn use_tree(tokens: &[String], at: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
    let token = |i: usize| tokens.get(i).map_or("", String::as_str);
    match token(at) {
        "{" => {
            let mut i = at + 1;
            loop {
                match token(i) {
                    "}" => return i + 1,
                    "" => return i,
                    "," => i += 1,
                    _ => {
                        let next = use_tree(tokens, i, prefix, out);
                        if next == i {
                            return i;
                        }
                        i = next;
                    }
                }
            }
        }
        "*" => {
            out.push([prefix, &["*".to_string()]].concat());
            at + 1
        }
        segment if is_ident(segment) => {
            let path = [prefix, &[segment.to_string()]].concat();
            if token(at + 1) == "::" && (is_ident(token(at + 2)) || token(at + 2) == "{") {
                use_tree(tokens, at + 2, &path, out)
            } else {
                out.push(path);
                if token(at + 1) == "as" {
                    at + 3
                } else {
                    at + 1
                }
            }
        }
        _ => {
            out.push(prefix.to_vec());
            at
        }
    }
}

/// The modules `file` imports, with the names it takes from each. `modules`
/// are the files of `src/`; a crate path to anything else (a name re-exported
/// by the crate root) is an import from `lib`.
fn imports(
    file: &str,
    source: &str,
    modules: &BTreeSet<String>,
) -> BTreeMap<String, BTreeSet<String>> {
    let tokens = tokens(&without_test_modules(&code_only(source)));
    let token = |i: usize| tokens.get(i).map_or("", String::as_str);
    // How a path into this crate starts, in this file.
    let roots: &[&str] = match file {
        "lib" => &["crate"],
        "main" => &["mock_provider"],
        _ => &["crate", "super"],
    };
    let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Modules imported whole, whose `module::name` paths name what is used.
    let mut whole = BTreeSet::new();
    let mut take = |path: &[String], whole: &mut BTreeSet<String>| {
        let Some(first) = path.first() else { return };
        let (module, name) = if modules.contains(first) && first != "lib" && first != "main" {
            (first.clone(), path.get(1).cloned())
        } else {
            ("lib".to_string(), Some(first.clone()))
        };
        match name.filter(|n| n != "self") {
            Some(name) => {
                found.entry(module).or_default().insert(name);
            }
            None => {
                found.entry(module.clone()).or_default();
                whole.insert(module);
            }
        }
    };
    for i in 0..tokens.len() {
        let starts_path = i == 0 || !matches!(token(i - 1), "::" | ".");
        if starts_path && roots.contains(&token(i)) && token(i + 1) == "::" {
            let mut paths = Vec::new();
            use_tree(&tokens, i + 2, &[], &mut paths);
            for path in paths {
                take(&path, &mut whole);
            }
        }
        // The crate root owns its modules.
        if file == "lib"
            && token(i) == "mod"
            && modules.contains(token(i + 1))
            && token(i + 2) == ";"
        {
            take(&[token(i + 1).to_string()], &mut whole);
        }
    }
    for i in 0..tokens.len() {
        let starts_path = i == 0 || !matches!(token(i - 1), "::" | ".");
        if starts_path && whole.contains(token(i)) && token(i + 1) == "::" {
            let mut paths = Vec::new();
            use_tree(&tokens, i, &[], &mut paths);
            for path in paths {
                if let Some(name) = path.get(1) {
                    found
                        .get_mut(&path[0])
                        .expect("imported whole")
                        .insert(name.clone());
                }
            }
        }
    }
    for module in whole {
        let names = found.get_mut(&module).expect("imported whole");
        if names.is_empty() {
            names.insert(format!("mod {module}"));
        }
    }
    found.remove(file);
    found
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut sources = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("src/ is readable") {
        let path = entry.expect("src/ is readable").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let module = path.file_stem().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("a source file is readable");
            sources.insert(module, text);
        }
    }
    let modules: BTreeSet<String> = sources.keys().cloned().collect();
    sources
        .iter()
        .map(|(module, text)| (module.clone(), imports(module, text, &modules)))
        .collect()
}

fn names(graph: &Graph, from: &str, to: &str) -> String {
    graph[from][to]
        .iter()
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every module that `from` reaches by imports.
fn reach(graph: &Graph, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(module) = todo.pop() {
        for next in graph.get(&module).into_iter().flat_map(|m| m.keys()) {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn every_file_in_src_has_a_layer() {
    let files: BTreeSet<String> = graph().into_keys().collect();
    let listed: BTreeSet<String> = LAYERS.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        listed.len(),
        LAYERS.len(),
        "a module is listed twice in LAYERS"
    );
    let unplaced: Vec<_> = files.difference(&listed).collect();
    let gone: Vec<_> = listed.difference(&files).collect();
    assert!(
        unplaced.is_empty(),
        "place these files of src/ in LAYERS: {unplaced:?}"
    );
    assert!(
        gone.is_empty(),
        "LAYERS lists files that src/ does not have: {gone:?}"
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let graph = graph();
    let reaches: BTreeMap<&str, BTreeSet<String>> = graph
        .keys()
        .map(|m| (m.as_str(), reach(&graph, m)))
        .collect();
    let mut circles: BTreeSet<Vec<&str>> = BTreeSet::new();
    for (module, reached) in &reaches {
        if reached.contains(*module) {
            let circle = reached
                .iter()
                .map(String::as_str)
                .filter(|other| reaches[other].contains(*module))
                .collect();
            circles.insert(circle);
        }
    }
    let mut report = String::new();
    for circle in &circles {
        let files: Vec<_> = circle.iter().map(|m| format!("{m}.rs")).collect();
        report += &format!("\ncircle of {} files: {}\n", circle.len(), files.join(", "));
        for from in circle {
            for to in graph[*from]
                .keys()
                .filter(|to| circle.contains(&to.as_str()))
            {
                report += &format!("  {from}.rs -> {to}.rs: {}\n", names(&graph, from, to));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "modules import each other in a circle:{report}"
    );
}

#[test]
fn every_module_imports_only_layers_below_it() {
    let graph = graph();
    let layer = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut upward = Vec::new();
    for (from, imported) in &graph {
        for to in imported.keys() {
            let (Some(low), Some(high)) = (layer(from), layer(to)) else {
                continue;
            };
            if high > low {
                upward.push(format!(
                    "{from}.rs imports {} from {to}.rs, a higher layer ({from} is number {} in LAYERS, {to} number {})",
                    names(&graph, from, to),
                    low + 1,
                    high + 1,
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "modules import upward; move what they need down, or reorder LAYERS:\n{}",
        upward.join("\n")
    );
}

/// The reader itself, on a made-up file: every form of import counts, and
/// nothing in comments, strings or test modules does.
#[test]
fn the_reader_sees_every_form_of_import_and_nothing_else() {
    let modules: BTreeSet<String> = ["a", "b", "c", "d", "e", "f", "g", "lib", "z"]
        .map(String::from)
        .into();
    let source = r####"
        use crate::a::Alpha;
        use crate::{b, c::{Gamma, Delta as D}};
        use crate::d::{self, Dee};
        fn f<'x>(s: &'x str) -> char {
            let _ = b::beta(s);
            let _ = d::dee();
            let _ = crate::e::epsilon();
            let _ = crate::shorten(s);
            let _ = "crate::z::in_a_string";
            let _ = r#"crate::z::in_a_raw_string"#;
            // crate::z::in_a_comment
            /* crate::z::in_a /* nested */ comment */
            '{'
        }
        #[cfg(test)]
        mod tests {
            use super::*;
            use crate::z::Zed;
        }
        fn after_the_tests() { super::f::phi(); }
    "####;
    let found = imports("self", source, &modules);
    let names = |m: &str| -> Vec<&str> { found[m].iter().map(String::as_str).collect() };
    assert_eq!(
        found.keys().map(String::as_str).collect::<Vec<_>>(),
        ["a", "b", "c", "d", "e", "f", "lib"]
    );
    assert_eq!(names("a"), ["Alpha"]);
    assert_eq!(names("b"), ["beta"]);
    assert_eq!(names("c"), ["Delta", "Gamma"]);
    assert_eq!(names("d"), ["Dee", "dee"]);
    assert_eq!(names("e"), ["epsilon"]);
    assert_eq!(names("f"), ["phi"]);
    assert_eq!(names("lib"), ["shorten"]);
}
