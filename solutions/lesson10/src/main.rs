//! `cargo run -p solution10 -- [--simulate-user alice] [--cache FILE]`: lesson
//! 07's program, with the `oauth2` crate doing the protocol: signs in once, then
//! reuses (and refreshes) the saved tokens on later runs.
//! `cargo run -p solution10 -- logout`: revokes them and deletes the file.
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Parser, Subcommand};
use labkit::{Cli, ClientKind, ErrorCode, Flow, LabError, Provider, Secret, TokenError};
use solution10 as lab;

#[derive(Parser)]
#[command(about = "OAuth2 Lab lesson 10: the same flow with the oauth2 crate")]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The token file (default: oauth2-lab/tokens-….json in your configuration folder).
    #[arg(long, value_name = "FILE", global = true)]
    cache: Option<PathBuf>,
    #[command(flatten)]
    lab: Cli,
}

#[derive(Subcommand)]
enum Command {
    /// Revoke the saved tokens at the provider (RFC 7009) and delete the file.
    Logout,
}

/// The mock provider of `cargo run -p mock-provider`, which outlives this program.
const LOCAL_MOCK: &str = "http://127.0.0.1:9000";

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let args = Args::parse();
        match args.command {
            Some(Command::Logout) => logout(&args),
            None => sign_in(&args),
        }
    })
}

fn logout(args: &Args) -> Result<(), LabError> {
    let provider = Provider::choose(&args.lab, ClientKind::Public)?;
    let path = match &args.cache {
        Some(path) => path.clone(),
        None => lab::cache_path(&provider.client)?,
    };
    let Some(stored) = lab::load(&path)? else {
        // A garbled file holds nothing usable, but may hold a token: delete it too.
        let _ = std::fs::remove_file(&path);
        println!("No saved tokens in {}: nothing to do", path.display());
        return Ok(());
    };
    let Some(revoke_url) = &provider.client.revoke_url else {
        std::fs::remove_file(&path)?;
        println!(
            "Deleted {}. This provider has no revocation endpoint, so it was not told: the tokens stay valid until they expire (revoke the app's access in your account settings there)",
            path.display()
        );
        return Ok(());
    };
    let oauth = lab::oauth_client(&provider.client, None)?;
    lab::revoke(&oauth, &lab::UreqClient::new(), &provider.client, &stored)?;
    // Deleted only now: had the provider not answered, the file keeps the
    // tokens so that a second try can still revoke them.
    std::fs::remove_file(&path)?;
    let revoked = match stored.refresh_token {
        Some(_) => "refresh token and the access token",
        None => "access token",
    };
    println!(
        "Revoked the {revoked} at {revoke_url} and deleted {}",
        path.display()
    );
    Ok(())
}

fn sign_in(args: &Args) -> Result<(), LabError> {
    let cli = &args.lab;
    let (server, redirect_uri) = lab::bind_loopback(cli.port.unwrap_or(0))?;
    let flow = Flow::start_public(cli, 3, server, redirect_uri)?;
    // A provider started inside this program forgets its tokens when the program
    // ends: a file in the configuration folder would only collect dead tokens.
    let embedded =
        cli.authorize_url.is_none() && flow.provider.mock_base.as_deref() != Some(LOCAL_MOCK);
    let (path, scratch) = match &args.cache {
        Some(path) => (path.clone(), None),
        None if embedded => {
            let dir = std::env::temp_dir().join(format!("oauth2-lab-{}", std::process::id()));
            println!(
                "(The provider inside this program forgets its tokens when the program ends, so they are kept in a scratch file this time. Run `cargo run -p mock-provider` in another terminal to see a second run reuse them.)"
            );
            (dir.join("tokens.json"), Some(dir))
        }
        None => (lab::cache_path(&flow.client)?, None),
    };
    println!("Token file: {}", path.display());
    let session = Session {
        oauth: lab::oauth_client(&flow.client, Some(&flow.redirect_uri))?,
        http: lab::UreqClient::new(),
        flow: &flow,
        path: &path,
    };
    let result = session.use_tokens();
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// One run: the provider and listener, the oauth2 client, and the token file.
struct Session<'a> {
    oauth: lab::OAuthClient,
    http: lab::UreqClient,
    flow: &'a Flow,
    path: &'a Path,
}

impl Session<'_> {
    fn use_tokens(&self) -> Result<(), LabError> {
        let stored = self.valid_tokens(SystemTime::now())?;
        let api_url = &self.flow.client.api_url;
        if api_url.is_empty() {
            // Another provider's API is not known here (no --api-url): the tokens are the result.
            let refresh = match &stored.refresh_token {
                Some(token) => format!("refresh token {token}"),
                None => "no refresh token".into(),
            };
            println!(
                "Access token {} ({}), {refresh}",
                stored.access_token,
                lab::expiry_in_words(&stored, SystemTime::now())
            );
            return Ok(());
        }
        let profile = match labkit::read_profile(api_url, &stored.access_token)? {
            Some(profile) => profile,
            None => {
                // The saved token looked fine but the API says no: revoked elsewhere,
                // or the provider restarted. Treat it as expired: refresh, or ask again.
                println!("The API refused the saved access token: refreshing it");
                let expired = lab::StoredTokens {
                    expires_at: Some(0),
                    ..stored
                };
                lab::save(self.path, &expired)?;
                let stored = self.valid_tokens(SystemTime::now())?;
                labkit::read_profile(api_url, &stored.access_token)?
                    .ok_or("the API refused even a new access token: check --api-url and --scope")?
            }
        };
        println!("Signed in as {} ({})", profile.name, profile.username);
        Ok(())
    }

    /// Lesson 07's `valid_tokens`, with this lesson's refresh: the saved tokens
    /// while they last, refreshed a minute before they expire, new ones from the
    /// browser when there are none or the refresh token no longer works.
    fn valid_tokens(&self, now: SystemTime) -> Result<lab::StoredTokens, LabError> {
        if let Some(stored) = lab::load(self.path)? {
            if !lab::needs_refresh(&stored, now) {
                println!(
                    "Using saved tokens (the access token {})",
                    lab::expiry_in_words(&stored, now)
                );
                return Ok(stored);
            }
            println!(
                "The saved access token {}: refreshing it",
                lab::expiry_in_words(&stored, now)
            );
            match lab::refresh(&self.oauth, &self.http, &stored, now) {
                Ok(fresh) => {
                    // Save at once: the old refresh token may be dead already (rotation).
                    lab::save(self.path, &fresh)?;
                    println!(
                        "Refreshed: the new access token {}",
                        lab::expiry_in_words(&fresh, now)
                    );
                    return Ok(fresh);
                }
                Err(TokenError::Rejected {
                    code: ErrorCode::InvalidGrant,
                    description,
                    ..
                }) => println!(
                    "The provider no longer accepts the refresh token ({}): asking for permission again",
                    description.as_deref().unwrap_or("invalid_grant")
                ),
                Err(e) => return Err(e.into()),
            }
        }
        let stored = self.authorize(now)?;
        lab::save(self.path, &stored)?;
        println!("Saved the tokens to {}", self.path.display());
        Ok(stored)
    }

    /// The browser flow, with the library: PKCE, state, exchange.
    fn authorize(&self, now: SystemTime) -> Result<lab::StoredTokens, LabError> {
        let flow = self.flow;
        let request = lab::authorization_request(&self.oauth, &flow.client.scope);
        flow.step("Asking for permission (PKCE, as in lesson 06): log in and approve at");
        flow.send_browser(&request.url);
        flow.step(&format!(
            "Waiting for the browser to come back to {}",
            flow.redirect_uri
        ));
        let code = lab::wait_for_callback(&flow.server, request.state.secret(), flow.deadline)?;
        // Shortened, as every secret the program prints.
        let verifier = Secret::new(request.verifier.secret().as_str());
        flow.step(&format!(
            "Trading the code ({code}) and the verifier ({verifier}) for tokens at {}",
            flow.client.token_url
        ));
        Ok(lab::exchange_code(
            &self.oauth,
            &self.http,
            &code,
            request.verifier,
            now,
        )?)
    }
}
