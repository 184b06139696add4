//! The rules that decide together with the code: what an unknown code means
//! given the OAuth `error` (and an authorize `error_subcode`), and how
//! Microsoft's `suberror` refines any verdict (`message_only` means signing in
//! again will not help, `basic_action` means it will, `bad_token` and
//! `token_expired` mean this refresh token is finished, and so on).

use super::class::{Category, ReconnectFixes, WhoActs};
use super::table::CodeInfo;

/// The base classification before the suberror and status refine it.
#[derive(Debug, Clone)]
pub(super) struct Base {
    pub(super) title: String,
    pub(super) category: Category,
    pub(super) who: WhoActs,
    pub(super) fixes: ReconnectFixes,
    pub(super) transient: bool,
    pub(super) user: String,
    pub(super) admin: String,
}

impl From<&CodeInfo> for Base {
    fn from(info: &CodeInfo) -> Self {
        Self {
            title: info.name.to_owned(),
            category: info.category,
            who: info.who_acts,
            fixes: info.reconnect_fixes,
            transient: info.transient,
            user: info.user_message.to_owned(),
            admin: info.admin_message.to_owned(),
        }
    }
}

fn base(
    category: Category,
    who: WhoActs,
    fixes: ReconnectFixes,
    title: &str,
    user: &str,
    admin: &str,
) -> Base {
    Base {
        title: title.to_owned(),
        category,
        who,
        fixes,
        transient: matches!(category, Category::Service | Category::Throttled),
        user: user.to_owned(),
        admin: admin.to_owned(),
    }
}

/// A verdict for a code Reconnect does not know, from the OAuth `error`.
pub(super) fn infer(error: Option<&str>, subcode: Option<&str>) -> Base {
    use Category as C;
    use ReconnectFixes as F;
    use WhoActs as W;
    const APP: &str = "This app cannot connect because of a problem in how it is set up. Its developer has to fix it.";
    match (error.unwrap_or(""), subcode.unwrap_or("")) {
        ("access_denied", "cancel") | ("", "cancel") => base(
            C::Cancelled,
            W::User,
            F::Yes,
            "Sign-in cancelled",
            "The sign-in was cancelled before it finished. Start it again when you are ready.",
            "The user cancelled the sign-in or closed the page; nothing is wrong with the account or the app.",
        ),
        ("access_denied", _) => base(
            C::Consent,
            W::User,
            F::Maybe,
            "Access denied",
            "Access was not granted. If you declined the permissions by mistake, sign in again and accept them.",
            "The authorization server denied the request: the user declined consent, or a policy refused it. Check the sign-in logs for the reason.",
        ),
        ("invalid_grant", _) => base(
            C::InvalidGrant,
            W::User,
            F::Maybe,
            "Sign-in grant rejected",
            "Your saved sign-in was not accepted. Reconnect will try once more and then ask you to sign in again.",
            "The refresh token or authorization code was rejected (invalid_grant) with a code Reconnect does not know. Retry once; if it fails again an interactive sign-in is needed.",
        ),
        ("interaction_required" | "login_required", _) => base(
            C::Interaction,
            W::User,
            F::Yes,
            "Sign-in required",
            "You need to sign in again to continue.",
            "The service needs the user to interact with the sign-in page before it issues tokens.",
        ),
        ("consent_required", _) => base(
            C::Consent,
            W::User,
            F::Yes,
            "Consent required",
            "This app needs your permission before it can connect. Sign in again and accept the requested permissions.",
            "Consent is missing for the requested permissions. An interactive sign-in can ask for it, unless only an admin may consent.",
        ),
        ("expired_token", _) => base(
            C::Expired,
            W::User,
            F::Yes,
            "Token expired",
            "Your sign-in expired. Sign in again to reconnect.",
            "The grant or device code expired before it was used.",
        ),
        ("temporarily_unavailable" | "server_error", _) => base(
            C::Service,
            W::Nobody,
            F::No,
            "Sign-in service unavailable",
            "Microsoft's sign-in service had a temporary problem. Reconnect will try again shortly.",
            "The authorization server reported a temporary failure. Retry with backoff.",
        ),
        ("slow_down" | "authorization_pending", _) => base(
            C::Throttled,
            W::Nobody,
            F::No,
            "Asked to slow down",
            "The sign-in service asked us to wait a little. Reconnect will try again shortly.",
            "The server asked the client to poll or retry more slowly.",
        ),
        ("invalid_client" | "unauthorized_client" | "invalid_resource", _) => base(
            C::AppRegistration,
            W::Developer,
            F::No,
            "App registration rejected",
            APP,
            "The server rejected the client or the resource it asked for. Check the app registration: client ID, tenant, public-client setting, redirect URIs and API permissions.",
        ),
        (
            "invalid_request"
            | "invalid_scope"
            | "unsupported_grant_type"
            | "unsupported_response_type"
            | "invalid_target",
            _,
        ) => base(
            C::Request,
            W::Developer,
            F::No,
            "Request rejected",
            APP,
            "The server rejected the request as malformed or unsupported. The description names what is wrong.",
        ),
        _ => base(
            C::Unknown,
            W::Admin,
            F::Maybe,
            "Unrecognised sign-in failure",
            "Signing in failed for a reason Reconnect does not recognise. Try signing in again; if it keeps failing, contact your IT administrator.",
            "The server returned an error Reconnect does not recognise. Its own text is kept below; the Entra sign-in logs hold the full reason.",
        ),
    }
}

/// Lets Microsoft's `suberror` refine the classification.
pub(super) fn apply_suberror(b: &mut Base, suberror: &str, known: bool) {
    use ReconnectFixes as F;
    match suberror {
        "message_only" => {
            b.fixes = F::No;
            b.transient = false;
            if matches!(b.who, WhoActs::User | WhoActs::Nobody) {
                b.who = WhoActs::Admin;
            }
        }
        "basic_action" => {
            b.fixes = F::Yes;
            b.transient = false;
            b.who = WhoActs::User;
            if !known {
                b.category = Category::StepUp;
                b.title = "Extra sign-in step required".to_owned();
                b.user = "Your organization needs you to complete a step while signing in. Sign in again.".to_owned();
            }
        }
        "additional_action" => {
            b.transient = false;
            b.who = WhoActs::User;
            if b.fixes == F::No {
                b.fixes = F::Maybe;
            }
        }
        "consent_required" => {
            b.transient = false;
            if !known {
                b.category = Category::Consent;
                b.title = "Consent required".to_owned();
                b.who = WhoActs::User;
                b.fixes = F::Yes;
            }
        }
        "user_password_expired" => {
            b.category = Category::Account;
            b.who = WhoActs::User;
            b.fixes = F::Yes;
            b.transient = false;
        }
        "bad_token" | "token_expired" => {
            b.transient = false;
            if !(known && b.fixes == F::No) {
                b.fixes = F::Yes;
                if matches!(b.who, WhoActs::Nobody) || !known {
                    b.who = WhoActs::User;
                }
            }
            if !known {
                b.category = if suberror == "token_expired" {
                    Category::Expired
                } else {
                    Category::Revoked
                };
                b.title = "Saved sign-in no longer valid".to_owned();
                b.user = "Your saved sign-in can no longer be used. Sign in again to reconnect."
                    .to_owned();
            }
        }
        // A family refresh token redeemed by another client of the family:
        // this connection's own client gets its own grant by signing in.
        "client_mismatch" => {
            b.category = Category::InvalidGrant;
            b.who = WhoActs::User;
            b.fixes = F::Yes;
            b.transient = false;
            b.title = "Saved sign-in belongs to another app".to_owned();
            b.user = "The saved sign-in was issued to another app. Sign in again with this \
                      connection to give it a sign-in of its own."
                .to_owned();
            b.admin = "client_mismatch: the refresh token belongs to another client of the same \
                       family (a family refresh token) and this client may not redeem it. An \
                       interactive sign-in with the configured client fixes it."
                .to_owned();
        }
        "protection_policy_required" => {
            b.category = Category::Blocked;
            b.who = WhoActs::Admin;
            b.fixes = F::No;
            b.transient = false;
        }
        "device_authentication_failed" => {
            b.category = Category::Device;
            b.transient = false;
        }
        _ => {}
    }
}
