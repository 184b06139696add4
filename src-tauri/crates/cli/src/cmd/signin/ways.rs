//! The three ways `reconnect signin` signs in, each a thin driver of the
//! signin crate's API: [`browser`] (`Signin::run`), [`paste`]
//! (`PasteSignin`, with standard input as the pasted answer) and [`device`]
//! (`DeviceSignin`, printing the code before polling).

use std::io::{BufRead as _, Write as _};

use reconnect_signin::{
    DeviceSignin, KnownUser, NoBrowser, PasteSignin, Progress, Signin, SigninError, browser,
};
use tokio::sync::oneshot;

use super::{Setup, SigninArgs, text};

/// The system browser or the named command, on this machine.
pub(super) async fn browser(args: &SigninArgs, setup: &Setup) -> Result<KnownUser, SigninError> {
    let chosen = browser::choose(args.browser.as_deref()).map_err(SigninError::Browser)?;
    let name = args.name.clone();
    let progress = move |p: &Progress| text::report(&name, p);
    let flow = Signin {
        client: &setup.client,
        browser: chosen.as_ref(),
        store: &setup.profile,
        progress: &progress,
    };
    flow.run(&args.name, &setup.options).await
}

/// Only the progress lines that make sense without a browser here.
fn quiet_report(name: &str, p: &Progress) {
    if matches!(p, Progress::Exchanging) {
        text::report(name, p);
    }
}

/// The URL is printed; the address the browser ended on comes back on
/// standard input (or through a tunnel to the listener).
pub(super) async fn paste(args: &SigninArgs, setup: &Setup) -> Result<KnownUser, SigninError> {
    let name = args.name.clone();
    let progress = move |p: &Progress| quiet_report(&name, p);
    let flow = Signin {
        client: &setup.client,
        browser: &NoBrowser,
        store: &setup.profile,
        progress: &progress,
    };
    let pending = PasteSignin::start(&flow, &args.name, &setup.options).await?;
    if pending.claims_challenge() {
        text::claims_note();
    }
    let tunnel = args.port.and(pending.port());
    text::paste_steps(
        pending.authorize_url().as_str(),
        pending.redirect_uri(),
        tunnel,
        args.timeout,
    );
    pending.complete(pasted_line()).await
}

/// The first non-empty line on standard input; `None` at its end. Read on a
/// thread of its own, so a sign-in the listener completes does not wait for
/// a read that never returns.
async fn pasted_line() -> Option<String> {
    let (tx, rx) = oneshot::channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let line = stdin
            .lock()
            .lines()
            .map_while(Result::ok)
            .find(|l| !l.trim().is_empty());
        let _ = tx.send(line);
    });
    rx.await.ok().flatten()
}

/// A code for another device: printed (stderr, or one JSON object on stdout
/// with `--json`) as soon as it is issued, then polled until it ends.
pub(super) async fn device(args: &SigninArgs, setup: &Setup) -> Result<KnownUser, SigninError> {
    let name = args.name.clone();
    let progress = move |p: &Progress| quiet_report(&name, p);
    let flow = Signin {
        client: &setup.client,
        browser: &NoBrowser,
        store: &setup.profile,
        progress: &progress,
    };
    let cancel = &setup.options.cancel;
    let pending = DeviceSignin::start(&flow, &args.name, cancel).await?;
    if pending.claims_challenge() {
        text::claims_note();
    }
    if args.json {
        print_json(pending.code());
        eprintln!("reconnect: waiting for the sign-in on the other device; press Ctrl-C to cancel");
    } else {
        text::device_steps(&args.name, pending.code());
    }
    pending.complete(cancel).await
}

/// One JSON object on stdout, flushed at once (a script reads it while the
/// sign-in goes on). A closed stdout is not the sign-in's failure.
fn print_json(code: &reconnect_signin::UserCode) {
    let mut out = std::io::stdout().lock();
    let written = serde_json::to_writer(&mut out, code)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    if let Err(e) = written {
        tracing::warn!("could not write the code to stdout: {e}");
    }
}
