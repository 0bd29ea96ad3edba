//! Lesson 11 — Who is this? The reference answer.
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

// ANCHOR: verify_id_token
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
// ANCHOR_END: verify_id_token

// ANCHOR: decode
/// Step 1: splits the token at its two dots and decodes the header and the
/// claims (base64url, then JSON) and the signature (RFC 7515 §7.1).
pub fn decode(token: &Secret) -> Result<Parts, IdTokenError> {
    let mut pieces = token.expose().split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (pieces.next(), pieces.next(), pieces.next(), pieces.next())
    else {
        return Err(IdTokenError::Malformed("not three parts".into()));
    };
    // Each part is base64url without padding (RFC 7515 §2).
    let bytes = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| IdTokenError::Malformed(format!("the {what} is not base64url")))
    };
    // serde's own message may quote a value from the token: say it in our words.
    let json = |what: &str| {
        let why = format!(
            "the {what} is not the JSON of an ID token: a field is missing or of the wrong type"
        );
        move |_| IdTokenError::Malformed(why)
    };
    Ok(Parts {
        header: serde_json::from_slice(&bytes(header, "header")?).map_err(json("header"))?,
        claims: serde_json::from_slice(&bytes(claims, "claims")?).map_err(json("claims"))?,
        // The signature covers the two parts exactly as they came (RFC 7515 §5.2).
        signing_input: format!("{header}.{claims}"),
        signature: bytes(signature, "signature")?,
    })
}
// ANCHOR_END: decode

// ANCHOR: check_algorithm
/// Step 2: the algorithm must be ES256, the one this program verifies, and
/// one the provider announced (RFC 8725 §3.1; OpenID Connect Core §3.1.3.7
/// item 7). The token's own header is the attacker's to write.
pub fn check_algorithm(header: &Header, expected: &Expected) -> Result<(), IdTokenError> {
    // "none" has no signature at all; "HS256" is keyed with a shared secret, and
    // an attacker would key it with the provider's *public* key (RFC 8725 §2.1).
    match header.alg.as_str() {
        "ES256" if expected.algorithms.iter().any(|a| a == "ES256") => Ok(()),
        other => Err(IdTokenError::Algorithm(other.to_string())),
    }
}
// ANCHOR_END: check_algorithm

// ANCHOR: pick_key
/// Step 3: the provider's key named by the header's `kid` (RFC 7515 §4.1.4).
/// A `kid` not in the set may be a new key after a rotation: fetch the set
/// once more, then give up (OpenID Connect Core §10.1.1).
pub fn pick_key(keys: &mut Keys, header: &Header) -> Result<Jwk, IdTokenError> {
    let kid = header
        .kid
        .as_deref()
        .ok_or_else(|| IdTokenError::UnknownKey("(no kid)".into()))?;
    if keys.find(kid).is_none() {
        // Once: an attacker's made-up kids must not make us fetch forever.
        keys.refetch()?;
    }
    keys.find(kid)
        .cloned()
        .ok_or_else(|| IdTokenError::UnknownKey(kid.to_string()))
}
// ANCHOR_END: pick_key

// ANCHOR: verify_signature
/// Step 4: the ES256 signature over the signing input, with ring (RFC 7518
/// §3.4: ECDSA P-256 SHA-256, the signature as r‖s, 64 bytes). The key is the
/// uncompressed point 0x04‖x‖y made from the JWK (RFC 7518 §6.2.1).
pub fn verify_signature(key: &Jwk, parts: &Parts) -> Result<(), IdTokenError> {
    if key.kty != "EC" || key.crv.as_deref() != Some("P-256") {
        return Err(IdTokenError::Jwks("the key is not an EC P-256 key".into()));
    }
    let coordinate = |c: &Option<String>| {
        c.as_deref()
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .filter(|bytes| bytes.len() == 32)
            .ok_or_else(|| IdTokenError::Jwks("the key's x or y is not 32 bytes".into()))
    };
    let mut point = vec![0x04];
    point.extend(coordinate(&key.x)?);
    point.extend(coordinate(&key.y)?);
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
        .verify(parts.signing_input.as_bytes(), &parts.signature)
        .map_err(|_| IdTokenError::Signature)
}
// ANCHOR_END: verify_signature

// ANCHOR: check_audience
/// Step 5: who issued it and for whom (OpenID Connect Core §3.1.3.7 items
/// 2–5): `iss` exactly, our client id among the `aud`, and `azp` ours when
/// there are several audiences or an `azp` at all.
pub fn check_audience(claims: &Claims, expected: &Expected) -> Result<(), IdTokenError> {
    let wrong = |claim, problem: String| Err(IdTokenError::Claim { claim, problem });
    // Another issuer's token, even validly signed, speaks for someone else.
    if claims.iss != expected.issuer {
        return wrong(
            "iss",
            format!("{:?}, not {:?}", claims.iss, expected.issuer),
        );
    }
    // A token made for another app must not sign anyone in here.
    let audiences = claims.aud.as_list();
    if !audiences.contains(&expected.client_id.as_str()) {
        return wrong("aud", format!("{audiences:?} does not name this client"));
    }
    if (audiences.len() > 1 || claims.azp.is_some())
        && claims.azp.as_deref() != Some(expected.client_id.as_str())
    {
        return wrong("azp", format!("{:?} is not this client", claims.azp));
    }
    Ok(())
}
// ANCHOR_END: check_audience

// ANCHOR: check_time_and_nonce
/// Step 6: not expired, not issued in the future, with [`SKEW`] seconds of
/// slack either way (items 9–10), and our own request's nonce (item 11).
pub fn check_time_and_nonce(
    claims: &Claims,
    expected: &Expected,
    now: SystemTime,
) -> Result<(), IdTokenError> {
    let wrong = |claim, problem: String| Err(IdTokenError::Claim { claim, problem });
    let now = unix_seconds(now);
    // An old token, copied from a log or a backup, is no good.
    if now >= claims.exp.saturating_add(SKEW) {
        return wrong("exp", format!("expired {} s ago", now - claims.exp));
    }
    if claims.iat > now.saturating_add(SKEW) {
        return wrong("iat", format!("issued {} s from now", claims.iat - now));
    }
    // A token from another login (a replay) carries another nonce, or none.
    if claims.nonce.as_deref() != Some(expected.nonce.as_str()) {
        return wrong("nonce", "not the nonce this program sent".into());
    }
    Ok(())
}
// ANCHOR_END: check_time_and_nonce

// ANCHOR: person_key
/// Step 7: the name of the person's file: from `iss` and `sub`, the only
/// claims that name a person for good (OpenID Connect Core §5.7). An email
/// can change hands. Hashed, so it is safe as a file name.
pub fn person_key(claims: &Claims) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{} {}", claims.iss, claims.sub)))
}
// ANCHOR_END: person_key
