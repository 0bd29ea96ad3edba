//! Lesson 10 — Use a library: the reference answer.
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

// ANCHOR: types
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
// ANCHOR_END: types

// ANCHOR: adapter
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
        let response = self.agent.run(request)?;
        let (parts, mut body) = response.into_parts();
        // ureq caps a body at 10 MB: a token answer is a few hundred bytes.
        let bytes = body.read_to_vec()?;
        Ok(HttpResponse::from_parts(parts, bytes))
    }
}
// ANCHOR_END: adapter

// ANCHOR: oauth_client
/// Step 2: lesson 04's `Client` as an oauth2 client. A public client (no
/// secret) names itself in the request body; a confidential one proves who it
/// is with HTTP Basic (RFC 6749 §2.3.1). `redirect_uri` is where the browser
/// comes back: the authorization flow needs it, refresh and logout do not.
pub fn oauth_client(client: &Client, redirect_uri: Option<&str>) -> Result<OAuthClient, LabError> {
    let mut oauth = BasicClient::new(ClientId::new(client.client_id.clone()))
        .set_auth_uri(endpoint(
            "authorization endpoint",
            &client.authorize_url,
            AuthUrl::new,
        )?)
        .set_token_uri(endpoint(
            "token endpoint",
            &client.token_url,
            TokenUrl::new,
        )?)
        .set_revocation_url_option(match &client.revoke_url {
            Some(url) => Some(endpoint("revocation endpoint", url, RevocationUrl::new)?),
            None => None,
        });
    if let Some(uri) = redirect_uri {
        oauth = oauth.set_redirect_uri(endpoint("redirect URI", uri, RedirectUrl::new)?);
    }
    Ok(match &client.client_secret {
        Some(secret) => oauth
            .set_client_secret(ClientSecret::new(secret.expose().to_string()))
            .set_auth_type(AuthType::BasicAuth),
        None => oauth.set_auth_type(AuthType::RequestBody),
    })
}
// ANCHOR_END: oauth_client

// ANCHOR: authorization_request
/// Step 3: the authorization URL (RFC 6749 §4.1.1) with a fresh state and an
/// S256 PKCE challenge (RFC 7636 §4.3); the verifier stays in the answer.
pub fn authorization_request(oauth: &OAuthClient, scope: &str) -> AuthRequest {
    // 32 random bytes, so a 43-character verifier, and its SHA-256 challenge.
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = oauth
        // The state: random, unguessable (RFC 6749 §10.12).
        .authorize_url(CsrfToken::new_random)
        .add_scopes(scope.split_whitespace().map(|s| Scope::new(s.to_string())))
        .set_pkce_challenge(challenge)
        .url();
    AuthRequest {
        url: url.into(),
        state,
        verifier,
    }
}
// ANCHOR_END: authorization_request

// ANCHOR: exchange_code
/// Step 4: the code and the verifier for tokens (RFC 6749 §4.1.3, RFC 7636
/// §4.5), stored as lesson 07 stores them.
pub fn exchange_code(
    oauth: &OAuthClient,
    http: &UreqClient,
    code: &Secret,
    verifier: PkceCodeVerifier,
    now: SystemTime,
) -> Result<StoredTokens, TokenError> {
    let http = Noted::new(http);
    let answer = oauth
        .exchange_code(AuthorizationCode::new(code.expose().to_string()))
        .set_pkce_verifier(verifier)
        .request(&http)
        .map_err(|e| http.token_error(e))?;
    Ok(stored_from(tokens_of(&answer)?, now))
}
// ANCHOR_END: exchange_code

// ANCHOR: refresh
/// Step 5: new tokens for old, with the refresh token grant (RFC 6749 §6).
pub fn refresh(
    oauth: &OAuthClient,
    http: &UreqClient,
    stored: &StoredTokens,
    now: SystemTime,
) -> Result<StoredTokens, TokenError> {
    let Some(refresh_token) = &stored.refresh_token else {
        // Nothing to send: the provider never said no, there is just no way to ask.
        return Err(TokenError::NoRefreshToken);
    };
    let http = Noted::new(http);
    // No scope: leaving it out asks for the same scope as before (§6).
    let answer = oauth
        .exchange_refresh_token(&RefreshToken::new(refresh_token.expose().to_string()))
        .request(&http)
        .map_err(|e| http.token_error(e))?;
    let mut fresh = stored_from(tokens_of(&answer)?, now);
    // Rotation (RFC 9700 §4.14): a new refresh token replaces the old one, which
    // the provider now refuses. No new one in the answer: the old one stays good.
    if fresh.refresh_token.is_none() {
        fresh.refresh_token = Some(refresh_token.clone());
    }
    // §5.1: a provider may leave out the scope when it is the one granted before.
    if fresh.scope.is_none() {
        fresh.scope = stored.scope.clone();
    }
    Ok(fresh)
}
// ANCHOR_END: refresh

// ANCHOR: revoke
/// Step 6: asks the provider to revoke the tokens (RFC 7009): the refresh
/// token first, which ends the whole grant (§2.1), then the access token, for
/// providers that do not end both together.
pub fn revoke(
    oauth: &OAuthClient,
    http: &UreqClient,
    client: &Client,
    stored: &StoredTokens,
) -> Result<(), LabError> {
    let mut tokens = Vec::new();
    if let Some(refresh_token) = &stored.refresh_token {
        let token = RefreshToken::new(refresh_token.expose().to_string());
        tokens.push((StandardRevocableToken::from(token), refresh_token));
    }
    let access = AccessToken::new(stored.access_token.expose().to_string());
    tokens.push((access.into(), &stored.access_token));
    for (token, secret) in tokens {
        let hint = token.type_hint().unwrap_or("access_token").to_string();
        match oauth.revoke_token(token) {
            Ok(request) => {
                let http = Noted::new(http);
                request.request(&http).map_err(|e| {
                    LabError(format!(
                        "the provider did not revoke the {} ({}): the saved tokens were kept, so you can try again",
                        hint.replace('_', " "),
                        http.token_error(e)
                    ))
                })?;
            }
            // RFC 7009 §2: the client MUST check that the endpoint is HTTPS, and
            // oauth2 does. The lab's provider runs on this machine, where plain
            // HTTP crosses no network: there, lesson 07's request does it.
            Err(ConfigurationError::InsecureUrl(_)) if on_loopback(oauth.revocation_url()) => {
                let url = oauth
                    .revocation_url()
                    .map(|u| u.as_str())
                    .unwrap_or_default();
                revoke_by_hand(client, url, secret, &hint)?;
            }
            Err(e) => {
                return Err(LabError(format!(
                    "cannot revoke the tokens: {e} (RFC 7009 §2); check --revoke-url"
                )));
            }
        }
    }
    Ok(())
}
// ANCHOR_END: revoke

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
