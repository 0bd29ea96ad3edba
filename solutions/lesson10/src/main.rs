//! `cargo run -p lesson10 -- [--simulate-user alice] [--cache FOLDER]`: lesson
//! 07's program, with the `oauth2` crate doing the protocol: signs in once, then
//! reuses (and refreshes) the saved tokens on later runs.
//! `cargo run -p lesson10 -- logout`: revokes them and deletes the file.
//! (`cargo run -p solution10` runs the same program on the reference answer.)
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use labkit::{Cli, ClientKind, ErrorCode, Flow, LabError, Provider, Secret, TokenError};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use solution10 as lesson;

const ABOUT: &str = "OAuth2 Lab lesson 10: the same flow with the oauth2 crate";

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// The folder of the token files, one per provider and client (default:
    /// oauth2-lab in your configuration folder).
    #[arg(long, value_name = "FOLDER")]
    cache: Option<PathBuf>,
    #[command(flatten)]
    lab: Cli,
}

#[derive(Subcommand)]
enum Command {
    /// Revoke the saved tokens of this provider and client (RFC 7009) and delete the file.
    Logout,
}

/// The arguments, with this lesson's description, and every flag accepted
/// before or after `logout`.
fn command() -> clap::Command {
    Args::command()
        .about(ABOUT)
        .long_about(None)
        .mut_args(|arg| arg.global(true))
}

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let args = Args::from_arg_matches(&command().get_matches()).map_err(|e| e.exit())?;
        match args.command {
            Some(Command::Logout) => logout(&args),
            None => sign_in(&args),
        }
    })
}

/// The folder of the token files: --cache, else the configuration folder.
fn cache_dir(args: &Args) -> Result<PathBuf, LabError> {
    match &args.cache {
        Some(dir) if dir.is_file() => Err(LabError(format!(
            "--cache {} is a file: --cache takes a folder now (each provider and client gets its own file in it)",
            dir.display()
        ))),
        Some(dir) => Ok(dir.clone()),
        None => lesson::default_cache_dir(),
    }
}

fn logout(args: &Args) -> Result<(), LabError> {
    let provider = Provider::choose(&args.lab, ClientKind::Public)?;
    if provider.is_embedded() {
        // Its tokens died with the run that got them: there is nothing to revoke.
        println!(
            "Nothing to log out of: no provider was given and none answers on 127.0.0.1:9000. Give the provider's --authorize-url, --token-url, --revoke-url and --client-id"
        );
        return Ok(());
    }
    let client = &provider.client;
    let path = lesson::token_file(&cache_dir(args)?, client)?;
    if std::fs::symlink_metadata(&path).is_err() {
        println!(
            "No saved tokens for client {:?} at {} (no {}): nothing was revoked. To log out of another provider or client, give its --authorize-url, --token-url, --revoke-url and --client-id",
            client.client_id,
            client.token_url,
            path.display()
        );
        return Ok(());
    }
    let Some(stored) = lesson::load(&path)? else {
        // A garbled file holds nothing usable, but may hold a token: delete it too.
        let _ = std::fs::remove_file(&path);
        println!("No saved tokens in {}: nothing to do", path.display());
        return Ok(());
    };
    let Some(revoke_url) = &client.revoke_url else {
        std::fs::remove_file(&path)?;
        println!(
            "Deleted {}. This provider has no revocation endpoint, so it was not told: the tokens stay valid until they expire (revoke the app's access in your account settings there)",
            path.display()
        );
        return Ok(());
    };
    let oauth = lesson::oauth_client(client, None)?;
    lesson::revoke(&oauth, &lesson::UreqClient::new(), client, &stored)?;
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
    let provider = Provider::choose(cli, ClientKind::Public)?;
    // A provider started inside this program forgets its tokens when the program
    // ends: a file in the token folder would only collect dead tokens.
    let (dir, scratch) = if provider.is_embedded() {
        let dir = std::env::temp_dir().join(format!("oauth2-lab-{}", std::process::id()));
        println!(
            "(The provider inside this program forgets its tokens when the program ends, so they are kept in a scratch folder this time. Run `cargo run -p mock-provider` in another terminal to see a second run reuse them.)"
        );
        (dir.clone(), Some(dir))
    } else {
        (cache_dir(args)?, None)
    };
    let path = lesson::token_file(&dir, &provider.client)?;
    println!("Token file: {}", path.display());
    let result = (|| {
        // One run at a time reads, refreshes and saves this file.
        let _lock = lesson::lock_tokens(&path, cli.timeout, &mut std::thread::sleep)?;
        let session = Session {
            oauth: lesson::oauth_client(&provider.client, None)?,
            http: lesson::UreqClient::new(),
            cli,
            provider: &provider,
            flow: std::cell::RefCell::new(None),
            path: &path,
        };
        session.use_tokens()
    })();
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// One run: the provider, the oauth2 client, the token file, and the browser
/// flow with its listener once it is needed.
struct Session<'a> {
    oauth: lesson::OAuthClient,
    http: lesson::UreqClient,
    cli: &'a Cli,
    provider: &'a Provider,
    flow: std::cell::RefCell<Option<Flow>>,
    path: &'a Path,
}

impl Session<'_> {
    fn use_tokens(&self) -> Result<(), LabError> {
        let stored = self.valid_tokens(SystemTime::now())?;
        let api_url = &self.provider.client.api_url;
        if api_url.is_empty() {
            // Another provider's API is not known here (no --api-url): the tokens are the result.
            let refresh = match &stored.refresh_token {
                Some(token) => format!("refresh token {token}"),
                None => "no refresh token".into(),
            };
            println!(
                "Access token {} ({}), {refresh}",
                stored.access_token,
                lesson::expiry_in_words(&stored, SystemTime::now())
            );
            return Ok(());
        }
        let profile = match labkit::read_profile(api_url, &stored.access_token)? {
            Some(profile) => profile,
            None => {
                // The saved token looked fine but the API says no: revoked elsewhere,
                // or the provider restarted. Treat it as expired: refresh, or ask again.
                println!("The API refused the saved access token: refreshing it");
                let expired = lesson::StoredTokens {
                    expires_at: Some(0),
                    ..stored
                };
                lesson::save(self.path, &expired)?;
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
    fn valid_tokens(&self, now: SystemTime) -> Result<lesson::StoredTokens, LabError> {
        if let Some(stored) = lesson::load(self.path)? {
            if !lesson::needs_refresh(&stored, now) {
                println!(
                    "Using saved tokens (the access token {})",
                    lesson::expiry_in_words(&stored, now)
                );
                return Ok(stored);
            }
            if stored.refresh_token.is_none() {
                // Nothing to refresh with: the provider never gave a refresh token.
                println!(
                    "The saved access token {} and there is no refresh token: signing in again",
                    lesson::expiry_in_words(&stored, now)
                );
            } else {
                println!(
                    "The saved access token {}: refreshing it",
                    lesson::expiry_in_words(&stored, now)
                );
                match lesson::refresh(&self.oauth, &self.http, &stored, now) {
                    Ok(fresh) => {
                        // Save at once: the old refresh token may be dead already (rotation).
                        lesson::save(self.path, &fresh)?;
                        println!(
                            "Refreshed: the new access token {}",
                            lesson::expiry_in_words(&fresh, now)
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
                    // Within the early minute the access token still works: use it.
                    Err(e)
                        if stored
                            .expires_at
                            .is_some_and(|at| lesson::unix_seconds(now) < at) =>
                    {
                        println!(
                            "warning: could not refresh ({e}); using the saved access token, which {}",
                            lesson::expiry_in_words(&stored, now)
                        );
                        return Ok(stored);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        let stored = self.authorize(now)?;
        lesson::save(self.path, &stored)?;
        println!("Saved the tokens to {}", self.path.display());
        Ok(stored)
    }

    /// The browser flow, with the library: PKCE, state, exchange. The
    /// listener is bound here, the first time the browser is needed.
    fn authorize(&self, now: SystemTime) -> Result<lesson::StoredTokens, LabError> {
        let mut slot = self.flow.borrow_mut();
        if slot.is_none() {
            *slot = Some(browser_flow(self.cli, self.provider)?);
        }
        let flow = slot.as_ref().expect("just made");
        let client = &self.provider.client;
        let oauth = lesson::oauth_client(client, Some(&flow.redirect_uri))?;
        let request = lesson::authorization_request(&oauth, &client.scope);
        flow.step("Asking for permission (PKCE, as in lesson 06): log in and approve at");
        flow.send_browser(&request.url);
        flow.step(&format!(
            "Waiting for the browser to come back to {}",
            flow.redirect_uri
        ));
        let code = lesson::wait_for_callback(
            &flow.server,
            request.state.secret(),
            client.iss.as_deref(),
            flow.deadline,
        )?;
        // Shortened, as every secret the program prints.
        let verifier = Secret::new(request.verifier.secret().as_str());
        flow.step(&format!(
            "Trading the code ({code}) and the verifier ({verifier}) for tokens at {}",
            client.token_url
        ));
        Ok(lesson::exchange_code(
            &oauth,
            &self.http,
            &code,
            request.verifier,
            now,
        )?)
    }
}

/// Binds the listener and prepares the browser flow, with the provider chosen
/// already: the browser is needed only when there are no good saved tokens.
fn browser_flow(cli: &Cli, provider: &Provider) -> Result<Flow, LabError> {
    let (server, redirect_uri) = lesson::bind_loopback(cli.port.unwrap_or(0))?;
    Ok(Flow::with_provider(
        cli,
        3,
        provider.clone(),
        server,
        redirect_uri,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAGS: [&str; 6] = [
        "--authorize-url",
        "http://127.0.0.1:4000/auth",
        "--token-url",
        "http://127.0.0.1:4000/token",
        "--client-id",
        "lab-native",
    ];

    fn parse(words: &[&str]) -> Args {
        let matches = command()
            .try_get_matches_from(std::iter::once("prog").chain(words.iter().copied()))
            .unwrap_or_else(|e| panic!("{words:?} should parse: {e}"));
        Args::from_arg_matches(&matches).unwrap()
    }

    #[test]
    fn endpoint_flags_work_after_logout_as_well_as_before() {
        let after = parse(&[&["logout"][..], &FLAGS, &["--cache", "c"]].concat());
        let before = parse(&[&FLAGS[..], &["--cache", "c", "logout"]].concat());
        for args in [after, before] {
            assert!(matches!(args.command, Some(Command::Logout)));
            assert_eq!(
                args.lab.token_url.as_deref(),
                Some("http://127.0.0.1:4000/token")
            );
            assert_eq!(args.lab.client_id.as_deref(), Some("lab-native"));
            assert_eq!(args.cache, Some(PathBuf::from("c")));
        }
    }

    #[test]
    fn saved_tokens_need_no_listener() {
        let dir = std::env::temp_dir().join(format!("oauth2-lab-main10-{}", std::process::id()));
        let args = parse(&FLAGS);
        let provider = Provider::choose(&args.lab, ClientKind::Public).unwrap();
        let path = lesson::token_file(&dir, &provider.client).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let expires_at = lesson::unix_seconds(SystemTime::now()) + 3600;
        let saved = serde_json::json!({"access_token": "lab_at_main", "expires_at": expires_at});
        std::fs::write(&path, saved.to_string()).unwrap();
        let session = Session {
            oauth: lesson::oauth_client(&provider.client, None).unwrap(),
            http: lesson::UreqClient::new(),
            cli: &args.lab,
            provider: &provider,
            flow: std::cell::RefCell::new(None),
            path: &path,
        };
        let result = session.use_tokens();
        let _ = std::fs::remove_dir_all(&dir);
        result.unwrap_or_else(|e| panic!("good saved tokens: {}", e.0));
        assert!(
            session.flow.borrow().is_none(),
            "good saved tokens need no browser: bind no listener"
        );
    }

    #[test]
    fn help_starts_with_this_lesson() {
        let help = command().render_help().to_string();
        assert!(help.starts_with(ABOUT), "--help starts with: {help}");
    }
}
