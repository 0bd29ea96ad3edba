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
    // TODO: expires_at = now + expires_in, in Unix seconds (none stays none; a huge
    //       expires_in must not overflow). The rest moves over as it is.
    todo!(
        "Step 1: turn expires_in into an absolute expiry — see chapter 7 (book/src/lesson07/index.md)"
    )
}

/// Step 2: true when the access token expires within [`REFRESH_EARLY`]. A
/// token without a known expiry is used until the API refuses it.
pub fn needs_refresh(stored: &StoredTokens, now: SystemTime) -> bool {
    // TODO: true when now + REFRESH_EARLY reaches expires_at; false when the expiry
    //       is unknown.
    todo!("Step 2: decide when to refresh — see chapter 7 (book/src/lesson07/index.md)")
}

/// Step 3: new tokens for old, with the refresh token grant (RFC 6749 §6).
pub fn refresh(
    client: &Client,
    stored: &StoredTokens,
    now: SystemTime,
) -> Result<StoredTokens, TokenError> {
    // TODO: No saved refresh token: Err(TokenError::NoRefreshToken), nothing sent.
    //       Else the refresh grant (RFC 6749 §6) with the client's authentication, as
    //       lesson 04 sends a grant, and its answer stored as step 1 does. When the answer
    //       leaves out the refresh token or the scope, keep the old one.
    todo!("Step 3: refresh the tokens — see chapter 7 (book/src/lesson07/index.md)")
}

/// Step 4: writes the tokens to `path` so that only the user can read them,
/// and so that a crash leaves the old file or the new one, never half of one.
pub fn save(path: &Path, stored: &StoredTokens) -> Result<(), LabError> {
    // TODO: Only the user may read the file, from its first moment: create missing
    //       folders 0700, and write the JSON to a new file in the same folder, created
    //       0600 (not chmod-ed afterwards: the checks see that), synced to the disk,
    //       then renamed over `path`, so a crash leaves the old file or the new one.
    //       On failure, remove the new file and return a LabError naming the path.
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
    // TODO: 1. Saved tokens that need no refresh: print "Using saved tokens (the access
    //          token {expiry_in_words})" and return them.
    //       2. No refresh token saved: say so ("… signing in again") and go to 4.
    //       3. Refresh. It worked: save at once (the old refresh token is dead), return.
    //          Refused with invalid_grant: say so, go to 4. Another error while the
    //          access token still works: a one-line warning, return the saved tokens.
    //          Past expiry: return the error.
    //       4. Nothing usable: tokens from `authorize`, stored, saved (print "Saved the
    //          tokens to PATH"), returned.
    todo!(
        "Step 5: use, refresh or replace the saved tokens — see chapter 7 (book/src/lesson07/index.md)"
    )
}

/// Step 6: logs out: asks the provider to revoke the tokens (RFC 7009), then
/// deletes the file. Returns what was done, in words.
pub fn logout(client: &Client, path: &Path) -> Result<String, LabError> {
    // TODO: Nothing saved: remove the file if there is one (it may be garbled) and say
    //       there was nothing to do. No revocation endpoint: delete the file and say,
    //       naming it, that the tokens stay valid until they expire. Else revoke the
    //       refresh token (if any), then the access token (RFC 7009), and only then
    //       delete the file; say what was done, naming the file.
    todo!("Step 6: log out: revoke, then delete — see chapter 7 (book/src/lesson07/index.md)")
}
