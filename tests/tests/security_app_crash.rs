//! Crashes of the desktop app: `kill -9` of the real `reconnect-app` while
//! its background refresh runs against the simulator, tens of times, with the
//! real keychain and SQLite. After every kill the database passes `PRAGMA
//! integrity_check`, no keychain entry is orphaned, and the connection still
//! works (`reconnect token` succeeds against the simulator); at the end the
//! app itself refreshes cleanly and nothing the run left holds a secret.
//!
//! How the kills land inside a refresh: before each launch the account's
//! last use is set a week back (what an idle week does), so the app's
//! scheduler finds the keep-alive due and refreshes on its first tick. The
//! engine's test hook (`RECONNECT_TEST_PAUSE_AT`, see
//! `reconnect_engine::hooks`) makes the app print `reconnect-test-paused
//! <point>` on stderr inside that refresh: either it pauses there and is
//! killed at the point (`locked`, `response`, `vault_written`,
//! `metadata_written`), or it goes straight on from the lock and is killed a
//! random 0–250 ms later — anywhere in the token request, the keychain write
//! or the SQLite commit. Whether such a refresh finished before the kill is
//! read from the stored facts afterwards and reported.
//!
//! That test runs the app without WebDriver. The second one kills the app
//! during an interactive reconnect started from its window: WebDriver
//! (`tauri-driver`) opens the real window on the same profile, the test
//! invokes `reconnect_start` as the Reconnect button does, with a curl
//! script as `RECONNECT_BROWSER` and the simulator (in the test process, so
//! the grant outlives every kill) auto-approving alice; then SIGKILL goes to
//! the app and every process under it at a random moment. The delays are
//! spread over the whole flow, as long as one measured reconnect took (plus a
//! third): before the browser step, while the code is redeemed, around the
//! token write. Where each kill landed is read from the simulator's request
//! log and the keychain afterwards. After each kill the same checks hold,
//! and `reconnect refresh --force` shows the stored grant (old or new) is
//! still accepted by the simulator.
//!
//! Both need an X display (CI runs the tests under `xvfb-run`) and the
//! Secret Service (`scripts/with-session.sh`); the second also
//! `tauri-driver` and WebKitWebDriver.

mod app_support;
mod security_support;

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::Rng as _;
use reconnect_e2e::harness::binary;
use reconnect_e2e::secrets::announce;
use reconnect_store::{AccountId, Store, TokenFacts};
use security_support::{World, account_ids, crash_leftovers, health, integrity, orphaned_entries};

/// The two tests take turns: together they kept two apps and their CLI
/// checks writing to one gnome-keyring while being killed mid-write, and
/// CI saw the daemon die (D-Bus then started a locked one, which asked for
/// a password no one could type).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Most kills per run, and the wall-clock budget for them.
const MAX_KILLS: usize = 60;
const BUDGET: Duration = Duration::from_secs(80);
const PAUSE_POINTS: [&str; 4] = ["locked", "response", "vault_written", "metadata_written"];
/// How long a launched app may take to reach its first refresh.
const START_PATIENCE: Duration = Duration::from_secs(45);
/// A week and a day: past the engine's 7-day keep-alive.
const IDLE: i64 = 8 * 86_400;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().try_into().unwrap_or(i64::MAX))
}

fn open_store(world: &World) -> Store {
    Store::open_path(world.data_dir().join("reconnect.db")).expect("open the profile's database")
}

fn account_id(world: &World, name: &str) -> AccountId {
    open_store(world).account(name).expect("the account").id
}

fn facts(world: &World, id: AccountId) -> Option<TokenFacts> {
    open_store(world).token_facts(id).expect("token facts")
}

/// Moves the account's last use a week back, so the app's scheduler finds
/// the keep-alive due; returns the aged time.
fn age_last_use(world: &World, id: AccountId) -> i64 {
    let aged = now() - IDLE;
    let mut f = facts(world, id).unwrap_or_default();
    f.refresh_last_used_at = Some(aged);
    if f.refresh_issued_at.is_some_and(|t| t > aged) {
        f.refresh_issued_at = Some(aged);
    }
    open_store(world)
        .write(|tx| tx.rewrite_token_facts(id, &f))
        .expect("age the last use");
    aged
}

/// A launched app whose stderr lines are watched for the pause marker.
struct RunningApp {
    child: Child,
    paused: mpsc::Receiver<String>,
    stderr: std::thread::JoinHandle<Vec<u8>>,
    stdout: std::thread::JoinHandle<Vec<u8>>,
}

fn launch(world: &World, pause_at: &str, pause_ms: u64) -> RunningApp {
    let mut cmd = world.home.command(binary("reconnect-app"));
    cmd.env_remove("RECONNECT_PROFILE")
        .env("RECONNECT_NO_NOTIFICATIONS", "1")
        .env("RECONNECT_LOG", "debug")
        .env("RECONNECT_TEST_PAUSE_AT", pause_at)
        .env("RECONNECT_TEST_PAUSE_MS", pause_ms.to_string())
        .envs(world.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        // Its own process group, so WebKit's helper processes go with it.
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start reconnect-app");
    let err = child.stderr.take().expect("stderr");
    let mut out = child.stdout.take().expect("stdout");
    let (tx, paused) = mpsc::channel();
    let stderr = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if let Some(point) = line.strip_prefix("reconnect-test-paused ") {
                let _ = tx.send(point.trim().to_owned());
            }
            all.extend_from_slice(line.as_bytes());
            all.push(b'\n');
        }
        all
    });
    let stdout = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = out.read_to_end(&mut all);
        all
    });
    RunningApp {
        child,
        paused,
        stderr,
        stdout,
    }
}

impl RunningApp {
    /// Waits for the refresh to reach the pause marker; `None` if the app
    /// exited or never got there.
    fn wait_for_pause(&mut self) -> Option<String> {
        let deadline = Instant::now() + START_PATIENCE;
        while Instant::now() < deadline {
            match self.paused.recv_timeout(Duration::from_millis(200)) {
                Ok(point) => return Some(point),
                Err(mpsc::RecvTimeoutError::Disconnected) => return None,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if self.child.try_wait().ok().flatten().is_some() {
                        return None;
                    }
                }
            }
        }
        None
    }

    /// SIGKILL to the app and its process group; returns what it printed.
    fn kill_9(mut self, world: &World, what: &str) -> bool {
        let was_running = self.child.try_wait().ok().flatten().is_none();
        let _ = self.child.kill();
        let pgid = self.child.id();
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{pgid}")])
            .stderr(Stdio::null())
            .status();
        let status = self.child.wait().expect("reap the app");
        let stderr = self.stderr.join().unwrap_or_default();
        let stdout = self.stdout.join().unwrap_or_default();
        world.keep(
            &format!("reconnect-app ({what})"),
            &std::process::Output {
                status,
                stdout,
                stderr,
            },
        );
        was_running
    }
}

/// Everything that must hold after a kill; panics with `what` otherwise.
/// Returns how many keychain parts the cut write left listed as junk (the
/// manifest tracks them; the next write erases them).
fn check_after_kill(world: &World, what: &str) -> usize {
    let check = integrity(&world.data_dir());
    assert_eq!(check, "ok", "after {what}: PRAGMA integrity_check: {check}");
    let ids = account_ids(&world.data_dir());
    let left = crash_leftovers(&world.data_dir(), &ids);
    assert!(
        left.orphaned.is_empty(),
        "after {what}: keychain entries no manifest knows of: {:?}",
        left.orphaned
    );
    let token = world.token("alice");
    assert!(
        token.as_ref().is_ok_and(|t| !t.is_empty()),
        "after {what}: the connection is unusable: {token:?}"
    );
    let state = health(&world.status("alice"));
    assert!(
        !["reconnect_needed", "needs_admin", "app_misconfigured"].contains(&state.as_str()),
        "after {what}: the account was marked {state}"
    );
    left.pending.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an X display (xvfb-run) and a Secret Service: run through scripts/test.sh"]
async fn kill_9_of_the_app_during_its_background_refresh_never_breaks_the_connection() {
    let _turn = ONE_AT_A_TIME.lock().await;
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no X display: run under xvfb-run (scripts/test.sh does)"
    );
    let world = World::start().await;
    tokio::task::block_in_place(|| {
        world.connect("alice", "alice@contoso.test", None);
        world
            .token("alice")
            .expect("the imported connection works before the crashes");
    });
    let id = account_id(&world, "alice");
    let started = Instant::now();
    let mut rng = rand::rng();
    let mut by_point = std::collections::BTreeMap::<String, usize>::new();
    let (mut kills, mut mid_refresh, mut completed_first) = (0usize, 0usize, 0usize);
    let mut pending_seen = 0usize;

    tokio::task::block_in_place(|| {
        while kills < MAX_KILLS && started.elapsed() < BUDGET {
            let aged = age_last_use(&world, id);
            let at_point = rng.random_range(0..3) > 0;
            let (pause_at, pause_ms) = if at_point {
                (PAUSE_POINTS[rng.random_range(0..4)], 10_000)
            } else {
                ("locked", 0)
            };
            let mut app = launch(&world, pause_at, pause_ms);
            let reached = app.wait_for_pause();
            let key = match &reached {
                None => {
                    app.kill_9(&world, "never reached its refresh");
                    panic!(
                        "launch {}: the app's background refresh never started within {:?}",
                        kills + 1,
                        START_PATIENCE
                    );
                }
                Some(point) if at_point => format!("paused at {point}"),
                Some(_) => {
                    let delay = rng.random_range(0..250);
                    std::thread::sleep(Duration::from_millis(delay));
                    "a random moment after the lock".to_owned()
                }
            };
            let running = app.kill_9(&world, &key);
            assert!(running, "the app exited by itself before the kill ({key})");
            kills += 1;
            // Were the new tokens recorded before the kill? (At a pause
            // point only from `metadata_written` on.)
            let finished = facts(&world, id)
                .and_then(|f| f.refresh_last_used_at)
                .is_some_and(|t| t > aged);
            if finished {
                completed_first += 1;
            } else {
                mid_refresh += 1;
            }
            let label = if !at_point && finished {
                format!("{key} (refresh already done)")
            } else {
                key
            };
            if check_after_kill(&world, &format!("kill {kills} ({label})")) > 0 {
                pending_seen += 1;
            }
            *by_point.entry(label).or_default() += 1;
        }
    });

    // Last launch: the app's own refresh runs to the end after all that.
    let aged = tokio::task::block_in_place(|| age_last_use(&world, id));
    let mut app = launch(&world, "metadata_written", 0);
    let done = tokio::task::block_in_place(|| app.wait_for_pause());
    tokio::task::block_in_place(|| app.kill_9(&world, "final clean refresh"));
    assert_eq!(
        done.as_deref(),
        Some("metadata_written"),
        "after the crashes the app's refresh reaches its end"
    );
    let refreshed = facts(&world, id)
        .and_then(|f| f.refresh_last_used_at)
        .is_some_and(|t| t > aged);
    assert!(refreshed, "the app's final refresh was stored");
    tokio::task::block_in_place(|| check_after_kill(&world, "the final run"));
    // After a clean write nothing but the account's one set entry.
    let ids = account_ids(&world.data_dir());
    let orphans = orphaned_entries(&world.data_dir(), &ids);
    assert!(
        orphans.is_empty(),
        "after the final refresh: keychain entries left over {orphans:?}"
    );
    let status = tokio::task::block_in_place(|| world.status("alice"));
    assert_eq!(health(&status), "healthy", "after the crashes: {status}");

    assert!(kills >= 10, "only {kills} kills fitted in the budget");
    let breakdown: Vec<String> = by_point.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    announce(&format!(
        "app crash points {kills}/{kills} recovered ({kills} kill -9 of reconnect-app in {:.0} s, \
         {mid_refresh} before the new tokens were recorded, {completed_first} after (lock still \
         held); {}), integrity_check ok after each, orphaned keychain entries 0 \
         ({pending_seen} kills left parts of a cut write listed as junk, erased by the next \
         write; none left after the final refresh), `reconnect token` worked after each",
        started.elapsed().as_secs_f64(),
        breakdown.join(", ")
    ));
    announce(&format!(
        "gnome-keyring died {} time(s) under these kills and was restarted; every check above ran after it",
        reconnect_e2e::harness::keyring_restarts()
    ));
    world.scan().assert_clean("after the app crash run");
}

/// Most kills of the interactive reconnect, and its wall-clock budget.
const MAX_SIGNIN_KILLS: usize = 25;
const SIGNIN_BUDGET: Duration = Duration::from_secs(90);

/// The app's PID (the `reconnect-app` whose `RECONNECT_HOME` is the
/// world's), once WebKitWebDriver has launched it.
fn app_pid(world: &World) -> Option<u32> {
    let exe = std::fs::canonicalize(binary("reconnect-app")).ok()?;
    let home = format!("RECONNECT_HOME={}", world.data_dir().display());
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe)
                && std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|env| env.split(|b| *b == 0).any(|kv| kv == home.as_bytes()))
        })
}

/// `(parent, process group)` of `pid`, from `/proc/PID/stat`.
fn parent_and_group(pid: u32) -> Option<(u32, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: the fields follow its last ')'.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(1);
    let parent = fields.next()?.parse().ok()?;
    let group = fields.next()?.parse().ok()?;
    Some((parent, group))
}

/// `pid` and every process under it.
fn process_tree(pid: u32) -> Vec<u32> {
    let all: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                .filter_map(|p| Some((p, parent_and_group(p)?.0)))
                .collect()
        })
        .unwrap_or_default();
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(all.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
        i += 1;
    }
    tree
}

/// SIGKILL to the app, every process it started (WebKit's helpers, the
/// "browser") and its process group when it leads one of its own (under
/// WebDriver it usually shares the driver's, which the test must outlive).
fn kill_9_tree(app: u32) {
    let mut targets: Vec<String> = process_tree(app).iter().map(u32::to_string).collect();
    if parent_and_group(app).is_some_and(|(_, group)| group == app) {
        targets.push(format!("-{app}"));
    }
    let _ = std::process::Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .args(&targets)
        .stderr(Stdio::null())
        .status();
    // Gone once it is no longer listed or only a zombie waiting for
    // WebKitWebDriver to reap it.
    let alive = || {
        std::fs::read_to_string(format!("/proc/{app}/stat"))
            .ok()
            .and_then(|s| Some(s.rsplit_once(')')?.1.trim_start().starts_with('Z')))
            .is_some_and(|zombie| !zombie)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive() {
        assert!(
            Instant::now() < deadline,
            "reconnect-app {app} survived SIGKILL"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The refresh token the profile holds now (kept in memory only).
fn stored_refresh(world: &World) -> Option<String> {
    let home = reconnect_store::Home::at(world.data_dir()).ok()?;
    let profile = reconnect_store::Profile::open_at(home).ok()?;
    let id = profile.store().account("alice").ok()?.id;
    let set = profile.load_tokens(id).ok()??;
    set.refresh_token.map(|t| t.expose().to_owned())
}

/// The stage of a sign-in killed once its new tokens were stored.
const AFTER_WRITE: &str = "after the token write";

/// Where a sign-in was when it was killed, read from the simulator's log and
/// the keychain afterwards.
fn signin_stage(world: &World, before: Option<&str>) -> &'static str {
    if stored_refresh(world).as_deref() != before {
        return AFTER_WRITE;
    }
    let log = world.sim.state.log();
    let exchanged = log.iter().any(|e| {
        e.endpoint == "token"
            && e.grant_type.as_deref() == Some("authorization_code")
            && e.status == 200
    });
    let approved = log
        .iter()
        .any(|e| e.endpoint == "authorize" && e.status == 302);
    if exchanged {
        "new tokens issued, not yet stored"
    } else if approved {
        "code issued, not yet redeemed"
    } else {
        "before the browser step"
    }
}

/// A WebDriver session on the real window of the world's profile.
async fn open_window(driver: &reconnect_e2e::window::WindowDriver) -> fantoccini::Client {
    let client = fantoccini::ClientBuilder::rustls()
        .expect("rustls client")
        .capabilities(driver.capabilities())
        .connect(&driver.url)
        .await
        .expect("a WebDriver session on the real window");
    client
        .wait()
        .at_most(START_PATIENCE)
        .for_element(fantoccini::Locator::Css("body[data-ready='true']"))
        .await
        .expect("the UI finished its first render");
    client
}

/// Starts the interactive reconnect of `name` the way the Reconnect button
/// does.
async fn start_reconnect(client: &fantoccini::Client, name: &str) {
    let script = r#"
        const [name, done] = arguments;
        window.__TAURI__.core.invoke("reconnect_start", { name })
          .then(v => done({ ok: v === undefined ? null : v }))
          .catch(e => done({ err: String(e) }));
    "#;
    let answer = client
        .execute_async(script, vec![serde_json::Value::from(name)])
        .await
        .expect("invoke reconnect_start");
    assert!(
        answer.get("err").is_none(),
        "reconnect_start refused: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver, WebKitWebDriver and a Secret Service: run through scripts/test.sh"]
async fn kill_9_of_the_app_during_an_interactive_reconnect_never_breaks_the_connection() {
    let _turn = ONE_AT_A_TIME.lock().await;
    app_support::install_crypto();
    let world = World::start().await;
    let browser = world.curl_browser();
    tokio::task::block_in_place(|| {
        world.connect("alice", "alice@contoso.test", None);
        world
            .token("alice")
            .expect("the imported connection works before the crashes");
    });
    let driver = reconnect_e2e::window::WindowDriver::start(
        &world.home,
        &[
            ("RECONNECT_NO_NOTIFICATIONS", "1"),
            ("RECONNECT_BROWSER", browser.as_str()),
            ("RECONNECT_LOG", "debug"),
        ],
    )
    .expect("tauri-driver");

    // One whole reconnect first: how long the flow takes here, from the
    // click to the new tokens in the keychain, so the kills spread over it.
    let client = open_window(&driver).await;
    let before = tokio::task::block_in_place(|| stored_refresh(&world));
    world.sim.state.clear_log();
    let clicked = Instant::now();
    start_reconnect(&client, "alice").await;
    while tokio::task::block_in_place(|| stored_refresh(&world)) == before {
        assert!(
            clicked.elapsed() < START_PATIENCE,
            "the reconnect never stored new tokens"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let flow = clicked.elapsed();
    let _ = client.close().await;
    let pid = tokio::task::block_in_place(|| app_pid(&world));
    if let Some(pid) = pid {
        tokio::task::block_in_place(|| kill_9_tree(pid));
    }
    tokio::task::block_in_place(|| check_after_kill(&world, "the calibration reconnect"));

    let started = Instant::now();
    let mut rng = rand::rng();
    let mut by_stage = std::collections::BTreeMap::<&str, usize>::new();
    let mut kills = 0usize;
    let window = flow.mul_f64(1.3).as_millis().max(50) as u64;
    while kills < MAX_SIGNIN_KILLS && started.elapsed() < SIGNIN_BUDGET {
        let client = open_window(&driver).await;
        let pid = tokio::task::block_in_place(|| app_pid(&world))
            .expect("the app WebDriver launched is running");
        let before = tokio::task::block_in_place(|| stored_refresh(&world));
        world.sim.state.clear_log();
        let delay = Duration::from_millis(rng.random_range(0..window));
        let clicked = Instant::now();
        start_reconnect(&client, "alice").await;
        tokio::time::sleep(delay.saturating_sub(clicked.elapsed())).await;
        tokio::task::block_in_place(|| kill_9_tree(pid));
        drop(client);
        kills += 1;
        let stage = tokio::task::block_in_place(|| signin_stage(&world, before.as_deref()));
        *by_stage.entry(stage).or_default() += 1;
        tokio::task::block_in_place(|| {
            check_after_kill(
                &world,
                &format!("kill {kills} ({stage}, {delay:?} after the click)"),
            );
            let out = world.run(&["refresh", "alice", "--force"], "");
            assert!(
                out.status.success(),
                "after kill {kills} ({stage}): the stored grant no longer refreshes: {}",
                security_support::messages(&out.stderr)
            );
        });
    }
    // The app's own output (debug logging) went to tauri-driver's log:
    // scanned with the rest for every token the run saw.
    let port = driver.url.rsplit(':').next().unwrap_or_default().to_owned();
    drop(driver);
    let log = reconnect_e2e::window::artifacts_dir().join(format!("tauri-driver-{port}.log"));
    let app_output = std::fs::read(&log).expect("tauri-driver's log with the app's output");
    world.outputs.lock().expect("outputs").push((
        format!("reconnect-app's output under WebDriver ({})", log.display()),
        app_output,
    ));
    assert!(kills >= 10, "only {kills} kills fitted in the budget");
    let ids = account_ids(&world.data_dir());
    let orphans = orphaned_entries(&world.data_dir(), &ids);
    assert!(orphans.is_empty(), "keychain entries left over {orphans:?}");
    let after = by_stage.get(AFTER_WRITE).copied().unwrap_or(0);
    let breakdown: Vec<String> = by_stage
        .iter()
        .filter(|(k, _)| **k != AFTER_WRITE)
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    announce(&format!(
        "app sign-in crash points {kills}/{kills} recovered ({kills} kill -9 of reconnect-app \
         during a reconnect started from its window, in {:.0} s, at random 0–{window} ms after \
         the click (a whole reconnect took {} ms here); {} before the token write ({}), {after} \
         after it), integrity_check ok after each, orphaned keychain entries 0, `reconnect \
         refresh --force` and `reconnect token` worked after each",
        started.elapsed().as_secs_f64(),
        flow.as_millis(),
        kills - after,
        breakdown.join(", ")
    ));
    announce(&format!(
        "gnome-keyring died {} time(s) under these kills and was restarted; every check above ran after it",
        reconnect_e2e::harness::keyring_restarts()
    ));
    world.scan().assert_clean("after the app sign-in crash run");
}
