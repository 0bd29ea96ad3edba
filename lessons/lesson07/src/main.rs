//! `cargo run -p lesson07 -- [--simulate-user alice] [--cache FOLDER]`: signs
//! in once, then reuses (and refreshes) the saved tokens on later runs.
//! `cargo run -p lesson07 -- logout`: revokes them and deletes the file.
//! (`cargo run -p solution07` runs the same program on the reference answer.)
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use labkit::{Cli, ClientKind, Flow, LabError, Provider, Tokens};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use lesson07 as lesson;

const ABOUT: &str = "OAuth2 Lab lesson 07: tokens that last";

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
    println!(
        "{}",
        lesson::logout_from(&provider.client, &cache_dir(args)?)?
    );
    Ok(())
}

fn sign_in(args: &Args) -> Result<(), LabError> {
    let cli = &args.lab;
    let provider = Provider::choose(cli, ClientKind::Public)?;
    // A provider started inside this program forgets its tokens when the program
    // ends: a file in the token folder would only collect dead tokens.
    let (dir, _scratch) = if provider.is_embedded() {
        let dir = std::env::temp_dir().join(format!("oauth2-lab-{}", std::process::id()));
        println!(
            "(The provider inside this program forgets its tokens when the program ends, so they are kept in a scratch folder this time. Run `cargo run -p mock-provider` in another terminal to see a second run reuse them.)"
        );
        (dir.clone(), Some(Scratch(dir)))
    } else {
        (cache_dir(args)?, None)
    };
    let path = lesson::token_file(&dir, &provider.client)?;
    println!("Token file: {}", path.display());
    // One run at a time reads, refreshes and saves this file.
    let _lock = lesson::lock_tokens(&path, cli.timeout, &mut std::thread::sleep)?;
    // The listener is bound only if the browser is needed.
    use_tokens(cli, &provider, &path, &mut None)
}

/// A scratch folder, removed when the program ends, however it ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn use_tokens(
    cli: &Cli,
    provider: &Provider,
    path: &Path,
    flow: &mut Option<Flow>,
) -> Result<(), LabError> {
    let client = &provider.client;
    let mut authorize = || authorize(cli, provider, flow);
    let stored = lesson::valid_tokens(client, path, SystemTime::now(), &mut authorize)?;
    if client.api_url.is_empty() {
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
    let profile = match labkit::read_profile(&client.api_url, &stored.access_token)? {
        Some(profile) => profile,
        None => {
            // The saved token looked fine but the API says no: revoked elsewhere,
            // or the provider restarted. Treat it as expired: refresh, or ask again.
            println!("The API refused the saved access token (revoked, or the provider restarted)");
            let expired = lesson::StoredTokens {
                expires_at: Some(0),
                ..stored
            };
            lesson::save(path, &expired)?;
            let stored = lesson::valid_tokens(client, path, SystemTime::now(), &mut authorize)?;
            labkit::read_profile(&client.api_url, &stored.access_token)?
                .ok_or("the API refused even a new access token: check --api-url and --scope")?
        }
    };
    println!("Signed in as {} ({})", profile.name, profile.username);
    Ok(())
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

/// Lesson 06's flow: PKCE, a listener on a free port, a public client.
fn authorize(cli: &Cli, provider: &Provider, flow: &mut Option<Flow>) -> Result<Tokens, LabError> {
    if flow.is_none() {
        *flow = Some(browser_flow(cli, provider)?);
    }
    let flow = flow.as_ref().expect("just made");
    let client = &provider.client;
    let state = lesson::new_state();
    let verifier = lesson::new_verifier();
    let challenge = lesson::code_challenge(&verifier);
    flow.step("Asking for permission (PKCE, as in lesson 06): log in and approve at");
    flow.send_browser(&lesson::authorization_url(
        client,
        &flow.redirect_uri,
        &state,
        &challenge,
    ));
    flow.step(&format!(
        "Waiting for the browser to come back to {}",
        flow.redirect_uri
    ));
    let code = lesson::wait_for_callback(
        &flow.server,
        &state,
        flow.client.iss.as_deref(),
        flow.deadline,
    )?;
    flow.step(&format!(
        "Trading the code ({code}) and the verifier ({verifier}) for tokens at {}",
        client.token_url
    ));
    Ok(lesson::exchange_code(
        client,
        &code,
        &flow.redirect_uri,
        &verifier,
    )?)
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
        let dir = std::env::temp_dir().join(format!("oauth2-lab-main07-{}", std::process::id()));
        let args = parse(&FLAGS);
        let provider = Provider::choose(&args.lab, ClientKind::Public).unwrap();
        let path = lesson::token_file(&dir, &provider.client).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        let expires_at = lesson::unix_seconds(SystemTime::now()) + 3600;
        let saved = serde_json::json!({"access_token": "lab_at_main", "expires_at": expires_at});
        std::fs::write(&path, saved.to_string()).unwrap();
        let mut flow = None;
        let result = use_tokens(&args.lab, &provider, &path, &mut flow);
        let _ = std::fs::remove_dir_all(&dir);
        result.unwrap_or_else(|e| panic!("good saved tokens: {}", e.0));
        assert!(
            flow.is_none(),
            "good saved tokens need no browser: bind no listener"
        );
    }

    #[test]
    fn help_starts_with_this_lesson() {
        let help = command().render_help().to_string();
        assert!(help.starts_with(ABOUT), "--help starts with: {help}");
    }
}
