//! Lesson 11 — Who is this?
//!
//! With `openid` in the scope, the provider answers with an ID token besides
//! the access token: a signed statement of who signed in, for whom, and when
//! (OpenID Connect Core §2). The program checks it step by step before it
//! believes a word of it, then files the posts under the person's `sub`.

use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use labkit::Secret;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use sha2::{Digest, Sha256};

mod earlier;
pub use earlier::*;

/// How far the provider's clock and ours may disagree, in seconds.
pub const SKEW: u64 = 60;

/// The whole check, in order (OpenID Connect Core §3.1.3.7): given. Each step
/// is one function below. The claims are trusted only once the signature is.
pub fn verify_id_token(
    token: &Secret,
    expected: &Expected,
    keys: &mut Keys,
    now: SystemTime,
) -> Result<Claims, IdTokenError> {
    let parts = decode(token)?;
    check_algorithm(&parts.header, expected)?;
    let key = pick_key(keys, &parts.header)?;
    verify_signature(&key, &parts)?;
    check_audience(&parts.claims, expected)?;
    check_time_and_nonce(&parts.claims, expected, now)?;
    Ok(parts.claims)
}

/// Step 1: splits the token at its two dots and decodes the header and the
/// claims (base64url, then JSON) and the signature (RFC 7515 §7.1).
pub fn decode(token: &Secret) -> Result<Parts, IdTokenError> {
    // TODO: Exactly three parts, split at '.'. Decode each with URL_SAFE_NO_PAD;
    //       the header and the claims are JSON (serde_json::from_slice). Keep
    //       "header.claims" as they came: that is what was signed.
    //       Anything wrong: IdTokenError::Malformed(why), the why in your own words
    //       (serde's message can quote the token).
    todo!("Step 1: split and decode the token — see chapter 11 (book/src/lesson11/index.md)")
}

/// Step 2: the algorithm must be ES256, the one this program verifies, and
/// one the provider announced (RFC 8725 §3.1; OpenID Connect Core §3.1.3.7
/// item 7). The token's own header is the attacker's to write.
pub fn check_algorithm(header: &Header, expected: &Expected) -> Result<(), IdTokenError> {
    // TODO: Ok only for "ES256", and only if expected.algorithms has it.
    //       Anything else ("none", "HS256", …): IdTokenError::Algorithm(alg).
    todo!("Step 2: check the algorithm — see chapter 11 (book/src/lesson11/index.md)")
}

/// Step 3: the provider's key named by the header's `kid` (RFC 7515 §4.1.4).
/// A `kid` not in the set may be a new key after a rotation: fetch the set
/// once more, then give up (OpenID Connect Core §10.1.1).
pub fn pick_key(keys: &mut Keys, header: &Header) -> Result<Jwk, IdTokenError> {
    // TODO: No kid: UnknownKey. keys.find(kid); if it is not there,
    //       keys.refetch()? once and look again; still not there: UnknownKey(kid).
    todo!("Step 3: pick the key by its kid — see chapter 11 (book/src/lesson11/index.md)")
}

/// Step 4: the ES256 signature over the signing input, with ring (RFC 7518
/// §3.4: ECDSA P-256 SHA-256, the signature as r‖s, 64 bytes). The key is the
/// uncompressed point 0x04‖x‖y made from the JWK (RFC 7518 §6.2.1).
pub fn verify_signature(key: &Jwk, parts: &Parts) -> Result<(), IdTokenError> {
    // TODO: The key must be kty "EC", crv "P-256", with x and y of 32 bytes each
    //       (base64url); else IdTokenError::Jwks(why). Then
    //       UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).verify(…);
    //       a failure is IdTokenError::Signature.
    todo!("Step 4: verify the signature — see chapter 11 (book/src/lesson11/index.md)")
}

/// Step 5: who issued it and for whom (OpenID Connect Core §3.1.3.7 items
/// 2–5): `iss` exactly, our client id among the `aud`, and `azp` ours when
/// there are several audiences or an `azp` at all.
pub fn check_audience(claims: &Claims, expected: &Expected) -> Result<(), IdTokenError> {
    // TODO: iss == expected.issuer; expected.client_id in claims.aud.as_list();
    //       with several audiences or any azp, azp == expected.client_id.
    //       Each failure: IdTokenError::Claim { claim: "iss" (or "aud", "azp"), problem }.
    todo!("Step 5: check who issued it and for whom — see chapter 11 (book/src/lesson11/index.md)")
}

/// Step 6: not expired, not issued in the future, with [`SKEW`] seconds of
/// slack either way (items 9–10), and our own request's nonce (item 11).
pub fn check_time_and_nonce(
    claims: &Claims,
    expected: &Expected,
    now: SystemTime,
) -> Result<(), IdTokenError> {
    // TODO: With now = unix_seconds(now): refuse if now >= exp + SKEW ("exp"),
    //       if iat > now + SKEW ("iat"), and if the nonce is not expected.nonce ("nonce").
    todo!("Step 6: check the time and the nonce — see chapter 11 (book/src/lesson11/index.md)")
}

/// Step 7: the name of the person's file: from `iss` and `sub`, the only
/// claims that name a person for good (OpenID Connect Core §5.7). An email
/// can change hands. Hashed, so it is safe as a file name.
pub fn person_key(claims: &Claims) -> String {
    // TODO: BASE64URL(SHA256("{iss} {sub}")), no padding. Never the email.
    todo!(
        "Step 7: file the posts under the person's sub — see chapter 11 (book/src/lesson11/index.md)"
    )
}
