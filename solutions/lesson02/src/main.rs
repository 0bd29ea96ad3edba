//! `cargo run -p lesson02 [-- --port 8000]`
//! (`cargo run -p solution02` runs the same program on the reference answer.)
use clap::Parser;

// This lesson's crate: the one line where a lesson's program and its solution's differ.
use solution02 as lesson;

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let args = labkit::PortArgs::parse();
        // `webbrowser` honours $BROWSER, then the system's default browser.
        lesson::listen_and_open(
            args.port,
            &|url| webbrowser::open(url),
            &mut std::io::stdout(),
        )?;
        Ok(())
    })
}
