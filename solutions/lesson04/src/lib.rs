//! Lesson 04 — Trade the code for a token: the reference answer.
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

// ANCHOR: exchange_code
/// Step 1: sends the code to the token endpoint and returns the tokens, or a
/// [`TokenError`] saying exactly what went wrong (RFC 6749 §4.1.3, §5.1, §5.2).
pub fn exchange_code(
    client: &Client,
    code: &Secret,
    redirect_uri: &str,
) -> Result<Tokens, TokenError> {
    // ureq 3 turns 4xx/5xx into errors by default; here the error *bodies* are
    // the information we need (§5.2), so statuses are read, not raised.
    // Redirects are not followed: a token endpoint that redirects is misconfigured,
    // and following it would send our credentials elsewhere.
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        // The same redirect URI as in the authorization request: the provider checks it.
        ("redirect_uri", redirect_uri),
    ];
    // Some providers answer in another format unless asked for JSON.
    let mut request = agent
        .post(&client.token_url)
        .header("Accept", "application/json");
    match &client.client_secret {
        // A confidential client proves who it is with HTTP Basic (§2.3.1)…
        Some(secret) => {
            request = request.header(
                "Authorization",
                &basic_auth(&client.client_id, secret.expose()),
            );
        }
        // …a public client has no secret and just names itself.
        None => form.push(("client_id", &client.client_id)),
    }
    let mut response = request
        .send_form(form)
        .map_err(|e| TokenError::Network(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| TokenError::Network(e.to_string()))?;
    let not_json = || TokenError::NotJson {
        status,
        body_start: labkit::body_start(&body),
    };
    match status {
        200 => {
            let tokens: Tokens = serde_json::from_str(&body).map_err(|_| not_json())?;
            // §7.1: never use a token of a type we do not understand.
            if !tokens.token_type.eq_ignore_ascii_case("bearer") {
                return Err(TokenError::UnsupportedTokenType(tokens.token_type));
            }
            Ok(tokens)
        }
        400..=499 => {
            let error: ErrorBody = serde_json::from_str(&body).map_err(|_| not_json())?;
            Err(TokenError::Rejected {
                status,
                code: error.error.as_str().into(),
                description: error.error_description,
            })
        }
        500..=599 => Err(TokenError::ServerError { status }),
        _ => Err(TokenError::UnexpectedStatus { status }),
    }
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
// ANCHOR_END: exchange_code
