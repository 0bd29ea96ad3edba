//! Lesson 02 — Open the browser.
//!
//! The program opens the browser itself, at its own listener: nobody copies a
//! URL by hand. The order matters: listen first, then open the browser, or the
//! browser may knock before anyone is there to answer.

use std::io::{self, Write};

use labkit::LabError;

mod earlier;
pub use earlier::*;

/// Step 1: listens on 127.0.0.1:`port`, then opens the browser at the
/// listener's own URL (with a query), prints that URL, and serves the one
/// request the browser makes. If no browser opens, it says so and keeps
/// waiting: the person can open the printed URL by hand.
pub fn listen_and_open(
    port: u16,
    open: &dyn Fn(&str) -> io::Result<()>,
    out: &mut dyn Write,
) -> Result<Vec<(String, String)>, LabError> {
    // TODO: Listen first (a browser opened before the listener finds nobody home).
    //       Then print a URL to `out` that names the port the listener really got and
    //       carries a query (so there is something to print), and open it in the
    //       browser; if that fails, say so and go on. Serve that one request and
    //       return its pairs.
    todo!("Step 1: listen, then open the browser — see chapter 2 (book/src/lesson02/index.md)")
}
