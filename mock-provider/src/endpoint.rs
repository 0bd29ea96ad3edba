//! What the OAuth endpoints share: JSON answers with one error shape (RFC 6749
//! §5.2, descriptions folded as §4.1.2.1 and RFC 6750 §3 require), form bodies
//! (RFC 6749 §3.2), client authentication (§2.3), and token answers (§5.1).
//!
//! The token, revocation and device authorization endpoints authenticate a
//! client and answer errors the same way; the token endpoint and the device
//! grant issue tokens the same way.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::config::Scopes;
use crate::http::{Request, Response};
use crate::params::Params;
use crate::secrets::{same_secret, shorten};
use crate::state::App;
use crate::store::Issued;
use crate::trace::Step;

/// The grant type a device polls `/token` with (RFC 8628 §3.4); the token
/// endpoint, the metadata and the inspector all name it.
pub const DEVICE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub fn json(status: u16, value: &Value) -> Response {
    Response::new(status, "application/json", value.to_string())
}

/// An error body in the RFC 6749 §5.2 shape, also used by the other endpoints.
pub fn json_error(status: u16, error: &str, description: &str) -> Response {
    json(
        status,
        &json!({ "error": error, "error_description": description_text(description) }),
    )
}

/// RFC 6749 §4.1.2.1, §5.2 and RFC 6750 §3: an `error_description` holds only
/// printable ASCII without `"` and `\`. The provider's descriptions cite RFC
/// sections and quote what they got, so they are folded into that set here.
pub fn description_text(text: &str) -> String {
    text.replace('§', "section ")
        .replace('…', "...")
        .replace('—', "-")
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// RFC 6749 §5.1: token answers must not be cached.
pub fn no_store(response: Response) -> Response {
    response
        .with_header("Cache-Control", "no-store")
        .with_header("Pragma", "no-cache")
}

/// Reads a form body (`application/x-www-form-urlencoded`), refusing anything
/// else and any parameter sent twice (RFC 6749 §3.2).
pub fn form_body(req: &Request) -> Result<Params, String> {
    let content_type = req.header("content-type")?.unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(format!(
            "the body must be application/x-www-form-urlencoded, not {:?}",
            if content_type.is_empty() {
                "nothing"
            } else {
                content_type
            }
        ));
    }
    let params = Params::parse(&req.body).map_err(|e| e.to_string())?;
    if let Some(name) = params.any_repeated() {
        return Err(format!(
            "parameter {name} is sent more than once (RFC 6749 §3.2)"
        ));
    }
    Ok(params)
}

/// An RFC 6749 §5.2 error, with the status it is sent with.
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

pub fn fail(error: &'static str, description: impl Into<String>) -> OAuthError {
    // §5.2: invalid_client is 401 (with WWW-Authenticate); the rest are 400.
    let status = if error == "invalid_client" { 401 } else { 400 };
    OAuthError {
        status,
        error,
        description: description.into(),
    }
}

impl OAuthError {
    pub fn response(&self) -> Response {
        let response = no_store(json_error(self.status, self.error, &self.description));
        if self.status == 401 {
            response.with_header("WWW-Authenticate", "Basic realm=\"oauth2-lab\"")
        } else {
            response
        }
    }
}

/// Client authentication (RFC 6749 §2.3.1): HTTP Basic or `client_secret` in the
/// body, never both (§2.3); a public client sends only `client_id`.
/// Returns the client's index.
pub fn authenticate(
    app: &App,
    req: &Request,
    params: &Params,
    step: &mut Step,
) -> Result<usize, OAuthError> {
    let authorization = req
        .header("authorization")
        .map_err(|e| fail("invalid_request", e))?;
    let body_id = params.get("client_id").ok().flatten();
    let body_secret = params.get("client_secret").ok().flatten();
    let basic = match authorization {
        None => None,
        Some(value) => {
            let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(fail(
                    "invalid_client",
                    format!(
                        "the token endpoint takes HTTP Basic client authentication, not {scheme}"
                    ),
                ));
            }
            Some(decode_basic(credentials.trim())?)
        }
    };
    if basic.is_some() && body_secret.is_some() {
        return Err(fail(
            "invalid_request",
            "two client authentication methods at once: use HTTP Basic or client_secret in the body, not both (RFC 6749 §2.3)",
        ));
    }
    let (id, secret) = match &basic {
        Some((id, secret)) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(fail(
                    "invalid_request",
                    "client_id in the body differs from the one in the Authorization header",
                ));
            }
            (id.as_str(), Some(secret.as_str()).filter(|s| !s.is_empty()))
        }
        None => match body_id {
            Some(id) => (id, body_secret),
            None => {
                return Err(fail(
                    "invalid_client",
                    "no client authentication: send HTTP Basic, or client_id (and client_secret) in the body",
                ));
            }
        },
    };
    step.actor = id.to_string();
    let Some(index) = app.client_index(id) else {
        return Err(fail(
            "invalid_client",
            format!("no client is registered as {id:?}"),
        ));
    };
    match (&app.config.clients[index].secret, secret) {
        (None, None) => Ok(index),
        (None, Some(_)) => Err(fail(
            "invalid_client",
            format!("{id} is a public client and has no secret: send client_id only"),
        )),
        (Some(_), None) => Err(fail(
            "invalid_client",
            format!("{id} is a confidential client: authenticate with its secret"),
        )),
        (Some(expected), Some(given)) if same_secret(expected, given) => Ok(index),
        (Some(_), Some(given)) => Err(fail(
            "invalid_client",
            format!("wrong client secret for {id} (got {})", shorten(given)),
        )),
    }
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1).
fn decode_basic(credentials: &str) -> Result<(String, String), OAuthError> {
    let bad = || {
        fail(
            "invalid_client",
            "the Basic credentials are not base64 of client_id:client_secret",
        )
    };
    let bytes = STANDARD.decode(credentials).map_err(|_| bad())?;
    let colon = bytes.iter().position(|b| *b == b':').ok_or_else(bad)?;
    let part = |raw: &[u8]| -> Result<String, OAuthError> {
        let mut wrapped = b"v=".to_vec();
        wrapped.extend_from_slice(raw);
        let p = Params::parse(&wrapped).map_err(|_| bad())?;
        Ok(p.get("v").ok().flatten().unwrap_or("").to_string())
    };
    Ok((part(&bytes[..colon])?, part(&bytes[colon + 1..])?))
}

/// When the tokens issued now expire: (access token, refresh token).
pub fn expiries(app: &App, now: u64) -> (u64, u64) {
    (
        now + app.config.token_ttl.as_millis() as u64,
        now + app.config.refresh_ttl.as_millis() as u64,
    )
}

/// A signed ID token (OpenID Connect Core 1.0 §2) and the `kid` of its key.
pub struct IdToken {
    pub jwt: String,
    pub kid: String,
}

/// RFC 6749 §5.1: a successful token answer, for the code, refresh and device
/// grants; with `id_token` when the grant has scope `openid` (OpenID Connect
/// Core 1.0 §3.1.3.3, §12.2).
pub fn success(
    app: &App,
    issued: &Issued,
    scope: Scopes,
    user: usize,
    id_token: Option<&IdToken>,
    step: &mut Step,
) -> Response {
    step.user = Some(app.config.users[user].username.clone());
    step.outcome = format!(
        "tokens for {}: access {} ({} s), refresh {}{}, scope {scope}",
        app.config.users[user].username,
        shorten(&issued.access_token),
        app.config.token_ttl.as_secs(),
        shorten(&issued.refresh_token),
        id_token
            // The kid is public (the JWK Set lists it); its start tells keys apart.
            .map(|t| format!(
                ", ID token {} (kid {}…)",
                shorten(&t.jwt),
                t.kid.get(..8).unwrap_or(&t.kid)
            ))
            .unwrap_or_default(),
    );
    let mut body = json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": app.config.token_ttl.as_secs(),
        "refresh_token": issued.refresh_token,
        "scope": scope.to_string(),
    });
    if let Some(t) = id_token {
        body["id_token"] = Value::String(t.jwt.clone());
    }
    no_store(json(200, &body))
}
