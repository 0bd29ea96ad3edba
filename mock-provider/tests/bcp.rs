//! Defences RFC 9700 (OAuth 2.0 Security Best Current Practice) asks of the
//! authorization server that no other test file pins down.

mod common;

use std::time::Duration;

use common::*;
use mock_provider::{Config, ManualClock, MockProvider};

fn with_origin(url: &str) -> Answer {
    read(
        agent()
            .get(url)
            .header("Origin", "https://attacker.example")
            .call()
            .expect("GET answered"),
    )
}

// RFC 9700 §4.2.4: the pages a person sees during a flow send no Referer
// onwards, so that nothing from their URL leaks to another site.
#[test]
fn rfc9700_4_2_4_pages_of_a_flow_send_no_referrer() {
    let p = start();
    let consent = get(&authorize_url(p.base_url(), "lab-client", &[]), None);
    assert_eq!(consent.status, 200);
    let device = get(&format!("{}/device", p.base_url()), None);
    assert_eq!(device.status, 200);
    for (page, answer) in [("consent page", &consent), ("device page", &device)] {
        assert_eq!(
            answer.header("referrer-policy"),
            Some("no-referrer"),
            "the {page} must not send its URL on as a Referer"
        );
    }
}

// RFC 9700 §4.16: no page of the provider can be framed (clickjacking),
// the device page (RFC 8628 §5.3) included.
#[test]
fn rfc9700_4_16_the_device_page_cannot_be_framed() {
    let p = start();
    let device = get(&format!("{}/device", p.base_url()), None);
    let csp = device.header("content-security-policy").unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "the device page can be framed: {csp:?}"
    );
    assert_eq!(device.header("x-frame-options"), Some("DENY"));
}

// RFC 9700 §2.6 (a web page must not drive the authorization endpoint with
// script): no CORS at the authorization endpoint, nor at the token endpoint,
// whatever Origin a request names.
#[test]
fn rfc9700_2_6_no_cross_origin_access_to_the_authorization_endpoint() {
    let p = start();
    for url in [
        authorize_url(p.base_url(), "lab-client", &[]),
        format!("{}/token", p.base_url()),
        format!("{}/.well-known/oauth-authorization-server", p.base_url()),
    ] {
        let answer = with_origin(&url);
        for (name, _) in &answer.headers {
            assert!(
                !name.to_ascii_lowercase().starts_with("access-control-"),
                "{url} answered a cross-origin request with {name}"
            );
        }
    }
}

// RFC 9700 §4.14.2: a refresh token unused for its lifetime expires; each
// rotation starts a new lifetime, so a program in daily use stays signed in.
#[test]
fn rfc9700_4_14_2_refresh_tokens_expire_when_unused() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config {
        refresh_ttl: Duration::from_secs(3600),
        ..Config::default().with_clock(clock.clone())
    })
    .unwrap();
    let refresh = |token: &str| {
        post_form(
            &format!("{}/token", p.base_url()),
            Some(("lab-client", "lab-secret")),
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
        )
    };
    let (_, first) = tokens(&p);
    clock.advance(Duration::from_secs(50 * 60));
    let answer = refresh(&first);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let second = answer.json()["refresh_token"].as_str().unwrap().to_string();
    // 100 minutes after the first token, 50 after the second: still alive.
    clock.advance(Duration::from_secs(50 * 60));
    let answer = refresh(&second);
    assert_eq!(
        answer.status, 200,
        "a rotation starts a new lifetime: {}",
        answer.body
    );
    let third = answer.json()["refresh_token"].as_str().unwrap().to_string();
    clock.advance(Duration::from_secs(3600 + 1));
    assert_eq!(
        refresh(&third).error(),
        "invalid_grant",
        "unused for its whole lifetime"
    );
}
