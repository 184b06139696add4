//! The shapes `reconnect token --format` prints, one per consuming tool:
//! the bare token, our JSON, `az account get-access-token`'s JSON, a
//! Kubernetes ExecCredential, and a base64 SASL XOAUTH2 string for mail
//! clients. Every shape is built from one [`Issued`] and written to stdout
//! only; nothing here ever writes to stderr.

use base64::Engine as _;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

/// What `--format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The bare access token.
    Raw,
    /// `{access_token, token_type, expires_on, expires_at, scope, account, tenant}`.
    Json,
    /// The JSON of `az account get-access-token`.
    Az,
    /// A Kubernetes `client.authentication.k8s.io` ExecCredential (kubectl's exec plugin).
    ExecCredential,
    /// A base64 SASL XOAUTH2 string for IMAP/SMTP (mbsync, msmtp, neomutt).
    Xoauth2,
}

/// A token and the facts every shape draws from.
#[derive(Debug)]
pub struct Issued<'a> {
    /// The access token (only ever written to stdout).
    pub token: &'a str,
    /// Its expiry, Unix seconds, when the provider said.
    pub expires_on: Option<i64>,
    /// The scopes granted.
    pub scope: &'a str,
    /// The account's name in Reconnect.
    pub account: &'a str,
    /// The directory tenant, when known.
    pub tenant: Option<&'a str>,
    /// The user name for XOAUTH2 (the account's or `--user`).
    pub user: Option<&'a str>,
}

/// Why a shape cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// XOAUTH2 needs a user name the account does not know.
    #[error(
        "the account `{0}` has no known user name for XOAUTH2; pass --user NAME (the mailbox's address)"
    )]
    NoUser(String),
    /// The expiry is outside what a calendar can show.
    #[error("the token's expiry {0} is not a valid time")]
    Expiry(i64),
    /// JSON could not be written (does not happen for these shapes).
    #[error("could not write JSON")]
    Json(#[from] serde_json::Error),
}

/// The `apiVersion` kubectl asks for in `KUBERNETES_EXEC_INFO`, when it is
/// one we speak; `v1` otherwise.
pub fn exec_api_version(exec_info: Option<&str>) -> &'static str {
    const V1: &str = "client.authentication.k8s.io/v1";
    const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
    let asked = exec_info
        .and_then(|info| serde_json::from_str::<serde_json::Value>(info).ok())
        .and_then(|v| v.get("apiVersion")?.as_str().map(str::to_owned));
    match asked.as_deref() {
        Some(V1BETA1) => V1BETA1,
        _ => V1,
    }
}

/// Renders `issued` as `format` (without a trailing newline).
pub fn render(
    format: Format,
    issued: &Issued<'_>,
    api_version: &str,
) -> Result<String, FormatError> {
    match format {
        Format::Raw => Ok(issued.token.to_owned()),
        Format::Json => json(issued),
        Format::Az => az(issued),
        Format::ExecCredential => exec_credential(issued, api_version),
        Format::Xoauth2 => xoauth2(issued),
    }
}

fn timestamp(at: i64) -> Result<Timestamp, FormatError> {
    Timestamp::from_second(at).map_err(|_| FormatError::Expiry(at))
}

fn rfc3339(at: Option<i64>) -> Result<Option<String>, FormatError> {
    at.map(|t| Ok(timestamp(t)?.to_string())).transpose()
}

fn json(issued: &Issued<'_>) -> Result<String, FormatError> {
    #[derive(Serialize)]
    struct Shape<'a> {
        access_token: &'a str,
        token_type: &'static str,
        expires_on: Option<i64>,
        expires_at: Option<String>,
        scope: &'a str,
        account: &'a str,
        tenant: Option<&'a str>,
    }
    Ok(serde_json::to_string(&Shape {
        access_token: issued.token,
        token_type: "Bearer",
        expires_on: issued.expires_on,
        expires_at: rfc3339(issued.expires_on)?,
        scope: issued.scope,
        account: issued.account,
        tenant: issued.tenant,
    })?)
}

/// `az account get-access-token`: `expiresOn` is local time without an
/// offset (as az prints it), `expires_on` the Unix time newer tools read.
fn az(issued: &Issued<'_>) -> Result<String, FormatError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape<'a> {
        access_token: &'a str,
        expires_on: Option<String>,
        #[serde(rename = "expires_on")]
        expires_on_unix: Option<i64>,
        tenant: Option<&'a str>,
        token_type: &'static str,
    }
    let local = issued
        .expires_on
        .map(|t| {
            let zoned = timestamp(t)?.to_zoned(TimeZone::system());
            Ok::<_, FormatError>(zoned.strftime("%Y-%m-%d %H:%M:%S.%6f").to_string())
        })
        .transpose()?;
    Ok(serde_json::to_string_pretty(&Shape {
        access_token: issued.token,
        expires_on: local,
        expires_on_unix: issued.expires_on,
        tenant: issued.tenant,
        token_type: "Bearer",
    })?)
}

fn exec_credential(issued: &Issued<'_>, api_version: &str) -> Result<String, FormatError> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Status<'a> {
        token: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        expiration_timestamp: Option<String>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Shape<'a> {
        api_version: &'a str,
        kind: &'static str,
        spec: serde_json::Value,
        status: Status<'a>,
    }
    Ok(serde_json::to_string(&Shape {
        api_version,
        kind: "ExecCredential",
        spec: serde_json::json!({}),
        status: Status {
            token: issued.token,
            expiration_timestamp: rfc3339(issued.expires_on)?,
        },
    })?)
}

fn xoauth2(issued: &Issued<'_>) -> Result<String, FormatError> {
    let user = issued
        .user
        .filter(|u| !u.is_empty())
        .ok_or_else(|| FormatError::NoUser(issued.account.to_owned()))?;
    let sasl = format!("user={user}\x01auth=Bearer {}\x01\x01", issued.token);
    Ok(base64::engine::general_purpose::STANDARD.encode(sasl))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued() -> Issued<'static> {
        Issued {
            token: "eyJ.tok.en",
            expires_on: Some(1_767_225_600),
            scope: "openid User.Read",
            account: "work",
            tenant: Some("tid-1"),
            user: Some("alice@contoso.test"),
        }
    }

    fn value(format: Format) -> serde_json::Value {
        let text = render(format, &issued(), exec_api_version(None)).expect("renders");
        serde_json::from_str(&text).expect("JSON")
    }

    #[test]
    fn json_and_az_carry_the_expiry_both_ways() {
        let json = value(Format::Json);
        assert_eq!(json["expires_on"], 1_767_225_600);
        assert_eq!(json["expires_at"], "2026-01-01T00:00:00Z");
        assert_eq!(json["token_type"], "Bearer");
        assert_eq!(json["tenant"], "tid-1");
        let az = value(Format::Az);
        assert_eq!(az["accessToken"], "eyJ.tok.en");
        assert_eq!(az["expires_on"], 1_767_225_600);
        assert_eq!(az["tokenType"], "Bearer");
        let local = az["expiresOn"].as_str().expect("local time");
        assert_eq!(local.len(), "2026-01-01 00:00:00.000000".len(), "{local}");
    }

    #[test]
    fn exec_credential_answers_the_version_kubectl_asks_for() {
        let cred = value(Format::ExecCredential);
        assert_eq!(cred["apiVersion"], "client.authentication.k8s.io/v1");
        assert_eq!(cred["kind"], "ExecCredential");
        assert_eq!(
            cred["status"]["expirationTimestamp"],
            "2026-01-01T00:00:00Z"
        );
        let beta =
            r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential"}"#;
        assert_eq!(
            exec_api_version(Some(beta)),
            "client.authentication.k8s.io/v1beta1"
        );
        assert_eq!(
            exec_api_version(Some("garbage")),
            "client.authentication.k8s.io/v1"
        );
    }

    #[test]
    fn xoauth2_is_the_sasl_string_in_base64() {
        let text = render(Format::Xoauth2, &issued(), "").expect("renders");
        let raw = base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64");
        assert_eq!(
            raw,
            b"user=alice@contoso.test\x01auth=Bearer eyJ.tok.en\x01\x01"
        );
        let nobody = Issued {
            user: None,
            ..issued()
        };
        assert!(matches!(
            render(Format::Xoauth2, &nobody, ""),
            Err(FormatError::NoUser(_))
        ));
    }
}
