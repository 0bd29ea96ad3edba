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
    // TODO: Lesson 03's five parameters (client.scope as it is: spaces), then, unless
    //       the profile says PKCE is not supported, lesson 06's challenge, then every
    //       extra parameter the profile lists.
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
    // TODO: Lesson 04's request, the profile's way: code_verifier unless the profile
    //       says PKCE is not supported; the client secret where profile.client_auth
    //       says (the Basic header, or the form); without a secret, client_id in the
    //       form. Hand the status, the Content-Type and the body to step 3.
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
    // TODO: 5xx: ServerError; a status other than 200 or 4xx: UnexpectedStatus.
    //       Read the fields as a form or as JSON, by the Content-Type (unreadable: NotJson).
    //       An `error` field is an error whatever the status (GitHub answers 200):
    //       Rejected, its code mapped through profile.error_codes, the provider's own
    //       code kept in the description. No error but not 200: NotJson. Else the tokens:
    //       access_token (missing: NotJson), token_type (missing means Bearer; another:
    //       UnsupportedTokenType), expires_in, refresh_token if any, scope split on
    //       commas and spaces.
    todo!(
        "Step 3: read the token response whatever the provider sends — see chapter 8 (book/src/lesson08/index.md)"
    )
}
