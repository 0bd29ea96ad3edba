//! Lesson 10 — Use a library: lesson 07's outcome with the `oauth2` crate.
//!
//! The same protocol rules as lessons 06 and 07, against the mock provider
//! (PKCE S256, a stolen code refused, rotation, revocation, typed errors), and
//! the adapter that gives oauth2 ureq 3 as its HTTP client, against replicas:
//! it passes every status, header and body through and follows no redirect.
//!
//! The lesson's functions reach the checks through [`Api`], built by
//! [`lesson10_api!`](crate::lesson10_api) from the lesson's crate, so that the
//! checks need not name oauth2's types.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use httpmock::prelude::*;
use labkit::{Client, ErrorCode, LabError, Secret, TokenError};
use ureq::http::{Request, Response};

use crate::support::{
    Scripted, client_at, get_with_token, json_answer, provider, public_client_for,
};

/// One HTTP exchange, as oauth2 hands it to its HTTP client.
pub type HttpCall = fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, String>;

/// Access token, refresh token, expiry (Unix seconds) of stored tokens.
pub type TokenParts = (Secret, Option<Secret>, Option<u64>);

/// The lesson's functions. `O` is its oauth2 client, `A` its authorization
/// request, `S` lesson 07's stored tokens.
pub struct Api<O, A, S> {
    /// The adapter (`UreqClient` as oauth2's `SyncHttpClient`), one request.
    pub call: HttpCall,
    pub oauth_client: fn(&Client, Option<&str>) -> Result<O, LabError>,
    pub authorization_request: fn(&O, &str) -> A,
    /// The URL and the state of an authorization request.
    pub url_and_state: fn(&A) -> (String, String),
    /// `exchange_code` with the verifier of this authorization request.
    pub exchange_code: fn(&O, &Secret, A, SystemTime) -> Result<S, TokenError>,
    pub refresh: fn(&O, &S, SystemTime) -> Result<S, TokenError>,
    pub revoke: fn(&O, &Client, &S) -> Result<(), LabError>,
    pub tokens: fn(&S) -> TokenParts,
    /// The scope kept with stored tokens.
    pub scope: fn(&S) -> Option<String>,
    /// `format!("{:?}")` of stored tokens.
    pub debug: fn(&S) -> String,
}

const REDIRECT: &str = "http://127.0.0.1:8123/callback";
const SCOPE: &str = "profile posts:read";

/// A fixed "now", so that expiries can be checked to the second.
fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// The decoded query parameters of a URL, in order.
fn params(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap_or_else(|e| panic!("the authorization URL {url:?} is not a URL: {e}"))
        .query_pairs()
        .into_owned()
        .collect()
}

fn once(params: &[(String, String)], name: &str) -> String {
    let values: Vec<_> = params.iter().filter(|(n, _)| n == name).collect();
    assert_eq!(
        values.len(),
        1,
        "the authorization URL needs exactly one {name}, got {params:?}"
    );
    values[0].1.clone()
}

/// Alice approves the authorization request: its code, after checking that
/// the redirect carries the request's state.
fn approve<O, A, S>(api: &Api<O, A, S>, p: &mock_provider::MockProvider, request: &A) -> Secret {
    let (url, state) = (api.url_and_state)(request);
    let redirect = p
        .resource_owner("alice")
        .approve(&url)
        .unwrap_or_else(|e| panic!("alice could not approve {url}: {e}"));
    assert_eq!(
        redirect.param("error"),
        None,
        "the provider refused the authorization request: {:?}",
        redirect.param("error_description")
    );
    assert_eq!(
        redirect.param("state").as_deref(),
        Some(state.as_str()),
        "the state in the URL must be the one the request keeps (RFC 6749 §4.1.1)"
    );
    Secret::new(redirect.param("code").expect("the redirect carries a code"))
}

/// A public client's oauth2 client for the mock provider, redirecting to REDIRECT.
fn public<O, A, S>(api: &Api<O, A, S>, p: &mock_provider::MockProvider) -> O {
    (api.oauth_client)(&public_client_for(p), Some(REDIRECT))
        .expect("an oauth2 client for the mock provider's endpoints")
}

/// Tokens for alice, through the lesson's whole flow.
fn signed_in<O, A, S>(api: &Api<O, A, S>, p: &mock_provider::MockProvider, oauth: &O) -> S {
    let request = (api.authorization_request)(oauth, SCOPE);
    let code = approve(api, p, &request);
    (api.exchange_code)(oauth, &code, request, SystemTime::now())
        .unwrap_or_else(|e| panic!("a fresh code with its verifier should give tokens, got: {e}"))
}

fn me(p: &mock_provider::MockProvider, token: &Secret) -> u16 {
    get_with_token(&format!("{}/api/me", p.base_url()), token.expose()).status
}

fn rejected<T: std::fmt::Debug>(result: Result<T, TokenError>, what: &str) -> (u16, ErrorCode) {
    match result {
        Err(TokenError::Rejected { status, code, .. }) => (status, code),
        other => panic!("{what}: expected Err(TokenError::Rejected {{ .. }}), got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Step 1: the adapter

/// The adapter hands oauth2 the answer as it came: an error status is an
/// answer (its body says why, RFC 6749 §5.2), and every header and byte of
/// the request and of the answer goes through untouched.
pub fn adapter_passes_status_headers_and_body_through<O, A, S>(api: Api<O, A, S>) {
    let error = r#"{"error":"invalid_grant","error_description":"replica says no"}"#;
    let replica = Scripted::start(vec![(
        400,
        vec![
            ("Content-Type", "application/json".to_string()),
            ("Cache-Control", "no-store".to_string()),
            ("X-Lab-Replica", "kept".to_string()),
        ],
        error.to_string(),
    )]);
    let body = b"grant_type=authorization_code&code=c%2B1&redirect_uri=x".to_vec();
    let request = Request::builder()
        .method("POST")
        .uri(format!("{}/token?x=1", replica.base))
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Authorization", "Basic bGFiLWNsaWVudDpsYWItc2VjcmV0")
        .body(body.clone())
        .unwrap();
    let response = (api.call)(request).unwrap_or_else(|e| {
        panic!(
            "a 400 is an answer, not an error: oauth2 reads its body (build the agent with http_status_as_error(false)); got Err({e})"
        )
    });
    let received = replica.received();
    assert_eq!(received.len(), 1, "one request, sent once");
    let r = &received[0];
    assert_eq!(
        (r.method.as_str(), r.url.as_str()),
        ("POST", "/token?x=1"),
        "send the request's method and URI"
    );
    for (name, value) in [
        ("accept", "application/json"),
        ("content-type", "application/x-www-form-urlencoded"),
        ("authorization", "Basic bGFiLWNsaWVudDpsYWItc2VjcmV0"),
    ] {
        assert_eq!(
            r.header(name),
            Some(value),
            "send every header oauth2 set ({name})"
        );
    }
    assert_eq!(r.body.as_bytes(), body, "send the body, byte for byte");
    assert_eq!(
        response.status().as_u16(),
        400,
        "hand back the status that came"
    );
    for (name, value) in [
        ("content-type", "application/json"),
        ("cache-control", "no-store"),
        ("x-lab-replica", "kept"),
    ] {
        assert_eq!(
            response.headers().get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "hand back every header of the answer ({name}), not only Content-Type"
        );
    }
    assert_eq!(
        response.body().as_slice(),
        error.as_bytes(),
        "hand back the body, byte for byte"
    );
}

/// oauth2's documentation: the HTTP client must not follow redirects, or a
/// server could send the request, code and credentials and all, elsewhere (SSRF).
pub fn adapter_does_not_follow_redirects<O, A, S>(api: Api<O, A, S>) {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/token");
        then.status(302).header("location", "/elsewhere");
    });
    let elsewhere = server.mock(|when, then| {
        when.path("/elsewhere");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"access_token":"x","token_type":"Bearer"}"#);
    });
    let request = Request::builder()
        .method("POST")
        .uri(server.url("/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(b"grant_type=authorization_code&code=c".to_vec())
        .unwrap();
    let response = (api.call)(request).unwrap_or_else(|e| {
        panic!("a 302 is an answer: hand it back (ureq: max_redirects(0)); got Err({e})")
    });
    assert_eq!(
        elsewhere.calls(),
        0,
        "do not follow redirects (ureq: max_redirects(0))"
    );
    assert_eq!(response.status().as_u16(), 302);
    assert_eq!(
        response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok()),
        Some("/elsewhere"),
        "hand back the redirect as it came"
    );
}

/// One HTTP client in the program: the adapter sends with ureq 3 (its
/// User-Agent says so), and `Cargo.lock` holds one ureq — oauth2's own `ureq`
/// feature would add ureq 2, and its default features reqwest.
pub fn one_ureq_only<O, A, S>(api: Api<O, A, S>, package: &str) {
    let lock = std::fs::read_to_string(crate::course::root().join("Cargo.lock"))
        .expect("Cargo.lock is committed");
    let lock: toml::Table = lock.parse().expect("Cargo.lock is TOML");
    let packages = lock["package"].as_array().expect("[[package]] entries");
    let named = |name: &str| -> Vec<&toml::Value> {
        packages
            .iter()
            .filter(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
            .collect()
    };
    let deps = |name: &str| -> Vec<String> {
        named(name)
            .into_iter()
            .flat_map(|p| p.get("dependencies").and_then(|d| d.as_array()).cloned())
            .flatten()
            .filter_map(|d| {
                d.as_str()
                    .map(|d| d.split(' ').next().unwrap_or(d).to_string())
            })
            .collect()
    };
    let ureqs: Vec<String> = named("ureq")
        .into_iter()
        .filter_map(|p| p.get("version").and_then(|v| v.as_str()).map(String::from))
        .collect();
    assert!(
        ureqs.len() == 1 && ureqs[0].starts_with("3."),
        "Cargo.lock should hold one ureq, version 3, got {ureqs:?}: depend on oauth2 with default-features = false and no `ureq` feature"
    );
    let oauth2 = deps("oauth2");
    for http in ["ureq", "reqwest", "curl"] {
        assert!(
            !oauth2.contains(&http.to_string()),
            "oauth2 pulls in {http}: turn its default features off and use the adapter"
        );
    }
    for dep in ["oauth2", "ureq"] {
        assert!(
            deps(package).contains(&dep.to_string()),
            "{package} should depend on {dep}"
        );
    }
    let replica = Scripted::start(vec![json_answer(200, "{}")]);
    let request = Request::builder()
        .method("POST")
        .uri(format!("{}/token", replica.base))
        .body(Vec::new())
        .unwrap();
    (api.call)(request).expect("the replica answers");
    let agent = replica.received()[0]
        .header("user-agent")
        .unwrap_or_default()
        .to_string();
    assert!(
        agent.starts_with("ureq/3."),
        "send with ureq 3's agent, got User-Agent {agent:?}"
    );
}

// ---------------------------------------------------------------------------
// Steps 2–3: the client and the authorization URL

/// RFC 6749 §4.1.1 with RFC 7636 §4.3: the URL asks for a code for lab-public,
/// comes back to our redirect URI with our state, and carries an S256
/// challenge of 43 characters (SHA-256 in base64url); each request is fresh.
pub fn authorization_url_has_pkce_s256_state_and_redirect<O, A, S>(api: Api<O, A, S>) {
    let p = provider();
    let oauth = public(&api, &p);
    let first = (api.authorization_request)(&oauth, SCOPE);
    let second = (api.authorization_request)(&oauth, SCOPE);
    let (url, state) = (api.url_and_state)(&first);
    assert!(
        url.starts_with(&format!("{}/authorize?", p.base_url())),
        "the URL starts with the authorization endpoint: {url}"
    );
    let q = params(&url);
    assert_eq!(once(&q, "response_type"), "code");
    assert_eq!(once(&q, "client_id"), "lab-public");
    assert_eq!(
        once(&q, "redirect_uri"),
        REDIRECT,
        "set the redirect URI on the client"
    );
    assert_eq!(once(&q, "scope"), SCOPE, "ask for the scopes given");
    assert_eq!(
        once(&q, "state"),
        state,
        "the state in the URL is the one kept"
    );
    assert!(
        state.len() >= 22,
        "the state must be unguessable (RFC 6749 §10.12): use CsrfToken::new_random"
    );
    assert_eq!(
        once(&q, "code_challenge_method"),
        "S256",
        "RFC 7636 §4.3: S256, never plain (PkceCodeChallenge::new_random_sha256)"
    );
    let challenge = once(&q, "code_challenge");
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&challenge).map(|h| h.len()).ok(),
        Some(32),
        "the challenge is a SHA-256 in base64url: 43 characters, got {challenge:?}"
    );
    let (url2, state2) = (api.url_and_state)(&second);
    assert_ne!(state, state2, "a fresh state for every request");
    assert_ne!(
        once(&q, "code_challenge"),
        once(&params(&url2), "code_challenge"),
        "a fresh verifier for every request"
    );
}

// ---------------------------------------------------------------------------
// Step 4: the exchange

/// The whole flow as lab-public: alice approves, the code and the verifier
/// give Bearer tokens that work at /api/me, kept as lesson 07 keeps them.
pub fn full_pkce_flow_gives_tokens_that_work<O, A, S>(api: Api<O, A, S>) {
    let p = provider();
    let oauth = public(&api, &p);
    let request = (api.authorization_request)(&oauth, SCOPE);
    let code = approve(&api, &p, &request);
    let stored = (api.exchange_code)(&oauth, &code, request, at(1_800_000_000))
        .unwrap_or_else(|e| panic!("a fresh code with its verifier should give tokens, got: {e}"));
    let (access, refresh, expires_at) = (api.tokens)(&stored);
    assert_eq!(
        me(&p, &access),
        200,
        "the access token must be the one the provider issued"
    );
    assert!(
        refresh.is_some(),
        "the mock provider sends a refresh token: keep it"
    );
    assert_eq!(
        expires_at,
        Some(1_800_003_600),
        "expires_at is `now` plus expires_in (3600 s): use lesson 07's stored_from with the `now` given"
    );
    let debug = (api.debug)(&stored);
    for secret in std::iter::once(&access).chain(refresh.as_ref()) {
        assert!(
            !debug.contains(secret.expose()),
            "Debug of the stored tokens shows a token whole: {debug}"
        );
    }
}

/// RFC 7636 §4.6: a code copied out of the redirect is worth nothing without
/// the verifier, which never left the program; the rightful program still
/// gets its tokens.
pub fn a_stolen_code_without_the_verifier_is_refused<O, A, S>(api: Api<O, A, S>) {
    let p = provider();
    let oauth = public(&api, &p);
    let request = (api.authorization_request)(&oauth, SCOPE);
    let stolen = approve(&api, &p, &request);
    let answer = ureq::post(&format!("{}/token", p.base_url()))
        .config()
        .http_status_as_error(false)
        .build()
        .send_form([
            ("grant_type", "authorization_code"),
            ("code", stolen.expose()),
            ("redirect_uri", REDIRECT),
            ("client_id", "lab-public"),
        ])
        .expect("the token endpoint answers")
        .body_mut()
        .read_to_string()
        .unwrap();
    assert!(
        answer.contains("invalid_grant"),
        "the stolen code without the verifier: {answer}"
    );
    let stored =
        (api.exchange_code)(&oauth, &stolen, request, SystemTime::now()).unwrap_or_else(|e| {
            panic!("the program that holds the verifier still gets its tokens: {e}")
        });
    assert_eq!(me(&p, &(api.tokens)(&stored).0), 200);
}

/// RFC 7636 §4.6 as a typed error: the code with another request's verifier
/// is `invalid_grant`, status 400 — not a string to search.
pub fn a_wrong_verifier_is_a_typed_invalid_grant<O, A, S: std::fmt::Debug>(api: Api<O, A, S>) {
    let p = provider();
    let oauth = public(&api, &p);
    let request = (api.authorization_request)(&oauth, SCOPE);
    let other = (api.authorization_request)(&oauth, SCOPE);
    let code = approve(&api, &p, &request);
    let result = (api.exchange_code)(&oauth, &code, other, SystemTime::now());
    assert_eq!(
        rejected(result, "the code with another request's verifier"),
        (400, ErrorCode::InvalidGrant),
        "map oauth2's ServerResponse to TokenError::Rejected with the status that came"
    );
}

/// RFC 6749 §2.3.1: a public client names itself in the body (with its
/// verifier, RFC 7636 §4.5); a confidential one authenticates with HTTP Basic,
/// not both.
pub fn clients_authenticate_as_rfc6749_2_3_1_says<O, A, S: std::fmt::Debug>(api: Api<O, A, S>) {
    let tokens = r#"{"access_token":"replica-token","token_type":"Bearer","expires_in":60}"#;
    for (client_id, secret) in [("lab-public", None), ("lab-client", Some("lab-secret"))] {
        let replica = Scripted::start(vec![json_answer(200, tokens)]);
        let mut client = client_at(&replica.base);
        client.client_id = client_id.into();
        client.client_secret = secret.map(Secret::new);
        let oauth = (api.oauth_client)(&client, Some(REDIRECT)).expect("an oauth2 client");
        let request = (api.authorization_request)(&oauth, SCOPE);
        let stored = (api.exchange_code)(&oauth, &Secret::new("c0de"), request, SystemTime::now())
            .unwrap_or_else(|e| panic!("the replica's tokens: {e}"));
        assert_eq!((api.tokens)(&stored).0.expose(), "replica-token");
        let received = replica.received();
        let r = &received[0];
        for (field, value) in [
            ("grant_type", "authorization_code"),
            ("code", "c0de"),
            ("redirect_uri", REDIRECT),
        ] {
            assert_eq!(
                r.form(field).as_deref(),
                Some(value),
                "the form needs {field}"
            );
        }
        assert_eq!(
            r.form("code_verifier").map(|v| v.len()),
            Some(43),
            "send the request's verifier (RFC 7636 §4.5)"
        );
        match secret {
            None => {
                assert_eq!(
                    r.form("client_id").as_deref(),
                    Some("lab-public"),
                    "a public client names itself in the body (AuthType::RequestBody)"
                );
                assert_eq!(r.header("authorization"), None);
            }
            Some(_) => {
                assert_eq!(
                    r.header("authorization"),
                    Some("Basic bGFiLWNsaWVudDpsYWItc2VjcmV0"),
                    "a confidential client uses HTTP Basic (AuthType::BasicAuth, set_client_secret)"
                );
                assert_eq!(
                    r.form("client_secret"),
                    None,
                    "authenticate once, not in the body too"
                );
            }
        }
    }
}

/// RFC 6749 §5.2 and what is not §5.2, as typed [`TokenError`]s: each
/// error code, 5xx, HTML instead of JSON, a redirect, an unknown token type,
/// nobody listening.
pub fn token_errors_are_typed<O, A, S: std::fmt::Debug>(api: Api<O, A, S>) {
    let exchange = |status: u16, content_type: &str, body: &str| {
        let server = MockServer::start();
        server.mock(|when, then| {
            when.method(POST).path("/token");
            then.status(status)
                .header("content-type", content_type)
                .body(body);
        });
        let oauth = (api.oauth_client)(&client_at(&server.url("")), Some(REDIRECT))
            .expect("an oauth2 client");
        let request = (api.authorization_request)(&oauth, SCOPE);
        (api.exchange_code)(&oauth, &Secret::new("c"), request, SystemTime::now())
    };
    for (error, status, expected) in [
        ("invalid_request", 400, ErrorCode::InvalidRequest),
        ("invalid_client", 401, ErrorCode::InvalidClient),
        ("invalid_grant", 400, ErrorCode::InvalidGrant),
        ("unauthorized_client", 400, ErrorCode::UnauthorizedClient),
        (
            "unsupported_grant_type",
            400,
            ErrorCode::UnsupportedGrantType,
        ),
        ("invalid_scope", 400, ErrorCode::InvalidScope),
        (
            "slow_down_please",
            400,
            ErrorCode::Other("slow_down_please".into()),
        ),
    ] {
        let body = format!(r#"{{"error":"{error}","error_description":"replica says {error}"}}"#);
        match exchange(status, "application/json", &body) {
            Err(TokenError::Rejected {
                status: s,
                code,
                description,
            }) => {
                assert_eq!((s, &code), (status, &expected), "{error}");
                assert_eq!(
                    description.as_deref(),
                    Some(format!("replica says {error}").as_str()),
                    "keep error_description"
                );
            }
            other => {
                panic!("HTTP {status} {body}: expected Err(TokenError::Rejected), got {other:?}")
            }
        }
    }
    assert_eq!(
        exchange(503, "text/plain", "upstream is down").err(),
        Some(TokenError::ServerError { status: 503 }),
        "a 5xx is the provider's problem"
    );
    for status in [200, 400] {
        match exchange(status, "text/html", "<html>Sign in to the proxy</html>") {
            Err(TokenError::NotJson { status: s, .. }) => assert_eq!(s, status),
            other => panic!(
                "HTTP {status} with an HTML page: expected Err(TokenError::NotJson), got {other:?}"
            ),
        }
    }
    // A 200 that is JSON but no §5.1 answer may still hold a token: the error
    // must not show it whole.
    let token = "lab_at_NotForYourEyes9q";
    match exchange(
        200,
        "application/json",
        &format!(r#"{{"access_token":"{token}","expires_in":60}}"#),
    ) {
        Err(e @ TokenError::NotJson { status: 200, .. }) => assert!(
            !format!("{e} {e:?}").contains(token),
            "the error shows the token of a malformed answer: {e}"
        ),
        other => {
            panic!("HTTP 200 without token_type: expected Err(TokenError::NotJson), got {other:?}")
        }
    }
    assert_eq!(
        exchange(302, "text/plain", "").err(),
        Some(TokenError::UnexpectedStatus { status: 302 }),
        "a token endpoint that redirects is misconfigured"
    );
    assert_eq!(
        exchange(
            200,
            "application/json",
            r#"{"access_token":"x","token_type":"mac","expires_in":60}"#
        )
        .err(),
        Some(TokenError::UnsupportedTokenType("mac".into())),
        "RFC 6749 §7.1: do not use a token whose type you do not understand"
    );
    // Nobody listens on a port just given back.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let oauth = (api.oauth_client)(
        &client_at(&format!("http://127.0.0.1:{port}")),
        Some(REDIRECT),
    )
    .expect("an oauth2 client");
    let request = (api.authorization_request)(&oauth, SCOPE);
    match (api.exchange_code)(&oauth, &Secret::new("c"), request, SystemTime::now()) {
        Err(TokenError::Network(_)) => {}
        other => panic!("nobody listening: expected Err(TokenError::Network), got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Steps 5–6: refresh and revoke

/// RFC 6749 §6 with rotation (RFC 9700 §4.14): the refresh gives a working
/// access token and a new refresh token, computed from the `now` given; the
/// old refresh token is refused afterwards.
pub fn refresh_rotates_and_the_old_refresh_token_is_refused<O, A, S: std::fmt::Debug>(
    api: Api<O, A, S>,
) {
    let p = provider();
    let oauth = public(&api, &p);
    let stored = signed_in(&api, &p, &oauth);
    let fresh = (api.refresh)(&oauth, &stored, at(1_900_000_000))
        .unwrap_or_else(|e| panic!("a fresh refresh token should give new tokens, got: {e}"));
    let (old_access, old_refresh, _) = (api.tokens)(&stored);
    let (access, refresh, expires_at) = (api.tokens)(&fresh);
    assert_ne!(access, old_access, "a new access token");
    assert_eq!(me(&p, &access), 200, "the new access token works");
    assert!(
        refresh.is_some() && refresh != old_refresh,
        "the mock provider rotates refresh tokens: keep the new one"
    );
    assert_eq!(
        expires_at,
        Some(1_900_003_600),
        "expires_at is the `now` given plus expires_in"
    );
    let (status, code) = rejected(
        (api.refresh)(&oauth, &stored, SystemTime::now()),
        "the rotated-out refresh token (RFC 9700 §4.14)",
    );
    assert_eq!((status, code), (400, ErrorCode::InvalidGrant));
}

/// RFC 6749 §6: a provider may send no new refresh token; the old one then
/// stays good and must not be lost.
pub fn refresh_keeps_the_refresh_token_when_none_comes_back<O, A, S: std::fmt::Debug>(
    api: Api<O, A, S>,
) {
    let replica = Scripted::start(vec![
        json_answer(
            200,
            r#"{"access_token":"first","token_type":"Bearer","expires_in":60,"refresh_token":"keep-me","scope":"profile"}"#,
        ),
        json_answer(
            200,
            r#"{"access_token":"second","token_type":"Bearer","expires_in":60}"#,
        ),
    ]);
    let mut client = client_at(&replica.base);
    client.client_id = "lab-public".into();
    client.client_secret = None;
    let oauth = (api.oauth_client)(&client, Some(REDIRECT)).expect("an oauth2 client");
    let request = (api.authorization_request)(&oauth, SCOPE);
    let stored = (api.exchange_code)(&oauth, &Secret::new("c"), request, SystemTime::now())
        .expect("the replica's tokens");
    let fresh = (api.refresh)(&oauth, &stored, SystemTime::now()).expect("the replica's refresh");
    let received = replica.received();
    assert_eq!(
        received[1].form("grant_type").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(
        received[1].form("refresh_token").as_deref(),
        Some("keep-me"),
        "send the saved refresh token"
    );
    let (access, refresh, _) = (api.tokens)(&fresh);
    assert_eq!(access.expose(), "second");
    assert_eq!(
        refresh.as_ref().map(Secret::expose),
        Some("keep-me"),
        "no refresh token in the answer: keep the old one"
    );
    assert_eq!(
        (api.scope)(&fresh).as_deref(),
        Some("profile"),
        "no scope in the refresh answer: the grant's scope is unchanged, keep it (RFC 6749 §5.1)"
    );
    // No refresh token at all (some providers issue none): as in lesson 07,
    // TokenError::NoRefreshToken at once, so that the program asks again.
    let replica = Scripted::start(vec![json_answer(
        200,
        r#"{"access_token":"only","token_type":"Bearer","expires_in":60}"#,
    )]);
    let mut client = client_at(&replica.base);
    client.client_id = "lab-public".into();
    client.client_secret = None;
    let oauth = (api.oauth_client)(&client, Some(REDIRECT)).expect("an oauth2 client");
    let request = (api.authorization_request)(&oauth, SCOPE);
    let stored = (api.exchange_code)(&oauth, &Secret::new("c"), request, SystemTime::now())
        .expect("the replica's tokens");
    match (api.refresh)(&oauth, &stored, SystemTime::now()) {
        Err(TokenError::NoRefreshToken) => {}
        other => panic!(
            "refresh without a saved refresh token: nothing to send, so Err(TokenError::NoRefreshToken), got {other:?}"
        ),
    }
    assert_eq!(
        replica.received().len(),
        1,
        "without a refresh token there is nothing to send"
    );
}

/// RFC 7009: after logout the tokens are dead at the provider: the API
/// refuses the access token (RFC 6750 §3.1) and the refresh token gets
/// `invalid_grant`.
pub fn revoke_kills_the_tokens<O, A, S: std::fmt::Debug>(api: Api<O, A, S>) {
    let p = provider();
    let oauth = public(&api, &p);
    let client = public_client_for(&p);
    let stored = signed_in(&api, &p, &oauth);
    let (access, _, _) = (api.tokens)(&stored);
    assert_eq!(me(&p, &access), 200);
    (api.revoke)(&oauth, &client, &stored).unwrap_or_else(|e| panic!("revoking failed: {}", e.0));
    assert_eq!(
        me(&p, &access),
        401,
        "the revoked access token must not work any more"
    );
    let (status, code) = rejected(
        (api.refresh)(&oauth, &stored, SystemTime::now()),
        "the revoked refresh token",
    );
    assert_eq!((status, code), (400, ErrorCode::InvalidGrant));
}

/// RFC 7009 §2: the revocation endpoint must be HTTPS, and oauth2 checks it;
/// only the lab's provider on this machine (loopback) is let off. Nothing is
/// sent to a plain-HTTP endpoint elsewhere.
pub fn revoke_refuses_plain_http_beyond_this_machine<O, A, S: std::fmt::Debug>(api: Api<O, A, S>) {
    let p = provider();
    let oauth = public(&api, &p);
    let stored = signed_in(&api, &p, &oauth);
    // 0.0.0.0 is no loopback address, yet a connection to it stays on this
    // machine: should anything be sent, the replica sees it, and nothing leaves.
    let replica = MockServer::start();
    let revoke = replica.mock(|when, then| {
        when.any_request();
        then.status(200);
    });
    let mut client = public_client_for(&p);
    client.revoke_url = Some(format!("http://0.0.0.0:{}/revoke", replica.port()));
    let elsewhere = (api.oauth_client)(&client, None).expect("an oauth2 client");
    let error = (api.revoke)(&elsewhere, &client, &stored)
        .expect_err("a plain-HTTP revocation endpoint off this machine must be refused");
    assert_eq!(
        revoke.calls(),
        0,
        "send no token to a plain-HTTP endpoint elsewhere"
    );
    assert!(
        error.0.contains("HTTPS"),
        "say that the endpoint must be HTTPS: {}",
        error.0
    );
    let (access, refresh, _) = (api.tokens)(&stored);
    for secret in std::iter::once(&access).chain(refresh.as_ref()) {
        assert!(
            !error.0.contains(secret.expose()),
            "the error shows a token: {}",
            error.0
        );
    }
    assert_eq!(me(&p, &access), 200, "nothing was revoked");
}

#[macro_export]
macro_rules! lesson10_api {
    ($k:ident) => {
        $crate::lesson10::Api::<$k::OAuthClient, $k::AuthRequest, $k::StoredTokens> {
            call: |request| {
                $k::oauth2::SyncHttpClient::call(&$k::UreqClient::new(), request)
                    .map_err(|e| e.to_string())
            },
            oauth_client: $k::oauth_client,
            authorization_request: $k::authorization_request,
            url_and_state: |request| (request.url.clone(), request.state.secret().clone()),
            exchange_code: |oauth, code, request, now| {
                $k::exchange_code(oauth, &$k::UreqClient::new(), code, request.verifier, now)
            },
            refresh: |oauth, stored, now| $k::refresh(oauth, &$k::UreqClient::new(), stored, now),
            revoke: |oauth, client, stored| {
                $k::revoke(oauth, &$k::UreqClient::new(), client, stored)
            },
            tokens: |stored| {
                (
                    stored.access_token.clone(),
                    stored.refresh_token.clone(),
                    stored.expires_at,
                )
            },
            scope: |stored| stored.scope.clone(),
            debug: |stored| format!("{stored:?}"),
        }
    };
}

#[macro_export]
macro_rules! lesson10_suite {
    ($k:ident) => { $crate::lesson10_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            adapter_passes_status_headers_and_body_through => $crate::lesson10::adapter_passes_status_headers_and_body_through($crate::lesson10_api!($k));
            adapter_does_not_follow_redirects => $crate::lesson10::adapter_does_not_follow_redirects($crate::lesson10_api!($k));
            one_ureq_only => $crate::lesson10::one_ureq_only($crate::lesson10_api!($k), stringify!($k));
            authorization_url_has_pkce_s256_state_and_redirect => $crate::lesson10::authorization_url_has_pkce_s256_state_and_redirect($crate::lesson10_api!($k));
            full_pkce_flow_gives_tokens_that_work => $crate::lesson10::full_pkce_flow_gives_tokens_that_work($crate::lesson10_api!($k));
            a_stolen_code_without_the_verifier_is_refused => $crate::lesson10::a_stolen_code_without_the_verifier_is_refused($crate::lesson10_api!($k));
            a_wrong_verifier_is_a_typed_invalid_grant => $crate::lesson10::a_wrong_verifier_is_a_typed_invalid_grant($crate::lesson10_api!($k));
            clients_authenticate_as_rfc6749_2_3_1_says => $crate::lesson10::clients_authenticate_as_rfc6749_2_3_1_says($crate::lesson10_api!($k));
            token_errors_are_typed => $crate::lesson10::token_errors_are_typed($crate::lesson10_api!($k));
            refresh_rotates_and_the_old_refresh_token_is_refused => $crate::lesson10::refresh_rotates_and_the_old_refresh_token_is_refused($crate::lesson10_api!($k));
            refresh_keeps_the_refresh_token_when_none_comes_back => $crate::lesson10::refresh_keeps_the_refresh_token_when_none_comes_back($crate::lesson10_api!($k));
            revoke_kills_the_tokens => $crate::lesson10::revoke_kills_the_tokens($crate::lesson10_api!($k));
            revoke_refuses_plain_http_beyond_this_machine => $crate::lesson10::revoke_refuses_plain_http_beyond_this_machine($crate::lesson10_api!($k));
            rfc9207_the_callback_code_refuses_a_mix_up => $crate::lesson03::rfc9207_the_callback_code_refuses_a_mix_up($k::wait_for_callback);
        }
    };
}
