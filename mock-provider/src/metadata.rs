//! Authorization server metadata (RFC 8414 §2–3, RFC 8628 §4). The OpenID
//! Provider's discovery document (`oidc.rs`) says the same and more.

use serde_json::{Value, json};

use crate::config::SCOPES;
use crate::endpoint::{DEVICE_GRANT_TYPE, json};
use crate::http::Response;
use crate::state::App;

/// What the RFC 8414 document holds; the discovery document starts from it.
pub fn fields(app: &App) -> Value {
    let base = &app.issuer;
    json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "revocation_endpoint": format!("{base}/revoke"),
        // RFC 8628 §4.
        "device_authorization_endpoint": format!("{base}/device_authorization"),
        // RFC 8414 §2: the keys that verify what the server signs (ID tokens).
        "jwks_uri": format!("{base}/.well-known/jwks.json"),
        // OpenID Connect Core 1.0 §5.3, registered for RFC 8414 §2 by RFC 8414 §7.1.2.
        "userinfo_endpoint": format!("{base}/userinfo"),
        "scopes_supported": SCOPES.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", DEVICE_GRANT_TYPE],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        // RFC 9207 §3.
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": format!("{base}/"),
    })
}

/// `GET /.well-known/oauth-authorization-server`.
pub fn document(app: &App) -> Response {
    json(200, &fields(app)).with_header("Cache-Control", "max-age=60")
}
