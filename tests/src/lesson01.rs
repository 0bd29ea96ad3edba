//! Lesson 01 — One request: decode a query string; serve exactly one request.

use std::io;
use std::sync::{Arc, Mutex};

use crate::support::{get, within};

type Pairs = Vec<(String, String)>;

fn pairs(list: &[(&str, &str)]) -> Pairs {
    list.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// Compares decoded pairs with what was expected, and says which of the three
/// things went wrong: the order, the repeats, or the decoding itself.
fn assert_pairs(got: &Pairs, want: &Pairs, what: &str) {
    if got == want {
        return;
    }
    let sorted = |p: &Pairs| {
        let mut p = p.clone();
        p.sort();
        p
    };
    let distinct = |p: &Pairs| {
        let mut p = sorted(p);
        p.dedup_by(|a, b| a.0 == b.0);
        p.len()
    };
    let why = if sorted(got) == sorted(want) {
        "the right pairs, in another order: keep the order they came in (a HashMap loses it; \
         collect into a Vec)"
            .to_string()
    } else if got.len() < want.len() && distinct(got) == got.len() && distinct(want) < want.len() {
        "a repeated name kept only one of its values: keep every pair, repeats included \
         (a HashMap keeps one value per name; collect into a Vec)"
            .to_string()
    } else {
        what.to_string()
    };
    panic!("{why}\n  expected: {want:?}\n       got: {got:?}");
}

pub fn decodes_plus_percent_and_utf8(query_pairs: fn(&str) -> Pairs) {
    let got = query_pairs(
        "note=hello+world&path=%2Fhome%2Falice&name=%C3%A9l%C3%A8ve&crab=%F0%9F%A6%80&sp=a%20b",
    );
    assert_pairs(
        &got,
        &pairs(&[
            ("note", "hello world"),
            ("path", "/home/alice"),
            ("name", "élève"),
            ("crab", "🦀"),
            ("sp", "a b"),
        ]),
        "`+` is a space and `%XX` are UTF-8 bytes: decode both (url::form_urlencoded does)",
    );
}

pub fn keeps_order_and_repeated_keys(query_pairs: fn(&str) -> Pairs) {
    let got = query_pairs("b=2&a=1&b=3");
    assert_pairs(
        &got,
        &pairs(&[("b", "2"), ("a", "1"), ("b", "3")]),
        "keep the pairs in the order they came, repeats included (a HashMap loses both)",
    );
}

pub fn keeps_empty_values(query_pairs: fn(&str) -> Pairs) {
    let got = query_pairs("empty=&bare&x=1");
    assert_pairs(
        &got,
        &pairs(&[("empty", ""), ("bare", ""), ("x", "1")]),
        "`empty=` and `bare` are pairs with empty values",
    );
}

/// Any pairs a browser could encode come back as they were: 300 generated
/// cases from characters that need care (`+`, `%`, `&`, `=`, `#`, spaces,
/// accents, emoji, control characters), the same cases on every run.
pub fn round_trips_any_pairs(query_pairs: fn(&str) -> Pairs) {
    const TRICKY: &[char] = &[
        'a', 'Z', '0', ' ', '+', '%', '&', '=', '#', '?', '/', ';', '"', '\\', '~', '*', '\n',
        '\t', '\u{7f}', 'é', 'ß', '€', '漢', '🦀', '\u{fffd}',
    ];
    // A fixed xorshift sequence: the same cases on every run, no framework needed.
    struct Cases(u64);
    impl Cases {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
        fn text(&mut self) -> String {
            (0..self.below(9))
                .map(|_| TRICKY[self.below(TRICKY.len())])
                .collect()
        }
    }
    let mut cases = Cases(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let pairs: Pairs = (0..cases.below(6))
            .map(|_| (cases.text(), cases.text()))
            .collect();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        assert_pairs(
            &query_pairs(&query),
            &pairs,
            &format!("decoding the encoded query {query:?} must give back its pairs, in order"),
        );
    }
}

pub fn no_query_means_no_pairs(query_pairs: fn(&str) -> Pairs) {
    assert_eq!(
        query_pairs(""),
        Pairs::new(),
        "an empty query has no pairs (not one empty pair)"
    );
}

pub fn encoded_separators_stay_inside_values(query_pairs: fn(&str) -> Pairs) {
    let got = query_pairs("q=a%26b%3Dc&next=x");
    assert_pairs(
        &got,
        &pairs(&[("q", "a&b=c"), ("next", "x")]),
        "`%26` is an `&` inside a value, not a separator: split first, then decode",
    );
}

type Serve = fn(&labkit::Listener, &mut dyn io::Write) -> io::Result<Pairs>;

/// Serves one request on a fresh listener while `target` is fetched; returns
/// (what the function returned, what it printed, the HTTP status the browser got).
fn serve_and_fetch(serve: Serve, target: &str) -> (Pairs, String, u16) {
    let server = Arc::new(labkit::listen(0).expect("can listen on 127.0.0.1:0"));
    let port = labkit::port_of(&server);
    let printed = Arc::new(Mutex::new(Vec::new()));
    let (server2, printed2) = (server.clone(), printed.clone());
    let handle = std::thread::spawn(move || {
        let mut out = Vec::new();
        let result = serve(&server2, &mut out);
        *printed2.lock().unwrap() = out;
        result
    });
    // The browser, on its own thread: if the function stops early, this check
    // reports why at once instead of waiting for the browser to give up.
    let url = format!("http://127.0.0.1:{port}{target}");
    let browser = std::thread::spawn(move || get(&url).status);
    let result = within(
        10,
        "serve_one_request did not return after one request",
        move || handle.join(),
    );
    let returned = match result {
        Ok(r) => r.expect("serve_one_request returned an error"),
        Err(payload) => std::panic::resume_unwind(payload),
    };
    drop(server);
    let status = browser.join().expect("the browser got an answer");
    let printed = String::from_utf8(printed.lock().unwrap().clone()).expect("output is UTF-8");
    (returned, printed, status)
}

pub fn serves_one_request_prints_its_parameters_and_answers_200(serve: Serve) {
    let (returned, printed, status) = serve_and_fetch(
        serve,
        "/?name=alice&lang=en&lang=fr&empty=&note=hello+world",
    );
    assert_eq!(status, 200, "answer the browser with status 200");
    assert_pairs(
        &returned,
        &pairs(&[
            ("name", "alice"),
            ("lang", "en"),
            ("lang", "fr"),
            ("empty", ""),
            ("note", "hello world"),
        ]),
        "return the request's pairs, decoded, in order (query_pairs does it)",
    );
    let expected = include_str!("expected/lesson01_output.txt").trim_end();
    assert_eq!(
        printed.trim_end(),
        expected,
        "print one `name = \"value\"` line per pair, in order: writeln!(out, \"{{name}} = {{value:?}}\")"
    );
    // A value nobody could have typed in advance.
    let nonce = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let (returned, printed, _) = serve_and_fetch(serve, &format!("/callback?nonce={nonce}"));
    assert_pairs(
        &returned,
        &pairs(&[("nonce", &nonce)]),
        "return the pairs of the request that came",
    );
    assert!(
        printed.contains(&nonce),
        "print the pairs of the request that came, got:\n{printed}"
    );
}

pub fn says_so_when_there_is_no_query(serve: Serve) {
    let (returned, printed, status) = serve_and_fetch(serve, "/");
    assert_eq!(
        status, 200,
        "answer the browser with status 200, query or not"
    );
    assert!(returned.is_empty(), "no query, no pairs: got {returned:?}");
    assert_eq!(
        printed, "(no query parameters)\n",
        "print `(no query parameters)` when there are none"
    );
}

#[macro_export]
macro_rules! lesson01_suite {
    ($k:ident) => { $crate::lesson01_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            decodes_plus_percent_and_utf8 => $crate::lesson01::decodes_plus_percent_and_utf8($k::query_pairs);
            keeps_order_and_repeated_keys => $crate::lesson01::keeps_order_and_repeated_keys($k::query_pairs);
            keeps_empty_values => $crate::lesson01::keeps_empty_values($k::query_pairs);
            no_query_means_no_pairs => $crate::lesson01::no_query_means_no_pairs($k::query_pairs);
            round_trips_any_pairs => $crate::lesson01::round_trips_any_pairs($k::query_pairs);
            encoded_separators_stay_inside_values => $crate::lesson01::encoded_separators_stay_inside_values($k::query_pairs);
            serves_one_request_prints_its_parameters_and_answers_200 => $crate::lesson01::serves_one_request_prints_its_parameters_and_answers_200($k::serve_one_request);
            says_so_when_there_is_no_query => $crate::lesson01::says_so_when_there_is_no_query($k::serve_one_request);
        }
    };
}
