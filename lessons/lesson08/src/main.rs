//! `cargo run -p lesson08 -- --provider github|google|linkedin`: sign in with
//! a real provider and print who you are. Without `--provider`, the mock
//! provider, as in lessons 03–07 (`-- --simulate-user alice` runs offline).
//! (`cargo run -p solution08` runs the same program on the reference answer.)
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use labkit::{Cli, ClientKind, Flow, LabError, Provider, Secret};
use lesson::ProviderProfile;

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use lesson08 as lesson;

/// The providers this lesson knows.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Named {
    Github,
    Google,
    Linkedin,
}

#[derive(Parser, Debug)]
#[command(
    about = "Sign in with GitHub, Google or LinkedIn (or the mock provider) and print who you are."
)]
struct Args {
    /// A real provider; without it, the mock provider.
    #[arg(long, value_enum)]
    provider: Option<Named>,
    #[command(flatten)]
    cli: Cli,
}

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let matches = Args::command().get_matches();
        let args = Args::from_arg_matches(&matches).map_err(|e| e.to_string())?;
        let scope_given =
            matches.value_source("scope") == Some(clap::parser::ValueSource::CommandLine);
        match args.provider {
            None => mock_run(&args.cli),
            Some(named) => {
                let profile = match named {
                    Named::Github => lesson::GITHUB,
                    Named::Google => lesson::GOOGLE,
                    Named::Linkedin => lesson::LINKEDIN,
                };
                real_run(&args.cli, &profile, named, scope_given)
            }
        }
    })
}

/// Lessons 03–07's way: the mock provider (or explicit endpoints), as `lab-client`.
fn mock_run(cli: &Cli) -> Result<(), LabError> {
    let provider = Provider::choose(cli, ClientKind::Confidential)?;
    if provider.client.api_url.is_empty() {
        return Err(LabError(
            "this program asks the API who you are: add --api-url with the API's base URL".into(),
        ));
    }
    let (server, redirect_uri) = lesson::bind_loopback(cli.port.unwrap_or(0))?;
    sign_in(
        &lesson::MOCK,
        &Flow::with_provider(cli, 5, provider, server, redirect_uri),
    )
}

fn real_run(
    cli: &Cli,
    profile: &ProviderProfile,
    named: Named,
    scope_given: bool,
) -> Result<(), LabError> {
    let flag = format!("--provider {}", format!("{named:?}").to_lowercase());
    if cli.authorize_url.is_some() {
        return Err(LabError(format!(
            "{flag} brings its own endpoints: leave out --authorize-url and --token-url"
        )));
    }
    if cli.simulate_user.is_some() {
        return Err(LabError(format!(
            "--simulate-user plays a user of the mock provider: with {flag}, log in in the browser"
        )));
    }
    let client_id = cli
        .client_id
        .clone()
        .or_else(|| std::env::var("OAUTH_CLIENT_ID").ok())
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            LabError(format!(
                "{flag} needs your app's client id: set OAUTH_CLIENT_ID or pass --client-id (register an app at {})",
                profile.console_url
            ))
        })?;
    // The secret only from the environment: a flag would land in the shell history.
    let secret = std::env::var("OAUTH_CLIENT_SECRET")
        .ok()
        .filter(|s| !s.is_empty())
        .map(Secret::new)
        .ok_or_else(|| {
            LabError(format!(
                "{flag} needs your app's client secret in the environment variable OAUTH_CLIENT_SECRET (never on the command line): copy it from your app's page at {}",
                profile.console_url
            ))
        })?;
    let scope = if scope_given { cli.scope.as_str() } else { "" };
    let client = lesson::client_for(profile, &client_id, Some(secret), scope);
    let port = cli
        .port
        .unwrap_or(if profile.loopback_any_port { 0 } else { 8000 });
    let (server, redirect_uri) = lesson::bind_loopback(port)?;
    let flow = Flow::with_provider(cli, 5, Provider::from_client(client), server, redirect_uri);
    if profile.registers_redirect {
        let registered = if profile.loopback_any_port {
            "http://127.0.0.1/callback".to_string()
        } else {
            flow.redirect_uri.clone()
        };
        println!(
            "  {} must know this redirect URI: register {registered} at {}",
            profile.name, profile.console_url
        );
    }
    for quirk in profile.quirks {
        println!("  {}: {quirk}", profile.name);
    }
    sign_in(profile, &flow)
}

/// The flow itself, the same for every provider: only the profile differs.
fn sign_in(profile: &ProviderProfile, flow: &Flow) -> Result<(), LabError> {
    let (client, redirect_uri) = (&flow.client, flow.redirect_uri.as_str());
    let state = lesson::new_state();
    let verifier = lesson::new_verifier();
    flow.step(&format!(
        "Asking {} for permission: log in and approve at",
        profile.name
    ));
    let url = lesson::authorization_url(profile, client, redirect_uri, &state, &verifier);
    flow.send_browser(&url);
    flow.step(&format!(
        "Waiting for the browser to come back to {redirect_uri}"
    ));
    let code = lesson::wait_for_callback(
        &flow.server,
        &state,
        flow.client.iss.as_deref(),
        flow.deadline,
    )?;
    flow.step(&format!(
        "Trading the code ({code}) for tokens at {}",
        client.token_url
    ));
    let tokens = lesson::request_token(profile, client, &code, redirect_uri, &verifier).map_err(
        |e| match &e {
            // Running again never fixes this one: registering the URI does.
            labkit::TokenError::Rejected {
                description: Some(d),
                ..
            } if d.contains("redirect_uri_mismatch") => labkit::LabError(format!(
                "{} refused the redirect URI {redirect_uri}: register it at {} ({d})",
                profile.name, profile.console_url
            )),
            _ => e.into(),
        },
    )?;
    let lifetime = match tokens.expires_in {
        Some(s) if s >= 86_400 => format!("expires in {} days", s / 86_400),
        Some(s) => format!("expires in {s} s"),
        None => "does not expire".into(),
    };
    let refresh = match &tokens.refresh_token {
        Some(token) => format!("refresh token {token}"),
        None => "no refresh token: sign in again when it expires".into(),
    };
    flow.step(&format!(
        "Got an access token ({}, {lifetime}), {refresh}; scopes: {}",
        tokens.access_token,
        tokens.scopes.join(" ")
    ));
    let name = lesson::who_am_i(profile, client, &tokens.access_token)?;
    flow.step(&format!("Signed in to {} as {name}", profile.name));
    Ok(())
}
