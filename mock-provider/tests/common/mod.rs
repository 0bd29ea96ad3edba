//! Helpers for the provider's tests: a client that speaks plain HTTP to it.
#![allow(dead_code)]

use mock_provider::{Config, MockProvider};
use serde_json::Value;
use url::form_urlencoded;

pub const CALLBACK: &str = "http://127.0.0.1:8123/callback";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub fn start() -> MockProvider {
    MockProvider::start(Config::default()).expect("provider starts")
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .build()
        .into()
}

/// An answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn error(&self) -> String {
        self.json()["error"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// A query parameter of the Location header.
    pub fn location_param(&self, name: &str) -> Option<String> {
        let location = self.header("location")?;
        let url = url::Url::parse(location).ok()?;
        url.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }
}

pub fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

pub fn get(url: &str, bearer: Option<&str>) -> Answer {
    let mut request = agent().get(url);
    if let Some(token) = bearer {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    read(request.call().expect("GET answered"))
}

/// POSTs a form; `basic` is `(client_id, secret)` for HTTP Basic.
pub fn post_form(url: &str, basic: Option<(&str, &str)>, fields: &[(&str, &str)]) -> Answer {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields.iter())
        .finish();
    post_raw(url, basic, "application/x-www-form-urlencoded", &body)
}

pub fn post_raw(url: &str, basic: Option<(&str, &str)>, content_type: &str, body: &str) -> Answer {
    let mut request = agent().post(url).header("Content-Type", content_type);
    if let Some((id, secret)) = basic {
        use base64::Engine;
        let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode(id),
            encode(secret)
        ));
        request = request.header("Authorization", &format!("Basic {credentials}"));
    }
    read(request.send(body).expect("POST answered"))
}

/// An authorization URL for `client_id` with these extra parameters.
pub fn authorize_url(base: &str, client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    let defaults = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", "profile posts:read"),
        ("state", "st-123"),
    ];
    // `extra` replaces a default of the same name.
    for (k, v) in defaults
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
    {
        query.append_pair(k, v);
    }
    for (k, v) in extra {
        query.append_pair(k, v);
    }
    format!("{base}/authorize?{}", query.finish())
}

/// Runs the consent page as alice and returns the code (confidential client, no PKCE).
pub fn code_for(provider: &MockProvider, client_id: &str, extra: &[(&str, &str)]) -> String {
    let redirect = provider
        .resource_owner("alice")
        .approve(&authorize_url(provider.base_url(), client_id, extra))
        .expect("alice approves");
    redirect
        .param("code")
        .unwrap_or_else(|| panic!("no code in {redirect:?}"))
}

pub fn exchange(provider: &MockProvider, code: &str) -> Answer {
    post_form(
        &format!("{}/token", provider.base_url()),
        Some(("lab-client", "lab-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
        ],
    )
}

/// The public client's code exchange: PKCE with the RFC 7636 Appendix B
/// verifier, no secret.
pub fn exchange_public(provider: &MockProvider, code: &str) -> Answer {
    post_form(
        &format!("{}/token", provider.base_url()),
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("client_id", "lab-public"),
            ("code_verifier", VERIFIER),
        ],
    )
}

/// A full flow for lab-client as alice: (access_token, refresh_token).
pub fn tokens(provider: &MockProvider) -> (String, String) {
    let code = code_for(provider, "lab-client", &[]);
    let answer = exchange(provider, &code);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let json = answer.json();
    (
        json["access_token"].as_str().unwrap().to_string(),
        json["refresh_token"].as_str().unwrap().to_string(),
    )
}
