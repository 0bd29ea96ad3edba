//! Lesson 10 — Use a library.
//!
//! Lessons 03–07 wrote the authorization-code flow by hand. Here the `oauth2`
//! crate builds the URL, makes the PKCE pair and the state, sends the token
//! requests and reads their answers. The program keeps what is its own: the
//! listener, the token cache, and its HTTP client, ureq 3, which the library
//! reaches through a small adapter.

use std::time::{Duration, SystemTime};

use labkit::{Client, LabError, Secret, TokenError};
use oauth2::basic::BasicClient;
use oauth2::{
    AccessToken, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, ConfigurationError,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, HttpRequest, HttpResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RevocableToken, RevocationUrl,
    Scope, StandardRevocableToken, SyncHttpClient, TokenUrl,
};

mod convert;
mod earlier;
pub use convert::*;
pub use earlier::*;

/// The library itself, for the checks in `tests/`, which reach it through this crate.
pub use oauth2;

/// An oauth2 client for one provider. The type says which endpoints are set:
/// authorization and token yes, device and introspection no, revocation if the
/// provider has one (`EndpointMaybeSet`).
pub type OAuthClient =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointSet>;

/// Where to send the browser, and what to keep until it comes back.
pub struct AuthRequest {
    pub url: String,
    /// The `state` in the URL: the browser must come back with it.
    pub state: CsrfToken,
    /// The PKCE verifier: it stays here until the code exchange.
    pub verifier: PkceCodeVerifier,
}

/// The HTTP client oauth2 sends its requests with: ureq 3, the workspace's
/// only HTTP client. (oauth2's own `ureq` feature would build ureq 2 as well.)
pub struct UreqClient {
    agent: ureq::Agent,
}

impl UreqClient {
    pub fn new() -> Self {
        let agent = ureq::Agent::config_builder()
            // An error status is an answer, and its body (RFC 6749 §5.2) is what
            // oauth2 reads to say what went wrong: hand it over, do not raise it.
            .http_status_as_error(false)
            // oauth2's documentation: do not follow redirects, or a server could
            // send the token request, code and all, somewhere else (SSRF).
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(30)))
            .build();
        UreqClient {
            agent: agent.into(),
        }
    }
}

impl Default for UreqClient {
    fn default() -> Self {
        Self::new()
    }
}

/// Step 1: oauth2 builds an `http::Request`, ureq 3 sends it and answers an
/// `http::Response`. Both speak the `http` crate: the adapter only has to read
/// the body into bytes. Status, headers and body pass through untouched.
impl SyncHttpClient for UreqClient {
    type Error = ureq::Error;

    fn call(&self, request: HttpRequest) -> Result<HttpResponse, Self::Error> {
        // TODO: Send oauth2's request with the agent and hand the answer back whole:
        //       status, headers and body as bytes, untouched.
        todo!(
            "Step 1: adapt ureq 3 to oauth2's HTTP client — see chapter 10 (book/src/lesson10/index.md)"
        )
    }
}

/// Step 2: lesson 04's `Client` as an oauth2 client. A public client (no
/// secret) names itself in the request body; a confidential one proves who it
/// is with HTTP Basic (RFC 6749 §2.3.1). `redirect_uri` is where the browser
/// comes back: the authorization flow needs it, refresh and logout do not.
pub fn oauth_client(client: &Client, redirect_uri: Option<&str>) -> Result<OAuthClient, LabError> {
    // TODO: An oauth2 client for `client`: its authorization, token and (if any)
    //       revocation endpoints, and the redirect URI if given. With a client secret,
    //       HTTP Basic authentication; without one, client_id in the request body.
    //       A URL that does not parse: a LabError naming which endpoint.
    todo!("Step 2: build the oauth2 client — see chapter 10 (book/src/lesson10/index.md)")
}

/// Step 3: the authorization URL (RFC 6749 §4.1.1) with a fresh state and an
/// S256 PKCE challenge (RFC 7636 §4.3); the verifier stays in the answer.
pub fn authorization_request(oauth: &OAuthClient, scope: &str) -> AuthRequest {
    // TODO: The authorization URL with a fresh random state, each scope of `scope`
    //       (space-separated) and an S256 PKCE challenge; keep the URL, the state and
    //       the verifier in an AuthRequest.
    todo!(
        "Step 3: build the authorization URL with PKCE and a state — see chapter 10 (book/src/lesson10/index.md)"
    )
}

/// Step 4: the code and the verifier for tokens (RFC 6749 §4.1.3, RFC 7636
/// §4.5), stored as lesson 07 stores them.
pub fn exchange_code(
    oauth: &OAuthClient,
    http: &UreqClient,
    code: &Secret,
    verifier: PkceCodeVerifier,
    now: SystemTime,
) -> Result<StoredTokens, TokenError> {
    // TODO: Trade the code and the verifier for tokens with oauth2 over `http`, a
    //       failure as a TokenError that keeps the HTTP status, and the answer stored
    //       as lesson 07 stores it.
    todo!(
        "Step 4: trade the code and the verifier for tokens — see chapter 10 (book/src/lesson10/index.md)"
    )
}

/// Step 5: new tokens for old, with the refresh token grant (RFC 6749 §6).
pub fn refresh(
    oauth: &OAuthClient,
    http: &UreqClient,
    stored: &StoredTokens,
    now: SystemTime,
) -> Result<StoredTokens, TokenError> {
    // TODO: As in lesson 07: no saved refresh token is TokenError::NoRefreshToken,
    //       with nothing sent. Else the refresh grant, sent the way step 4 sends its
    //       grant. No refresh token in the answer means the old one stays good: keep it
    //       (and the old scope, if the answer names none).
    todo!("Step 5: refresh the tokens — see chapter 10 (book/src/lesson10/index.md)")
}

/// Step 6: asks the provider to revoke the tokens (RFC 7009): the refresh
/// token first, which ends the whole grant (§2.1), then the access token, for
/// providers that do not end both together.
pub fn revoke(
    oauth: &OAuthClient,
    http: &UreqClient,
    client: &Client,
    stored: &StoredTokens,
) -> Result<(), LabError> {
    // TODO: Revoke the refresh token (if any), then the access token, each with its
    //       type hint. oauth2 refuses a plain-http revocation endpoint: on loopback,
    //       revoke by hand as lesson 07 does; elsewhere, a LabError saying the endpoint
    //       must be HTTPS.
    todo!("Step 6: revoke the tokens — see chapter 10 (book/src/lesson10/index.md)")
}

/// `url` as one of oauth2's URL types (`TokenUrl::new`…), or an error that
/// says which URL is wrong.
fn endpoint<T>(
    what: &str,
    url: &str,
    parse: fn(String) -> Result<T, url::ParseError>,
) -> Result<T, LabError> {
    parse(url.to_string()).map_err(|e| {
        LabError(format!(
            "the {what} {url:?} is not a URL ({e}): give the whole URL, like https://provider.example/oauth/token"
        ))
    })
}

/// True for an endpoint on this machine: `127.0.0.0/8`, `[::1]` or `localhost`.
fn on_loopback(url: Option<&RevocationUrl>) -> bool {
    match url.and_then(|u| u.url().host()) {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}
