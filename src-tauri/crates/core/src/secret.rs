//! Secret newtypes: the only way tokens and other credentials travel through
//! the code base.
//!
//! Each type has a redacted `Debug`, and deliberately no `Display`, no
//! `Serialize` and no `Deserialize`: a secret can only be turned back into text
//! by calling [`expose`](AccessToken::expose) at the one place that must send or
//! store it (the HTTP client, the keychain). That keeps tokens out of log lines,
//! error messages, the database and anything sent to the webview.

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret text. Call this only where the value must leave the
            /// process: an HTTP request, the keychain, stdout of `reconnect token`.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// Length in bytes, handy for size checks without exposing the value.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether the secret is empty.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, concat!(stringify!($name), "([redacted; {} bytes])"), self.0.len())
            }
        }
    };
}

secret_type!(
    /// An OAuth access token (usually a JWT for Microsoft Graph).
    AccessToken
);
secret_type!(
    /// An OAuth refresh token: the long-lived credential Reconnect keeps alive.
    RefreshToken
);
secret_type!(
    /// An OpenID Connect id_token (a signed JWT).
    IdToken
);
secret_type!(
    /// A one-time authorization code from the authorize redirect.
    AuthorizationCode
);
secret_type!(
    /// A PKCE `code_verifier` (RFC 7636).
    PkceVerifier
);
secret_type!(
    /// A confidential client's secret (Reconnect itself is a public client;
    /// this exists so a provider that insists on one never leaks it).
    ClientSecret
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let token = RefreshToken::new("0.AAAA-super-secret-refresh-token");
        let shown = format!("{token:?} {:?}", AccessToken::new("eyJ.secret.sig"));
        assert!(!shown.contains("super-secret"), "{shown}");
        assert!(!shown.contains("eyJ"), "{shown}");
        assert!(
            shown.contains("RefreshToken([redacted; 33 bytes])"),
            "{shown}"
        );
    }

    #[test]
    fn expose_returns_the_value() {
        let code = AuthorizationCode::new("abc");
        assert_eq!(code.expose(), "abc");
        assert_eq!(code.len(), 3);
        assert!(!code.is_empty());
    }
}
