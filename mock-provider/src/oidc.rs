//! The provider as an OpenID Provider for the authorization code flow:
//! discovery (OpenID Connect Discovery 1.0 §3–4), the JWK Set (RFC 7517 §5),
//! ID tokens (OpenID Connect Core 1.0 §2, §3.1.3.3, §12.2) and the UserInfo
//! endpoint (Core §5.3), with the standard claims of `profile` and `email`
//! (Core §5.4).
//!
//! Scope `openid` asks for an ID token; the token endpoint (`token.rs`) calls
//! [`id_token`] for a code exchanged or a grant refreshed with it. The keys
//! and the signing are in `keys.rs`.

use serde_json::{Value, json};

use crate::config::Scopes;
use crate::endpoint::{IdToken, json, no_store};
use crate::http::{Request, Response};
use crate::metadata;
use crate::resource::{authorize, read_query};
use crate::state::App;
use crate::trace::Step;

/// The claims an ID token or `/userinfo` may hold (Discovery §3 `claims_supported`).
pub const CLAIMS: &[&str] = &[
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "name",
    "preferred_username",
    "email",
    "email_verified",
];

fn scope(name: &str) -> Scopes {
    Scopes::parse(name).expect("a known scope")
}

/// `GET /.well-known/openid-configuration` (Discovery §4): the RFC 8414
/// document, plus what an OpenID Provider must say (§3).
pub fn discovery(app: &App) -> Response {
    let mut doc = metadata::fields(app);
    let extra = json!({
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [crate::keys::ALG],
        "claims_supported": CLAIMS,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        // §3: it defaults to true, and this provider takes no request_uri.
        "request_uri_parameter_supported": false,
    });
    if let (Some(doc), Value::Object(extra)) = (doc.as_object_mut(), extra) {
        doc.extend(extra);
    }
    json(200, &doc).with_header("Cache-Control", "max-age=60")
}

/// `GET /.well-known/jwks.json` (the metadata's `jwks_uri`): the key that
/// signs now and, after a rotation, the one before it. A client meeting an
/// unknown `kid` fetches it again; `no-cache` keeps a cache from answering
/// with a set from before the rotation.
pub fn jwks(app: &App) -> Response {
    json(200, &app.jwks()).with_header("Cache-Control", "no-cache")
}

/// The claims about `user` that `scope` allows (Core §5.4): `name` and
/// `preferred_username` with `profile`, `email` and `email_verified` with `email`.
fn user_claims(app: &App, user: usize, scope: Scopes, claims: &mut Value) {
    let user = &app.config.users[user];
    claims["sub"] = json!(user.subject());
    if scope.contains(self::scope("profile")) {
        claims["name"] = json!(user.name);
        claims["preferred_username"] = json!(user.username);
    }
    if scope.contains(self::scope("email")) {
        claims["email"] = json!(user.email);
        // The lab's users are registered with their addresses.
        claims["email_verified"] = json!(true);
    }
}

/// True when a grant of `scope` gets ID tokens.
pub fn wants_id_token(scope: Scopes) -> bool {
    scope.contains(self::scope("openid"))
}

/// A new ID token (Core §2) for `user`, issued to `client`, signed with the
/// newest key:
///
/// - `iss`: the issuer, byte for byte as in the metadata; `aud` and `azp`: the
///   client's id; `sub`: [`crate::User::subject`];
/// - `iat`: now; `exp`: now plus the access token's lifetime (`--token-ttl`),
///   so the ID token and the access token of one answer expire together;
///   `auth_time`: when the user logged in; all in seconds since the epoch;
/// - `nonce`: the authorization request's, byte for byte, when it had one.
///   On a refresh none is given: §12.2 lets a refreshed ID token leave it out.
pub fn id_token(
    app: &App,
    client: usize,
    user: usize,
    scope: Scopes,
    auth_time_ms: u64,
    nonce: Option<&str>,
) -> IdToken {
    let client_id = &app.config.clients[client].id;
    let iat = app.now() / 1000;
    let mut claims = json!({
        "iss": app.issuer,
        "aud": client_id,
        "azp": client_id,
        "iat": iat,
        "exp": iat + app.config.token_ttl.as_secs(),
        "auth_time": auth_time_ms / 1000,
    });
    if let Some(nonce) = nonce {
        claims["nonce"] = json!(nonce);
    }
    user_claims(app, user, scope, &mut claims);
    let key = app.signing_key();
    IdToken {
        jwt: key.sign(&claims),
        kid: key.kid().to_string(),
    }
}

/// `GET` or `POST /userinfo` (Core §5.3): the claims about the user a bearer
/// access token with scope `openid` speaks for; errors as RFC 6750 §3
/// (`insufficient_scope` without `openid`, Core §5.3.3). Personal data: no
/// cache keeps it.
pub fn userinfo(app: &App, req: &Request, step: &mut Step) -> Response {
    let result =
        read_query(req).and_then(|query| authorize(app, req, &query, scope("openid"), step));
    let answer = match result {
        Ok(caller) => {
            let mut claims = json!({});
            user_claims(app, caller.user, caller.scope, &mut claims);
            let names: Vec<&str> = claims
                .as_object()
                .map(|o| o.keys().map(String::as_str).collect())
                .unwrap_or_default();
            step.outcome = format!(
                "claims of {}: {}",
                app.config.users[caller.user].username,
                names.join(", ")
            );
            json(200, &claims)
        }
        Err(response) => response,
    };
    no_store(answer)
}
