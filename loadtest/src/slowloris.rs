//! Slow clients beside the students: connections that each send half a
//! request head, one byte every few seconds, and reconnect when the provider
//! closes them (a slowloris attack); and a probe, a normal client that asks
//! for the metadata once a second on a new connection. Every probe must be
//! answered, however many slow connections there are.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const PARTIAL_HEAD: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
/// A probe that takes longer than this has failed.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Slowloris {
    stop: Arc<AtomicBool>,
    trickler: JoinHandle<Trickled>,
    prober: JoinHandle<Probed>,
}

/// What the slow connections did.
pub struct Trickled {
    /// Connections open, fewest and most, over the rounds after the first.
    pub fewest: usize,
    pub most: usize,
    /// Connections opened again after the provider closed them.
    pub reconnects: u64,
    pub failed_connects: u64,
}

/// What the probe saw.
pub struct Probed {
    pub ok: u64,
    pub failures: Vec<String>,
    pub slowest: Duration,
}

fn open(addr: SocketAddr) -> Option<TcpStream> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream.write_all(PARTIAL_HEAD).ok()?;
    stream.set_nonblocking(true).ok()?;
    Some(stream)
}

impl Slowloris {
    /// Opens `count` slow connections (returns once they are open) and starts
    /// trickling and probing.
    pub fn start(addr: SocketAddr, count: usize, every: Duration) -> Slowloris {
        let mut conns: Vec<Option<TcpStream>> = (0..count).map(|_| open(addr)).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let trickler = std::thread::spawn(move || {
            let mut done = Trickled {
                fewest: usize::MAX,
                most: 0,
                reconnects: 0,
                failed_connects: 0,
            };
            // Each round writes a byte to every connection, spread over `every`.
            let batch = 100;
            let pause = every / (count.div_ceil(batch).max(1) as u32);
            let mut round = 0u64;
            while !stopping.load(Ordering::Relaxed) {
                let began = Instant::now();
                for (i, slot) in conns.iter_mut().enumerate() {
                    let alive = match slot {
                        Some(stream) => match stream.write(b"a") {
                            Ok(_) => true,
                            Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
                        },
                        None => false,
                    };
                    if !alive {
                        *slot = open(addr);
                        match slot {
                            Some(_) => done.reconnects += 1,
                            None => done.failed_connects += 1,
                        }
                    }
                    if i % batch == batch - 1 {
                        if stopping.load(Ordering::Relaxed) {
                            break;
                        }
                        std::thread::sleep(pause.saturating_sub(Duration::from_millis(1)));
                    }
                }
                let open_now = conns.iter().filter(|c| c.is_some()).count();
                if round > 0 {
                    done.fewest = done.fewest.min(open_now);
                    done.most = done.most.max(open_now);
                }
                round += 1;
                if let Some(left) = every.checked_sub(began.elapsed()) {
                    std::thread::sleep(left.min(Duration::from_millis(500)));
                }
            }
            if done.fewest == usize::MAX {
                let open_now = conns.iter().filter(|c| c.is_some()).count();
                (done.fewest, done.most) = (open_now, open_now);
            }
            done
        });
        let stopping = stop.clone();
        let prober = std::thread::spawn(move || {
            let mut probed = Probed {
                ok: 0,
                failures: Vec::new(),
                slowest: Duration::ZERO,
            };
            while !stopping.load(Ordering::Relaxed) {
                let began = Instant::now();
                match probe(addr) {
                    Ok(()) => probed.ok += 1,
                    Err(e) => probed.failures.push(e),
                }
                probed.slowest = probed.slowest.max(began.elapsed());
                let next = began + Duration::from_secs(1);
                while Instant::now() < next && !stopping.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            probed
        });
        Slowloris {
            stop,
            trickler,
            prober,
        }
    }

    pub fn finish(self) -> (Trickled, Probed) {
        self.stop.store(true, Ordering::Relaxed);
        let trickled = self.trickler.join().expect("the trickler ends");
        let probed = self.prober.join().expect("the probe ends");
        (trickled, probed)
    }
}

/// One normal request on a new connection: the metadata, status 200.
fn probe(addr: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT)
        .map_err(|e| format!("connect: {:?}", e.kind()))?;
    stream
        .set_read_timeout(Some(PROBE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        // The provider answers only its own host and port (a Host check, RFC 9110 §7.2).
        .write_all(
            format!(
                "GET /.well-known/oauth-authorization-server HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .map_err(|e| format!("write: {:?}", e.kind()))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("read: {:?}", e.kind()))?;
    let status = answer.get(9..12).unwrap_or_default();
    if answer.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("status {}", String::from_utf8_lossy(status)))
    }
}
