//! Lesson 06 — PKCE and a safer listener (RFC 7636; RFC 8252 §7.3, §8.3).
//!
//! The PKCE pieces against RFC 7636's own test vector and an independent hash,
//! the listener against the socket it really opened, and the whole flow as the
//! public client `lab-public` against the mock provider — including an
//! attacker who copies the code out of the redirect.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, TcpStream};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use labkit::{Client, ErrorCode, LabError, Secret, TokenError, Tokens};
use mock_provider::MockProvider;
use sha2::{Digest, Sha256};

use crate::randomness;
use crate::support::{
    Scripted, client_at, get_with_token, json_answer, provider, public_client_for,
};

type BindLoopback = fn(u16) -> Result<(labkit::Listener, String), LabError>;
type NewVerifier = fn() -> Secret;
type CodeChallenge = fn(&Secret) -> String;
type AuthorizationUrl = fn(&Client, &str, &str, &str) -> String;
type ExchangeCode = fn(&Client, &Secret, &str, &Secret) -> Result<Tokens, TokenError>;

/// The lesson's functions, for the checks that need several of them.
#[derive(Clone, Copy)]
pub struct Pkce {
    pub new_verifier: NewVerifier,
    pub code_challenge: CodeChallenge,
    pub authorization_url: AuthorizationUrl,
    pub exchange_code: ExchangeCode,
}

const REDIRECT: &str = "http://127.0.0.1:8123/callback";

/// RFC 7636 Appendix B: this verifier has this challenge.
pub fn challenge_matches_rfc7636_appendix_b(code_challenge: CodeChallenge) {
    let verifier = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    assert_eq!(
        code_challenge(&verifier),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "RFC 7636 Appendix B: BASE64URL(SHA256(verifier)), no padding"
    );
}

/// RFC 7636 §4.1: 43–128 unreserved characters, with enough entropy; ours are
/// 32 random bytes in base64url, so exactly 43 characters, and never repeat.
/// RFC 7636 §7.1: the bytes must come from a secure random source, which the
/// bytes themselves are checked for (see `randomness`).
pub fn verifier_is_43_unreserved_characters_and_fresh(new_verifier: NewVerifier) {
    let mut seen = HashSet::new();
    let mut samples = Vec::new();
    for _ in 0..randomness::SAMPLES {
        let verifier = new_verifier();
        let v = verifier.expose();
        assert_eq!(
            v.len(),
            43,
            "a verifier from 32 random bytes in base64url without padding is 43 characters, got {}",
            v.len()
        );
        assert!(
            v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "the verifier must use base64url's characters A-Z a-z 0-9 - _ (RFC 7636 §4.1)"
        );
        let bytes = URL_SAFE_NO_PAD
            .decode(v)
            .expect("the verifier is base64url without padding");
        assert_eq!(bytes.len(), 32, "32 random bytes (RFC 7636 §7.1)");
        assert!(
            seen.insert(v.to_string()),
            "two verifiers were the same: make each one from fresh random bytes"
        );
        samples.push(bytes);
    }
    if let Err(why) = randomness::judge("verifier", &samples) {
        panic!("{why} (RFC 7636 §7.1)");
    }
}

/// RFC 7636 §4.2 for any verifier, not only the appendix's: compared with an
/// independent SHA-256.
pub fn challenge_is_s256_of_any_verifier(code_challenge: CodeChallenge) {
    for text in ["a".repeat(43), "Zz09-_".repeat(10), "x".repeat(128)] {
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()));
        assert_eq!(
            code_challenge(&Secret::new(text.clone())),
            expected,
            "the challenge of a {}-character verifier",
            text.len()
        );
    }
}

/// RFC 8252 §7.3 and §8.3: port 0 gets a free port, the listener is on the
/// loopback address only, and the redirect URI names the port really bound.
pub fn listener_binds_loopback_on_a_free_port(bind_loopback: BindLoopback) {
    let (server, redirect_uri) =
        bind_loopback(0).unwrap_or_else(|e| panic!("bind_loopback(0) failed: {}", e.0));
    let addr = server
        .server_addr()
        .to_ip()
        .expect("the listener is on an IP address");
    assert_eq!(
        addr.ip(),
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        "bind 127.0.0.1 only (never 0.0.0.0: other machines could call it)"
    );
    assert_ne!(
        addr.port(),
        0,
        "port 0 means 'any': the listener has a real port"
    );
    assert_eq!(
        redirect_uri,
        format!("http://127.0.0.1:{}/callback", addr.port()),
        "the redirect URI names the IP literal and the port read back from the listener"
    );
    TcpStream::connect(("127.0.0.1", addr.port()))
        .expect("something answers at the redirect URI's port");
    let (other, _) = bind_loopback(0).unwrap_or_else(|e| panic!("{}", e.0));
    assert_ne!(
        other.server_addr().to_ip().map(|a| a.port()),
        Some(addr.port()),
        "two listeners on port 0 get two different ports"
    );
}

/// A fixed port that is taken gives the one-line explanation, not a panic.
pub fn taken_port_is_explained(bind_loopback: BindLoopback) {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    match bind_loopback(port) {
        Err(LabError(message)) => assert!(
            message.contains("in use") && message.contains("--port 0"),
            "say the port is in use and how to pick another: {message:?}"
        ),
        Ok((_, uri)) => panic!("port {port} is taken, yet bind_loopback gave {uri}"),
    }
}

/// The query of `url` as pairs.
fn query(url: &str) -> Vec<(String, String)> {
    url::Url::parse(url)
        .unwrap_or_else(|e| panic!("{url:?} is not a URL: {e}"))
        .query_pairs()
        .into_owned()
        .collect()
}

/// RFC 7636 §4.3: the challenge and its method go with lesson 03's parameters;
/// the verifier itself never goes through the browser.
pub fn authorization_url_carries_the_s256_challenge(pkce: Pkce) {
    let client = Client {
        client_id: "lab-public".into(),
        client_secret: None,
        ..client_at("http://127.0.0.1:9000")
    };
    let verifier = (pkce.new_verifier)();
    let challenge = (pkce.code_challenge)(&verifier);
    let url = (pkce.authorization_url)(&client, REDIRECT, "st4te", &challenge);
    assert!(
        url.starts_with("http://127.0.0.1:9000/authorize?"),
        "the URL starts with the authorization endpoint: {url}"
    );
    let pairs = query(&url);
    for (name, value) in [
        ("response_type", "code"),
        ("client_id", "lab-public"),
        ("redirect_uri", REDIRECT),
        ("scope", "profile posts:read"),
        ("state", "st4te"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ] {
        let values: Vec<_> = pairs.iter().filter(|(n, _)| n == name).collect();
        assert_eq!(
            values.len(),
            1,
            "{name} must be in the authorization URL exactly once: {url}"
        );
        assert_eq!(values[0].1, value, "{name} in {url}");
    }
    assert!(
        !url.contains(verifier.expose()),
        "the verifier must not be in the URL: only its hash goes out before the exchange"
    );
}

/// The public client's whole flow: approve, then the code and the verifier
/// give tokens the API accepts.
fn approved(p: &MockProvider, pkce: Pkce, challenge: &str) -> Secret {
    let url = (pkce.authorization_url)(&public_client_for(p), REDIRECT, "st4te", challenge);
    let redirect = p
        .resource_owner("alice")
        .approve(&url)
        .unwrap_or_else(|e| panic!("alice could not approve {url}: {e}"));
    let code = redirect.param("code").unwrap_or_else(|| {
        panic!(
            "the provider refused the authorization request ({:?}): check code_challenge and code_challenge_method=S256 in the URL",
            redirect.param("error_description")
        )
    });
    Secret::new(code)
}

pub fn public_client_with_pkce_gets_tokens(pkce: Pkce) {
    let p = provider();
    let verifier = (pkce.new_verifier)();
    let code = approved(&p, pkce, &(pkce.code_challenge)(&verifier));
    let tokens = (pkce.exchange_code)(&public_client_for(&p), &code, REDIRECT, &verifier)
        .unwrap_or_else(|e| panic!("the code and its verifier should give tokens, got: {e}"));
    let me = get_with_token(
        &format!("{}/api/me", p.base_url()),
        tokens.access_token.expose(),
    );
    assert_eq!(me.status, 200, "the token works at /api/me: {}", me.body);
}

fn refused(result: Result<Tokens, TokenError>, what: &str) {
    match result {
        Err(TokenError::Rejected {
            code: ErrorCode::InvalidGrant,
            ..
        }) => {}
        other => panic!("{what}: expected invalid_grant, got {other:?}"),
    }
}

/// RFC 7636 §1 and §4.6: an attacker who copied the code out of the redirect
/// (another app on the same port, a log, a browser extension) has no verifier;
/// the provider refuses the code without it, and the rightful program still
/// gets its tokens.
pub fn stolen_code_without_the_verifier_is_refused(pkce: Pkce) {
    let p = provider();
    let verifier = (pkce.new_verifier)();
    let stolen = approved(&p, pkce, &(pkce.code_challenge)(&verifier));
    let client = public_client_for(&p);
    // The attacker makes up a verifier of their own…
    let guess = (pkce.new_verifier)();
    refused(
        (pkce.exchange_code)(&client, &stolen, REDIRECT, &guess),
        "the stolen code with the attacker's own verifier",
    );
    // …or sends none at all.
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
        "the stolen code without any verifier: {answer}"
    );
    (pkce.exchange_code)(&client, &stolen, REDIRECT, &verifier)
        .expect("the program that holds the verifier still gets its tokens");
}

/// RFC 7636 §4.5 and RFC 6749 §2.3.1: the token request carries the verifier
/// and names the public client in the body, with no secret anywhere.
pub fn exchange_sends_the_verifier_as_a_public_client(pkce: Pkce) {
    let endpoint = Scripted::start(vec![json_answer(
        200,
        r#"{"access_token":"t","token_type":"Bearer","expires_in":60}"#,
    )]);
    let client = Client {
        client_id: "lab-public".into(),
        client_secret: None,
        ..client_at(&endpoint.base)
    };
    let verifier = (pkce.new_verifier)();
    (pkce.exchange_code)(&client, &Secret::new("the-code"), REDIRECT, &verifier)
        .expect("a 200 with Bearer tokens is success");
    let received = endpoint.received();
    let request = &received[0];
    assert_eq!(request.method, "POST");
    for (name, value) in [
        ("grant_type", "authorization_code"),
        ("code", "the-code"),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.expose()),
        ("client_id", "lab-public"),
    ] {
        assert_eq!(
            request.form(name).as_deref(),
            Some(value),
            "the token request's form needs {name}"
        );
    }
    assert!(
        request.header("authorization").is_none(),
        "a public client has no secret, so no Authorization header"
    );
}

#[macro_export]
macro_rules! lesson06_suite {
    (@pkce $k:ident) => {
        $crate::lesson06::Pkce {
            new_verifier: $k::new_verifier,
            code_challenge: $k::code_challenge,
            authorization_url: $k::authorization_url,
            exchange_code: $k::exchange_code,
        }
    };
    ($k:ident) => { $crate::lesson06_suite!(tests, $k); };
    ($mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            listener_binds_loopback_on_a_free_port => $crate::lesson06::listener_binds_loopback_on_a_free_port($k::bind_loopback);
            taken_port_is_explained => $crate::lesson06::taken_port_is_explained($k::bind_loopback);
            verifier_is_43_unreserved_characters_and_fresh => $crate::lesson06::verifier_is_43_unreserved_characters_and_fresh($k::new_verifier);
            challenge_matches_rfc7636_appendix_b => $crate::lesson06::challenge_matches_rfc7636_appendix_b($k::code_challenge);
            challenge_is_s256_of_any_verifier => $crate::lesson06::challenge_is_s256_of_any_verifier($k::code_challenge);
            authorization_url_carries_the_s256_challenge => $crate::lesson06::authorization_url_carries_the_s256_challenge($crate::lesson06_suite!(@pkce $k));
            public_client_with_pkce_gets_tokens => $crate::lesson06::public_client_with_pkce_gets_tokens($crate::lesson06_suite!(@pkce $k));
            stolen_code_without_the_verifier_is_refused => $crate::lesson06::stolen_code_without_the_verifier_is_refused($crate::lesson06_suite!(@pkce $k));
            exchange_sends_the_verifier_as_a_public_client => $crate::lesson06::exchange_sends_the_verifier_as_a_public_client($crate::lesson06_suite!(@pkce $k));
            rfc9207_the_callback_code_refuses_a_mix_up => $crate::lesson03::rfc9207_the_callback_code_refuses_a_mix_up($k::wait_for_callback);
        }
    };
}
