//! Lesson 01 — One request: the reference answer.
//!
//! A local listener that serves exactly one request and prints its query
//! parameters. Later, the provider will send the browser to such a listener
//! with `?code=…&state=…`: this is how a program on your machine hears back.

use std::io::{self, Write};

// ANCHOR: serve_one_request
/// Step 1: waits for one request, prints its query parameters to `out` (one
/// `name = "value"` line each, or `(no query parameters)`), answers 200, and
/// returns the parameters.
pub fn serve_one_request(
    server: &labkit::Listener,
    out: &mut dyn Write,
) -> io::Result<Vec<(String, String)>> {
    // `recv` blocks until a whole request has arrived.
    let request = server.recv()?;
    // `url()` is the request target: the path, then `?` and the query, if any.
    let query = request.url().split_once('?').map_or("", |(_, q)| q);
    let pairs = query_pairs(query);
    if pairs.is_empty() {
        writeln!(out, "(no query parameters)")?;
    }
    for (name, value) in &pairs {
        // `{:?}` quotes the value, so an empty one still shows.
        writeln!(out, "{name} = {value:?}")?;
    }
    // The browser waits for an answer: give it a page, with status 200.
    request.respond(labkit::page(
        200,
        "Got it",
        "The program printed the query parameters. You can close this tab.",
    ))?;
    Ok(pairs)
}
// ANCHOR_END: serve_one_request

// ANCHOR: query_pairs
/// Step 2: the query string's name/value pairs, decoded, in order, repeats kept.
///
/// ```
/// let pairs = solution01::query_pairs("name=alice&lang=en&lang=fr&note=hello+world");
/// assert_eq!(pairs[3], ("note".to_string(), "hello world".to_string()));
/// ```
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    // Browsers encode a query as a form: `+` is a space, `%XX` are UTF-8 bytes.
    // `form_urlencoded` undoes exactly that; splitting on `&` and `=` by hand
    // would break on `%26` and `%3D` inside values.
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}
// ANCHOR_END: query_pairs
