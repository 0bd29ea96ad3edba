//! `cargo run -p lesson05 -- --simulate-user alice`: the whole data-collection client.
//! (`cargo run -p solution05` runs the same program on the reference answer.)
use std::fs::File;
use std::io::{BufWriter, Write};

use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use labkit::{Cli, Flow};

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use lesson05 as lesson;

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let cli = Cli::parse();
        cli.require_api()?;
        let flow = Flow::start(&cli, 6)?;
        let state = lesson::new_state();
        flow.step("Asking for permission: log in and approve at");
        flow.send_browser(&lesson::authorization_url(
            &flow.client,
            &flow.redirect_uri,
            &state,
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
            "Trading the code ({code}) for tokens at {}",
            flow.client.token_url
        ));
        let tokens = lesson::exchange_code(&flow.client, &code, &flow.redirect_uri)?;
        // The server may grant less than asked (RFC 6749 §3.3): check before collecting.
        let missing = labkit::scopes_not_granted(&flow.client.scope, tokens.scope.as_deref());
        if !missing.is_empty() {
            return Err(format!(
                "the provider granted less than asked for, without {}: nothing was collected; run again and allow it, or ask for less with --scope",
                missing.join(", ")
            )
            .into());
        }
        flow.step(&format!(
            "Got an access token ({}): reading the profile",
            tokens.access_token
        ));
        let token = &tokens.access_token;
        let profile = lesson::fetch_profile(&flow.client, token, &lesson::real_sleep)?;
        flow.step(&format!(
            "Collecting the posts of {} ({})",
            profile.name, profile.username
        ));
        // Written to a side file first, so a failed run leaves no half file under the real name.
        let partial = cli.out.with_extension("jsonl.partial");
        let mut out = BufWriter::new(
            File::create(&partial)
                .map_err(|e| format!("cannot write {}: {e}", partial.display()))?,
        );
        let progress = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("      {spinner} {pos} posts").expect("valid template"),
        );
        let count = lesson::collect_posts(
            &flow.client,
            token,
            &mut out,
            &progress,
            &lesson::real_sleep,
        )?;
        out.flush()?;
        progress.finish_and_clear();
        std::fs::rename(&partial, &cli.out)?;
        flow.step(&format!("Saved {count} posts to {}", cli.out.display()));
        Ok(())
    })
}
