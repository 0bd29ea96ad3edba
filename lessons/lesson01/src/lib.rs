//! Lesson 01 — One request.
//!
//! A local listener that serves exactly one request and prints its query
//! parameters. Later, the provider will send the browser to such a listener
//! with `?code=…&state=…`: this is how a program on your machine hears back.

use std::io::{self, Write};

/// Step 1: waits for one request, prints its query parameters to `out` (one
/// `name = "value"` line each, or `(no query parameters)`), answers 200, and
/// returns the parameters.
pub fn serve_one_request(
    server: &labkit::Listener,
    out: &mut dyn Write,
) -> io::Result<Vec<(String, String)>> {
    // TODO: Wait for one request. Decode the query part of its URL (after `?`; none is
    //       fine) with your query_pairs. Print one `name = "value"` line per pair, in
    //       order, or `(no query parameters)`. Answer the browser with a page and
    //       status 200, then return the pairs.
    todo!(
        "Step 1: serve one request and print its parameters — see chapter 1 (book/src/lesson01/index.md)"
    )
}

/// Step 2: the query string's name/value pairs, decoded, in order, repeats kept.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    // TODO: Decode the query as browsers encode forms (`+` is a space, `%XX` are
    //       UTF-8 bytes) into name/value pairs: in order, repeats and empty values kept.
    todo!("Step 2: decode the query string — see chapter 1 (book/src/lesson01/index.md)")
}
