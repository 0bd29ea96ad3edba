//! Lessons 04–05, finished: what this lesson builds on.

use std::thread;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use labkit::{ApiError, Client, ErrorBody, Profile, Secret, TokenError, Tokens};

/// Lesson 04: an agent for the provider's endpoints. Error statuses are read,
/// not raised (their JSON bodies say what went wrong, RFC 6749 §5.2), and
/// redirects are not followed (they would send our credentials elsewhere).
pub fn token_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// Lesson 04: `Basic base64(client_id ":" client_secret)`, each part
/// form-encoded first, as RFC 6749 §2.3.1 asks (a secret may contain `:`).
pub fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}

/// Lesson 04: what an answer other than 200 from the provider means: a 4xx
/// with an RFC 6749 §5.2 error, a 5xx, or something no endpoint should send.
pub fn token_error(status: u16, body: &str) -> TokenError {
    match status {
        400..=499 => match serde_json::from_str::<ErrorBody>(body) {
            Ok(error) => TokenError::Rejected {
                status,
                code: error.error.as_str().into(),
                description: error.error_description,
            },
            Err(_) => TokenError::NotJson {
                status,
                body_start: labkit::body_start(body),
            },
        },
        500..=599 => TokenError::ServerError { status },
        _ => TokenError::UnexpectedStatus { status },
    }
}

/// Lesson 04: a token endpoint's answer, read: tokens from a 200 (Bearer only,
/// RFC 6749 §7.1), else the [`TokenError`] it means. As in lesson 08, an
/// `error` field is an error whatever the status, in JSON or in a form body:
/// GitHub answers a device poll with HTTP 200 and `authorization_pending`.
pub fn read_tokens(status: u16, body: &str) -> Result<Tokens, TokenError> {
    if status != 200 {
        return Err(token_error(status, body));
    }
    if let Some(error) = error_in_200(body) {
        return Err(TokenError::Rejected {
            status,
            code: error.error.as_str().into(),
            description: error.error_description,
        });
    }
    let tokens: Tokens = serde_json::from_str(body).map_err(|_| TokenError::NotJson {
        status,
        body_start: labkit::body_start(body),
    })?;
    if !tokens.token_type.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::UnsupportedTokenType(tokens.token_type));
    }
    Ok(tokens)
}

/// The `error` of a 200 answer, if it has one: JSON, or form-encoded (what
/// GitHub sends without `Accept: application/json`).
fn error_in_200(body: &str) -> Option<ErrorBody> {
    if let Ok(error) = serde_json::from_str::<ErrorBody>(body) {
        return Some(error);
    }
    let mut fields: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(body.trim().as_bytes())
            .into_owned()
            .collect();
    Some(ErrorBody {
        error: fields.remove("error")?,
        error_description: fields.remove("error_description"),
    })
}

/// Lesson 05: the user's profile, from `GET {api_url}/me` with the access token
/// in the Authorization header (RFC 6750 §2.1).
pub fn fetch_profile(client: &Client, token: &Secret) -> Result<Profile, ApiError> {
    let mut response = token_agent()
        .get(&format!("{}/me", client.api_url))
        .header("Authorization", &format!("Bearer {}", token.expose()))
        .call()
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let description = || {
        serde_json::from_str::<ErrorBody>(&body)
            .ok()
            .and_then(|e| e.error_description.or(Some(e.error)))
            .unwrap_or_else(|| labkit::body_start(&body))
    };
    match status {
        200 => serde_json::from_str(&body).map_err(|_| ApiError::Status {
            status,
            body_start: labkit::body_start(&body),
        }),
        401 => Err(ApiError::Unauthorized {
            description: description(),
        }),
        403 => Err(ApiError::Forbidden {
            description: description(),
        }),
        _ => Err(ApiError::Status {
            status,
            body_start: labkit::body_start(&body),
        }),
    }
}

/// Lesson 05: the real `sleep`, for the program; tests pass one that moves a clock instead.
pub fn real_sleep(duration: Duration) {
    thread::sleep(duration);
}
