//! A minimal HTTP/1.1 client with one keep-alive connection.
//!
//! Why not ureq, which the lessons use: the load tool shares the machine's
//! cores with the provider it measures, and ureq spent about twice the
//! processor time per request that the provider did, so the tool, not the
//! provider, set the pace. This client writes each request with one system
//! call and parses answers with `httparse`; it knows only what the provider
//! sends (bodies framed by Content-Length).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The longest any answer may take; a flow that waits longer fails.
const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 1024 * 1024;

pub struct Client {
    addr: SocketAddr,
    /// `127.0.0.1:PORT`, for the Host header.
    host: String,
    connection: Option<TcpStream>,
    /// A new connection for every request (`Connection: close`), as a client
    /// without a connection pool does.
    new_connection_per_request: bool,
    /// Bytes read and not used yet.
    buf: Vec<u8>,
    request: Vec<u8>,
}

/// An answer, read whole.
pub struct Answer {
    pub status: u16,
    headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    /// A client for `base_url` (`http://HOST:PORT`, a loopback address).
    pub fn new(base_url: &str) -> Result<Client, String> {
        let url = url::Url::parse(base_url).map_err(|e| format!("{base_url}: {e}"))?;
        let host = format!(
            "{}:{}",
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(80)
        );
        let addr = host
            .to_socket_addrs()
            .map_err(|e| format!("{host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host}: no address"))?;
        Ok(Client {
            addr,
            host,
            connection: None,
            new_connection_per_request: false,
            buf: Vec::with_capacity(4096),
            request: Vec::with_capacity(1024),
        })
    }

    /// Opens a new connection for every request from now on.
    pub fn new_connection_per_request(mut self) -> Client {
        self.new_connection_per_request = true;
        self
    }

    pub fn get(&mut self, target: &str, authorization: Option<&str>) -> Result<Answer, String> {
        self.send("GET", target, authorization, None)
    }

    /// POSTs an `application/x-www-form-urlencoded` body.
    pub fn post_form(&mut self, target: &str, form: &str) -> Result<Answer, String> {
        self.send("POST", target, None, Some(form))
    }

    fn send(
        &mut self,
        method: &str,
        target: &str,
        authorization: Option<&str>,
        form: Option<&str>,
    ) -> Result<Answer, String> {
        let result = self.exchange(method, target, authorization, form);
        if result.is_err() {
            // The connection may hold half an answer: start the next request afresh.
            self.connection = None;
        }
        result
    }

    fn exchange(
        &mut self,
        method: &str,
        target: &str,
        authorization: Option<&str>,
        form: Option<&str>,
    ) -> Result<Answer, String> {
        let request = &mut self.request;
        request.clear();
        let _ = write!(
            request,
            "{method} {target} HTTP/1.1\r\nHost: {}\r\n",
            self.host
        );
        if let Some(value) = authorization {
            let _ = write!(request, "Authorization: {value}\r\n");
        }
        if self.new_connection_per_request {
            request.extend_from_slice(b"Connection: close\r\n");
        }
        if let Some(body) = form {
            let _ = write!(
                request,
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        } else {
            request.extend_from_slice(b"\r\n");
        }
        if self.connection.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, TIMEOUT).map_err(io_error)?;
            let _ = stream.set_nodelay(true);
            stream.set_read_timeout(Some(TIMEOUT)).map_err(io_error)?;
            stream.set_write_timeout(Some(TIMEOUT)).map_err(io_error)?;
            self.buf.clear();
            self.connection = Some(stream);
        }
        let stream = self.connection.as_mut().expect("connected above");
        stream.write_all(&self.request).map_err(io_error)?;
        let answer = read_answer(stream, &mut self.buf)?;
        if self.new_connection_per_request
            || answer
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            self.connection = None;
        }
        Ok(answer)
    }
}

fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Answer, String> {
    let mut chunk = [0u8; 4096];
    let (head_len, status, headers) = loop {
        let mut slots = [httparse::EMPTY_HEADER; 32];
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(buf) {
            Ok(httparse::Status::Complete(len)) => {
                let headers = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_string(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (len, parsed.code.unwrap_or(0), headers);
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => return Err("answer head too large".into()),
            Err(e) => return Err(format!("malformed answer: {e}")),
        }
        let n = stream.read(&mut chunk).map_err(io_error)?;
        if n == 0 {
            return Err("connection closed before the answer".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .ok_or("answer without Content-Length")?;
    if length > MAX_BODY {
        return Err("answer body too large".into());
    }
    buf.drain(..head_len);
    while buf.len() < length {
        let n = stream.read(&mut chunk).map_err(io_error)?;
        if n == 0 {
            return Err("connection closed inside the answer's body".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf.drain(..length).collect();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// The kind of failure only: messages with ports or addresses would not add up.
fn io_error(e: std::io::Error) -> String {
    format!("{:?}", e.kind())
}
