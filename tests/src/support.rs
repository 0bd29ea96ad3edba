//! What the suites share: a mock provider per check, a client for it, plain
//! HTTP calls, and a watchdog so a check that hangs fails instead.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use labkit::{Client, Secret};
use mock_provider::{Config, MockProvider};

pub fn provider() -> MockProvider {
    MockProvider::start(Config::default()).expect("the mock provider starts")
}

/// The built-in confidential client, for this provider, which names itself
/// in every authorization answer (`iss`, RFC 9207).
pub fn client_for(provider: &MockProvider) -> Client {
    Client {
        iss: Some(provider.base_url().to_string()),
        ..client_at(provider.base_url())
    }
}

/// The built-in confidential client, for a provider (or a replica of one) at
/// `base`: its `/authorize`, `/token` and `/api`.
pub fn client_at(base: &str) -> Client {
    Client {
        authorize_url: format!("{base}/authorize"),
        token_url: format!("{base}/token"),
        api_url: format!("{base}/api"),
        client_id: "lab-client".into(),
        client_secret: Some(Secret::new("lab-secret")),
        scope: "profile posts:read".into(),
        revoke_url: Some(format!("{base}/revoke")),
        device_url: Some(format!("{base}/device_authorization")),
        iss: None,
    }
}

/// The mock provider's public client `lab-public` (no secret: PKCE).
pub fn public_client_for(provider: &MockProvider) -> Client {
    Client {
        client_id: "lab-public".into(),
        client_secret: None,
        ..client_for(provider)
    }
}

/// A plain HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .max_redirects(0)
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status,
        headers,
        body,
    }
}

/// GETs `url` as a browser would (no redirects followed).
pub fn get(url: &str) -> Answer {
    read(
        agent()
            .get(url)
            .call()
            .unwrap_or_else(|e| panic!("GET {url} got no answer: {e}")),
    )
}

/// GETs `url`; `None` when nothing answers (a fake browser's request may be refused).
pub fn try_get(url: &str) -> Option<Answer> {
    agent().get(url).call().ok().map(read)
}

pub fn get_with_token(url: &str, token: &str) -> Answer {
    read(
        agent()
            .get(url)
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap_or_else(|e| panic!("GET {url} got no answer: {e}")),
    )
}

/// Plays alice at the consent page and returns the code from the redirect,
/// without delivering it anywhere: for checks that start at the token step.
pub fn approved_code(
    provider: &MockProvider,
    client_id: &str,
    redirect_uri: &str,
    scope: &str,
) -> Secret {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", scope)
        .append_pair("state", "s");
    let url = format!("{}/authorize?{}", provider.base_url(), query.finish());
    let redirect = provider
        .resource_owner("alice")
        .approve(&url)
        .expect("alice can approve at the mock provider");
    Secret::new(redirect.param("code").expect("the redirect carries a code"))
}

/// Runs `f` on its own thread and fails with `what` if it has not returned in `seconds`.
pub fn within<T: Send + 'static>(
    seconds: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(seconds)) {
        Ok(Ok(value)) => value,
        // The same panic, on the check's own thread: a todo!() stays a todo!().
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("{what}: still running after {seconds} s"),
    }
}

/// A request a [`Scripted`] server received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// Path and query, as sent.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The decoded query parameter `name`, if sent once or more (the first).
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.url.split_once('?').map_or("", |(_, q)| q);
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The decoded form field `name` of the body.
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// A canned answer: status, headers, body.
pub type Canned = (u16, Vec<(&'static str, String)>, String);

/// A server on 127.0.0.1 that answers requests with canned answers, in order
/// (the last one again once the list runs out), and records what it received:
/// a replica of an API or token endpoint for faults and sequences the mock
/// provider does not produce.
pub struct Scripted {
    pub base: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    _server: std::sync::Arc<tiny_http::Server>,
}

impl Scripted {
    pub fn start(answers: Vec<Canned>) -> Scripted {
        let server =
            std::sync::Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a loopback port"));
        let base = format!("http://127.0.0.1:{}", labkit::port_of(&server));
        let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (srv, log) = (server.clone(), received.clone());
        std::thread::spawn(move || {
            let mut next = 0;
            while let Ok(mut request) = srv.recv() {
                let mut body = String::new();
                let _ = std::io::Read::read_to_string(request.as_reader(), &mut body);
                log.lock().unwrap().push(Received {
                    method: request.method().to_string(),
                    url: request.url().to_string(),
                    headers: request
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect(),
                    body,
                });
                let (status, headers, body) = answers[next.min(answers.len() - 1)].clone();
                next += 1;
                let mut response = tiny_http::Response::from_string(body).with_status_code(status);
                for (name, value) in headers {
                    response.add_header(
                        tiny_http::Header::from_bytes(name, value).expect("a valid header"),
                    );
                }
                let _ = request.respond(response);
            }
        });
        Scripted {
            base,
            received,
            _server: server,
        }
    }

    /// What came in so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// A JSON answer with this status.
pub fn json_answer(status: u16, body: &str) -> Canned {
    (
        status,
        vec![("Content-Type", "application/json".to_string())],
        body.to_string(),
    )
}
