//! Strict parsing of query strings and form bodies (`application/x-www-form-urlencoded`).
//!
//! Lenient decoders keep `%zz` as it is and turn bad UTF-8 into U+FFFD; an
//! authorization server must not guess, so both are errors here.
//! RFC 6749 §3.1 and §3.2: a parameter sent without a value is treated as omitted,
//! and a parameter must not be sent more than once.

use std::borrow::Cow;

use percent_encoding::percent_decode;

/// Decoded name/value pairs, in the order they were sent.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Params(Vec<(String, String)>);

/// Why a query string or form body could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamError {
    BadPercentEncoding(String),
    NotUtf8(String),
    /// RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    Repeated(String),
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamError::BadPercentEncoding(near) => {
                write!(
                    f,
                    "invalid percent-encoding near {near:?}: '%' must be followed by two hex digits"
                )
            }
            ParamError::NotUtf8(name) => {
                write!(f, "parameter {name:?} is not valid UTF-8 once decoded")
            }
            ParamError::Repeated(name) => write!(f, "parameter {name} is sent more than once"),
        }
    }
}

impl Params {
    /// Parses `a=1&b=2`; `+` is a space; every `%` must start a valid escape.
    pub fn parse(input: &[u8]) -> Result<Params, ParamError> {
        let mut pairs = Vec::new();
        for piece in input.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (name, value) = match piece.iter().position(|b| *b == b'=') {
                Some(i) => (&piece[..i], &piece[i + 1..]),
                None => (piece, &b""[..]),
            };
            let name = decode(name)?;
            let value = decode(value).map_err(|e| match e {
                ParamError::NotUtf8(_) => ParamError::NotUtf8(name.clone()),
                other => other,
            })?;
            pairs.push((name, value));
        }
        Ok(Params(pairs))
    }

    /// The value of `name`; `Ok(None)` when absent or empty (RFC 6749 §3.1),
    /// `Err` when sent more than once.
    pub fn get(&self, name: &str) -> Result<Option<&str>, ParamError> {
        // An empty value counts as omitted (§3.1), also when counting repeats.
        let mut found = self.0.iter().filter(|(n, v)| n == name && !v.is_empty());
        let first = found.next();
        if found.next().is_some() {
            return Err(ParamError::Repeated(name.to_string()));
        }
        Ok(first.map(|(_, v)| v.as_str()))
    }

    /// The first parameter of any name sent more than once with a value (§3.1,
    /// §3.2), found in one pass: a 64 KB body can hold thousands of names.
    pub fn any_repeated(&self) -> Option<&str> {
        let mut seen = std::collections::HashSet::with_capacity(self.0.len());
        self.0
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .find(|(n, _)| !seen.insert(n.as_str()))
            .map(|(n, _)| n.as_str())
    }

    /// The first parameter, among `names`, that is sent more than once.
    pub fn first_repeated(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find(|n| {
                self.0
                    .iter()
                    .filter(|(k, v)| k == *n && !v.is_empty())
                    .count()
                    > 1
            })
            .map(|n| n.to_string())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

fn decode(raw: &[u8]) -> Result<String, ParamError> {
    for (i, b) in raw.iter().enumerate() {
        if *b == b'%' {
            let ok = raw.len() > i + 2
                && raw[i + 1].is_ascii_hexdigit()
                && raw[i + 2].is_ascii_hexdigit();
            if !ok {
                let end = (i + 3).min(raw.len());
                return Err(ParamError::BadPercentEncoding(
                    String::from_utf8_lossy(&raw[i..end]).into_owned(),
                ));
            }
        }
    }
    // `+` becomes a space before decoding, so that `%2B` stays a plus sign.
    let spaced: Cow<[u8]> = if raw.contains(&b'+') {
        raw.iter()
            .map(|b| if *b == b'+' { b' ' } else { *b })
            .collect()
    } else {
        Cow::Borrowed(raw)
    };
    // Sized once: decoding never makes the text longer.
    let mut bytes = Vec::with_capacity(raw.len());
    bytes.extend(percent_decode(&spaced));
    String::from_utf8(bytes)
        .map_err(|_| ParamError::NotUtf8(String::from_utf8_lossy(raw).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_percent_and_utf8_in_order() {
        let p = Params::parse(b"q=a+b%20c&name=%C3%A9l%C3%A8ve&x=1&y=").unwrap();
        let all: Vec<_> = p.iter().collect();
        assert_eq!(
            all,
            vec![("q", "a b c"), ("name", "élève"), ("x", "1"), ("y", "")]
        );
    }

    #[test]
    fn an_encoded_plus_stays_a_plus() {
        let p = Params::parse(b"a=1%2B1+%3D+2&b=%2b").unwrap();
        let all: Vec<_> = p.iter().collect();
        assert_eq!(all, vec![("a", "1+1 = 2"), ("b", "+")]);
    }

    #[test]
    fn rfc6749_3_1_empty_value_is_omitted() {
        let p = Params::parse(b"state=&scope=profile").unwrap();
        assert_eq!(p.get("state"), Ok(None));
        assert_eq!(p.get("scope"), Ok(Some("profile")));
    }

    #[test]
    fn rfc6749_3_1_repeated_parameter_is_an_error() {
        let p = Params::parse(b"state=a&state=b").unwrap();
        assert_eq!(p.get("state"), Err(ParamError::Repeated("state".into())));
        assert_eq!(p.first_repeated(&["code", "state"]), Some("state".into()));
        assert_eq!(p.any_repeated(), Some("state"));
        // §3.1: a value-less parameter is as if omitted, so `scope=&scope=x` is one scope.
        let p = Params::parse(b"scope=&scope=profile&x=1").unwrap();
        assert_eq!(
            (p.any_repeated(), p.get("scope")),
            (None, Ok(Some("profile")))
        );
    }

    #[test]
    fn bad_percent_encoding_is_an_error_not_kept_literally() {
        assert!(matches!(
            Params::parse(b"a=%zz"),
            Err(ParamError::BadPercentEncoding(_))
        ));
        assert!(matches!(
            Params::parse(b"a=%4"),
            Err(ParamError::BadPercentEncoding(_))
        ));
        assert!(matches!(
            Params::parse(b"a=100%"),
            Err(ParamError::BadPercentEncoding(_))
        ));
    }

    #[test]
    fn invalid_utf8_is_an_error_not_replaced() {
        assert_eq!(
            Params::parse(b"name=%FF%FE"),
            Err(ParamError::NotUtf8("name".into()))
        );
    }
}
