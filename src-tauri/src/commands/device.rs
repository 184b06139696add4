//! "Sign in on another device": the device-code sign-in (RFC 8628) run by
//! `reconnect-signin`'s [`DeviceSignin`], for when no browser opens here.
//! The webview gets the page to open (as text and as a QR code), the user
//! code and its expiry, never the device code or a token; progress and the
//! ending arrive as `reconnect-progress` events like the browser way's, and
//! `reconnect_cancel` ends it.

use std::sync::Arc;

use reconnect_signin::{CancellationToken, DeviceSignin, NoBrowser, Progress, Signin, UserCode};
use serde::Serialize;
use tauri::{AppHandle, State};
use tokio::sync::oneshot;

use super::progress::{Phase, ProgressEvent, emit, step};
use super::reconnect::{Ended, claim, finish, token_client};
use crate::backend::{AppState, Backend, Failure};

/// What the webview shows while waiting for the code to be entered on
/// another device. Only the user code and the page are shown: the device
/// code the app polls with stays in the backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceCodeView {
    /// The code to enter on the other device.
    pub user_code: String,
    /// The page to open there.
    pub verification_uri: String,
    /// Seconds the code stays valid, as issued.
    pub expires_in: u64,
    /// When it stops being valid (backend clock), for the countdown.
    pub expires_at: i64,
    /// The page as a QR code: an `<svg>` element. It holds the code too
    /// when the provider offers a page with the code filled in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_svg: Option<String>,
}

impl DeviceCodeView {
    /// The view of `code`, issued at `now`.
    pub fn new(code: &UserCode, now: i64) -> Self {
        let scanned = code
            .verification_uri_complete
            .as_deref()
            .unwrap_or(&code.verification_uri);
        Self {
            user_code: code.user_code.clone(),
            verification_uri: code.verification_uri.clone(),
            expires_in: code.expires_in,
            expires_at: now.saturating_add(i64::try_from(code.expires_in).unwrap_or(i64::MAX)),
            qr_svg: crate::qr::svg(scanned),
        }
    }
}

/// The event that shows the code.
fn waiting(account: &str, view: &DeviceCodeView) -> ProgressEvent {
    ProgressEvent {
        expires_at: Some(view.expires_at),
        device: Some(view.clone()),
        ..step(account, Phase::WaitingForDevice)
    }
}

/// Asks for a code, hands its view to `shown`, then waits for the other
/// device; `Ok` names who signed in.
async fn sign_in(
    app: &AppHandle,
    backend: &Backend,
    account: &str,
    cancel: &CancellationToken,
    shown: oneshot::Sender<DeviceCodeView>,
) -> Result<String, Ended> {
    let client = token_client(backend)?;
    let progress = |p: &Progress| {
        if matches!(p, Progress::Exchanging) {
            emit(app, backend, step(account, Phase::Exchanging));
        }
    };
    let signin = Signin {
        client: &client,
        browser: &NoBrowser,
        store: &backend.data,
        progress: &progress,
    };
    let device = DeviceSignin::start(&signin, account, cancel)
        .await
        .map_err(Ended::from)?;
    let view = DeviceCodeView::new(device.code(), backend.now());
    emit(app, backend, waiting(account, &view));
    let _ = shown.send(view);
    let user = device.complete(cancel).await.map_err(Ended::from)?;
    Ok(user.describe())
}

async fn run(
    app: AppHandle,
    backend: Arc<Backend>,
    account: String,
    cancel: CancellationToken,
    shown: oneshot::Sender<DeviceCodeView>,
) {
    let end = sign_in(&app, &backend, &account, &cancel, shown).await;
    finish(&app, &backend, &account, end).await;
}

/// Starts signing `name` in on another device. Answers with the code to
/// show once it is issued, or nothing when the sign-in ended before (the
/// ending arrives as an event, as every later step does).
#[tauri::command]
pub async fn device_signin_start(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> Result<Option<DeviceCodeView>, Failure> {
    let backend = state.current().await?;
    let cancel = claim(&backend, &name)?;
    emit(&app, &backend, step(&name, Phase::RequestingCode));
    let (shown, issued) = oneshot::channel();
    tauri::async_runtime::spawn(run(app, backend, name, cancel, shown));
    Ok(issued.await.ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(complete: Option<&str>) -> UserCode {
        UserCode {
            verification_uri: "https://microsoft.com/devicelogin".into(),
            user_code: "ABCD2345K".into(),
            expires_in: 900,
            interval: 5,
            verification_uri_complete: complete.map(str::to_owned),
            message: None,
        }
    }

    #[test]
    fn the_view_shows_the_code_the_page_and_the_deadline() {
        let view = DeviceCodeView::new(&code(None), 1_700_000_000);
        assert_eq!(view.user_code, "ABCD2345K");
        assert_eq!(view.verification_uri, "https://microsoft.com/devicelogin");
        assert_eq!(view.expires_at, 1_700_000_900);
        let svg = view.qr_svg.as_deref().expect("a QR code");
        assert!(svg.starts_with("<svg"), "{svg}");
        let json = serde_json::to_value(&view).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "expires_at",
                "expires_in",
                "qr_svg",
                "user_code",
                "verification_uri"
            ]
        );
    }

    #[test]
    fn a_page_with_the_code_filled_in_is_what_the_qr_code_opens() {
        let plain = DeviceCodeView::new(&code(None), 0);
        let filled = DeviceCodeView::new(
            &code(Some("https://microsoft.com/devicelogin?otc=ABCD2345K")),
            0,
        );
        assert_ne!(plain.qr_svg, filled.qr_svg);
        assert_eq!(filled.verification_uri, plain.verification_uri);
    }

    #[test]
    fn the_waiting_event_carries_the_view_and_the_countdown() {
        let view = DeviceCodeView::new(&code(None), 100);
        let json = serde_json::to_value(waiting("carlos-crm", &view)).unwrap();
        assert_eq!(json["phase"], "waiting_for_device");
        assert_eq!(json["expires_at"], 1000);
        assert_eq!(json["device"]["user_code"], "ABCD2345K");
        assert!(json.get("url").is_none() && json.get("outcome").is_none());
    }
}
