//! The "next steps" list of a verdict: what to do, in order, for the person
//! in front of the app and for whoever else must act.

use super::class::{Category, ReconnectFixes, WhoActs};
use super::verdict::Verdict;

/// Writes the next steps for a verdict whose classification is settled.
pub fn next_steps(v: &Verdict) -> Vec<String> {
    let mut steps: Vec<String> = Vec::new();
    if v.transient {
        steps.push(match v.retry_after_seconds {
            Some(s) => format!("Wait {s} seconds; Reconnect retries on its own after that."),
            None => {
                "Wait a moment; Reconnect retries on its own with increasing pauses.".to_owned()
            }
        });
        steps.push(match v.category {
            Category::Network => format!(
                "If it keeps failing, check the network, proxy and VPN, and that {} is reachable.",
                v.authority_host.as_deref().unwrap_or("login.microsoftonline.com")
            ),
            Category::Throttled => "If it keeps happening, look for tools requesting tokens in a tight loop.".to_owned(),
            _ => "If it keeps failing for more than an hour, check the Microsoft 365 service health page.".to_owned(),
        });
        return steps;
    }
    if v.retry_once_first() {
        steps.push("Retry the refresh once: this failure is sometimes intermittent.".to_owned());
        steps.push("If it fails again, reconnect the account by signing in again.".to_owned());
    }
    match v.category {
        Category::Cancelled => steps.push(
            "Start the sign-in again when you are ready, and finish it in the browser.".to_owned(),
        ),
        Category::StepUp if v.reconnect_fixes != ReconnectFixes::No => {
            steps.push("Reconnect the account and complete the extra verification (such as MFA) when the sign-in page asks.".to_owned());
            if v.claims_challenge.is_some() {
                steps.push("Reconnect passes the server's claims challenge to the sign-in so the right check is requested.".to_owned());
            }
        }
        Category::Consent if v.reconnect_fixes != ReconnectFixes::No => {
            steps.push(
                "Reconnect the account and accept the permissions the app asks for.".to_owned(),
            );
            steps.push("If your organization does not let you consent, ask an administrator to grant consent for the organization.".to_owned());
        }
        Category::Expired if matches!(v.primary_code, Some(70008 | 700082)) => {
            steps.push("Reconnect the account by signing in again.".to_owned());
            steps.push("Keep Reconnect's keep-alive on so the connection is refreshed before the idle limit next time.".to_owned());
        }
        Category::Expired if v.primary_code == Some(700084) => {
            steps.push("Reconnect the account by signing in again (this restores access for another day only).".to_owned());
            steps.push("Developer: register the app's redirect URI as a public client (mobile and desktop), not as a single-page application, so refresh tokens last.".to_owned());
        }
        Category::Account
            if v.password_change_url.is_some()
                || v.suberror.as_deref() == Some("user_password_expired") =>
        {
            match &v.password_change_url {
                Some(url) => steps.push(format!("Change your password at {url}.")),
                None => steps.push("Change your password (the sign-in page offers it).".to_owned()),
            }
            steps.push("Then reconnect the account by signing in again.".to_owned());
        }
        _ if v.retry_once_first() => {}
        _ => match (v.who_acts, v.reconnect_fixes) {
            (WhoActs::User, ReconnectFixes::Yes) => {
                steps.push("Reconnect the account by signing in again.".to_owned())
            }
            (WhoActs::User, _) => {
                steps.push(
                    "Follow the instructions in the message above, then try signing in again."
                        .to_owned(),
                );
            }
            (WhoActs::Admin, fixes) => {
                steps.push("Contact your IT administrator and give them this failure's correlation ID and time.".to_owned());
                steps.push("Admin: find this sign-in in the Entra sign-in logs and fix the cause named there.".to_owned());
                if fixes != ReconnectFixes::No {
                    steps.push("Once the admin has acted, reconnect the account.".to_owned());
                } else {
                    steps.push("Signing in again will not help until then.".to_owned());
                }
            }
            (WhoActs::Developer, _) => {
                steps.push("Report this to the app's developer: the app registration or the request must change.".to_owned());
                steps.push("Signing in again will not help until then.".to_owned());
            }
            (WhoActs::Nobody, _) => steps.push("Try again later.".to_owned()),
        },
    }
    if let Some(cid) = &v.correlation_id {
        steps.push(format!(
            "Keep correlation ID {cid} for whoever investigates."
        ));
    }
    steps
}
