//! Helpers shared by the security suites: a simulator plus an isolated
//! profile with one connected account, the `reconnect` binary run against
//! them (every output kept for the secrets scan), the keychain entries of the
//! profile as the Secret Service lists them, and SQLite's integrity check.

#![allow(dead_code)]

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use reconnect_e2e::harness::{TempHome, binary};
use reconnect_e2e::secrets::{ScanReport, SecretScanner, token_shapes, token_shapes_under};
use reconnect_sim::{AppRegistration, GrantRequest, RunningSim, SimConfig, Simulator};

/// The client id the security suites register.
pub const CLIENT_ID: &str = "5ec0a1e7-0000-4000-8000-00000000c0de";
/// Scopes asked for.
pub const SCOPE: &str = "openid profile offline_access User.Read";

/// A simulator, a profile, and what the run printed.
pub struct World {
    /// The isolated home.
    pub home: TempHome,
    /// The simulator.
    pub sim: RunningSim,
    /// Every secret seen so far.
    pub scanner: Mutex<SecretScanner>,
    /// Every process output, for the final scan.
    pub outputs: Mutex<Vec<(String, Vec<u8>)>>,
    /// Extra environment for every `reconnect` run (e.g. a private D-Bus).
    pub env: Vec<(String, String)>,
}

impl World {
    /// Starts a simulator (auto-approving alice's sign-ins) and a fresh profile.
    pub async fn start() -> Self {
        let config = SimConfig {
            auto_approve: Some("alice@contoso.test".into()),
            apps: vec![AppRegistration::desktop(CLIENT_ID)],
            ..SimConfig::default()
        };
        let sim = Simulator::start(config).await.expect("simulator starts");
        Self {
            home: TempHome::new(),
            sim,
            scanner: Mutex::new(SecretScanner::new()),
            outputs: Mutex::new(Vec::new()),
            env: Vec::new(),
        }
    }

    /// `reconnect ARGS` in the profile, with `stdin`, trace logging on.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = self.home.command(binary("reconnect"));
        cmd.args(args)
            .env("RECONNECT_LOG", "trace")
            .env_remove("RECONNECT_BROWSER")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    /// Runs `reconnect ARGS` to completion and keeps its output for the scan.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn reconnect");
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(stdin.as_bytes());
        let out = child.wait_with_output().expect("wait for reconnect");
        self.keep(&args.join(" "), &out);
        out
    }

    /// Keeps an output for the scan (`reconnect token`'s stdout is its
    /// answer, so only that one stream is left out, after noting the token).
    pub fn keep(&self, what: &str, out: &Output) {
        let mut outputs = self.outputs.lock().expect("outputs");
        if what.starts_with("token ") {
            let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            self.scanner
                .lock()
                .expect("scanner")
                .add(&format!("access token printed by `{what}`"), &token);
        } else {
            outputs.push((format!("stdout of `reconnect {what}`"), out.stdout.clone()));
        }
        outputs.push((format!("stderr of `reconnect {what}`"), out.stderr.clone()));
    }

    /// Like [`World::run`], failing the test unless it exits 0.
    pub fn ok(&self, args: &[&str], stdin: &str) -> String {
        let out = self.run(args, stdin);
        assert!(
            out.status.success(),
            "`reconnect {}` failed ({}): {}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Mints tokens for `upn` and notes them as secrets.
    pub fn grant(&self, upn: &str) -> serde_json::Value {
        let grant = self
            .sim
            .state
            .mint_grant(
                &GrantRequest {
                    upn: upn.into(),
                    client_id: CLIENT_ID.into(),
                    scope: SCOPE.into(),
                    spa: false,
                    mfa: false,
                },
                &self.sim.http_url,
            )
            .expect("mint a grant");
        self.scanner
            .lock()
            .expect("scanner")
            .add_token_response(upn, &grant);
        grant
    }

    /// Adds account `name` at `authority` (the simulator by default) and
    /// imports a fresh refresh token of `upn`.
    pub fn connect(&self, name: &str, upn: &str, authority: Option<&str>) {
        let authority = authority.unwrap_or(&self.sim.http_url).to_owned();
        self.ok(
            &[
                "add",
                name,
                "--authority",
                &authority,
                "--client-id",
                CLIENT_ID,
                "--scopes",
                SCOPE,
            ],
            "",
        );
        let grant = self.grant(upn);
        let refresh = grant["refresh_token"].as_str().expect("a refresh token");
        self.ok(&["import", name, "--refresh-token-stdin"], refresh);
    }

    /// The tokens the simulator issued (from its log we cannot get them, so
    /// tests add what they see; this adds what `reconnect token` returns).
    pub fn token(&self, name: &str) -> Result<String, String> {
        let out = self.run(&["token", name], "");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
        } else {
            Err(format!(
                "exit {:?}: {}",
                out.status.code(),
                messages(&out.stderr)
            ))
        }
    }

    /// `reconnect status NAME --json`, first entry.
    pub fn status(&self, name: &str) -> serde_json::Value {
        let text = self.ok(&["status", name, "--json"], "");
        let value: serde_json::Value = serde_json::from_str(&text).expect("status --json is JSON");
        match value {
            serde_json::Value::Array(mut list) if !list.is_empty() => list.remove(0),
            other => other,
        }
    }

    /// The profile's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.env
            .iter()
            .find(|(k, _)| k == "RECONNECT_HOME")
            .map_or_else(|| self.home.reconnect_home(), |(_, v)| PathBuf::from(v))
    }

    /// Notes the tokens the profile holds now (rotated by refreshes the
    /// test never saw) as secrets too.
    pub fn note_stored_tokens(&self) {
        let Ok(profile) = reconnect_store::Profile::open_at(
            reconnect_store::Home::at(self.data_dir()).expect("home"),
        ) else {
            return;
        };
        let accounts = profile.store().accounts().unwrap_or_default();
        let mut scanner = self.scanner.lock().expect("scanner");
        for account in accounts {
            if let Ok(Some(set)) = profile.load_tokens(account.id) {
                let name = &account.name;
                if let Some(t) = &set.access_token {
                    scanner.add(&format!("stored access token of {name}"), t.expose());
                }
                if let Some(t) = &set.refresh_token {
                    scanner.add(&format!("stored refresh token of {name}"), t.expose());
                }
                if let Some(t) = &set.id_token {
                    scanner.add(&format!("stored id_token of {name}"), t.expose());
                }
            }
        }
    }

    /// Scans the whole temp home and every kept output, for every secret
    /// seen plus the ones the profile holds now.
    pub fn scan(&self) -> ScanReport {
        self.note_stored_tokens();
        let scanner = self.scanner.lock().expect("scanner").clone();
        let mut report = scanner.scan_path(self.home.path()).expect("scan the home");
        for (what, bytes) in self.outputs.lock().expect("outputs").iter() {
            report.merge(scanner.scan_bytes(what, bytes));
            report.merge(token_shapes(what, bytes));
        }
        let shapes = token_shapes_under(self.home.path()).expect("scan the home for token shapes");
        report.findings.extend(shapes.findings);
        if self.data_dir() != self.home.reconnect_home() {
            report.merge(
                scanner
                    .scan_path(&self.data_dir())
                    .expect("scan the data dir"),
            );
            report.merge(token_shapes_under(&self.data_dir()).expect("scan the data dir"));
        }
        report
    }

    /// A browser script that follows the sign-in URL like a browser would
    /// (the simulator auto-approves), returning the `--browser` command.
    pub fn curl_browser(&self) -> String {
        let path = self.home.path().join("browser-follow.sh");
        std::fs::write(
            &path,
            "#!/bin/sh\nexec curl -sS -L --max-time 20 -o /dev/null \"$1\"\n",
        )
        .expect("write browser");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        path.display().to_string()
    }
}

/// The lines of a stderr that are not debug or trace logging.
pub fn messages(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| !l.contains("DEBUG") && !l.contains("TRACE"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The health state name from a status entry (`healthy`, `retrying`, …).
pub fn health(status: &serde_json::Value) -> String {
    let h = &status["health"];
    h["state"]
        .as_str()
        .or(h.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// `PRAGMA integrity_check` of the profile's database.
pub fn integrity(data_dir: &std::path::Path) -> String {
    let db = data_dir.join("reconnect.db");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("open {}: {e}", db.display()));
    conn.query_row("PRAGMA integrity_check", [], |row| row.get::<_, String>(0))
        .expect("integrity_check runs")
}

/// The names of a profile's keychain entries, as the Secret Service lists
/// them (via `secret-tool`, which prints attributes on stderr).
pub fn keychain_entries(data_dir: &std::path::Path) -> Vec<String> {
    let service = reconnect_store::Home::at(data_dir)
        .expect("home")
        .keychain_service();
    let out = Command::new("secret-tool")
        .args(["search", "--all", "--unlock", "service", &service])
        .stdin(Stdio::null())
        .output()
        .expect("secret-tool must be installed (libsecret-tools)");
    let mut names: Vec<String> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("attribute.username = ").map(str::to_owned))
        .collect();
    names.sort();
    names
}

/// One keychain entry's value (kept in memory only).
pub fn keychain_value(data_dir: &std::path::Path, name: &str) -> Option<String> {
    let service = reconnect_store::Home::at(data_dir)
        .expect("home")
        .keychain_service();
    let out = Command::new("secret-tool")
        .args(["lookup", "service", &service, "username", name])
        .stdin(Stdio::null())
        .output()
        .expect("secret-tool");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Keychain entries no account accounts for: after a clean write, only each
/// account's one set entry (or, for a set still stored in parts by an
/// earlier version, its manifest and current generation's parts) may exist,
/// and only for accounts that exist.
pub fn orphaned_entries(data_dir: &std::path::Path, account_ids: &[i64]) -> Vec<String> {
    let entries = keychain_entries(data_dir);
    let mut expected = std::collections::BTreeSet::new();
    for id in account_ids {
        let set = format!("{id}/set");
        if entries.contains(&set) {
            expected.insert(set);
        }
        let manifest_name = format!("{id}/manifest");
        if !entries.contains(&manifest_name) {
            continue;
        }
        let manifest = keychain_value(data_dir, &manifest_name).unwrap_or_default();
        expected.insert(manifest_name);
        let m: serde_json::Value = serde_json::from_str(&manifest).unwrap_or_default();
        if let (Some(g), Some(n)) = (m["cur"]["g"].as_u64(), m["cur"]["n"].as_u64()) {
            for i in 0..n {
                expected.insert(format!("{id}/g{g}/{i}"));
            }
        }
    }
    entries
        .into_iter()
        .filter(|k| !expected.contains(k))
        .collect()
}

/// The keychain entries of a profile right after a crash, sorted: the ones
/// no manifest knows of (`orphaned`: nothing would ever remove them), and
/// the ones a manifest lists as junk (`pending`: a write was cut short; the
/// account's next write erases them).
#[derive(Debug, Default)]
pub struct CrashLeftovers {
    /// Entries neither current nor listed as junk.
    pub orphaned: Vec<String>,
    /// Entries listed as junk, erased by the next write.
    pub pending: Vec<String>,
}

/// Sorts the entries [`orphaned_entries`] finds into truly orphaned ones and
/// ones a manifest still tracks as junk.
pub fn crash_leftovers(data_dir: &std::path::Path, account_ids: &[i64]) -> CrashLeftovers {
    let mut tracked = std::collections::BTreeSet::new();
    for id in account_ids {
        let Some(manifest) = keychain_value(data_dir, &format!("{id}/manifest")) else {
            continue;
        };
        let m: serde_json::Value = serde_json::from_str(&manifest).unwrap_or_default();
        for junk in m["junk"].as_array().into_iter().flatten() {
            if let (Some(g), Some(n)) = (junk["g"].as_u64(), junk["n"].as_u64()) {
                for i in 0..n {
                    tracked.insert(format!("{id}/g{g}/{i}"));
                }
            }
        }
    }
    let (pending, orphaned) = orphaned_entries(data_dir, account_ids)
        .into_iter()
        .partition(|e| tracked.contains(e));
    CrashLeftovers { orphaned, pending }
}

/// The ids of the profile's accounts, from the database.
pub fn account_ids(data_dir: &std::path::Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open_with_flags(
        data_dir.join("reconnect.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open db");
    let mut stmt = conn
        .prepare("SELECT id FROM accounts")
        .expect("accounts table");
    stmt.query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("ids")
}
