//! Lesson 09 — No browser here.
//!
//! On a machine without a browser (a server over SSH, a TV, a build box) there
//! is no page to open and no listener for a browser to come back to. The
//! device authorization grant (RFC 8628) splits the flow across two devices:
//! this program asks for a code and shows it; a person types it on a phone or
//! laptop, logs in and decides there; meanwhile the program asks the token
//! endpoint, every few seconds, whether the person has decided yet.

use std::fmt;
use std::time::Duration;

use labkit::{Client, ErrorCode, Secret, TokenError, Tokens};
use serde::Deserialize;

mod earlier;
pub use earlier::*;

/// The grant type the device polls the token endpoint with (RFC 8628 §3.4).
pub const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The provider's answer to a device authorization request (RFC 8628 §3.2).
#[derive(Clone, Debug, Deserialize)]
pub struct DeviceAuthorization {
    /// The program's own secret for polling: never shown to anyone.
    pub device_code: Secret,
    /// What the person types, for example `WDJB-MJHT`.
    pub user_code: String,
    /// Where the person types it. Google calls it `verification_url`.
    #[serde(alias = "verification_url")]
    pub verification_uri: String,
    /// The same page with the code already filled in (for a QR code or a link).
    #[serde(default)]
    pub verification_uri_complete: Option<String>,
    /// Seconds until both codes expire.
    pub expires_in: u64,
    /// Seconds to wait between polls; 5 when the provider does not say (§3.2).
    #[serde(default = "default_interval")]
    pub interval: u64,
}

fn default_interval() -> u64 {
    5
}

/// Why polling ended without tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// The person pressed Deny: `access_denied` (RFC 8628 §3.5).
    Denied,
    /// The device code expired before the person decided: `expired_token`
    /// from the provider, or its `expires_in` ran out here.
    Expired,
    /// Any other refusal or failure at the token endpoint.
    Token(TokenError),
}

impl fmt::Display for DeviceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceError::Denied => write!(
                f,
                "access was denied on the other device: nothing was collected; run again and press Allow"
            ),
            DeviceError::Expired => write!(
                f,
                "nobody entered the code in time and it expired: run again for a new code"
            ),
            DeviceError::Token(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DeviceError {}

/// Step 1: asks the device authorization endpoint for a device code and a user
/// code (RFC 8628 §3.1–3.2).
pub fn request_device_code(client: &Client) -> Result<DeviceAuthorization, TokenError> {
    // TODO: Ask the device authorization endpoint (RFC 8628 §3.1) for a code: client_id,
    //       and scope unless it is empty; with a client secret, authenticate as lesson 04
    //       does. No device endpoint: an error that says to add --device-url. Not 200: the
    //       token error the answer holds. 200: the DeviceAuthorization (not JSON: NotJson).
    todo!("Step 1: ask for a device code — see chapter 9 (book/src/lesson09/index.md)")
}

/// Step 2: polls the token endpoint until the person decides (RFC 8628
/// §3.4–3.5), waiting with `sleep` between polls, and stops at the device
/// code's own expiry whatever the provider says.
pub fn poll_for_tokens(
    client: &Client,
    device: &DeviceAuthorization,
    sleep: &dyn Fn(Duration),
) -> Result<Tokens, DeviceError> {
    // TODO: Poll the token endpoint (RFC 8628 §3.4) every `interval`, waiting first, until
    //       the person decides; stop with Expired before the time waited plus the
    //       interval reaches expires_in. The answers (§3.5): tokens → done;
    //       authorization_pending → poll again; slow_down → 5 s more between polls;
    //       access_denied → Denied; expired_token → Expired; the connection failing
    //       (Network) → twice the interval from then on, and poll again (§3.5);
    //       anything else → Token(error).
    todo!(
        "Step 2: poll the token endpoint until the person decides — see chapter 9 (book/src/lesson09/index.md)"
    )
}
