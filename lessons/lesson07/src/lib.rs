//! Lesson 07 — Tokens that last.
//!
//! Asking alice for permission every time the program runs would be a chore,
//! and an access token lives only an hour. So the program keeps its tokens in
//! a file only alice can read, refreshes the access token a minute before it
//! expires (RFC 6749 §6), asks again only when the refresh token no longer
//! works, and on logout tells the provider to forget them (RFC 7009).

use std::fs;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use labkit::{Client, ErrorCode, LabError, Secret, TokenError, Tokens};
use serde::{Deserialize, Serialize};

mod earlier;
mod given;
pub use earlier::*;
pub use given::*;

/// Tokens as kept between runs: an absolute expiry, not "expires_in".
///
/// `Debug` shows no token (each is a [`Secret`]); the file holds them whole,
/// which is why it is readable by its owner only.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredTokens {
    pub access_token: Secret,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// When the access token expires, in Unix seconds; `None` if the provider did not say.
    #[serde(default)]
    pub expires_at: Option<u64>,
    #[serde(default)]
    pub scope: Option<String>,
}

/// Refresh this long before the access token expires, so that it does not
/// expire between the check and the API call (clocks differ, requests take time).
pub const REFRESH_EARLY: Duration = Duration::from_secs(60);

/// Seconds since 1970: the unit of `expires_at`.
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

/// Step 1: the tokens of a token response as kept between runs: `expires_in`
/// (seconds from when the answer came) becomes `expires_at` (a point in time).
pub fn stored_from(tokens: Tokens, now: SystemTime) -> StoredTokens {
    // TODO: expires_at = unix_seconds(now) + tokens.expires_in (None stays None;
    //       saturating_add, in case a provider sends a huge number). Move the
    //       access token, refresh token and scope over as they are.
    todo!(
        "Step 1: turn expires_in into an absolute expiry — see chapter 7 (book/src/lesson07/index.md)"
    )
}

/// Step 2: true when the access token expires within [`REFRESH_EARLY`]. A
/// token without a known expiry is used until the API refuses it.
pub fn needs_refresh(stored: &StoredTokens, now: SystemTime) -> bool {
    // TODO: true when unix_seconds(now) + REFRESH_EARLY (in seconds) reaches
    //       stored.expires_at; false when there is no expires_at.
    todo!("Step 2: decide when to refresh — see chapter 7 (book/src/lesson07/index.md)")
}

/// Step 3: new tokens for old, with the refresh token grant (RFC 6749 §6).
pub fn refresh(
    client: &Client,
    stored: &StoredTokens,
    now: SystemTime,
) -> Result<StoredTokens, TokenError> {
    // TODO: 1. No stored.refresh_token: Err(TokenError::Rejected { status: 400,
    //          code: ErrorCode::InvalidGrant, description: Some(…) }).
    //       2. token_request(client, &[("grant_type", "refresh_token"),
    //          ("refresh_token", …expose())]) sends it (lesson 04's code, in earlier.rs).
    //       3. stored_from(tokens, now); if the answer had no refresh_token, keep the
    //          old one; if it had no scope, keep the old scope.
    todo!("Step 3: refresh the tokens — see chapter 7 (book/src/lesson07/index.md)")
}

/// Step 4: writes the tokens to `path` so that only the user can read them,
/// and so that a crash leaves the old file or the new one, never half of one.
pub fn save(path: &Path, stored: &StoredTokens) -> Result<(), LabError> {
    // TODO: 1. Create the folder (path.parent(), or "." if empty) with
    //          fs::DirBuilder: recursive(true) and, on Unix, mode 0o700
    //          (std::os::unix::fs::DirBuilderExt, under #[cfg(unix)]).
    //       2. Open a new file in that folder, e.g. ".tokens.json.<random>.tmp", with
    //          fs::OpenOptions: write(true), create_new(true) and, on Unix, mode 0o600
    //          (std::os::unix::fs::OpenOptionsExt).
    //       3. Write serde_json::to_vec_pretty(stored)?, then file.sync_all().
    //       4. fs::rename(temp, path). If anything failed, remove the temp file
    //          and return a LabError naming the path.
    todo!("Step 4: save the tokens safely — see chapter 7 (book/src/lesson07/index.md)")
}

/// Step 5: tokens that work now: the saved ones while they last, refreshed a
/// minute before they expire (or, if that fails while they still work, used
/// with a warning), and new ones from `authorize` (the browser flow) when there
/// are none, no refresh token, or the provider no longer honours it.
pub fn valid_tokens(
    client: &Client,
    path: &Path,
    now: SystemTime,
    authorize: &mut dyn FnMut() -> Result<Tokens, LabError>,
) -> Result<StoredTokens, LabError> {
    // TODO: 1. load(path)?. Saved tokens that do not needs_refresh(): print
    //          "Using saved tokens (the access token {expiry_in_words})", return them.
    //       2. No refresh token saved: say so ("signing in again") and go on to 4.
    //       3. Otherwise refresh(…). Ok: save(path, &fresh)? at once, return it.
    //          Err(TokenError::Rejected { code: ErrorCode::InvalidGrant, .. }): say so
    //          and go on to 4. Any other error while unix_seconds(now) is still
    //          before expires_at: print a one-line warning and return the saved
    //          tokens (they still work). Past expiry: return the error (e.into()).
    //       4. Nothing saved (or no way to refresh): stored_from(authorize()?, now),
    //          save it, return it.
    todo!(
        "Step 5: use, refresh or replace the saved tokens — see chapter 7 (book/src/lesson07/index.md)"
    )
}

/// Step 6: logs out: asks the provider to revoke the tokens (RFC 7009), then
/// deletes the file. Returns what was done, in words.
pub fn logout(client: &Client, path: &Path) -> Result<String, LabError> {
    // TODO: 1. load(path)?; None: remove the file if there is one (it may be garbled)
    //          and return Ok("No saved tokens in …").
    //       2. No client.revoke_url: fs::remove_file(path)?, and return a message saying
    //          the provider was not told (the tokens stay valid until they expire).
    //       3. revoke(client, url, refresh token, "refresh_token")? first, if there is
    //          one, then revoke(…, access token, "access_token")?.
    //       4. Only then fs::remove_file(path)?; return what was done.
    todo!("Step 6: log out: revoke, then delete — see chapter 7 (book/src/lesson07/index.md)")
}
