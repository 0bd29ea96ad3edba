//! Arguments, choosing a provider, and the numbered steps a lesson program prints.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use mock_provider::{Config, MockProvider, ResourceOwner};

use crate::{Client, LabError, Secret, listen, port_of};

/// Arguments of lessons 01–02: a listener and nothing else.
#[derive(Parser, Debug)]
pub struct PortArgs {
    /// Port on 127.0.0.1 to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
}

/// Arguments of every client program (lessons 03 on).
///
/// With no endpoint flags, the mock provider at 127.0.0.1:9000 is used if one
/// answers, else one is started inside the program, and the lab's own secret
/// is used with it. A client secret of your own comes only from the
/// environment (`OAUTH_CLIENT_SECRET`), never from the command line, and is
/// sent only to endpoints named with the flags.
#[derive(Parser, Debug)]
pub struct Cli {
    /// Port on 127.0.0.1 for the redirect listener: 0 picks a free one, the
    /// default from lesson 06 on (lessons 03–05 default to 8000).
    #[arg(long)]
    pub port: Option<u16>,
    /// The provider's authorization endpoint.
    #[arg(long, value_name = "URL", requires_all = ["token_url", "client_id"])]
    pub authorize_url: Option<String>,
    /// The provider's token endpoint.
    #[arg(long, value_name = "URL", requires = "authorize_url")]
    pub token_url: Option<String>,
    /// The API's base URL (`/me` and `/posts` are under it).
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// The provider's revocation endpoint, RFC 7009 (lesson 07 on).
    #[arg(long, value_name = "URL", requires = "authorize_url")]
    pub revoke_url: Option<String>,
    /// The provider's device authorization endpoint, RFC 8628 (lesson 09).
    #[arg(long, value_name = "URL", requires = "authorize_url")]
    pub device_url: Option<String>,
    /// The client id registered with the provider.
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Scopes to ask for, space-separated.
    #[arg(long, default_value = "profile posts:read")]
    pub scope: String,
    /// Play this mock provider user in the background instead of opening a browser.
    #[arg(long, value_name = "USER")]
    pub simulate_user: Option<String>,
    /// How long to wait for the browser to come back.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Where to save the posts, as JSON Lines (lesson 05 on).
    #[arg(long, default_value = "posts.jsonl")]
    pub out: PathBuf,
}

impl Cli {
    /// Stops with a clear message when explicit endpoints come without
    /// `--api-url`, for the programs that call the API.
    pub fn require_api(&self) -> Result<(), LabError> {
        if self.authorize_url.is_some() && self.api_url.is_none() {
            return Err(LabError(
                "this program calls the API: add --api-url with the API's base URL".into(),
            ));
        }
        Ok(())
    }
}

/// Where a client program looks for a running mock provider when no endpoint
/// flag is given (`cargo run -p mock-provider` listens there).
const LOCAL_MOCK: &str = "http://127.0.0.1:9000";
/// Names another place to look instead of [`LOCAL_MOCK`], or `none` to never
/// look and always start one inside the program. The course's own tests set it,
/// so that whatever answers on port 9000 changes no result.
pub const LOCAL_MOCK_VAR: &str = "LAB_MOCK_URL";
/// The built-in clients of the mock provider, documented in the book.
const MOCK_CLIENT: (&str, &str) = ("lab-client", "lab-secret");
const MOCK_PUBLIC_CLIENT: &str = "lab-public";

/// Which of the mock provider's built-in clients a program plays when no
/// `--client-id` is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// `lab-client`, with its secret (lessons 03–05).
    Confidential,
    /// `lab-public`: no secret, so PKCE (lesson 06 on).
    Public,
}

/// The provider a program talks to: explicit endpoints, else the mock provider
/// on 127.0.0.1:9000, else one started here (the book's setup chapter).
/// A clone shares the embedded provider, which stops when the last clone goes.
#[derive(Clone)]
pub struct Provider {
    pub client: Client,
    /// The simulated user of `--simulate-user`, when the provider is a mock provider.
    pub simulated: Option<ResourceOwner>,
    _embedded: Option<Arc<MockProvider>>,
}

impl Provider {
    /// Chooses the provider and prints which one.
    pub fn choose(cli: &Cli, kind: ClientKind) -> Result<Provider, LabError> {
        let (client, embedded, is_mock) = choose_provider(cli, kind)?;
        let simulated = match &cli.simulate_user {
            None => None,
            Some(_) if !is_mock => {
                return Err(LabError(
                    "--simulate-user plays a user of a mock provider, and none answers at --authorize-url: leave out --simulate-user and log in in the browser".into(),
                ));
            }
            Some(name) => Some(simulated_user(name)?),
        };
        Ok(Provider {
            client,
            simulated,
            _embedded: embedded.map(Arc::new),
        })
    }

    /// A provider known by its endpoints alone (lesson 08's named providers):
    /// no mock provider, so no simulated user.
    pub fn from_client(client: Client) -> Provider {
        Provider {
            client,
            simulated: None,
            _embedded: None,
        }
    }

    /// True when the provider was started inside this program: it forgets its
    /// codes and tokens when the program ends.
    pub fn is_embedded(&self) -> bool {
        self._embedded.is_some()
    }
}

/// One run of a client program: the provider, the listener, the deadline, the steps.
pub struct Flow {
    pub client: Client,
    /// The local listener the browser comes back to.
    pub server: crate::Listener,
    /// `http://127.0.0.1:PORT/callback`, with the port the listener got.
    pub redirect_uri: String,
    /// When to stop waiting for the browser.
    pub deadline: Instant,
    /// Keeps the simulated user and an embedded mock provider.
    provider: Provider,
    steps: usize,
    done: Cell<usize>,
}

impl Flow {
    /// Picks the provider (as `lab-client` on a mock provider), binds the
    /// listener on `--port` (default 8000), and prints what it did.
    pub fn start(cli: &Cli, steps: usize) -> Result<Flow, LabError> {
        let provider = Provider::choose(cli, ClientKind::Confidential)?;
        let server = listen(cli.port.unwrap_or(8000))?;
        let redirect_uri = format!("http://127.0.0.1:{}/callback", port_of(&server));
        Ok(Flow::with_provider(
            cli,
            steps,
            provider,
            server,
            redirect_uri,
        ))
    }

    /// Like [`Flow::start`], for a program that binds its own listener (lesson 06
    /// on) and plays a public client (`lab-public` on a mock provider).
    pub fn start_public(
        cli: &Cli,
        steps: usize,
        server: crate::Listener,
        redirect_uri: String,
    ) -> Result<Flow, LabError> {
        let provider = Provider::choose(cli, ClientKind::Public)?;
        Ok(Flow::with_provider(
            cli,
            steps,
            provider,
            server,
            redirect_uri,
        ))
    }

    /// A flow with a provider chosen earlier (see [`Provider::choose`]) and a
    /// listener the program bound itself: for a program that needs the browser
    /// only sometimes (lesson 07's saved tokens), or knows its provider by name
    /// (lesson 08).
    pub fn with_provider(
        cli: &Cli,
        steps: usize,
        provider: Provider,
        server: crate::Listener,
        redirect_uri: String,
    ) -> Flow {
        println!("Listening on {redirect_uri}");
        Flow {
            client: provider.client.clone(),
            server,
            redirect_uri,
            deadline: Instant::now() + cli.timeout,
            provider,
            steps,
            done: Cell::new(0),
        }
    }

    /// Prints the next numbered step line: `[2/5] Waiting for the browser…`.
    pub fn step(&self, text: &str) {
        self.done.set(self.done.get() + 1);
        println!("[{}/{}] {text}", self.done.get(), self.steps);
    }

    /// Sends the person to `url`: prints it, then opens the browser — or, with
    /// `--simulate-user`, has the simulated user approve in the background.
    /// The listener is already bound, so the browser cannot come back too early.
    pub fn send_browser(&self, url: &str) {
        println!("  {url}");
        match &self.provider.simulated {
            Some(owner) => {
                println!(
                    "  (--simulate-user: {} approves in the background; no browser is opened)",
                    owner.username
                );
                let (owner, url) = (owner.clone(), url.to_string());
                std::thread::spawn(move || match owner.approve(&url).and_then(|r| r.follow()) {
                    Ok(_) => {}
                    Err(e) => eprintln!("  simulated user: {e}"),
                });
            }
            None => match webbrowser::open(url) {
                Ok(()) => println!(
                    "  (opened in your browser; if nothing appeared, open the URL above yourself)"
                ),
                Err(_) => println!(
                    "  (could not open a browser here: open the URL above yourself; still waiting)"
                ),
            },
        }
    }
}

/// Explicit endpoints, else the mock provider on 127.0.0.1:9000 (or where
/// [`LOCAL_MOCK_VAR`] says), else one started here. Returns the client, the
/// embedded provider if any, and whether it is a mock provider.
fn choose_provider(
    cli: &Cli,
    kind: ClientKind,
) -> Result<(Client, Option<MockProvider>, bool), LabError> {
    let secret = std::env::var(SECRET_VAR)
        .ok()
        .filter(|s| !s.is_empty())
        .map(Secret::new);
    choose_provider_from(cli, kind, secret, local_mock())
}

/// Where a client secret of one's own comes from, for explicit endpoints only.
const SECRET_VAR: &str = "OAUTH_CLIENT_SECRET";

/// [`choose_provider`] with the environment read: `secret` from
/// [`SECRET_VAR`], `local` from [`local_mock`].
///
/// `secret` goes only to endpoints named with the flags. Whatever answers on
/// 127.0.0.1:9000 is whoever got there first (any program on the machine may
/// listen there and copy the mock provider's metadata), so with a found or
/// embedded mock provider the lab's own secret is used: a secret set for
/// GitHub in lesson 08 never reaches it.
fn choose_provider_from(
    cli: &Cli,
    kind: ClientKind,
    secret: Option<Secret>,
    local: Option<String>,
) -> Result<(Client, Option<MockProvider>, bool), LabError> {
    if let (Some(authorize_url), Some(token_url)) = (&cli.authorize_url, &cli.token_url) {
        for (flag, value) in [
            ("--authorize-url", Some(authorize_url)),
            ("--token-url", Some(token_url)),
            ("--api-url", cli.api_url.as_ref()),
            ("--revoke-url", cli.revoke_url.as_ref()),
            ("--device-url", cli.device_url.as_ref()),
        ] {
            let Some(value) = value else { continue };
            if let Err(e) = url::Url::parse(value) {
                return Err(LabError(format!(
                    "{flag} {value:?} is not a URL ({e}): give the whole URL, like https://provider.example/oauth/token"
                )));
            }
        }
        println!("Using the provider at {authorize_url}");
        println!(
            "  client secret: {}",
            match &secret {
                Some(_) => format!("from {SECRET_VAR}"),
                None => format!("none ({SECRET_VAR} is not set)"),
            }
        );
        let client = Client {
            authorize_url: authorize_url.clone(),
            token_url: token_url.clone(),
            api_url: cli.api_url.clone().unwrap_or_default(),
            client_id: cli.client_id.clone().unwrap_or_default(),
            client_secret: secret,
            scope: cli.scope.clone(),
            revoke_url: cli.revoke_url.clone(),
            device_url: cli.device_url.clone(),
            iss: None,
        };
        // A mock provider reached by its URL still lets --simulate-user play a
        // lab user, and one on this machine still says that it sends `iss`.
        let parsed = url::Url::parse(authorize_url).ok();
        let origin = parsed
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        let on_this_machine = parsed
            .as_ref()
            .is_some_and(|u| matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")));
        let metadata = if cli.simulate_user.is_some() || on_this_machine {
            mock_metadata(&origin, cli.client_id.as_deref().unwrap_or(""))
        } else {
            None
        };
        let is_mock = cli.simulate_user.is_some() && metadata.is_some();
        let client = Client {
            iss: metadata.and_then(|m| m.iss),
            ..client
        };
        return Ok((client, None, is_mock));
    }
    // The client id this program plays, which its metadata request announces.
    let plays = cli.client_id.clone().unwrap_or(
        match kind {
            ClientKind::Confidential => MOCK_CLIENT.0,
            ClientKind::Public => MOCK_PUBLIC_CLIENT,
        }
        .into(),
    );
    let found = local
        .as_deref()
        .and_then(|url| Some((url, mock_metadata(url, &plays)?)));
    let (base, embedded, metadata) = match found {
        Some((url, metadata)) => {
            println!("Using the mock provider at {url}");
            (url.to_string(), None, Some(metadata))
        }
        None => {
            let provider = MockProvider::start(Config::default())?;
            match &local {
                Some(url) => println!(
                    "No provider answers on {url}, so one was started inside this program at {}",
                    provider.base_url()
                ),
                None => println!(
                    "A mock provider was started inside this program at {} ({LOCAL_MOCK_VAR}=none)",
                    provider.base_url()
                ),
            }
            // Its metadata too: what it says, not what we think we know.
            let metadata = mock_metadata(provider.base_url(), &plays);
            (provider.base_url().to_string(), Some(provider), metadata)
        }
    };
    // Never the environment's secret here (see above).
    let unused = if secret.is_some() {
        format!(
            "; {SECRET_VAR} is not sent to it (only to endpoints named with --authorize-url and --token-url)"
        )
    } else {
        String::new()
    };
    let (id, secret) = match kind {
        ClientKind::Confidential => {
            let (id, builtin) = MOCK_CLIENT;
            println!("  client secret: the mock provider's built-in one for {id}{unused}");
            (id, Some(Secret::new(builtin)))
        }
        ClientKind::Public => {
            println!("  client secret: none, {MOCK_PUBLIC_CLIENT} is a public client{unused}");
            (MOCK_PUBLIC_CLIENT, None)
        }
    };
    let client = Client {
        authorize_url: format!("{base}/authorize"),
        token_url: format!("{base}/token"),
        api_url: cli.api_url.clone().unwrap_or(format!("{base}/api")),
        client_id: cli.client_id.clone().unwrap_or(id.into()),
        client_secret: secret,
        scope: cli.scope.clone(),
        revoke_url: Some(format!("{base}/revoke")),
        device_url: Some(format!("{base}/device_authorization")),
        iss: metadata.and_then(|m| m.iss),
    };
    Ok((client, embedded, true))
}

/// Where to look for a running mock provider: [`LOCAL_MOCK`], or the URL that
/// [`LOCAL_MOCK_VAR`] gives; `None` when it says `none`.
fn local_mock() -> Option<String> {
    match std::env::var(LOCAL_MOCK_VAR) {
        Ok(value) if value.eq_ignore_ascii_case("none") => None,
        Ok(value) if !value.is_empty() => Some(value.trim_end_matches('/').to_string()),
        _ => Some(LOCAL_MOCK.to_string()),
    }
}

/// What a mock provider's metadata (RFC 8414 §3) tells a client.
struct Metadata {
    /// Its issuer, when it says it puts `iss` in every authorization answer
    /// (`authorization_response_iss_parameter_supported`, RFC 9207 §3).
    iss: Option<String>,
}

/// The metadata of the mock provider at `base`; `None` when none answers
/// there, or the answer names another issuer than `base` (RFC 8414 §3.3).
/// The request announces the program and `client_id` in its `User-Agent`,
/// so that a class's inspector names the lesson of the flow that follows.
fn mock_metadata(base: &str, client_id: &str) -> Option<Metadata> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .user_agent(crate::user_agent(client_id))
        .timeout_global(Some(Duration::from_millis(500)))
        .build()
        .into();
    let body = agent
        .get(&format!("{base}/.well-known/oauth-authorization-server"))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    let json: serde_json::Value = serde_json::from_str(&body).ok()?;
    let issuer = json.get("issuer")?.as_str()?;
    if issuer != base {
        return None;
    }
    let sends_iss = json.get("authorization_response_iss_parameter_supported")
        == Some(&serde_json::Value::Bool(true));
    Some(Metadata {
        iss: sends_iss.then(|| issuer.to_string()),
    })
}

fn simulated_user(name: &str) -> Result<ResourceOwner, LabError> {
    mock_provider::builtin_users()
        .iter()
        .find(|u| u.username == name)
        .map(|u| ResourceOwner::new(&u.username, &u.password))
        .ok_or_else(|| {
            LabError(format!(
                "--simulate-user {name}: no such lab user; use alice or bob"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::parse_from(std::iter::once("lesson").chain(args.iter().copied()))
    }

    // RFC 6749 §2.3.1: a client secret goes only to the provider it was
    // issued by. Whatever answers on 127.0.0.1:9000 is not known to be that
    // one, so a found mock provider gets the lab's own secret, never
    // OAUTH_CLIENT_SECRET (here: one set for GitHub in lesson 08).
    #[test]
    fn rfc6749_2_3_1_a_found_or_embedded_mock_provider_never_gets_the_environments_secret() {
        let found = MockProvider::start(Config::default()).unwrap();
        let mine = || Some(Secret::new("github-client-secret-of-my-own"));
        for local in [Some(found.base_url().to_string()), None] {
            let (client, _, is_mock) =
                choose_provider_from(&cli(&[]), ClientKind::Confidential, mine(), local.clone())
                    .unwrap();
            assert!(is_mock);
            assert_eq!(
                client.client_secret.as_ref().map(Secret::expose),
                Some("lab-secret"),
                "{local:?}"
            );
            let (client, _, _) =
                choose_provider_from(&cli(&[]), ClientKind::Public, mine(), local).unwrap();
            assert!(client.client_secret.is_none());
        }
    }

    #[test]
    fn rfc6749_2_3_1_named_endpoints_get_the_environments_secret() {
        let named = cli(&[
            "--authorize-url",
            "https://provider.example/authorize",
            "--token-url",
            "https://provider.example/token",
            "--client-id",
            "my-app",
        ]);
        let (client, embedded, _) = choose_provider_from(
            &named,
            ClientKind::Confidential,
            Some(Secret::new("my-own-secret")),
            None,
        )
        .unwrap();
        assert!(embedded.is_none());
        assert_eq!(
            client.client_secret.as_ref().map(Secret::expose),
            Some("my-own-secret")
        );
    }

    // In class, the provider's inspector names each flow's lesson and client
    // from the User-Agent of the program's first request (the metadata).
    #[test]
    fn the_metadata_request_announces_the_program_and_its_client() {
        let found = MockProvider::start(Config::default()).unwrap();
        let base = found.base_url().to_string();
        let mine = cli(&["--client-id", "student07-public"]);
        choose_provider_from(&mine, ClientKind::Public, None, Some(base.clone())).unwrap();
        choose_provider_from(&cli(&[]), ClientKind::Confidential, None, Some(base)).unwrap();
        let agents: Vec<Option<String>> = found.events().into_iter().map(|e| e.agent).collect();
        // This test binary is labkit's; a lesson's program says `oauth2-lab/lesson05`.
        assert_eq!(
            agents,
            [
                Some("oauth2-lab/labkit (client student07-public)".to_string()),
                Some("oauth2-lab/labkit (client lab-client)".to_string()),
            ]
        );
        assert_eq!(
            crate::user_agent("a b(c)\n"),
            "oauth2-lab/labkit (client abc)"
        );
    }

    // RFC 9207 §2.4: a client checks `iss` where the provider's metadata says
    // it sends one. The mock provider does, found or started here; a provider
    // named by its endpoints on this machine is asked too.
    #[test]
    fn rfc9207_the_iss_to_check_comes_from_the_metadata() {
        let found = MockProvider::start(Config::default()).unwrap();
        let base = found.base_url().to_string();
        let (client, _, _) =
            choose_provider_from(&cli(&[]), ClientKind::Public, None, Some(base.clone())).unwrap();
        assert_eq!(client.iss.as_deref(), Some(base.as_str()), "found");
        let (client, embedded, _) =
            choose_provider_from(&cli(&[]), ClientKind::Public, None, None).unwrap();
        let embedded = embedded.unwrap();
        assert_eq!(client.iss.as_deref(), Some(embedded.base_url()), "embedded");
        let named = cli(&[
            "--authorize-url",
            &format!("{base}/authorize"),
            "--token-url",
            &format!("{base}/token"),
            "--client-id",
            "lab-public",
        ]);
        let (client, _, _) = choose_provider_from(&named, ClientKind::Public, None, None).unwrap();
        assert_eq!(client.iss.as_deref(), Some(base.as_str()), "named");
    }

    // RFC 9207 §2.4: no `iss` is expected from a provider whose metadata does
    // not promise one, or that has none (GitHub, Google, LinkedIn).
    #[test]
    fn rfc9207_no_iss_is_expected_unless_the_metadata_promises_it() {
        use std::io::{Read, Write};
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", server.local_addr().unwrap());
        let body = format!(r#"{{"issuer":"{base}","authorization_endpoint":"{base}/authorize"}}"#);
        std::thread::spawn(move || {
            for stream in server.incoming().take(2) {
                let mut stream = stream.unwrap();
                let mut buffer = [0u8; 4096];
                let _ = stream.read(&mut buffer);
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        let (client, _, _) =
            choose_provider_from(&cli(&[]), ClientKind::Public, None, Some(base.clone())).unwrap();
        assert_eq!(client.iss, None, "metadata without the promise");
        let named = cli(&[
            "--authorize-url",
            "https://github.com/login/oauth/authorize",
            "--token-url",
            "https://github.com/login/oauth/access_token",
            "--client-id",
            "my-app",
        ]);
        let (client, _, _) = choose_provider_from(&named, ClientKind::Public, None, None).unwrap();
        assert_eq!(client.iss, None, "a provider elsewhere is not asked");
    }
}
