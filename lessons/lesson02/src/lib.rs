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
    // TODO: 1. Listen first: let server = labkit::listen(port)?;
    //       2. Build http://127.0.0.1:PORT/?name=value… (a query, so there is something to print)
    //          with the port the listener really got (labkit::port_of).
    //       3. Print the URL to `out`, then call open(&url); if that fails, say so and keep going.
    //       4. Serve the one request with serve_one_request and return its pairs.
    todo!("Step 1: listen, then open the browser — see chapter 2 (book/src/lesson02/index.md)")
}
