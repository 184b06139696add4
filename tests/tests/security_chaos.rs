//! Token-endpoint chaos and offline/online, with no real grant failure: the
//! engine must never mark an account "reconnect needed" (or "needs admin",
//! "app misconfigured"), and every account recovers once the chaos stops.
//!
//! A chaos proxy sits between the engine and the simulator. For each token
//! request it either forwards it, or has the simulator serve one of its
//! outages (503, 429 with `Retry-After`, HTML 500, slow, dropped
//! connection), or answers itself with what the simulator does not offer: an
//! empty body, a cut-off JSON body, a body of megabytes, a reset connection.
//! The engine is the real one (`reconnect_engine::Engine`) over the real
//! keychain and SQLite, driven by explicit refreshes and scheduler ticks on a
//! clock the test moves forward.
//!
//! Run inside `scripts/with-session.sh` (real Secret Service).

mod security_support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::Rng as _;
use reconnect_core::health::Health;
use reconnect_e2e::secrets::announce;
use reconnect_engine::Engine;
use reconnect_engine::clock::OffsetClock;
use reconnect_sim::SimState;
use security_support::World;

/// Chaos requests per run at most, and the wall-clock budget.
const MAX_REQUESTS: usize = 3_000;
const BUDGET: Duration = Duration::from_secs(40);
const ACCOUNTS: [(&str, &str); 3] = [
    ("alice", "alice@contoso.test"),
    ("bob", "bob@contoso.test"),
    ("carol", "carol@contoso.test"),
];

/// What the proxy does with one token request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Chaos {
    Forward,
    Sim503,
    Sim429,
    SimHtml500,
    SimSlow,
    SimDrop,
    Empty200,
    Empty500,
    Truncated,
    Megabytes,
    Reset,
}

impl Chaos {
    fn pick(rng: &mut impl rand::Rng) -> Self {
        const ALL: [Chaos; 11] = [
            Chaos::Forward,
            Chaos::Sim503,
            Chaos::Sim429,
            Chaos::SimHtml500,
            Chaos::SimSlow,
            Chaos::SimDrop,
            Chaos::Empty200,
            Chaos::Empty500,
            Chaos::Truncated,
            Chaos::Megabytes,
            Chaos::Reset,
        ];
        // A third of requests go through, so tokens keep rotating under chaos.
        if rng.random_range(0..3) == 0 {
            Chaos::Forward
        } else {
            ALL[rng.random_range(1..ALL.len())]
        }
    }

    fn sim_outage(self) -> Option<&'static str> {
        Some(match self {
            Chaos::Sim503 => "503",
            Chaos::Sim429 => "429",
            Chaos::SimHtml500 => "html500",
            Chaos::SimSlow => "slow",
            Chaos::SimDrop => "drop",
            _ => return None,
        })
    }
}

#[derive(Clone)]
struct Proxy {
    sim_url: String,
    sim: SimState,
    http: reqwest::Client,
    chaos: Arc<AtomicBool>,
    offline: Arc<AtomicBool>,
    tally: Arc<Mutex<BTreeMap<Chaos, usize>>>,
    token_requests: Arc<AtomicUsize>,
}

/// A body that fails at once: the connection is cut without an answer.
struct ResetBody;

impl http_body::Body for ResetBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "chaos: reset",
        ))))
    }
}

fn reset() -> Response {
    Response::new(Body::new(ResetBody))
}

async fn forward(p: &Proxy, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let path = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
    let mut out = p
        .http
        .request(parts.method.clone(), format!("{}{path}", p.sim_url))
        .body(bytes);
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
        out = out.header(header::CONTENT_TYPE, ct);
    }
    match out.send().await {
        Ok(answer) => {
            let status = answer.status();
            let keep: Vec<(header::HeaderName, HeaderValue)> = answer
                .headers()
                .iter()
                .filter(|(k, _)| {
                    matches!(k.as_str(), "content-type" | "retry-after" | "cache-control")
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let body = answer.bytes().await.unwrap_or_default();
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = status;
            response.headers_mut().extend(keep);
            response
        }
        Err(_) => reset(),
    }
}

async fn handle(State(p): State<Proxy>, req: Request) -> Response {
    if p.offline.load(Ordering::SeqCst) {
        return reset();
    }
    let is_token = req.uri().path().ends_with("/oauth2/v2.0/token");
    if !is_token || !p.chaos.load(Ordering::SeqCst) {
        if is_token {
            p.token_requests.fetch_add(1, Ordering::Relaxed);
            *p.tally
                .lock()
                .expect("tally")
                .entry(Chaos::Forward)
                .or_default() += 1;
        }
        return forward(&p, req).await;
    }
    p.token_requests.fetch_add(1, Ordering::Relaxed);
    let (chaos, retry_after, delay_ms) = {
        let mut rng = rand::rng();
        (
            Chaos::pick(&mut rng),
            rng.random_range(0..3u64),
            rng.random_range(50..600u64),
        )
    };
    *p.tally.lock().expect("tally").entry(chaos).or_default() += 1;
    if let Some(outage) = chaos.sim_outage() {
        let fault = serde_json::json!({"outage": outage, "count": 1, "retry_after": retry_after, "delay_ms": delay_ms});
        p.sim
            .add_fault(serde_json::from_value(fault).expect("fault request"))
            .expect("queue the outage");
        return forward(&p, req).await;
    }
    match chaos {
        Chaos::Forward => forward(&p, req).await,
        Chaos::Empty200 => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "",
        )
            .into_response(),
        Chaos::Empty500 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Chaos::Truncated => {
            let answer = forward(&p, req).await;
            let status = answer.status();
            let body = axum::body::to_bytes(answer.into_body(), 1 << 20)
                .await
                .unwrap_or_default();
            let cut = body.slice(..body.len() / 2);
            (status, [(header::CONTENT_TYPE, "application/json")], cut).into_response()
        }
        Chaos::Megabytes => {
            let status = if delay_ms % 2 == 0 {
                StatusCode::OK
            } else {
                StatusCode::BAD_GATEWAY
            };
            let mut body = b"{\"access_token\":\"".to_vec();
            body.resize(3 << 20, b'x');
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
        Chaos::Reset
        | Chaos::Sim503
        | Chaos::Sim429
        | Chaos::SimHtml500
        | Chaos::SimSlow
        | Chaos::SimDrop => reset(),
    }
}

/// The proxy's listener; dropping it (offline) closes the port.
struct Listening {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

async fn listen(proxy: &Proxy, addr: SocketAddr) -> Listening {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .expect("bind the chaos proxy");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new()
        .fallback(handle)
        .with_state(proxy.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Listening { addr, task }
}

/// States a healthy grant must never end up in.
fn broken(h: &Health) -> bool {
    matches!(
        h,
        Health::ReconnectNeeded | Health::NeedsAdmin | Health::AppMisconfigured
    )
}

async fn health_of(engine: &Engine, name: &str) -> Health {
    engine
        .status(Some(name))
        .await
        .expect("status")
        .into_iter()
        .next()
        .expect("one account")
        .health
}

/// Wire-level chaos requests at most, and their budget.
const WIRE_REQUESTS: usize = 2_000;
const WIRE_BUDGET: Duration = Duration::from_secs(25);

fn chaos_proxy(world: &World) -> Proxy {
    Proxy {
        sim_url: world.sim.http_url.trim_end_matches('/').to_owned(),
        sim: world.sim.state.clone(),
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        chaos: Arc::new(AtomicBool::new(false)),
        offline: Arc::new(AtomicBool::new(false)),
        tally: Arc::new(Mutex::new(BTreeMap::new())),
        token_requests: Arc::new(AtomicUsize::new(0)),
    }
}

/// The HTTP client and the decoder under thousands of chaos answers: every
/// failure is read as transient, none as "reconnect needed", and no error
/// message carries a token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_chaos_answer_is_read_as_transient_never_as_reconnect_needed() {
    use reconnect_core::secret::RefreshToken;
    let world = World::start().await;
    let proxy = chaos_proxy(&world);
    let listening = listen(&proxy, SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let endpoint: url::Url = format!(
        "http://{}/{}/oauth2/v2.0/token",
        listening.addr,
        world.sim.state.tenant_of("alice@contoso.test")
    )
    .parse()
    .expect("url");
    let client = reconnect_oauth::TokenClient::new(reconnect_oauth::TokenClientConfig::default())
        .expect("client");
    proxy.chaos.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let verdicts = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let (ok, false_reconnects) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(Mutex::new(Vec::<String>::new())),
    );
    let mut tasks = Vec::new();
    for upn in [
        "alice@contoso.test",
        "bob@contoso.test",
        "alice@contoso.test",
        "bob@contoso.test",
    ] {
        let grant = world.grant(upn);
        let mut refresh =
            RefreshToken::new(grant["refresh_token"].as_str().expect("refresh token"));
        let (client, endpoint, requests) = (
            client.clone(),
            endpoint.clone(),
            proxy.token_requests.clone(),
        );
        let (verdicts, ok, false_reconnects) =
            (verdicts.clone(), ok.clone(), false_reconnects.clone());
        tasks.push(tokio::spawn(async move {
            while requests.load(Ordering::Relaxed) < WIRE_REQUESTS
                && started.elapsed() < WIRE_BUDGET
            {
                match client
                    .refresh(
                        &endpoint,
                        security_support::CLIENT_ID,
                        &refresh,
                        security_support::SCOPE,
                        None,
                    )
                    .await
                {
                    Ok(answer) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        if let Some(next) = answer.tokens.refresh_token {
                            refresh = next;
                        }
                    }
                    Err(e) => {
                        let v = e.verdict(client.now());
                        let message = format!("{e} {}", v.to_text());
                        if v.needs_reconnect()
                            || !v.is_transient()
                            || message.contains(refresh.expose())
                        {
                            false_reconnects
                                .lock()
                                .expect("list")
                                .push(format!("{e}: {}", v.title));
                        }
                        *verdicts
                            .lock()
                            .expect("verdicts")
                            .entry(v.title.clone())
                            .or_default() += 1;
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("wire task");
    }
    let wrong = false_reconnects.lock().expect("list").clone();
    assert!(
        wrong.is_empty(),
        "chaos answers read as permanent failures: {wrong:?}"
    );
    let requests = proxy.token_requests.load(Ordering::Relaxed);
    let tally = proxy.tally.lock().expect("tally").clone();
    let kinds: Vec<String> = tally.iter().map(|(k, v)| format!("{k:?} {v}")).collect();
    let read_as: Vec<String> = verdicts
        .lock()
        .expect("verdicts")
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    announce(&format!(
        "wire chaos requests {requests} in {:.0} s ({}): {} succeeded, failures read as [{}], false reconnects 0",
        started.elapsed().as_secs_f64(),
        kinds.join(", "),
        ok.load(Ordering::Relaxed),
        read_as.join(", ")
    ));
}

/// Lets the engine's scheduler run whatever is due, moving its clock on a
/// quarter of an hour at a time (at most a simulated day), until every
/// account is healthy; returns how many are.
async fn catch_up(engine: &Engine, clock: &OffsetClock) -> usize {
    let mut healthy = 0;
    for _ in 0..96 {
        healthy = 0;
        for (name, _) in ACCOUNTS {
            if health_of(engine, name).await == Health::Healthy {
                healthy += 1;
            }
        }
        if healthy == ACCOUNTS.len() {
            break;
        }
        clock.advance(900);
        let _ = engine.tick().await;
    }
    healthy
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chaos_then_offline_never_marks_a_healthy_grant_broken_and_everything_recovers() {
    let world = World::start().await;
    world
        .sim
        .state
        .add_user("carol@contoso.test", None)
        .expect("add carol");
    let proxy = chaos_proxy(&world);
    let listening = listen(&proxy, SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let authority = format!("http://{}", listening.addr);
    for (name, upn) in ACCOUNTS {
        tokio::task::block_in_place(|| world.connect(name, upn, Some(&authority)));
    }

    let clock = OffsetClock::new(0);
    let home = reconnect_store::Home::at(world.data_dir()).expect("home");
    let engine = Engine::builder(home)
        .clock(Arc::new(clock.clone()))
        .build()
        .expect("engine");
    for (name, _) in ACCOUNTS {
        engine
            .refresh(name, false)
            .await
            .expect("a first refresh before the chaos");
    }

    // Chaos: each account refreshes in its own task while a scheduler task
    // ticks; the clock moves on between attempts so backoffs expire.
    proxy.chaos.store(true, Ordering::SeqCst);
    let started = Instant::now();
    let calls = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let ticks = Arc::new(AtomicUsize::new(0));
    let broken_seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let running = || {
        proxy.token_requests.load(Ordering::Relaxed) < MAX_REQUESTS && started.elapsed() < BUDGET
    };
    let mut tasks = Vec::new();
    for (name, _) in ACCOUNTS {
        let (engine, clock, calls, failures, broken_seen) = (
            engine.clone(),
            clock.clone(),
            calls.clone(),
            failures.clone(),
            broken_seen.clone(),
        );
        let (requests, name) = (proxy.token_requests.clone(), name.to_owned());
        tasks.push(tokio::spawn(async move {
            while requests.load(Ordering::Relaxed) < MAX_REQUESTS && started.elapsed() < BUDGET {
                clock.advance(rand::rng().random_range(30..600));
                calls.fetch_add(1, Ordering::Relaxed);
                if engine.refresh(&name, false).await.is_err() {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                let status = engine.status(Some(&name)).await.expect("status").remove(0);
                if broken(&status.health) {
                    broken_seen.lock().expect("broken").push(format!(
                        "{name} became {} after: {:?}",
                        status.health.name(),
                        status.last_failure
                    ));
                    return;
                }
            }
        }));
    }
    while running()
        && broken_seen.lock().expect("broken").is_empty()
        && tasks.iter().any(|t| !t.is_finished())
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let _ = engine.tick().await;
        ticks.fetch_add(1, Ordering::Relaxed);
    }
    for task in tasks {
        task.await.expect("chaos task");
    }
    let seen = broken_seen.lock().expect("broken").clone();
    let false_reconnects = seen.len();
    assert!(
        seen.is_empty(),
        "a transient failure marked a healthy grant broken: {seen:?}"
    );
    let (calls, failures, ticks) = (
        calls.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
        ticks.load(Ordering::Relaxed),
    );
    let chaos_requests = proxy.token_requests.load(Ordering::Relaxed);
    let tally = proxy.tally.lock().expect("tally").clone();

    // Chaos stops: every account recovers.
    proxy.chaos.store(false, Ordering::SeqCst);
    world.sim.state.clear_faults();
    let recovered = catch_up(&engine, &clock).await;
    assert_eq!(
        recovered,
        ACCOUNTS.len(),
        "every account recovers on its own once the chaos stops"
    );

    // Offline: the port is closed and lingering connections are cut.
    proxy.offline.store(true, Ordering::SeqCst);
    listening.task.abort();
    let _ = listening.task.await;
    let mut offline_failures = 0;
    for round in 0..4 {
        for (name, _) in ACCOUNTS {
            if engine.refresh(name, false).await.is_err() {
                offline_failures += 1;
            }
            let h = health_of(&engine, name).await;
            assert!(
                !broken(&h),
                "offline (round {round}) marked {name} {}",
                h.name()
            );
        }
        clock.advance(600);
        let _ = engine.tick().await;
    }
    assert!(
        offline_failures > 0,
        "offline refreshes must fail (the port is closed)"
    );
    let retrying = {
        let mut n = 0;
        for (name, _) in ACCOUNTS {
            if matches!(health_of(&engine, name).await, Health::Retrying { .. }) {
                n += 1;
            }
        }
        n
    };

    // Online again, same port: the scheduler catches up on its own.
    proxy.offline.store(false, Ordering::SeqCst);
    let _back = listen(&proxy, listening.addr).await;
    let back_online = catch_up(&engine, &clock).await;
    for (name, _) in ACCOUNTS {
        assert_eq!(
            health_of(&engine, name).await,
            Health::Healthy,
            "{name} after coming back online"
        );
        let token = engine
            .access_token(name)
            .await
            .expect("a token once online");
        world
            .scanner
            .lock()
            .expect("scanner")
            .add(&format!("access token of {name}"), token.expose());
    }

    let kinds: Vec<String> = tally.iter().map(|(k, v)| format!("{k:?} {v}")).collect();
    announce(&format!(
        "chaos requests {chaos_requests} ({}) over {calls} refreshes and {ticks} scheduler ticks in {:.0} s: \
         {failures} failed transiently, false reconnects {false_reconnects}, recovered after chaos {recovered}/{recovered}",
        kinds.join(", "),
        started.elapsed().as_secs_f64(),
    ));
    announce(&format!(
        "offline: {offline_failures} refreshes failed, {retrying}/{} accounts retrying, none broken; \
         online: the scheduler caught up, {back_online}/{} healthy",
        ACCOUNTS.len(),
        ACCOUNTS.len()
    ));
    drop(engine);
    tokio::task::block_in_place(|| world.scan()).assert_clean("after the chaos run");
}
