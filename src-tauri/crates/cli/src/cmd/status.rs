//! `reconnect status` and `reconnect events`.
//!
//! `status` shows each account's health, forecast, last failure (the
//! decoder's verdict; with `--json`, exactly the JSON `reconnect decode
//! --json` prints) and next attempt, plus any failure spike across accounts.
//! An account that has not reached the sign-in service for a while reads
//! "can't reach the sign-in service", with since when, who acts (you or
//! your IT) and, as its last failure, the cause.
//! `events` shows the recorded refresh and sign-in attempts, newest first.
//!
//! `status` also looks once at the keychain (no prompt). When it cannot be
//! used (gone, locked, access refused) it says so first, and that tokens can
//! neither be read nor refreshed until it is back; the health shown is then
//! the last one stored, which it leaves unchanged. `--json` adds
//! `"keychain": "available" | "locked" | "denied" | "unavailable"` and, when
//! not available, `"keychain_message"`.

use std::process::ExitCode;

use reconnect_core::decode::date::format_utc;
use reconnect_core::health::Health;
use reconnect_core::tokens::UnixTime;
use std::io::Write;

use reconnect_engine::{AccountStatus, Overview};
use serde::Serialize;
use serde_json::json;

use super::token::{failure, open_engine, run};

/// Arguments of `reconnect status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Only this account (default: all).
    pub name: Option<String>,
    /// Print JSON: one account object with NAME, else `{"accounts": [...],
    /// "spikes": [...], "needs_attention": N, "by_state": {...}}`.
    #[arg(long)]
    pub json: bool,
}

/// Runs `reconnect status`.
pub fn status(args: StatusArgs) -> ExitCode {
    let name = args.name.clone();
    let result = run(async move {
        let engine = open_engine()?;
        let overview = engine.overview_of(name.as_deref()).await?;
        // Only worth a look when there are tokens to read.
        let keychain = if overview.accounts.is_empty() {
            Ok(())
        } else {
            reconnect_store::keychain::probe(engine.home())
        };
        Ok((overview, keychain))
    });
    let (overview, keychain) = match result {
        Ok(r) => r,
        Err(err) => return failure(&err),
    };
    let outage = keychain.err().map(|err| KeychainOutage::from(&err));
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = if args.json {
        write_json(&mut out, &overview, args.name.is_some(), outage.as_ref())
    } else {
        write_text(&mut out, &overview, args.name.is_some(), outage.as_ref())
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`reconnect status | head`): nothing to say.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("reconnect: could not write the status: {e}");
            ExitCode::from(super::exit::OTHER)
        }
    }
}

/// The keychain's availability, as `--json` adds it.
#[derive(Serialize)]
struct KeychainJson {
    keychain: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    keychain_message: Option<String>,
}

/// `status --json` without a name.
#[derive(Serialize)]
struct OverviewJson<'a> {
    accounts: &'a [AccountStatus],
    spikes: &'a [reconnect_core::spike::SpikeAlert],
    needs_attention: usize,
    by_state: &'a std::collections::BTreeMap<reconnect_core::health::HealthState, usize>,
    #[serde(flatten)]
    keychain: KeychainJson,
}

/// `status NAME --json`.
#[derive(Serialize)]
struct AccountJson<'a> {
    #[serde(flatten)]
    account: &'a AccountStatus,
    #[serde(flatten)]
    keychain: KeychainJson,
}

/// Serializes straight into the buffered writer (no JSON tree in between:
/// ten thousand accounts are megabytes).
fn write_json(
    out: &mut impl Write,
    overview: &Overview,
    one: bool,
    outage: Option<&KeychainOutage>,
) -> std::io::Result<()> {
    let keychain = KeychainJson {
        keychain: outage.map_or("available", |o| o.state),
        keychain_message: outage.map(KeychainOutage::headline),
    };
    match (one, overview.accounts.first()) {
        (true, Some(account)) => {
            serde_json::to_writer_pretty(&mut *out, &AccountJson { account, keychain })
        }
        _ => serde_json::to_writer_pretty(
            &mut *out,
            &OverviewJson {
                accounts: &overview.accounts,
                spikes: &overview.spikes,
                needs_attention: overview.needs_attention,
                by_state: &overview.by_state,
                keychain,
            },
        ),
    }
    .map_err(std::io::Error::from)?;
    writeln!(out)
}

fn write_text(
    out: &mut impl Write,
    overview: &Overview,
    one: bool,
    outage: Option<&KeychainOutage>,
) -> std::io::Result<()> {
    let accounts = &overview.accounts;
    if let Some(o) = outage {
        writeln!(out, "{}", o.headline())?;
        writeln!(out, "  {}", o.detail)?;
    }
    if accounts.is_empty() {
        writeln!(
            out,
            "No accounts yet. Add one with `reconnect add NAME --client-id ID`."
        )?;
    } else if !one {
        let plural =
            |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        writeln!(
            out,
            "{} connection{}: {} need{} attention, {} healthy, {} retrying\n",
            accounts.len(),
            plural(accounts.len(), "", "s"),
            overview.needs_attention,
            plural(overview.needs_attention, "s", ""),
            overview.healthy,
            overview.retrying
        )?;
    }
    for account in accounts {
        let mut text = describe(account, overview.now);
        if outage.is_some()
            && let Some(end) = text.find('\n')
        {
            text.insert_str(end, " (last known)");
        }
        write!(out, "{text}")?;
    }
    for spike in &overview.spikes {
        writeln!(
            out,
            "ALERT: {} accounts failed alike ({:?}) — likely cause: {}",
            spike.accounts.len(),
            spike.key,
            spike.likely_cause
        )?;
    }
    Ok(())
}

/// Why the keychain cannot be used right now, for the status display.
struct KeychainOutage {
    /// `locked`, `denied` or `unavailable`.
    state: &'static str,
    /// The keychain error's own explanation (what to do about it).
    detail: String,
}

impl From<&reconnect_store::KeychainError> for KeychainOutage {
    fn from(err: &reconnect_store::KeychainError) -> Self {
        Self {
            state: err.availability(),
            detail: err.to_string(),
        }
    }
}

impl KeychainOutage {
    /// One line saying what it means for the connections.
    fn headline(&self) -> String {
        let (what, until) = match self.state {
            "locked" => ("is locked", "it is unlocked"),
            "denied" => ("refused access", "access is allowed"),
            _ => ("cannot be reached", "it is back"),
        };
        format!(
            "Keychain {what}: tokens cannot be read or refreshed until {until}. \
             The health shown is the last known."
        )
    }
}

/// The words for network trouble that has lasted: the state's name, and
/// who acts on it.
const UNREACHABLE: &str = "can't reach the sign-in service";
const UNREACHABLE_WHO: &str =
    "you or your IT: the network, a VPN, a proxy or a firewall is in the way";

fn describe(s: &AccountStatus, now: UnixTime) -> String {
    let state = match s.health {
        Health::Unreachable { .. } => UNREACHABLE.to_owned(),
        other => other.name().replace('_', " "),
    };
    let mut out = format!("{}: {state}\n", s.name);
    let line = |out: &mut String, label: &str, text: String| {
        out.push_str(&format!("  {label:<14}{text}\n"));
    };
    if let (Health::Unreachable { .. }, Some(run)) = (s.health, s.health.streak().network) {
        line(
            &mut out,
            "since",
            format!("{}, {} attempts", relative(run.since, now), run.attempts),
        );
        line(&mut out, "who acts", UNREACHABLE_WHO.to_owned());
    }
    if let Some(at) = s.access_expires_at {
        line(
            &mut out,
            "access token",
            format!("expires {}", relative(at, now)),
        );
    }
    if let Some(at) = s.last_refresh {
        line(&mut out, "last refresh", relative(at, now));
    }
    if let (Some(dies), Some(cause)) = (s.forecast.dies_at, s.forecast.cause) {
        let why = serde_json::to_value(cause)
            .ok()
            .and_then(|v| v.as_str().map(|c| c.replace('_', " ")))
            .unwrap_or_default();
        line(
            &mut out,
            "forecast",
            format!("dies {} if unused ({why})", relative(dies, now)),
        );
    }
    if let Some(at) = s.next_attempt {
        let what = if s.health.next_attempt().is_some() {
            "retry"
        } else {
            "keep-alive"
        };
        line(
            &mut out,
            "next attempt",
            format!("{what} {}", relative(at, now)),
        );
    }
    if let Some(f) = &s.last_failure {
        let code = f
            .primary_code
            .map(|c| format!("AADSTS{c} "))
            .unwrap_or_default();
        let title = &f.title;
        let when = s
            .last_failure_at
            .map(|t| format!(" ({})", relative(t, now)))
            .unwrap_or_default();
        line(&mut out, "last failure", format!("{code}{title}{when}"));
        if !f.user_message.is_empty() {
            line(&mut out, "", f.user_message.clone());
        }
    }
    if s.unsaved_credentials {
        line(&mut out, "warning", "unsaved credentials".to_owned());
    }
    out
}

/// A time as an absolute UTC time.
pub(crate) fn when(at: UnixTime) -> String {
    format_utc(at)
}

/// A time relative to now, with the absolute time.
fn relative(at: UnixTime, now: UnixTime) -> String {
    let delta = at - now;
    let span = |s: i64| {
        let s = s.abs();
        match s {
            0..=119 => format!("{s} s"),
            120..=7_199 => format!("{} min", s / 60),
            7_200..=172_799 => format!("{} h", s / 3_600),
            _ => format!("{} days", s / 86_400),
        }
    };
    let rel = if delta.abs() < 5 {
        "just now".to_owned()
    } else if delta >= 0 {
        format!("in {}", span(delta))
    } else {
        format!("{} ago", span(delta))
    };
    format!("{rel} ({})", format_utc(at))
}

/// Arguments of `reconnect events`.
#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Only this account (default: all).
    pub name: Option<String>,
    /// Print JSON (an array of events, newest first).
    #[arg(long)]
    pub json: bool,
    /// Only events newer than this, e.g. `30m`, `2h`, `7d` (s, m, h, d, w).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub since: Option<i64>,
    /// At most this many events.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
}

/// Runs `reconnect events`.
pub fn events(args: EventsArgs) -> ExitCode {
    let name = args.name.clone();
    let result = run(async move {
        let engine = open_engine()?;
        let since = args.since.map(|d| engine.now().saturating_sub(d));
        engine.events(name.as_deref(), since, args.limit).await
    });
    let events = match result {
        Ok(e) => e,
        Err(err) => return failure(&err),
    };
    if args.json {
        println!("{:#}", json!(events));
        return ExitCode::SUCCESS;
    }
    for e in &events {
        let e = &e.event;
        let duration = e
            .duration_ms
            .map(|d| format!(" {d} ms"))
            .unwrap_or_default();
        let code = e
            .code
            .as_deref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        let msg = e
            .message
            .as_deref()
            .map(|m| format!(" — {m}"))
            .unwrap_or_default();
        println!(
            "{}  {}  {} {}{duration}{code}{msg}",
            format_utc(e.at),
            e.account_name.as_deref().unwrap_or("-"),
            e.kind.as_str(),
            e.outcome.as_str(),
        );
    }
    ExitCode::SUCCESS
}

/// Parses `30m`, `2h`, `7d`, `45s`, `1w` (or a bare number of seconds).
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like 30m, 2h or 7d"))?;
    let scale = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use s, m, h, d or w"
            ));
        }
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units_and_reject_nonsense() {
        assert_eq!(parse_duration("30m"), Ok(1_800));
        assert_eq!(parse_duration("2h"), Ok(7_200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("45"), Ok(45));
        assert_eq!(parse_duration("1w"), Ok(604_800));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }

    #[test]
    fn a_keychain_outage_says_tokens_cannot_be_refreshed_until_it_is_back() {
        let locked = KeychainOutage::from(&reconnect_store::KeychainError::Locked { cause: None });
        assert_eq!(locked.state, "locked");
        assert!(
            locked.headline().contains("locked"),
            "{}",
            locked.headline()
        );
        assert!(locked.headline().contains("until it is unlocked"));
        assert!(locked.detail.contains("Unlock"), "{}", locked.detail);
        let gone = KeychainOutage::from(&reconnect_store::KeychainError::NoProvider {
            cause: "nobody owns org.freedesktop.secrets".into(),
        });
        assert_eq!(gone.state, "unavailable");
        assert!(gone.headline().contains("cannot be reached"));
        assert!(gone.headline().contains("cannot be read or refreshed"));
    }

    #[test]
    fn an_unreachable_account_names_the_trouble_who_acts_and_the_cause() {
        use reconnect_core::policy::{NetworkRun, Streak};
        let now = 1_700_000_000;
        let verdict = reconnect_core::decode::decode_transport(
            reconnect_core::decode::TransportFailure::Tls,
            None,
        );
        let status = AccountStatus {
            name: "work".into(),
            health: Health::Unreachable {
                next_attempt: now + 900,
                streak: Streak {
                    transient: 4,
                    reconnect: 0,
                    network: Some(NetworkRun {
                        since: now - 3700,
                        last: now,
                        attempts: 4,
                    }),
                },
            },
            standing: reconnect_core::health::Standing::NeedsAttention,
            needs_attention: true,
            forecast: reconnect_core::forecast::Forecast {
                dies_at: None,
                cause: None,
                hard_deadline: None,
                keep_alive_at: None,
                expiring_deadline: None,
            },
            last_failure: Some(verdict.clone()),
            last_failure_at: Some(now),
            next_attempt: Some(now + 900),
            access_expires_at: None,
            last_refresh: None,
            refresh_issued_at: None,
            unsaved_credentials: false,
        };
        let text = describe(&status, now);
        assert!(
            text.starts_with("work: can't reach the sign-in service\n"),
            "{text}"
        );
        assert!(text.contains("4 attempts"), "{text}");
        assert!(text.contains("you or your IT"), "{text}");
        assert!(text.contains(&verdict.title), "{text}");
        assert!(text.contains("retry in 15 min"), "{text}");
        assert!(!text.contains("reconnect needed"), "{text}");
    }

    #[test]
    fn relative_times_read_naturally() {
        assert!(relative(1_000 + 63 * 86_400, 1_000).starts_with("in 63 days"));
        assert!(relative(1_000 - 90, 1_000).starts_with("90 s ago"));
        assert!(relative(1_001, 1_000).starts_with("just now"));
    }
}
