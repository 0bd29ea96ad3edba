//! Copy detection for `cargo grade --class`: what makes a lesson worth a
//! second look. A flag never changes a verdict; it says why to read the file.
//!
//! - the file is the reference solution, comments and layout aside;
//! - it reaches outside its own file (`#[path]`, `include!`, `include_str!`,
//!   `include_bytes!`) or is a link;
//! - a function the student wrote is, token for token, one that a later lesson
//!   ships finished in its `src/earlier.rs` (by design: later lessons carry the
//!   answers of earlier ones);
//! - it is near-identical to another student's file: k-gram fingerprints
//!   chosen by winnowing, as MOSS does (Schleimer, Wilkerson and Aiken,
//!   "Winnowing: local algorithms for document fingerprinting", SIGMOD 2003),
//!   counting only what the student wrote (not the shipped file, the
//!   solution or any `earlier.rs`).

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Tokens of Rust source, without comments and whitespace: two files with the
/// same tokens are the same program, however commented and laid out.
pub fn tokens(source: &str) -> Vec<String> {
    let chars: Vec<char> = source.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            continue;
        }
        // Raw strings: r"…", r#"…"#, br"…".
        let raw_at = if c == 'r' {
            Some(i + 1)
        } else if c == 'b' && at(i + 1) == 'r' {
            Some(i + 2)
        } else {
            None
        };
        if let Some(mut j) = raw_at {
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) == '"' {
                j += 1;
                loop {
                    if j >= chars.len() {
                        break;
                    }
                    if chars[j] == '"' && (1..=hashes).all(|h| at(j + h) == '#') {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push(chars[start..j.min(chars.len())].iter().collect());
                i = j;
                continue;
            }
        }
        if c == '"' || (c == 'b' && at(i + 1) == '"') {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push(chars[start..i.min(chars.len())].iter().collect());
            continue;
        }
        if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            let literal_end = if at(i + 1) == '\\' {
                (i + 2..chars.len()).find(|&j| chars[j] == '\'')
            } else if at(i + 2) == '\'' {
                Some(i + 2)
            } else {
                None
            };
            i = match literal_end {
                Some(end) => end + 1,
                None => {
                    let mut j = i + 1;
                    while at(j).is_alphanumeric() || at(j) == '_' {
                        j += 1;
                    }
                    j
                }
            };
            out.push(chars[start..i].iter().collect());
            continue;
        }
        if c.is_alphanumeric() || c == '_' {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
            continue;
        }
        out.push(c.to_string());
        i += 1;
    }
    out
}

/// How a student file reaches outside itself: `#[path = "…"]`, `include!(…)`,
/// `include_str!(…)`, `include_bytes!(…)` (outside comments).
pub fn reaches_outside(tokens: &[String]) -> Option<String> {
    for (i, t) in tokens.iter().enumerate() {
        let next = |n: usize| tokens.get(i + n).map(String::as_str).unwrap_or("");
        if t == "[" && next(1) == "path" && next(2) == "=" {
            return Some(format!("#[path = {}]", next(3)));
        }
        if matches!(t.as_str(), "include" | "include_str" | "include_bytes") && next(1) == "!" {
            return Some(format!("{t}!({})", next(3)));
        }
    }
    None
}

/// The functions of a file: name and tokens, from `fn` to its closing brace.
pub fn functions(tokens: &[String]) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "fn" && i + 1 < tokens.len() {
            let name = tokens[i + 1].clone();
            let Some(open) = (i..tokens.len()).find(|&j| tokens[j] == "{" || tokens[j] == ";")
            else {
                break;
            };
            if tokens[open] == ";" {
                i = open + 1;
                continue;
            }
            let mut depth = 0;
            let mut end = open;
            for (j, t) in tokens.iter().enumerate().skip(open) {
                match t.as_str() {
                    "{" => depth += 1,
                    "}" => {
                        depth -= 1;
                        if depth == 0 {
                            end = j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            out.push((name, tokens[i..=end].to_vec()));
            i = end + 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Functions whose body has fewer tokens are not counted as copied: a short
/// one is written the same way by everyone who reads the hints.
const SMALLEST_COPY: usize = 50;

/// The functions the student wrote (not as shipped) that are, token for token,
/// functions of `earlier` (a later lesson's `src/earlier.rs`).
pub fn copied_functions(student: &[String], shipped: &[String], earlier: &[String]) -> Vec<String> {
    let shipped = functions(shipped);
    let earlier = functions(earlier);
    functions(student)
        .into_iter()
        .filter(|(_, tokens)| {
            let body = tokens.iter().position(|t| t == "{").unwrap_or(0);
            tokens.len() - body >= SMALLEST_COPY
        })
        .filter(|f| !shipped.contains(f))
        .filter(|f| earlier.contains(f))
        .map(|(name, _)| name)
        .collect()
}

/// Tokens in a k-gram.
const K: usize = 12;
/// Winnowing window: any match of K + W - 1 tokens is found.
const W: usize = 4;

/// The winnowed fingerprints of a token sequence: of every W consecutive
/// k-gram hashes, the smallest (the rightmost of equals).
pub fn fingerprints(tokens: &[String]) -> HashSet<u64> {
    let hashes: Vec<u64> = tokens
        .windows(K)
        .map(|gram| {
            let mut h = DefaultHasher::new();
            gram.hash(&mut h);
            h.finish()
        })
        .collect();
    if hashes.len() < W {
        return hashes.into_iter().collect();
    }
    hashes
        .windows(W)
        .map(|w| *w.iter().min().unwrap())
        .collect()
}

/// Fewer fingerprints of one's own than this, and a file says too little to
/// be compared with another student's.
pub const FEWEST_FINGERPRINTS: usize = 8;

/// How much of two students' own writing is shared: the shared fingerprints
/// over the smaller of the two sets, 0 to 1.
pub fn similarity(a: &HashSet<u64>, b: &HashSet<u64>) -> f64 {
    let smaller = a.len().min(b.len());
    if smaller < FEWEST_FINGERPRINTS {
        return 0.0;
    }
    a.intersection(b).count() as f64 / smaller as f64
}

/// From this similarity on, two students' files are flagged.
pub const NEAR_IDENTICAL: f64 = 0.8;

/// One student's file of one lesson, as the class comparison sees it.
pub struct Submitted {
    pub student: String,
    /// The tokens of the student's file (all files of the lesson, in order).
    pub tokens: Vec<String>,
    /// A link in the student's lesson folder, if any (path relative to the course).
    pub link: Option<String>,
}

/// What a lesson's files are compared with.
pub struct Reference {
    pub shipped: Vec<String>,
    pub solution: Vec<String>,
    /// `src/earlier.rs` of each later lesson: its path and tokens.
    pub earlier: Vec<(String, Vec<String>)>,
}

/// The flag of each student's file of one lesson (`None`: nothing to see).
pub fn flags(reference: &Reference, class: &[Submitted]) -> Vec<Option<String>> {
    let mut course: HashSet<u64> = fingerprints(&reference.shipped);
    course.extend(fingerprints(&reference.solution));
    for (_, e) in &reference.earlier {
        course.extend(fingerprints(e));
    }
    let own: Vec<HashSet<u64>> = class
        .iter()
        .map(|s| {
            if s.tokens == reference.shipped {
                HashSet::new()
            } else {
                fingerprints(&s.tokens)
                    .difference(&course)
                    .copied()
                    .collect()
            }
        })
        .collect();
    class
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut why: Vec<String> = Vec::new();
            if let Some(link) = &s.link {
                why.push(format!("a link: {link}"));
            }
            if s.tokens != reference.shipped {
                if !s.tokens.is_empty() && s.tokens == reference.solution {
                    why.push("equals the reference solution (comments and layout aside)".into());
                }
                if let Some(how) = reaches_outside(&s.tokens) {
                    why.push(format!("reaches outside its file: {how}"));
                }
                // The nearest later lesson that ships a function of the file
                // (unless the file is the solution itself: that says it all).
                let copied = reference
                    .earlier
                    .iter()
                    .filter(|_| s.tokens != reference.solution)
                    .map(|(path, earlier)| {
                        (
                            path,
                            copied_functions(&s.tokens, &reference.shipped, earlier),
                        )
                    })
                    .find(|(_, copied)| !copied.is_empty());
                if let Some((path, copied)) = copied {
                    why.push(format!("{} as shipped in {path}", copied.join(", ")));
                }
            }
            let closest = class
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(j, other)| (similarity(&own[i], &own[j]), &other.student))
                .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)));
            if let Some((score, other)) = closest.filter(|(score, _)| *score >= NEAR_IDENTICAL) {
                why.push(format!(
                    "{:.0}% like {other}'s (of what each wrote)",
                    score * 100.0
                ));
            }
            (!why.is_empty()).then(|| why.join("; "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"
/// Lesson 03: a fresh state.
pub fn new_state() -> String {
    // 256 bits from the OS.
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system has no random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn authorization_url(client: &Client, redirect_uri: &str, state: &str) -> String {
    let mut url = url::Url::parse(&client.authorize_url).expect("a valid URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state);
    url.into()
}
"#;

    const SHIPPED: &str = r#"
pub fn new_state() -> String {
    // TODO: 32 random bytes, base64url.
    todo!("Step 1: make a fresh, unguessable state")
}

pub fn authorization_url(client: &Client, redirect_uri: &str, state: &str) -> String {
    todo!("Step 2: build the authorization URL")
}
"#;

    fn reference() -> Reference {
        Reference {
            shipped: tokens(SHIPPED),
            solution: tokens(ANSWER),
            earlier: vec![],
        }
    }

    fn submitted(student: &str, source: &str) -> Submitted {
        Submitted {
            student: student.into(),
            tokens: tokens(source),
            link: None,
        }
    }

    #[test]
    fn comments_and_layout_do_not_count_strings_do() {
        let relaid = ANSWER
            .replace("    ", "\t")
            .replace(
                "// 256 bits from the OS.",
                "/* my own /* nested */ words */",
            )
            .replace("/// Lesson 03: a fresh state.", "");
        assert_eq!(tokens(&relaid), tokens(ANSWER));
        assert_ne!(
            tokens(&ANSWER.replace("\"code\"", "\"code \"")),
            tokens(ANSWER)
        );
        assert_eq!(
            tokens("let s = r#\"a \" // b\"#; 'x' 'a '\\n' b\"q\" // c"),
            [
                "let",
                "s",
                "=",
                "r#\"a \" // b\"#",
                ";",
                "'x'",
                "'a",
                "'\\n'",
                "b\"q\""
            ]
        );
    }

    #[test]
    fn the_reference_solution_is_flagged_however_laid_out() {
        let class = [
            submitted("ann", &ANSWER.replace("\n\n", "\n\n\n// mine\n")),
            submitted("bob", SHIPPED),
        ];
        let flags = flags(&reference(), &class);
        assert!(
            flags[0].as_deref().unwrap().contains("reference solution"),
            "{flags:?}"
        );
        assert_eq!(flags[1], None, "as shipped is no copy");
    }

    #[test]
    fn reaching_outside_the_file_is_flagged_unless_in_a_comment() {
        for cheat in [
            "#[path = \"../../../solutions/lesson06/src/lib.rs\"]\nmod answer;\npub use answer::*;",
            "include!(\"../../../solutions/lesson06/src/lib.rs\");",
            "const A: &str = include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/x\"));",
            "const A: &[u8] = include_bytes!(\"/etc/passwd\");",
        ] {
            let flags = flags(&reference(), &[submitted("eve", cheat)]);
            assert!(
                flags[0]
                    .as_deref()
                    .unwrap()
                    .contains("reaches outside its file"),
                "{cheat}: {flags:?}"
            );
        }
        let fine = "// never #[path = \"x\"] or include!(\"y\")\npub fn a() {}";
        assert_eq!(flags(&reference(), &[submitted("ann", fine)])[0], None);
    }

    #[test]
    fn a_link_is_flagged() {
        let mut linked = submitted("eve", SHIPPED);
        linked.link = Some("lessons/lesson03/src/lib.rs".into());
        let flags = flags(&reference(), &[linked]);
        assert!(
            flags[0]
                .as_deref()
                .unwrap()
                .starts_with("a link: lessons/lesson03")
        );
    }

    #[test]
    fn a_function_copied_from_a_later_lesson_s_earlier_rs_is_flagged() {
        // Lesson 04 ships lesson 03's answer, with comments of its own.
        let earlier = ANSWER.replace("// 256 bits from the OS.", "// Lesson 03, finished.");
        let reference = Reference {
            solution: tokens("pub fn other() {}"),
            earlier: vec![("lessons/lesson04/src/earlier.rs".into(), tokens(&earlier))],
            ..reference()
        };
        let copied = SHIPPED.replace(
            "    todo!(\"Step 2: build the authorization URL\")\n",
            &ANSWER[ANSWER.find("    let mut url").unwrap()..ANSWER.rfind('}').unwrap()],
        );
        let flags = flags(&reference, &[submitted("eve", &copied)]);
        assert_eq!(
            flags[0].as_deref(),
            Some("authorization_url as shipped in lessons/lesson04/src/earlier.rs"),
        );
    }

    #[test]
    fn near_identical_students_are_flagged_with_each_other_s_name() {
        // Their own version (not the solution's names), one copied from the other.
        let own = ANSWER
            .replace("bytes", "buffer")
            .replace("url", "address")
            .replace("expect(\"a valid URL\")", "unwrap()");
        let copy = own
            .replace("    ", "  ")
            .replace("// 256 bits from the OS.", "");
        let different = SHIPPED.replace(
            "    todo!(\"Step 1: make a fresh, unguessable state\")\n",
            "    let mut raw = [7u8; 64];\n    getrandom::fill(&mut raw).unwrap();\n    base64::encode(raw).replace('+', \"-\").replace('/', \"_\").trim_end_matches('=').to_string()\n",
        );
        let class = [
            submitted("ann", &own),
            submitted("bob", &copy),
            submitted("cid", &different),
        ];
        let flagged = flags(&reference(), &class);
        assert!(
            flagged[0].as_deref().unwrap().contains("100% like bob's"),
            "{flagged:?}"
        );
        assert!(
            flagged[1].as_deref().unwrap().contains("100% like ann's"),
            "{flagged:?}"
        );
        assert_eq!(flagged[2], None, "{flagged:?}");
        // Two who both copied the solution share only the course's code.
        let class = [submitted("ann", ANSWER), submitted("bob", ANSWER)];
        for flag in flags(&reference(), &class) {
            assert!(!flag.unwrap().contains("like"));
        }
    }
}
