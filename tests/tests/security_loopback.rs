//! The loopback redirect listener under attack during a real
//! `reconnect signin` against the simulator.
//!
//! The "browser" is a script that records the sign-in URL and waits. Before
//! it goes on, another local process (this test) hits the listener: forged
//! callbacks with wrong or missing `state`, a callback carrying both `code`
//! and `error`, other paths and methods, non-HTTP bytes, an oversized header,
//! a few slowloris connections, and hundreds of connections at once. Then
//! the browser finishes the genuine sign-in, which must succeed. Two more
//! runs end cleanly instead of succeeding: the genuine redirect with an
//! injected `error` next to its `code`, and a flood of requests past the
//! listener's cap. Nothing may hang.

mod security_support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reconnect_e2e::secrets::announce;
use security_support::{World, health, messages};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How the scripted browser ends the sign-in once released.
#[derive(Clone, Copy)]
enum Finish {
    /// Follows the sign-in URL like a browser (the simulator auto-approves).
    Genuine,
    /// Takes the simulator's redirect and adds `error=…` next to the code.
    InjectError,
    /// Never visits the URL (the user walked away).
    Never,
}

/// Writes the browser script; returns its path and the file it writes the URL to.
fn browser(dir: &Path, finish: Finish) -> (PathBuf, PathBuf, PathBuf) {
    let url_file = dir.join("signin-url.txt");
    let go_file = dir.join("go");
    let _ = std::fs::remove_file(&url_file);
    let _ = std::fs::remove_file(&go_file);
    // Both fetch the sign-in page, note the redirect (it carries the code,
    // which the secrets scan then looks for), and deliver it.
    let deliver = match finish {
        Finish::Genuine => "\"$loc\"",
        Finish::InjectError => "\"$loc&error=access_denied&error_description=injected\"",
        Finish::Never => "",
    };
    let follow = format!(
        "loc=$(curl -sS --max-time 30 -o /dev/null -w '%{{redirect_url}}' \"$1\")\n\
         printf '%s\\n' \"$loc\" >> '{}'\n\
         exec curl -sS -L --max-time 30 -o /dev/null {deliver}",
        dir.join("redirects.txt").display()
    );
    let follow = if deliver.is_empty() {
        "exit 0".to_owned()
    } else {
        follow
    };
    let script = format!(
        "#!/bin/sh\nprintf '%s' \"$1\" > '{url}.tmp' && mv '{url}.tmp' '{url}'\n\
         i=0; while [ ! -e '{go}' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\n{follow}\n",
        url = url_file.display(),
        go = go_file.display(),
    );
    let path = dir.join("browser-wait.sh");
    std::fs::write(&path, script).expect("browser script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (path, url_file, go_file)
}

/// The redirect URI (`http://127.0.0.1:PORT/`) from the sign-in URL.
fn redirect_of(url: &str) -> url::Url {
    let url = url::Url::parse(url).expect("sign-in URL");
    let redirect = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .expect("redirect_uri")
        .1
        .into_owned();
    url::Url::parse(&redirect).expect("redirect URI")
}

/// Sends raw bytes and reads what comes back (bounded).
async fn raw(addr: &str, bytes: &[u8]) -> String {
    let Ok(Ok(mut stream)) =
        tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr)).await
    else {
        return "(refused)".into();
    };
    let _ = stream.write_all(bytes).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_of(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Starts `reconnect signin alice` with the scripted browser; returns the
/// child and the redirect URI once the browser has the URL.
async fn start_signin(
    world: &World,
    script: &Path,
    url_file: &Path,
) -> (tokio::process::Child, url::Url) {
    let cmd = world.command(&[
        "signin",
        "alice",
        "--browser",
        &script.display().to_string(),
        "--timeout",
        "90",
    ]);
    let child = tokio::process::Command::from(cmd)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn signin");
    let deadline = Instant::now() + Duration::from_secs(30);
    let url = loop {
        if let Ok(url) = std::fs::read_to_string(url_file) {
            break url;
        }
        assert!(
            Instant::now() < deadline,
            "the browser never got the sign-in URL"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    (child, redirect_of(&url))
}

/// Waits for the sign-in to end (bounded), keeping its output for the scan.
async fn finish(world: &World, child: tokio::process::Child, what: &str) -> std::process::Output {
    let out = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("{what}: the sign-in hung"))
        .expect("signin output");
    world.keep(&format!("signin alice ({what})"), &out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attacks_on_the_loopback_listener_do_not_hijack_or_hang_the_sign_in() {
    let world = World::start().await;
    tokio::task::block_in_place(|| {
        world.ok(
            &[
                "add",
                "alice",
                "--authority",
                &world.sim.http_url,
                "--client-id",
                security_support::CLIENT_ID,
            ],
            "",
        )
    });
    let dir = world.home.path().to_path_buf();

    // 1. Attacks before the browser arrives, then the genuine sign-in.
    let (script, url_file, go) = browser(&dir, Finish::Genuine);
    let (child, redirect) = start_signin(&world, &script, &url_file).await;
    let addr = format!("127.0.0.1:{}", redirect.port().expect("port"));
    let path = redirect.path().to_owned();
    let mut held = 0usize;
    let mut tried = Vec::new();
    let forged = [
        (
            "wrong state",
            format!("GET {path}?code=attacker-code&state=guess HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        ),
        (
            "no state",
            format!("GET {path}?code=attacker-code HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        ),
        (
            "code and error, wrong state",
            format!(
                "GET {path}?code=attacker-code&error=access_denied&state=guess HTTP/1.1\r\nHost: {addr}\r\n\r\n"
            ),
        ),
        (
            "error, wrong state",
            format!("GET {path}?error=access_denied&state=guess HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        ),
        (
            "POST",
            format!(
                "POST {path}?code=x&state=guess HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n"
            ),
        ),
        (
            "other path",
            format!("GET /admin?code=x HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        ),
        (
            "path traversal",
            format!("GET /../../etc/passwd HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
        ),
    ];
    for (what, request) in &forged {
        let answer = raw(&addr, request.as_bytes()).await;
        let status = status_of(&answer);
        assert!(
            (400..500).contains(&status),
            "{what}: answered {status}: {answer}"
        );
        assert!(
            !answer.contains("attacker-code"),
            "{what}: the page echoes the forged code"
        );
        held += 1;
        tried.push(*what);
    }
    for (what, bytes) in [
        (
            "non-HTTP bytes",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\x00\xff".to_vec(),
        ),
        ("SSH banner", b"SSH-2.0-OpenSSH_9.2\r\n".to_vec()),
        (
            "oversized header",
            format!(
                "GET {path} HTTP/1.1\r\nX-Big: {}\r\n\r\n",
                "a".repeat(64 * 1024)
            )
            .into_bytes(),
        ),
    ] {
        let answer = raw(&addr, &bytes).await;
        let status = status_of(&answer);
        assert!(
            status == 0 || (400..500).contains(&status),
            "{what}: answered {status}"
        );
        held += 1;
        tried.push(what);
    }
    // A few slowloris connections stay open through the genuine sign-in.
    let mut slow = Vec::new();
    for _ in 0..4 {
        if let Ok(mut s) = TcpStream::connect(&addr).await {
            let _ = s.write_all(format!("GET {path}?state=").as_bytes()).await;
            slow.push(s);
        }
    }
    // Hundreds of connections at once, each sending junk and leaving.
    let burst: Vec<_> = (0..300)
        .map(|i| {
            let addr = addr.clone();
            tokio::spawn(async move {
                if let Ok(mut s) = TcpStream::connect(&addr).await {
                    let _ = s
                        .write_all(format!("\x00\x01junk-{i}\r\n\r\n").as_bytes())
                        .await;
                    let mut sink = [0u8; 256];
                    let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut sink)).await;
                }
            })
        })
        .collect();
    for task in burst {
        task.await.expect("burst task");
    }
    held += 1;
    tried.push("300 connections at once");
    // The listener still answers, and still refuses a forged callback.
    let answer = raw(&addr, forged[0].1.as_bytes()).await;
    assert_eq!(
        status_of(&answer),
        400,
        "the listener is wedged after the burst: {answer}"
    );

    std::fs::write(&go, "").expect("release the browser");
    let out = finish(&world, child, "under attack").await;
    assert!(
        out.status.success(),
        "the genuine sign-in failed under attack ({}): {}",
        out.status,
        messages(&out.stderr)
    );
    drop(slow);
    let state = health(&tokio::task::block_in_place(|| world.status("alice")));
    assert_eq!(state, "healthy", "after the attacked sign-in");
    let token = tokio::task::block_in_place(|| world.token("alice")).expect("the connection works");
    assert!(!token.is_empty());

    // 2. The genuine redirect with an error injected next to its code.
    let (script, url_file, go) = browser(&dir, Finish::InjectError);
    let (child, _) = start_signin(&world, &script, &url_file).await;
    std::fs::write(&go, "").expect("release the browser");
    let out = finish(&world, child, "code and error").await;
    let code_and_error = if out.status.success() {
        "signed in (the code was used)".to_owned()
    } else {
        let said = messages(&out.stderr);
        assert_ne!(out.status.code(), Some(101), "panicked: {said}");
        assert!(!said.trim().is_empty(), "failed without a message");
        format!(
            "failed cleanly: {}",
            said.lines().next().unwrap_or_default()
        )
    };

    // 3. A flood of requests past the listener's cap ends the sign-in cleanly.
    let (script, url_file, go) = browser(&dir, Finish::Never);
    std::fs::write(&go, "").expect("the browser records the URL and leaves");
    let (child, redirect) = start_signin(&world, &script, &url_file).await;
    let addr = format!("127.0.0.1:{}", redirect.port().expect("port"));
    let flood = format!(
        "GET {}?state=flood HTTP/1.1\r\nHost: {addr}\r\n\r\n",
        redirect.path()
    );
    for _ in 0..260 {
        let _ = raw(&addr, flood.as_bytes()).await;
    }
    let out = finish(&world, child, "request flood").await;
    let said = messages(&out.stderr);
    assert!(
        !out.status.success(),
        "a flood of forged requests must end the sign-in, not hijack it"
    );
    assert_ne!(out.status.code(), Some(101), "panicked: {said}");
    assert!(
        !said.trim().is_empty(),
        "the flood ended the sign-in without a message"
    );
    let state = health(&tokio::task::block_in_place(|| world.status("alice")));
    assert_eq!(
        state, "healthy",
        "a failed sign-in must leave the working connection alone"
    );

    announce(&format!(
        "loopback attacks {held}/{held} held ({}); genuine sign-in under attack succeeded; code+error: {code_and_error}; \
         260-request flood: sign-in ended cleanly ({})",
        tried.join(", "),
        said.lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or_default()
    ));
    let redirects = std::fs::read_to_string(dir.join("redirects.txt")).unwrap_or_default();
    let mut codes = 0;
    for line in redirects.lines().filter(|l| !l.is_empty()) {
        if let Ok(url) = url::Url::parse(line)
            && let Some((_, code)) = url.query_pairs().find(|(k, _)| k == "code")
        {
            world
                .scanner
                .lock()
                .expect("scanner")
                .add("an authorization code", &code);
            codes += 1;
        }
    }
    assert!(codes >= 2, "the browser saw the codes of both sign-ins");
    // The test's own note of the codes goes; nothing else may hold them.
    std::fs::remove_file(dir.join("redirects.txt")).expect("remove the note");
    tokio::task::block_in_place(|| world.scan()).assert_clean("after the loopback attacks");
}
