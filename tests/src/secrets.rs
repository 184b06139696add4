//! The secrets scanner: proves that nothing a run left behind holds a secret
//! it saw.
//!
//! A test collects the secrets it met (tokens from the simulator's
//! `/_sim/grants` answers, authorization codes, PKCE verifiers, client
//! secrets) into a [`SecretScanner`], then scans what the run left: data
//! directories (SQLite files, WAL and journal included), logs, the captured
//! stdout and stderr of every process, screenshots (their bytes, so any text
//! chunk too). Findings name the secret's label and where it was found, never
//! the secret itself, so a failing scan does not leak what it looked for.
//!
//! ```no_run
//! use reconnect_e2e::secrets::SecretScanner;
//! let mut scanner = SecretScanner::new();
//! scanner.add("refresh_token", "0.ARoA-very-long-refresh-token");
//! let report = scanner.scan_path(std::path::Path::new("/tmp/run")).expect("readable");
//! report.assert_clean("after the sign-in");
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Shorter values are not looked for: they would match by chance.
pub const MIN_SECRET_LEN: usize = 12;

/// Files larger than this are scanned only up to this many bytes.
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// One form of one secret to look for.
#[derive(Clone)]
struct Needle {
    label: String,
    bytes: Vec<u8>,
}

/// Where a secret turned up. Holds no secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What the secret was (`refresh_token of alice`, `pkce verifier`…).
    pub label: String,
    /// The file, or the name of the stream, that held it.
    pub origin: String,
    /// Byte offset of the first match.
    pub offset: usize,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} found in {} at byte {}",
            self.label, self.origin, self.offset
        )
    }
}

/// What a scan covered and found.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// Files and streams read.
    pub sources: usize,
    /// Bytes read.
    pub bytes: u64,
    /// Distinct secrets looked for.
    pub secrets: usize,
    /// Every place a secret was found.
    pub findings: Vec<Finding>,
}

impl ScanReport {
    /// Adds another report's counts and findings.
    pub fn merge(&mut self, other: ScanReport) {
        self.sources += other.sources;
        self.bytes += other.bytes;
        self.secrets = self.secrets.max(other.secrets);
        self.findings.extend(other.findings);
    }

    /// One line for the test log: what was scanned and what was found.
    pub fn summary(&self, what: &str) -> String {
        let looked_for = if self.secrets == 0 {
            "token-shaped text looked for".to_owned()
        } else {
            format!("{} secrets and token-shaped text looked for", self.secrets)
        };
        format!(
            "secret scan ({what}): {looked_for} in {} sources ({} bytes), {} found",
            self.sources,
            self.bytes,
            self.findings.len()
        )
    }

    /// Prints the summary and panics, naming each finding, if anything was found.
    pub fn assert_clean(&self, what: &str) {
        announce(&self.summary(what));
        assert!(
            self.findings.is_empty(),
            "secrets leaked {what}:\n{}",
            self.findings
                .iter()
                .map(|f| format!("  - {f}"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// Writes a line straight to the test process's stderr, past the test
/// harness's output capture, so CI logs show what each suite tried.
pub fn announce(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "[security] {line}");
}

/// The secrets to look for, in every form they could be written in.
#[derive(Clone, Default)]
pub struct SecretScanner {
    needles: Vec<Needle>,
    secrets: usize,
}

impl std::fmt::Debug for SecretScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretScanner")
            .field("secrets", &self.secrets)
            .field("labels", &self.labels())
            .finish()
    }
}

impl SecretScanner {
    /// An empty scanner.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many distinct secrets are looked for.
    pub fn len(&self) -> usize {
        self.secrets
    }

    /// Whether no secret was added.
    pub fn is_empty(&self) -> bool {
        self.secrets == 0
    }

    fn labels(&self) -> Vec<&str> {
        let mut labels: Vec<&str> = self.needles.iter().map(|n| n.label.as_str()).collect();
        labels.dedup();
        labels
    }

    /// Looks for `value` as is, percent-encoded and JSON-escaped. For a JWT,
    /// its signature alone is looked for too (a cut-off token still leaks).
    /// Values shorter than [`MIN_SECRET_LEN`] are ignored.
    pub fn add(&mut self, label: &str, value: &str) {
        if value.len() < MIN_SECRET_LEN || self.needles.iter().any(|n| n.bytes == value.as_bytes())
        {
            return;
        }
        self.secrets += 1;
        let mut forms = vec![value.to_owned()];
        let encoded: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
        forms.push(encoded);
        let json = serde_json::Value::from(value).to_string();
        forms.push(json.trim_matches('"').to_owned());
        let parts: Vec<&str> = value.split('.').collect();
        if parts.len() == 3 && parts[2].len() >= MIN_SECRET_LEN {
            forms.push(parts[2].to_owned());
        }
        forms.sort();
        forms.dedup();
        for form in forms {
            self.needles.push(Needle {
                label: label.to_owned(),
                bytes: form.into_bytes(),
            });
        }
    }

    /// Adds every secret in a token-endpoint or `/_sim/grants` answer
    /// (`access_token`, `refresh_token`, `id_token`), labelled with `whose`.
    pub fn add_token_response(&mut self, whose: &str, body: &serde_json::Value) {
        for key in ["access_token", "refresh_token", "id_token"] {
            if let Some(value) = body.get(key).and_then(serde_json::Value::as_str) {
                self.add(&format!("{key} of {whose}"), value);
            }
        }
    }

    /// Scans bytes from one source (a captured stream, a payload).
    pub fn scan_bytes(&self, origin: &str, bytes: &[u8]) -> ScanReport {
        let mut findings = Vec::new();
        for needle in &self.needles {
            if findings.iter().any(|f: &Finding| f.label == needle.label) {
                continue;
            }
            if let Some(offset) = find(bytes, &needle.bytes) {
                findings.push(Finding {
                    label: needle.label.clone(),
                    origin: origin.to_owned(),
                    offset,
                });
            }
        }
        ScanReport {
            sources: 1,
            bytes: bytes.len() as u64,
            secrets: self.secrets,
            findings,
        }
    }

    /// Scans a file, or every file under a directory (symlinks not followed).
    pub fn scan_path(&self, path: &Path) -> std::io::Result<ScanReport> {
        let mut report = ScanReport {
            secrets: self.secrets,
            ..ScanReport::default()
        };
        for file in files_under(path)? {
            let bytes = read_capped(&file)?;
            report.merge(self.scan_bytes(&file.display().to_string(), &bytes));
        }
        Ok(report)
    }

    /// Scans several paths; missing ones are skipped.
    pub fn scan_paths<'a>(
        &self,
        paths: impl IntoIterator<Item = &'a Path>,
    ) -> std::io::Result<ScanReport> {
        let mut report = ScanReport {
            secrets: self.secrets,
            ..ScanReport::default()
        };
        for path in paths {
            if path.exists() {
                report.merge(self.scan_path(path)?);
            }
        }
        Ok(report)
    }
}

/// Finds signed-JWT-shaped text (`eyJ…` header, `eyJ…` payload, a signature
/// of at least 20 base64url characters): every token the simulator and
/// Microsoft issue looks like this, so an artefact holding one leaks a token
/// even when the test did not see that token itself.
pub fn token_shapes(origin: &str, bytes: &[u8]) -> ScanReport {
    let b64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let run = |from: usize| bytes[from..].iter().take_while(|b| b64url(**b)).count();
    let mut findings = Vec::new();
    let mut at = 0;
    while let Some(rel) = find(&bytes[at..], b"eyJ") {
        let start = at + rel;
        let header = run(start);
        let dot1 = start + header;
        let shaped = header >= 10
            && bytes.get(dot1) == Some(&b'.')
            && bytes[dot1 + 1..].starts_with(b"eyJ")
            && {
                let payload = run(dot1 + 1);
                let dot2 = dot1 + 1 + payload;
                payload >= 10 && bytes.get(dot2) == Some(&b'.') && run(dot2 + 1) >= 20
            };
        if shaped {
            findings.push(Finding {
                label: "a signed JWT (token-shaped text)".into(),
                origin: origin.to_owned(),
                offset: start,
            });
            break;
        }
        at = start + 3;
    }
    ScanReport {
        sources: 1,
        bytes: bytes.len() as u64,
        secrets: 0,
        findings,
    }
}

/// [`token_shapes`] over every file under `path` (missing paths are skipped).
pub fn token_shapes_under(path: &Path) -> std::io::Result<ScanReport> {
    let mut report = ScanReport::default();
    if !path.exists() {
        return Ok(report);
    }
    for file in files_under(path)? {
        report.merge(token_shapes(
            &file.display().to_string(),
            &read_capped(&file)?,
        ));
    }
    Ok(report)
}

fn read_capped(file: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(file)?
        .take(MAX_FILE_BYTES)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn files_under(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    if meta.is_dir() {
        let mut pending = vec![path.to_path_buf()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                let kind = entry.file_type()?;
                if kind.is_dir() {
                    pending.push(entry.path());
                } else if kind.is_file() {
                    out.push(entry.path());
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return None;
    }
    let first = needle[0];
    let last_start = haystack.len() - needle.len();
    let mut at = 0;
    while at <= last_start {
        let rel = haystack[at..=last_start].iter().position(|b| *b == first)?;
        at += rel;
        if haystack[at..at + needle.len()] == *needle {
            return Some(at);
        }
        at += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";

    #[test]
    fn finds_a_secret_as_is_and_names_only_its_label() {
        let mut s = SecretScanner::new();
        s.add("access_token of alice", TOKEN);
        let report = s.scan_bytes(
            "stdout of reconnect",
            format!("token: {TOKEN}\n").as_bytes(),
        );
        assert_eq!(report.findings.len(), 1);
        let shown = report.findings[0].to_string();
        assert!(shown.contains("access_token of alice") && shown.contains("stdout of reconnect"));
        assert!(
            !shown.contains(TOKEN),
            "a finding must not repeat the secret"
        );
    }

    #[test]
    fn finds_encoded_and_cut_off_forms() {
        let mut s = SecretScanner::new();
        s.add("refresh_token", "0.AR/oA+secret=value&more");
        let encoded: String =
            url::form_urlencoded::byte_serialize(b"0.AR/oA+secret=value&more").collect();
        assert_eq!(s.scan_bytes("form", encoded.as_bytes()).findings.len(), 1);
        let mut s = SecretScanner::new();
        s.add("id_token", TOKEN);
        let cut = TOKEN.rsplit('.').next().expect("signature");
        assert_eq!(
            s.scan_bytes("log", format!("sig={cut}").as_bytes())
                .findings
                .len(),
            1
        );
        let quoted = "{\"t\":\"a\\\"b-secret-with-quote\"}";
        let mut s = SecretScanner::new();
        s.add("verifier", "a\"b-secret-with-quote");
        assert_eq!(s.scan_bytes("json", quoted.as_bytes()).findings.len(), 1);
    }

    #[test]
    fn clean_text_and_short_values_give_no_findings() {
        let mut s = SecretScanner::new();
        s.add("short", "abc");
        s.add("access_token", TOKEN);
        assert_eq!(s.len(), 1);
        let report = s.scan_bytes("log", b"abc refreshed alice; expires in 3600 s");
        assert!(report.findings.is_empty());
    }

    #[test]
    fn token_shaped_text_is_found_and_prose_is_not() {
        assert_eq!(
            token_shapes("log", format!("Bearer {TOKEN}x").as_bytes())
                .findings
                .len(),
            1
        );
        assert!(
            token_shapes("log", b"eyJ alone, eyJhbGciOiJSUzI1NiJ9 and a.b.c")
                .findings
                .is_empty()
        );
        let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.";
        assert!(token_shapes("log", unsigned.as_bytes()).findings.is_empty());
    }

    #[test]
    fn scans_every_file_under_a_directory() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("a/b")).expect("mkdir");
        std::fs::write(dir.path().join("a/clean.log"), "nothing here").expect("write");
        std::fs::write(
            dir.path().join("a/b/db.sqlite-wal"),
            format!("\0\0{TOKEN}\0"),
        )
        .expect("write");
        let mut s = SecretScanner::new();
        s.add_token_response(
            "bob",
            &serde_json::json!({"access_token": TOKEN, "expires_in": 3600}),
        );
        let report = s.scan_path(dir.path()).expect("scan");
        assert_eq!(report.sources, 2);
        assert_eq!(report.findings.len(), 1);
        assert!(report.findings[0].origin.ends_with("db.sqlite-wal"));
        assert_eq!(report.findings[0].label, "access_token of bob");
    }
}
