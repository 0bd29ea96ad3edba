//! Lesson 02 — Open the browser: the reference answer.
//!
//! The program opens the browser itself, at its own listener: nobody copies a
//! URL by hand. The order matters: listen first, then open the browser, or the
//! browser may knock before anyone is there to answer.

use std::io::{self, Write};

use labkit::LabError;

mod earlier;
pub use earlier::*;

// ANCHOR: listen_and_open
/// Step 1: listens on 127.0.0.1:`port`, then opens the browser at the
/// listener's own URL (with a query), prints that URL, and serves the one
/// request the browser makes. If no browser opens, it says so and keeps
/// waiting: the person can open the printed URL by hand.
pub fn listen_and_open(
    port: u16,
    open: &dyn Fn(&str) -> io::Result<()>,
    out: &mut dyn Write,
) -> Result<Vec<(String, String)>, LabError> {
    // Listen first: from here on, a browser that comes is answered.
    let server = labkit::listen(port)?;
    // With port 0 the system picked the port: read it back from the listener.
    let url = format!(
        "http://127.0.0.1:{}/?from=lesson02&greeting=hello+from+the+browser",
        labkit::port_of(&server)
    );
    // Always print the URL: the browser may open on another screen, or not at all.
    writeln!(out, "Opening {url}")?;
    if open(&url).is_err() {
        writeln!(
            out,
            "Could not open a browser: open the URL above yourself. Waiting…"
        )?;
    }
    Ok(serve_one_request(&server, out)?)
}
// ANCHOR_END: listen_and_open
