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
    // TODO: Loop up to MAX_RETRIES + 1 times: GET url with header `Authorization: Bearer <token>`.
    //       200: return the body. 401: ApiError::Unauthorized. 403: ApiError::Forbidden.
    //       429: sleep(Retry-After seconds, 1 if missing) and try again. Else ApiError::Status.
    //       After the last try: ApiError::RateLimited.
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
    // TODO: GET {api_url}/posts?limit=100, then again with &cursor=NEXT while `next` is not null
    //       (build the URL with url::Url and query_pairs_mut so the cursor is encoded).
    //       Write each post as one JSON line (serde_json::to_writer, then writeln!), call
    //       progress.inc(1), and return how many posts you wrote.
    todo!("Step 2: collect every post — see chapter 5 (book/src/lesson05/index.md)")
}

/// The real `sleep`, for the program; tests pass one that moves a clock instead.
pub fn real_sleep(duration: Duration) {
    thread::sleep(duration);
}
