//! The keys that sign ID tokens, and the key set that publishes them.
//!
//! - A key is a P-256 key pair made with `ring`; it signs ES256 (RFC 7518
//!   §3.4: the signature is `r || s`, 64 bytes, not DER) in the JWS compact
//!   serialization (RFC 7515 §3.1, §7.1), header `{"alg","typ","kid"}`.
//! - Its public half is a JWK (RFC 7517 §4, RFC 7518 §6.2.1: `kty` `EC`,
//!   `crv` `P-256`, `x` and `y` base64url from the uncompressed point).
//! - Its `kid` is its JWK thumbprint (RFC 7638 §3): the same key always has
//!   the same `kid`, and two keys never share one.
//! - [`KeySet`]: the key that signs now and the one before it (RFC 7517 §5,
//!   the JWK Set), rotated every period by the injected clock.
//!
//! No cryptography is written here: `ring` makes keys and signatures.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// The only signing algorithm: ECDSA with P-256 and SHA-256 (RFC 7518 §3.4).
pub const ALG: &str = "ES256";

/// A P-256 key that signs JWTs. Its `Debug` shows the `kid` only.
///
/// Suites use one made on the spot to sign a token the provider never
/// issued ("a token signed by another key"):
///
/// ```
/// use mock_provider::SigningKey;
/// let key = SigningKey::generate();
/// let token = key.sign(&serde_json::json!({ "sub": "someone" }));
/// assert_eq!(token.split('.').count(), 3);
/// assert_eq!(key.public_jwk()["kid"], key.kid());
/// ```
pub struct SigningKey {
    pair: EcdsaKeyPair,
    kid: String,
    x: String,
    y: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new key pair from the operating system's random source.
    pub fn generate() -> SigningKey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("the operating system has no random source");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .expect("ring reads the key it made");
        // The uncompressed point: 0x04, then x and y, 32 bytes each (SEC 1 §2.3.3).
        let point = pair.public_key().as_ref();
        let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
        // RFC 7638 §3.2: the required members, in lexicographic order, no spaces.
        let members = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(members.as_bytes()));
        SigningKey { pair, kid, x, y }
    }

    /// The key's id: its RFC 7638 JWK thumbprint, 43 base64url characters.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK, as the JWK Set lists it.
    pub fn public_jwk(&self) -> Value {
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": self.x,
            "y": self.y,
            "kid": self.kid,
            "use": "sig",
            "alg": ALG,
        })
    }

    /// `claims` as a signed JWT: `BASE64URL(header) "." BASE64URL(claims) "."
    /// BASE64URL(signature)` (RFC 7515 §7.1), the header
    /// `{"alg":"ES256","typ":"JWT","kid":…}` (RFC 7519 §5.1).
    pub fn sign(&self, claims: &Value) -> String {
        let header = json!({ "alg": ALG, "typ": "JWT", "kid": self.kid });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), input.as_bytes())
            .expect("the operating system has no random source");
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }
}

/// The provider's keys: the newest signs; the one before stays published, so
/// that tokens it signed still verify until the next rotation.
pub struct KeySet {
    /// Rotation period in milliseconds; `None`: one key for the process's life.
    every: Option<u64>,
    /// When the first key was made; periods are counted from here.
    started: u64,
    /// Periods since `started` at the last timed rotation.
    period: u64,
    /// Oldest first; at most two.
    keys: Vec<Arc<SigningKey>>,
}

impl KeySet {
    /// One new key at `now` (milliseconds), rotated every `every` milliseconds if set.
    pub fn new(now: u64, every: Option<u64>) -> KeySet {
        KeySet {
            every: every.filter(|e| *e > 0),
            started: now,
            period: 0,
            keys: vec![Arc::new(SigningKey::generate())],
        }
    }

    /// Makes a new key if a period has begun since the last one.
    fn catch_up(&mut self, now: u64) {
        if let Some(every) = self.every {
            let period = now.saturating_sub(self.started) / every;
            if period > self.period {
                self.period = period;
                self.rotate();
            }
        }
    }

    /// A new key signs from now on; the previous one stays published and
    /// the one before it is dropped. Returns the new key's `kid`.
    pub fn rotate(&mut self) -> String {
        let key = Arc::new(SigningKey::generate());
        let kid = key.kid().to_string();
        self.keys.push(key);
        if self.keys.len() > 2 {
            self.keys.remove(0);
        }
        kid
    }

    /// The key that signs at `now`.
    pub fn current(&mut self, now: u64) -> Arc<SigningKey> {
        self.catch_up(now);
        self.keys.last().expect("a key set is never empty").clone()
    }

    /// The JWK Set at `now` (RFC 7517 §5), newest key first.
    pub fn jwks(&mut self, now: u64) -> Value {
        self.catch_up(now);
        let keys: Vec<Value> = self.keys.iter().rev().map(|k| k.public_jwk()).collect();
        json!({ "keys": keys })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    #[test]
    fn rfc7515_a_signature_verifies_with_the_published_key() {
        let key = SigningKey::generate();
        let token = key.sign(&json!({ "iss": "x" }));
        let (input, signature) = token.rsplit_once('.').unwrap();
        let jwk = key.public_jwk();
        let mut point = vec![4u8];
        for c in ["x", "y"] {
            point.extend(URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap());
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
        assert_eq!(signature.len(), 64, "RFC 7518 §3.4: r || s, 64 bytes");
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(input.as_bytes(), &signature)
            .expect("verifies");
    }

    #[test]
    fn rotation_keeps_the_previous_key_one_period() {
        let mut set = KeySet::new(0, Some(1000));
        let first = set.current(0).kid().to_string();
        assert_eq!(set.jwks(999)["keys"].as_array().unwrap().len(), 1);
        let second = set.current(1000).kid().to_string();
        assert_ne!(first, second);
        let kids = |set: &mut KeySet, at| -> Vec<String> {
            set.jwks(at)["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(kids(&mut set, 1999), [second.clone(), first.clone()]);
        let third = kids(&mut set, 2000);
        assert_eq!(third.len(), 2);
        assert_eq!(third[1], second);
        assert!(!third.contains(&first));
    }
}
