//! Lesson 08 — Real providers.
//!
//! One `httpmock` replica per provider, each built from the documentation page
//! named above it (checked 2026-11-28): the endpoint path, the body format the
//! provider really uses, its error shape and status, its scope separator,
//! whether a refresh token comes back. Then the lesson's own requests against
//! the mock provider, which follows the RFCs to the letter.
//!
//! The lesson's types (`ProviderProfile`, `TokenResponse`) belong to its crate,
//! so the suite reaches them through the [`Lesson`] trait, which
//! [`lesson08_suite!`](crate::lesson08_suite) implements for each crate.

use httpmock::prelude::*;
use labkit::{ApiError, Client, ErrorCode, Secret, TokenError};

use crate::support::provider;

#[doc(hidden)]
pub use labkit as __labkit;

/// Which profile of the lesson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    GitHub,
    Google,
    LinkedIn,
    Mock,
}

/// A profile's fields, copied out of the lesson's own type.
#[derive(Clone, Debug)]
pub struct Facts {
    pub name: String,
    pub authorize_url: String,
    pub token_url: String,
    pub revoke_url: Option<String>,
    pub api_url: String,
    pub me_path: String,
    pub secret_in_body: bool,
    /// "required", "accepted" or "no".
    pub pkce: &'static str,
    pub refresh_tokens: bool,
    pub default_scope: Vec<String>,
    pub extra_authorize_params: Vec<(String, String)>,
    pub loopback_any_port: bool,
    /// `format!("{profile:?}")`.
    pub debug: String,
}

/// A token response, copied out of the lesson's own type.
#[derive(Clone, Debug)]
pub struct Granted {
    pub access_token: Secret,
    pub token_type: String,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<Secret>,
    pub scopes: Vec<String>,
    /// `format!("{response:?}")`.
    pub debug: String,
}

/// What the suite needs of a lesson 08 crate.
pub trait Lesson {
    type Profile;
    fn profile(which: Which) -> Self::Profile;
    fn facts(profile: &Self::Profile) -> Facts;
    fn client_for(
        profile: &Self::Profile,
        client_id: &str,
        secret: Option<Secret>,
        scope: &str,
    ) -> Client;
    fn authorization_url(
        profile: &Self::Profile,
        client: &Client,
        redirect_uri: &str,
        state: &str,
        verifier: &Secret,
    ) -> String;
    fn request_token(
        profile: &Self::Profile,
        client: &Client,
        code: &Secret,
        redirect_uri: &str,
        verifier: &Secret,
    ) -> Result<Granted, TokenError>;
    fn read_token_response(
        profile: &Self::Profile,
        status: u16,
        content_type: &str,
        body: &str,
    ) -> Result<Granted, TokenError>;
    fn who_am_i(
        profile: &Self::Profile,
        client: &Client,
        token: &Secret,
    ) -> Result<String, ApiError>;
}

const SECRET: &str = "s3cr3t-Zq9:+/&=x";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// RFC 7636 Appendix B: the S256 challenge of [`VERIFIER`].
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn replica_client<L: Lesson>(
    profile: &L::Profile,
    server: &MockServer,
    token_path: &str,
) -> Client {
    let mut client = L::client_for(profile, "replica-client", Some(Secret::new(SECRET)), "");
    client.authorize_url = server.url("/authorize");
    client.token_url = server.url(token_path);
    client.api_url = server.url("");
    client
}

/// The decoded query parameters of a URL, in order.
fn query_of(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap_or_else(|e| panic!("the authorization URL {url:?} is not a URL: {e}"))
        .query_pairs()
        .into_owned()
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut values = pairs.iter().filter(|(n, _)| n == name);
    let first = values.next().map(|(_, v)| v.as_str());
    assert!(
        values.next().is_none(),
        "the authorization URL has {name} twice (RFC 6749 §3.1: each parameter once)"
    );
    first
}

/// Plays alice at the mock provider's consent page for this authorization URL
/// and returns the code from the redirect.
fn approved_code_for_url(p: &mock_provider::MockProvider, url: &str) -> Secret {
    let redirect = p.resource_owner("alice").approve(url).unwrap_or_else(|e| {
        panic!("the mock provider refused the lesson's authorization URL {url}: {e}")
    });
    Secret::new(
        redirect
            .param("code")
            .unwrap_or_else(|| panic!("the mock provider sent no code for {url}")),
    )
}

fn loopback(port: u16) -> String {
    format!("http://127.0.0.1:{port}/callback")
}

// --- The profiles -----------------------------------------------------------

/// The endpoints and behaviours each provider documents (see the profile's
/// `docs`), and an authorization URL that goes to that endpoint.
pub fn profiles_follow_the_providers_docs<L: Lesson>() {
    let github = L::facts(&L::profile(Which::GitHub));
    let google = L::facts(&L::profile(Which::Google));
    let linkedin = L::facts(&L::profile(Which::LinkedIn));
    // "Authorizing OAuth apps" (docs.github.com)
    assert_eq!(
        (github.authorize_url.as_str(), github.token_url.as_str()),
        (
            "https://github.com/login/oauth/authorize",
            "https://github.com/login/oauth/access_token"
        )
    );
    assert_eq!(
        format!("{}{}", github.api_url, github.me_path),
        "https://api.github.com/user"
    );
    assert!(
        github.secret_in_body,
        "GitHub takes client_secret as a form field"
    );
    assert!(
        !github.refresh_tokens,
        "GitHub OAuth app tokens come without refresh tokens"
    );
    assert_ne!(github.pkce, "no", "GitHub accepts PKCE S256");
    // "OAuth 2.0 for Desktop Apps" (developers.google.com)
    assert_eq!(
        (google.authorize_url.as_str(), google.token_url.as_str()),
        (
            "https://accounts.google.com/o/oauth2/v2/auth",
            "https://oauth2.googleapis.com/token"
        )
    );
    assert_eq!(
        google.revoke_url.as_deref(),
        Some("https://oauth2.googleapis.com/revoke")
    );
    assert_eq!(
        format!("{}{}", google.api_url, google.me_path),
        "https://openidconnect.googleapis.com/v1/userinfo"
    );
    assert_ne!(google.pkce, "no", "Google desktop apps use PKCE S256");
    assert!(google.refresh_tokens);
    assert!(google.loopback_any_port, "Google takes any loopback port");
    assert!(
        google
            .extra_authorize_params
            .contains(&("access_type".into(), "offline".into())),
        "access_type=offline asks Google for a refresh token"
    );
    // "Authorization Code Flow (3-legged OAuth)" (learn.microsoft.com/linkedin)
    assert_eq!(
        (linkedin.authorize_url.as_str(), linkedin.token_url.as_str()),
        (
            "https://www.linkedin.com/oauth/v2/authorization",
            "https://www.linkedin.com/oauth/v2/accessToken"
        ),
        "LinkedIn's current endpoints (the old /uas/oauth2/ paths are gone)"
    );
    assert_eq!(
        format!("{}{}", linkedin.api_url, linkedin.me_path),
        "https://api.linkedin.com/v2/userinfo"
    );
    assert!(
        linkedin.secret_in_body,
        "LinkedIn takes client_secret as a form field"
    );
    assert!(
        !linkedin.refresh_tokens,
        "refresh tokens are for approved partners only"
    );
    assert!(
        !linkedin.loopback_any_port,
        "LinkedIn matches the registered URL exactly"
    );
    for which in [Which::GitHub, Which::Google, Which::LinkedIn] {
        let profile = L::profile(which);
        let facts = L::facts(&profile);
        let client = L::client_for(&profile, "id", Some(Secret::new(SECRET)), "");
        let url = L::authorization_url(
            &profile,
            &client,
            &loopback(8000),
            "st",
            &Secret::new(VERIFIER),
        );
        assert!(
            url.starts_with(&format!("{}?", facts.authorize_url)),
            "{}: the authorization URL goes to {}, got {url}",
            facts.name,
            facts.authorize_url
        );
        assert_eq!(
            param(&query_of(&url), "scope"),
            Some(facts.default_scope.join(" ").as_str()),
            "{}: without --scope, ask for the profile's default scopes",
            facts.name
        );
    }
}

// --- Step 1: the authorization URL ---------------------------------------------

/// GitHub, "Authorizing OAuth apps" §1: client_id, redirect_uri (a loopback URL
/// on any port), space-delimited scope, state, and PKCE S256.
pub fn github_authorization_url_follows_its_docs<L: Lesson>() {
    let profile = L::profile(Which::GitHub);
    let client = L::client_for(
        &profile,
        "Iv1.8a61f9b3a7aba766",
        Some(Secret::new(SECRET)),
        "read:user user:email",
    );
    let url = L::authorization_url(
        &profile,
        &client,
        &loopback(53682),
        "st4te",
        &Secret::new(VERIFIER),
    );
    let q = query_of(&url);
    assert_eq!(param(&q, "response_type"), Some("code"), "RFC 6749 §4.1.1");
    assert_eq!(param(&q, "client_id"), Some("Iv1.8a61f9b3a7aba766"));
    assert_eq!(param(&q, "redirect_uri"), Some(loopback(53682).as_str()));
    assert_eq!(
        param(&q, "scope"),
        Some("read:user user:email"),
        "a space-delimited list of scopes"
    );
    assert_eq!(param(&q, "state"), Some("st4te"));
    assert_eq!(
        (
            param(&q, "code_challenge"),
            param(&q, "code_challenge_method")
        ),
        (Some(CHALLENGE), Some("S256")),
        "GitHub accepts PKCE: send the S256 challenge of the verifier (RFC 7636 §4.3)"
    );
    assert_eq!(
        param(&q, "access_type"),
        None,
        "access_type is Google's, not GitHub's"
    );
}

/// Google, "OAuth 2.0 for Desktop Apps", Step 2: PKCE S256, a loopback
/// redirect on the port the listener got, and access_type=offline.
pub fn google_authorization_url_has_pkce_loopback_and_offline<L: Lesson>() {
    let profile = L::profile(Which::Google);
    let client = L::client_for(
        &profile,
        "123-abc.apps.googleusercontent.com",
        Some(Secret::new(SECRET)),
        "",
    );
    let url = L::authorization_url(
        &profile,
        &client,
        &loopback(61023),
        "st4te",
        &Secret::new(VERIFIER),
    );
    let q = query_of(&url);
    assert_eq!(param(&q, "response_type"), Some("code"));
    assert_eq!(
        param(&q, "redirect_uri"),
        Some("http://127.0.0.1:61023/callback")
    );
    assert_eq!(param(&q, "scope"), Some("openid profile email"));
    assert_eq!(
        param(&q, "code_challenge"),
        Some(CHALLENGE),
        "the challenge is BASE64URL(SHA256(verifier)) (RFC 7636 Appendix B)"
    );
    assert_eq!(param(&q, "code_challenge_method"), Some("S256"));
    assert_eq!(
        param(&q, "access_type"),
        Some("offline"),
        "add the profile's extra_authorize_params: Google gives a refresh token for access_type=offline"
    );
    assert!(
        !url.contains(VERIFIER),
        "the verifier never goes through the browser"
    );
}

/// LinkedIn, "Authorization Code Flow (3-legged OAuth)", Step 2: no PKCE for
/// ordinary apps, space-delimited scope.
pub fn linkedin_authorization_url_has_no_pkce<L: Lesson>() {
    let profile = L::profile(Which::LinkedIn);
    let client = L::client_for(
        &profile,
        "86abc",
        Some(Secret::new(SECRET)),
        "openid profile",
    );
    let url = L::authorization_url(
        &profile,
        &client,
        &loopback(8000),
        "st4te",
        &Secret::new(VERIFIER),
    );
    let q = query_of(&url);
    assert_eq!(param(&q, "response_type"), Some("code"));
    assert_eq!(param(&q, "client_id"), Some("86abc"));
    assert_eq!(param(&q, "scope"), Some("openid profile"));
    assert_eq!(param(&q, "state"), Some("st4te"));
    assert_eq!(
        param(&q, "code_challenge"),
        None,
        "LinkedIn does not document PKCE for this flow: send no challenge when profile.pkce is NotSupported"
    );
}

/// The client secret is never in the authorization URL (it goes through the
/// browser), nor in the Debug of the client or the profile.
pub fn secret_never_in_url_or_debug<L: Lesson>() {
    for which in [Which::GitHub, Which::Google, Which::LinkedIn, Which::Mock] {
        let profile = L::profile(which);
        let mut client = L::client_for(&profile, "id", Some(Secret::new(SECRET)), "");
        if which == Which::Mock {
            client.authorize_url = "http://127.0.0.1:9000/authorize".into();
        }
        let url = L::authorization_url(
            &profile,
            &client,
            &loopback(8000),
            "st",
            &Secret::new(VERIFIER),
        );
        let encoded: String = url::form_urlencoded::byte_serialize(SECRET.as_bytes()).collect();
        assert!(
            !url.contains(SECRET) && !url.contains(&encoded) && !url.contains("client_secret"),
            "{which:?}: the client secret must never be in the authorization URL: {url}"
        );
        let debug = format!("{client:?} {}", L::facts(&profile).debug);
        assert!(
            !debug.contains(SECRET),
            "{which:?}: the secret shows in Debug: {debug}"
        );
    }
}

// --- Steps 2 and 3 against the replicas ----------------------------------------

/// GitHub, "Authorizing OAuth apps" §2: client_id and client_secret in the form,
/// Accept: application/json asked for. GitHub answers JSON when asked and a
/// form-encoded body (`access_token=…&scope=repo%2Cgist&token_type=bearer`)
/// otherwise; this stand-in answers the form whatever the Accept header, so
/// that reading a form is checked too. Then GET /user ("who am I").
pub fn github_replica_form_encoded_body<L: Lesson>() {
    let profile = L::profile(Which::GitHub);
    let server = MockServer::start();
    let token = server.mock(|when, then| {
        when.method(POST)
            .path("/login/oauth/access_token")
            .header("accept", "application/json")
            .header_missing("authorization")
            .form_urlencoded_tuple("client_id", "replica-client")
            .form_urlencoded_tuple("client_secret", SECRET)
            .form_urlencoded_tuple("code", "gh-code")
            .form_urlencoded_tuple("grant_type", "authorization_code")
            .form_urlencoded_tuple("redirect_uri", loopback(8000))
            .form_urlencoded_tuple("code_verifier", VERIFIER);
        then.status(200)
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body("access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer");
    });
    let me = server.mock(|when, then| {
        when.method(GET).path("/user").header(
            "authorization",
            "Bearer gho_16C7e42F292c6912E7710c838347Ae178B4a",
        );
        then.status(200)
            .header("content-type", "application/json; charset=utf-8")
            .body(r#"{"login":"octocat","id":1,"name":null}"#);
    });
    let client = replica_client::<L>(&profile, &server, "/login/oauth/access_token");
    let result = L::request_token(
        &profile,
        &client,
        &Secret::new("gh-code"),
        &loopback(8000),
        &Secret::new(VERIFIER),
    );
    assert_eq!(
        token.calls(),
        1,
        "POST to the token URL with Accept: application/json, no Authorization header, and the form \
         grant_type, code, redirect_uri, code_verifier, client_id, client_secret (got {result:?})"
    );
    let granted =
        result.unwrap_or_else(|e| panic!("a form-encoded 200 answer is a success: {e:?}"));
    assert_eq!(
        granted.access_token.expose(),
        "gho_16C7e42F292c6912E7710c838347Ae178B4a"
    );
    assert!(granted.token_type.eq_ignore_ascii_case("bearer"));
    assert_eq!(
        granted.scopes,
        ["repo", "gist"],
        "GitHub's scope is comma-separated: split it"
    );
    assert_eq!(
        (granted.expires_in, granted.refresh_token.is_none()),
        (None, true)
    );
    let name = L::who_am_i(&profile, &client, &granted.access_token);
    assert_eq!(me.calls(), 1);
    assert_eq!(name.ok().as_deref(), Some("octocat"), "no name: the login");
}

/// GitHub, "Troubleshooting OAuth app access token request errors": the errors
/// come with HTTP 200, as JSON (or form-encoded without Accept json). Each one
/// is a typed error, GitHub's own code kept so a person knows what to fix.
pub fn github_errors_with_http_200_are_typed<L: Lesson>() {
    let profile = L::profile(Which::GitHub);
    for (code, description, meaning) in [
        (
            "bad_verification_code",
            "The code passed is incorrect or expired.",
            ErrorCode::InvalidGrant,
        ),
        (
            "incorrect_client_credentials",
            "The client_id and/or client_secret passed are incorrect.",
            ErrorCode::InvalidClient,
        ),
        (
            "redirect_uri_mismatch",
            "The redirect_uri MUST match the registered callback URL for this application.",
            ErrorCode::InvalidGrant,
        ),
    ] {
        let json = format!(
            r#"{{"error":"{code}","error_description":"{description}","error_uri":"/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#{code}"}}"#
        );
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("error", code)
            .append_pair("error_description", description)
            .finish();
        for (content_type, body) in [
            ("application/json; charset=utf-8", json),
            ("application/x-www-form-urlencoded; charset=utf-8", form),
        ] {
            let server = MockServer::start();
            server.mock(|when, then| {
                when.method(POST).path("/login/oauth/access_token");
                then.status(200)
                    .header("content-type", content_type)
                    .body(&body);
            });
            let client = replica_client::<L>(&profile, &server, "/login/oauth/access_token");
            match L::request_token(
                &profile,
                &client,
                &Secret::new("c"),
                &loopback(8000),
                &Secret::new(VERIFIER),
            ) {
                Err(TokenError::Rejected {
                    status,
                    code: typed,
                    description: kept,
                }) => {
                    assert_eq!(status, 200);
                    assert_eq!(
                        typed, meaning,
                        "{code} means {meaning:?} (map it with profile.error_codes)"
                    );
                    let kept = kept.unwrap_or_default();
                    assert!(
                        kept.contains(code) && kept.contains(description),
                        "keep GitHub's code and words in the description, got {kept:?}"
                    );
                }
                other => panic!(
                    "HTTP 200 with error={code} ({content_type}) is an error, not tokens: expected Err(TokenError::Rejected), got {other:?}"
                ),
            }
        }
    }
}

/// Google, "OAuth 2.0 for Desktop Apps", Step 5: client_id,
/// client_secret, code, code_verifier, grant_type, redirect_uri in the form;
/// the answer has a refresh token, expires_in 3599, and an id_token to ignore.
pub fn google_replica_keeps_the_refresh_token<L: Lesson>() {
    let profile = L::profile(Which::Google);
    let server = MockServer::start();
    let token = server.mock(|when, then| {
        when.method(POST)
            .path("/token")
            .header("accept", "application/json")
            .header_missing("authorization")
            .form_urlencoded_tuple("client_id", "replica-client")
            .form_urlencoded_tuple("client_secret", SECRET)
            .form_urlencoded_tuple("code", "4/0AX4XfWg")
            .form_urlencoded_tuple("code_verifier", VERIFIER)
            .form_urlencoded_tuple("grant_type", "authorization_code")
            .form_urlencoded_tuple("redirect_uri", loopback(61023));
        then.status(200)
            .header("content-type", "application/json; charset=utf-8")
            .body(
                r#"{"access_token":"ya29.a0AfH6SM","expires_in":3599,"refresh_token":"1//0gLp8x","scope":"openid https://www.googleapis.com/auth/userinfo.profile https://www.googleapis.com/auth/userinfo.email","token_type":"Bearer","id_token":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMTAifQ.c2ln"}"#,
            );
    });
    let client = replica_client::<L>(&profile, &server, "/token");
    let result = L::request_token(
        &profile,
        &client,
        &Secret::new("4/0AX4XfWg"),
        &loopback(61023),
        &Secret::new(VERIFIER),
    );
    assert_eq!(
        token.calls(),
        1,
        "POST the form with client_id, client_secret, code, code_verifier, grant_type, redirect_uri and Accept: application/json (got {result:?})"
    );
    let granted = result.unwrap_or_else(|e| panic!("Google's answer is a success: {e:?}"));
    assert_eq!(granted.expires_in, Some(3599));
    assert_eq!(
        granted.refresh_token.as_ref().map(Secret::expose),
        Some("1//0gLp8x"),
        "keep Google's refresh token"
    );
    assert_eq!(
        granted.scopes.len(),
        3,
        "split the scope on spaces: {:?}",
        granted.scopes
    );
    assert!(
        !granted.debug.contains("1//0gLp8x") && !granted.debug.contains("ya29.a0AfH6SM"),
        "tokens must not show in Debug: keep them as Secret"
    );
}

/// LinkedIn, "Authorization Code Flow (3-legged OAuth)", Step 3, with "Sign In
/// with LinkedIn using OpenID Connect" (checked 2026-11-30): the secret in the
/// form (not Basic), no code_verifier; the answer lives 60 days (5184000 s),
/// brings an id_token (ignored), no refresh token, and a comma-separated scope.
pub fn linkedin_replica_secret_in_body_sixty_days<L: Lesson>() {
    let profile = L::profile(Which::LinkedIn);
    let server = MockServer::start();
    let token = server.mock(|when, then| {
        when.method(POST)
            .path("/oauth/v2/accessToken")
            .header("accept", "application/json")
            .header_missing("authorization")
            .form_urlencoded_tuple("grant_type", "authorization_code")
            .form_urlencoded_tuple("code", "AQTQmah")
            .form_urlencoded_tuple("client_id", "replica-client")
            .form_urlencoded_tuple("client_secret", SECRET)
            .form_urlencoded_tuple("redirect_uri", loopback(8000))
            .form_urlencoded_tuple_missing("code_verifier");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"access_token":"AQUvlL_DYEzvT2wz1QJiEPeLioeA","expires_in":5184000,"scope":"email,openid,profile","token_type":"Bearer","id_token":"eyJ6aXAiOiJERUYiLCJraWQiOiJkOTI5In0.eyJzdWIiOiI3ODJiUXVmNE1IIn0.c2ln"}"#);
    });
    let client = replica_client::<L>(&profile, &server, "/oauth/v2/accessToken");
    let result = L::request_token(
        &profile,
        &client,
        &Secret::new("AQTQmah"),
        &loopback(8000),
        &Secret::new(VERIFIER),
    );
    assert_eq!(
        token.calls(),
        1,
        "LinkedIn wants client_id and client_secret in the form, no Authorization header, no code_verifier (got {result:?})"
    );
    let granted = result.unwrap_or_else(|e| panic!("LinkedIn's answer is a success: {e:?}"));
    assert_eq!(granted.expires_in, Some(5_184_000), "60 days");
    assert!(
        granted.refresh_token.is_none(),
        "no refresh token, and that is fine"
    );
    assert!(
        granted.token_type.eq_ignore_ascii_case("bearer"),
        "LinkedIn's tokens are Bearer"
    );
    assert_eq!(
        granted.scopes,
        ["email", "openid", "profile"],
        "split on commas"
    );
}

/// The mock provider's profile says `ClientAuth::BasicHeader`, RFC 6749
/// §2.3.1's own method: `Authorization: Basic base64(id:secret)`, each part
/// form-encoded first, and no client_secret in the form.
pub fn basic_header_when_the_profile_says_so<L: Lesson>() {
    use base64::Engine;
    let profile = L::profile(Which::Mock);
    let server = MockServer::start();
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            encode("replica-client"),
            encode(SECRET)
        ))
    );
    let token = server.mock(|when, then| {
        when.method(POST)
            .path("/token")
            .header("authorization", &basic)
            .form_urlencoded_tuple_missing("client_secret")
            .form_urlencoded_tuple("code", "c");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"access_token":"at","token_type":"Bearer","expires_in":60}"#);
    });
    let client = replica_client::<L>(&profile, &server, "/token");
    let result = L::request_token(
        &profile,
        &client,
        &Secret::new("c"),
        &loopback(8000),
        &Secret::new(VERIFIER),
    );
    assert_eq!(
        token.calls(),
        1,
        "profile.client_auth is BasicHeader: send Authorization: basic_auth(client_id, secret) and no client_secret in the form (got {result:?})"
    );
    assert!(result.is_ok(), "{result:?}");
}

// --- Step 3 alone ------------------------------------------------------------

/// Step 3 by Content-Type and status: JSON with a charset, form-encoded, HTML,
/// 5xx, a redirect, an RFC 6749 §5.2 error with 400, an unknown token type.
pub fn token_responses_of_every_shape<L: Lesson>() {
    let p = L::profile(Which::Mock);
    let ok = L::read_token_response(
        &p,
        200,
        "application/json;charset=UTF-8",
        r#"{"access_token":"at","token_type":"bearer","expires_in":"60"}"#,
    )
    .unwrap_or_else(|e| panic!("JSON with a charset is JSON: {e:?}"));
    assert_eq!(
        (ok.access_token.expose(), ok.expires_in),
        ("at", Some(60)),
        "expires_in may come as a string"
    );
    let form = L::read_token_response(
        &p,
        200,
        "application/x-www-form-urlencoded",
        "access_token=a%2Bb&token_type=bearer&expires_in=28800&refresh_token=r",
    )
    .unwrap_or_else(|e| panic!("a form-encoded body is read as a form: {e:?}"));
    assert_eq!(
        (form.access_token.expose(), form.expires_in),
        ("a+b", Some(28800)),
        "decode the form's values"
    );
    assert_eq!(form.refresh_token.as_ref().map(Secret::expose), Some("r"));
    // LinkedIn's older answers (before OpenID Connect) left token_type out.
    let untyped = L::read_token_response(
        &p,
        200,
        "application/json",
        r#"{"access_token":"at","expires_in":5184000}"#,
    )
    .unwrap_or_else(|e| panic!("no token_type means Bearer: {e:?}"));
    assert!(untyped.token_type.eq_ignore_ascii_case("bearer"));
    assert!(
        matches!(
            L::read_token_response(&p, 200, "text/html", "<html>Sign in to the proxy</html>"),
            Err(TokenError::NotJson { status: 200, .. })
        ),
        "an HTML page is not a token response: NotJson"
    );
    assert_eq!(
        L::read_token_response(&p, 503, "text/plain", "down").err(),
        Some(TokenError::ServerError { status: 503 })
    );
    assert_eq!(
        L::read_token_response(&p, 302, "text/plain", "").err(),
        Some(TokenError::UnexpectedStatus { status: 302 })
    );
    assert_eq!(
        L::read_token_response(
            &p,
            400,
            "application/json",
            r#"{"error":"invalid_grant","error_description":"used"}"#
        )
        .err(),
        Some(TokenError::Rejected {
            status: 400,
            code: ErrorCode::InvalidGrant,
            description: Some("used".into())
        }),
        "RFC 6749 §5.2 errors stay typed"
    );
    assert_eq!(
        L::read_token_response(
            &p,
            200,
            "application/json",
            r#"{"access_token":"x","token_type":"mac"}"#
        )
        .err(),
        Some(TokenError::UnsupportedTokenType("mac".into())),
        "RFC 6749 §7.1: refuse a token type you do not understand"
    );
    assert!(
        matches!(
            L::read_token_response(&p, 200, "application/json", r#"{"token_type":"bearer"}"#),
            Err(TokenError::NotJson { .. })
        ),
        "a 200 without access_token is not a token response"
    );
    assert!(
        L::read_token_response(
            &p,
            401,
            "application/json",
            r#"{"access_token":"at","token_type":"bearer"}"#
        )
        .is_err(),
        "only a 200 carries tokens (RFC 6749 §5.1): a 401 with an access_token is not a success"
    );
    assert!(
        matches!(
            L::read_token_response(
                &p,
                200,
                "application/json",
                r#"{"access_token":"at","token_type":"bearer","expires_in":"soon"}"#
            ),
            Err(TokenError::NotJson { .. })
        ),
        "an expires_in that is not a number is not understood: do not guess a lifetime"
    );
}

/// A token endpoint that redirects is misconfigured; following it would send
/// the code and the client's credentials elsewhere (as in lesson 04).
pub fn token_request_follows_no_redirect<L: Lesson>() {
    let profile = L::profile(Which::Google);
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(POST).path("/token");
        then.status(302).header("location", "/elsewhere");
    });
    let elsewhere = server.mock(|when, then| {
        when.path("/elsewhere");
        then.status(200)
            .header("content-type", "application/json")
            .body(r#"{"access_token":"stolen","token_type":"Bearer"}"#);
    });
    let client = replica_client::<L>(&profile, &server, "/token");
    let result = L::request_token(
        &profile,
        &client,
        &Secret::new("code"),
        &loopback(8000),
        &Secret::new(VERIFIER),
    );
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

// --- The mock provider: the standards-following server -----------------------

/// The lesson's own URL and token request, with the mock provider's profile
/// (client_secret_basic, PKCE), against the mock provider: it refuses anything
/// off-standard. Then a replayed code is still a typed invalid_grant, and
/// "who am I" answers alice's name.
pub fn mock_provider_accepts_the_lesson_s_requests<L: Lesson>() {
    let p = provider();
    let profile = L::profile(Which::Mock);
    let mut client = crate::support::client_for(&p);
    client.scope = "profile posts:read".into();
    let redirect = loopback(8123);
    let verifier = Secret::new(VERIFIER);
    let url = L::authorization_url(&profile, &client, &redirect, "st", &verifier);
    let code = approved_code_for_url(&p, &url);
    let granted = L::request_token(&profile, &client, &code, &redirect, &verifier)
        .unwrap_or_else(|e| panic!("the mock provider should accept the lesson's request: {e}"));
    assert_eq!(granted.expires_in, Some(3600));
    assert!(
        granted.refresh_token.is_some(),
        "the mock provider sends a refresh token: keep it"
    );
    assert_eq!(granted.scopes, ["profile", "posts:read"]);
    let name = L::who_am_i(&profile, &client, &granted.access_token);
    assert_eq!(
        name.as_ref().ok().map(String::as_str),
        Some("Alice Liddell"),
        "who am I, with the token: {name:?}"
    );
    // The replay also revokes the tokens issued from the code (RFC 6749 §4.1.2).
    match L::request_token(&profile, &client, &code, &redirect, &verifier) {
        Err(TokenError::Rejected {
            status: 400,
            code: ErrorCode::InvalidGrant,
            ..
        }) => {}
        other => panic!(
            "the same code twice: expected Err(Rejected {{ 400, InvalidGrant }}), got {other:?}"
        ),
    }
}

/// The lesson's wrong secret against the mock provider: 401 invalid_client,
/// typed (RFC 6749 §5.2), with nothing of the secret in the error.
pub fn mock_provider_wrong_secret_is_invalid_client<L: Lesson>() {
    let p = provider();
    let profile = L::profile(Which::Mock);
    let redirect = loopback(8123);
    let verifier = Secret::new(VERIFIER);
    let client = crate::support::client_for(&p);
    let url = L::authorization_url(&profile, &client, &redirect, "st", &verifier);
    let code = approved_code_for_url(&p, &url);
    let mut wrong = client.clone();
    wrong.client_secret = Some(Secret::new(SECRET));
    match L::request_token(&profile, &wrong, &code, &redirect, &verifier) {
        Err(
            e @ TokenError::Rejected {
                status: 401,
                code: ErrorCode::InvalidClient,
                ..
            },
        ) => {
            assert!(
                !format!("{e} {e:?}").contains(SECRET),
                "the secret must not show in the error"
            );
        }
        other => {
            panic!("a wrong secret: expected Err(Rejected {{ 401, InvalidClient }}), got {other:?}")
        }
    }
}

/// Applies the suite to a lesson 08 crate: implements [`Lesson`] with its items.
#[macro_export]
macro_rules! lesson08_impl {
    ($k:ident) => {
        struct Lesson08Crate;
        impl $crate::lesson08::Lesson for Lesson08Crate {
            type Profile = $k::ProviderProfile;
            fn profile(which: $crate::lesson08::Which) -> $k::ProviderProfile {
                match which {
                    $crate::lesson08::Which::GitHub => $k::GITHUB,
                    $crate::lesson08::Which::Google => $k::GOOGLE,
                    $crate::lesson08::Which::LinkedIn => $k::LINKEDIN,
                    $crate::lesson08::Which::Mock => $k::MOCK,
                }
            }
            fn facts(p: &$k::ProviderProfile) -> $crate::lesson08::Facts {
                $crate::lesson08::Facts {
                    name: p.name.into(),
                    authorize_url: p.authorize_url.into(),
                    token_url: p.token_url.into(),
                    revoke_url: p.revoke_url.map(str::to_string),
                    api_url: p.api_url.into(),
                    me_path: p.me_path.into(),
                    secret_in_body: p.client_auth == $k::ClientAuth::InBody,
                    pkce: match p.pkce {
                        $k::PkceSupport::Required => "required",
                        $k::PkceSupport::Accepted => "accepted",
                        $k::PkceSupport::NotSupported => "no",
                    },
                    refresh_tokens: p.refresh_tokens,
                    default_scope: p.default_scope.iter().map(|s| s.to_string()).collect(),
                    extra_authorize_params: p
                        .extra_authorize_params
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.to_string()))
                        .collect(),
                    loopback_any_port: p.loopback_any_port,
                    debug: format!("{p:?}"),
                }
            }
            fn client_for(
                p: &$k::ProviderProfile,
                id: &str,
                secret: Option<$crate::lesson08::__labkit::Secret>,
                scope: &str,
            ) -> $crate::lesson08::__labkit::Client {
                $k::client_for(p, id, secret, scope)
            }
            fn authorization_url(
                p: &$k::ProviderProfile,
                c: &$crate::lesson08::__labkit::Client,
                r: &str,
                s: &str,
                v: &$crate::lesson08::__labkit::Secret,
            ) -> String {
                $k::authorization_url(p, c, r, s, v)
            }
            fn request_token(
                p: &$k::ProviderProfile,
                c: &$crate::lesson08::__labkit::Client,
                code: &$crate::lesson08::__labkit::Secret,
                r: &str,
                v: &$crate::lesson08::__labkit::Secret,
            ) -> Result<$crate::lesson08::Granted, $crate::lesson08::__labkit::TokenError> {
                $k::request_token(p, c, code, r, v).map(|t| $crate::lesson08::Granted {
                    debug: format!("{t:?}"),
                    access_token: t.access_token,
                    token_type: t.token_type,
                    expires_in: t.expires_in,
                    refresh_token: t.refresh_token,
                    scopes: t.scopes,
                })
            }
            fn read_token_response(
                p: &$k::ProviderProfile,
                status: u16,
                content_type: &str,
                body: &str,
            ) -> Result<$crate::lesson08::Granted, $crate::lesson08::__labkit::TokenError> {
                $k::read_token_response(p, status, content_type, body).map(|t| {
                    $crate::lesson08::Granted {
                        debug: format!("{t:?}"),
                        access_token: t.access_token,
                        token_type: t.token_type,
                        expires_in: t.expires_in,
                        refresh_token: t.refresh_token,
                        scopes: t.scopes,
                    }
                })
            }
            fn who_am_i(
                p: &$k::ProviderProfile,
                c: &$crate::lesson08::__labkit::Client,
                t: &$crate::lesson08::__labkit::Secret,
            ) -> Result<String, $crate::lesson08::__labkit::ApiError> {
                $k::who_am_i(p, c, t)
            }
        }
    };
}

#[macro_export]
macro_rules! lesson08_suite {
    ($k:ident) => { $crate::lesson08_suite!(tests, $k); };
    (tests, $k:ident) => {
        $crate::lesson08_impl!($k);
        $crate::lesson08_suite!(@checks tests, $k);
    };
    (list, $k:ident) => {{
        $crate::lesson08_impl!($k);
        $crate::lesson08_suite!(@checks list, $k)
    }};
    (@checks $mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            profiles_follow_the_providers_docs => $crate::lesson08::profiles_follow_the_providers_docs::<Lesson08Crate>();
            github_authorization_url_follows_its_docs => $crate::lesson08::github_authorization_url_follows_its_docs::<Lesson08Crate>();
            google_authorization_url_has_pkce_loopback_and_offline => $crate::lesson08::google_authorization_url_has_pkce_loopback_and_offline::<Lesson08Crate>();
            linkedin_authorization_url_has_no_pkce => $crate::lesson08::linkedin_authorization_url_has_no_pkce::<Lesson08Crate>();
            secret_never_in_url_or_debug => $crate::lesson08::secret_never_in_url_or_debug::<Lesson08Crate>();
            github_replica_form_encoded_body => $crate::lesson08::github_replica_form_encoded_body::<Lesson08Crate>();
            github_errors_with_http_200_are_typed => $crate::lesson08::github_errors_with_http_200_are_typed::<Lesson08Crate>();
            google_replica_keeps_the_refresh_token => $crate::lesson08::google_replica_keeps_the_refresh_token::<Lesson08Crate>();
            linkedin_replica_secret_in_body_sixty_days => $crate::lesson08::linkedin_replica_secret_in_body_sixty_days::<Lesson08Crate>();
            basic_header_when_the_profile_says_so => $crate::lesson08::basic_header_when_the_profile_says_so::<Lesson08Crate>();
            token_request_follows_no_redirect => $crate::lesson08::token_request_follows_no_redirect::<Lesson08Crate>();
            token_responses_of_every_shape => $crate::lesson08::token_responses_of_every_shape::<Lesson08Crate>();
            mock_provider_accepts_the_lesson_s_requests => $crate::lesson08::mock_provider_accepts_the_lesson_s_requests::<Lesson08Crate>();
            mock_provider_wrong_secret_is_invalid_client => $crate::lesson08::mock_provider_wrong_secret_is_invalid_client::<Lesson08Crate>();
            rfc9207_the_callback_code_refuses_a_mix_up => $crate::lesson03::rfc9207_the_callback_code_refuses_a_mix_up($k::wait_for_callback);
        }
    };
}
