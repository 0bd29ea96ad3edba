//! Making, storing and showing secrets.
//!
//! Codes and tokens are 256 random bits, base64url, behind a prefix that says what
//! they are (`lab_code_`, `lab_at_`, `lab_rt_`) so a learner can tell them apart.
//! The provider keeps only a digest of each (like a password store), and shows
//! only a few characters of any secret, never a whole one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// What a stored code or token is looked up by: its SHA-256, truncated.
pub type Digest = [u8; 16];

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system has no random source");
    bytes
}

/// A new secret: `prefix` and 32 random bytes in base64url.
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// A short random id for a pending request or a flow (not a secret on its own).
pub fn new_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<12>())
}

/// RFC 8628 §6.1: the letters of a user code: no vowels (no words), no digits
/// (none to confuse with letters), easy to type on a phone.
pub const USER_CODE_LETTERS: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code: 20^8, about 2^34.6 codes.
pub const USER_CODE_LEN: usize = 8;

/// A new user code, normalized (eight letters, no dash); each letter drawn
/// uniformly (bytes past the last multiple of 20 are drawn again).
pub fn new_user_code() -> String {
    let mut code = String::with_capacity(USER_CODE_LEN);
    while code.len() < USER_CODE_LEN {
        for b in random_bytes::<16>() {
            if b < 240 && code.len() < USER_CODE_LEN {
                code.push(USER_CODE_LETTERS[usize::from(b % 20)] as char);
            }
        }
    }
    code
}

/// A user code as typed by a person (any case, dashes and spaces anywhere),
/// normalized; `None` when it cannot be a user code.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_LETTERS.contains(&b)))
        .then_some(code)
}

/// `WDJBMJHT` as a person reads it: `WDJB-MJHT`.
pub fn show_user_code(code: &str) -> String {
    match code.get(..4) {
        Some(head) if code.len() == USER_CODE_LEN => format!("{head}-{}", &code[4..]),
        _ => code.to_string(),
    }
}

pub fn digest(secret: &str) -> Digest {
    let full = Sha256::digest(secret.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

/// RFC 7636 §4.2: `BASE64URL(SHA256(ASCII(code_verifier)))`.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Compares two secrets through their digests, so the time taken says nothing
/// about how much of a guess was right.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (da, db) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// A secret as it may be shown: its prefix and four more characters, then `…`.
///
/// ```
/// assert_eq!(mock_provider::shorten("lab_at_Zx81kQ2b9Vb"), "lab_at_Zx81…");
/// assert_eq!(mock_provider::shorten("lab-secret"), "lab…");
/// ```
pub fn shorten(secret: &str) -> String {
    let prefix = ["lab_code_", "lab_at_", "lab_rt_", "lab_dc_"]
        .iter()
        .find(|p| secret.starts_with(**p))
        .map_or(0, |p| p.len());
    let shown = if prefix > 0 {
        prefix + 4
    } else {
        3.min(secret.len() / 3)
    };
    let cut = secret
        .char_indices()
        .map(|(i, _)| i)
        .nth(shown)
        .unwrap_or(secret.len());
    format!("{}…", &secret[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_s256_vector() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn secrets_are_long_random_and_distinct() {
        let (a, b) = (new_secret("lab_at_"), new_secret("lab_at_"));
        assert_ne!(a, b);
        assert_eq!(a.len(), "lab_at_".len() + 43);
    }

    #[test]
    fn shorten_never_shows_a_whole_secret() {
        for s in [
            "",
            "a",
            "abc",
            "lab-secret",
            "wonderland",
            &new_secret("lab_rt_"),
        ] {
            let short = shorten(s);
            assert!(s.is_empty() || !short.contains(s), "{short} shows {s}");
        }
    }

    #[test]
    fn rfc8628_6_1_user_codes_are_short_unambiguous_and_forgiving() {
        let code = new_user_code();
        assert_eq!(code.len(), 8);
        assert!(code.bytes().all(|b| USER_CODE_LETTERS.contains(&b)));
        let shown = show_user_code(&code);
        assert_eq!(shown.len(), 9);
        assert_eq!(normalize_user_code(&shown).as_deref(), Some(code.as_str()));
        assert_eq!(
            normalize_user_code(" wdjb mjht "),
            Some("WDJBMJHT".to_string())
        );
        assert_eq!(normalize_user_code("wdjb-mjh"), None, "too short");
        assert_eq!(normalize_user_code("WDJB-MJHA"), None, "a vowel");
        assert_eq!(normalize_user_code("WDJB-MJH1"), None, "a digit");
        assert_ne!(new_user_code(), new_user_code());
    }

    #[test]
    fn same_secret_compares_whole_values() {
        assert!(same_secret("lab-secret", "lab-secret"));
        assert!(!same_secret("lab-secret", "lab-secreT"));
        assert!(!same_secret("lab-secret", "lab-secret "));
    }
}
