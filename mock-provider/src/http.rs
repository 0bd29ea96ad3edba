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
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Sizes and times a connection may use.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Request line and headers together.
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_body_bytes: usize,
    /// How long a read may stall (a half-sent request, an idle keep-alive
    /// connection), and how long a whole request may take to arrive once begun,
    /// so that a client trickling a byte at a time cannot hold its thread for long.
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
    /// The request head as received; `headers` are spans of it, so that a
    /// request costs a few allocations rather than two per header.
    head: Vec<u8>,
    headers: Vec<HeaderSpan>,
    pub body: Vec<u8>,
    pub peer: SocketAddr,
}

/// Where a header's name and value are in [`Request::head`].
#[derive(Debug)]
struct HeaderSpan {
    name: Range<usize>,
    value: Range<usize>,
}

/// The values of the headers called `name` (case-insensitively).
fn values_of<'a>(
    head: &'a [u8],
    headers: &'a [HeaderSpan],
    name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| head[h.name.clone()].eq_ignore_ascii_case(name.as_bytes()))
        .map(move |h| &head[h.value.clone()])
}

impl Request {
    /// Every value of a header (names compare case-insensitively).
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        values_of(&self.head, &self.headers, name)
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
        let mut head = Vec::new();
        let mut spans = Vec::new();
        for (name, value) in headers {
            let name_start = head.len();
            head.extend_from_slice(name.as_bytes());
            let value_start = head.len();
            head.extend_from_slice(value.as_bytes());
            spans.push(HeaderSpan {
                name: name_start..value_start,
                value: value_start..head.len(),
            });
        }
        Request {
            method: method.into(),
            path,
            query,
            head,
            headers: spans,
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

/// Connections the kernel holds before they are accepted. The standard library
/// listens with 128, too few for a class whose hundreds of clients connect
/// within a few milliseconds: the kernel drops the SYNs beyond it, and those
/// clients wait a second before they try again.
const ACCEPT_BACKLOG: i32 = 1024;

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
        // Listening again on a listening socket sets its backlog (the system
        // caps it, at net.core.somaxconn on Linux). Where that is not allowed,
        // the provider still works, with the shorter queue.
        let _ = socket2::SockRef::from(&listener).listen(ACCEPT_BACKLOG);
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
        let stream = match stream {
            Ok(stream) => stream,
            Err(_) => {
                // Out of file descriptors, most likely (a laptop's limit can be
                // far below max_connections): wait for some to close rather
                // than spin on accept().
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let Some(slot) = OpenSlot::take(&open, limits.max_connections) else {
            refuse_busy(stream);
            continue;
        };
        let (limits, handler, stopping) = (limits.clone(), handler.clone(), stopping.clone());
        // If the thread cannot start, the closure and its slot are dropped here.
        let _ = std::thread::Builder::new()
            .name("mock-provider-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                let _slot = slot;
                serve_connection(stream, &limits, handler.as_ref(), &stopping);
            });
    }
}

/// One of `max_connections`, given back when dropped: also when the
/// connection's thread unwinds, so a bug cannot shrink the server's capacity.
struct OpenSlot(Arc<AtomicUsize>);

impl OpenSlot {
    fn take(open: &Arc<AtomicUsize>, max: usize) -> Option<OpenSlot> {
        if open.fetch_add(1, Ordering::SeqCst) >= max {
            open.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(OpenSlot(open.clone()))
    }
}

impl Drop for OpenSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answers 429 on a connection over the limit, without blocking the accept loop.
/// What the client has sent already is read first: closing a socket with unread
/// input makes the kernel reset it, and the client could lose the answer.
fn refuse_busy(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(true);
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let _ = write_response(
        &stream,
        &Response::text(
            429,
            "too many connections at once: close idle ones or try again shortly",
        ),
        true,
        false,
    );
    let _ = stream.shutdown(Shutdown::Write);
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
        buf: Vec::new(),
        peer,
        request_began: None,
        read_timeout: limits.read_timeout,
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
#[inline(never)] // Its buffer stays out of the connection loop's frame (see `next_request`).
fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown(Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(100)));
    let mut sink = [0u8; 8192];
    let mut drained = 0;
    let until = Instant::now() + Duration::from_secs(1);
    while drained < 1024 * 1024 && Instant::now() < until {
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
    /// When the first byte of the request being read arrived.
    request_began: Option<Instant>,
    read_timeout: Duration,
}

/// Header slots on the stack, for the usual limit; a higher limit uses the heap.
const STACK_HEADERS: usize = 64;

impl Connection {
    /// Reads more bytes; `Ok(false)` at end of stream. Fails once the request
    /// being read has taken longer than `read_timeout` in all (each read may
    /// also wait that long, so a request gets at most twice that).
    fn fill(&mut self) -> io::Result<bool> {
        if self
            .request_began
            .is_some_and(|began| began.elapsed() > self.read_timeout)
        {
            return Err(io::ErrorKind::TimedOut.into());
        }
        // On the stack: its pages are the ones handlers use anyway, so an idle
        // connection costs no more memory for it.
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk)?;
        if n > 0 {
            self.request_began.get_or_insert_with(Instant::now);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// Not inlined into the connection loop, so that its buffers (a read buffer
    /// and the header slots) are gone from the stack when the handler runs: a
    /// thread's resident stack is as deep as its deepest call, and with hundreds
    /// of connections open that adds up.
    #[inline(never)]
    fn next_request(&mut self, limits: &Limits) -> Next {
        // A pipelined request has begun already.
        self.request_began = (!self.buf.is_empty()).then(Instant::now);
        // 1. The head: read until httparse sees the blank line.
        let (head_len, method, target, version, headers) = loop {
            let mut on_stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
            let mut on_heap = Vec::new();
            let slots = if limits.max_headers <= STACK_HEADERS {
                &mut on_stack[..limits.max_headers]
            } else {
                on_heap.resize(limits.max_headers, httparse::EMPTY_HEADER);
                &mut on_heap[..]
            };
            let mut parsed = httparse::Request::new(slots);
            match parsed.parse(&self.buf) {
                Ok(httparse::Status::Complete(len)) => {
                    let method = parsed.method.unwrap_or_default().to_string();
                    let target = parsed.path.unwrap_or_default().to_string();
                    let version = parsed.version.unwrap_or(1);
                    let headers: Vec<HeaderSpan> = parsed
                        .headers
                        .iter()
                        .map(|h| HeaderSpan {
                            name: span_of(&self.buf, h.name.as_bytes()),
                            value: span_of(&self.buf, h.value),
                        })
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
        let rest = self.buf.split_off(head_len);
        let head = std::mem::replace(&mut self.buf, rest);

        let header = |name: &'static str| values_of(&head, &headers, name);
        // RFC 9112 §3.2.2: a server must accept the absolute form too
        // (`GET http://127.0.0.1:9000/api/me`); only its path and query matter here.
        let target = match target
            .strip_prefix("http://")
            .or_else(|| target.strip_prefix("https://"))
        {
            Some(rest) => match rest.find(['/', '?']) {
                Some(i) if rest[i..].starts_with('/') => rest[i..].to_string(),
                Some(i) => format!("/{}", &rest[i..]),
                None => "/".to_string(),
            },
            None => target,
        };
        if !target.starts_with('/') {
            return Next::Reject(reject(
                400,
                "the request target must be a path starting with /",
            ));
        }
        // RFC 9110 §7.6.1: Connection is a list of options, in any case.
        let connection_has = |option: &[u8]| {
            header("connection").any(|v| {
                v.split(|b| *b == b',')
                    .any(|o| o.trim_ascii().eq_ignore_ascii_case(option))
            })
        };
        let keep_alive = if version == 0 {
            connection_has(b"keep-alive")
        } else {
            !connection_has(b"close")
        };

        // 2. The body, framed by Content-Length or chunked transfer coding (RFC 9112 §6).
        let chunked = match header("transfer-encoding").count() {
            0 => false,
            1 => {
                let v = header("transfer-encoding").next().unwrap();
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
        let content_length = match header("content-length").count() {
            0 => None,
            1 => {
                // RFC 9110 §8.6: 1*DIGIT; Rust's parser would also take a sign.
                let v = header("content-length").next().unwrap();
                if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
                    return Next::Reject(reject(400, "Content-Length is not a number"));
                }
                // Too many digits for a usize is too large a body.
                let n = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok());
                Some(n.unwrap_or(usize::MAX))
            }
            _ => return Next::Reject(reject(400, "Content-Length is sent more than once")),
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
        let expects_continue = header("expect").any(|v| v.eq_ignore_ascii_case(b"100-continue"));
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

        // RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host header.
        if version == 1 && header("host").count() != 1 {
            return Next::Reject(reject(
                400,
                "an HTTP/1.1 request needs exactly one Host header (RFC 9112 §3.2)",
            ));
        }
        let (path, query) = split_target(&target);
        Next::Request(
            Request {
                method,
                path,
                query,
                head,
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
            // RFC 9112 §7.1: chunk-size is 1*HEXDIG, perhaps followed by extensions.
            let size_text = line.split(';').next().unwrap_or("").trim_end();
            if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(reject(400, "malformed chunk size"));
            }
            // Too many digits for a usize is too large a chunk.
            let size = usize::from_str_radix(size_text, 16).unwrap_or(usize::MAX);
            if size == 0 {
                // Trailer section: lines until an empty one, no more than a head's worth.
                let mut trailers = 0;
                loop {
                    let line = self.read_line(limits)?;
                    if line.is_empty() {
                        return Ok(body);
                    }
                    trailers += line.len() + 2;
                    if trailers > limits.max_head_bytes {
                        return Err(reject(
                            431,
                            format!("trailers larger than {} bytes", limits.max_head_bytes),
                        ));
                    }
                }
            }
            if size > limits.max_body_bytes - body.len() {
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

/// Where `part`, a subslice that httparse returned, lies in `whole`.
fn span_of(whole: &[u8], part: &[u8]) -> Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
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
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        // Values are built by this crate; a stray CR or LF would split the header.
        out.extend(value.bytes().filter(|b| *b != b'\r' && *b != b'\n'));
        out.extend_from_slice(b"\r\n");
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
