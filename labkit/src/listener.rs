//! The lesson programs' local listener: the browser's redirect comes back here.
//!
//! Why not `tiny_http::Server`: its accept loop ends for good on the first
//! accept error (out of file descriptors, say), it never times out an idle
//! connection, and it starts a thread for every one, without a bound. Anything
//! on the machine may connect to 127.0.0.1: a port scanner, a browser's
//! preconnects, a flood. Here connections are bounded ([`ListenLimits`]); over
//! the bound the oldest one still being read is closed, never the new one (the
//! real callback is likely the newest); a request must arrive within a time
//! limit; accept errors are retried. The requests and their answers keep
//! `tiny_http`'s shape (`recv`, `recv_timeout`, `url`, `respond` with a
//! `tiny_http::Response`), so a lesson reads as it would with `tiny_http`.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Bounds on what the listener holds.
#[derive(Clone, Debug)]
pub struct ListenLimits {
    /// Connections open at once (being read, or answered by the program).
    pub max_connections: usize,
    /// How long a request may take to arrive, from the connection's start.
    pub read_timeout: Duration,
    /// Request line and headers together; the body.
    pub max_head_bytes: usize,
    pub max_body_bytes: usize,
}

impl Default for ListenLimits {
    fn default() -> Self {
        ListenLimits {
            max_connections: 64,
            read_timeout: Duration::from_secs(10),
            max_head_bytes: 16 * 1024,
            max_body_bytes: 64 * 1024,
        }
    }
}

/// A listener on 127.0.0.1, made by [`crate::listen`]. It stops when dropped.
pub struct Listener {
    addr: SocketAddr,
    requests: Mutex<mpsc::Receiver<Request>>,
    shared: Arc<Shared>,
}

struct Shared {
    limits: ListenLimits,
    open: Mutex<Open>,
    stopping: AtomicBool,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    /// By age: the lowest id is the oldest connection.
    conns: BTreeMap<u64, Conn>,
}

struct Conn {
    stream: Arc<TcpStream>,
    /// Its request is with the program, waiting for an answer.
    handed_over: bool,
}

impl Shared {
    /// Registers a new connection, closing the oldest one still being read (or,
    /// if all are with the program, the oldest of those) when over the bound.
    fn admit(&self, stream: Arc<TcpStream>) -> u64 {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let id = open.next_id;
        open.next_id += 1;
        open.conns.insert(
            id,
            Conn {
                stream,
                handed_over: false,
            },
        );
        while open.conns.len() > self.limits.max_connections.max(1) {
            let victim = open
                .conns
                .iter()
                .find(|(_, c)| !c.handed_over)
                .or_else(|| open.conns.iter().next())
                .map(|(id, _)| *id);
            let Some(victim) = victim.filter(|v| *v != id) else {
                break;
            };
            if let Some(conn) = open.conns.remove(&victim) {
                // Its thread's read fails at once, and it lets go of the socket.
                let _ = conn.stream.shutdown(Shutdown::Both);
            }
        }
        id
    }

    /// Closes the oldest connection: when out of file descriptors.
    fn shed_oldest(&self) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, conn)) = open.conns.pop_first() {
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
    }

    fn hand_over(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(conn) = open.conns.get_mut(&id) {
            conn.handed_over = true;
        }
    }

    fn forget(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.conns.remove(&id);
    }
}

impl Listener {
    /// Serves on `listener` (already bound) from a background thread.
    pub fn start(listener: TcpListener, limits: ListenLimits) -> io::Result<Listener> {
        let addr = listener.local_addr()?;
        let (send, receive) = mpsc::channel();
        let shared = Arc::new(Shared {
            limits,
            open: Mutex::new(Open::default()),
            stopping: AtomicBool::new(false),
        });
        let inner = shared.clone();
        std::thread::Builder::new()
            .name("labkit-listener".into())
            .spawn(move || accept_loop(listener, inner, send))?;
        Ok(Listener {
            addr,
            requests: Mutex::new(receive),
            shared,
        })
    }

    /// Blocks until a whole request has arrived.
    pub fn recv(&self) -> io::Result<Request> {
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        requests
            .recv()
            .map_err(|_| io::Error::other("the listener has stopped"))
    }

    /// Like [`Listener::recv`], but waits at most `timeout`: `Ok(None)` when
    /// nothing came in that time.
    pub fn recv_timeout(&self, timeout: Duration) -> io::Result<Option<Request>> {
        let requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        match requests.recv_timeout(timeout) {
            Ok(request) => Ok(Some(request)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                Err(io::Error::other("the listener has stopped"))
            }
        }
    }

    /// The address bound, as `tiny_http` gives it.
    pub fn server_addr(&self) -> tiny_http::ListenAddr {
        tiny_http::ListenAddr::IP(self.addr)
    }

    /// How many connections are open now.
    pub fn open_connections(&self) -> usize {
        let open = self.shared.open.lock().unwrap_or_else(|e| e.into_inner());
        open.conns.len()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so that its loop sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        let open = self.shared.open.lock().unwrap_or_else(|e| e.into_inner());
        for conn in open.conns.values() {
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, send: mpsc::Sender<Request>) {
    let mut pause = Duration::from_millis(5);
    loop {
        let accepted = listener.accept();
        if shared.stopping.load(Ordering::SeqCst) {
            return;
        }
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(_) => {
                // Out of file descriptors, most likely: free one, wait a little,
                // and try again. Never give up: the real callback may come next.
                shared.shed_oldest();
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
                continue;
            }
        };
        pause = Duration::from_millis(5);
        let stream = Arc::new(stream);
        let id = shared.admit(stream.clone());
        let (shared2, send) = (shared.clone(), send.clone());
        let started = std::thread::Builder::new()
            .name("labkit-conn".into())
            .stack_size(128 * 1024)
            .spawn(move || {
                if let Some(request) = read_request(&stream, peer, &shared2.limits, id, &shared2) {
                    shared2.hand_over(id);
                    // The program may have stopped listening; then the request is dropped.
                    let _ = send.send(request);
                } else {
                    shared2.forget(id);
                }
            });
        if started.is_err() {
            shared.forget(id);
        }
    }
}

/// Reads one request, or answers 4xx and returns `None` (also when the client
/// stops, goes quiet, or the connection is shed).
fn read_request(
    stream: &Arc<TcpStream>,
    peer: SocketAddr,
    limits: &ListenLimits,
    id: u64,
    shared: &Arc<Shared>,
) -> Option<Request> {
    let deadline = Instant::now() + limits.read_timeout;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut read_more = |buf: &mut Vec<u8>| -> Option<()> {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        match (&**stream).read(&mut chunk) {
            Ok(n) if n > 0 => {
                buf.extend_from_slice(&chunk[..n]);
                Some(())
            }
            _ => None,
        }
    };
    let (head_len, method, url, headers) = loop {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut slots);
        match parsed.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect();
                break (
                    len,
                    parsed.method.unwrap_or_default().to_string(),
                    parsed.path.unwrap_or_default().to_string(),
                    headers,
                );
            }
            Ok(httparse::Status::Partial) if buf.len() <= limits.max_head_bytes => {}
            Ok(httparse::Status::Partial) => return refuse(stream, 431, "request head too large"),
            Err(_) => return refuse(stream, 400, "malformed request"),
        }
        read_more(&mut buf)?;
    };
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    if header("transfer-encoding").is_some() {
        return refuse(stream, 411, "send a Content-Length");
    }
    let length = match header("content-length").map(|v| v.trim().parse::<usize>()) {
        None => 0,
        Some(Ok(n)) if n <= limits.max_body_bytes => n,
        Some(Ok(_)) => return refuse(stream, 413, "request body too large"),
        Some(Err(_)) => return refuse(stream, 400, "malformed Content-Length"),
    };
    while buf.len() < head_len + length {
        read_more(&mut buf)?;
    }
    let body = buf[head_len..head_len + length].to_vec();
    Some(Request {
        method,
        url,
        headers,
        body,
        peer,
        stream: stream.clone(),
        id,
        shared: shared.clone(),
    })
}

fn refuse(stream: &TcpStream, status: u16, reason: &str) -> Option<Request> {
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reason}\n",
        reason.len() + 1
    );
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = (&*stream).write_all(answer.as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
    None
}

/// A whole request, with the connection to answer on.
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    peer: SocketAddr,
    stream: Arc<TcpStream>,
    id: u64,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a code: only the path is shown.
        let path = self.url.split('?').next().unwrap_or("");
        write!(f, "Request({} {path})", self.method)
    }
}

impl Request {
    /// The request target: the path, then `?` and the query, if any.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn method(&self) -> &str {
        &self.method
    }

    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    pub fn remote_addr(&self) -> SocketAddr {
        self.peer
    }

    /// Sends the answer and closes the connection.
    pub fn respond<R: Read>(self, response: tiny_http::Response<R>) -> io::Result<()> {
        let mut out = Vec::new();
        response.raw_print(
            &mut out,
            tiny_http::HTTPVersion(1, 1),
            &[],
            self.method == "HEAD",
            None,
        )?;
        // tiny_http will not add `Connection: close` itself; one request per connection.
        if let Some(end) = out.windows(2).position(|w| w == b"\r\n") {
            out.splice(end + 2..end + 2, b"Connection: close\r\n".iter().copied());
        }
        self.stream
            .set_write_timeout(Some(self.shared.limits.read_timeout))?;
        (&*self.stream).write_all(&out)?;
        let _ = self.stream.shutdown(Shutdown::Write);
        Ok(())
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        self.shared.forget(self.id);
    }
}
