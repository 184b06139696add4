//! Load generator for the simulator's token endpoint (used by
//! `scripts/bench-sim.sh`). It mints one refresh token per connection through
//! `/_sim/grants`, then keeps CONCURRENCY keep-alive HTTP/1.1 connections
//! busy redeeming them (one request in flight per connection) for SECONDS or
//! until MAX requests, and prints the throughput, latency percentiles, errors
//! and its own CPU time. Loopback URLs only.
//!
//! The client is deliberately lean so that it leaves the cores to the server:
//! one thread, a pre-built request per connection, and a response parser that
//! reads the status and `Content-Length` and nothing else.
//!
//! `BENCH_SCOPE` changes the scopes (e.g. add `openid profile`, as MSAL does,
//! to have an RS256 id_token minted with every answer).
//!
//! `cargo run --release -p reconnect-sim --example token_load -- URL [CONCURRENCY] [SECONDS] [MAX]`

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

const CLIENT: &str = "bench-client";
/// The scopes asked for unless `BENCH_SCOPE` says otherwise.
const SCOPE: &str = "offline_access https://graph.microsoft.com/User.Read";

type Failure = Box<dyn std::error::Error + Send + Sync>;

/// What one connection measured.
#[derive(Default)]
struct Tally {
    ok: u64,
    errors: u64,
    latencies_us: Vec<u32>,
}

fn main() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .ok_or("usage: token_load URL [CONCURRENCY] [SECONDS] [MAX]")?
        .trim_end_matches('/')
        .to_owned();
    let parsed = url::Url::parse(&url)?;
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") || parsed.scheme() != "http" {
        return Err(format!("refusing to load {url}: plain http on loopback only").into());
    }
    let authority = format!("{host}:{}", parsed.port_or_known_default().unwrap_or(80));
    let concurrency: usize = args.get(1).map_or(Ok(32), |s| s.parse())?;
    let seconds: u64 = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let max: u64 = args.get(3).map_or(Ok(u64::MAX), |s| s.parse())?;
    if concurrency == 0 {
        return Err("CONCURRENCY must be at least 1".into());
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(url, authority, concurrency, seconds, max))
}

async fn run(
    url: String,
    authority: String,
    concurrency: usize,
    seconds: u64,
    max: u64,
) -> Result<(), Failure> {
    let scope = std::env::var("BENCH_SCOPE").unwrap_or_else(|_| SCOPE.to_owned());
    let setup = reqwest::Client::new();
    let mut requests = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let minted: serde_json::Value = setup
            .post(format!("{url}/_sim/grants"))
            .json(&serde_json::json!({"upn": "alice@contoso.test", "client_id": CLIENT, "scope": scope}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let rt = minted["refresh_token"]
            .as_str()
            .ok_or("no refresh token minted")?;
        requests.push(token_request(&authority, rt, &scope));
    }

    // Open every connection and warm it with one request before the clock starts.
    let mut streams = Vec::with_capacity(concurrency);
    for request in &requests {
        let mut stream = TcpStream::connect(&authority).await?;
        stream.set_nodelay(true)?;
        let mut buf = Vec::with_capacity(8192);
        let status = exchange(&mut stream, request, &mut buf).await?;
        if status != 200 {
            return Err(format!("warm-up request answered {status}").into());
        }
        streams.push(stream);
    }

    let per_worker = max.div_ceil(concurrency as u64);
    let cpu_before = own_cpu_seconds();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = tokio::task::JoinSet::new();
    for (stream, request) in streams.into_iter().zip(requests) {
        let authority = authority.clone();
        workers.spawn(async move {
            let mut tally = Tally::default();
            let mut stream = Some(stream);
            let mut buf = Vec::with_capacity(8192);
            while Instant::now() < deadline && tally.ok + tally.errors < per_worker {
                let conn = match stream.as_mut() {
                    Some(s) => s,
                    None => match TcpStream::connect(&authority).await {
                        Ok(s) => {
                            let _ = s.set_nodelay(true);
                            stream.insert(s)
                        }
                        Err(_) => {
                            tally.errors += 1;
                            continue;
                        }
                    },
                };
                let sent = Instant::now();
                match exchange(conn, &request, &mut buf).await {
                    Ok(200) => {
                        tally.ok += 1;
                        let us = sent.elapsed().as_micros();
                        tally
                            .latencies_us
                            .push(u32::try_from(us).unwrap_or(u32::MAX));
                    }
                    Ok(_) => tally.errors += 1,
                    Err(_) => {
                        tally.errors += 1;
                        stream = None;
                    }
                }
            }
            tally
        });
    }
    let mut total = Tally::default();
    while let Some(tally) = workers.join_next().await {
        let tally = tally?;
        total.ok += tally.ok;
        total.errors += tally.errors;
        total.latencies_us.extend(tally.latencies_us);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = own_cpu_seconds().zip(cpu_before).map(|(a, b)| a - b);
    total.latencies_us.sort_unstable();

    println!("scope: {scope}");
    println!("concurrency: {concurrency} keep-alive connections");
    println!("duration: {elapsed:.2} s");
    println!("requests: {} ok", total.ok);
    println!("errors: {}", total.errors);
    println!(
        "throughput: {:.0} requests/second",
        total.ok as f64 / elapsed
    );
    println!(
        "latency: p50 {} us, p99 {} us, max {} us",
        percentile(&total.latencies_us, 50.0),
        percentile(&total.latencies_us, 99.0),
        total.latencies_us.last().copied().unwrap_or(0)
    );
    if let Some(cpu) = cpu {
        println!("load generator CPU: {cpu:.2} s");
    }
    Ok(())
}

/// The raw HTTP/1.1 refresh_token request for one refresh token.
fn token_request(authority: &str, refresh_token: &str, scope: &str) -> Vec<u8> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "refresh_token")
        .append_pair("client_id", CLIENT)
        .append_pair("refresh_token", refresh_token)
        .append_pair("scope", scope)
        .finish();
    format!(
        "POST /common/oauth2/v2.0/token HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Sends one request and reads its whole response; returns the status.
async fn exchange(
    stream: &mut TcpStream,
    request: &[u8],
    buf: &mut Vec<u8>,
) -> Result<u16, Failure> {
    stream.write_all(request).await?;
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some((status, head, length)) = response_head(buf)? {
            while buf.len() < head + length {
                let n = stream.read(&mut chunk).await?;
                if n == 0 {
                    return Err("the server closed the connection mid-body".into());
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(status);
        }
    }
}

/// Parses a response head once it is complete: (status, head length, body
/// length). The simulator always answers with `Content-Length`.
fn response_head(buf: &[u8]) -> Result<Option<(u16, usize, usize)>, Failure> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(&buf[..end])?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.strip_prefix("HTTP/1.1 "))
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or("not an HTTP/1.1 status line")?;
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .ok_or("no Content-Length")?;
    Ok(Some((status, end + 4, length)))
}

/// The `p`th percentile of sorted values (nearest rank).
fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// This process's user + system CPU seconds (Linux `/proc`; `None` elsewhere).
fn own_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is parenthesised and may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}
