//! A small HTTP/1.1 server: one event loop, bounded sizes, timeouts.
//!
//! Why an event loop (mio) and not a thread per connection: a whole class may
//! share one provider, and anything that can reach it can open thousands of
//! connections and send a byte now and then. A thread per connection made each
//! of those cost a thread and its stack, until the cap refused everyone else.
//! Here a connection costs its socket and its buffers; over the bound the
//! oldest idle connections are closed, never a new one. Parsing is
//! `httparse`'s; this module only frames requests (Content-Length or chunked),
//! enforces limits and writes responses. Handlers never see a malformed
//! request: it is answered with a 4xx here and the connection is closed.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Sizes and times a connection may use.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Request line and headers together.
    pub max_head_bytes: usize,
    pub max_headers: usize,
    pub max_body_bytes: usize,
    /// How long an idle keep-alive connection is kept, how long a whole request
    /// may take to arrive once begun (a client trickling a byte at a time is cut
    /// off), and how long an answer may wait for the client to read it.
    pub read_timeout: Duration,
    /// Connections held at once (fewer if the process may not open that many
    /// files); beyond it, those that waited longest for a complete request
    /// (idle ones since their last answer, slow ones since they began) are closed.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 64 * 1024,
            read_timeout: Duration::from_secs(10),
            max_connections: 50_000,
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

    /// A plain-text error, used for framing problems before any handler runs
    /// (the router, which marks every other answer `nosniff`, never sees these).
    pub fn text(status: u16, message: &str) -> Self {
        Response::new(status, "text/plain; charset=utf-8", format!("{message}\n"))
            .with_header("X-Content-Type-Options", "nosniff")
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

/// Descriptors kept free for everything else the process opens (files, the
/// owner's client sockets), when the connection bound follows the fd limit.
const SPARE_FDS: usize = 64;

/// Answers waiting to be sent on one connection beyond which it is not read
/// further: a client that pipelines requests but never reads its answers
/// cannot make the server buffer without end.
const MAX_PENDING_OUTPUT: usize = 256 * 1024;

/// Raises the soft limit on open files to the hard limit, as Go's runtime and
/// the JVM do at start, and returns the new soft limit. The default soft limit
/// (1,024 on most Linux systems, 256 on macOS) is far below what a class's
/// connections need; the hard limit is what the administrator allows.
#[cfg(unix)]
pub fn raise_fd_limit() -> io::Result<u64> {
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(io::Error::last_os_error());
        }
        // macOS refuses more than OPEN_MAX (10,240), even under an unlimited hard limit.
        let wanted = if cfg!(target_os = "macos") {
            limit.rlim_max.min(10_240)
        } else {
            limit.rlim_max
        };
        if wanted > limit.rlim_cur {
            limit.rlim_cur = wanted;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every system.
        Ok(limit.rlim_cur as u64)
    }
}

#[cfg(not(unix))]
pub fn raise_fd_limit() -> io::Result<u64> {
    Ok(u64::MAX)
}

/// The soft limit on open files now (`u64::MAX` where there is none).
fn fd_limit() -> u64 {
    #[cfg(unix)]
    // SAFETY: getrlimit only writes the struct given.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 on every system.
            return limit.rlim_cur as u64;
        }
    }
    u64::MAX
}

const LISTENER: mio::Token = mio::Token(0);
const WAKER: mio::Token = mio::Token(1);
/// Connection `i` has token `i + FIRST_CONN`.
const FIRST_CONN: usize = 2;

/// A running server; dropping it stops it.
pub struct Server {
    addr: SocketAddr,
    stopping: Arc<AtomicBool>,
    waker: Arc<mio::Waker>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `handler` on `listener` from one background thread: an event loop
    /// (mio) that owns every connection, so that an idle or slow connection
    /// costs a socket and a few hundred bytes, not a thread and its stack.
    /// Handlers are short and never wait on a socket, so they run on the loop.
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
        // Answers go out at once. Accepted sockets inherit this on Linux and the
        // BSDs, which saves a system call per connection; elsewhere `add` sets it.
        let _ = socket2::SockRef::from(&listener).set_tcp_nodelay(true);
        listener.set_nonblocking(true)?;
        let mut listener = mio::net::TcpListener::from_std(listener);
        let poll = mio::Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, mio::Interest::READABLE)?;
        let waker = Arc::new(mio::Waker::new(poll.registry(), WAKER)?);
        let stopping = Arc::new(AtomicBool::new(false));
        // The bound follows the descriptors this process may open.
        let fds = usize::try_from(fd_limit()).unwrap_or(usize::MAX);
        let bound = limits
            .max_connections
            .min(fds.saturating_sub(SPARE_FDS))
            .max(1);
        let mut event_loop = EventLoop {
            poll,
            listener,
            limits,
            bound,
            handler,
            conns: Vec::new(),
            free: Vec::new(),
            open: 0,
            accept_stalled: false,
            accept_pending: false,
        };
        let flag = stopping.clone();
        let thread = std::thread::Builder::new()
            .name("mock-provider-io".into())
            .spawn(move || event_loop.run(&flag))?;
        Ok(Server {
            addr,
            stopping,
            waker,
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Blocks until the server stops (it never does unless dropped elsewhere).
    pub fn join(mut self) {
        if let Some(handle) = self.thread.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = self.waker.wake();
        if let Some(handle) = self.thread.take() {
            let _ = handle.join();
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

/// Which part of a request is still missing, for the right answer when the
/// client stops or runs out of time.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Stage {
    Head,
    Body,
    Chunked,
}

enum Parsed {
    /// More bytes are needed: at least `need` in all.
    Partial {
        stage: Stage,
        need: usize,
        expects_continue: bool,
    },
    Done {
        request: Request,
        keep_alive: bool,
        /// An HTTP/1.0 request asking to keep the connection (RFC 9112 §9.3).
        kept_1_0: bool,
        used: usize,
        expects_continue: bool,
    },
}

/// Header slots on the stack, for the usual limit; a higher limit uses the heap.
const STACK_HEADERS: usize = 64;

/// Frames one request from the start of `buf` (RFC 9112): the head by
/// httparse, then a body framed by Content-Length or chunked coding. Called
/// again as more bytes arrive; the limits are checked on what has arrived.
fn parse(buf: &[u8], limits: &Limits, peer: SocketAddr) -> Result<Parsed, Reject> {
    // 1. The head: until httparse sees the blank line.
    let mut on_stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut on_heap = Vec::new();
    let slots = if limits.max_headers <= STACK_HEADERS {
        &mut on_stack[..limits.max_headers]
    } else {
        on_heap.resize(limits.max_headers, httparse::EMPTY_HEADER);
        &mut on_heap[..]
    };
    let mut parsed = httparse::Request::new(slots);
    let (head_len, method, target, version, headers) = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let headers: Vec<HeaderSpan> = parsed
                .headers
                .iter()
                .map(|h| HeaderSpan {
                    name: span_of(buf, h.name.as_bytes()),
                    value: span_of(buf, h.value),
                })
                .collect();
            (
                len,
                parsed.method.unwrap_or_default().to_string(),
                parsed.path.unwrap_or_default().to_string(),
                parsed.version.unwrap_or(1),
                headers,
            )
        }
        Ok(httparse::Status::Partial) => {
            if buf.len() > limits.max_head_bytes {
                return Err(reject(
                    431,
                    format!("request head larger than {} bytes", limits.max_head_bytes),
                ));
            }
            return Ok(Parsed::Partial {
                stage: Stage::Head,
                need: buf.len() + 1,
                expects_continue: false,
            });
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(reject(
                431,
                format!("more than {} headers", limits.max_headers),
            ));
        }
        Err(e) => return Err(reject(400, format!("malformed request: {e}"))),
    };
    if head_len > limits.max_head_bytes {
        return Err(reject(
            431,
            format!("request head larger than {} bytes", limits.max_head_bytes),
        ));
    }
    let head = &buf[..head_len];
    let header = |name: &'static str| values_of(head, &headers, name);
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
        return Err(reject(
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
                return Err(reject(400, "only the chunked transfer coding is supported"));
            }
            true
        }
        _ => return Err(reject(400, "Transfer-Encoding is sent more than once")),
    };
    let content_length = match header("content-length").count() {
        0 => None,
        1 => {
            // RFC 9110 §8.6: 1*DIGIT; Rust's parser would also take a sign.
            let v = header("content-length").next().unwrap();
            if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
                return Err(reject(400, "Content-Length is not a number"));
            }
            // Too many digits for a usize is too large a body.
            let n = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok());
            Some(n.unwrap_or(usize::MAX))
        }
        _ => return Err(reject(400, "Content-Length is sent more than once")),
    };
    if chunked && content_length.is_some() {
        return Err(reject(
            400,
            "both Content-Length and Transfer-Encoding are sent",
        ));
    }
    if content_length.is_some_and(|n| n > limits.max_body_bytes) {
        return Err(reject(
            413,
            format!("request body larger than {} bytes", limits.max_body_bytes),
        ));
    }
    let expects_continue = header("expect").any(|v| v.eq_ignore_ascii_case(b"100-continue"))
        && (chunked || content_length.unwrap_or(0) > 0);
    let (body, used) = if chunked {
        match decode_chunked(&buf[head_len..], limits)? {
            Some((body, len)) => (body, head_len + len),
            None => {
                return Ok(Parsed::Partial {
                    stage: Stage::Chunked,
                    need: buf.len() + 1,
                    expects_continue,
                });
            }
        }
    } else {
        let len = content_length.unwrap_or(0);
        if buf.len() < head_len + len {
            return Ok(Parsed::Partial {
                stage: Stage::Body,
                need: head_len + len,
                expects_continue,
            });
        }
        (buf[head_len..head_len + len].to_vec(), head_len + len)
    };

    // RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host header.
    if version == 1 && header("host").count() != 1 {
        return Err(reject(
            400,
            "an HTTP/1.1 request needs exactly one Host header (RFC 9112 §3.2)",
        ));
    }
    let (path, query) = split_target(&target);
    Ok(Parsed::Done {
        request: Request {
            method,
            path,
            query,
            head: head.to_vec(),
            headers,
            body,
            peer,
        },
        keep_alive,
        kept_1_0: keep_alive && version == 0,
        used,
        expects_continue,
    })
}

/// Decodes a chunked body (RFC 9112 §7.1) from the start of `buf`; trailers are
/// read and dropped. `None` while incomplete; else the body and the bytes used.
fn decode_chunked(buf: &[u8], limits: &Limits) -> Result<Option<(Vec<u8>, usize)>, Reject> {
    let mut body = Vec::new();
    let mut at = 0;
    // The next CRLF-terminated line from `at`, as text.
    let line = |at: usize| -> Result<Option<(String, usize)>, Reject> {
        let rest = &buf[at..];
        match rest.windows(2).position(|w| w == b"\r\n") {
            Some(pos) => String::from_utf8(rest[..pos].to_vec())
                .map(|l| Some((l, at + pos + 2)))
                .map_err(|_| reject(400, "malformed chunk framing")),
            None if rest.len() > limits.max_head_bytes => {
                Err(reject(400, "malformed chunk framing"))
            }
            None => Ok(None),
        }
    };
    loop {
        let Some((size_line, next)) = line(at)? else {
            return Ok(None);
        };
        at = next;
        // RFC 9112 §7.1: chunk-size is 1*HEXDIG, perhaps followed by extensions.
        let size_text = size_line.split(';').next().unwrap_or("").trim_end();
        if size_text.is_empty() || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(reject(400, "malformed chunk size"));
        }
        // Too many digits for a usize is too large a chunk.
        let size = usize::from_str_radix(size_text, 16).unwrap_or(usize::MAX);
        if size == 0 {
            // Trailer section: lines until an empty one, no more than a head's worth.
            let mut trailers = 0;
            loop {
                let Some((trailer, next)) = line(at)? else {
                    return Ok(None);
                };
                at = next;
                if trailer.is_empty() {
                    return Ok(Some((body, at)));
                }
                trailers += trailer.len() + 2;
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
        if buf.len() < at + size + 2 {
            return Ok(None);
        }
        if &buf[at + size..at + size + 2] != b"\r\n" {
            return Err(reject(400, "a chunk does not end with CRLF"));
        }
        body.extend_from_slice(&buf[at..at + size]);
        at += size + 2;
    }
}

/// What a connection is doing.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Phase {
    /// Reading requests and answering them.
    Open,
    /// Sending its last answer; closed once it is sent.
    Closing,
    /// After a rejection: its answer is sent and its sending side shut; what
    /// the client still sends is read and dropped for a moment, so that the
    /// kernel does not reset the connection before the client read the reason.
    Lingering { drained: usize },
}

struct Conn {
    stream: mio::net::TcpStream,
    peer: SocketAddr,
    /// Bytes read but not yet used (a request being received, or pipelined ones).
    input: Vec<u8>,
    /// No request can be complete before `input` holds this many bytes.
    need: usize,
    stage: Stage,
    /// Answers not yet sent, from `output[sent..]`.
    output: Vec<u8>,
    sent: usize,
    phase: Phase,
    continue_sent: bool,
    /// When the request being read began (its first byte).
    began: Option<Instant>,
    /// The last read or write that moved bytes: for idle and stalled connections.
    active: Instant,
    /// Reading waits until the pending answers are sent.
    paused: bool,
    /// Lingering: the sending side is shut.
    shut: bool,
    /// Registered for writability too: an answer did not fit the socket.
    want_write: bool,
    /// In the poll set. A connection joins it only once a read or a write
    /// would block: one that brings its whole request at once and asks for
    /// `Connection: close` is answered and closed without ever joining,
    /// which saves a system call per connection.
    registered: bool,
}

impl Conn {
    /// When this connection's time is up, and what happens then.
    fn deadline(&self, limits: &Limits) -> Instant {
        match self.phase {
            Phase::Lingering { .. } => self.began.unwrap_or(self.active) + LINGER,
            _ if self.sent < self.output.len() => self.active + limits.read_timeout,
            _ => self.began.unwrap_or(self.active) + limits.read_timeout,
        }
    }
}

/// How long a rejected connection is read and drained before it is closed.
const LINGER: Duration = Duration::from_secs(1);
const MAX_LINGER_BYTES: usize = 1024 * 1024;

struct EventLoop {
    poll: mio::Poll,
    listener: mio::net::TcpListener,
    limits: Limits,
    /// Connections held at once: `max_connections`, or fewer if the process
    /// may not open that many descriptors.
    bound: usize,
    handler: Arc<dyn Handler>,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    open: usize,
    /// Accepting failed (out of descriptors): try again shortly.
    accept_stalled: bool,
    /// More connections may wait to be accepted: a turn accepts at most
    /// `ACCEPT_BATCH`, so that a flood of new connections cannot keep the
    /// loop from the connections it already holds.
    accept_pending: bool,
}

/// Connections accepted per turn of the loop.
const ACCEPT_BATCH: usize = 64;

impl EventLoop {
    fn run(&mut self, stopping: &AtomicBool) {
        let mut events = mio::Events::with_capacity(1024);
        // Deadlines are checked by a sweep over all connections every `tick`:
        // with ten thousand connections that is well under a millisecond of
        // work ten times a second, and nothing to keep in order per request.
        let tick = (self.limits.read_timeout / 8)
            .clamp(Duration::from_millis(5), Duration::from_millis(100));
        let mut next_sweep = Instant::now() + tick;
        loop {
            let mut timeout = next_sweep.saturating_duration_since(Instant::now());
            if self.accept_stalled {
                timeout = timeout.min(Duration::from_millis(10));
            }
            if self.accept_pending {
                timeout = Duration::ZERO;
            }
            let polled = self.poll.poll(&mut events, Some(timeout));
            if polled.is_err_and(|e| e.kind() != io::ErrorKind::Interrupted) {
                // Nothing sensible is left to do; the process would only spin.
                return;
            }
            if stopping.load(Ordering::SeqCst) {
                return;
            }
            for event in events.iter() {
                match event.token() {
                    LISTENER => self.accept(),
                    WAKER => {}
                    mio::Token(t) => self.ready(t - FIRST_CONN),
                }
            }
            if self.accept_stalled || self.accept_pending {
                self.accept();
            }
            let now = Instant::now();
            if now >= next_sweep {
                self.sweep(now);
                next_sweep = now + tick;
            }
        }
    }

    fn accept(&mut self) {
        self.accept_stalled = false;
        self.accept_pending = false;
        for _ in 0..ACCEPT_BATCH {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if self.open >= self.bound {
                        self.shed();
                    }
                    self.add(stream, peer);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if is_out_of_fds(&e) => {
                    // Make room and come back soon: the connection waiting may
                    // be a student's, and the kernel will not signal it again.
                    self.shed();
                    self.accept_stalled = true;
                    return;
                }
                // A connection that failed before it was accepted: the next one.
                Err(_) => {}
            }
        }
        // The batch is used up: the rest wait for the next turn (no edge will
        // come for them).
        self.accept_pending = true;
    }

    fn add(&mut self, stream: mio::net::TcpStream, peer: SocketAddr) {
        if cfg!(not(any(
            target_os = "linux",
            target_os = "android",
            target_os = "macos",
            target_os = "freebsd"
        ))) {
            let _ = stream.set_nodelay(true);
        }
        let index = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        self.conns[index] = Some(Conn {
            stream,
            peer,
            input: Vec::new(),
            need: 1,
            stage: Stage::Head,
            output: Vec::new(),
            sent: 0,
            phase: Phase::Open,
            continue_sent: false,
            began: None,
            active: Instant::now(),
            paused: false,
            shut: false,
            want_write: false,
            registered: false,
        });
        self.open += 1;
        // Whatever arrived with the connection is read now; the connection
        // joins the poll set when a read would block (`ready`).
        self.ready(index);
    }

    fn close(&mut self, index: usize) {
        // Closing the socket takes it out of the poll set: no deregistering,
        // which would cost a system call per connection.
        if self.conns[index].take().is_some() {
            self.free.push(index);
            self.open -= 1;
        }
    }

    /// Over the bound: closes about a tenth of the connections, those that
    /// have waited longest for their next complete request: idle keep-alive
    /// connections by the time of their last answer (nothing is lost, a client
    /// opens another), requests under way by the time they began (the slowest).
    /// A connection in active use is never among them, and the connection
    /// being accepted is never refused.
    fn shed(&mut self) {
        let want = (self.bound / 10).max(1);
        let mut candidates: Vec<(Instant, usize)> = self
            .conns
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let c = c.as_ref()?;
                // Answers being sent are left alone.
                (c.sent == c.output.len() || c.phase != Phase::Open)
                    .then(|| (c.began.unwrap_or(c.active), i))
            })
            .collect();
        let want = want.min(candidates.len());
        if want == 0 {
            return;
        }
        candidates.select_nth_unstable(want - 1);
        for (_, i) in candidates.into_iter().take(want) {
            self.close(i);
        }
    }

    /// Closes the connections whose time is up; a request begun gets 408 first.
    fn sweep(&mut self, now: Instant) {
        for i in 0..self.conns.len() {
            let Some(conn) = self.conns[i].as_mut() else {
                continue;
            };
            if now < conn.deadline(&self.limits) {
                continue;
            }
            let unsent = conn.sent < conn.output.len();
            if conn.phase == Phase::Open && !unsent && !conn.input.is_empty() {
                let reason = if conn.stage == Stage::Head {
                    "the request's headers did not arrive in time"
                } else {
                    "the request body did not arrive in time"
                };
                conn.input.clear();
                self.refuse(i, reject(408, reason));
            } else {
                self.close(i);
            }
        }
    }

    /// Queues a rejection's answer; the connection lingers once it is sent.
    fn refuse(&mut self, index: usize, r: Reject) {
        let Some(conn) = self.conns[index].as_mut() else {
            return;
        };
        let _ = write_response(
            &mut conn.output,
            &Response::text(r.status, &r.reason),
            Some("close"),
            false,
        );
        conn.phase = Phase::Lingering { drained: 0 };
        conn.began = Some(Instant::now());
        self.flush(index);
    }

    /// Reads what the socket holds, answers every complete request, and sends.
    fn ready(&mut self, index: usize) {
        if self.conns.get(index).is_none_or(Option::is_none) {
            return;
        }
        self.flush(index);
        let mut chunk = [0u8; 16 * 1024];
        loop {
            let Some(conn) = self.conns[index].as_mut() else {
                return;
            };
            if conn.paused || conn.phase == Phase::Closing {
                return;
            }
            match conn.stream.read(&mut chunk) {
                Ok(0) => {
                    self.end_of_input(index);
                    return;
                }
                Ok(n) => {
                    conn.active = Instant::now();
                    if let Phase::Lingering { drained } = &mut conn.phase {
                        *drained += n;
                        if *drained > MAX_LINGER_BYTES {
                            self.close(index);
                            return;
                        }
                        continue;
                    }
                    if conn.input.is_empty() {
                        conn.began = Some(conn.active);
                    }
                    conn.input.extend_from_slice(&chunk[..n]);
                    self.answer(index);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.watch(index);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.close(index);
                    return;
                }
            }
        }
    }

    /// The client shut its sending side (or closed).
    fn end_of_input(&mut self, index: usize) {
        let Some(conn) = self.conns[index].as_mut() else {
            return;
        };
        if conn.phase != Phase::Open || conn.input.is_empty() {
            // Nothing more to read: send what is pending, then close.
            conn.phase = Phase::Closing;
            self.flush(index);
            return;
        }
        let reason = match conn.stage {
            Stage::Head => "the request ended before its headers did",
            Stage::Body => "the request body is shorter than Content-Length",
            Stage::Chunked => "the chunked body ended early",
        };
        conn.input.clear();
        self.refuse(index, reject(400, reason));
    }

    /// Answers the complete requests at the start of the input.
    fn answer(&mut self, index: usize) {
        loop {
            let Some(conn) = self.conns[index].as_mut() else {
                return;
            };
            if conn.phase != Phase::Open || conn.input.len() < conn.need {
                break;
            }
            match parse(&conn.input, &self.limits, conn.peer) {
                Ok(Parsed::Partial {
                    stage,
                    need,
                    expects_continue,
                }) => {
                    conn.stage = stage;
                    conn.need = need;
                    if expects_continue && !conn.continue_sent {
                        conn.continue_sent = true;
                        conn.output
                            .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                    }
                    break;
                }
                Ok(Parsed::Done {
                    request,
                    keep_alive,
                    kept_1_0,
                    used,
                    expects_continue,
                }) => {
                    // As if the body had waited for it (RFC 9110 §10.1.1).
                    if expects_continue && !conn.continue_sent {
                        conn.output
                            .extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
                    }
                    conn.input.drain(..used);
                    conn.need = 1;
                    conn.stage = Stage::Head;
                    conn.continue_sent = false;
                    conn.began = (!conn.input.is_empty()).then(Instant::now);
                    let head_only = request.method == "HEAD";
                    // A handler bug must not take the server down: answer 500 and go on.
                    let response = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.handler.handle(&request)
                    }))
                    .unwrap_or_else(|_| {
                        Response::text(500, "the mock provider hit a bug: please report it")
                    });
                    let connection = if !keep_alive {
                        Some("close")
                    } else if kept_1_0 {
                        // An HTTP/1.0 client keeps the connection only when told so.
                        Some("keep-alive")
                    } else {
                        None
                    };
                    let _ = write_response(&mut conn.output, &response, connection, head_only);
                    if !keep_alive {
                        conn.phase = Phase::Closing;
                    }
                    if conn.output.len() - conn.sent > MAX_PENDING_OUTPUT {
                        conn.paused = true;
                        break;
                    }
                }
                Err(r) => {
                    conn.input.clear();
                    self.refuse(index, r);
                    return;
                }
            }
        }
        self.flush(index);
    }

    /// Puts the connection in the poll set, or updates its interest: reads
    /// always, writes while an answer waits for room. Registering an
    /// edge-triggered socket that is already ready reports it at once, so
    /// nothing that arrived before is missed.
    fn watch(&mut self, index: usize) {
        let Some(conn) = self.conns[index].as_mut() else {
            return;
        };
        let token = mio::Token(index + FIRST_CONN);
        let interest = if conn.want_write {
            mio::Interest::READABLE | mio::Interest::WRITABLE
        } else {
            mio::Interest::READABLE
        };
        let registry = self.poll.registry();
        let done = if conn.registered {
            registry.reregister(&mut conn.stream, token, interest)
        } else {
            registry.register(&mut conn.stream, token, interest)
        };
        if done.is_ok() {
            conn.registered = true;
        } else {
            self.close(index);
        }
    }

    /// Sends what is pending, as far as the socket takes it.
    fn flush(&mut self, index: usize) {
        let Some(conn) = self.conns[index].as_mut() else {
            return;
        };
        let last = conn.phase == Phase::Closing;
        while conn.sent < conn.output.len() {
            match send(conn, last) {
                Ok(0) => {
                    self.close(index);
                    return;
                }
                Ok(n) => {
                    conn.sent += n;
                    conn.active = Instant::now();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Only now is writability worth an event.
                    if !conn.want_write {
                        conn.want_write = true;
                        self.watch(index);
                    }
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.close(index);
                    return;
                }
            }
        }
        // All sent: free the buffers an idle connection need not keep.
        conn.output = Vec::new();
        conn.sent = 0;
        if conn.input.is_empty() && conn.input.capacity() > 4096 {
            conn.input = Vec::new();
        }
        match conn.phase {
            Phase::Closing => self.close(index),
            Phase::Lingering { .. } if !conn.shut => {
                let _ = conn.stream.shutdown(Shutdown::Write);
                conn.shut = true;
            }
            Phase::Open if conn.paused => {
                conn.paused = false;
                // Requests already read wait in the input.
                self.answer(index);
                self.ready(index);
            }
            _ => {}
        }
    }
}

/// Writes the pending answer. The last answer on a connection that closes
/// is held back (`MSG_MORE`) until `close`, so that Linux sends it and the FIN
/// in one segment: one wake-up of the client instead of two.
fn send(conn: &mut Conn, last: bool) -> io::Result<usize> {
    let pending = &conn.output[conn.sent..];
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if last {
        return socket2::SockRef::from(&conn.stream).send_with_flags(pending, libc::MSG_MORE);
    }
    let _ = last;
    conn.stream.write(pending)
}

fn is_out_of_fds(e: &io::Error) -> bool {
    #[cfg(unix)]
    if let Some(code) = e.raw_os_error() {
        return code == libc::EMFILE
            || code == libc::ENFILE
            || code == libc::ENOBUFS
            || code == libc::ENOMEM;
    }
    let _ = e;
    false
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
        421 => "Misdirected Request",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "",
    }
}

/// Appends the answer to `out`.
fn write_response(
    out: &mut Vec<u8>,
    response: &Response,
    connection: Option<&str>,
    head_only: bool,
) -> io::Result<()> {
    out.reserve(256 + response.body.len());
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
    if let Some(connection) = connection {
        write!(out, "Connection: {connection}\r\n")?;
    }
    out.extend_from_slice(b"\r\n");
    if !head_only {
        out.extend_from_slice(&response.body);
    }
    Ok(())
}
