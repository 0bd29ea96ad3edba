//! The token endpoint, from outside over HTTP: RFC 6749 §2.3, §4.1.3, §5 and §6,
//! RFC 7636 §4.6, RFC 9700 §2.1.1 and §4.14.

mod common;

use std::time::Duration;

use common::*;
use mock_provider::{Config, ManualClock, MockProvider};

fn token_url(p: &MockProvider) -> String {
    format!("{}/token", p.base_url())
}

// RFC 6749 §5.1 and §5.2.
#[test]
fn rfc6749_5_1_token_answers_are_not_cached_and_errors_are_json() {
    let p = start();
    let code = code_for(&p, "lab-client", &[]);
    let ok = exchange(&p, &code);
    assert_eq!(ok.status, 200);
    let json = ok.json();
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3600);
    assert_eq!(json["scope"], "profile posts:read");
    assert!(json["refresh_token"].as_str().is_some());
    let error = exchange(&p, "lab_code_nonsense");
    for answer in [&ok, &error] {
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        assert_eq!(answer.header("pragma"), Some("no-cache"));
        assert!(
            answer
                .header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
    }
    assert_eq!(error.status, 400);
    assert_eq!(error.error(), "invalid_grant");
    assert!(error.json()["error_description"].as_str().is_some());
}

// RFC 6749 §2.3.1, §5.2.
#[test]
fn rfc6749_5_2_wrong_secret_is_401_invalid_client_with_www_authenticate() {
    let p = start();
    let code = code_for(&p, "lab-client", &[]);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let wrong = post_form(&token_url(&p), Some(("lab-client", "guess")), &fields);
    assert_eq!(
        (wrong.status, wrong.error().as_str()),
        (401, "invalid_client")
    );
    assert!(
        wrong
            .header("www-authenticate")
            .unwrap()
            .starts_with("Basic")
    );
    // The same in the body.
    let mut body = fields.to_vec();
    body.extend([("client_id", "lab-client"), ("client_secret", "guess")]);
    let wrong = post_form(&token_url(&p), None, &body);
    assert_eq!(
        (wrong.status, wrong.error().as_str()),
        (401, "invalid_client")
    );
    // No authentication at all.
    let none = post_form(&token_url(&p), None, &fields);
    assert_eq!(
        (none.status, none.error().as_str()),
        (401, "invalid_client")
    );
    // The code was not spent by the failures: the right secret still works, in the body.
    let mut body = fields.to_vec();
    body.extend([("client_id", "lab-client"), ("client_secret", "lab-secret")]);
    assert_eq!(post_form(&token_url(&p), None, &body).status, 200);
}

// RFC 6749 §2.3: "MUST NOT use more than one authentication method".
#[test]
fn rfc6749_2_3_two_authentication_methods_at_once_is_invalid_request() {
    let p = start();
    let code = code_for(&p, "lab-client", &[]);
    let answer = post_form(
        &token_url(&p),
        Some(("lab-client", "lab-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_secret", "lab-secret"),
        ],
    );
    assert_eq!(
        (answer.status, answer.error().as_str()),
        (400, "invalid_request")
    );
}

// RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §2.1.1: a code is bound to client, redirect_uri and challenge.
#[test]
fn rfc7636_4_6_code_is_bound_to_client_redirect_uri_and_challenge() {
    let p = start();
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let public = |code: &str, verifier: Option<&str>, redirect: &str| {
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_id", "lab-public"),
        ];
        if let Some(v) = verifier {
            fields.push(("code_verifier", v));
        }
        post_form(&token_url(&p), None, &fields)
    };
    let code = code_for(&p, "lab-public", &pkce);
    let wrong_verifier = "a".repeat(43);
    for (what, answer) in [
        ("no verifier", public(&code, None, CALLBACK)),
        (
            "wrong verifier",
            public(&code, Some(&wrong_verifier), CALLBACK),
        ),
        (
            "other port",
            public(&code, Some(VERIFIER), "http://127.0.0.1:8124/callback"),
        ),
        ("other client", exchange(&p, &code)),
    ] {
        assert_eq!(answer.error(), "invalid_grant", "{what}: {}", answer.body);
    }
    let ok = public(&code, Some(VERIFIER), CALLBACK);
    assert_eq!(
        ok.status, 200,
        "the rightful client still redeems it: {}",
        ok.body
    );

    // A verifier for a code issued without a challenge.
    let code = code_for(&p, "lab-client", &[]);
    let answer = post_form(
        &token_url(&p),
        Some(("lab-client", "lab-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    );
    assert_eq!(answer.error(), "invalid_grant", "{}", answer.body);
    // A malformed verifier (RFC 7636 §4.1): too short.
    let answer = public(&code_for(&p, "lab-public", &pkce), Some("short"), CALLBACK);
    assert_eq!(answer.error(), "invalid_request");
}

// RFC 6749 §4.1.2: a replayed code revokes every token issued from it.
#[test]
fn rfc6749_4_1_2_replayed_code_is_refused_and_revokes_its_tokens() {
    let p = start();
    let code = code_for(&p, "lab-client", &[]);
    let first = exchange(&p, &code).json();
    let access = first["access_token"].as_str().unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(access)).status,
        200
    );
    let replay = exchange(&p, &code);
    assert_eq!(replay.error(), "invalid_grant");
    let me = get(&format!("{}/api/me", p.base_url()), Some(access));
    assert_eq!(me.status, 401, "the access token died with the replay");
    let refreshed = post_form(
        &token_url(&p),
        Some(("lab-client", "lab-secret")),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    );
    assert_eq!(
        refreshed.error(),
        "invalid_grant",
        "the refresh token died too"
    );
}

/// Whether lab-client's tokens from one exchange still work: (access, refresh).
fn still_alive(p: &MockProvider, access: &str, refresh_token: &str) -> (bool, bool) {
    let me = get(&format!("{}/api/me", p.base_url()), Some(access));
    // Refreshing rotates the token, so this is the last look at it.
    let refreshed = refresh(p, refresh_token, None);
    (me.status == 200, refreshed.status == 200)
}

// RFC 6749 §4.1.2 and RFC 9700 §4.5: a used code replayed by another client
// is refused without revoking anything. Only the code's own client, proving
// itself as at the first exchange, can be the party whose code leaked; anyone
// else who saw the code must not be able to end someone's tokens with it.
#[test]
fn rfc9700_4_5_a_used_code_replayed_by_another_client_revokes_nothing() {
    let p = start();
    let code = code_for(&p, "lab-client", &[]);
    let first = exchange(&p, &code).json();
    let access = first["access_token"].as_str().unwrap();
    let refresh_token = first["refresh_token"].as_str().unwrap();
    let by_public = exchange_public(&p, &code);
    assert_eq!(by_public.error(), "invalid_grant", "{}", by_public.body);
    assert!(
        !by_public.body.contains("revoked"),
        "nothing was revoked: {}",
        by_public.body
    );
    // The code's own client with another redirect URI is no proof either.
    let elsewhere = post_form(
        &token_url(&p),
        Some(("lab-client", "lab-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9999/elsewhere"),
        ],
    );
    assert_eq!(elsewhere.error(), "invalid_grant", "{}", elsewhere.body);
    assert_eq!(still_alive(&p, access, refresh_token), (true, true));
}

// RFC 9700 §4.5, RFC 7636 §4.6: replaying a used PKCE code without its
// verifier (or with a wrong one) proves nothing and revokes nothing; with it,
// the client itself is replaying, and the grant is revoked (RFC 6749 §4.1.2).
#[test]
fn rfc9700_4_5_a_used_pkce_code_revokes_only_when_replayed_with_its_verifier() {
    let p = start();
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let code = code_for(&p, "lab-public", &pkce);
    let send = |verifier: Option<&str>| {
        let mut fields = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("client_id", "lab-public"),
        ];
        if let Some(v) = verifier {
            fields.push(("code_verifier", v));
        }
        post_form(&token_url(&p), None, &fields)
    };
    let first = send(Some(VERIFIER)).json();
    let access = first["access_token"].as_str().unwrap().to_string();
    for verifier in [None, Some("x".repeat(43).as_str())] {
        let replay = send(verifier);
        assert_eq!(replay.error(), "invalid_grant", "{}", replay.body);
        assert_eq!(
            get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
            200,
            "a replay without the verifier revokes nothing ({verifier:?})"
        );
    }
    let replay = send(Some(VERIFIER));
    assert!(replay.body.contains("already used"), "{}", replay.body);
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        401,
        "the client's own replay revokes the grant"
    );
}

// RFC 6749 §4.1.2: codes expire, measured on the injected clock.
#[test]
fn rfc6749_4_1_2_expired_code_is_invalid_grant() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone())).unwrap();
    let code = code_for(&p, "lab-client", &[]);
    clock.advance(Duration::from_secs(61));
    let answer = exchange(&p, &code);
    assert_eq!(answer.error(), "invalid_grant");
    assert!(answer.body.contains("expired"), "{}", answer.body);
    // Just inside the lifetime, it works.
    let code = code_for(&p, "lab-client", &[]);
    clock.advance(Duration::from_secs(59));
    assert_eq!(exchange(&p, &code).status, 200);
}

fn refresh(p: &MockProvider, token: &str, scope: Option<&str>) -> Answer {
    let mut fields = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    if let Some(s) = scope {
        fields.push(("scope", s));
    }
    post_form(&token_url(p), Some(("lab-client", "lab-secret")), &fields)
}

// RFC 6749 §6, RFC 9700 §4.14.2.
#[test]
fn rfc9700_4_14_refresh_tokens_rotate_and_reuse_revokes_the_grant() {
    let p = start();
    let (access0, refresh1) = tokens(&p);
    let second = refresh(&p, &refresh1, None).json();
    let refresh2 = second["refresh_token"].as_str().unwrap().to_string();
    let access2 = second["access_token"].as_str().unwrap().to_string();
    assert_ne!(refresh1, refresh2, "a new refresh token every time");
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access2)).status,
        200
    );
    // The rotated-out token comes back: someone else has it.
    let reuse = refresh(&p, &refresh1, None);
    assert_eq!(reuse.error(), "invalid_grant");
    assert_eq!(
        refresh(&p, &refresh2, None).error(),
        "invalid_grant",
        "the whole grant is revoked"
    );
    for token in [&access0, &access2] {
        assert_eq!(
            get(&format!("{}/api/me", p.base_url()), Some(token)).status,
            401
        );
    }
}

// RFC 6749 §6: a refresh may narrow the scope, never widen it.
#[test]
fn rfc6749_6_refresh_asking_for_more_scope_is_invalid_scope() {
    let p = start();
    let code = code_for(&p, "lab-client", &[("scope", "profile")]);
    let refresh_token = exchange(&p, &code).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        refresh(&p, &refresh_token, Some("profile posts:read")).error(),
        "invalid_scope"
    );
    let (_, refresh_token) = tokens(&p);
    let narrowed = refresh(&p, &refresh_token, Some("profile")).json();
    assert_eq!(narrowed["scope"], "profile");
    let posts = get(
        &format!("{}/api/posts", p.base_url()),
        narrowed["access_token"].as_str(),
    );
    assert_eq!(posts.status, 403);
}

#[test]
fn refresh_token_of_another_client_is_invalid_grant() {
    let p = start();
    let (_, refresh_token) = tokens(&p);
    let answer = post_form(
        &token_url(&p),
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
            ("client_id", "lab-public"),
        ],
    );
    assert_eq!(answer.error(), "invalid_grant");
}

#[test]
fn public_client_must_not_send_a_secret_and_confidential_must() {
    let p = start();
    let pkce = [
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let code = code_for(&p, "lab-public", &pkce);
    let fields = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let with_secret = post_form(&token_url(&p), Some(("lab-public", "made-up")), &fields);
    assert_eq!(with_secret.error(), "invalid_client");
    // Basic with an empty password is how some libraries send a public client's id.
    let empty = post_form(&token_url(&p), Some(("lab-public", "")), &fields);
    assert_eq!(empty.status, 200, "{}", empty.body);
    let confidential_without = post_form(
        &token_url(&p),
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "x"),
            ("client_id", "lab-client"),
        ],
    );
    assert_eq!(confidential_without.error(), "invalid_client");
}

#[test]
fn rfc6749_5_2_grant_type_errors() {
    let p = start();
    let auth = Some(("lab-client", "lab-secret"));
    assert_eq!(
        post_form(&token_url(&p), auth, &[("grant_type", "password")]).error(),
        "unsupported_grant_type"
    );
    assert_eq!(
        post_form(&token_url(&p), auth, &[("code", "x")]).error(),
        "invalid_request"
    );
    assert_eq!(
        post_form(
            &token_url(&p),
            auth,
            &[("grant_type", "authorization_code")]
        )
        .error(),
        "invalid_request"
    );
    let code = code_for(&p, "lab-client", &[]);
    let no_redirect = post_form(
        &token_url(&p),
        auth,
        &[("grant_type", "authorization_code"), ("code", &code)],
    );
    assert_eq!(
        no_redirect.error(),
        "invalid_request",
        "redirect_uri is required when it was in the request"
    );
}

// RFC 6749 §4.1.3: redirect_uri is required at the token endpoint only if the
// authorization request included it.
#[test]
fn rfc6749_4_1_3_redirect_uri_only_if_it_was_sent() {
    let mut config = Config::default();
    config
        .add_from_toml(
            "[[client]]\nid = \"one-uri\"\nname = \"One URI\"\nsecret = \"one-secret\"\nredirect_uris = [\"http://127.0.0.1:7000/cb\"]\n",
        )
        .unwrap();
    let p = MockProvider::start(config).unwrap();
    let url = format!(
        "{}/authorize?response_type=code&client_id=one-uri&state=s",
        p.base_url()
    );
    let code_without = || {
        let redirect = p.resource_owner("alice").approve(&url).unwrap();
        assert!(redirect.location.starts_with("http://127.0.0.1:7000/cb?"));
        redirect.param("code").unwrap()
    };
    let auth = Some(("one-uri", "one-secret"));
    let code = code_without();
    let ok = post_form(
        &token_url(&p),
        auth,
        &[("grant_type", "authorization_code"), ("code", &code)],
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let code = code_without();
    let other = post_form(
        &token_url(&p),
        auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:7000/other"),
        ],
    );
    assert_eq!(
        other.error(),
        "invalid_grant",
        "a redirect_uri that was never used is still refused"
    );
}

// RFC 6749 §4.1.2: a replay revokes the tokens even after the code's lifetime.
#[test]
fn rfc6749_4_1_2_replay_after_the_code_expired_still_revokes() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config::default().with_clock(clock.clone())).unwrap();
    let code = code_for(&p, "lab-client", &[]);
    let refresh_token = exchange(&p, &code).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    clock.advance(Duration::from_secs(120));
    let replay = exchange(&p, &code);
    assert_eq!(replay.error(), "invalid_grant");
    assert!(replay.body.contains("already used"), "{}", replay.body);
    assert_eq!(
        refresh(&p, &refresh_token, None).error(),
        "invalid_grant",
        "the grant was revoked"
    );
}

/// RFC 6749 §5.2 and §4.1.2.1: `error_description` holds only %x20-21 /
/// %x23-5B / %x5D-7E: printable ASCII without `"` and `\`, even when it cites
/// an RFC section or quotes what the client sent.
#[test]
fn rfc6749_5_2_error_description_is_printable_ascii_without_quotes() {
    let p = start();
    let allowed = |c: char| matches!(c, ' '..='!' | '#'..='[' | ']'..='~');
    let twice = post_form(
        &token_url(&p),
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "lab-public"),
            ("client_id", "lab-public"),
        ],
    );
    let unknown = post_form(
        &token_url(&p),
        None,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "evil\"\\client§…"),
        ],
    );
    let no_pkce = get(
        &authorize_url(p.base_url(), "lab-public", &[("code_challenge", "")]),
        None,
    );
    let descriptions = [
        twice.json()["error_description"]
            .as_str()
            .unwrap()
            .to_string(),
        unknown.json()["error_description"]
            .as_str()
            .unwrap()
            .to_string(),
        no_pkce
            .location_param("error_description")
            .expect("a public client without PKCE is sent back with an error"),
    ];
    for description in descriptions {
        assert!(
            description.chars().all(allowed),
            "not in RFC 6749's error_description set: {description:?}"
        );
    }
}
