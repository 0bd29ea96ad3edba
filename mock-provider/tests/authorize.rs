//! The authorization endpoint, from outside over HTTP: RFC 6749 §3.1 and §4.1.1–4.1.2,
//! RFC 7636 §4.4, RFC 8252 §7.3, RFC 9207.

mod common;

use common::*;
use mock_provider::{Config, MockProvider};

fn base_query(client_id: &str, redirect_uri: &str) -> Vec<(String, String)> {
    vec![
        ("response_type".into(), "code".into()),
        ("client_id".into(), client_id.into()),
        ("redirect_uri".into(), redirect_uri.into()),
        ("state".into(), "st-123".into()),
    ]
}

fn url_with(base: &str, pairs: &[(String, String)]) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter())
        .finish();
    format!("{base}/authorize?{query}")
}

// RFC 6749 §4.1.2.1: a bad client_id or redirect_uri is never redirected.
#[test]
fn rfc6749_4_1_2_1_unknown_client_or_redirect_uri_gets_an_error_page_not_a_redirect() {
    let p = start();
    let cases = [
        ("unknown client", base_query("nobody", CALLBACK)),
        ("missing client", base_query("", CALLBACK)),
        (
            "unregistered uri",
            base_query("lab-client", "http://evil.example/callback"),
        ),
        (
            "other path",
            base_query("lab-client", "http://127.0.0.1:8123/other"),
        ),
        ("missing uri", base_query("lab-client", "")),
        ("repeated client_id", {
            let mut q = base_query("lab-client", CALLBACK);
            q.push(("client_id".into(), "lab-public".into()));
            q
        }),
    ];
    for (what, query) in cases {
        let answer = get(&url_with(p.base_url(), &query), None);
        assert_eq!(answer.status, 400, "{what}: {}", answer.body);
        assert!(
            answer.header("location").is_none(),
            "{what}: must not redirect"
        );
        assert!(
            answer.body.contains("role=\"alert\""),
            "{what}: the page says what is wrong"
        );
    }
}

// RFC 6749 §3.1.2.3 and RFC 8252 §7.3.
#[test]
fn rfc8252_7_3_loopback_redirect_uri_matches_with_any_port_and_nothing_else() {
    let p = start();
    for uri in [
        "http://127.0.0.1:1/callback",
        "http://[::1]:65535/callback",
        "http://localhost:40000/callback",
    ] {
        let answer = get(
            &url_with(p.base_url(), &base_query("lab-client", uri)),
            None,
        );
        assert_eq!(
            answer.status, 200,
            "{uri} is registered (any port): {}",
            answer.body
        );
    }
    for uri in [
        "http://127.0.0.1:8123/callback/",
        "http://127.0.0.1:8123/callback?x=1",
        "https://127.0.0.1:8123/callback",
    ] {
        let answer = get(
            &url_with(p.base_url(), &base_query("lab-client", uri)),
            None,
        );
        assert_eq!(answer.status, 400, "{uri} must not match");
    }
}

fn refused(
    p: &MockProvider,
    query: &[(String, String)],
) -> (String, Option<String>, Option<String>) {
    let answer = get(&url_with(p.base_url(), query), None);
    assert_eq!(
        answer.status, 302,
        "expected an error redirect: {}",
        answer.body
    );
    assert!(
        answer.header("location").unwrap().starts_with(CALLBACK),
        "goes back to the client"
    );
    (
        answer.location_param("error").expect("error parameter"),
        answer.location_param("state"),
        answer.location_param("iss"),
    )
}

// RFC 6749 §4.1.2.1, RFC 7636 §4.4.1.
#[test]
fn rfc6749_4_1_2_1_bad_requests_redirect_with_error_state_and_iss() {
    let p = start();
    let with = |client: &str, extra: &[(&str, &str)], drop: &str| {
        let mut q = base_query(client, CALLBACK);
        q.retain(|(k, _)| k != drop);
        q.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        q
    };
    let cases = [
        (
            "bad response_type",
            with("lab-client", &[("response_type", "token")], "response_type"),
            "unsupported_response_type",
        ),
        (
            "missing response_type",
            with("lab-client", &[], "response_type"),
            "invalid_request",
        ),
        (
            "unknown scope",
            with("lab-client", &[("scope", "profile admin")], ""),
            "invalid_scope",
        ),
        (
            "public client without PKCE",
            with("lab-public", &[], ""),
            "invalid_request",
        ),
        (
            "plain PKCE",
            with(
                "lab-public",
                &[
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "plain"),
                ],
                "",
            ),
            "invalid_request",
        ),
        (
            "method left out means plain",
            with("lab-public", &[("code_challenge", CHALLENGE)], ""),
            "invalid_request",
        ),
        (
            "unknown method",
            with(
                "lab-public",
                &[
                    ("code_challenge", CHALLENGE),
                    ("code_challenge_method", "S512"),
                ],
                "",
            ),
            "invalid_request",
        ),
        (
            "malformed challenge",
            with(
                "lab-public",
                &[
                    ("code_challenge", "short"),
                    ("code_challenge_method", "S256"),
                ],
                "",
            ),
            "invalid_request",
        ),
    ];
    for (what, query, expected) in cases {
        let (error, state, iss) = refused(&p, &query);
        assert_eq!(error, expected, "{what}");
        assert_eq!(
            state.as_deref(),
            Some("st-123"),
            "{what}: state is sent back"
        );
        assert_eq!(
            iss.as_deref(),
            Some(p.base_url()),
            "{what}: iss is the issuer (RFC 9207)"
        );
    }
}

// RFC 6749 §4.1.2, RFC 9207: the registered query is kept, state is byte-identical.
#[test]
fn rfc6749_4_1_2_success_keeps_registered_query_and_returns_exact_state_and_iss() {
    let mut config = Config::default();
    config
        .add_from_toml(
            r#"
            [[client]]
            id = "query-app"
            name = "Query App"
            secret = "query-secret"
            redirect_uris = ["http://127.0.0.1/cb?tenant=a%20b&x=1"]
            "#,
        )
        .unwrap();
    let p = MockProvider::start(config).unwrap();
    let state = "ünïcode & spaces+plus=%25/?#";
    let mut q = base_query("query-app", "http://127.0.0.1:7000/cb?tenant=a%20b&x=1");
    q.retain(|(k, _)| k != "state");
    q.push(("state".into(), state.into()));
    let redirect = p
        .resource_owner("alice")
        .approve(&url_with(p.base_url(), &q))
        .unwrap();
    assert!(
        redirect
            .location
            .starts_with("http://127.0.0.1:7000/cb?tenant=a%20b&x=1&"),
        "registered query kept: {}",
        redirect.location
    );
    assert_eq!(redirect.param("state").as_deref(), Some(state));
    assert_eq!(redirect.param("iss").as_deref(), Some(p.base_url()));
    assert!(redirect.param("code").unwrap().len() > 40);
}

// RFC 6749 §4.1.2.1: access_denied.
#[test]
fn rfc6749_4_1_2_1_deny_sends_access_denied_with_state_and_iss() {
    let p = start();
    let redirect = p
        .resource_owner("bob")
        .deny(&authorize_url(p.base_url(), "lab-client", &[]))
        .unwrap();
    assert_eq!(redirect.param("error").as_deref(), Some("access_denied"));
    assert_eq!(redirect.param("state").as_deref(), Some("st-123"));
    assert_eq!(redirect.param("iss").as_deref(), Some(p.base_url()));
    assert_eq!(redirect.param("code"), None);
}

// RFC 6749 §3.1: a parameter sent twice is invalid_request.
#[test]
fn rfc6749_3_1_repeated_parameter_is_invalid_request() {
    let p = start();
    let mut q = base_query("lab-client", CALLBACK);
    q.push(("scope".into(), "profile".into()));
    q.push(("scope".into(), "posts:read".into()));
    let (error, state, _) = refused(&p, &q);
    assert_eq!(error, "invalid_request");
    assert_eq!(state.as_deref(), Some("st-123"));
    // A repeated state cannot be echoed: no state at all is sent back.
    let mut q = base_query("lab-client", CALLBACK);
    q.push(("state".into(), "other".into()));
    let (error, state, _) = refused(&p, &q);
    assert_eq!((error.as_str(), state), ("invalid_request", None));
}

#[test]
fn consent_page_follows_the_page_contract() {
    let p = start();
    let answer = get(&authorize_url(p.base_url(), "lab-client", &[]), None);
    assert_eq!(answer.status, 200);
    for needle in [
        "id=\"username\"",
        "id=\"password\"",
        "name=\"decision\" value=\"approve\"",
        "name=\"decision\" value=\"deny\"",
        "Lab Client",
        "Read your private posts",
        "See your name, username and email address",
        "wonderland",
        "builder",
    ] {
        assert!(answer.body.contains(needle), "consent page lacks {needle}");
    }
    let csp = answer.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "the page cannot be framed (clickjacking)"
    );
    assert!(!answer.body.contains("<script"), "no script on the page");
}

#[test]
fn wrong_password_shows_the_form_again_and_the_form_is_single_use() {
    let p = start();
    let url = authorize_url(p.base_url(), "lab-client", &[]);
    let wrong = mock_provider::ResourceOwner::new("alice", "not-her-password");
    match wrong.approve(&url) {
        Err(mock_provider::OwnerError::NoRedirect {
            status: 200,
            message,
        }) => {
            assert!(message.contains("Wrong username or password"), "{message}")
        }
        other => panic!("a wrong password must not redirect: {other:?}"),
    }
    // The same request id cannot be used twice: read it from the page, post it twice.
    let page = get(&url, None).body;
    let id_start = page.find("name=\"request_id\" value=\"").unwrap() + 25;
    let id = &page[id_start..id_start + page[id_start..].find('"').unwrap()];
    let form = [
        ("request_id", id),
        ("username", "alice"),
        ("password", "wonderland"),
        ("decision", "approve"),
    ];
    let first = post_form(&format!("{}/authorize", p.base_url()), None, &form);
    assert_eq!(
        first.status, 303,
        "POST redirects with 303 (RFC 9700 §4.12)"
    );
    let second = post_form(&format!("{}/authorize", p.base_url()), None, &form);
    assert_eq!(second.status, 400);
    assert!(second.header("location").is_none());
}

#[test]
fn auto_approve_skips_the_page() {
    let p = MockProvider::start(Config {
        auto_approve: Some("bob".into()),
        ..Config::default()
    })
    .unwrap();
    let answer = get(&authorize_url(p.base_url(), "lab-client", &[]), None);
    assert_eq!(answer.status, 302);
    let code = answer.location_param("code").expect("a code at once");
    let tokens = exchange(&p, &code).json();
    let me = get(
        &format!("{}/api/me", p.base_url()),
        tokens["access_token"].as_str(),
    );
    assert_eq!(me.json()["username"], "bob");
}

#[test]
fn unknown_auto_approve_user_is_refused_at_start() {
    let err = MockProvider::start(Config {
        auto_approve: Some("mallory".into()),
        ..Config::default()
    })
    .err()
    .expect("must not start");
    assert!(err.to_string().contains("no such user"), "{err}");
}

// RFC 9110 §9.2.1: HEAD is safe; it must not start a flow or issue a code.
#[test]
fn head_starts_nothing() {
    let p = MockProvider::start(Config {
        auto_approve: Some("alice".into()),
        ..Config::default()
    })
    .unwrap();
    let url = authorize_url(p.base_url(), "lab-client", &[]);
    let answer = read_head(&url);
    assert_eq!(answer, 200);
    let counts = p.counts();
    assert_eq!((counts.codes, counts.pending), (0, 0), "{counts:?}");
}

fn read_head(url: &str) -> u16 {
    agent()
        .head(url)
        .call()
        .expect("HEAD answered")
        .status()
        .as_u16()
}

/// The demo users' passwords are on the login page, by design (the mock
/// provider appendix lists them); a
/// class's own users from `--config` keep theirs private, and still log in.
#[test]
fn a_class_users_password_is_not_on_the_login_page() {
    let mut config = Config::default();
    config
        .add_from_toml(
            r#"
            [[user]]
            username = "student07"
            password = "lilac-tram-42"
            name = "Student Seven"
            email = "student07@example.test"
            posts = 5
            "#,
        )
        .unwrap();
    let p = MockProvider::start(config).unwrap();
    let url = url_with(
        p.base_url(),
        &base_query("lab-client", "http://127.0.0.1:7000/callback"),
    );
    let page = common::get(&url, None);
    assert!(
        page.body.contains("wonderland"),
        "the demo users are listed"
    );
    assert!(
        !page.body.contains("lilac-tram-42"),
        "a class user's password is not shown"
    );
    let redirect = p.resource_owner("student07").approve(&url).unwrap();
    assert!(redirect.param("code").is_some(), "{}", redirect.location);
}

/// RFC 6749 §3.1.2.1 and RFC 8252 §7.3: `--config` takes a redirect URI only
/// over https, or over http to this machine; anything else (a `javascript:`
/// URI, `data:`, plain http to another host) is refused with one line naming
/// the client and the URI, so the provider never redirects to it.
#[test]
fn rfc6749_3_1_2_1_config_accepts_only_https_or_loopback_http_redirect_uris() {
    let register = |uri: &str| {
        Config::default().add_from_toml(&format!(
            "[[client]]\nid = \"class-app\"\nname = \"Class App\"\nredirect_uris = [{uri:?}]\n"
        ))
    };
    for bad in [
        "javascript:alert(document.domain)//",
        "data:text/html,hi",
        "file:///etc/passwd",
        "http://app.example/callback",
        "http://127.0.0.1.attacker.example/callback",
        "ftp://127.0.0.1/callback",
        "HTTP://app.example/callback",
    ] {
        let error = register(bad).expect_err(bad);
        assert!(
            error.contains("class-app") && error.contains(bad) && !error.contains('\n'),
            "{bad}: {error}"
        );
    }
    for good in [
        "https://app.example/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.2:8000/callback",
        "http://[::1]:8000/callback",
        "http://localhost/callback",
    ] {
        register(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}
