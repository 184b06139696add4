//! Load generator for the simulator's token endpoint (used by
//! `scripts/bench-sim.sh`): mints one refresh token per worker through
//! `/_sim/grants`, then has CONCURRENCY workers redeem them over keep-alive
//! loopback connections for SECONDS (or until MAX requests), and prints the
//! throughput. Loopback URLs only.
//!
//! `cargo run --release -p reconnect-sim --example token_load -- URL [CONCURRENCY] [SECONDS] [MAX]`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENT: &str = "bench-client";
const SCOPE: &str = "offline_access https://graph.microsoft.com/User.Read";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .ok_or("usage: token_load URL [CONCURRENCY] [SECONDS] [MAX]")?
        .trim_end_matches('/')
        .to_owned();
    let host = url::Url::parse(&url)?
        .host_str()
        .unwrap_or_default()
        .to_owned();
    if !matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
        return Err(format!("refusing to load {url}: loopback only").into());
    }
    let concurrency: usize = args.get(1).map_or(Ok(32), |s| s.parse())?;
    let seconds: u64 = args.get(2).map_or(Ok(10), |s| s.parse())?;
    let max: u64 = args.get(3).map_or(Ok(5_000_000), |s| s.parse())?;

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let token_url = format!("{url}/common/oauth2/v2.0/token");
    let mut tokens = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let minted: serde_json::Value = client
            .post(format!("{url}/_sim/grants"))
            .json(&serde_json::json!({"upn": "alice@contoso.test", "client_id": CLIENT, "scope": SCOPE}))
            .send()
            .await?
            .json()
            .await?;
        tokens.push(
            minted["refresh_token"]
                .as_str()
                .ok_or("no refresh token minted")?
                .to_owned(),
        );
    }
    // Warm-up: one round per worker.
    for rt in &tokens {
        client
            .post(&token_url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT),
                ("refresh_token", rt),
                ("scope", SCOPE),
            ])
            .send()
            .await?;
    }

    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let issued = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for rt in tokens {
        let (client, token_url, ok, failed, issued) = (
            client.clone(),
            token_url.clone(),
            ok.clone(),
            failed.clone(),
            issued.clone(),
        );
        workers.push(tokio::spawn(async move {
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT),
                ("refresh_token", rt.as_str()),
                ("scope", SCOPE),
            ];
            while Instant::now() < deadline && issued.fetch_add(1, Ordering::Relaxed) < max {
                match client.post(&token_url).form(&form).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for w in workers {
        w.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ok = ok.load(Ordering::Relaxed);
    let failed = failed.load(Ordering::Relaxed);
    println!(
        "token endpoint: {ok} ok, {failed} failed in {elapsed:.2} s at concurrency {concurrency}: {:.0} requests/second",
        ok as f64 / elapsed
    );
    Ok(())
}
