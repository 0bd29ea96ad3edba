//! Lessons 01–06, finished: what this lesson builds on.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use labkit::{LabError, Secret};
use sha2::{Digest, Sha256};

/// Lesson 01: the query string's pairs, decoded, in order, repeats kept.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// Lesson 03: a fresh `state`: 256 bits from the operating system's secure
/// random source, in base64url (43 characters).
pub fn new_state() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system has no random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Lesson 06: a fresh PKCE code verifier (RFC 7636 §4.1).
pub fn new_verifier() -> Secret {
    Secret::new(new_state())
}

/// Lesson 06: the S256 code challenge (RFC 7636 §4.2).
pub fn code_challenge(verifier: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()))
}

/// Lesson 06: the listener on 127.0.0.1 (or [::1]), port 0 for any free one,
/// and the redirect URI naming the port it really got (RFC 8252 §7.3). A
/// port in use is an error that says so: a program that took the port first
/// would get the browser's answer (RFC 8252 §8.3).
pub fn bind_loopback(port: u16) -> Result<(labkit::Listener, String), LabError> {
    let (server, host) = labkit::listen_loopback(port)?;
    let port = labkit::port_of(&server);
    Ok((server, format!("http://{host}:{port}/callback")))
}
