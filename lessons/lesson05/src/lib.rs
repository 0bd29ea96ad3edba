//! Lesson 05 — Collect the data.
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

/// How many times a 429 is waited out before giving up.
const MAX_RETRIES: u32 = 5;

/// Step 1: GETs `url` with the access token and returns the body of a 200 answer.
/// A 429 is waited out as the API asks (`Retry-After`), with `sleep`.
fn api_get(url: &str, token: &Secret, sleep: &dyn Fn(Duration)) -> Result<String, ApiError> {
    // TODO: GET `url` with the token in the Authorization header (Bearer, never in the URL).
    //       200: the body. 401: Unauthorized { description }, the description being the
    //       API's reason (its JSON error_description, else error, else the body's start).
    //       403 for a missing scope (WWW-Authenticate says insufficient_scope): Forbidden,
    //       the same way. 429, or a 403 that is a rate limit (rate-limit headers): wait
    //       as the answer says (Retry-After in seconds or as a date; 1 s if it does not
    //       say) with `sleep`, then try again; after MAX_RETRIES waits: RateLimited.
    //       Anything else: Status.
    todo!("Step 1: call the API with the access token — see chapter 5 (book/src/lesson05/index.md)")
}

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

/// Step 2: every post from `GET {api_url}/posts`, page after page until `next`
/// is null, each written to `out` as one JSON line. Returns how many.
pub fn collect_posts(
    client: &Client,
    token: &Secret,
    out: &mut dyn Write,
    progress: &ProgressBar,
    sleep: &dyn Fn(Duration),
) -> Result<usize, ApiError> {
    // TODO: Ask {api_url}/posts for pages of 100 posts; while a page's `next` is not
    //       null, ask again with that cursor (encoded in the URL). Write each post to
    //       `out` as one line of JSON, tick `progress` once per post, and return how many.
    todo!("Step 2: collect every post — see chapter 5 (book/src/lesson05/index.md)")
}

/// The real `sleep`, for the program; tests pass one that moves a clock instead.
pub fn real_sleep(duration: Duration) {
    thread::sleep(duration);
}
