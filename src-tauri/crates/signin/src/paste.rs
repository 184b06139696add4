//! Signing in where no browser can reach this machine's loopback: the user
//! opens the authorization URL on any machine, signs in, and pastes back the
//! address the browser ended on (`http://localhost:PORT/?code=…&state=…`,
//! which fails to load there). [`PasteSignin`] checks the `state`, redeems
//! the code with the same PKCE verifier and redirect URI, and finishes
//! through the shared completion path. The loopback listener runs meanwhile,
//! so with a fixed port and an SSH tunnel (`ssh -L PORT:localhost:PORT`) the
//! browser's own redirect completes it too, whichever comes first.

use std::collections::HashMap;
use std::future::Future;
use std::time::Instant;

use url::Url;

use crate::error::SigninError;
use crate::flow::{Signin, SigninOptions};
use crate::identity::KnownUser;
use crate::loopback::Callback;
use crate::redirect::{PastedAnswer, RedirectAttempt, wait_for_callback};

/// Why a pasted address could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasteError {
    /// Not an address or query at all.
    #[error(
        "the pasted text is not the address the browser ended on (it looks like \
         http://localhost:PORT/?code=…&state=…); nothing was changed"
    )]
    NotAnAddress,
    /// An address, but not the loopback redirect (e.g. the sign-in link itself).
    #[error(
        "the pasted address goes to {0}, not to this computer's redirect address; paste the \
         address the browser shows after signing in; nothing was changed"
    )]
    NotTheRedirect(String),
    /// The `state` is missing or belongs to another sign-in.
    #[error(
        "the pasted address belongs to another sign-in (its state does not match this one); \
         nothing was changed"
    )]
    WrongState,
    /// The right sign-in, but neither a code nor an error.
    #[error("the pasted address carries neither a code nor an error; nothing was changed")]
    NoAnswer,
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The query of a pasted address (browsers may hide `http://`), or of a
/// bare `?query`.
fn query_of(text: &str) -> Result<String, PasteError> {
    let bare_host = ["localhost", "127.0.0.1", "[::1]"]
        .iter()
        .any(|h| text.starts_with(h));
    let candidate = if bare_host {
        format!("http://{text}")
    } else {
        text.to_owned()
    };
    match Url::parse(&candidate) {
        Ok(url) if matches!(url.scheme(), "http" | "https") => {
            if !is_loopback_host(&url) {
                let host = url.host_str().unwrap_or_default().to_owned();
                return Err(PasteError::NotTheRedirect(host));
            }
            Ok(url.query().unwrap_or_default().to_owned())
        }
        Err(_) if text.contains('=') && !text.contains(char::is_whitespace) => {
            Ok(text.trim_start_matches('?').to_owned())
        }
        _ => Err(PasteError::NotAnAddress),
    }
}

/// Reads a pasted redirect (a full address, or just its `?query`) and checks
/// that it answers the sign-in whose `state` is `expected_state`.
pub fn parse_pasted(text: &str, expected_state: &str) -> Result<Callback, PasteError> {
    let text = text
        .trim()
        .trim_matches(|c| matches!(c, '<' | '>' | '"' | '\''));
    let query = query_of(text)?;
    let query: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if query.is_empty() {
        return Err(PasteError::NotAnAddress);
    }
    if query.get("state").map(String::as_str) != Some(expected_state) {
        return Err(PasteError::WrongState);
    }
    Callback::from_query(&query).ok_or(PasteError::NoAnswer)
}

/// A redirect sign-in waiting for the user to paste the address back (or
/// for the listener, through a tunnel).
#[derive(Debug)]
pub struct PasteSignin<'a> {
    signin: &'a Signin<'a>,
    attempt: RedirectAttempt,
    options: SigninOptions,
}

impl<'a> PasteSignin<'a> {
    /// Reads the account, finds the provider, starts the listener (on
    /// `options.port` when given) and builds the authorization URL. A
    /// failure is recorded in the account's history.
    pub async fn start(
        signin: &'a Signin<'a>,
        account: &str,
        options: &SigninOptions,
    ) -> Result<Self, SigninError> {
        let started = Instant::now();
        let settings = signin.store.settings(account).map_err(SigninError::Store)?;
        let prepared = signin.prepare_redirect(settings, options, started).await;
        let attempt = signin.recorded(account, started, prepared)?;
        Ok(Self {
            signin,
            attempt,
            options: options.clone(),
        })
    }

    /// The URL to open on any machine.
    pub fn authorize_url(&self) -> &Url {
        &self.attempt.url
    }

    /// The redirect URI the browser will end on.
    pub fn redirect_uri(&self) -> &str {
        &self.attempt.redirect_uri
    }

    /// The loopback port the listener uses.
    pub fn port(&self) -> Option<u16> {
        self.attempt.listener.addrs().first().map(|a| a.port())
    }

    /// Whether a claims challenge from the last failure is being passed.
    pub fn claims_challenge(&self) -> bool {
        self.attempt.settings.claims_challenge.is_some()
    }

    /// Waits for `pasted` (the text the user pasted; `None` when the input
    /// closed, and then only the listener can answer), the listener, the
    /// timeout or cancel; then redeems and stores. The first answer decides:
    /// a pasted text that is not this sign-in's answer ends it.
    pub async fn complete<F>(mut self, pasted: F) -> Result<KnownUser, SigninError>
    where
        F: Future<Output = Option<String>> + Send,
    {
        let signin = self.signin;
        let account = self.attempt.settings.name.clone();
        let started = self.attempt.started;
        let state = self.attempt.secrets.state.clone();
        let answer: PastedAnswer<'_> = Box::pin(async move {
            let text = pasted.await?;
            Some(parse_pasted(&text, &state).map_err(SigninError::from))
        });
        let waited = wait_for_callback(
            &mut self.attempt.listener,
            None,
            Some(answer),
            &self.options,
            &|_| {},
        )
        .await;
        let result = match waited {
            Ok(callback) => signin.redeem_and_show(self.attempt, callback).await,
            Err(e) => Err(e),
        };
        signin.recorded(&account, started, result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_address_or_its_query_is_read_and_the_state_checked() {
        let url = "http://localhost:53100/?code=c-1&state=s-1&session_state=x";
        assert!(matches!(
            parse_pasted(url, "s-1"),
            Ok(Callback::Code { iss: None, .. })
        ));
        assert!(parse_pasted(&format!("  <{url}>\n"), "s-1").is_ok());
        assert!(parse_pasted("?code=c-1&state=s-1", "s-1").is_ok());
        assert!(parse_pasted("localhost:53100/?code=c-1&state=s-1", "s-1").is_ok());
        assert!(parse_pasted("code=c-1&state=s-1&iss=https%3A%2F%2Fidp", "s-1").is_ok());
        assert_eq!(
            parse_pasted(url, "s-2").unwrap_err(),
            PasteError::WrongState
        );
        assert_eq!(
            parse_pasted("http://127.0.0.1:9/?code=c", "s-1").unwrap_err(),
            PasteError::WrongState
        );
    }

    #[test]
    fn errors_in_the_address_become_the_providers_error() {
        let url =
            "http://localhost:1/?error=access_denied&error_description=AADSTS65004%3A+no&state=s";
        let Ok(Callback::Error {
            error, description, ..
        }) = parse_pasted(url, "s")
        else {
            panic!("an error callback");
        };
        assert_eq!(error, "access_denied");
        assert_eq!(description.as_deref(), Some("AADSTS65004: no"));
    }

    #[test]
    fn garbage_and_other_addresses_are_refused() {
        for text in [
            "",
            "hello there",
            "ftp://localhost/?code=1&state=s",
            "12345",
        ] {
            assert_eq!(
                parse_pasted(text, "s").unwrap_err(),
                PasteError::NotAnAddress,
                "{text:?}"
            );
        }
        assert_eq!(
            parse_pasted("https://login.example.test/authorize?state=s", "s").unwrap_err(),
            PasteError::NotTheRedirect("login.example.test".into())
        );
        assert_eq!(
            parse_pasted("http://localhost:1/?state=s&foo=1", "s").unwrap_err(),
            PasteError::NoAnswer
        );
    }
}
