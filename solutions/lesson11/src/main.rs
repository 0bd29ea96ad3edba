//! `cargo run -p lesson11 [-- --simulate-user alice]`: lesson 06's flow with
//! `openid profile email` and a nonce; the ID token checked step by step; the
//! posts filed under the person's `sub`. `--issuer URL` finds the provider's
//! endpoints and keys in its discovery document.
//! (`cargo run -p solution11` runs the same program on the reference answer.)
use std::io::Write;
use std::time::SystemTime;

use clap::Parser;
use labkit::{Cli, Flow, LabError, Provider};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use solution11 as lesson;

#[derive(Parser)]
struct Args {
    /// The provider's issuer URL: its endpoints and keys come from
    /// `{issuer}/.well-known/openid-configuration` (then no --authorize-url).
    #[arg(long, value_name = "URL", conflicts_with = "authorize_url")]
    issuer: Option<String>,
    #[command(flatten)]
    cli: Cli,
}

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let Args { issuer, mut cli } = Args::parse();
        // The OpenID scopes, and whatever else was asked for.
        let openid = ["openid", "profile", "email"];
        let others = cli.scope.split_whitespace().filter(|s| !openid.contains(s));
        cli.scope = openid
            .into_iter()
            .chain(others)
            .collect::<Vec<_>>()
            .join(" ");
        let discovery = match &issuer {
            Some(issuer) => {
                let discovery = lesson::discover(issuer)?;
                cli.authorize_url = Some(discovery.authorization_endpoint.clone());
                cli.token_url = Some(discovery.token_endpoint.clone());
                cli.client_id.get_or_insert("lab-public".into());
                Some(discovery)
            }
            None if cli.authorize_url.is_some() => {
                return Err(LabError(
                    "an ID token is checked with the provider's keys, which only its discovery document names: give --issuer URL instead of --authorize-url".into(),
                ));
            }
            None => None,
        };
        let provider = Provider::choose(&cli, labkit::ClientKind::Public)?;
        // Without --issuer: the mock provider, whose issuer is its base URL.
        let discovery = match discovery {
            Some(discovery) => discovery,
            None => {
                let url = url::Url::parse(&provider.client.authorize_url)
                    .map_err(|e| LabError(e.to_string()))?;
                lesson::discover(&url.origin().ascii_serialization())?
            }
        };
        // RFC 9207: a provider that promises `iss` in its answers must send its own.
        let mut provider = provider;
        if discovery.authorization_response_iss_parameter_supported {
            provider.client.iss = Some(discovery.issuer.clone());
        }
        let (server, redirect_uri) = lesson::bind_loopback(cli.port.unwrap_or(0))?;
        let flow = Flow::with_provider(&cli, 5, provider, server, redirect_uri);
        let state = lesson::new_state();
        let nonce = lesson::new_state();
        let verifier = lesson::new_verifier();
        let challenge = lesson::code_challenge(&verifier);
        flow.step(&format!(
            "Asking {} who you are (scope {:?}, nonce {}…):",
            discovery.issuer,
            flow.client.scope,
            &nonce[..6]
        ));
        flow.send_browser(&lesson::authorization_url(
            &flow.client,
            &flow.redirect_uri,
            &state,
            &challenge,
            &nonce,
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
        let answer = lesson::exchange_code(&flow.client, &code, &flow.redirect_uri, &verifier)?;
        let id_token = answer.id_token.ok_or(
            "the provider sent no ID token: it must have `openid` in its scopes_supported",
        )?;
        flow.step(&format!(
            "Checking the ID token ({id_token}) with the keys at {}",
            discovery.jwks_uri
        ));
        let expected = lesson::Expected {
            issuer: discovery.issuer.clone(),
            client_id: flow.client.client_id.clone(),
            nonce,
            algorithms: discovery.id_token_signing_alg_values_supported.clone(),
        };
        let mut keys = lesson::Keys::new(&discovery.jwks_uri);
        let claims = lesson::verify_id_token(&id_token, &expected, &mut keys, SystemTime::now())?;
        let who = claims
            .name
            .clone()
            .or(claims.preferred_username.clone())
            .unwrap_or("someone".into());
        let email = claims.email.as_deref().unwrap_or("no email given");
        println!(
            "  Verified: {who} ({email}), sub {:?} at {}",
            claims.sub, claims.iss
        );
        let key = lesson::person_key(&claims);
        if flow.client.api_url.is_empty() {
            flow.step("No --api-url: no posts to collect");
            return Ok(());
        }
        let posts = lesson::collect_posts(&flow.client.api_url, &answer.tokens.access_token)?;
        let stem = cli
            .out
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("posts");
        let path = cli.out.with_file_name(format!("{stem}-{key}.jsonl"));
        let mut file = std::fs::File::create(&path)
            .map_err(|e| LabError(format!("could not write {}: {e}", path.display())))?;
        for post in &posts {
            serde_json::to_writer(&mut file, post).map_err(|e| LabError(e.to_string()))?;
            writeln!(file).map_err(|e| LabError(e.to_string()))?;
        }
        flow.step(&format!(
            "Filed {} posts under sub {:?} in {}",
            posts.len(),
            claims.sub,
            path.display()
        ));
        Ok(())
    })
}
