//! The loopback listener over real sockets: what it accepts, what it refuses,
//! its limits, and that it goes away.

use std::net::SocketAddr;
use std::time::Duration;

use reconnect_signin::loopback::LoopbackError;
use reconnect_signin::page::Page;
use reconnect_signin::{Callback, Limits, Loopback, LoopbackConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const STATE: &str = "expected-state-value";

async fn start(config: LoopbackConfig) -> Loopback {
    Loopback::start(&config, STATE.into())
        .await
        .expect("listener starts")
}

/// Sends raw bytes and returns the whole answer as text.
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(request).await.expect("writes");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

async fn get(addr: SocketAddr, target: &str) -> String {
    raw(
        addr,
        format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
}

fn status(answer: &str) -> u16 {
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn localhost_listens_on_both_families_on_one_port() {
    let listener = start(LoopbackConfig::default()).await;
    let addrs = listener.addrs();
    assert!(addrs.iter().any(SocketAddr::is_ipv4));
    let port = addrs[0].port();
    assert!(addrs.iter().all(|a| a.port() == port));
    assert_eq!(listener.redirect_uri(), format!("http://localhost:{port}/"));
    for addr in addrs {
        assert_eq!(status(&get(*addr, "/favicon.ico").await), 404, "{addr}");
    }
}

#[tokio::test]
async fn only_the_exact_path_with_the_right_state_is_accepted_and_only_once() {
    let mut listener = start(LoopbackConfig {
        path: "/cb".into(),
        ..LoopbackConfig::default()
    })
    .await;
    let addr = listener.addrs()[0];
    assert_eq!(status(&get(addr, "/favicon.ico").await), 404);
    assert_eq!(
        status(&get(addr, &format!("/cb/x?code=c&state={STATE}")).await),
        404
    );
    assert_eq!(status(&get(addr, "/cb?code=c&state=wrong").await), 400);
    assert_eq!(status(&get(addr, "/cb?code=c").await), 400);
    assert_eq!(status(&get(addr, "/cb").await), 400, "nothing accepted yet");

    let answer = get(addr, &format!("/cb?code=the-code&state={STATE}")).await;
    assert_eq!(status(&answer), 303, "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("location: /cb\r\n"),
        "redirects to the bare URL: {answer}"
    );
    match listener.callback().await.expect("callback") {
        Callback::Code { code, .. } => assert_eq!(code.expose(), "the-code"),
        other => panic!("unexpected {other:?}"),
    }
    let again = get(addr, &format!("/cb?code=second&state={STATE}")).await;
    assert_eq!(status(&again), 400);
    assert!(again.contains("already received"), "{again}");
}

#[tokio::test]
async fn the_bare_url_shows_the_outcome_then_the_listener_goes_away() {
    let mut listener = start(LoopbackConfig::default()).await;
    let addr = listener.addrs()[0];
    assert_eq!(
        status(&get(addr, &format!("/?code=c&state={STATE}")).await),
        303
    );
    listener.callback().await.expect("callback");
    let page = tokio::spawn(async move { get(addr, "/").await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    listener
        .finish(
            Page::signed_in("alice@contoso.test"),
            Duration::from_secs(5),
        )
        .await;
    let shown = page.await.unwrap();
    assert_eq!(status(&shown), 200, "{shown}");
    assert!(shown.contains("Signed in as alice@contoso.test"), "{shown}");
    assert!(shown.contains("no-store"), "{shown}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "listener torn down"
    );
}

#[tokio::test]
async fn an_error_callback_with_the_right_state_is_delivered() {
    let mut listener = start(LoopbackConfig::default()).await;
    let addr = listener.addrs()[0];
    let target = format!(
        "/?error=access_denied&error_subcode=cancel&error_description=AADSTS50126&state={STATE}"
    );
    assert_eq!(status(&get(addr, &target).await), 303);
    match listener.callback().await.expect("callback") {
        Callback::Error {
            error,
            subcode,
            description,
            ..
        } => {
            assert_eq!(error, "access_denied");
            assert_eq!(subcode.as_deref(), Some("cancel"));
            assert_eq!(description.as_deref(), Some("AADSTS50126"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn dropping_the_listener_closes_the_port() {
    let listener = start(LoopbackConfig::default()).await;
    let addr = listener.addrs()[0];
    drop(listener);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn a_busy_port_is_skipped_or_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let only_busy = LoopbackConfig {
        host: "127.0.0.1".into(),
        ports: Some(port..=port),
        ..LoopbackConfig::default()
    };
    let err = Loopback::start(&only_busy, STATE.into()).await.unwrap_err();
    assert!(matches!(err, LoopbackError::PortsBusy(_)), "{err}");
    assert!(err.to_string().contains(&port.to_string()), "{err}");

    let upper = port.saturating_add(20);
    let range = LoopbackConfig {
        host: "127.0.0.1".into(),
        ports: Some(port..=upper),
        ..LoopbackConfig::default()
    };
    let listener = Loopback::start(&range, STATE.into())
        .await
        .expect("another port in the range");
    let got = listener.addrs()[0].port();
    assert!(got != port && (port..=upper).contains(&got));
    assert_eq!(listener.redirect_uri(), format!("http://127.0.0.1:{got}/"));
}

#[tokio::test]
async fn non_loopback_hosts_and_bad_paths_are_refused() {
    for host in ["example.com", "0.0.0.0", "192.168.1.1"] {
        let config = LoopbackConfig {
            host: host.into(),
            ..LoopbackConfig::default()
        };
        assert!(matches!(
            Loopback::start(&config, STATE.into()).await,
            Err(LoopbackError::NotLoopback(_))
        ));
    }
    let config = LoopbackConfig {
        path: "cb".into(),
        ..LoopbackConfig::default()
    };
    assert!(matches!(
        Loopback::start(&config, STATE.into()).await,
        Err(LoopbackError::BadPath(_))
    ));
}

#[tokio::test]
async fn slow_and_oversized_requests_are_cut_off_and_the_real_callback_still_works() {
    let limits = Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let mut listener = start(LoopbackConfig {
        limits,
        ..LoopbackConfig::default()
    })
    .await;
    let addr = listener.addrs()[0];

    // A slowloris client: headers never finish. The server hangs up.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "the slow connection was not closed");

    // 64 KiB of headers: refused.
    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let answer = raw(addr, big.as_bytes()).await;
    assert!(answer.is_empty() || status(&answer) == 431, "{answer}");

    assert_eq!(
        status(&get(addr, &format!("/?code=c&state={STATE}")).await),
        303
    );
    assert!(matches!(
        listener.callback().await,
        Ok(Callback::Code { .. })
    ));
}

#[tokio::test]
async fn too_many_stray_requests_end_the_wait() {
    let limits = Limits {
        max_requests: 3,
        ..Limits::default()
    };
    let mut listener = start(LoopbackConfig {
        limits,
        ..LoopbackConfig::default()
    })
    .await;
    let addr = listener.addrs()[0];
    for _ in 0..4 {
        get(addr, "/favicon.ico").await;
    }
    let err = listener.callback().await.unwrap_err();
    assert!(matches!(err, LoopbackError::TooManyRequests(3)), "{err}");
}

#[tokio::test]
async fn idle_connections_beyond_the_limit_are_closed() {
    let limits = Limits {
        max_concurrent: 2,
        ..Limits::default()
    };
    let mut listener = start(LoopbackConfig {
        limits,
        ..LoopbackConfig::default()
    })
    .await;
    let addr = listener.addrs()[0];
    let _a = TcpStream::connect(addr).await.unwrap();
    let _b = TcpStream::connect(addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(2), third.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "the connection over the limit was left open"
    );
    drop((_a, _b));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        status(&get(addr, &format!("/?code=c&state={STATE}")).await),
        303
    );
    assert!(listener.callback().await.is_ok());
}
