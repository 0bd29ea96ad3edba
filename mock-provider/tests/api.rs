//! The resource server, from outside over HTTP: RFC 6750 §2.1 and §3.1, pagination, rate limit.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use mock_provider::{Config, ManualClock, MockProvider};

// RFC 6750 §3.1: no token is 401 with a Bearer challenge and no error code.
#[test]
fn rfc6750_3_1_no_token_is_401_with_bearer_realm() {
    let p = start();
    let answer = get(&format!("{}/api/me", p.base_url()), None);
    assert_eq!(answer.status, 401);
    let challenge = answer.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer realm="), "{challenge}");
    assert!(
        !challenge.contains("error="),
        "no error code without authentication: {challenge}"
    );
}

// RFC 6750 §3.1: bad, expired and revoked tokens are 401 invalid_token.
#[test]
fn rfc6750_3_1_bad_expired_or_revoked_token_is_invalid_token() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone())).unwrap();
    let me = format!("{}/api/me", p.base_url());
    let check = |answer: Answer, what: &str| {
        assert_eq!(answer.status, 401, "{what}");
        let challenge = answer.header("www-authenticate").unwrap().to_string();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
        answer
    };
    check(get(&me, Some("lab_at_made-up")), "made-up token");
    let (access, _) = tokens(&p);
    assert_eq!(get(&me, Some(&access)).status, 200);
    let revoked = post_form(
        &format!("{}/revoke", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[("token", &access)],
    );
    assert_eq!(revoked.status, 200);
    check(get(&me, Some(&access)), "revoked token");
    let (access, _) = tokens(&p);
    clock.advance(Duration::from_secs(3601));
    let answer = check(get(&me, Some(&access)), "expired token");
    assert!(
        answer.body.contains("expired"),
        "the reason is given: {}",
        answer.body
    );
}

// RFC 6750 §3.1: a token without the scope is 403 insufficient_scope.
#[test]
fn rfc6750_3_1_missing_scope_is_403_insufficient_scope() {
    let p = start();
    let code = code_for(&p, "lab-client", &[("scope", "profile")]);
    let access = exchange(&p, &code).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        200
    );
    let answer = get(&format!("{}/api/posts", p.base_url()), Some(&access));
    assert_eq!(answer.status, 403);
    let challenge = answer.header("www-authenticate").unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\"")
            && challenge.contains("scope=\"posts:read\""),
        "{challenge}"
    );
}

#[test]
fn rfc6750_2_3_token_in_the_url_is_refused() {
    let p = start();
    let (access, _) = tokens(&p);
    let answer = get(
        &format!("{}/api/me?access_token={access}", p.base_url()),
        None,
    );
    assert_eq!(
        (answer.status, answer.error().as_str()),
        (400, "invalid_request")
    );
}

#[test]
fn me_has_the_documented_shape() {
    let p = start();
    let (access, _) = tokens(&p);
    let me = get(&format!("{}/api/me", p.base_url()), Some(&access)).json();
    assert_eq!(me["username"], "alice");
    assert_eq!(me["name"], "Alice Liddell");
    assert!(me["email"].as_str().unwrap().contains('@'));
    assert!(me["id"].is_number());
}

/// Walks every page, following `next` in the body and checking the Link header says the same.
fn all_posts(p: &MockProvider, access: &str, limit: usize) -> Vec<serde_json::Value> {
    let mut url = format!("{}/api/posts?limit={limit}", p.base_url());
    let mut posts = Vec::new();
    loop {
        let answer = get(&url, Some(access));
        assert_eq!(answer.status, 200, "{}", answer.body);
        let json = answer.json();
        let page = json["posts"].as_array().unwrap();
        assert!(page.len() <= limit);
        posts.extend(page.iter().cloned());
        match json["next"].as_str() {
            None => {
                assert!(json["next"].is_null());
                assert!(answer.header("link").is_none(), "no Link on the last page");
                return posts;
            }
            Some(cursor) => {
                let link = answer.header("link").expect("Link header with rel=next");
                assert!(
                    link.ends_with("; rel=\"next\"") && link.contains(cursor),
                    "{link}"
                );
                url = link[1..link.find('>').unwrap()].to_string();
            }
        }
    }
}

#[test]
fn posts_are_paginated_and_each_comes_exactly_once() {
    let p = start();
    let (access, _) = tokens(&p);
    for limit in [1, 20, 100] {
        let posts = all_posts(&p, &access, limit);
        assert_eq!(posts.len(), 137, "alice has 137 posts (limit {limit})");
        let ids: HashSet<_> = posts
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids.len(), 137, "no duplicates");
        for post in &posts {
            assert!(post["created_at"].as_str().unwrap().ends_with('Z'));
            assert!(!post["text"].as_str().unwrap().is_empty());
        }
    }
    let bob = p
        .resource_owner("bob")
        .approve(&authorize_url(p.base_url(), "lab-client", &[]))
        .unwrap();
    let access = exchange(&p, &bob.param("code").unwrap()).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(all_posts(&p, &access, 5).len(), 12, "bob has 12 posts");
}

#[test]
fn absurd_limit_and_foreign_cursor_are_400() {
    let p = start();
    let (alice, _) = tokens(&p);
    for query in [
        "limit=0",
        "limit=101",
        "limit=-1",
        "limit=1e3",
        "limit=99999999999999999999",
        "cursor=%%%",
        "cursor=bm9wZQ",
        "limit=1&limit=2",
    ] {
        let answer = get(&format!("{}/api/posts?{query}", p.base_url()), Some(&alice));
        assert_eq!(
            (answer.status, answer.error().as_str()),
            (400, "invalid_request"),
            "{query}"
        );
    }
    // A cursor alice got is not valid for bob.
    let cursor = get(&format!("{}/api/posts?limit=2", p.base_url()), Some(&alice)).json()["next"]
        .as_str()
        .unwrap()
        .to_string();
    let bob = p
        .resource_owner("bob")
        .approve(&authorize_url(p.base_url(), "lab-client", &[]))
        .unwrap();
    let bob = exchange(&p, &bob.param("code").unwrap()).json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let answer = get(
        &format!("{}/api/posts?cursor={cursor}", p.base_url()),
        Some(&bob),
    );
    assert_eq!(answer.status, 400);
}

#[test]
fn rate_limit_answers_429_with_retry_after_and_recovers() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config {
        rate_limit: Some(2),
        ..Config::default().with_clock(clock.clone())
    })
    .unwrap();
    let (access, _) = tokens(&p);
    let me = format!("{}/api/me", p.base_url());
    assert_eq!(get(&me, Some(&access)).status, 200);
    assert_eq!(get(&me, Some(&access)).status, 200);
    let limited = get(&me, Some(&access));
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    clock.advance(Duration::from_millis(500));
    assert_eq!(
        get(&me, Some(&access)).status,
        200,
        "one request refills in half a second at 2/s"
    );
    assert_eq!(get(&me, Some(&access)).status, 429);
    // Another student's token has its own budget.
    let (other, _) = tokens(&p);
    assert_eq!(get(&me, Some(&other)).status, 200);
}

// RFC 6750 §3: error_description holds printable ASCII only.
#[test]
fn rfc6750_3_www_authenticate_is_plain_ascii() {
    let p = start();
    let (access, _) = tokens(&p);
    for answer in [
        get(
            &format!("{}/api/me?access_token={access}", p.base_url()),
            None,
        ),
        get(&format!("{}/api/me", p.base_url()), Some("lab_at_made-up")),
    ] {
        let challenge = answer.header("www-authenticate").expect("a challenge");
        assert!(
            challenge.bytes().all(|b| (0x20..=0x7e).contains(&b)),
            "{challenge:?}"
        );
    }
}
