//! Each user's private posts: deterministic, so tests and outside tools can count on them.

use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use crate::config::User;

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Post {
    pub id: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    pub text: String,
}

const OPENINGS: [&str; 8] = [
    "Went down",
    "Found",
    "Wrote about",
    "Could not stop thinking about",
    "Sketched",
    "Measured",
    "Lost track of",
    "Had tea with",
];
const THINGS: [&str; 8] = [
    "a rabbit hole",
    "a very small door",
    "the garden path",
    "a pocket watch",
    "a new shed",
    "the tallest crane",
    "a stack of bricks",
    "the March Hare",
];
const ENDINGS: [&str; 6] = [
    "today.",
    "again.",
    "before breakfast.",
    "and it was curious.",
    "with a spirit level.",
    "until the clock stopped.",
];

/// The `index`-th post in the order the API lists them (newest first).
pub fn post(user: &User, index: usize) -> Post {
    // Numbered oldest first, so a post keeps its id when more are added.
    let number = user.posts - index;
    let seed = number + user.username.len() * 7;
    // 2026-01-01T08:00:00Z, then one post every 9 h 13 min.
    let at = UNIX_EPOCH + Duration::from_secs(1_767_254_400 + number as u64 * 33_180);
    Post {
        id: format!("{}-{number:04}", user.username),
        created_at: humantime::format_rfc3339_seconds(at).to_string(),
        text: format!(
            "{} {} {}",
            OPENINGS[seed % OPENINGS.len()],
            THINGS[(seed / 3) % THINGS.len()],
            ENDINGS[(seed / 5) % ENDINGS.len()]
        ),
    }
}
