//! A small HTTP/1.1 server: one thread per connection, bounded sizes, timeouts.
//!
//! Why not a worker pool: a client that sends half a request would hold a worker
//! while the others wait. Here a stalled client only holds its own thread, which
//! gives up after [`Limits::read_timeout`]. Parsing is `httparse`'s; this module
//! only frames requests (Content-Length or chunked), enforces limits and writes
//! responses. Handlers never see a malformed request: it is answered with a 4xx
//! here and the connection is closed.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Sizes and times a connection may use.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Request line and headers together.
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_body_bytes: usize,
    /// How long a read may stall (a half-sent request, an idle keep-alive connection).
    pub read_timeout: Duration,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 64 * 1024,
            read_timeout: Duration::from_secs(10),
            max_connections: 4096,
        }
    }
}

/// A complete, well-framed request.
#[derive(Debug)]
pub struct Request {
    pub method: String,
    /// The path, without the query, exactly as sent (not percent-decoded).
    pub path: String,
    /// The raw query string after `?`, if any.
    pub query: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
    pub peer: SocketAddr,
}

impl Request {
    /// Every value of a header (names compare case-insensitively).
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The header's value when it is sent once and is text; `Err` when it is sent
    /// more than once or is not UTF-8.
    pub fn header<'a>(&'a self, name: &'a str) -> Result<Option<&'a str>, String> {
        let mut values = self.header_all(name);
        let Some(first) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(format!("the {name} header is sent more than once"));
        }
        std::str::from_utf8(first)
            .map(|v| Some(v.trim()))
            .map_err(|_| format!("the {name} header is not valid UTF-8"))
    }

    #[cfg(test)]
    pub fn for_test(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Self {
        let (path, query) = split_target(target);
        Request {
            method: method.into(),
            path,
            query,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: body.to_vec(),
            peer: "127.0.0.1:1".parse().unwrap(),
        }
    }
}

/// What a handler answers.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A plain-text error, used for framing problems before any handler runs.
    pub fn text(status: u16, message: &str) -> Self {
        Response::new(status, "text/plain; charset=utf-8", format!("{message}\n"))
    }
}

pub trait Handler: Send + Sync + 'static {
    fn handle(&self, request: &Request) -> Response;
}

/// A running server; dropping it stops accepting and wakes the accept loop.
pub struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `handler` on `listener`, from background threads.
    pub fn start(
        listener: TcpListener,
        limits: Limits,
        handler: Arc<dyn Handler>,
    ) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let flag = stopping.clone();
        let accept = std::thread::Builder::new()
            .name("mock-provider-accept".into())
            .spawn(move || accept_loop(listener, limits, handler, flag))?;
        Ok(Server {
            addr,
            stopping,
            accept: Some(accept),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the server stops (it never does unless dropped elsewhere).
    pub fn join(mut self) {
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the loop sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
        if let Some(handle) = self.accept.take() {
            let _ = handle.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    limits: Limits,
    handler: Arc<dyn Handler>,
    stopping: Arc<AtomicBool>,
) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        if open.fetch_add(1, Ordering::SeqCst) >= limits.max_connections {
            open.fetch_sub(1, Ordering::SeqCst);
            let _ = write_response(
                &stream,
                &Response::text(429, "too many connections: try again shortly"),
                true,
                false,
            );
            continue;
        }
        let (limits, handler, still_open, stopping) = (
            limits.clone(),
            handler.clone(),
            open.clone(),
            stopping.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("mock-provider-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                serve_connection(stream, &limits, handler.as_ref(), &stopping);
                still_open.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Why a request could not be framed; each becomes a 4xx and a closed connection.
struct Reject {
    status: u16,
    reason: String,
}

fn reject(status: u16, reason: impl Into<String>) -> Reject {
    Reject {
        status,
        reason: reason.into(),
    }
}

enum Next {
    Request(Request, bool /* keep alive */),
    /// The peer closed or went quiet between requests: nothing to answer.
    Closed,
    Reject(Reject),
}

fn serve_connection(
    stream: TcpStream,
    limits: &Limits,
    handler: &dyn Handler,
    stopping: &AtomicBool,
) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(limits.read_timeout));
    let _ = stream.set_write_timeout(Some(limits.read_timeout));
    let Ok(peer) = stream.peer_addr() else { return };
    let mut conn = Connection {
        stream,
        buf: Vec::with_capacity(1024),
        peer,
    };
    loop {
        if stopping.load(Ordering::Relaxed) {
            break;
        }
        match conn.next_request(limits) {
            Next::Request(request, keep_alive) => {
                let head_only = request.method == "HEAD";
                // A handler bug must not take the server down: answer 500 and go on.
                let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    handler.handle(&request)
                }))
                .unwrap_or_else(|_| {
                    Response::text(500, "the mock provider hit a bug: please report it")
                });
                if write_response(&conn.stream, &response, !keep_alive, head_only).is_err()
                    || !keep_alive
                {
                    break;
                }
            }
            Next::Closed => break,
            Next::Reject(r) => {
                let _ = write_response(
                    &conn.stream,
                    &Response::text(r.status, &r.reason),
                    true,
                    false,
                );
                linger(&mut conn.stream);
                break;
            }
        }
    }
    let _ = conn.stream.shutdown(Shutdown::Both);
}

/// Closes gently after a rejection: closing with unread input makes the kernel
/// send a reset, and the client could lose the answer that explains the error.
fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut sink = [0u8; 8192];
    let mut drained = 0;
    while drained < 1024 * 1024 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => drained += n,
            _ => break,
        }
    }
}

struct Connection {
    stream: TcpStream,
    /// Bytes read but not yet used (the start of a pipelined request).
    buf: Vec<u8>,
    peer: SocketAddr,
}

impl Connection {
    /// Reads more bytes; `Ok(false)` at end of stream.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    fn next_request(&mut self, limits: &Limits) -> Next {
        // 1. The head: read until httparse sees the blank line.
        let (head_len, method, target, version, headers) = loop {
            let mut slots = vec![httparse::EMPTY_HEADER; limits.max_headers];
            let mut parsed = httparse::Request::new(&mut slots);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let method = parsed.method.unwrap_or_default().to_string();
                    let target = parsed.path.unwrap_or_default().to_string();
                    let version = parsed.version.unwrap_or(1);
                    let headers: Vec<(String, Vec<u8>)> = parsed
                        .headers
                        .iter()
                        .map(|h| (h.name.to_string(), h.value.to_vec()))
                        .collect();
                    break (len, method, target, version, headers);
                }
                Ok(httparse::Status::Partial) => {
                    if self.buf.len() > limits.max_head_bytes {
                        return Next::Reject(reject(
                            431,
                            format!("request head larger than {} bytes", limits.max_head_bytes),
                        ));
                    }
                }
                Err(httparse::Error::TooManyHeaders) => {
                    return Next::Reject(reject(
                        431,
                        format!("more than {} headers", limits.max_headers),
                    ));
                }
                Err(e) => return Next::Reject(reject(400, format!("malformed request: {e}"))),
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) if self.buf.is_empty() => return Next::Closed,
                Ok(false) => {
                    return Next::Reject(reject(400, "the request ended before its headers did"));
                }
                Err(_) if self.buf.is_empty() => return Next::Closed,
                Err(_) => {
                    return Next::Reject(reject(
                        408,
                        "the request's headers did not arrive in time",
                    ));
                }
            }
        };
        if head_len > limits.max_head_bytes {
            return Next::Reject(reject(
                431,
                format!("request head larger than {} bytes", limits.max_head_bytes),
            ));
        }
        self.buf.drain(..head_len);

        let header = |name: &'static str| {
            headers
                .iter()
                .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        };
        if !target.starts_with('/') {
            return Next::Reject(reject(
                400,
                "the request target must be a path starting with /",
            ));
        }
        let connection = header("connection")
            .map(|(_, v)| String::from_utf8_lossy(v).to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(",");
        let keep_alive = if version == 0 {
            connection.contains("keep-alive")
        } else {
            !connection.contains("close")
        };

        // 2. The body, framed by Content-Length or chunked transfer coding (RFC 9112 §6).
        let chunked = match header("transfer-encoding").count() {
            0 => false,
            1 => {
                let (_, v) = header("transfer-encoding").next().unwrap();
                if !v.eq_ignore_ascii_case(b"chunked") {
                    return Next::Reject(reject(
                        400,
                        "only the chunked transfer coding is supported",
                    ));
                }
                true
            }
            _ => return Next::Reject(reject(400, "Transfer-Encoding is sent more than once")),
        };
        let mut lengths = header("content-length").map(|(_, v)| v.clone());
        let content_length = match (lengths.next(), lengths.next()) {
            (None, _) => None,
            (Some(v), None) => match std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok())
            {
                Some(n) => Some(n),
                None => return Next::Reject(reject(400, "Content-Length is not a number")),
            },
            (Some(_), Some(_)) => {
                return Next::Reject(reject(400, "Content-Length is sent more than once"));
            }
        };
        if chunked && content_length.is_some() {
            return Next::Reject(reject(
                400,
                "both Content-Length and Transfer-Encoding are sent",
            ));
        }
        if content_length.is_some_and(|n| n > limits.max_body_bytes) {
            return Next::Reject(reject(
                413,
                format!("request body larger than {} bytes", limits.max_body_bytes),
            ));
        }
        let expects_continue =
            header("expect").any(|(_, v)| v.eq_ignore_ascii_case(b"100-continue"));
        if expects_continue && (chunked || content_length.unwrap_or(0) > 0) {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        let body = if chunked {
            match self.read_chunked(limits) {
                Ok(body) => body,
                Err(r) => return Next::Reject(r),
            }
        } else {
            match self.read_exact_body(content_length.unwrap_or(0)) {
                Ok(body) => body,
                Err(r) => return Next::Reject(r),
            }
        };

        let (path, query) = split_target(&target);
        Next::Request(
            Request {
                method,
                path,
                query,
                headers,
                body,
                peer: self.peer,
            },
            keep_alive,
        )
    }

    fn read_exact_body(&mut self, len: usize) -> Result<Vec<u8>, Reject> {
        while self.buf.len() < len {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => {
                    return Err(reject(
                        400,
                        "the request body is shorter than Content-Length",
                    ));
                }
                Err(_) => return Err(reject(408, "the request body did not arrive in time")),
            }
        }
        Ok(self.buf.drain(..len).collect())
    }

    /// Decodes a chunked body (RFC 9112 §7.1); trailers are read and dropped.
    fn read_chunked(&mut self, limits: &Limits) -> Result<Vec<u8>, Reject> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(limits)?;
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_text, 16)
                .map_err(|_| reject(400, "malformed chunk size"))?;
            if size == 0 {
                // Trailer section: lines until an empty one.
                while !self.read_line(limits)?.is_empty() {}
                return Ok(body);
            }
            if body.len() + size > limits.max_body_bytes {
                return Err(reject(
                    413,
                    format!("request body larger than {} bytes", limits.max_body_bytes),
                ));
            }
            let mut chunk = self.read_exact_body(size + 2)?;
            if !chunk.ends_with(b"\r\n") {
                return Err(reject(400, "a chunk does not end with CRLF"));
            }
            chunk.truncate(size);
            body.extend_from_slice(&chunk);
        }
    }

    fn read_line(&mut self, limits: &Limits) -> Result<String, Reject> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..pos + 2).take(pos).collect();
                return String::from_utf8(line).map_err(|_| reject(400, "malformed chunk framing"));
            }
            if self.buf.len() > limits.max_head_bytes {
                return Err(reject(400, "malformed chunk framing"));
            }
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return Err(reject(400, "the chunked body ended early")),
                Err(_) => return Err(reject(408, "the request body did not arrive in time")),
            }
        }
    }
}

fn split_target(target: &str) -> (String, Option<String>) {
    match target.split_once('?') {
        Some((path, query)) => (path.to_string(), Some(query.to_string())),
        None => (target.to_string(), None),
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        302 => "Found",
        303 => "See Other",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "",
    }
}

fn write_response(
    mut stream: &TcpStream,
    response: &Response,
    close: bool,
    head_only: bool,
) -> io::Result<()> {
    let mut out = Vec::with_capacity(256 + response.body.len());
    write!(
        out,
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason_phrase(response.status)
    )?;
    for (name, value) in &response.headers {
        // Values are built by this crate; a stray CR or LF would split the header.
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        write!(out, "{name}: {value}\r\n")?;
    }
    write!(out, "Content-Length: {}\r\n", response.body.len())?;
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(&response.body);
    }
    stream.write_all(&out)?;
    stream.flush()
}
