//! Lesson 03 — Ask for permission.
//!
//! The program sends the person to the provider with an authorization URL
//! (RFC 6749 §4.1.1); the person logs in there and approves; the provider
//! sends the browser back to our listener with a code (§4.1.2).

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use labkit::{CallbackError, Client, Secret};

mod earlier;
pub use earlier::*;

/// Step 1: a fresh `state` for one authorization request: 256 bits from the
/// operating system's secure random source, in base64url (43 characters).
pub fn new_state() -> String {
    // TODO: 32 bytes from the operating system's secure random source, in base64url
    //       without padding (43 characters). Not a clock, a counter or a seeded
    //       generator: the checks look at the bytes.
    todo!("Step 1: make a fresh, unguessable state — see chapter 3 (book/src/lesson03/index.md)")
}

/// Step 2: the URL that asks the provider for permission (RFC 6749 §4.1.1).
pub fn authorization_url(client: &Client, redirect_uri: &str, state: &str) -> String {
    // TODO: The authorization endpoint with five parameters added (RFC 6749 §4.1.1):
    //       response_type=code, client_id, redirect_uri, scope and state. Every value
    //       encoded; a query the endpoint already has is kept (§3.1).
    todo!("Step 2: build the authorization URL — see chapter 3 (book/src/lesson03/index.md)")
}

/// Step 3: waits on `/callback` for the browser to come back with our `state`,
/// and returns the code. Other paths get 404, a wrong state gets an error page,
/// and neither ends the wait; an error from the provider (such as
/// `access_denied`) ends it; so does an answer from another issuer than `iss`
/// (when the provider sends one, RFC 9207), and the deadline.
pub fn wait_for_callback(
    server: &labkit::Listener,
    state: &str,
    iss: Option<&str>,
    deadline: Instant,
) -> Result<Secret, CallbackError> {
    // TODO: Answer requests until one ends the wait; past the deadline: TimedOut.
    //       - Another path than /callback: 404, keep waiting.
    //       - A parameter sent twice counts as absent (which one would be meant?).
    //       - A state other than ours, or none: 400, keep waiting.
    //       - Our state, and `iss` is Some but the answer's `iss` is absent or not
    //         exactly it: a page, then MixUp (RFC 9207 §2.4), before anything else.
    //       - Our state and an `error`: a page, then Denied for access_denied, else Provider.
    //       - Our state and a `code`: a success page that does not show it, then the code.
    //       - Our state, but neither: 400, keep waiting.
    todo!("Step 3: wait for the browser to come back — see chapter 3 (book/src/lesson03/index.md)")
}
