//! The provider under load: a `mock-provider` process started here, or one
//! already running (`--url`), and its memory as the kernel reports it.

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The line the provider prints first; the base URL follows it.
const BANNER: &str = "OAuth2 Lab mock provider listening on ";

pub struct Provider {
    /// `http://127.0.0.1:PORT`, also the issuer the provider puts in redirects.
    pub base_url: String,
    /// Whose memory to report, when known.
    pub pid: Option<u32>,
    /// Stopped (killed) when the run ends.
    child: Option<Child>,
}

impl Provider {
    /// Starts `binary --port 0 --auto-approve alice --quiet` and reads its address.
    pub fn spawn(binary: &Path) -> Result<Provider, String> {
        let mut child = Command::new(binary)
            .args(["--port", "0", "--auto-approve", "alice", "--quiet"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                format!(
                    "cannot start {}: {e}: build it with `cargo build --release -p mock-provider`, or pass --provider-bin",
                    binary.display()
                )
            })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        let _ = lines.read_line(&mut first);
        let Some(base_url) = first.trim().strip_prefix(BANNER).map(str::to_string) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{} did not print its address (first line: {:?})",
                binary.display(),
                first.trim()
            ));
        };
        // The rest of the banner must be read, or a full pipe would stall the provider.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        Ok(Provider {
            base_url,
            pid: Some(child.id()),
            child: Some(child),
        })
    }

    /// A provider someone else started; `url` must be on this machine's loopback.
    pub fn external(url: &str, pid: Option<u32>) -> Result<Provider, String> {
        let base_url = loopback_base_url(url)?;
        Ok(Provider {
            base_url,
            pid,
            child: None,
        })
    }

    /// The provider's resident memory now and at its peak, in bytes.
    pub fn memory(&self) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid?)).ok()?;
        Memory::parse(&status)
    }

    /// The processor time the provider has used so far (user and system).
    pub fn cpu_time(&self) -> Option<Duration> {
        cpu_time_of(&self.pid?.to_string())
    }
}

/// User plus system time of a process (`self` for this one), from `/proc/PID/stat`.
pub fn cpu_time_of(pid: &str) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports them in USER_HZ, 100 a second on every architecture it runs on.
    Some(Duration::from_millis(ticks * 10))
}

impl Drop for Provider {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `http://HOST:PORT` from `url`, refused unless HOST is a loopback address:
/// the tool must never send a load anywhere but this machine.
pub fn loopback_base_url(url: &str) -> Result<String, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("--url {url:?}: {e}"))?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if parsed.scheme() != "http" || !loopback {
        return Err(format!(
            "--url {url:?}: only a provider on this machine may be loaded: use http://127.0.0.1:PORT"
        ));
    }
    let mut base = format!("http://{}", parsed.host_str().unwrap_or_default());
    if let Some(port) = parsed.port() {
        base.push_str(&format!(":{port}"));
    }
    Ok(base)
}

/// The socket address of a loopback base URL (`http://127.0.0.1:PORT`).
pub fn loopback_addr(base_url: &str) -> Result<std::net::SocketAddr, String> {
    let parsed = url::Url::parse(base_url).map_err(|e| format!("{base_url}: {e}"))?;
    let addr = parsed
        .socket_addrs(|| Some(80))
        .map_err(|e| format!("{base_url}: {e}"))?
        .into_iter()
        .find(|a| a.ip().is_loopback())
        .ok_or_else(|| format!("{base_url}: not a loopback address"))?;
    Ok(addr)
}

/// The default provider binary: `mock-provider` beside this program (both are
/// built into the same `target/release`).
pub fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("mock-provider")))
        .unwrap_or_else(|| PathBuf::from("mock-provider"))
}

/// `VmRSS` and `VmHWM` (the peak) from `/proc/PID/status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub resident: u64,
    pub peak: u64,
}

impl Memory {
    fn parse(status: &str) -> Option<Memory> {
        let kib = |key: &str| -> Option<u64> {
            let line = status.lines().find(|l| l.starts_with(key))?;
            let value = line[key.len()..].trim().strip_suffix("kB")?.trim();
            value.parse::<u64>().ok().map(|k| k * 1024)
        };
        Some(Memory {
            resident: kib("VmRSS:")?,
            peak: kib("VmHWM:")?,
        })
    }
}

/// Bytes as MiB with one decimal.
pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert_eq!(
            loopback_base_url("http://127.0.0.1:9000/").unwrap(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            loopback_base_url("http://[::1]:9000").unwrap(),
            "http://[::1]:9000"
        );
        assert!(loopback_base_url("http://localhost:9000").is_ok());
        for outside in [
            "http://10.0.0.1:9000",
            "http://192.168.1.2:9000",
            "http://example.com:9000",
            "http://127.0.0.1.example.com:9000",
            "https://127.0.0.1:9000",
            "not a url",
        ] {
            assert!(loopback_base_url(outside).is_err(), "{outside}");
        }
    }

    #[test]
    fn memory_is_read_from_proc_status_in_bytes() {
        let status = "Name:\tmock-provider\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(
            Memory::parse(status),
            Some(Memory {
                resident: 10 * 1024 * 1024,
                peak: 20 * 1024 * 1024
            })
        );
        assert_eq!(Memory::parse("Name:\tx\n"), None);
    }

    #[test]
    fn this_process_has_used_some_processor_time() {
        // Busy until the kernel has counted a tick for us: on a loaded machine
        // a fixed spin of wall time may be spent waiting for a core.
        let spin = std::time::Instant::now();
        while cpu_time_of("self").is_some_and(|t| t == Duration::ZERO)
            && spin.elapsed() < Duration::from_secs(30)
        {}
        assert!(cpu_time_of("self").is_some_and(|t| t > Duration::ZERO));
    }
}
