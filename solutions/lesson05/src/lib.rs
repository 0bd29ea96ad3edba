//! Lesson 05 — Collect the data: the reference answer.
//!
//! With the access token, the program calls the API as the user allowed —
//! her profile, then every one of her private posts, page by page — and saves
//! them as JSON Lines. It never saw her password.

use std::io::Write;
use std::thread;
use std::time::Duration;

use indicatif::ProgressBar;
use labkit::{ApiError, Client, ErrorBody, PostsPage, Profile, Secret};

mod earlier;
pub use earlier::*;

// ANCHOR: api_get
/// How many times a 429 is waited out before giving up.
const MAX_RETRIES: u32 = 5;

/// Step 1: GETs `url` with the access token and returns the body of a 200 answer.
/// A 429 is waited out as the API asks (`Retry-After`), with `sleep`.
fn api_get(url: &str, token: &Secret, sleep: &dyn Fn(Duration)) -> Result<String, ApiError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    for _ in 0..=MAX_RETRIES {
        // The token goes in the Authorization header (RFC 6750 §2.1), never in the URL.
        let mut response = agent
            .get(url)
            .header("Authorization", &format!("Bearer {}", token.expose()))
            .call()
            .map_err(|e| ApiError::Network(e.to_string()))?;
        let status = response.status().as_u16();
        // Retry-After in seconds or as a date (RFC 9110 §10.2.3), or GitHub's
        // x-ratelimit-* headers: how long a rate limit asks to wait, if it is one.
        let header = |name: &str| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some(value.to_string())
        };
        let wait = labkit::rate_limit_wait(header, std::time::SystemTime::now());
        let scope_missing =
            header("www-authenticate").is_some_and(|v| labkit::is_insufficient_scope(&v));
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| ApiError::Network(e.to_string()))?;
        let description = || {
            serde_json::from_str::<ErrorBody>(&body)
                .ok()
                .and_then(|e| e.error_description.or(Some(e.error)))
                .unwrap_or_else(|| labkit::body_start(&body))
        };
        match status {
            200 => return Ok(body),
            401 => {
                return Err(ApiError::Unauthorized {
                    description: description(),
                });
            }
            403 if scope_missing => {
                return Err(ApiError::Forbidden {
                    description: description(),
                });
            }
            // A 403 with rate-limit headers is a rate limit (GitHub's way).
            403 if wait.is_some() => sleep(wait.unwrap_or_default()),
            // Too many requests: wait as long as asked (a second if it does not say).
            429 => sleep(wait.unwrap_or(Duration::from_secs(1))),
            _ => {
                return Err(ApiError::Status {
                    status,
                    body_start: labkit::body_start(&body),
                });
            }
        }
    }
    Err(ApiError::RateLimited {
        attempts: MAX_RETRIES + 1,
    })
}
// ANCHOR_END: api_get

// ANCHOR: fetch_profile
/// The user's profile, from `GET {api_url}/me`: given, as an example of `api_get` at work.
pub fn fetch_profile(
    client: &Client,
    token: &Secret,
    sleep: &dyn Fn(Duration),
) -> Result<Profile, ApiError> {
    let url = format!("{}/me", client.api_url);
    let body = api_get(&url, token, sleep)?;
    serde_json::from_str(&body).map_err(|_| ApiError::Unreadable {
        url,
        body_start: labkit::body_start(&body),
    })
}
// ANCHOR_END: fetch_profile

// ANCHOR: collect_posts
/// Step 2: every post from `GET {api_url}/posts`, page after page until `next`
/// is null, each written to `out` as one JSON line. Returns how many.
pub fn collect_posts(
    client: &Client,
    token: &Secret,
    out: &mut dyn Write,
    progress: &ProgressBar,
    sleep: &dyn Fn(Duration),
) -> Result<usize, ApiError> {
    let first = format!("{}/posts", client.api_url);
    let mut cursor: Option<String> = None;
    let mut count = 0;
    loop {
        // Build the URL with `url` so the cursor is encoded, whatever it holds.
        let mut url =
            url::Url::parse(&first).map_err(|e| ApiError::Network(format!("{first}: {e}")))?;
        url.query_pairs_mut().append_pair("limit", "100");
        if let Some(c) = &cursor {
            url.query_pairs_mut().append_pair("cursor", c);
        }
        let body = api_get(url.as_str(), token, sleep)?;
        let page: PostsPage = serde_json::from_str(&body).map_err(|_| ApiError::Unreadable {
            url: url.to_string(),
            body_start: labkit::body_start(&body),
        })?;
        for post in &page.posts {
            // JSON Lines: one JSON object per line.
            serde_json::to_writer(&mut *out, post).map_err(std::io::Error::from)?;
            writeln!(out)?;
            count += 1;
            progress.inc(1);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(count),
        }
    }
}
// ANCHOR_END: collect_posts

/// The real `sleep`, for the program; tests pass one that moves a clock instead.
pub fn real_sleep(duration: Duration) {
    thread::sleep(duration);
}
