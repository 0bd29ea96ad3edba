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
    // TODO: Fill 32 bytes with getrandom::getrandom, then encode them with URL_SAFE_NO_PAD.encode.
    todo!("Step 1: make a fresh, unguessable state — see chapter 3 (book/src/lesson03/index.md)")
}

/// Step 2: the URL that asks the provider for permission (RFC 6749 §4.1.1).
pub fn authorization_url(client: &Client, redirect_uri: &str, state: &str) -> String {
    // TODO: Parse client.authorize_url with url::Url::parse, then append response_type=code,
    //       client_id, redirect_uri, scope and state with url.query_pairs_mut().append_pair(…).
    todo!("Step 2: build the authorization URL — see chapter 3 (book/src/lesson03/index.md)")
}

/// Step 3: waits on `/callback` for the browser to come back with our `state`,
/// and returns the code. Other paths get 404, a wrong state gets an error page,
/// and neither ends the wait; an error from the provider (such as
/// `access_denied`) ends it; so does the deadline.
pub fn wait_for_callback(
    server: &labkit::Listener,
    state: &str,
    deadline: Instant,
) -> Result<Secret, CallbackError> {
    // TODO: Loop: server.recv_timeout(time left until the deadline) — Ok(None) means time is up.
    //       A path other than /callback: answer 404 and keep waiting.
    //       Decode the query with query_pairs. A state other than ours: answer 400 and keep waiting.
    //       An `error` parameter: answer a page, return Denied (access_denied) or Provider.
    //       A `code`: answer a success page that does not show it, return Ok(Secret::new(code)).
    //       Pages: labkit::page(status, title, message); bad news: labkit::notice(title, message).
    todo!("Step 3: wait for the browser to come back — see chapter 3 (book/src/lesson03/index.md)")
}
