//! Lesson 04 — Trade the code for a token.
//!
//! The code came through the browser, where anyone looking could see it. It is
//! worth nothing alone: the program now sends it, with its own credentials,
//! straight to the token endpoint (RFC 6749 §4.1.3) and gets an access token.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use labkit::{Client, ErrorBody, Secret, TokenError, Tokens};

mod earlier;
pub use earlier::*;

/// Step 1: sends the code to the token endpoint and returns the tokens, or a
/// [`TokenError`] saying exactly what went wrong (RFC 6749 §4.1.3, §5.1, §5.2).
pub fn exchange_code(
    client: &Client,
    code: &Secret,
    redirect_uri: &str,
) -> Result<Tokens, TokenError> {
    // TODO: POST a form to the token endpoint (RFC 6749 §4.1.3): grant_type=authorization_code,
    //       code, redirect_uri; ask for JSON; follow no redirects. With a client secret,
    //       authenticate with HTTP Basic (§2.3.1); without one, put client_id in the form.
    //       Read the answer whatever its status: 200 → Tokens (Bearer only, else
    //       UnsupportedTokenType); 4xx → Rejected with the body's error (§5.2); 5xx →
    //       ServerError; other → UnexpectedStatus; a body that does not parse → NotJson.
    todo!("Step 1: trade the code for tokens — see chapter 4 (book/src/lesson04/index.md)")
}

/// `Basic base64(client_id ":" client_secret)`, each part form-encoded first, as
/// RFC 6749 §2.3.1 asks (a secret may contain `:`).
fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}
