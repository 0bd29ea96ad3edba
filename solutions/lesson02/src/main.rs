//! `cargo run -p solution02 [-- --port 8000]`
use clap::Parser;

fn main() -> std::process::ExitCode {
    labkit::run(|| {
        let args = labkit::PortArgs::parse();
        // `webbrowser` honours $BROWSER, then the system's default browser.
        solution02::listen_and_open(
            args.port,
            &|url| webbrowser::open(url),
            &mut std::io::stdout(),
        )?;
        Ok(())
    })
}
