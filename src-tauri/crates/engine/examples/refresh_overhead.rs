//! Prints how much the engine adds to one refresh round trip, without the OS
//! keychain: `Engine::refresh` (single-flight, lock file, SQLite facts,
//! health and event writes, in-memory vault) against the in-process
//! simulator, beside a bare HTTP POST of the same grant.
//!
//! Run: `cargo run --release -p reconnect-engine --example refresh_overhead [RUNS]`
//! (`scripts/bench-token.sh` measures the whole `reconnect token` process,
//! keychain included.)

use std::sync::Arc;
use std::time::Instant;

use reconnect_core::tokens::UnixTime;
use reconnect_engine::{Clock, Engine};
use reconnect_sim::{AppRegistration, GrantRequest, SimConfig, SimState, Simulator};
use reconnect_store::{Home, MemoryVault, NewAccount, TokenFacts, Vault};

#[derive(Debug)]
struct SimClock(SimState);

impl Clock for SimClock {
    fn now(&self) -> UnixTime {
        self.0.now()
    }
}

const CLIENT: &str = "bench-client";
const SCOPES: &str = "openid profile offline_access User.Read";

fn report(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let n = ms.len();
    let mean = ms.iter().sum::<f64>() / n as f64;
    println!(
        "{label:<40} n={n:<5} min {:7.3}  median {:7.3}  mean {:7.3}  p90 {:7.3}  ms",
        ms[0],
        ms[n / 2],
        mean,
        ms[(n * 9 / 10).min(n - 1)]
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let sim = Simulator::start(SimConfig {
        apps: vec![AppRegistration::desktop(CLIENT)],
        ..SimConfig::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let vault = Arc::new(MemoryVault::in_memory());
    let engine = Engine::builder(Home::at(dir.path())?)
        .vault(vault.clone())
        .clock(Arc::new(SimClock(sim.state.clone())))
        .build()?;
    let mut new = NewAccount::microsoft("bench", CLIENT);
    new.authority = sim.http_url.clone();
    new.tenant = Some("common".into());
    let account = engine.store().add_account(&new)?;
    let grant = GrantRequest {
        upn: "alice@contoso.test".into(),
        client_id: CLIENT.into(),
        scope: SCOPES.into(),
        spa: false,
        mfa: false,
    };
    let body = sim.state.mint_grant(&grant, &sim.http_url)?;
    let now = sim.state.now();
    let tokens = reconnect_oauth::TokenResponse::parse(body.to_string().as_bytes(), now)?.tokens;
    vault.put(account.id, &tokens)?;
    engine.store().write(|tx| {
        tx.rewrite_token_facts(
            account.id,
            &TokenFacts {
                access_expires_at: tokens.access_expires_at,
                refresh_issued_at: Some(now),
                refresh_last_used_at: Some(now),
                ..TokenFacts::default()
            },
        )
    })?;

    let mut engine_ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        engine.refresh("bench", false).await?;
        engine_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }

    let raw_rt = sim.state.mint_grant(&grant, &sim.http_url)?["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let http = reqwest::Client::new();
    let url = format!("{}/common/oauth2/v2.0/token", sim.http_url);
    let mut raw_ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let response = http
            .post(&url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT),
                ("refresh_token", raw_rt.as_str()),
                ("scope", SCOPES),
            ])
            .send()
            .await?;
        let _ = response.bytes().await?;
        raw_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }

    println!("one refresh, in process, {runs} runs each (no OS keychain)");
    report("Engine::refresh (lock, SQLite, events)", engine_ms);
    report("bare HTTP POST of the same grant", raw_ms);
    sim.shutdown().await;
    Ok(())
}
