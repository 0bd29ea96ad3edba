//! Lesson 04 — Trade the code for a token (RFC 6749 §4.1.3, §5.1, §5.2, §7.1).
//!
//! Against the mock provider for what it really does, and against `httpmock`
//! replicas for faults a provider should not fake (5xx, HTML, redirects).

use std::time::Duration;

use httpmock::prelude::*;
use labkit::{Client, ErrorCode, Secret, TokenError, Tokens};
use mock_provider::{Config, ManualClock, MockProvider};

use crate::support::{
    Scripted, approved_code, client_at, client_for, get_with_token, json_answer, provider,
};

type ExchangeCode = fn(&Client, &Secret, &str) -> Result<Tokens, TokenError>;

const REDIRECT: &str = "http://127.0.0.1:8123/callback";
const SCOPE: &str = "profile posts:read";

fn rejected(result: Result<Tokens, TokenError>, expected: ErrorCode, what: &str) -> u16 {
    match result {
        Err(TokenError::Rejected { status, code, .. }) if code == expected => status,
        Err(TokenError::Network(e)) if e.contains("status") => panic!(
            "{what}: ureq turned the error status into Err({e:?}), so its JSON body was lost: \
             build the agent with http_status_as_error(false) and read 4xx bodies"
        ),
        other => panic!(
            "{what}: expected Err(TokenError::Rejected {{ code: {expected:?}, .. }}), got {other:?}"
        ),
    }
}

pub fn exchange_gives_bearer_tokens_that_work(exchange_code: ExchangeCode) {
    let p = provider();
    let code = approved_code(&p, "lab-client", REDIRECT, SCOPE);
    let tokens = exchange_code(&client_for(&p), &code, REDIRECT).unwrap_or_else(|e| {
        panic!("a fresh code, the right secret and redirect_uri should give tokens, got: {e}")
    });
    assert!(tokens.token_type.eq_ignore_ascii_case("bearer"));
    assert_eq!(tokens.expires_in, Some(3600));
    assert!(
        tokens.refresh_token.is_some(),
        "the mock provider sends a refresh token: keep it"
    );
    let me = get_with_token(
        &format!("{}/api/me", p.base_url()),
        tokens.access_token.expose(),
    );
    assert_eq!(
        me.status, 200,
        "the access token must be the one the provider issued: {}",
        me.body
    );
}

pub fn replayed_code_is_invalid_grant(exchange_code: ExchangeCode) {
    let p = provider();
    let code = approved_code(&p, "lab-client", REDIRECT, SCOPE);
    exchange_code(&client_for(&p), &code, REDIRECT).expect("the first exchange works");
    let status = rejected(
        exchange_code(&client_for(&p), &code, REDIRECT),
        ErrorCode::InvalidGrant,
        "the same code twice (RFC 6749 §4.1.2)",
    );
    assert_eq!(status, 400);
}

pub fn expired_code_is_invalid_grant(exchange_code: ExchangeCode) {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone())).unwrap();
    let code = approved_code(&p, "lab-client", REDIRECT, SCOPE);
    clock.advance(Duration::from_secs(61));
    rejected(
        exchange_code(&client_for(&p), &code, REDIRECT),
        ErrorCode::InvalidGrant,
        "a code older than 60 s",
    );
}

pub fn wrong_secret_is_invalid_client(exchange_code: ExchangeCode) {
    let p = provider();
    let code = approved_code(&p, "lab-client", REDIRECT, SCOPE);
    let mut client = client_for(&p);
    client.client_secret = Some(Secret::new("not-the-secret"));
    let status = rejected(
        exchange_code(&client, &code, REDIRECT),
        ErrorCode::InvalidClient,
        "a wrong client secret",
    );
    assert_eq!(
        status, 401,
        "invalid_client comes with 401: read 4xx bodies (ureq: http_status_as_error(false))"
    );
}

pub fn wrong_redirect_uri_is_invalid_grant(exchange_code: ExchangeCode) {
    let p = provider();
    let code = approved_code(&p, "lab-client", REDIRECT, SCOPE);
    rejected(
        exchange_code(&client_for(&p), &code, "http://127.0.0.1:8124/callback"),
        ErrorCode::InvalidGrant,
        "a redirect_uri other than the authorization request's",
    );
}

fn client_of(server: &MockServer) -> Client {
    client_at(&server.url(""))
}

const TOKENS: &str = r#"{"access_token":"replica-token","token_type":"Bearer","expires_in":60}"#;

pub fn sends_the_grant_as_a_form_asking_for_json(exchange_code: ExchangeCode) {
    let endpoint = Scripted::start(vec![json_answer(200, TOKENS)]);
    let mut client = client_at(&endpoint.base);
    client.client_secret = Some(Secret::new("lab-secret"));
    let nonce = format!("code-{}", std::process::id());
    let result = exchange_code(&client, &Secret::new(&nonce), REDIRECT);
    let received = endpoint.received();
    assert_eq!(
        received.len(),
        1,
        "send one request to the token endpoint, got {}",
        received.len()
    );
    let r = &received[0];
    assert_eq!(
        r.method, "POST",
        "the token request is a POST (RFC 6749 §4.1.3)"
    );
    assert_eq!(r.url, "/token", "POST to client.token_url itself");
    assert!(
        r.header("content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded")),
        "the body is a form: use send_form (got Content-Type {:?})",
        r.header("content-type")
    );
    assert_eq!(
        r.header("accept"),
        Some("application/json"),
        "ask for JSON with the header Accept: application/json (some providers answer otherwise)"
    );
    for (field, value) in [
        ("grant_type", "authorization_code"),
        ("code", nonce.as_str()),
        ("redirect_uri", REDIRECT),
    ] {
        assert_eq!(
            r.form(field).as_deref(),
            Some(value),
            "the form needs {field}={value}"
        );
    }
    // Either client authentication method of RFC 6749 §2.3.1, not both.
    let basic = r.header("authorization") == Some("Basic bGFiLWNsaWVudDpsYWItc2VjcmV0");
    let in_body = r.form("client_id").as_deref() == Some("lab-client")
        && r.form("client_secret").as_deref() == Some("lab-secret");
    assert!(
        basic ^ in_body,
        "authenticate as the client once: `Authorization: Basic base64(client_id:client_secret)` (basic_auth), or client_id and client_secret in the form — got Authorization {:?}",
        r.header("authorization")
    );
    assert_eq!(
        result.map(|t| t.access_token.expose().to_string()),
        Ok("replica-token".to_string())
    );
}

pub fn public_client_names_itself_in_the_body(exchange_code: ExchangeCode) {
    let server = MockServer::start();
    let mock = server.mock(|when, then| {
        when.method(POST)
            .path("/token")
            .header_missing("authorization")
            .form_urlencoded_tuple("client_id", "lab-public")
            .form_urlencoded_tuple_missing("client_secret");
        then.status(200)
            .header("content-type", "application/json")
            .body(TOKENS);
    });
    let mut client = client_of(&server);
    client.client_id = "lab-public".into();
    client.client_secret = None;
    let result = exchange_code(&client, &Secret::new("c"), REDIRECT);
    assert_eq!(
        mock.calls(),
        1,
        "a public client (no secret) sends client_id in the body, and no Authorization header"
    );
    assert!(result.is_ok(), "{result:?}");
}

/// A replica that answers `/token` with this status, content type and body.
fn replica(status: u16, content_type: &str, body: &str) -> (MockServer, Client) {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/token");
        then.status(status)
            .header("content-type", content_type)
            .body(body);
    });
    let client = client_of(&server);
    (server, client)
}

pub fn every_rfc6749_5_2_error_is_typed(exchange_code: ExchangeCode) {
    for (error, expected) in [
        ("invalid_request", ErrorCode::InvalidRequest),
        ("invalid_client", ErrorCode::InvalidClient),
        ("invalid_grant", ErrorCode::InvalidGrant),
        ("unauthorized_client", ErrorCode::UnauthorizedClient),
        ("unsupported_grant_type", ErrorCode::UnsupportedGrantType),
        ("invalid_scope", ErrorCode::InvalidScope),
        (
            "slow_down_please",
            ErrorCode::Other("slow_down_please".into()),
        ),
    ] {
        let status = if error == "invalid_client" { 401 } else { 400 };
        let body = format!(r#"{{"error":"{error}","error_description":"replica says {error}"}}"#);
        let (_server, client) = replica(status, "application/json", &body);
        match exchange_code(&client, &Secret::new("c"), REDIRECT) {
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
}

pub fn a_5xx_is_a_server_error(exchange_code: ExchangeCode) {
    for status in [500, 503] {
        let (_server, client) = replica(status, "text/plain", "upstream is down");
        let result = exchange_code(&client, &Secret::new("c"), REDIRECT);
        assert_eq!(
            result.err(),
            Some(TokenError::ServerError { status }),
            "HTTP {status} is the provider's problem"
        );
    }
}

pub fn html_instead_of_json_is_not_json(exchange_code: ExchangeCode) {
    for status in [200, 400] {
        let (_server, client) = replica(
            status,
            "text/html",
            "<html><body>Sign in to the proxy</body></html>",
        );
        match exchange_code(&client, &Secret::new("c"), REDIRECT) {
            Err(TokenError::NotJson { status: s, .. }) => assert_eq!(s, status),
            other => panic!(
                "HTTP {status} with an HTML page: expected Err(TokenError::NotJson), got {other:?}"
            ),
        }
    }
}

pub fn redirects_are_not_followed(exchange_code: ExchangeCode) {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/token");
        then.status(302).header("location", "/elsewhere");
    });
    let elsewhere = server.mock(|when, then| {
        when.path("/elsewhere");
        then.status(200)
            .header("content-type", "application/json")
            .body(TOKENS);
    });
    let result = exchange_code(&client_of(&server), &Secret::new("c"), REDIRECT);
    assert_eq!(
        elsewhere.calls(),
        0,
        "do not follow redirects from the token endpoint (ureq: max_redirects(0))"
    );
    assert_eq!(
        result.err(),
        Some(TokenError::UnexpectedStatus { status: 302 }),
        "a 302 from a token endpoint is TokenError::UnexpectedStatus"
    );
}

pub fn unknown_token_type_is_refused(exchange_code: ExchangeCode) {
    let (_server, client) = replica(
        200,
        "application/json",
        r#"{"access_token":"x","token_type":"mac","expires_in":60}"#,
    );
    let result = exchange_code(&client, &Secret::new("c"), REDIRECT);
    assert_eq!(
        result.err(),
        Some(TokenError::UnsupportedTokenType("mac".into())),
        "RFC 6749 §7.1: do not use a token whose type you do not understand"
    );
}

#[macro_export]
macro_rules! lesson04_suite {
    ($k:ident) => { $crate::lesson04_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            exchange_gives_bearer_tokens_that_work => $crate::lesson04::exchange_gives_bearer_tokens_that_work($k::exchange_code);
            replayed_code_is_invalid_grant => $crate::lesson04::replayed_code_is_invalid_grant($k::exchange_code);
            expired_code_is_invalid_grant => $crate::lesson04::expired_code_is_invalid_grant($k::exchange_code);
            wrong_secret_is_invalid_client => $crate::lesson04::wrong_secret_is_invalid_client($k::exchange_code);
            wrong_redirect_uri_is_invalid_grant => $crate::lesson04::wrong_redirect_uri_is_invalid_grant($k::exchange_code);
            sends_the_grant_as_a_form_asking_for_json => $crate::lesson04::sends_the_grant_as_a_form_asking_for_json($k::exchange_code);
            public_client_names_itself_in_the_body => $crate::lesson04::public_client_names_itself_in_the_body($k::exchange_code);
            every_rfc6749_5_2_error_is_typed => $crate::lesson04::every_rfc6749_5_2_error_is_typed($k::exchange_code);
            a_5xx_is_a_server_error => $crate::lesson04::a_5xx_is_a_server_error($k::exchange_code);
            html_instead_of_json_is_not_json => $crate::lesson04::html_instead_of_json_is_not_json($k::exchange_code);
            redirects_are_not_followed => $crate::lesson04::redirects_are_not_followed($k::exchange_code);
            unknown_token_type_is_refused => $crate::lesson04::unknown_token_type_is_refused($k::exchange_code);
            rfc9207_the_callback_code_refuses_a_mix_up => $crate::lesson03::rfc9207_the_callback_code_refuses_a_mix_up($k::wait_for_callback);
        }
    };
}
