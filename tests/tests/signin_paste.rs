//! `reconnect signin NAME --no-browser` end to end (the real CLI and
//! keychain under scripts/with-session.sh, the simulator in this process):
//! the sign-in URL is printed, the "browser on another machine" is plain
//! HTTP that stops at the simulator's redirect (nothing reaches the
//! listener), and the address it ended on is pasted on standard input.
//! Covers a correct address, a wrong state, an address carrying an error,
//! garbage, `--port` with its SSH line where the listener completes it, and
//! a machine without a display, where nothing is opened.

mod signin_support;

use signin_support::{Running, SigninWorld, stderr};

const ALICE: &str = "alice@contoso.test";

/// Waits for the printed sign-in URL.
async fn printed_url(run: &mut Running, sim: &str) -> String {
    let line = run
        .stderr_line(|l| l.trim_start().starts_with(&format!("{sim}/")))
        .await;
    line.trim().to_owned()
}

/// The address the browser ends on: the simulator's redirect, not followed.
async fn final_address(url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("client");
    let answer = http.get(url).send().await.expect("authorize answers");
    assert_eq!(
        answer.status().as_u16(),
        302,
        "auto-approved sign-in redirects"
    );
    answer.headers()["location"]
        .to_str()
        .expect("a text location")
        .to_owned()
}

async fn started(world: &SigninWorld, extra: &[&str]) -> (Running, String) {
    let mut args = vec!["signin", "work", "--no-browser"];
    args.extend_from_slice(extra);
    let mut run = world.spawn(&args, &[]);
    let url = printed_url(&mut run, &world.sim.http_url).await;
    (run, url)
}

async fn world() -> SigninWorld {
    let world = SigninWorld::start(Some(ALICE)).await;
    world.add_account("work", &[]).await;
    world
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pasted_address_connects_the_account() {
    let world = world().await;
    let (mut run, url) = started(&world, &[]).await;
    let address = final_address(&url).await;
    assert!(address.starts_with("http://localhost:"), "{address}");
    run.type_in(&format!("{address}\n")).await;
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("connected as alice@contoso.test"),
        "{}",
        ended.stderr
    );
    assert!(ended.stderr.contains("paste it here"), "{}", ended.stderr);
    let token = world.reconnect(&["token", "work"]).await;
    assert_eq!(token.status.code(), Some(0), "{}", stderr(&token));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_state_is_refused() {
    let world = world().await;
    let (mut run, url) = started(&world, &[]).await;
    let address = final_address(&url).await;
    let mut forged = url::Url::parse(&address).expect("a URL");
    let pairs: Vec<(String, String)> = forged
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "state" {
                (k, "not-this-one".into())
            } else {
                (k, v)
            }
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    run.type_in(&format!("{forged}\n")).await;
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(1), "{}", ended.stderr);
    assert!(
        ended.stderr.contains("belongs to another sign-in"),
        "{}",
        ended.stderr
    );
    let token = world.reconnect(&["token", "work"]).await;
    assert_ne!(token.status.code(), Some(0), "nothing was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_carrying_an_error_ends_with_the_decoded_reason() {
    let world = world().await;
    let patch = reconnect_sim::UserStatePatch {
        disabled: Some(true),
        ..Default::default()
    };
    world
        .sim
        .state
        .set_user_state(ALICE, &patch)
        .expect("disabled");
    let (mut run, url) = started(&world, &[]).await;
    let address = final_address(&url).await;
    assert!(address.contains("error="), "{address}");
    run.type_in(&format!("{address}\n")).await;
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(3), "an admin must act: {}", ended.stderr);
    assert!(ended.stderr.contains("AADSTS50057"), "{}", ended.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_refused_with_a_clear_message() {
    let world = world().await;
    let (mut run, _) = started(&world, &[]).await;
    run.type_in("\nthis is not the address\n").await;
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(1), "{}", ended.stderr);
    assert!(
        ended
            .stderr
            .contains("not the address the browser ended on"),
        "{}",
        ended.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_port_prints_the_ssh_line_and_the_tunnelled_redirect_completes_it() {
    let world = world().await;
    let port = {
        let free = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        free.local_addr().expect("addr").port()
    };
    let port_text = port.to_string();
    let (mut run, url) = started(&world, &["--port", &port_text]).await;
    let ssh = run.stderr_line(|l| l.contains("ssh -L")).await;
    assert!(
        ssh.contains(&format!("ssh -L {port}:localhost:{port} ")),
        "{ssh}"
    );
    assert!(url.contains(&format!("localhost%3A{port}")), "{url}");
    // The browser's redirect reaches the listener (as through the tunnel).
    let page = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(&url)
        .send()
        .await
        .expect("the redirect is followed");
    assert!(page.status().is_success(), "{}", page.status());
    let ended = run.finish().await;
    assert_eq!(ended.code, Some(0), "{}", ended.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_display_no_browser_is_started_and_the_ways_are_explained() {
    let world = world().await;
    let (dir, record) = signin_support::stand_in_openers(&world, false);
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = [
        ("PATH", Some(path.as_str())),
        ("DISPLAY", None),
        ("WAYLAND_DISPLAY", None),
    ];
    let ended = world.spawn(&["signin", "work"], &env).finish().await;
    let err = &ended.stderr;
    assert_eq!(ended.code, Some(1), "{err}");
    for way in ["--device-code", "--no-browser", "ssh -L", "--browser"] {
        assert!(err.contains(way), "{way} is named: {err}");
    }
    assert!(!record.exists(), "nothing was opened");
    assert!(
        world
            .sim
            .state
            .log()
            .iter()
            .all(|e| e.endpoint != "authorize"),
        "no sign-in was started"
    );

    // The recorders work: with a display, the system browser is them.
    let with_display = [("PATH", Some(path.as_str())), ("DISPLAY", Some(":99"))];
    let ended = world
        .spawn(&["signin", "work", "--timeout", "2"], &with_display)
        .finish()
        .await;
    assert_eq!(ended.code, Some(5), "{}", ended.stderr);
    assert!(record.exists(), "the stand-in opener ran: {}", ended.stderr);
}
