//! What `reconnect keep` writes on stderr: one line per event, in words.
//! On a terminal the lines have a time and colour; otherwise (a service,
//! whose journal adds its own time) they have neither. `RECONNECT_LOG`
//! filters them as for every command (`RECONNECT_LOG=debug` adds the
//! `on_event` program's successful runs).

use std::io::IsTerminal;

use reconnect_core::decode::date::format_utc;
use reconnect_core::health::Health;
use reconnect_engine::{EngineEvent, TickReport};

/// Installs the keeper's stderr subscriber: our own lines at `info`,
/// everything else's at `warn`, unless `RECONNECT_LOG` says otherwise.
pub fn init() {
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("RECONNECT_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new("warn,reconnect=info,reconnect_engine=info")
        });
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(terminal);
    let _ = if terminal {
        builder.try_init()
    } else {
        builder.without_time().try_init()
    };
}

/// The line for one engine event.
pub fn event_line(event: &EngineEvent) -> String {
    match event {
        EngineEvent::Refreshed { account } => format!("{account}: refreshed"),
        EngineEvent::HealthChanged {
            account, from, to, ..
        } => {
            format!("{account}: {} (was {})", health(to), from.name())
        }
        EngineEvent::Spike(alert) => format!(
            "ALERT: {} accounts failed alike ({}) — likely cause: {}",
            alert.accounts.len(),
            alert.accounts.join(", "),
            alert.likely_cause
        ),
        EngineEvent::UnsavedCredentials { account } => format!(
            "{account}: the keychain refused the new tokens; they are kept in memory and \
             saving them is tried again (unsaved credentials)"
        ),
        EngineEvent::CredentialsSaved { account } => {
            format!("{account}: the tokens kept in memory are saved in the keychain now")
        }
    }
}

/// A health state in words, with its time where it has one.
fn health(health: &Health) -> String {
    match health {
        Health::Retrying { next_attempt, .. } => {
            format!("retrying, next try at {}", format_utc(*next_attempt))
        }
        Health::Unreachable { next_attempt, .. } => format!(
            "can't reach the sign-in service (you or your IT should look at the network), \
             next try at {}",
            format_utc(*next_attempt)
        ),
        Health::ExpiringSoon { deadline } => {
            format!("expiring soon: stops working at {}", format_utc(*deadline))
        }
        other => other.name().replace('_', " "),
    }
}

/// The lines for one scheduler round: only its failures (its successes
/// are events of their own).
pub fn failure_lines(report: &TickReport) -> impl Iterator<Item = String> + '_ {
    report
        .failed
        .iter()
        .map(|(account, reason)| format!("{account}: background refresh failed: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_sentences() {
        let line = event_line(&EngineEvent::HealthChanged {
            account: "work".into(),
            from: Health::Healthy,
            to: Health::ReconnectNeeded,
            notice: None,
        });
        assert_eq!(line, "work: reconnect needed (was healthy)");
        let line = event_line(&EngineEvent::HealthChanged {
            account: "work".into(),
            from: Health::Healthy,
            to: Health::ExpiringSoon { deadline: 0 },
            notice: None,
        });
        assert!(line.contains("stops working at 1970-01-01"), "{line}");
        let line = event_line(&EngineEvent::Refreshed {
            account: "mail".into(),
        });
        assert_eq!(line, "mail: refreshed");
    }
}
