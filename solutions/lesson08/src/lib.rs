//! Lesson 08 — Real providers: the reference answer.
//!
//! GitHub, Google and LinkedIn all speak OAuth 2.0, each with its own accent:
//! where the client secret goes, whether PKCE is welcome, what format the token
//! response comes in, how errors look. The accents are written down once, as
//! data ([`ProviderProfile`]), and the three steps read them.

use std::time::Duration;

use labkit::{Client, ErrorCode, Secret, TokenError};

mod earlier;
mod providers;
pub use earlier::*;
pub use providers::*;

// ANCHOR: authorization_url
/// Step 1: the authorization URL for this provider (RFC 6749 §4.1.1): the
/// scopes joined its way, PKCE if it takes it (RFC 7636 §4.3), and its own
/// extra parameters (Google's `access_type=offline` for a refresh token).
pub fn authorization_url(
    profile: &ProviderProfile,
    client: &Client,
    redirect_uri: &str,
    state: &str,
    verifier: &Secret,
) -> String {
    // All three take the scopes space-separated in the request (RFC 6749 §3.3),
    // whatever they send back.
    let scope = &client.scope;
    let mut url =
        url::Url::parse(&client.authorize_url).expect("the authorization endpoint is a URL");
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", scope)
            .append_pair("state", state);
        // Only the challenge travels through the browser; the verifier waits
        // for the token request.
        if profile.pkce != PkceSupport::NotSupported {
            query
                .append_pair("code_challenge", &code_challenge(verifier))
                .append_pair("code_challenge_method", "S256");
        }
        for (name, value) in profile.extra_authorize_params {
            query.append_pair(name, value);
        }
    }
    url.into()
}
// ANCHOR_END: authorization_url

// ANCHOR: request_token
/// Step 2: trades the code for tokens at the provider's token endpoint
/// (RFC 6749 §4.1.3), authenticating the client the provider's way.
pub fn request_token(
    profile: &ProviderProfile,
    client: &Client,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
) -> Result<TokenResponse, TokenError> {
    // Error statuses are read, not raised; redirects are not followed (they
    // would carry our credentials elsewhere).
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri),
    ];
    // The verifier only if the authorization URL carried its challenge.
    if profile.pkce != PkceSupport::NotSupported {
        form.push(("code_verifier", verifier.expose()));
    }
    // Always ask for JSON: GitHub answers a form-encoded body otherwise.
    let mut request = agent
        .post(&client.token_url)
        .header("Accept", "application/json");
    match (&client.client_secret, profile.client_auth) {
        (Some(secret), ClientAuth::BasicHeader) => {
            request = request.header(
                "Authorization",
                &basic_auth(&client.client_id, secret.expose()),
            );
        }
        // Never both: RFC 6749 §2.3 allows one method per request.
        (Some(secret), ClientAuth::InBody) => {
            form.push(("client_id", &client.client_id));
            form.push(("client_secret", secret.expose()));
        }
        (None, _) => form.push(("client_id", &client.client_id)),
    }
    let mut response = request
        .send_form(form)
        .map_err(|e| TokenError::Network(e.to_string()))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| TokenError::Network(e.to_string()))?;
    read_token_response(profile, status, &content_type, &body)
}
// ANCHOR_END: request_token

// ANCHOR: read_token_response
/// Step 3: reads a token endpoint's answer, whatever the provider does: JSON or
/// a form-encoded body (by its `Content-Type`), an `error` field even with
/// HTTP 200 (GitHub), scopes split on commas or spaces, no refresh token,
/// extra fields (Google's `id_token`) ignored.
pub fn read_token_response(
    profile: &ProviderProfile,
    status: u16,
    content_type: &str,
    body: &str,
) -> Result<TokenResponse, TokenError> {
    match status {
        500..=599 => return Err(TokenError::ServerError { status }),
        200 | 400..=499 => {}
        _ => return Err(TokenError::UnexpectedStatus { status }),
    }
    let not_understood = || TokenError::NotJson {
        status,
        body_start: labkit::body_start(body),
    };
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    let fields = if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        form_fields(body)
    } else {
        json_fields(body).ok_or_else(not_understood)?
    };
    // An error is an error whatever the status: GitHub sends its errors with 200.
    if let Some(error) = fields.get("error") {
        let description = fields.get("error_description").cloned();
        return Err(
            match profile.error_codes.iter().find(|(own, _)| own == error) {
                // Typed by what it means, and the provider's own words kept, so a
                // person reads "redirect_uri_mismatch" and knows what to fix.
                Some((own, rfc)) => TokenError::Rejected {
                    status,
                    code: ErrorCode::from(*rfc),
                    description: Some(match description {
                        Some(d) => format!("{own}: {d}"),
                        None => own.to_string(),
                    }),
                },
                None => TokenError::Rejected {
                    status,
                    code: ErrorCode::from(error.as_str()),
                    description,
                },
            },
        );
    }
    if status != 200 {
        return Err(not_understood());
    }
    let access_token = fields.get("access_token").ok_or_else(not_understood)?;
    // LinkedIn's documented answer has no token_type; its tokens are Bearer.
    let token_type = fields
        .get("token_type")
        .cloned()
        .unwrap_or_else(|| "Bearer".into());
    // RFC 6749 §7.1: never use a token of a type we do not understand.
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::UnsupportedTokenType(token_type));
    }
    let expires_in = match fields.get("expires_in") {
        Some(seconds) => Some(seconds.parse().map_err(|_| not_understood())?),
        None => None,
    };
    Ok(TokenResponse {
        access_token: Secret::new(access_token),
        token_type,
        expires_in,
        refresh_token: fields.get("refresh_token").map(Secret::new),
        // RFC 6749 §3.3 says spaces; GitHub and LinkedIn send commas.
        scopes: fields
            .get("scope")
            .map(|s| {
                s.split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

// ANCHOR_END: read_token_response
