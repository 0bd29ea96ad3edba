//! The provider as an OpenID Provider (OpenID Connect Core 1.0 and Discovery
//! 1.0), from outside over HTTP: discovery, ID tokens verified with the
//! published keys, `nonce`, `/userinfo`, refresh (§12.2) and key rotation by
//! the injected clock.

mod common;

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use mock_provider::{Clock, Config, ManualClock, MockProvider, builtin_users};
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::Value;

const NONCE: &str = "n-0S6_WzA2Mj +/é";

fn start_with_clock(clock: &ManualClock) -> MockProvider {
    MockProvider::start(Config::default().with_clock(clock.clone())).expect("provider starts")
}

fn secs(clock: &ManualClock) -> u64 {
    clock
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// lab-client's code flow as alice with `scope` and `extra` parameters: the token answer.
fn token_answer(p: &MockProvider, scope: &str, extra: &[(&str, &str)]) -> Value {
    let mut params = vec![("scope", scope)];
    params.extend_from_slice(extra);
    let code = code_for(p, "lab-client", &params);
    let answer = exchange(p, &code);
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

/// A JWT's header and claims, decoded (not verified).
fn decode(jwt: &str) -> (Value, Value) {
    let parts: Vec<&str> = jwt.split('.').collect();
    assert_eq!(
        parts.len(),
        3,
        "a JWS in compact form has three parts: {jwt}"
    );
    let part = |s: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("JSON")
    };
    (part(parts[0]), part(parts[1]))
}

/// OpenID Connect Core 1.0 §3.1.3.7 step 6, RFC 7515 §5.2: the signature
/// verifies with the key of the header's `kid` in `jwks`. Returns the kid.
fn verify(jwt: &str, jwks: &Value) -> Result<String, String> {
    let (header, _) = decode(jwt);
    if header["alg"] != "ES256" {
        return Err(format!("alg is {}", header["alg"]));
    }
    let kid = header["kid"].as_str().ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .ok_or_else(|| format!("kid {kid} is not in the JWK Set"))?;
    assert_eq!(
        (&jwk["kty"], &jwk["crv"], &jwk["use"], &jwk["alg"]),
        (
            &Value::from("EC"),
            &Value::from("P-256"),
            &Value::from("sig"),
            &Value::from("ES256")
        )
    );
    let mut point = vec![4u8];
    for c in ["x", "y"] {
        let bytes = URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap();
        assert_eq!(bytes.len(), 32, "RFC 7518 §6.2.1.2: {c} is 32 bytes");
        point.extend(bytes);
    }
    let (input, signature) = jwt.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| e.to_string())?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(input.as_bytes(), &signature)
        .map_err(|_| "the signature does not verify".to_string())?;
    Ok(kid.to_string())
}

fn jwks_of(p: &MockProvider) -> Value {
    let answer = get(&format!("{}/.well-known/jwks.json", p.issuer()), None);
    assert_eq!(answer.status, 200);
    let jwks = answer.json();
    assert_eq!(jwks, p.jwks(), "the Rust API shows the served JWK Set");
    jwks
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

// OpenID Connect Discovery 1.0 §4: the document is at
// {issuer}/.well-known/openid-configuration, its issuer is that issuer, and
// §3: it holds the required fields; it says all the RFC 8414 document says,
// and RFC 8414 §2 gains jwks_uri and userinfo_endpoint.
#[test]
fn discovery_3_4_the_openid_configuration_names_every_required_field() {
    let p = start();
    let issuer = p.issuer();
    assert_eq!(issuer, p.base_url());
    let answer = get(&format!("{issuer}/.well-known/openid-configuration"), None);
    assert_eq!(answer.status, 200);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"))
    );
    let doc = answer.json();
    assert_eq!(doc["issuer"], issuer, "byte for byte, no trailing slash");
    assert_eq!(doc["userinfo_endpoint"], format!("{issuer}/userinfo"));
    assert_eq!(doc["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    let scopes = doc["scopes_supported"].as_array().unwrap();
    for s in ["openid", "profile", "email"] {
        assert!(
            scopes.contains(&Value::from(s)),
            "scopes_supported lacks {s}"
        );
    }
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    let claims = doc["claims_supported"].as_array().unwrap();
    for c in [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "name",
        "preferred_username",
        "email",
        "email_verified",
    ] {
        assert!(
            claims.contains(&Value::from(c)),
            "claims_supported lacks {c}"
        );
    }
    let oauth = get(
        &format!("{issuer}/.well-known/oauth-authorization-server"),
        None,
    )
    .json();
    for (name, value) in oauth.as_object().unwrap() {
        assert_eq!(
            &doc[name], value,
            "{name} differs between the two documents"
        );
    }
    assert_eq!(oauth["jwks_uri"], doc["jwks_uri"]);
    assert_eq!(oauth["userinfo_endpoint"], doc["userinfo_endpoint"]);
    // The JWK Set is where jwks_uri says, one P-256 key with a kid.
    let jwks = get(doc["jwks_uri"].as_str().unwrap(), None).json();
    assert_eq!(kids(&jwks).len(), 1);
    assert_eq!(jwks["keys"][0]["kty"], "EC");
    assert!(jwks["keys"][0].get("d").is_none(), "no private part");
}

// Core §3.1.3.3 and §3.1.3.7 (steps 6, 2, 3): the ID token is a JWS signed
// ES256 with the key its kid names in the JWK Set; its issuer and audience are
// the provider's and the client's.
#[test]
fn core_3_1_3_7_the_id_token_verifies_with_the_published_key() {
    let p = start();
    let answer = token_answer(&p, "openid", &[]);
    let jwt = answer["id_token"].as_str().expect("an id_token");
    let (header, claims) = decode(jwt);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    let kid = verify(jwt, &jwks_of(&p)).expect("verifies");
    assert_eq!(header["kid"], kid.as_str());
    // RFC 7638: the kid is the key's thumbprint, 43 base64url characters.
    assert_eq!(kid.len(), 43);
    assert_eq!(claims["iss"], p.issuer());
    // A changed claim no longer verifies.
    let parts: Vec<&str> = jwt.split('.').collect();
    let mut forged = claims.clone();
    forged["sub"] = Value::from("someone-else");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    assert!(verify(&forged, &jwks_of(&p)).is_err());
    // A token signed by another key does not either.
    let other = mock_provider::SigningKey::generate().sign(&claims);
    assert!(verify(&other, &jwks_of(&p)).is_err());
    // ... and one the provider's key signed does (for suites forging claims).
    let signed = p.sign_id_token(&serde_json::json!({ "aud": "another-client" }));
    verify(&signed, &jwks_of(&p)).expect("signed with the provider's key");
}

// Core §2 (the claims), §3.1.3.6, §5.4 (profile and email claims), §8 (sub):
// iss byte for byte; sub stable and opaque, never the username or email; aud
// and azp the client_id; iat now, exp iat + the token lifetime, auth_time the
// login, by the injected clock.
#[test]
fn core_2_the_id_token_claims() {
    let clock = ManualClock::new();
    let p = start_with_clock(&clock);
    let login = secs(&clock);
    let code = code_for(&p, "lab-client", &[("scope", "openid profile email")]);
    clock.advance(Duration::from_secs(30));
    let answer = exchange(&p, &code).json();
    assert_eq!(answer["scope"], "openid profile email");
    let (_, c) = decode(answer["id_token"].as_str().unwrap());
    let alice = &builtin_users()[0];
    assert_eq!(c["iss"].as_str(), Some(p.issuer()));
    assert!(!c["iss"].as_str().unwrap().ends_with('/'));
    assert_eq!(c["sub"], alice.subject().as_str());
    for personal in ["alice", "alice@example.test", "1"] {
        assert_ne!(c["sub"], personal, "sub is opaque");
    }
    assert_eq!(c["aud"], "lab-client", "aud is the client_id, a string");
    assert_eq!(c["azp"], "lab-client");
    assert_eq!(c["iat"], login + 30);
    assert_eq!(c["exp"], login + 30 + 3600, "exp = iat + --token-ttl");
    assert_eq!(c["auth_time"], login, "when alice logged in");
    assert!(c.get("nonce").is_none(), "no nonce was sent");
    assert_eq!(c["name"], "Alice Liddell");
    assert_eq!(c["preferred_username"], "alice");
    assert_eq!(c["email"], "alice@example.test");
    assert_eq!(c["email_verified"], true);
    // The same user gets the same sub in another flow; bob another.
    let again = token_answer(&p, "openid", &[]);
    let (_, c2) = decode(again["id_token"].as_str().unwrap());
    assert_eq!(c2["sub"], c["sub"]);
    for absent in ["name", "preferred_username", "email", "email_verified"] {
        assert!(c2.get(absent).is_none(), "{absent} without its scope");
    }
    assert_ne!(builtin_users()[1].subject(), alice.subject());
}

// Core §3.1.2.1, §3.1.3.7 step 11: the nonce comes back byte for byte.
#[test]
fn core_3_1_2_1_the_nonce_is_echoed_byte_for_byte() {
    let p = start();
    let answer = token_answer(&p, "openid", &[("nonce", NONCE)]);
    let (_, c) = decode(answer["id_token"].as_str().unwrap());
    assert_eq!(c["nonce"], NONCE);
    let long = "n".repeat(255);
    let answer = token_answer(&p, "openid", &[("nonce", &long)]);
    let (_, c) = decode(answer["id_token"].as_str().unwrap());
    assert_eq!(c["nonce"], long.as_str(), "255 characters are accepted");
}

// Core §3.1.2.1 (and RFC 6749 §4.1.2.1 for the error): a public client asking
// for openid must send a nonce; a nonce over 255 characters is refused; a
// confidential client may leave it out.
#[test]
fn core_3_1_2_1_a_public_client_must_send_a_nonce() {
    let p = start();
    let pkce = [
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    let refused = get(&authorize_url(p.base_url(), "lab-public", &pkce), None);
    assert_eq!(refused.status, 302);
    assert_eq!(
        refused.location_param("error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(refused.location_param("state").as_deref(), Some("st-123"));
    assert!(
        refused
            .location_param("error_description")
            .is_some_and(|d| d.contains("nonce")),
        "{:?}",
        refused.header("location")
    );
    // With a nonce it goes through, and the ID token carries it.
    let with_nonce = [pkce.as_slice(), &[("nonce", NONCE)]].concat();
    let code = code_for(&p, "lab-public", &with_nonce);
    let answer = exchange_public(&p, &code);
    let (_, c) = decode(answer.json()["id_token"].as_str().unwrap());
    assert_eq!(
        (c["nonce"].as_str(), c["aud"].as_str()),
        (Some(NONCE), Some("lab-public"))
    );
    // Without openid, lab-public needs no nonce.
    code_for(&p, "lab-public", &pkce[1..]);
    // Too long, for any client.
    let long = "n".repeat(256);
    let refused = get(
        &authorize_url(
            p.base_url(),
            "lab-client",
            &[("scope", "openid"), ("nonce", &long)],
        ),
        None,
    );
    assert_eq!(
        refused.location_param("error").as_deref(),
        Some("invalid_request")
    );
}

// Core §3.1.2.1: an ID token only for scope openid.
#[test]
fn core_3_1_2_1_no_id_token_without_openid() {
    let p = start();
    let answer = token_answer(&p, "profile email", &[("nonce", NONCE)]);
    assert!(answer.get("id_token").is_none(), "{answer}");
    assert!(answer.get("access_token").is_some());
}

// Core §5.3.1–5.3.2: /userinfo answers the sub of the ID token and the claims
// of the token's scope, by GET and POST, never cached; §5.3.3 and RFC 6750
// §3.1: without a token 401 with a challenge, without openid 403
// insufficient_scope.
#[test]
fn core_5_3_userinfo_answers_the_id_token_sub() {
    let p = start();
    let url = format!("{}/userinfo", p.issuer());
    let answer = token_answer(&p, "openid email", &[]);
    let (_, c) = decode(answer["id_token"].as_str().unwrap());
    let access = answer["access_token"].as_str().unwrap();
    let info = get(&url, Some(access));
    assert_eq!(info.status, 200, "{}", info.body);
    assert_eq!(info.header("cache-control"), Some("no-store"));
    let claims = info.json();
    assert_eq!(claims["sub"], c["sub"]);
    assert_eq!(claims["email"], "alice@example.test");
    assert_eq!(claims["email_verified"], true);
    assert!(claims.get("name").is_none(), "no profile scope");
    let posted = agent()
        .post(&url)
        .header("Authorization", &format!("Bearer {access}"))
        .send("")
        .unwrap();
    assert_eq!(posted.status(), 200);

    let none = get(&url, None);
    assert_eq!(none.status, 401);
    assert!(
        none.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer realm="))
    );
    let bad = get(&url, Some("lab_at_not-a-real-token"));
    assert_eq!(bad.status, 401);
    assert!(
        bad.header("www-authenticate")
            .is_some_and(|h| h.contains("error=\"invalid_token\""))
    );
    let (plain, _) = tokens(&p);
    let refused = get(&url, Some(&plain));
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error(), "insufficient_scope");
    assert!(refused.header("www-authenticate").is_some_and(|h| {
        h.contains("error=\"insufficient_scope\"") && h.contains("scope=\"openid\"")
    }));
    assert_eq!(refused.header("cache-control"), Some("no-store"));
}

// Core §12.2: a refresh of an openid grant gives a new ID token with the same
// iss, sub, aud and auth_time, a new iat and exp, and no nonce (§12.2 lets it
// be left out; it belongs to the authorization request).
#[test]
fn core_12_2_a_refresh_gives_a_new_id_token() {
    let clock = ManualClock::new();
    let p = start_with_clock(&clock);
    let first = token_answer(&p, "openid profile", &[("nonce", NONCE)]);
    let (_, before) = decode(first["id_token"].as_str().unwrap());
    clock.advance(Duration::from_secs(600));
    let refreshed = post_form(
        &format!("{}/token", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ],
    );
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let jwt = refreshed.json()["id_token"]
        .as_str()
        .expect("a new id_token")
        .to_string();
    verify(&jwt, &jwks_of(&p)).expect("verifies");
    let (_, after) = decode(&jwt);
    for same in ["iss", "sub", "aud", "azp", "auth_time", "name"] {
        assert_eq!(after[same], before[same], "{same} stays");
    }
    assert_eq!(after["iat"], before["iat"].as_u64().unwrap() + 600);
    assert_eq!(after["exp"], before["exp"].as_u64().unwrap() + 600);
    assert!(after.get("nonce").is_none(), "{after}");
    // A refresh narrowed to a scope without openid gets none.
    let narrowed = post_form(
        &format!("{}/token", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                refreshed.json()["refresh_token"].as_str().unwrap(),
            ),
            ("scope", "profile"),
        ],
    );
    assert_eq!(narrowed.status, 200, "{}", narrowed.body);
    assert!(narrowed.json().get("id_token").is_none());
}

// RFC 7517 §5 and Core §10.1.1 (rotation of signing keys): with
// `rotate_keys`, a new key signs each period by the injected clock; the
// previous one stays in the JWK Set one more period, so tokens it signed
// still verify; then it is gone.
#[test]
fn core_10_1_1_keys_rotate_by_the_injected_clock() {
    let clock = ManualClock::new();
    let p = MockProvider::start(Config {
        rotate_keys: Some(Duration::from_secs(600)),
        ..Config::default().with_clock(clock.clone())
    })
    .unwrap();
    let old = token_answer(&p, "openid", &[])["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    let k1 = verify(&old, &jwks_of(&p)).unwrap();
    assert_eq!(kids(&jwks_of(&p)), [k1.as_str()]);
    clock.advance(Duration::from_secs(599));
    assert_eq!(kids(&jwks_of(&p)), [k1.as_str()], "not yet a period");
    clock.advance(Duration::from_secs(1));
    let new = token_answer(&p, "openid", &[])["id_token"]
        .as_str()
        .unwrap()
        .to_string();
    let k2 = verify(&new, &jwks_of(&p)).unwrap();
    assert_ne!(k2, k1, "a new period signs with a new key");
    assert_eq!(kids(&jwks_of(&p)), [k2.clone(), k1.clone()], "newest first");
    verify(&old, &jwks_of(&p)).expect("the previous key still verifies");
    clock.advance(Duration::from_secs(600));
    let jwks = jwks_of(&p);
    assert_eq!(kids(&jwks).len(), 2);
    assert_eq!(kids(&jwks)[1], k2);
    assert!(
        verify(&old, &jwks).is_err(),
        "two periods on, the first key is gone"
    );
    // Without the setting, one key for the provider's life; rotate_keys() forces one.
    let still = start_with_clock(&clock);
    let k = kids(&jwks_of(&still));
    clock.advance(Duration::from_secs(365 * 24 * 3600));
    assert_eq!(kids(&jwks_of(&still)), k);
    let forced = still.rotate_keys();
    assert_eq!(kids(&jwks_of(&still)), [forced, k[0].clone()]);
}

// The trace, the inspector and its events show ID tokens shortened, as every
// other secret (ARCHITECTURE.md, "No secret is printed whole").
#[test]
fn id_tokens_are_shortened_in_the_trace_and_the_inspector() {
    let p = start();
    let first = token_answer(&p, "openid profile email", &[("nonce", NONCE)]);
    let refreshed = post_form(
        &format!("{}/token", p.base_url()),
        Some(("lab-client", "lab-secret")),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ],
    )
    .json();
    get(
        &format!("{}/userinfo", p.issuer()),
        Some(first["access_token"].as_str().unwrap()),
    );
    let mut shown = vec![
        get(&format!("{}/_lab", p.base_url()), None).body,
        get(&format!("{}/_lab/events", p.base_url()), None).body,
    ];
    shown.extend(p.events().iter().map(|e| e.line()));
    let all = shown.join("\n");
    assert!(all.contains("ID token eyJ"), "the trace names the ID token");
    for answer in [&first, &refreshed] {
        let jwt = answer["id_token"].as_str().unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        // The header is public (alg, typ, kid); no 16 characters in a row of
        // the claims or the signature are shown.
        for secret in [parts[1], parts[2]] {
            let bytes = secret.as_bytes();
            for run in bytes.windows(16) {
                let run = std::str::from_utf8(run).unwrap();
                assert!(!all.contains(run), "a part of an ID token is shown: {run}");
            }
        }
    }
    assert!(!all.contains(NONCE), "the nonce is shortened like state");
}
