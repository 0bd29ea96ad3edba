//! Lessons 03–06, finished, and what this lesson's verification needs but does
//! not teach: the discovery document, the key set (JWKS), the token's parts as
//! types, and the errors. Read it once; the lesson is in `src/lib.rs`.

use std::fmt;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use labkit::{CallbackError, Client, ErrorBody, LabError, Secret, TokenError, Tokens};
use serde::Deserialize;
use sha2::{Digest, Sha256};

// --- Lessons 03 and 06: the request, the listener, the callback -------------

/// Lesson 03: 256 bits from the operating system, in base64url. Used for the
/// `state`, and here also for the `nonce` (OpenID Connect Core §3.1.2.1).
pub fn new_state() -> String {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system has no random source");
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Lesson 06: the listener on 127.0.0.1 (any free port with 0) and its redirect URI.
pub fn bind_loopback(port: u16) -> Result<(labkit::Listener, String), LabError> {
    let (server, host) = labkit::listen_loopback(port)?;
    let port = labkit::port_of(&server);
    Ok((server, format!("http://{host}:{port}/callback")))
}

/// Lesson 06: a PKCE code verifier (RFC 7636 §4.1).
pub fn new_verifier() -> Secret {
    Secret::new(new_state())
}

/// Lesson 06: its S256 challenge (RFC 7636 §4.2).
pub fn code_challenge(verifier: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()))
}

/// Lesson 06's authorization URL, with the `nonce` of OpenID Connect Core
/// §3.1.2.1: the provider copies it into the ID token, which ties the token to
/// this one request.
pub fn authorization_url(
    client: &Client,
    redirect_uri: &str,
    state: &str,
    challenge: &str,
    nonce: &str,
) -> String {
    let mut url =
        url::Url::parse(&client.authorize_url).expect("the authorization endpoint is a URL");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", &client.scope)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("nonce", nonce);
    url.into()
}

/// Lesson 03: waits on `/callback` for the browser to come back with our `state`,
/// and returns the code. Other paths get 404, a wrong state gets an error page,
/// and neither ends the wait; an error from the provider (such as
/// `access_denied`) ends it; so does an answer from another issuer than `iss`
/// (when the provider sends one, RFC 9207), and the deadline.
pub fn wait_for_callback(
    server: &labkit::Listener,
    state: &str,
    iss: Option<&str>,
    deadline: Instant,
) -> Result<Secret, CallbackError> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let request = match server.recv_timeout(left) {
            Ok(Some(request)) => request,
            Ok(None) => return Err(CallbackError::TimedOut),
            Err(e) => return Err(CallbackError::Listener(e.to_string())),
        };
        let (path, query) = request.url().split_once('?').unwrap_or((request.url(), ""));
        if path != "/callback" {
            // The browser also asks for /favicon.ico; port scanners ask for anything.
            let _ = request.respond(labkit::page(
                404,
                "Not here",
                "This program only answers on /callback.",
            ));
            continue;
        }
        let pairs = query_pairs(query);
        // A parameter counts only if it comes exactly once.
        let get = |name: &str| {
            let mut values = pairs
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str());
            match (values.next(), values.next()) {
                (Some(v), None) => Some(v),
                _ => None,
            }
        };
        // Check the state before anything else: an answer with another state is
        // not for us (an attacker's, or an old tab's), even if it says "error".
        if get("state") != Some(state) {
            let _ = request.respond(labkit::page(
                400,
                "Not for this program",
                "This answer does not match the request this program made (wrong state), so it was ignored.",
            ));
            continue;
        }
        // Our state, so the answer is for us; but is it from the provider we
        // asked? One that names itself in every answer (RFC 9207) must name
        // itself here too, byte for byte: else another provider's answer, or
        // an attacker's code, reached us (a mix-up), and we stop before its
        // code goes anywhere (RFC 9207 §2.4).
        if let Some(expected) = iss {
            let got = get("iss");
            if got != Some(expected) {
                let _ = request.respond(labkit::page(
                    400,
                    "Answer from another provider",
                    "This answer does not come from the provider this program asked (its iss is wrong or missing), so its code was not used and the program stops. You can close this tab.",
                ));
                return Err(CallbackError::MixUp {
                    expected: expected.to_string(),
                    got: got.map(str::to_string),
                });
            }
        }
        if let Some(error) = get("error") {
            let description = get("error_description").map(str::to_string);
            let page = if error == "access_denied" {
                labkit::notice(
                    "No permission given",
                    "You did not allow access, so the program gets nothing and stops. You can close this tab.",
                )
            } else {
                labkit::notice(
                    "The provider refused the request",
                    &format!(
                        "The provider answered with the error {error:?}. The program stops and says why."
                    ),
                )
            };
            let _ = request.respond(page);
            return Err(match error {
                "access_denied" => CallbackError::Denied { description },
                other => CallbackError::Provider {
                    error: other.to_string(),
                    description,
                },
            });
        }
        let Some(code) = get("code") else {
            let _ = request.respond(labkit::page(
                400,
                "No code",
                "This answer has no code, so it was ignored.",
            ));
            continue;
        };
        // The page must not show the code: it would end up in screenshots and history.
        let _ = request.respond(labkit::page(
            200,
            "Permission received",
            "The program now trades the one-time code for an access token and reads only what you allowed. It never saw your password. You can close this tab.",
        ));
        return Ok(Secret::new(code));
    }
}

/// Lesson 01: the query string's pairs, decoded, in order, repeats kept.
fn query_pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

// --- Lesson 04 and 06: the token request --------------------------------------

/// The token answer of an OpenID Connect code flow: lesson 04's tokens and,
/// because the scope has `openid`, an ID token (OpenID Connect Core §3.1.3.3).
/// The ID token is a [`Secret`]: it is never printed whole.
#[derive(Debug)]
pub struct TokenAnswer {
    pub tokens: Tokens,
    pub id_token: Option<Secret>,
}

/// Lesson 06's exchange: the code and the PKCE verifier for tokens
/// (RFC 6749 §4.1.3, RFC 7636 §4.5), with the ID token kept.
pub fn exchange_code(
    client: &Client,
    code: &Secret,
    redirect_uri: &str,
    verifier: &Secret,
) -> Result<TokenAnswer, TokenError> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier.expose()),
    ];
    let mut request = agent()
        .post(&client.token_url)
        .header("Accept", "application/json");
    match &client.client_secret {
        Some(secret) => {
            request = request.header(
                "Authorization",
                &basic_auth(&client.client_id, secret.expose()),
            );
        }
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
            if !tokens.token_type.eq_ignore_ascii_case("bearer") {
                return Err(TokenError::UnsupportedTokenType(tokens.token_type));
            }
            #[derive(Deserialize)]
            struct IdTokenField {
                id_token: Option<Secret>,
            }
            let IdTokenField { id_token } = serde_json::from_str(&body).map_err(|_| not_json())?;
            Ok(TokenAnswer { tokens, id_token })
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

/// An agent that reads error statuses instead of raising them and follows no
/// redirects (lesson 04).
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// `Basic base64(client_id ":" client_secret)`, each part form-encoded (RFC 6749 §2.3.1).
fn basic_auth(client_id: &str, secret: &str) -> String {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", encode(client_id), encode(secret)))
    )
}

/// GETs a JSON document (the discovery document, the key set).
fn get_json<T: serde::de::DeserializeOwned>(url: &str, what: &str) -> Result<T, String> {
    let mut response = agent()
        .get(url)
        .header("Accept", "application/json")
        .call()
        .map_err(|e| format!("could not fetch the {what} at {url}: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| format!("could not read the {what} at {url}: {e}"))?;
    if status != 200 {
        return Err(format!(
            "the {what} at {url} answered {status}: no OpenID Provider there; check --issuer"
        ));
    }
    serde_json::from_str(&body).map_err(|e| {
        format!(
            "the {what} at {url} is not what was expected ({e}): it starts {}",
            labkit::body_start(&body)
        )
    })
}

// --- OpenID Connect Discovery 1.0 ---------------------------------------------

/// The fields of the provider's discovery document this program uses
/// (OpenID Connect Discovery 1.0 §3).
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
    /// The signing algorithms the provider announces for ID tokens.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// True when every authorization answer names the issuer (RFC 9207 §3).
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
}

/// Fetches `{issuer}/.well-known/openid-configuration` and checks that it
/// names the same issuer, character for character (Discovery §4.3): else
/// anyone who can serve that one document could speak for the provider.
pub fn discover(issuer: &str) -> Result<Discovery, LabError> {
    let issuer = issuer.trim_end_matches('/');
    let url = format!("{issuer}/.well-known/openid-configuration");
    let discovery: Discovery = get_json(&url, "discovery document").map_err(LabError)?;
    if discovery.issuer.trim_end_matches('/') != issuer {
        return Err(LabError(format!(
            "the discovery document at {url} names the issuer {:?}, not {issuer:?}: check --issuer",
            discovery.issuer
        )));
    }
    Ok(discovery)
}

// --- The keys: JWK (RFC 7517) ---------------------------------------------------

/// One public key of the provider's key set (RFC 7517 §4; the EC members are
/// RFC 7518 §6.2.1). Only what this program reads.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub alg: Option<String>,
    #[serde(default, rename = "use")]
    pub use_: Option<String>,
    #[serde(default)]
    pub crv: Option<String>,
    /// The curve point's coordinates, base64url (RFC 7518 §6.2.1.2–3).
    #[serde(default)]
    pub x: Option<String>,
    #[serde(default)]
    pub y: Option<String>,
}

/// The provider's key set as last fetched from `jwks_uri` (RFC 7517 §5), and
/// how to fetch it again when the provider has rotated its keys.
#[derive(Clone, Debug)]
pub struct Keys {
    pub jwks_uri: String,
    pub keys: Vec<Jwk>,
}

impl Keys {
    /// An empty set: the first unknown `kid` fetches it.
    pub fn new(jwks_uri: &str) -> Keys {
        Keys {
            jwks_uri: jwks_uri.to_string(),
            keys: Vec::new(),
        }
    }

    /// Fetches the key set again and keeps it.
    pub fn refetch(&mut self) -> Result<(), IdTokenError> {
        #[derive(Deserialize)]
        struct KeySet {
            keys: Vec<Jwk>,
        }
        let set: KeySet = get_json(&self.jwks_uri, "key set (JWKS)").map_err(IdTokenError::Jwks)?;
        self.keys = set.keys;
        Ok(())
    }

    /// The key with this `kid`, if the set has it.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid.as_deref() == Some(kid))
    }
}

// --- The token's parts: JWS (RFC 7515) and JWT (RFC 7519) -----------------------

/// The JOSE header of the ID token (RFC 7515 §4.1).
#[derive(Clone, Debug, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
}

/// `aud` is one string or a list of strings (RFC 7519 §4.1.3).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// Every audience, as a list.
    pub fn as_list(&self) -> Vec<&str> {
        match self {
            Audience::One(one) => vec![one.as_str()],
            Audience::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// The ID token's claims (OpenID Connect Core §2, §5.1). Times are Unix seconds.
#[derive(Clone, Debug, Deserialize)]
pub struct Claims {
    /// Who issued it: the provider's issuer URL.
    pub iss: String,
    /// Who the person is, at this issuer: stable, never reassigned (§5.7).
    pub sub: String,
    /// Whom it is for: our client id must be in it.
    pub aud: Audience,
    /// The client it was issued to, when there are several audiences.
    #[serde(default)]
    pub azp: Option<String>,
    /// When it expires.
    pub exp: u64,
    /// When it was issued.
    pub iat: u64,
    #[serde(default)]
    pub auth_time: Option<u64>,
    /// Our request's nonce, copied back.
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Can change, can be reused by someone else later: never a key (§5.7).
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
}

/// The token, taken apart (step 1).
#[derive(Clone, Debug)]
pub struct Parts {
    pub header: Header,
    pub claims: Claims,
    /// `BASE64URL(header) "." BASE64URL(claims)`: the bytes the signature covers
    /// (RFC 7515 §5.2).
    pub signing_input: String,
    /// The signature's bytes, decoded.
    pub signature: Vec<u8>,
}

/// What this program expects of the ID token: who issued it, whom it is for,
/// the nonce it sent, and the algorithms the discovery document announced.
#[derive(Clone, Debug)]
pub struct Expected {
    pub issuer: String,
    pub client_id: String,
    pub nonce: String,
    pub algorithms: Vec<String>,
}

/// Why an ID token was refused. Never shows the token itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdTokenError {
    /// Not three base64url parts, or not JSON of the right shape.
    Malformed(String),
    /// An algorithm this program does not accept (RFC 8725 §3.1).
    Algorithm(String),
    /// No key with this `kid`, even after fetching the key set again.
    UnknownKey(String),
    /// The key set could not be fetched or read.
    Jwks(String),
    /// The signature does not match the key (RFC 7515 §5.2).
    Signature,
    /// A claim is wrong: which one, and how.
    Claim {
        claim: &'static str,
        problem: String,
    },
}

impl fmt::Display for IdTokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdTokenError::Malformed(why) => {
                write!(
                    f,
                    "the ID token is not a signed JWT ({why}): it was not used"
                )
            }
            IdTokenError::Algorithm(alg) => write!(
                f,
                "the ID token says it is signed with {alg:?}, which this program does not accept: it was not used"
            ),
            IdTokenError::UnknownKey(kid) => write!(
                f,
                "the ID token names the key {kid:?}, which the provider's key set does not have, even fetched again: it was not used"
            ),
            IdTokenError::Jwks(why) => write!(f, "{why}: the ID token could not be checked"),
            IdTokenError::Signature => write!(
                f,
                "the ID token's signature does not match the provider's key: someone else made it or changed it, so it was not used"
            ),
            IdTokenError::Claim { claim, problem } => {
                write!(
                    f,
                    "the ID token's {claim:?} is wrong ({problem}): it was not used"
                )
            }
        }
    }
}

/// Unix seconds.
pub fn unix_seconds(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Lesson 05, shortened: every post from `GET {api_url}/posts`, page after page.
pub fn collect_posts(api_url: &str, token: &Secret) -> Result<Vec<labkit::Post>, LabError> {
    let mut posts = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = url::Url::parse(&format!("{api_url}/posts"))
            .map_err(|e| LabError(format!("--api-url {api_url:?} is not a URL ({e})")))?;
        url.query_pairs_mut().append_pair("limit", "100");
        if let Some(c) = &cursor {
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let mut response = agent()
            .get(url.as_str())
            .header("Authorization", &format!("Bearer {}", token.expose()))
            .call()
            .map_err(|e| LabError(format!("the API at {api_url} did not answer: {e}")))?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        if status != 200 {
            return Err(LabError(format!(
                "the API answered {status} to {url}: check --api-url and that the scope has posts:read"
            )));
        }
        let page: labkit::PostsPage = serde_json::from_str(&body).map_err(|_| {
            LabError(format!(
                "the API's answer to {url} is not a page of posts: {}",
                labkit::body_start(&body)
            ))
        })?;
        posts.extend(page.posts);
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(posts),
        }
    }
}
