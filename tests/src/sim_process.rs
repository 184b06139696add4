//! The simulator as its own process: `reconnect sim serve` started in a
//! test's home (killed when the test ends) with its start-up line, and plain
//! HTTP/1.1 requests to it over a fresh loopback connection each, for the
//! tests that speak to it as any client would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::Duration;

use crate::harness::{KillOnDrop, TempHome, binary};

/// A running `reconnect sim serve` and its start-up line.
#[derive(Debug)]
pub struct Served {
    _child: KillOnDrop,
    /// The first line it printed (`http_url`, `https_url`, `ca_pem`).
    pub line: serde_json::Value,
}

impl Served {
    /// Its HTTP URL.
    pub fn url(&self) -> String {
        self.line["http_url"].as_str().expect("http_url").to_owned()
    }
}

/// Starts `reconnect sim serve ARGS…` in `home` and reads its start-up line.
pub fn serve(home: &TempHome, args: &[&str]) -> Served {
    let mut child = home
        .command(binary("reconnect"))
        .args(["sim", "serve"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn reconnect sim serve");
    let stdout = child.stdout.take().expect("stdout");
    let child = KillOnDrop(child);
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let line: serde_json::Value =
        serde_json::from_str(&first).unwrap_or_else(|e| panic!("not JSON ({e}): {first:?}"));
    Served {
        _child: child,
        line,
    }
}

/// One HTTP/1.1 request over a fresh loopback connection: (status, head, body).
pub fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, String) {
    let host = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, rest) = raw.split_once("\r\n\r\n").expect("head");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    (status, head.to_owned(), rest.to_owned())
}

/// The JSON in an answer's body (small answers may come chunked: what lies
/// between the outer braces).
pub fn json_of(body: &str) -> serde_json::Value {
    let start = body
        .find('{')
        .unwrap_or_else(|| panic!("no JSON in {body:?}"));
    let end = body
        .rfind('}')
        .unwrap_or_else(|| panic!("no JSON in {body:?}"));
    serde_json::from_str(&body[start..=end]).unwrap_or_else(|e| panic!("bad JSON ({e}): {body:?}"))
}
