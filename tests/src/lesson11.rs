//! Lesson 11 — Who is this? (OpenID Connect Core 1.0 §2, §3.1.3.7, §5.7;
//! RFC 7515, RFC 7517, RFC 7518, RFC 8725).
//!
//! The suite plays its own small OpenID Provider on 127.0.0.1 (a discovery
//! document, a key set, a token endpoint), mints ID tokens with ring, and
//! plays the attacker: `alg` none, HS256 keyed with the public key, another
//! key under the same `kid`, claims for someone else, stale tokens, replayed
//! nonces, rotated keys. Time is injected: every check runs at [`NOW`].
//!
//! The lesson's types belong to its crate, so the suite reaches them through
//! the [`Lesson`] trait, which [`lesson11_suite!`](crate::lesson11_suite)
//! implements for each crate.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use labkit::{Client, Secret};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};

#[doc(hidden)]
pub use labkit as __labkit;
#[doc(hidden)]
pub use serde_json as __serde_json;

/// The client the suite's provider issues tokens to.
pub const CLIENT: &str = "lab-public";
/// The nonce of "this" request.
pub const NONCE: &str = "n-0S6_WzA2Mj";
/// The injected clock: every check runs at this moment.
pub const NOW: u64 = 1_800_000_000;
const REDIRECT: &str = "http://127.0.0.1:8123/callback";

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

/// What the program expects, as the lesson's `Expected` has it.
#[derive(Clone, Debug)]
pub struct Expected {
    pub issuer: String,
    pub client_id: String,
    pub nonce: String,
    pub algorithms: Vec<String>,
}

/// Why the lesson refused a token, copied out of its `IdTokenError`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Malformed,
    Algorithm,
    UnknownKey,
    Jwks,
    Signature,
    Claim(&'static str),
}

/// A refusal and how the lesson shows it (`Display` and `Debug`).
#[derive(Clone, Debug)]
pub struct Refused {
    pub why: Refusal,
    pub shown: String,
}

/// An accepted token: who it names.
#[derive(Clone, Debug)]
pub struct Verified {
    pub iss: String,
    pub sub: String,
    pub email: Option<String>,
}

/// What the suite needs of a lesson 11 crate.
pub trait Lesson {
    type Keys;
    fn keys(jwks_uri: &str) -> Self::Keys;
    fn verify(
        token: &str,
        expected: &Expected,
        keys: &mut Self::Keys,
        now: SystemTime,
    ) -> Result<Verified, Refused>;
    /// The file key for these claims (a JSON object of claims).
    fn person_key(claims: &Value) -> String;
    /// The discovery document: issuer, jwks_uri, announced algorithms.
    fn discover(issuer: &str) -> Result<(String, String, Vec<String>), String>;
    /// The code exchange: the ID token, and the answer's `Debug`.
    fn exchange(
        client: &Client,
        code: &Secret,
        redirect_uri: &str,
        verifier: &Secret,
    ) -> Result<(Option<Secret>, String), String>;
    fn authorization_url(
        client: &Client,
        redirect_uri: &str,
        state: &str,
        challenge: &str,
        nonce: &str,
    ) -> String;
}

// --- Keys and tokens ------------------------------------------------------------

/// An ES256 key pair with its `kid` (RFC 7518 §3.4), made with ring.
pub struct Signer {
    pub kid: String,
    pair: EcdsaKeyPair,
}

impl Signer {
    pub fn new(kid: &str) -> Signer {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("ring makes a P-256 key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("ring reads its own key");
        Signer {
            kid: kid.to_string(),
            pair,
        }
    }

    /// The public point 0x04‖x‖y.
    pub fn public_point(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The public key as a JWK (RFC 7517 §4, RFC 7518 §6.2.1).
    pub fn jwk(&self) -> Value {
        let point = self.public_point();
        json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            "kid": self.kid, "use": "sig", "alg": "ES256",
        })
    }

    /// A JWS in compact form, ES256, with this key's `kid` (or `header` as given).
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": "ES256", "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }

    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = signing_input(header, claims);
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("ring signs");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// The claims a good token from `issuer` carries (OpenID Connect Core §2).
pub fn good_claims(issuer: &str) -> Value {
    json!({
        "iss": issuer, "sub": "u-7f3a9c0e", "aud": CLIENT, "azp": CLIENT,
        "exp": NOW + 300, "iat": NOW - 5, "auth_time": NOW - 5, "nonce": NONCE,
        "name": "Alice Liddell", "preferred_username": "alice",
        "email": "alice@example.com", "email_verified": true,
    })
}

fn with(mut claims: Value, changes: Value) -> Value {
    for (name, value) in changes.as_object().expect("an object") {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

// --- The suite's OpenID Provider --------------------------------------------------

/// A small OpenID Provider on 127.0.0.1: discovery, a key set the check can
/// change (rotation), a token endpoint with a canned answer. Counts key set
/// fetches.
pub struct FakeOp {
    pub issuer: String,
    jwks: Arc<Mutex<Vec<Value>>>,
    fetches: Arc<AtomicUsize>,
    token_answer: Arc<Mutex<String>>,
    _server: Arc<tiny_http::Server>,
}

impl FakeOp {
    /// `announced_issuer`: what the discovery document says (normally its own URL).
    pub fn start(keys: &[&Signer], announced_issuer: Option<&str>) -> FakeOp {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a loopback port"));
        let issuer = format!("http://127.0.0.1:{}", labkit::port_of(&server));
        let jwks = Arc::new(Mutex::new(keys.iter().map(|k| k.jwk()).collect()));
        let fetches = Arc::new(AtomicUsize::new(0));
        let token_answer = Arc::new(Mutex::new(String::new()));
        let discovery = json!({
            "issuer": announced_issuer.unwrap_or(&issuer),
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "userinfo_endpoint": format!("{issuer}/userinfo"),
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile", "email"],
        })
        .to_string();
        let (srv, set, count, answer) = (
            server.clone(),
            jwks.clone(),
            fetches.clone(),
            token_answer.clone(),
        );
        std::thread::spawn(move || {
            while let Ok(mut request) = srv.recv() {
                let mut body = String::new();
                let _ = std::io::Read::read_to_string(request.as_reader(), &mut body);
                let path = request.url().split('?').next().unwrap_or("").to_string();
                let (status, text) = match path.as_str() {
                    "/.well-known/openid-configuration" => (200, discovery.clone()),
                    "/.well-known/jwks.json" => {
                        count.fetch_add(1, Ordering::SeqCst);
                        (200, json!({ "keys": *set.lock().unwrap() }).to_string())
                    }
                    "/token" => (200, answer.lock().unwrap().clone()),
                    _ => (404, r#"{"error":"not_found"}"#.to_string()),
                };
                let header = tiny_http::Header::from_bytes("Content-Type", "application/json")
                    .expect("a valid header");
                let _ = request.respond(
                    tiny_http::Response::from_string(text)
                        .with_status_code(status)
                        .with_header(header),
                );
            }
        });
        FakeOp {
            issuer,
            jwks,
            fetches,
            token_answer,
            _server: server,
        }
    }

    pub fn jwks_uri(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }

    /// Replaces the key set (a rotation).
    pub fn publish(&self, keys: &[&Signer]) {
        *self.jwks.lock().unwrap() = keys.iter().map(|k| k.jwk()).collect();
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }

    pub fn answer_tokens_with(&self, body: &Value) {
        *self.token_answer.lock().unwrap() = body.to_string();
    }

    pub fn expected(&self) -> Expected {
        Expected {
            issuer: self.issuer.clone(),
            client_id: CLIENT.into(),
            nonce: NONCE.into(),
            algorithms: vec!["ES256".into()],
        }
    }
}

/// One provider with one key, and the lesson's key set for it.
fn setup<L: Lesson>() -> (Signer, FakeOp, L::Keys) {
    let key = Signer::new("k1");
    let op = FakeOp::start(&[&key], None);
    let keys = L::keys(&op.jwks_uri());
    (key, op, keys)
}

fn accepted<L: Lesson>(token: &str, op: &FakeOp, keys: &mut L::Keys, what: &str) -> Verified {
    L::verify(token, &op.expected(), keys, now())
        .unwrap_or_else(|e| panic!("{what}: a good token was refused: {}", e.shown))
}

fn refused<L: Lesson>(
    token: &str,
    expected: &Expected,
    keys: &mut L::Keys,
    why: Refusal,
    what: &str,
) {
    match L::verify(token, expected, keys, now()) {
        Ok(v) => panic!(
            "{what}: the token was accepted (sub {:?}), and must be refused",
            v.sub
        ),
        Err(e) => assert_eq!(
            e.why, why,
            "{what}: refused, but for the wrong reason ({}); expected {why:?}",
            e.shown
        ),
    }
}

// --- The checks ----------------------------------------------------------------

/// OpenID Connect Core §3.1.3.7, and Discovery §4: the discovery document
/// names the key set; a good token from the token endpoint is accepted and
/// names its `sub`; the key set was fetched once.
pub fn good_token_is_accepted<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    let (issuer, jwks_uri, algorithms) =
        L::discover(&op.issuer).unwrap_or_else(|e| panic!("discovery failed: {e}"));
    assert_eq!(
        (issuer.as_str(), jwks_uri),
        (op.issuer.as_str(), op.jwks_uri())
    );
    assert_eq!(algorithms, ["ES256"]);
    op.answer_tokens_with(&json!({
        "access_token": "at-1", "token_type": "Bearer", "expires_in": 300,
        "id_token": key.sign(&good_claims(&op.issuer)),
    }));
    let client = Client {
        client_id: CLIENT.into(),
        client_secret: None,
        ..crate::support::client_at(&op.issuer)
    };
    let (id_token, _) = L::exchange(&client, &Secret::new("c"), REDIRECT, &Secret::new("v"))
        .unwrap_or_else(|e| panic!("the token answer was refused: {e}"));
    let id_token = id_token.expect("the token answer's id_token is kept");
    let who = accepted::<L>(id_token.expose(), &op, &mut keys, "a good token");
    assert_eq!(who.sub, "u-7f3a9c0e");
    assert_eq!(who.iss, op.issuer);
    assert_eq!(who.email.as_deref(), Some("alice@example.com"));
    assert_eq!(
        op.fetches(),
        1,
        "the key set is fetched once, for the first token"
    );
    accepted::<L>(
        &key.sign(&good_claims(&op.issuer)),
        &op,
        &mut keys,
        "a second token",
    );
    assert_eq!(op.fetches(), 1, "a known kid needs no new fetch");
}

/// OpenID Connect Discovery §4.3: the document must name the issuer it was
/// fetched for; else whoever serves it could speak for another provider.
pub fn discovery_for_another_issuer_is_refused<L: Lesson>() {
    let key = Signer::new("k1");
    let op = FakeOp::start(&[&key], Some("https://provider.example"));
    if let Ok((issuer, _, _)) = L::discover(&op.issuer) {
        panic!(
            "the discovery document names {issuer:?}, not {:?}: refuse it",
            op.issuer
        );
    }
}

/// RFC 7515 §7.1: a JWS in compact form is three base64url parts.
pub fn malformed_tokens_are_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    let good = key.sign(&good_claims(&op.issuer));
    let parts: Vec<&str> = good.split('.').collect();
    for (token, what) in [
        (format!("{}.{}", parts[0], parts[1]), "two parts"),
        (format!("{good}.{}", parts[2]), "four parts"),
        (
            format!("{}.{}!.{}", parts[0], parts[1], parts[2]),
            "claims not base64url",
        ),
        (
            format!(
                "{}.{}.{}",
                parts[0],
                URL_SAFE_NO_PAD.encode("not json"),
                parts[2]
            ),
            "claims not JSON",
        ),
    ] {
        refused::<L>(&token, &op.expected(), &mut keys, Refusal::Malformed, what);
    }
}

/// RFC 8725 §3.1, RFC 7518 §3.6: `alg` "none" has no signature; accepting it
/// lets anyone write any claims.
pub fn alg_none_is_refused<L: Lesson>() {
    let (_, op, mut keys) = setup::<L>();
    let token = format!(
        "{}.",
        signing_input(
            &json!({"alg": "none", "kid": "k1"}),
            &good_claims(&op.issuer)
        )
    );
    refused::<L>(
        &token,
        &op.expected(),
        &mut keys,
        Refusal::Algorithm,
        "alg none",
    );
    let mut expected = op.expected();
    expected.algorithms.push("none".into());
    refused::<L>(
        &token,
        &expected,
        &mut keys,
        Refusal::Algorithm,
        "alg none, even announced",
    );
}

/// RFC 8725 §2.1 and §3.1: HS256 keyed with the provider's *public* key (which
/// anyone can fetch) must be refused by its `alg`, before any key is used.
pub fn hs256_keyed_with_the_public_key_is_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    let jwk = key.jwk().to_string();
    for (secret, what) in [
        (
            key.public_point().to_vec(),
            "HS256 keyed with the point 0x04‖x‖y",
        ),
        (jwk.into_bytes(), "HS256 keyed with the JWK's JSON"),
    ] {
        let input = signing_input(
            &json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}),
            &good_claims(&op.issuer),
        );
        let mac = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
        refused::<L>(&token, &op.expected(), &mut keys, Refusal::Algorithm, what);
    }
}

/// RFC 7515 §5.2: a token signed by another key under the provider's `kid`,
/// or a good token with its claims changed, fails the signature.
pub fn another_keys_signature_is_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    let attacker = Signer::new("k1");
    refused::<L>(
        &attacker.sign(&good_claims(&op.issuer)),
        &op.expected(),
        &mut keys,
        Refusal::Signature,
        "signed by the attacker's key, kid k1",
    );
    let good = key.sign(&good_claims(&op.issuer));
    let parts: Vec<&str> = good.split('.').collect();
    let changed = with(good_claims(&op.issuer), json!({"sub": "u-someone-else"}));
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(changed.to_string()),
        parts[2]
    );
    refused::<L>(
        &forged,
        &op.expected(),
        &mut keys,
        Refusal::Signature,
        "a good signature over other claims",
    );
}

/// OpenID Connect Core §10.1.1, RFC 7517 §4.5: a new `kid` after a rotation
/// fetches the key set once more and is accepted; a `kid` the provider does
/// not have fetches it once more and is refused; a known `kid` fetches nothing.
pub fn unknown_kid_fetches_the_key_set_once_more<L: Lesson>() {
    let (old, op, mut keys) = setup::<L>();
    accepted::<L>(
        &old.sign(&good_claims(&op.issuer)),
        &op,
        &mut keys,
        "the first key",
    );
    assert_eq!(op.fetches(), 1);
    let new = Signer::new("k2");
    op.publish(&[&new, &old]);
    accepted::<L>(
        &new.sign(&good_claims(&op.issuer)),
        &op,
        &mut keys,
        "a token signed with the rotated-in key k2",
    );
    assert_eq!(
        op.fetches(),
        2,
        "the unknown kid k2 fetches the key set once more"
    );
    let stranger = Signer::new("k9");
    refused::<L>(
        &stranger.sign(&good_claims(&op.issuer)),
        &op.expected(),
        &mut keys,
        Refusal::UnknownKey,
        "kid k9, which the provider does not have",
    );
    assert_eq!(
        op.fetches(),
        3,
        "an unknown kid fetches the key set exactly once more, then gives up"
    );
    accepted::<L>(
        &old.sign(&good_claims(&op.issuer)),
        &op,
        &mut keys,
        "the old key, still published",
    );
    assert_eq!(op.fetches(), 3, "a known kid fetches nothing");
}

/// OpenID Connect Core §3.1.3.7 item 2: `iss` exactly the provider's issuer.
pub fn wrong_issuer_is_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    for iss in [
        "https://attacker.example".to_string(),
        format!("{}/", op.issuer),
        op.issuer.replace("127.0.0.1", "localhost"),
    ] {
        let token = key.sign(&with(good_claims(&op.issuer), json!({ "iss": iss })));
        refused::<L>(
            &token,
            &op.expected(),
            &mut keys,
            Refusal::Claim("iss"),
            &iss,
        );
    }
}

/// OpenID Connect Core §3.1.3.7 item 3: our client id must be among `aud`: a
/// token made for another app must not sign anyone in here.
pub fn wrong_audience_is_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    for aud in [
        json!("another-app"),
        json!(["another-app"]),
        json!("lab-public2"),
    ] {
        let token = key.sign(&with(
            good_claims(&op.issuer),
            json!({ "aud": aud, "azp": null }),
        ));
        refused::<L>(
            &token,
            &op.expected(),
            &mut keys,
            Refusal::Claim("aud"),
            &format!("aud {aud}"),
        );
    }
    let listed = key.sign(&with(good_claims(&op.issuer), json!({ "aud": [CLIENT] })));
    accepted::<L>(&listed, &op, &mut keys, "aud as a list of one");
}

/// OpenID Connect Core §3.1.3.7 items 4–5: with several audiences, or any
/// `azp`, `azp` must be our client id.
pub fn azp_mismatch_is_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    for (aud, azp, what) in [
        (
            json!([CLIENT, "other-app"]),
            json!("other-app"),
            "azp the other audience",
        ),
        (
            json!([CLIENT, "other-app"]),
            json!(null),
            "several audiences, no azp",
        ),
        (
            json!(CLIENT),
            json!("other-app"),
            "one audience, azp another client",
        ),
    ] {
        let token = key.sign(&with(
            good_claims(&op.issuer),
            json!({ "aud": aud, "azp": azp }),
        ));
        refused::<L>(
            &token,
            &op.expected(),
            &mut keys,
            Refusal::Claim("azp"),
            what,
        );
    }
    let both = key.sign(&with(
        good_claims(&op.issuer),
        json!({ "aud": [CLIENT, "other-app"], "azp": CLIENT }),
    ));
    accepted::<L>(&both, &op, &mut keys, "several audiences, azp ours");
    let plain = key.sign(&with(good_claims(&op.issuer), json!({ "azp": null })));
    accepted::<L>(&plain, &op, &mut keys, "one audience, no azp");
}

/// OpenID Connect Core §3.1.3.7 item 9: refused once expired, with at most a
/// small allowance (60 s) for clocks that disagree.
pub fn expired_token_is_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    for exp in [NOW - 3600, NOW - 61] {
        let token = key.sign(&with(
            good_claims(&op.issuer),
            json!({ "exp": exp, "iat": exp - 300 }),
        ));
        refused::<L>(
            &token,
            &op.expected(),
            &mut keys,
            Refusal::Claim("exp"),
            &format!("expired {} s ago", NOW - exp),
        );
    }
    let late = key.sign(&with(good_claims(&op.issuer), json!({ "exp": NOW - 20 })));
    accepted::<L>(
        &late,
        &op,
        &mut keys,
        "expired 20 s ago, within the allowance",
    );
}

/// OpenID Connect Core §3.1.3.7 item 10: a token issued far in the future
/// (a wrong clock, or a token made to last) is refused.
pub fn iat_far_in_the_future_is_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    let token = key.sign(&with(
        good_claims(&op.issuer),
        json!({ "iat": NOW + 3600, "exp": NOW + 7200 }),
    ));
    refused::<L>(
        &token,
        &op.expected(),
        &mut keys,
        Refusal::Claim("iat"),
        "issued an hour from now",
    );
    let soon = key.sign(&with(good_claims(&op.issuer), json!({ "iat": NOW + 20 })));
    accepted::<L>(
        &soon,
        &op,
        &mut keys,
        "issued 20 s from now, within the allowance",
    );
}

/// OpenID Connect Core §3.1.3.7 item 11, §15.5.2: the nonce must be this
/// request's. A token from an earlier sign-in (replayed, or injected by an
/// attacker) carries another nonce, or none.
pub fn replayed_nonce_is_refused<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    for (nonce, what) in [
        (
            json!("n-from-an-earlier-sign-in"),
            "the nonce of an earlier request",
        ),
        (json!(null), "no nonce"),
        (json!(""), "an empty nonce"),
    ] {
        let token = key.sign(&with(good_claims(&op.issuer), json!({ "nonce": nonce })));
        refused::<L>(
            &token,
            &op.expected(),
            &mut keys,
            Refusal::Claim("nonce"),
            what,
        );
    }
}

/// OpenID Connect Core §5.7: only `iss` and `sub` together name a person for
/// good; the email can change or pass to someone else. The key is safe as a
/// file name.
pub fn posts_are_filed_under_sub<L: Lesson>() {
    let issuer = "https://provider.example";
    let alice = good_claims(issuer);
    let key = L::person_key(&alice);
    assert!(
        !key.is_empty()
            && key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "the key is a file name: letters, digits, - and _ only, got {key:?}"
    );
    assert!(
        !key.contains("alice") && !key.contains("example"),
        "the key must not be made from the email: {key:?}"
    );
    let renamed = with(
        alice.clone(),
        json!({"email": "a.liddell@example.org", "name": "Alice L.", "preferred_username": "al"}),
    );
    assert_eq!(
        L::person_key(&renamed),
        key,
        "the same sub with a new email and name is the same person"
    );
    let someone_else = with(alice.clone(), json!({ "sub": "u-0000beef" }));
    assert_ne!(
        L::person_key(&someone_else),
        key,
        "another sub with the same email is another person (emails are reassigned)"
    );
    let other_issuer = with(alice, json!({ "iss": "https://other.example" }));
    assert_ne!(
        L::person_key(&other_issuer),
        key,
        "the same sub at another issuer is another person"
    );
}

/// The ID token is a secret: no refusal message, no `Debug`, shows it whole,
/// nor its signature.
pub fn the_id_token_is_never_shown_whole<L: Lesson>() {
    let (key, op, mut keys) = setup::<L>();
    let token = key.sign(&with(
        good_claims(&op.issuer),
        json!({ "aud": "another-app" }),
    ));
    let signature = token.rsplit('.').next().unwrap().to_string();
    let parts: Vec<&str> = token.split('.').collect();
    let unreadable = format!(
        "{}.{}.{signature}",
        parts[0],
        URL_SAFE_NO_PAD.encode(format!(r#"{{"iss":"{}","exp":"{token}"}}"#, op.issuer))
    );
    for (bad, what) in [
        (token.clone(), "a token for another app"),
        (
            format!("{}.{}.{}", parts[0], parts[1], &signature[2..]),
            "a cut signature",
        ),
        (unreadable, "claims that are not a JWT's (the token inside)"),
    ] {
        let Err(refusal) = L::verify(&bad, &op.expected(), &mut keys, now()) else {
            panic!("{what}: accepted");
        };
        assert!(
            !refusal.shown.contains(&token) && !refusal.shown.contains(&signature[2..]),
            "{what}: the refusal shows the ID token: {}",
            refusal.shown
        );
    }
    op.answer_tokens_with(&json!({
        "access_token": "at-1", "token_type": "Bearer", "id_token": token,
    }));
    let client = Client {
        client_id: CLIENT.into(),
        client_secret: None,
        ..crate::support::client_at(&op.issuer)
    };
    let (_, debug) = L::exchange(&client, &Secret::new("c"), REDIRECT, &Secret::new("v"))
        .unwrap_or_else(|e| panic!("the token answer was refused: {e}"));
    assert!(
        !debug.contains(&signature),
        "the token answer's Debug shows the ID token: {debug}"
    );
}

/// Signs alice in at the mock provider with `openid profile email` and this
/// nonce, and returns the ID token of the token answer.
fn mock_sign_in<L: Lesson>(
    p: &mock_provider::MockProvider,
    client: &Client,
    nonce: &str,
) -> Secret {
    let verifier = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    // RFC 7636 Appendix B: the S256 challenge of that verifier.
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let url = L::authorization_url(client, REDIRECT, "st4te", challenge, nonce);
    let redirect = p
        .resource_owner("alice")
        .approve(&url)
        .unwrap_or_else(|e| panic!("alice could not approve {url}: {e}"));
    let code = Secret::new(redirect.param("code").expect("the redirect carries a code"));
    let (id_token, _) = L::exchange(client, &code, REDIRECT, &verifier)
        .unwrap_or_else(|e| panic!("the code exchange failed: {e}"));
    id_token.expect("with openid, the token answer has an id_token")
}

/// OpenID Connect Core §3.1.2.1 and §3.1.3.7, against the mock provider: a
/// sign-in with `openid profile email` and a nonce gives an ID token that
/// verifies, whose `sub` is not the email; after the provider rotates its key
/// (§10.1.1), the next token verifies with the key set fetched once more.
pub fn mock_provider_id_token_is_verified<L: Lesson>() {
    let p = crate::support::provider();
    let (issuer, jwks_uri, algorithms) = L::discover(p.base_url())
        .unwrap_or_else(|e| panic!("the mock provider's discovery document: {e}"));
    let client = Client {
        scope: "openid profile email".into(),
        ..crate::support::public_client_for(&p)
    };
    let mut keys = L::keys(&jwks_uri);
    let mut verify = |nonce: &str, what: &str| {
        let id_token = mock_sign_in::<L>(&p, &client, nonce);
        let expected = Expected {
            issuer: issuer.clone(),
            client_id: CLIENT.into(),
            nonce: nonce.into(),
            algorithms: algorithms.clone(),
        };
        L::verify(id_token.expose(), &expected, &mut keys, SystemTime::now()).unwrap_or_else(|e| {
            panic!(
                "{what}: the mock provider's ID token was refused: {}",
                e.shown
            )
        })
    };
    let who = verify("n-mock-e2e-4f1c", "the first sign-in");
    assert_eq!(who.iss, issuer);
    let users = mock_provider::builtin_users();
    let alice = users
        .iter()
        .find(|u| u.username == "alice")
        .expect("alice is a built-in user");
    assert_eq!(who.email.as_deref(), Some(alice.email.as_str()));
    assert!(
        !who.sub.is_empty() && who.sub != alice.email && !who.sub.contains('@'),
        "sub is opaque, not the email: {:?}",
        who.sub
    );
    p.rotate_keys();
    let again = verify("n-mock-e2e-77aa", "the sign-in after a key rotation");
    assert_eq!(
        again.sub, who.sub,
        "sub is stable (OpenID Connect Core §5.7)"
    );
}

#[doc(hidden)]
#[macro_export]
macro_rules! lesson11_impl {
    ($k:ident) => {
        struct Lesson11Crate;
        impl $crate::lesson11::Lesson for Lesson11Crate {
            type Keys = $k::Keys;
            fn keys(jwks_uri: &str) -> $k::Keys {
                $k::Keys::new(jwks_uri)
            }
            fn verify(
                token: &str,
                e: &$crate::lesson11::Expected,
                keys: &mut $k::Keys,
                now: ::std::time::SystemTime,
            ) -> Result<$crate::lesson11::Verified, $crate::lesson11::Refused> {
                use $crate::lesson11::Refusal;
                let expected = $k::Expected {
                    issuer: e.issuer.clone(),
                    client_id: e.client_id.clone(),
                    nonce: e.nonce.clone(),
                    algorithms: e.algorithms.clone(),
                };
                match $k::verify_id_token(
                    &$crate::lesson11::__labkit::Secret::new(token),
                    &expected,
                    keys,
                    now,
                ) {
                    Ok(claims) => Ok($crate::lesson11::Verified {
                        iss: claims.iss,
                        sub: claims.sub,
                        email: claims.email,
                    }),
                    Err(error) => Err($crate::lesson11::Refused {
                        shown: format!("{error} {error:?}"),
                        why: match error {
                            $k::IdTokenError::Malformed(_) => Refusal::Malformed,
                            $k::IdTokenError::Algorithm(_) => Refusal::Algorithm,
                            $k::IdTokenError::UnknownKey(_) => Refusal::UnknownKey,
                            $k::IdTokenError::Jwks(_) => Refusal::Jwks,
                            $k::IdTokenError::Signature => Refusal::Signature,
                            $k::IdTokenError::Claim { claim, .. } => Refusal::Claim(claim),
                        },
                    }),
                }
            }
            fn person_key(claims: &$crate::lesson11::__serde_json::Value) -> String {
                let claims: $k::Claims = $crate::lesson11::__serde_json::from_value(claims.clone())
                    .expect("the suite's claims fit the lesson's Claims");
                $k::person_key(&claims)
            }
            fn discover(issuer: &str) -> Result<(String, String, Vec<String>), String> {
                $k::discover(issuer)
                    .map(|d| {
                        (
                            d.issuer,
                            d.jwks_uri,
                            d.id_token_signing_alg_values_supported,
                        )
                    })
                    .map_err(|e| e.0)
            }
            fn exchange(
                client: &$crate::lesson11::__labkit::Client,
                code: &$crate::lesson11::__labkit::Secret,
                redirect_uri: &str,
                verifier: &$crate::lesson11::__labkit::Secret,
            ) -> Result<(Option<$crate::lesson11::__labkit::Secret>, String), String> {
                $k::exchange_code(client, code, redirect_uri, verifier)
                    .map(|answer| {
                        let debug = format!("{answer:?}");
                        (answer.id_token, debug)
                    })
                    .map_err(|e| e.to_string())
            }
            fn authorization_url(
                client: &$crate::lesson11::__labkit::Client,
                redirect_uri: &str,
                state: &str,
                challenge: &str,
                nonce: &str,
            ) -> String {
                $k::authorization_url(client, redirect_uri, state, challenge, nonce)
            }
        }
    };
}

/// `lesson11_suite!(lesson11)`: the checks as tests.
#[macro_export]
macro_rules! lesson11_suite {
    ($k:ident) => { $crate::lesson11_suite!(tests, $k); };
    (tests, $k:ident) => {
        $crate::lesson11_impl!($k);
        $crate::lesson11_suite!(@checks tests, $k);
    };
    (list, $k:ident) => {{
        $crate::lesson11_impl!($k);
        $crate::lesson11_suite!(@checks list, $k)
    }};
    (@checks $mode:ident, $k:ident) => {
        $crate::suite! { $mode;
            good_token_is_accepted => $crate::lesson11::good_token_is_accepted::<Lesson11Crate>();
            discovery_for_another_issuer_is_refused => $crate::lesson11::discovery_for_another_issuer_is_refused::<Lesson11Crate>();
            malformed_tokens_are_refused => $crate::lesson11::malformed_tokens_are_refused::<Lesson11Crate>();
            alg_none_is_refused => $crate::lesson11::alg_none_is_refused::<Lesson11Crate>();
            hs256_keyed_with_the_public_key_is_refused => $crate::lesson11::hs256_keyed_with_the_public_key_is_refused::<Lesson11Crate>();
            another_keys_signature_is_refused => $crate::lesson11::another_keys_signature_is_refused::<Lesson11Crate>();
            unknown_kid_fetches_the_key_set_once_more => $crate::lesson11::unknown_kid_fetches_the_key_set_once_more::<Lesson11Crate>();
            wrong_issuer_is_refused => $crate::lesson11::wrong_issuer_is_refused::<Lesson11Crate>();
            wrong_audience_is_refused => $crate::lesson11::wrong_audience_is_refused::<Lesson11Crate>();
            azp_mismatch_is_refused => $crate::lesson11::azp_mismatch_is_refused::<Lesson11Crate>();
            expired_token_is_refused => $crate::lesson11::expired_token_is_refused::<Lesson11Crate>();
            iat_far_in_the_future_is_refused => $crate::lesson11::iat_far_in_the_future_is_refused::<Lesson11Crate>();
            replayed_nonce_is_refused => $crate::lesson11::replayed_nonce_is_refused::<Lesson11Crate>();
            posts_are_filed_under_sub => $crate::lesson11::posts_are_filed_under_sub::<Lesson11Crate>();
            the_id_token_is_never_shown_whole => $crate::lesson11::the_id_token_is_never_shown_whole::<Lesson11Crate>();
            mock_provider_id_token_is_verified => $crate::lesson11::mock_provider_id_token_is_verified::<Lesson11Crate>();
            rfc9207_the_callback_code_refuses_a_mix_up => $crate::lesson03::rfc9207_the_callback_code_refuses_a_mix_up($k::wait_for_callback);
        }
    };
}
