//! One simulated student: a public client running the authorization-code flow
//! with PKCE (RFC 7636) against a provider started with `--auto-approve alice`,
//! checking every answer the way a strict client would.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use url::form_urlencoded;

use crate::client::Client;

const CLIENT_ID: &str = "lab-public";
const USER: &str = "alice";

/// A student's client: one keep-alive connection, reused for every request
/// (or, with `--new-connection-per-request`, a new one for each).
pub struct Student {
    client: Client,
    base_url: String,
    redirect_uri: String,
}

/// Why a flow failed, in words that stay the same from one flow to the next
/// (no codes or tokens), so that failures can be counted by kind.
pub type FlowError = String;

impl Student {
    /// Student `n`; its redirect URI uses a port of its own, as a real listener
    /// on 127.0.0.1:0 would (RFC 8252 §7.3 lets the port vary).
    pub fn new(
        base_url: &str,
        n: usize,
        new_connection_per_request: bool,
    ) -> Result<Student, String> {
        let client = Client::new(base_url)?;
        Ok(Student {
            client: if new_connection_per_request {
                client.new_connection_per_request()
            } else {
                client
            },
            base_url: base_url.to_string(),
            redirect_uri: format!("http://127.0.0.1:{}/callback", 20_000 + n % 40_000),
        })
    }

    /// Authorize (auto-approved) → token → `/api/me`.
    pub fn full_flow(&mut self) -> Result<(), FlowError> {
        let verifier = URL_SAFE_NO_PAD.encode(random::<32>());
        let state = URL_SAFE_NO_PAD.encode(random::<12>());
        let code = self.authorize(&verifier, &state)?;
        let access_token = self.exchange(&code, &verifier)?;
        self.me(&access_token)
    }

    /// `GET /authorize`: a 302 to the redirect URI with `code`, the same
    /// `state` and `iss` (RFC 6749 §4.1.2, RFC 9207).
    fn authorize(&mut self, verifier: &str, state: &str) -> Result<String, FlowError> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("response_type", "code")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", "profile")
            .append_pair("state", state)
            .append_pair("code_challenge", &mock_provider::s256(verifier))
            .append_pair("code_challenge_method", "S256")
            .finish();
        let answer = self
            .client
            .get(&format!("/authorize?{query}"), None)
            .map_err(|e| format!("authorize: {e}"))?;
        if answer.status != 302 {
            return Err(format!("authorize: status {}, not 302", answer.status));
        }
        let location = answer
            .header("location")
            .ok_or("authorize: a 302 without a Location")?;
        let url = url::Url::parse(location).map_err(|_| "authorize: Location is not a URL")?;
        let without_query = location.split('?').next().unwrap_or_default();
        if without_query != self.redirect_uri {
            return Err("authorize: redirected somewhere else than the redirect URI".into());
        }
        let (mut code, mut got_state, mut iss) = (None, None, None);
        for (name, value) in url.query_pairs() {
            match &*name {
                "code" => code = Some(value.into_owned()),
                "state" => got_state = Some(value.into_owned()),
                "iss" => iss = Some(value.into_owned()),
                "error" => return Err(format!("authorize: error={value}")),
                _ => {}
            }
        }
        if got_state.as_deref() != Some(state) {
            return Err("authorize: state is not the one sent".into());
        }
        if iss.as_deref() != Some(self.base_url.as_str()) {
            return Err("authorize: iss is not the provider's base URL".into());
        }
        code.filter(|c| !c.is_empty())
            .ok_or_else(|| "authorize: no code in the redirect".into())
    }

    /// `POST /token`: the code and its verifier for tokens (RFC 6749 §4.1.3, §5.1).
    fn exchange(&mut self, code: &str, verifier: &str) -> Result<String, FlowError> {
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("client_id", CLIENT_ID)
            .append_pair("code_verifier", verifier)
            .finish();
        let answer = self
            .client
            .post_form("/token", &form)
            .map_err(|e| format!("token: {e}"))?;
        let json: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if answer.status != 200 {
            let error = json["error"].as_str().unwrap_or("no error code");
            return Err(format!("token: status {}, {error}", answer.status));
        }
        let no_store = answer.header("cache-control") == Some("no-store");
        if !no_store {
            return Err("token: no Cache-Control: no-store".into());
        }
        if !json["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
        {
            return Err("token: token_type is not Bearer".into());
        }
        json["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| "token: no access_token".into())
    }

    /// `GET /api/me` with the bearer token (RFC 6750 §2.1): alice's profile.
    fn me(&mut self, access_token: &str) -> Result<(), FlowError> {
        let answer = self
            .client
            .get("/api/me", Some(&format!("Bearer {access_token}")))
            .map_err(|e| format!("api/me: {e}"))?;
        if answer.status != 200 {
            return Err(format!("api/me: status {}", answer.status));
        }
        let json: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        if json["username"] != USER {
            return Err(format!("api/me: not {USER}'s profile"));
        }
        Ok(())
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).expect("the operating system has no random source");
    bytes
}
