//! The words of the OS notifications a keeper shows when accounts need a
//! person, and how notices are gathered into one notification. One
//! definition for both keepers: the desktop app (whose notification opens
//! its window on a click) and `reconnect keep` (whose notification has
//! nothing to open, so it names the command to run instead).
//!
//! A keeper feeds every [`Notice`] of the engine's health changes to a
//! [`Gathering`]; [`GATHER`] after the first one it takes them all and shows
//! [`notification_text`] for them: one notification, however many accounts.

use std::time::Duration;

use reconnect_core::health::Notice;

/// How long notices are gathered into one notification.
pub const GATHER: Duration = Duration::from_millis(1500);

/// What a click on the notification does, which decides its last words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Click {
    /// The desktop app: a click opens its window on the account.
    OpensApp,
    /// `reconnect keep`: nothing opens, so the text names the command.
    Nothing,
}

/// The title and body of one notification for `accounts` (at least one),
/// as the desktop app shows it.
pub fn notification_text(accounts: &[(String, Notice)]) -> (String, String) {
    notification_text_for(accounts, Click::OpensApp)
}

/// The title and body of one notification for `accounts` (at least one).
pub fn notification_text_for(accounts: &[(String, Notice)], click: Click) -> (String, String) {
    match accounts {
        [(name, notice)] => (
            format!("{name} needs attention"),
            body(name, *notice, click),
        ),
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| n.as_str()).collect();
            let next = match click {
                Click::OpensApp => "Click to open Reconnect.",
                Click::Nothing => "`reconnect status` has the details.",
            };
            (
                format!("{} connections need attention", many.len()),
                format!("{}. {next}", names.join(", ")),
            )
        }
    }
}

fn body(name: &str, notice: Notice, click: Click) -> String {
    let (what, app_next) = match notice {
        Notice::ReconnectNeeded => (
            "Sign in again to keep it working.",
            "Click to open Reconnect.",
        ),
        Notice::NeedsAdmin => (
            "An administrator must act.",
            "Click for the details to send them.",
        ),
        Notice::AppMisconfigured => (
            "The app registration needs fixing.",
            "Click for the details.",
        ),
        Notice::ExpiringSoon => (
            "It stops working soon unless you act.",
            "Click to open Reconnect.",
        ),
        Notice::Unreachable => (
            "Reconnect can't reach the sign-in service: the network, a proxy or a firewall is \
             in the way. It keeps trying; you or your IT should look.",
            "Click for the cause.",
        ),
        Notice::Recovered => return "It works again.".to_owned(),
    };
    let next = match (click, notice) {
        (Click::OpensApp, _) => app_next.to_owned(),
        (Click::Nothing, Notice::ReconnectNeeded) => format!("Run `reconnect signin {name}`."),
        (Click::Nothing, Notice::NeedsAdmin) => {
            format!("`reconnect status {name}` has the details to send them.")
        }
        (Click::Nothing, _) => format!("`reconnect status {name}` has the details."),
    };
    format!("{what} {next}")
}

/// Notices waiting to be shown together. A recovery is good news the
/// dashboard shows; it makes no notification.
#[derive(Debug, Default)]
pub struct Gathering {
    pending: Vec<(String, Notice)>,
}

impl Gathering {
    /// Adds `account`'s notice, unless it is a recovery or the account is
    /// already waiting; whether it was added.
    pub fn add(&mut self, account: &str, notice: Notice) -> bool {
        if notice == Notice::Recovered || self.pending.iter().any(|(a, _)| a == account) {
            return false;
        }
        self.pending.push((account.to_owned(), notice));
        true
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Everything gathered, oldest first; the gathering starts over.
    pub fn take(&mut self) -> Vec<(String, Notice)> {
        std::mem::take(&mut self.pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_accounts_make_one_notification_that_names_them_all() {
        let (title, body) = notification_text(&[
            ("mail".into(), Notice::ReconnectNeeded),
            ("crm".into(), Notice::NeedsAdmin),
        ]);
        assert_eq!(title, "2 connections need attention");
        assert_eq!(body, "mail, crm. Click to open Reconnect.");
    }

    #[test]
    fn one_account_says_who_must_act() {
        let (title, body) = notification_text(&[("crm".into(), Notice::NeedsAdmin)]);
        assert_eq!(title, "crm needs attention");
        assert_eq!(
            body,
            "An administrator must act. Click for the details to send them."
        );
    }

    #[test]
    fn without_a_window_to_open_the_text_names_the_command() {
        let one = [("mail".to_owned(), Notice::ReconnectNeeded)];
        let (title, body) = notification_text_for(&one, Click::Nothing);
        assert_eq!(title, "mail needs attention");
        assert_eq!(
            body,
            "Sign in again to keep it working. Run `reconnect signin mail`."
        );
        for notice in [
            Notice::NeedsAdmin,
            Notice::AppMisconfigured,
            Notice::ExpiringSoon,
            Notice::Unreachable,
        ] {
            let (_, body) = notification_text_for(&[("crm".into(), notice)], Click::Nothing);
            assert!(body.contains("`reconnect status crm`"), "{body}");
            assert!(!body.contains("Click"), "{body}");
        }
    }

    #[test]
    fn an_unreachable_service_names_who_looks_and_never_asks_for_a_sign_in() {
        let (title, body) = notification_text(&[("mail".into(), Notice::Unreachable)]);
        assert_eq!(title, "mail needs attention");
        assert!(
            body.starts_with("Reconnect can't reach the sign-in service"),
            "{body}"
        );
        assert!(body.contains("you or your IT"), "{body}");
        let (_, body) =
            notification_text_for(&[("mail".into(), Notice::Unreachable)], Click::Nothing);
        assert!(!body.contains("signin"), "{body}");
    }

    #[test]
    fn a_gathering_keeps_one_notice_per_account_and_no_recoveries() {
        let mut gathering = Gathering::default();
        assert!(gathering.add("mail", Notice::ReconnectNeeded));
        assert!(!gathering.add("mail", Notice::ExpiringSoon));
        assert!(!gathering.add("crm", Notice::Recovered));
        assert!(gathering.add("crm", Notice::NeedsAdmin));
        assert_eq!(
            gathering.take(),
            vec![
                ("mail".to_owned(), Notice::ReconnectNeeded),
                ("crm".to_owned(), Notice::NeedsAdmin)
            ]
        );
        assert!(gathering.is_empty());
    }
}
