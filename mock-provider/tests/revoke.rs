//! The revocation endpoint (RFC 7009 §2), from outside over HTTP.

mod common;

use common::*;

// RFC 7009 §2.2: an unknown token is answered 200.
#[test]
fn rfc7009_2_2_unknown_token_is_200() {
    let p = start();
    let answer = post_form(
        &format!("{}/revoke", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[("token", "never-issued")],
    );
    assert_eq!(answer.status, 200);
}

// RFC 7009 §2.1: revoking a refresh token ends its access tokens too.
#[test]
fn rfc7009_2_1_revoking_a_refresh_token_kills_its_access_tokens() {
    let p = start();
    let (access, refresh) = tokens(&p);
    let answer = post_form(
        &format!("{}/revoke", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[("token", &refresh), ("token_type_hint", "refresh_token")],
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        401
    );
    let refreshed = post_form(
        &format!("{}/token", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    assert_eq!(refreshed.error(), "invalid_grant");
}

// RFC 7009 §2.1: revoking an access token leaves the refresh token working.
#[test]
fn rfc7009_2_1_revoking_an_access_token_leaves_the_grant() {
    let p = start();
    let (access, refresh) = tokens(&p);
    // A wrong hint is only a hint: the token is still found.
    let answer = post_form(
        &format!("{}/revoke", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[("token", &access), ("token_type_hint", "refresh_token")],
    );
    assert_eq!(answer.status, 200);
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        401
    );
    let refreshed = post_form(
        &format!("{}/token", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    );
    assert_eq!(refreshed.status, 200);
}

// RFC 7009 §2.1: the client authenticates, and only the token's own client may revoke it.
#[test]
fn rfc7009_2_1_client_must_authenticate_and_own_the_token() {
    let p = start();
    let (access, _) = tokens(&p);
    let url = format!("{}/revoke", p.base_url());
    let wrong = post_form(&url, Some(("lab-client", "nope")), &[("token", &access)]);
    assert_eq!(
        (wrong.status, wrong.error().as_str()),
        (401, "invalid_client")
    );
    let other = post_form(
        &url,
        None,
        &[("token", &access), ("client_id", "lab-public")],
    );
    assert_eq!(other.status, 400);
    assert_eq!(
        get(&format!("{}/api/me", p.base_url()), Some(&access)).status,
        200,
        "still alive"
    );
    let missing = post_form(&url, Some(("lab-client", "lab-secret")), &[]);
    assert_eq!(missing.error(), "invalid_request");
}
