//! Property tests: the form/query parser against a reference encoder, and the
//! server's framing against random input on a raw socket: malformed input gets
//! never a 5xx, a panic or a hang.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use mock_provider::params::{ParamError, Params};
use mock_provider::{Config, MockProvider};
use proptest::prelude::*;
use url::form_urlencoded;

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

proptest! {
    /// What a browser or `url` encodes comes back exactly, in order, duplicates kept.
    #[test]
    fn params_round_trip_through_a_reference_encoder(
        pairs in prop::collection::vec((".{0,12}", ".{0,24}"), 0..8)
    ) {
        let parsed = Params::parse(encode(&pairs).as_bytes()).unwrap();
        let back: Vec<(String, String)> =
            parsed.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        prop_assert_eq!(back, pairs);
    }

    /// Any bytes at all: an answer, never a panic; and when the bytes hold a
    /// `%` not followed by two hex digits, that answer is an error (not the
    /// `%` kept as it is, as lenient decoders do).
    #[test]
    fn params_never_panic_and_refuse_bad_escapes(input in prop::collection::vec(any::<u8>(), 0..64)) {
        let result = Params::parse(&input);
        let bad_escape = input.iter().enumerate().any(|(i, b)| {
            *b == b'%'
                && !(input.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && input.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        });
        if bad_escape {
            prop_assert!(result.is_err(), "{:?}", result);
        }
        if let Ok(params) = result {
            // What was read can be written again and reads the same.
            let pairs: Vec<(String, String)> =
                params.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            let again = Params::parse(encode(&pairs).as_bytes()).unwrap();
            prop_assert_eq!(again, params);
        }
    }

    /// `get` refuses a name sent more than once with a value (RFC 6749 §3.1); a
    /// value-less parameter counts as omitted, however often it comes.
    #[test]
    fn params_get_refuses_exactly_the_repeated_names(
        names in prop::collection::vec("[a-c]", 1..6),
        value in "[a-z]{0,3}",
    ) {
        let pairs: Vec<(String, String)> = names.iter().map(|n| (n.clone(), value.clone())).collect();
        let params = Params::parse(encode(&pairs).as_bytes()).unwrap();
        for name in ["a", "b", "c"] {
            let sent = names.iter().filter(|n| *n == name).count();
            match params.get(name) {
                Err(ParamError::Repeated(n)) => prop_assert!(sent > 1 && !value.is_empty() && n == name),
                Ok(Some(v)) => prop_assert!(sent == 1 && v == value),
                Ok(None) => prop_assert!(sent == 0 || value.is_empty()),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }
}

/// One provider for every case of the framing properties.
fn provider() -> SocketAddr {
    static PROVIDER: OnceLock<MockProvider> = OnceLock::new();
    PROVIDER
        .get_or_init(|| MockProvider::start(Config::default()).expect("provider starts"))
        .addr()
}

/// Sends `bytes`, closes the sending side and reads until the server closes.
/// Panics if the server takes longer than a few seconds (a hang).
fn exchange(bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(provider()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    // The server may answer and close before reading everything: not an error.
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(Shutdown::Write);
    let mut answer = Vec::new();
    if let Err(e) = stream.read_to_end(&mut answer) {
        assert!(
            e.kind() == std::io::ErrorKind::ConnectionReset,
            "no answer in 5 s ({e}) to {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    answer
}

/// The status of every answer in `answer` (several when requests were pipelined).
fn statuses(answer: &[u8]) -> Vec<u16> {
    let text = String::from_utf8_lossy(answer);
    text.match_indices("HTTP/1.1 ")
        .filter_map(|(i, _)| text[i + 9..].get(..3)?.parse().ok())
        .collect()
}

/// Pieces requests are made of: real ones, near misses and junk.
fn request_strategy() -> impl Strategy<Value = Vec<u8>> {
    let method = prop::sample::select(vec![
        "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "get", "G\tT", "",
    ]);
    let path = prop::sample::select(vec![
        "/",
        "/authorize",
        "/token",
        "/revoke",
        "/api/me",
        "/api/posts",
        "/_lab/events",
        "/.well-known/oauth-authorization-server",
        "*",
        "http://x/",
        "/%zz",
        "",
    ]);
    let query = prop::option::of(prop::collection::vec(
        prop::sample::select(vec![
            "client_id=lab-public",
            "client_id=lab-client",
            "response_type=code",
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcallback",
            "code_challenge_method=S256",
            "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "state=%FF",
            "limit=0",
            "limit=99999999999999999999",
            "cursor=%",
            "after=-1",
            "scope=profile+posts:read",
            "&",
            "=",
        ]),
        0..6,
    ));
    let version =
        prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/1.1 extra", ""]);
    let header = prop::sample::select(vec![
        "Host: x",
        "Connection: close",
        "Connection: keep-alive",
        "Content-Type: application/x-www-form-urlencoded",
        "Content-Type: application/json",
        "Content-Length: 0",
        "Content-Length: 5",
        "Content-Length: 99999999999",
        "Content-Length: -1",
        "Content-Length: +5",
        "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip",
        "Expect: 100-continue",
        "Authorization: Basic bGFiLWNsaWVudDpsYWItc2VjcmV0",
        "Authorization: Basic !!",
        "Authorization: Bearer lab_at_xyz",
        "Authorization: Bearer",
        "X-Junk: \u{1}\u{7f}",
        "No colon here",
        ": empty name",
        " leading: space",
    ]);
    let headers = prop::collection::vec(header, 0..6);
    let body = prop::collection::vec(
        prop::sample::select(vec![
            "grant_type=authorization_code",
            "grant_type=refresh_token",
            "&code=lab_code_x",
            "&client_id=lab-public",
            "&code_verifier=short",
            "&token=x",
            "%",
            "%FF",
            "5\r\nhello\r\n",
            "0\r\n\r\n",
            "ffffffffffffffff\r\n",
            "\r\n",
        ]),
        0..5,
    );
    let line_end = prop::sample::select(vec!["\r\n", "\n", "\r"]);
    (
        method,
        path,
        query,
        version,
        headers,
        body,
        line_end,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(method, path, query, version, headers, body, eol, cut)| {
            let mut text = format!("{method} {path}");
            if let Some(query) = query {
                text.push('?');
                text.push_str(&query.join("&"));
            }
            text.push_str(&format!(" {version}{eol}"));
            for h in headers {
                text.push_str(&format!("{h}{eol}"));
            }
            text.push_str(eol);
            text.push_str(&body.concat());
            let mut bytes = text.into_bytes();
            // Sometimes the client stops half-way.
            if cut.index(4) == 0 {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random bytes: never a 5xx, never a hang; and something was answered
    /// unless nothing was sent.
    #[test]
    fn random_bytes_never_get_a_5xx_or_a_hang(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let answer = exchange(&bytes);
        let statuses = statuses(&answer);
        prop_assert!(statuses.iter().all(|s| *s < 500), "{:?} for {:?}", statuses, bytes);
        if !bytes.is_empty() {
            prop_assert!(!statuses.is_empty(), "no answer to {:?}", bytes);
        }
    }

    /// Request-shaped input, well formed or nearly so: never a 5xx or a hang,
    /// and every error says why.
    #[test]
    fn request_like_input_never_gets_a_5xx_or_a_hang(bytes in request_strategy()) {
        let answer = exchange(&bytes);
        let statuses = statuses(&answer);
        prop_assert!(statuses.iter().all(|s| *s < 500), "{:?} for {:?}", statuses, String::from_utf8_lossy(&bytes));
        if !bytes.is_empty() {
            prop_assert!(!statuses.is_empty(), "no answer to {:?}", String::from_utf8_lossy(&bytes));
        }
    }
}
