//! `cargo run -p lesson06 [-- --simulate-user alice]`: the flow as a public
//! client with PKCE, its listener on a free port of 127.0.0.1.
//! (`cargo run -p solution06` runs the same program on the reference answer.)
use clap::Parser;
use labkit::{Cli, Flow};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use lesson06 as lesson;

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let cli = Cli::parse();
        // From this lesson on, any free port unless --port says otherwise.
        let (server, redirect_uri) = lesson::bind_loopback(cli.port.unwrap_or(0))?;
        let flow = Flow::start_public(&cli, 4, server, redirect_uri)?;
        let state = lesson::new_state();
        let verifier = lesson::new_verifier();
        let challenge = lesson::code_challenge(&verifier);
        flow.step(&format!(
            "Asking for permission, with the PKCE challenge {challenge} (the verifier stays here):"
        ));
        flow.send_browser(&lesson::authorization_url(
            &flow.client,
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
            flow.client.token_url
        ));
        let tokens = lesson::exchange_code(&flow.client, &code, &flow.redirect_uri, &verifier)?;
        let lifetime = tokens
            .expires_in
            .map_or("no expiry given".into(), |s| format!("expires in {s} s"));
        let refresh = match &tokens.refresh_token {
            Some(token) => format!("refresh token {token}"),
            None => "no refresh token".into(),
        };
        // §5.1: the provider may grant less than was asked for, and then says so.
        let scope = match &tokens.scope {
            Some(granted) if *granted != flow.client.scope => {
                format!(", scope {granted:?} (asked for {:?})", flow.client.scope)
            }
            _ => String::new(),
        };
        flow.step(&format!(
            "Got an access token ({}, {lifetime}), {refresh}{scope}",
            tokens.access_token
        ));
        // The mock provider's API, or one given with --api-url; another server's
        // API is not known here, so the tokens are the result.
        if !flow.client.api_url.is_empty() {
            let profile = labkit::read_profile(&flow.client.api_url, &tokens.access_token)?
                .ok_or("the API refused the new access token: check --api-url and --scope")?;
            println!("Signed in as {} ({})", profile.name, profile.username);
        }
        Ok(())
    })
}
