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
    // TODO: 1. Wait for a request: server.recv()?
    //       2. Take the part of request.url() after '?' (or "") and decode it with query_pairs.
    //       3. Print `(no query parameters)` or one `name = "value"` line per pair (`{name} = {value:?}`).
    //       4. Answer with request.respond(labkit::page(200, title, message))? and return the pairs.
    todo!(
        "Step 1: serve one request and print its parameters — see chapter 1 (book/src/lesson01/index.md)"
    )
}

/// Step 2: the query string's name/value pairs, decoded, in order, repeats kept.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    // TODO: Use url::form_urlencoded::parse on the bytes, then .into_owned().collect().
    todo!("Step 2: decode the query string — see chapter 1 (book/src/lesson01/index.md)")
}
