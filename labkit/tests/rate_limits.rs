//! `Retry-After` as seconds or as an HTTP-date (RFC 9110 §10.2.3), GitHub's
//! 403 with `x-ratelimit-*` headers, and `insufficient_scope` (RFC 6750 §3.1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use labkit::{is_insufficient_scope, rate_limit_wait, retry_after};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_790_000_000)
}

#[test]
fn retry_after_in_seconds() {
    assert_eq!(retry_after("3", now()), Some(Duration::from_secs(3)));
    assert_eq!(retry_after(" 0 ", now()), Some(Duration::ZERO));
}

#[test]
fn retry_after_as_an_http_date() {
    let in_90_s = httpdate::fmt_http_date(now() + Duration::from_secs(90));
    assert_eq!(retry_after(&in_90_s, now()), Some(Duration::from_secs(90)));
    // RFC 9110 §5.6.7: the obsolete formats must be read too.
    let rfc850 = "Sunday, 06-Nov-94 08:49:37 GMT";
    let asctime = "Sun Nov  6 08:49:37 1994";
    let then = UNIX_EPOCH + Duration::from_secs(784111777);
    assert_eq!(retry_after(rfc850, then), Some(Duration::ZERO));
    assert_eq!(retry_after(asctime, then), Some(Duration::ZERO));
    let past = httpdate::fmt_http_date(now() - Duration::from_secs(5));
    assert_eq!(
        retry_after(&past, now()),
        Some(Duration::ZERO),
        "a past date means now"
    );
    assert_eq!(retry_after("tomorrow", now()), None);
}

fn headers(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
    move |name| {
        pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    }
}

#[test]
fn github_403_with_the_limit_used_up_is_a_rate_limit() {
    assert_eq!(
        rate_limit_wait(
            headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1790000042")
            ]),
            now()
        ),
        Some(Duration::from_secs(42))
    );
    assert_eq!(
        rate_limit_wait(headers(&[("retry-after", "7")]), now()),
        Some(Duration::from_secs(7)),
        "Retry-After first (GitHub's secondary limits)"
    );
    assert_eq!(
        rate_limit_wait(headers(&[("x-ratelimit-remaining", "0")]), now()),
        Some(Duration::from_secs(60)),
        "used up with no reset time: a minute"
    );
}

#[test]
fn a_403_without_rate_limit_headers_is_not_a_rate_limit() {
    assert_eq!(rate_limit_wait(headers(&[]), now()), None);
    assert_eq!(
        rate_limit_wait(headers(&[("x-ratelimit-remaining", "4999")]), now()),
        None
    );
}

#[test]
fn insufficient_scope_is_read_from_www_authenticate() {
    assert!(is_insufficient_scope(
        r#"Bearer realm="oauth2-lab", error="insufficient_scope", scope="posts:read""#
    ));
    assert!(is_insufficient_scope(r#"Bearer error=insufficient_scope"#));
    assert!(!is_insufficient_scope(
        r#"Bearer realm="oauth2-lab", error="invalid_token""#
    ));
    assert!(!is_insufficient_scope(""));
}
