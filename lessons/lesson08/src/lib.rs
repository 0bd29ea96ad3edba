//! Lesson 08 — Real providers.
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
    // TODO: 1. Parse client.authorize_url with url::Url and append, with query_pairs_mut():
    //          response_type=code, client_id, redirect_uri, scope (client.scope: all three
    //          take spaces in the request), state.
    //       2. Unless profile.pkce is PkceSupport::NotSupported, add code_challenge
    //          (code_challenge(verifier), from lesson 06) and code_challenge_method=S256.
    //       3. Append every (name, value) of profile.extra_authorize_params.
    todo!(
        "Step 1: build the authorization URL from the profile — see chapter 8 (book/src/lesson08/index.md)"
    )
}

/// Step 2: trades the code for tokens at the provider's token endpoint
/// (RFC 6749 §4.1.3), authenticating the client the provider's way.
pub fn request_token(
    profile: &ProviderProfile,
    client: &Client,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
) -> Result<TokenResponse, TokenError> {
    // TODO: 1. A ureq agent as in lesson 04: http_status_as_error(false), max_redirects(0).
    //       2. The form: grant_type=authorization_code, code, redirect_uri, and
    //          code_verifier unless profile.pkce is PkceSupport::NotSupported.
    //       3. POST it to client.token_url with the header Accept: application/json.
    //          With a secret, profile.client_auth says where it goes: the header
    //          Authorization: basic_auth(…) (lesson 04), or client_id and
    //          client_secret in the form. Without one: client_id in the form.
    //       4. Read the status, the Content-Type header and the body, and give them
    //          to read_token_response (Step 3).
    todo!(
        "Step 2: send the token request the profile's way — see chapter 8 (book/src/lesson08/index.md)"
    )
}

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
    // TODO: 1. 5xx: TokenError::ServerError; a status other than 200 or 4xx: UnexpectedStatus.
    //       2. The fields: form_fields(body) if the Content-Type (before any `;`) is
    //          application/x-www-form-urlencoded, else json_fields(body) (None: NotJson).
    //       3. An `error` field is an error whatever the status (GitHub answers 200):
    //          TokenError::Rejected, its code mapped through profile.error_codes when
    //          listed there, the provider's own code kept in the description.
    //       4. No error but not 200: NotJson. Else: access_token (missing: NotJson),
    //          token_type (missing means Bearer; another type: UnsupportedTokenType),
    //          expires_in as a number, refresh_token if any, scope split on commas and spaces.
    todo!(
        "Step 3: read the token response whatever the provider sends — see chapter 8 (book/src/lesson08/index.md)"
    )
}
