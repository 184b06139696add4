//! The database under a full disk and a read-only data directory: every
//! command that must write fails with a clear error (no panic, no hang),
//! nothing already stored is lost, the database stays intact, and all works
//! again once there is room (or write access) again.
//!
//! The data directory is a tiny tmpfs mounted for the test (the suite runs
//! as root in CI); a full disk is a filler file that takes the last byte, a
//! read-only directory is the same mount remounted `ro`. Where mounting is
//! not allowed, the test says so and checks the read-only case with
//! `chattr +i` instead.

mod security_support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use reconnect_e2e::secrets::announce;
use security_support::{World, health, integrity, messages};

/// A tmpfs mounted for the test; unmounted on drop.
struct Tmpfs {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("data");
        std::fs::create_dir_all(&path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&path)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
        }
        Ok(Self { path, _dir: dir })
    }

    fn remount(&self, mode: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.path)
            .output()
            .expect("mount");
        assert!(
            out.status.success(),
            "remount {mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fills the file system holding `dir` to the last byte.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write as _;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let mut byte = [0u8; 1];
    while file.write_all(&byte).is_ok() {
        byte[0] = 1;
    }
    let _ = file.sync_all();
    path
}

/// A failure that is clean: an exit code (no signal), no panic, and a
/// message that names the storage problem.
fn clean_storage_failure(out: &Output, what: &str) -> String {
    let said = messages(&out.stderr);
    let code = out.status.code();
    assert!(
        code.is_some(),
        "`{what}` died from a signal: {:?}",
        out.status
    );
    assert_ne!(code, Some(101), "`{what}` panicked: {said}");
    assert_ne!(code, Some(0), "`{what}` claimed success: {said}");
    assert!(!said.contains("panicked"), "`{what}` panicked: {said}");
    let lower = said.to_lowercase();
    assert!(
        [
            "full",
            "space",
            "read-only",
            "readonly",
            "database",
            "disk",
            "permission",
            "write"
        ]
        .iter()
        .any(|w| lower.contains(w)),
        "`{what}` does not say what went wrong with the storage: {said}"
    );
    said.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// What must survive: the accounts list and a working connection.
fn still_there(world: &World, when: &str) {
    let list = world.ok(&["accounts", "--json"], "");
    let list: serde_json::Value = serde_json::from_str(&list).expect("accounts --json");
    let names: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["alice"], "{when}: the stored accounts changed");
    let token = world
        .token("alice")
        .unwrap_or_else(|e| panic!("{when}: the connection is lost: {e}"));
    assert!(!token.is_empty());
    let state = health(&world.status("alice"));
    assert!(
        !["reconnect_needed", "needs_admin", "app_misconfigured"].contains(&state.as_str()),
        "{when}: {state}"
    );
    let check = integrity(&world.data_dir());
    assert_eq!(check, "ok", "{when}: PRAGMA integrity_check: {check}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_or_read_only_data_dir_gives_a_clear_error_and_loses_nothing() {
    let mut world = World::start().await;
    let tmpfs = Tmpfs::mount("4m");
    let data_dir = match &tmpfs {
        Ok(t) => t.path.clone(),
        Err(why) => {
            announce(&format!(
                "disk: cannot mount a tmpfs here ({why}); using chattr +i for the read-only case only"
            ));
            world.data_dir()
        }
    };
    world
        .env
        .push(("RECONNECT_HOME".into(), data_dir.display().to_string()));
    tokio::task::block_in_place(|| {
        world.connect("alice", "alice@contoso.test", None);
        world.ok(&["refresh", "alice"], "");
    });
    assert_eq!(world.data_dir(), data_dir);
    let mut cases = Vec::new();

    if let Ok(fs) = &tmpfs {
        let filler = fill(&fs.path);
        let refresh =
            tokio::task::block_in_place(|| world.run(&["refresh", "alice", "--force"], ""));
        let refresh_note = if refresh.status.success() {
            "refresh succeeded (nothing needed writing)".to_owned()
        } else {
            format!(
                "refresh: \"{}\"",
                clean_storage_failure(&refresh, "refresh alice (disk full)")
            )
        };
        let add = tokio::task::block_in_place(|| {
            world.run(
                &[
                    "add",
                    "bob",
                    "--authority",
                    &world.sim.http_url,
                    "--client-id",
                    security_support::CLIENT_ID,
                ],
                "",
            )
        });
        let said = clean_storage_failure(&add, "add bob (disk full)");
        cases.push(format!("disk full: {refresh_note}; add: \"{said}\""));
        std::fs::remove_file(filler).expect("free the space");
        tokio::task::block_in_place(|| still_there(&world, "after the disk was full"));

        fs.remount("ro");
        let refresh =
            tokio::task::block_in_place(|| world.run(&["refresh", "alice", "--force"], ""));
        let add = tokio::task::block_in_place(|| {
            world.run(
                &[
                    "add",
                    "bob",
                    "--authority",
                    &world.sim.http_url,
                    "--client-id",
                    security_support::CLIENT_ID,
                ],
                "",
            )
        });
        let said = clean_storage_failure(&add, "add bob (read-only)");
        let refresh_note = if refresh.status.success() {
            "refresh succeeded".to_owned()
        } else {
            format!(
                "refresh: \"{}\"",
                clean_storage_failure(&refresh, "refresh alice (read-only)")
            )
        };
        cases.push(format!("read-only: {refresh_note}; add: \"{said}\""));
        fs.remount("rw");
        tokio::task::block_in_place(|| still_there(&world, "after the data dir was read-only"));
    }

    if tmpfs.is_err() {
        // No mount here: make the data dir and its files immutable instead.
        let chattr = |flag: &str| {
            Command::new("chattr")
                .args(["-R", flag])
                .arg(&data_dir)
                .output()
        };
        match chattr("+i") {
            Ok(out) if out.status.success() => {
                let add = tokio::task::block_in_place(|| {
                    world.run(
                        &[
                            "add",
                            "bob",
                            "--authority",
                            &world.sim.http_url,
                            "--client-id",
                            security_support::CLIENT_ID,
                        ],
                        "",
                    )
                });
                let refresh =
                    tokio::task::block_in_place(|| world.run(&["refresh", "alice", "--force"], ""));
                let _ = chattr("-i");
                let said = clean_storage_failure(&add, "add bob (immutable data dir)");
                let refresh_note = if refresh.status.success() {
                    "refresh succeeded".to_owned()
                } else {
                    format!(
                        "refresh: \"{}\"",
                        clean_storage_failure(&refresh, "refresh alice (immutable data dir)")
                    )
                };
                cases.push(format!(
                    "read-only (chattr): {refresh_note}; add: \"{said}\""
                ));
                tokio::task::block_in_place(|| {
                    still_there(&world, "after the data dir was immutable")
                });
            }
            other => announce(&format!(
                "disk: SKIPPED, neither mount nor chattr works here: {other:?}"
            )),
        }
    }

    announce(&format!(
        "disk: {}/{} storage failures clear, nothing lost, integrity_check ok: {}",
        cases.len(),
        cases.len(),
        cases.join("; ")
    ));
    world.scan().assert_clean("after the disk cases");
}
