//! What `reconnect signin` tells the person at the terminal (stderr): the
//! progress of a browser sign-in, what to do for the paste and device-code
//! ways, why a sign-in ended, and the other ways to sign in when one cannot
//! work here (no display; device code blocked by the organization).

use reconnect_signin::{DeviceError, Progress, SigninError, UserCode};

/// The port suggested for an SSH tunnel when none was chosen.
const TUNNEL_PORT: u16 = 53682;

pub(super) fn report(name: &str, progress: &Progress) {
    match progress {
        Progress::Listening { redirect_uri } => {
            eprintln!("reconnect: waiting for the sign-in of `{name}` on {redirect_uri}");
        }
        Progress::BrowserOpened {
            url,
            browser,
            timeout,
            claims_challenge,
        } => {
            if *claims_challenge {
                claims_note();
            }
            eprintln!(
                "reconnect: opened {browser}. If no sign-in page appears, open this URL yourself:"
            );
            eprintln!("  {url}");
            eprintln!(
                "reconnect: waiting up to {} s; press Ctrl-C to cancel",
                timeout.as_secs()
            );
        }
        Progress::BrowserFailed { url, reason } => {
            eprintln!(
                "reconnect: the browser could not be opened ({reason}); still waiting: open this URL in a browser yourself:"
            );
            eprintln!("  {url}");
        }
        Progress::Exchanging => eprintln!("reconnect: the sign-in answered; fetching tokens"),
    }
}

pub(super) fn claims_note() {
    eprintln!(
        "reconnect: passing the claims challenge from the last failure (MFA / Conditional Access)"
    );
}

/// The paste way's instructions.
pub(super) fn paste_steps(url: &str, redirect_uri: &str, tunnel: Option<u16>, timeout: u64) {
    eprintln!("reconnect: open this URL in a browser on any machine and sign in:");
    eprintln!("  {url}");
    eprintln!(
        "reconnect: the browser then goes to an address starting with {redirect_uri} that will \
         not load there. Copy that whole address from the address bar, paste it here and press \
         Enter:"
    );
    match tunnel {
        Some(port) => {
            eprintln!(
                "reconnect: or forward the port from the machine with the browser, before signing in:"
            );
            eprintln!("  ssh -L {port}:localhost:{port} {}", host_name());
        }
        None => eprintln!(
            "reconnect: (to sign in through an SSH tunnel instead, run again with --port {TUNNEL_PORT})"
        ),
    }
    eprintln!("reconnect: waiting up to {timeout} s; press Ctrl-C to cancel");
}

/// The device-code way's instructions.
pub(super) fn device_steps(name: &str, code: &UserCode) {
    eprintln!(
        "reconnect: to sign in `{name}`, open {} on any device and enter the code {}",
        code.verification_uri, code.user_code
    );
    if let Some(direct) = &code.verification_uri_complete {
        eprintln!("reconnect: (or open {direct}, which has the code filled in)");
    }
    eprintln!(
        "reconnect: the code is valid for {} min; waiting; press Ctrl-C to cancel",
        code.expires_in.div_ceil(60)
    );
}

/// This machine's name, for the `ssh -L` line.
fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| "THIS-HOST".into())
}

fn other_ways(name: &str, device_code: bool) {
    if device_code {
        eprintln!("  - in a browser on this machine:             reconnect signin {name}");
    } else {
        eprintln!(
            "  - with a code on any other device:          reconnect signin {name} --device-code"
        );
    }
    eprintln!(
        "  - in a browser elsewhere, pasting back the address it ends on:\n      \
         reconnect signin {name} --no-browser"
    );
    eprintln!(
        "  - through an SSH tunnel to this machine:\n      \
         reconnect signin {name} --no-browser --port {TUNNEL_PORT}\n      \
         and on the machine with the browser: ssh -L {TUNNEL_PORT}:localhost:{TUNNEL_PORT} {}",
        host_name()
    );
}

/// No display: nothing is opened; the ways that work here.
pub(super) fn no_display(name: &str) {
    eprintln!(
        "reconnect: there is no graphical display here (neither DISPLAY nor WAYLAND_DISPLAY is \
         set), so no browser was opened. Sign in `{name}` one of these ways:"
    );
    other_ways(name, false);
    eprintln!("  - or name a browser command: --browser CMD (or RECONNECT_BROWSER)");
}

pub(super) fn explain(name: &str, err: &SigninError, device_code: bool) {
    eprintln!(
        "reconnect: sign-in of `{name}` did not connect: {}",
        err.chain()
    );
    if let Some(v) = err.verdict() {
        if v.needs_admin_or_developer() && !v.admin_message.is_empty() {
            eprintln!("  What to change: {}", v.admin_message);
        }
        for step in &v.next_steps {
            eprintln!("  - {step}");
        }
        if let Some(id) = &v.correlation_id {
            eprintln!("  Correlation ID: {id}");
        }
    }
    let blocked = matches!(
        err,
        SigninError::Device(DeviceError::Blocked(_) | DeviceError::Unsupported)
    );
    if device_code && blocked {
        eprintln!("reconnect: these ways to sign in do not use a device code:");
        other_ways(name, true);
    }
}
