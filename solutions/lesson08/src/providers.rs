//! The providers, as data: what each one's documentation says, written down
//! once. Given code: the same in the lesson and in the solution.

use std::collections::BTreeMap;
use std::time::Duration;

use labkit::{ApiError, Client, Secret};

// ANCHOR: profile
/// How a provider wants the client to prove who it is at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// `Authorization: Basic …` (RFC 6749 §2.3.1, the method servers MUST support).
    BasicHeader,
    /// `client_id` and `client_secret` in the form body (allowed by §2.3.1, and
    /// the only method GitHub, Google's desktop page and LinkedIn document).
    InBody,
}

/// Whether the provider takes a PKCE challenge (RFC 7636).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PkceSupport {
    /// Refuses a request without one.
    Required,
    /// Checks it when sent.
    Accepted,
    /// Not documented for this kind of app: send none.
    NotSupported,
}

/// One provider, as its documentation describes it. Data, not code: the steps
/// read these fields instead of asking "is this GitHub?".
#[derive(Clone, Copy, Debug)]
pub struct ProviderProfile {
    pub name: &'static str,
    pub authorize_url: &'static str,
    pub token_url: &'static str,
    /// The RFC 7009 revocation endpoint, if the provider has one.
    pub revoke_url: Option<&'static str>,
    /// The API's base URL…
    pub api_url: &'static str,
    /// …and the path under it that answers "who am I?".
    pub me_path: &'static str,
    /// Fields of that answer to show, the first one present wins.
    pub name_fields: &'static [&'static str],
    pub client_auth: ClientAuth,
    pub pkce: PkceSupport,
    /// Does an ordinary app get a refresh token?
    pub refresh_tokens: bool,
    /// Scopes enough for "who am I?".
    pub default_scope: &'static [&'static str],
    /// Parameters this provider adds to the authorization request.
    pub extra_authorize_params: &'static [(&'static str, &'static str)],
    /// Error codes of its own, and the RFC 6749 §5.2 code each one means.
    pub error_codes: &'static [(&'static str, &'static str)],
    /// A loopback redirect URI may use any port (RFC 8252 §7.3); if not, the
    /// exact URI, port included, must be registered.
    pub loopback_any_port: bool,
    /// The redirect URI must be registered in the provider's console.
    pub registers_redirect: bool,
    /// Where to register an app.
    pub console_url: &'static str,
    /// The documentation pages these facts come from.
    pub docs: &'static [&'static str],
    /// What surprises people, in a few words each.
    pub quirks: &'static [&'static str],
}

/// GitHub OAuth apps: "Authorizing OAuth apps", "Troubleshooting OAuth app
/// access token request errors" and "Token expiration and revocation"
/// (docs.github.com, checked 2026-11-30).
pub const GITHUB: ProviderProfile = ProviderProfile {
    name: "GitHub",
    authorize_url: "https://github.com/login/oauth/authorize",
    token_url: "https://github.com/login/oauth/access_token",
    revoke_url: None,
    api_url: "https://api.github.com",
    me_path: "/user",
    name_fields: &["name", "login"],
    client_auth: ClientAuth::InBody,
    pkce: PkceSupport::Accepted,
    refresh_tokens: false,
    default_scope: &["read:user"],
    extra_authorize_params: &[],
    error_codes: &[
        ("bad_verification_code", "invalid_grant"),
        ("incorrect_client_credentials", "invalid_client"),
        ("redirect_uri_mismatch", "invalid_grant"),
    ],
    loopback_any_port: true,
    registers_redirect: true,
    console_url: "https://github.com/settings/applications/new",
    docs: &[
        "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps",
        "https://docs.github.com/en/apps/oauth-apps/maintaining-oauth-apps/troubleshooting-oauth-app-access-token-request-errors",
        "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/token-expiration-and-revocation",
    ],
    quirks: &[
        "the token response is form-encoded unless the request says Accept: application/json",
        "token errors come with HTTP 200 and an `error` field",
        "the granted scope comes comma-separated",
        "OAuth app tokens come without a refresh token and last until revoked; GitHub revokes one unused for a year",
        "GitHub recommends GitHub Apps: their user tokens last 8 hours, with a 6-month refresh token that rotates",
    ],
};

/// Google, desktop apps: "OAuth 2.0 for Desktop Apps", "Using OAuth 2.0 to
/// Access Google APIs" and the out-of-band flow's migration guide
/// (developers.google.com, checked 2026-11-30).
pub const GOOGLE: ProviderProfile = ProviderProfile {
    name: "Google",
    authorize_url: "https://accounts.google.com/o/oauth2/v2/auth",
    token_url: "https://oauth2.googleapis.com/token",
    revoke_url: Some("https://oauth2.googleapis.com/revoke"),
    api_url: "https://openidconnect.googleapis.com",
    me_path: "/v1/userinfo",
    name_fields: &["name", "email"],
    client_auth: ClientAuth::InBody,
    pkce: PkceSupport::Accepted,
    refresh_tokens: true,
    default_scope: &["openid", "profile", "email"],
    extra_authorize_params: &[("access_type", "offline")],
    error_codes: &[],
    loopback_any_port: true,
    registers_redirect: false,
    console_url: "https://console.cloud.google.com/apis/credentials",
    docs: &[
        "https://developers.google.com/identity/protocols/oauth2/native-app",
        "https://developers.google.com/identity/protocols/oauth2#expiration",
        "https://developers.google.com/identity/protocols/oauth2/resources/oob-migration",
    ],
    quirks: &[
        "a desktop app is a public client: its secret is no secret, so PKCE on every sign-in",
        "desktop apps redirect to http://127.0.0.1 on any port; nothing to register",
        "the copy-and-paste (out-of-band) flow is blocked since 2023: old examples still show it",
        "refresh tokens of an app in \"Testing\" status last 7 days",
        "no refresh token on a later sign-in? add prompt=consent to ask again",
        "access tokens last about an hour (expires_in 3599)",
        "an id_token comes along when openid is in the scope",
    ],
};

/// LinkedIn: "Sign In with LinkedIn using OpenID Connect", "Authorization Code
/// Flow (3-legged OAuth)", its native PKCE variant and "Refresh Tokens with
/// OAuth 2.0" (learn.microsoft.com/linkedin, checked 2026-11-30). This profile
/// is the 3-legged flow with a secret; the native flow takes PKCE on a loopback
/// redirect instead, but LinkedIn switches it on per app, on request.
pub const LINKEDIN: ProviderProfile = ProviderProfile {
    name: "LinkedIn",
    authorize_url: "https://www.linkedin.com/oauth/v2/authorization",
    token_url: "https://www.linkedin.com/oauth/v2/accessToken",
    revoke_url: None,
    api_url: "https://api.linkedin.com",
    me_path: "/v2/userinfo",
    name_fields: &["name"],
    client_auth: ClientAuth::InBody,
    pkce: PkceSupport::NotSupported,
    refresh_tokens: false,
    default_scope: &["openid", "profile", "email"],
    extra_authorize_params: &[],
    error_codes: &[],
    loopback_any_port: false,
    registers_redirect: true,
    console_url: "https://www.linkedin.com/developers/apps",
    docs: &[
        "https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2",
        "https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow",
        "https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow-native",
        "https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens",
    ],
    quirks: &[
        "the redirect URI must be registered exactly, port included",
        "access tokens live 60 days (expires_in 5184000)",
        "no refresh token unless the app is an approved partner",
        "an id_token comes along (OpenID Connect); read the name from /v2/userinfo",
        "PKCE only in the native flow, which LinkedIn enables per app on request",
        "the granted scope comes comma-separated",
    ],
};

/// The lab's own mock provider: it follows the RFCs. Its endpoints are known
/// only when it runs, so they come from the [`Client`], never from here.
pub const MOCK: ProviderProfile = ProviderProfile {
    name: "the mock provider",
    authorize_url: "",
    token_url: "",
    revoke_url: None,
    api_url: "",
    me_path: "/me",
    name_fields: &["name", "username"],
    client_auth: ClientAuth::BasicHeader,
    pkce: PkceSupport::Accepted,
    refresh_tokens: true,
    default_scope: &["profile", "posts:read"],
    extra_authorize_params: &[],
    error_codes: &[],
    loopback_any_port: true,
    registers_redirect: false,
    console_url: "",
    docs: &["https://www.rfc-editor.org/rfc/rfc6749"],
    quirks: &[],
};
// ANCHOR_END: profile

/// The client for a provider: its endpoints, and who we are to it. `scope` is
/// space-separated; empty means the profile's default scopes.
pub fn client_for(
    profile: &ProviderProfile,
    client_id: &str,
    client_secret: Option<Secret>,
    scope: &str,
) -> Client {
    let scope = if scope.trim().is_empty() {
        profile.default_scope.join(" ")
    } else {
        scope.to_string()
    };
    Client {
        authorize_url: profile.authorize_url.into(),
        token_url: profile.token_url.into(),
        api_url: profile.api_url.into(),
        client_id: client_id.into(),
        client_secret,
        scope,
        revoke_url: profile.revoke_url.map(str::to_string),
        device_url: None,
        // None of these providers says it sends `iss` (RFC 9207).
        iss: None,
    }
}

/// What the token endpoint gave, whatever its format (RFC 6749 §5.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenResponse {
    pub access_token: Secret,
    /// `Bearer`.
    pub token_type: String,
    /// Seconds the access token lives, if the provider says.
    pub expires_in: Option<u64>,
    /// `None` is normal for GitHub and LinkedIn.
    pub refresh_token: Option<Secret>,
    /// The scopes granted, one per entry.
    pub scopes: Vec<String>,
}

/// The fields of a form-encoded body (`access_token=…&scope=repo%2Cgist`).
pub fn form_fields(body: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body.trim().as_bytes())
        .into_owned()
        .collect()
}

/// The text and number fields of a JSON object; `None` if it is not one.
pub fn json_fields(body: &str) -> Option<BTreeMap<String, String>> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).ok()?;
    Some(
        object
            .into_iter()
            .filter_map(|(name, value)| match value {
                serde_json::Value::String(s) => Some((name, s)),
                serde_json::Value::Number(n) => Some((name, n.to_string())),
                _ => None,
            })
            .collect(),
    )
}
/// Asks the provider's API who the token belongs to, and returns the name to
/// show (the first of the profile's `name_fields` that the answer has).
pub fn who_am_i(
    profile: &ProviderProfile,
    client: &Client,
    token: &Secret,
) -> Result<String, ApiError> {
    let url = format!("{}{}", client.api_url, profile.me_path);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = agent
        .get(&url)
        .header("Authorization", &format!("Bearer {}", token.expose()))
        .header("Accept", "application/json")
        // GitHub's API refuses requests without a User-Agent.
        .header("User-Agent", "oauth2-lab")
        .call()
        .map_err(|e| ApiError::Network(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    let description = || labkit::body_start(&body);
    match status {
        200 => {}
        401 => {
            return Err(ApiError::Unauthorized {
                description: description(),
            });
        }
        403 => {
            return Err(ApiError::Forbidden {
                description: description(),
            });
        }
        _ => {
            return Err(ApiError::Status {
                status,
                body_start: description(),
            });
        }
    }
    let fields = json_fields(&body).unwrap_or_default();
    profile
        .name_fields
        .iter()
        .find_map(|name| fields.get(*name).filter(|v| !v.is_empty()).cloned())
        .ok_or(ApiError::Status {
            status,
            body_start: description(),
        })
}
