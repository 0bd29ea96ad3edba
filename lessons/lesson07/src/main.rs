//! `cargo run -p lesson07 -- [--simulate-user alice] [--cache FILE]`: signs in
//! once, then reuses (and refreshes) the saved tokens on later runs.
//! `cargo run -p lesson07 -- logout`: revokes them and deletes the file.
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use clap::{Parser, Subcommand};
use labkit::{Cli, ClientKind, Flow, LabError, Provider, Tokens};
use lesson07 as lab;

#[derive(Parser)]
#[command(about = "OAuth2 Lab lesson 07: tokens that last")]
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
    println!("{}", lab::logout(&provider.client, &path)?);
    Ok(())
}

fn sign_in(args: &Args) -> Result<(), LabError> {
    let cli = &args.lab;
    let (server, redirect_uri) = lab::bind_loopback(cli.port.unwrap_or(0))?;
    let flow = Flow::start_public(cli, 3, server, redirect_uri)?;
    // A provider started inside this program forgets its tokens when the program
    // ends: a file in the configuration folder would only collect dead tokens.
    let embedded = flow.provider.is_embedded();
    let (path, _scratch) = match &args.cache {
        Some(path) => (path.clone(), None),
        None if embedded => {
            let dir = std::env::temp_dir().join(format!("oauth2-lab-{}", std::process::id()));
            println!(
                "(The provider inside this program forgets its tokens when the program ends, so they are kept in a scratch file this time. Run `cargo run -p mock-provider` in another terminal to see a second run reuse them.)"
            );
            (dir.join("tokens.json"), Some(Scratch(dir)))
        }
        None => (lab::cache_path(&flow.client)?, None),
    };
    println!("Token file: {}", path.display());
    use_tokens(&flow, &path)
}

/// A scratch folder, removed when the program ends, however it ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn use_tokens(flow: &Flow, path: &Path) -> Result<(), LabError> {
    let mut authorize = || authorize(flow);
    let stored = lab::valid_tokens(&flow.client, path, SystemTime::now(), &mut authorize)?;
    if flow.client.api_url.is_empty() {
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
    let profile = match labkit::read_profile(&flow.client.api_url, &stored.access_token)? {
        Some(profile) => profile,
        None => {
            // The saved token looked fine but the API says no: revoked elsewhere,
            // or the provider restarted. Treat it as expired: refresh, or ask again.
            println!("The API refused the saved access token (revoked, or the provider restarted)");
            let expired = lab::StoredTokens {
                expires_at: Some(0),
                ..stored
            };
            lab::save(path, &expired)?;
            let stored = lab::valid_tokens(&flow.client, path, SystemTime::now(), &mut authorize)?;
            labkit::read_profile(&flow.client.api_url, &stored.access_token)?
                .ok_or("the API refused even a new access token: check --api-url and --scope")?
        }
    };
    println!("Signed in as {} ({})", profile.name, profile.username);
    Ok(())
}

/// Lesson 06's flow: PKCE, a listener on a free port, a public client.
fn authorize(flow: &Flow) -> Result<Tokens, LabError> {
    let state = lab::new_state();
    let verifier = lab::new_verifier();
    let challenge = lab::code_challenge(&verifier);
    flow.step("Asking for permission (PKCE, as in lesson 06): log in and approve at");
    flow.send_browser(&lab::authorization_url(
        &flow.client,
        &flow.redirect_uri,
        &state,
        &challenge,
    ));
    flow.step(&format!(
        "Waiting for the browser to come back to {}",
        flow.redirect_uri
    ));
    let code = lab::wait_for_callback(&flow.server, &state, flow.deadline)?;
    flow.step(&format!(
        "Trading the code ({code}) and the verifier ({verifier}) for tokens at {}",
        flow.client.token_url
    ));
    Ok(lab::exchange_code(
        &flow.client,
        &code,
        &flow.redirect_uri,
        &verifier,
    )?)
}
