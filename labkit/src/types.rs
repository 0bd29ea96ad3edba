//! The types the lessons pass around. Students use them; they need not write them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A secret value (code, token, client secret): `Debug` and `Display` never show it.
///
/// ```
/// let token = labkit::Secret::new("lab_at_Zx81kQ2b9VbTq");
/// assert_eq!(format!("{token:?}"), "Secret([redacted], 20 chars)");
/// assert_eq!(token.to_string(), "lab_at_Zx81…");
/// assert_eq!(token.expose(), "lab_at_Zx81kQ2b9VbTq");
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The whole value: for sending it where it belongs, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret([redacted], {} chars)", self.0.chars().count())
    }
}

/// Shows only the start, like the mock provider's trace: `lab_at_Zx81…`.
impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mock_provider::shorten(&self.0))
    }
}

// ANCHOR: client
/// Where the provider is and who we are to it.
#[derive(Clone, Debug)]
pub struct Client {
    /// The authorization endpoint, e.g. `http://127.0.0.1:9000/authorize`.
    pub authorize_url: String,
    /// The token endpoint, e.g. `http://127.0.0.1:9000/token`.
    pub token_url: String,
    /// The API's base, e.g. `http://127.0.0.1:9000/api` (then `/me`, `/posts`).
    pub api_url: String,
    pub client_id: String,
    /// `None` for a public client.
    pub client_secret: Option<Secret>,
    /// Space-separated scopes to ask for, e.g. `profile posts:read`.
    pub scope: String,
    /// The revocation endpoint (RFC 7009), if the provider has one (lesson 07 on).
    pub revoke_url: Option<String>,
    /// The device authorization endpoint (RFC 8628), if the provider has one (lesson 09).
    pub device_url: Option<String>,
    /// The `iss` every answer of the provider carries (RFC 9207): its issuer,
    /// e.g. `http://127.0.0.1:9000`, when its metadata says it sends one;
    /// `None` when it does not (GitHub, Google, LinkedIn), and then none is checked.
    pub iss: Option<String>,
}
// ANCHOR_END: client

// ANCHOR: tokens
/// A successful token response (RFC 6749 §5.1).
#[derive(Clone, Debug, Deserialize)]
pub struct Tokens {
    pub access_token: Secret,
    /// `Bearer` (compared case-insensitively, RFC 6749 §7.1).
    pub token_type: String,
    /// Seconds the access token lives, if the provider says.
    #[serde(default, deserialize_with = "seconds")]
    pub expires_in: Option<u64>,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// The scope granted, when it differs from the one asked for (or always, for some providers).
    #[serde(default)]
    pub scope: Option<String>,
}
// ANCHOR_END: tokens

/// `expires_in` is a number (RFC 6749 §5.1), but some providers send it as a
/// string of digits (`"3600"`); both mean the same.
fn seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Seconds {
        Number(u64),
        Text(String),
    }
    match Option::<Seconds>::deserialize(d)? {
        None => Ok(None),
        Some(Seconds::Number(n)) => Ok(Some(n)),
        Some(Seconds::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expires_in {t:?} is not a number"))),
    }
}

/// An error response from the token endpoint (RFC 6749 §5.2), as JSON.
#[derive(Clone, Debug, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// The `error` codes of RFC 6749 §5.2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    /// A code the RFC does not define (providers add their own).
    Other(String),
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        match code {
            "invalid_request" => ErrorCode::InvalidRequest,
            "invalid_client" => ErrorCode::InvalidClient,
            "invalid_grant" => ErrorCode::InvalidGrant,
            "unauthorized_client" => ErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => ErrorCode::UnsupportedGrantType,
            "invalid_scope" => ErrorCode::InvalidScope,
            other => ErrorCode::Other(other.to_string()),
        }
    }
}

// ANCHOR: token_error
/// Why trading the code for a token failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenError {
    /// The provider said no, with an RFC 6749 §5.2 error.
    Rejected {
        status: u16,
        code: ErrorCode,
        description: Option<String>,
    },
    /// The provider answered 5xx: its problem, not ours.
    ServerError { status: u16 },
    /// The body is not the JSON the RFC promises (an HTML page, a proxy's error…).
    NotJson { status: u16, body_start: String },
    /// Any other status (a redirect, a 2xx that is not 200…).
    UnexpectedStatus { status: u16 },
    /// A `token_type` we do not know how to use (RFC 6749 §7.1).
    UnsupportedTokenType(String),
    /// No answer at all.
    Network(String),
    /// Nothing was sent: there is no refresh token to refresh with (the
    /// provider gave none, or none was saved). Only a new grant helps.
    NoRefreshToken,
}
// ANCHOR_END: token_error

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenError::Rejected {
                status,
                code,
                description,
            } => {
                let detail = description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default();
                // 404 and 405 come from a URL that is not a token endpoint at all.
                if let 404 | 405 = status {
                    return write!(
                        f,
                        "the token endpoint answered HTTP {status}{detail}: is --token-url right?"
                    );
                }
                match code {
                    ErrorCode::InvalidGrant => write!(
                        f,
                        "the provider refused the grant: invalid_grant{detail}; a code works once and only for minutes, a refresh token until it is rotated or revoked, so run the flow again"
                    ),
                    ErrorCode::InvalidClient => write!(
                        f,
                        "the provider did not accept this client: invalid_client{detail}; check --client-id and OAUTH_CLIENT_SECRET"
                    ),
                    ErrorCode::Other(other) => {
                        write!(f, "the token request was refused: {other}{detail}")
                    }
                    known => write!(
                        f,
                        "the token request was refused: {}{detail}; check the request against RFC 6749 §4.1.3",
                        snake(known)
                    ),
                }
            }
            TokenError::ServerError { status } => {
                write!(
                    f,
                    "the token endpoint failed with HTTP {status}: the provider has a problem; try again later"
                )
            }
            // JSON of another shape (no access_token, no token_type) is not
            // the provider's trouble of format but of content: say which.
            TokenError::NotJson { status, body_start }
                if body_start.trim_start().starts_with('{') =>
            {
                write!(
                    f,
                    "the token endpoint answered HTTP {status} with JSON that is not a token response ({body_start:?}…): RFC 6749 §5.1 needs access_token and token_type; is --token-url right?"
                )
            }
            TokenError::NotJson { status, body_start } => write!(
                f,
                "the token endpoint answered HTTP {status} with something that is not JSON ({body_start:?}…): is --token-url right?"
            ),
            TokenError::UnexpectedStatus { status } => write!(
                f,
                "the token endpoint answered HTTP {status}, which a token endpoint never should: is --token-url right?"
            ),
            TokenError::UnsupportedTokenType(t) => {
                write!(
                    f,
                    "the provider issued a {t:?} token, and this client only knows Bearer tokens"
                )
            }
            TokenError::Network(e) => write!(
                f,
                "could not reach the token endpoint: {e}; is the provider running?"
            ),
            TokenError::NoRefreshToken => write!(
                f,
                "there is no refresh token to refresh with (the provider gave none): sign in again"
            ),
        }
    }
}

fn snake(code: &ErrorCode) -> &str {
    match code {
        ErrorCode::InvalidRequest => "invalid_request",
        ErrorCode::InvalidClient => "invalid_client",
        ErrorCode::InvalidGrant => "invalid_grant",
        ErrorCode::UnauthorizedClient => "unauthorized_client",
        ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
        ErrorCode::InvalidScope => "invalid_scope",
        ErrorCode::Other(other) => other,
    }
}

impl std::error::Error for TokenError {}

// ANCHOR: callback_error
/// Why waiting for the browser to come back did not give us a code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackError {
    /// The person pressed Deny (`error=access_denied`).
    Denied { description: Option<String> },
    /// The provider sent another error (RFC 6749 §4.1.2.1).
    Provider {
        error: String,
        description: Option<String>,
    },
    /// Nobody came back before the deadline.
    TimedOut,
    /// The listener itself failed.
    Listener(String),
    /// An answer with our state named another issuer, or none, although the
    /// provider always names itself (RFC 9207 §2.4): it may come from another
    /// provider (a mix-up attack), so its code must not be used.
    MixUp {
        expected: String,
        /// The `iss` it carried; `None`: missing, or sent twice.
        got: Option<String>,
    },
}
// ANCHOR_END: callback_error

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The person pressed Deny, or the provider refused for them (a
            // scope it will not grant): its description says which.
            CallbackError::Denied { description } => write!(
                f,
                "access was denied in the browser{}: nothing was collected; run again and press Allow",
                description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            CallbackError::Provider { error, description } => write!(
                f,
                "the provider refused the request: {error}{}; check the authorization URL's parameters",
                description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
            CallbackError::TimedOut => write!(
                f,
                "nobody came back from the browser in time: if the provider showed an error page, check --client-id and the registered redirect URI; else open the URL printed above, or use a longer --timeout"
            ),
            CallbackError::Listener(e) => write!(f, "the local listener failed: {e}"),
            CallbackError::MixUp { expected, got } => {
                match got {
                    // `{:?}`: the value came from whoever sent the request; quoted, it stays one line.
                    Some(got) => write!(
                        f,
                        "mix-up: the answer with our state says it comes from {got:?}, not from {expected:?} that this program asked (RFC 9207 §2.4)"
                    )?,
                    None => write!(
                        f,
                        "mix-up: the answer with our state does not name its issuer exactly once, and {expected:?} always does (RFC 9207 §2.4)"
                    )?,
                }
                write!(
                    f,
                    "; its code was not used: run again, and log in only on the page this program opens"
                )
            }
        }
    }
}

impl std::error::Error for CallbackError {}

/// The user's profile from `GET /api/me`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Profile {
    pub id: u64,
    pub username: String,
    pub name: String,
    pub email: String,
}

/// One private post from `GET /api/posts`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Post {
    pub id: String,
    pub created_at: String,
    pub text: String,
}

/// One page of `GET /api/posts`: the posts, and the cursor of the next page.
#[derive(Clone, Debug, Deserialize)]
pub struct PostsPage {
    pub posts: Vec<Post>,
    pub next: Option<String>,
}

// ANCHOR: api_error
/// Why an API call failed.
#[derive(Debug)]
pub enum ApiError {
    /// 401: the token is missing, expired or revoked (RFC 6750 §3.1).
    Unauthorized {
        description: String,
    },
    /// 403: the token lacks a scope.
    Forbidden {
        description: String,
    },
    /// Still 429 after waiting as asked, again and again.
    RateLimited {
        attempts: u32,
    },
    /// Any other unexpected answer.
    Status {
        status: u16,
        body_start: String,
    },
    /// A 200 whose body is not the JSON asked for: an API at another URL, or
    /// an error answer read as if it were the data (its status not checked).
    Unreadable {
        url: String,
        body_start: String,
    },
    Network(String),
    /// Writing the output failed.
    Output(std::io::Error),
}
// ANCHOR_END: api_error

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unauthorized { description } => write!(
                f,
                "the API refused the access token ({description}): it expired or was revoked; run the flow again for a new one"
            ),
            ApiError::Forbidden { description } => {
                write!(
                    f,
                    "the API says the token lacks a scope ({description}): ask for it with --scope"
                )
            }
            ApiError::RateLimited { attempts } => {
                write!(
                    f,
                    "the API kept answering 429 after {attempts} polite retries: try again later"
                )
            }
            // An error in the RFC's JSON shape: the API understood and said why; say
            // it whole. Anything else (an HTML page, a 404): probably the wrong URL.
            ApiError::Status { status, body_start } => match error_of(body_start) {
                Some(why) => write!(f, "the API refused the request with HTTP {status}: {why}"),
                None => write!(
                    f,
                    "the API answered HTTP {status} ({body_start:?}…): is --api-url right?"
                ),
            },
            ApiError::Unreadable { url, body_start } => match error_of(body_start) {
                Some(why) => write!(
                    f,
                    "the answer from {url} is an error ({why}) but was read as if it were the data: check the answer's status before reading its body"
                ),
                None => write!(
                    f,
                    "the answer from {url} is not the JSON expected ({body_start:?}…): is --api-url right?"
                ),
            },
            ApiError::Network(e) => {
                write!(f, "could not reach the API: {e}; is the provider running?")
            }
            ApiError::Output(e) => write!(f, "could not write the posts: {e}; check --out"),
        }
    }
}

impl std::error::Error for ApiError {}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        ApiError::Output(e)
    }
}

/// The first characters of a body, for an error message, with the values of
/// secret fields (`access_token`, `refresh_token`, …) shortened: a body that
/// is not quite a token response may still carry a token, and no secret is
/// ever printed whole (ARCHITECTURE.md, "Invariants").
///
/// ```
/// let start = labkit::body_start(r#"{"access_token":"lab_at_Zx81kQ2b9VbTq","token_type":7}"#);
/// assert_eq!(start, r#"{"access_token":"lab_at_Zx81…","token_type":7}"#);
/// ```
///
/// An error in the JSON shape of RFC 6749 §5.2 (`error`, `error_description`)
/// is kept whole, up to 300 characters: its description is the provider's advice.
pub fn body_start(body: &str) -> String {
    let keep = if error_of(body).is_some() { 300 } else { 60 };
    redact_fields(body)
        .chars()
        .take(keep)
        .collect::<String>()
        .replace('\n', " ")
}

/// `error: description` when `body` is a JSON error answer (RFC 6749 §5.2,
/// RFC 6750 §3): what a person should read of it.
fn error_of(body: &str) -> Option<String> {
    let e: ErrorBody = serde_json::from_str(body).ok()?;
    Some(match e.error_description {
        Some(d) => format!("{}: {d}", e.error),
        None => e.error,
    })
}

/// Fields whose values are secrets, in JSON or form bodies.
const SECRET_FIELDS: [&str; 7] = [
    "access_token",
    "refresh_token",
    "id_token",
    "device_code",
    "code",
    "client_secret",
    "code_verifier",
];

/// `body` with the value after each secret field's name (`"name": "value"` or
/// `name=value`) shortened.
fn redact_fields(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    'scan: while !rest.is_empty() {
        for field in SECRET_FIELDS {
            let Some(after) = rest.strip_prefix(field) else {
                continue;
            };
            // A whole name only: "code" must not match inside "device_code" or "codes".
            let name_ends = after.starts_with('"') || after.starts_with('=');
            let starts_word = out
                .chars()
                .last()
                .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
            if !name_ends || !starts_word {
                continue;
            }
            let separator = after
                .find(|c: char| !(c == '"' || c == ':' || c == '=' || c.is_whitespace()))
                .unwrap_or(after.len());
            let value_len = after[separator..]
                .find(|c: char| matches!(c, '"' | '&' | ',' | '}' | '\'') || c.is_whitespace())
                .unwrap_or(after.len() - separator);
            let value = &after[separator..separator + value_len];
            out.push_str(field);
            out.push_str(&after[..separator]);
            out.push_str(&mock_provider::shorten(value));
            rest = &after[separator + value_len..];
            continue 'scan;
        }
        let mut chars = rest.chars();
        out.push(chars.next().expect("rest is not empty"));
        rest = chars.as_str();
    }
    out
}

/// The scopes asked for that the token answer says were not granted. A server
/// may grant fewer than asked, and then names those it granted; an answer
/// without `scope` granted them all (RFC 6749 §3.3, §5.1). Commas count as
/// spaces, as GitHub and LinkedIn send them.
///
/// ```
/// let missing = labkit::scopes_not_granted("profile posts:read", Some("profile"));
/// assert_eq!(missing, ["posts:read"]);
/// assert!(labkit::scopes_not_granted("profile posts:read", None).is_empty());
/// ```
pub fn scopes_not_granted(asked: &str, granted: Option<&str>) -> Vec<String> {
    let Some(granted) = granted else {
        return Vec::new();
    };
    let split = |s: &str| -> Vec<String> {
        s.split([' ', ','])
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let granted = split(granted);
    split(asked)
        .into_iter()
        .filter(|scope| !granted.contains(scope))
        .collect()
}

/// How long a `Retry-After` header asks to wait (RFC 9110 §10.2.3): a number
/// of seconds, or an HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`), measured
/// from `now`. A date already past means "now"; anything else is `None`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
/// assert_eq!(labkit::retry_after("120", now), Some(Duration::from_secs(120)));
/// let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
/// assert_eq!(labkit::retry_after(&later, now), Some(Duration::from_secs(30)));
/// assert_eq!(labkit::retry_after("soon", now), None);
/// ```
pub fn retry_after(value: &str, now: std::time::SystemTime) -> Option<std::time::Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(std::time::Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

/// How long an API's 403 or 429 answer asks to wait before trying again, from
/// its headers (`header(name)` gives a header's value; names are lowercase):
/// `Retry-After` ([`retry_after`]), or, as GitHub sends with a 403 when the
/// limit is used up, `x-ratelimit-remaining: 0` with `x-ratelimit-reset`, the
/// time the limit resets in seconds since 1970. `None`: not a rate limit.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
/// let github = |name: &str| match name {
///     "x-ratelimit-remaining" => Some("0".to_string()),
///     "x-ratelimit-reset" => Some("1000000060".to_string()),
///     _ => None,
/// };
/// assert_eq!(labkit::rate_limit_wait(github, now), Some(Duration::from_secs(60)));
/// assert_eq!(labkit::rate_limit_wait(|_| None, now), None);
/// ```
pub fn rate_limit_wait(
    header: impl Fn(&str) -> Option<String>,
    now: std::time::SystemTime,
) -> Option<std::time::Duration> {
    if let Some(wait) = header("retry-after").and_then(|v| retry_after(&v, now)) {
        return Some(wait);
    }
    if header("x-ratelimit-remaining")?.trim() != "0" {
        return None;
    }
    let reset = header("x-ratelimit-reset")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| std::time::UNIX_EPOCH + std::time::Duration::from_secs(s));
    // Used up, but no reset time: wait a minute, as GitHub advises when it names none.
    Some(reset.map_or(std::time::Duration::from_secs(60), |r| {
        r.duration_since(now).unwrap_or_default()
    }))
}

/// Whether a `WWW-Authenticate` header says the token lacks a scope
/// (`error="insufficient_scope"`, RFC 6750 §3.1).
pub fn is_insufficient_scope(www_authenticate: &str) -> bool {
    www_authenticate
        .split(',')
        .filter_map(|part| part.split_once('='))
        .any(|(name, value)| {
            name.trim().rsplit(' ').next() == Some("error")
                && value.trim().trim_matches('"') == "insufficient_scope"
        })
}
