//! Lesson 09 — No browser here: the reference answer.
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

// ANCHOR: types
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
// ANCHOR_END: types

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

// ANCHOR: request_device_code
/// Step 1: asks the device authorization endpoint for a device code and a user
/// code (RFC 8628 §3.1–3.2).
pub fn request_device_code(client: &Client) -> Result<DeviceAuthorization, TokenError> {
    let Some(device_url) = &client.device_url else {
        return Err(TokenError::Network(
            "this client has no device_url: add --device-url".into(),
        ));
    };
    // §3.1: client_id always; the scope if there is one.
    let mut form = vec![("client_id", client.client_id.as_str())];
    if !client.scope.is_empty() {
        form.push(("scope", client.scope.as_str()));
    }
    let mut request = token_agent()
        .post(device_url)
        .header("Accept", "application/json");
    // A confidential client authenticates as at the token endpoint (RFC 6749 §2.3.1).
    if let Some(secret) = &client.client_secret {
        request = request.header(
            "Authorization",
            &basic_auth(&client.client_id, secret.expose()),
        );
    }
    let mut response = request
        .send_form(form)
        .map_err(|e| TokenError::Network(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| TokenError::Network(e.to_string()))?;
    if status != 200 {
        // The same error shapes as the token endpoint's (RFC 8628 §3.2).
        return Err(token_error(status, &body));
    }
    serde_json::from_str(&body).map_err(|_| TokenError::NotJson {
        status,
        body_start: labkit::body_start(&body),
    })
}
// ANCHOR_END: request_device_code

// ANCHOR: poll_for_tokens
/// Step 2: polls the token endpoint until the person decides (RFC 8628
/// §3.4–3.5), waiting with `sleep` between polls, and stops at the device
/// code's own expiry whatever the provider says.
pub fn poll_for_tokens(
    client: &Client,
    device: &DeviceAuthorization,
    sleep: &dyn Fn(Duration),
) -> Result<Tokens, DeviceError> {
    let mut interval = Duration::from_secs(device.interval);
    let lifetime = Duration::from_secs(device.expires_in);
    // Time is counted in the waits: the requests themselves take next to nothing.
    let mut waited = Duration::ZERO;
    loop {
        // The code would be dead by the next poll: stop instead of asking.
        if waited + interval >= lifetime {
            return Err(DeviceError::Expired);
        }
        // Nobody decides in no time: wait first, then ask.
        sleep(interval);
        waited += interval;
        let error = match poll_once(client, device) {
            Ok(tokens) => return Ok(tokens),
            Err(error) => error,
        };
        // The connection timed out or broke: poll half as often from now on
        // (RFC 8628 §3.5), rather than give up or hammer a struggling server.
        if let TokenError::Network(_) = error {
            interval *= 2;
            continue;
        }
        // RFC 8628 §3.5 adds its own error codes to RFC 6749 §5.2's.
        let code = match &error {
            TokenError::Rejected {
                code: ErrorCode::Other(code),
                ..
            } => code.as_str(),
            _ => "",
        };
        match code {
            // Not yet: ask again after the interval.
            "authorization_pending" => {}
            // Too fast: 5 s more between polls, from now on.
            "slow_down" => interval += Duration::from_secs(5),
            "access_denied" => return Err(DeviceError::Denied),
            "expired_token" => return Err(DeviceError::Expired),
            _ => return Err(DeviceError::Token(error)),
        }
    }
}

/// One poll: the device code for tokens (RFC 8628 §3.4).
fn poll_once(client: &Client, device: &DeviceAuthorization) -> Result<Tokens, TokenError> {
    let form = [
        ("grant_type", DEVICE_GRANT),
        ("device_code", device.device_code.expose()),
        ("client_id", client.client_id.as_str()),
    ];
    let mut request = token_agent()
        .post(&client.token_url)
        .header("Accept", "application/json");
    if let Some(secret) = &client.client_secret {
        request = request.header(
            "Authorization",
            &basic_auth(&client.client_id, secret.expose()),
        );
    }
    let mut response = request
        .send_form(form)
        .map_err(|e| TokenError::Network(e.to_string()))?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_to_string()
        .map_err(|e| TokenError::Network(e.to_string()))?;
    read_tokens(status, &body)
}
// ANCHOR_END: poll_for_tokens
