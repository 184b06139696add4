//! One keeper per data directory: the app runs the scheduler (keep-alive
//! refreshes, retries, forecasts) of the profile it opens only while it holds
//! that profile's keeper lock ([`reconnect_store::KeeperLock`]). When another
//! process keeps the profile (`reconnect keep`, or the app started on the same
//! data by other means), the app says so, runs no scheduler of its own and
//! looks again every [`LOOK_AGAIN`], taking over once the other keeper is
//! gone. Everything on demand (the list, "Refresh now", reconnect) works
//! either way: that goes through the engine, not the scheduler.
//!
//! While it keeps a profile, the app also runs the profile's `on_event`
//! program for the engine's events, as `reconnect keep` does.
//!
//! The lock is released with the profile: switching to another profile drops
//! the old backend, which ends its keeping task and with it the lock.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reconnect_engine::on_event::{EventHook, HookRunner};
use reconnect_store::{Home, Keeper, KeeperError, KeeperKind, KeeperLock};
use tauri::AppHandle;

use crate::backend::Backend;

/// How often a profile kept by another process is looked at again.
pub const LOOK_AGAIN: Duration = Duration::from_secs(3);

/// Who keeps the open profile, as far as this app knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeping {
    /// Not decided yet (the profile is opening).
    Undecided,
    /// This app: it runs the scheduler.
    Ours,
    /// Another process, named by its lock file.
    Elsewhere(Keeper),
    /// The lock could not be used (the data directory refused it); the app
    /// then runs no scheduler rather than risk a second one.
    Failed,
}

/// The keeper lock of one open profile and what it says.
#[derive(Debug)]
pub struct KeeperSlot {
    lock: Mutex<Option<KeeperLock>>,
    state: Mutex<Keeping>,
}

impl Default for KeeperSlot {
    fn default() -> Self {
        Self {
            lock: Mutex::new(None),
            state: Mutex::new(Keeping::Undecided),
        }
    }
}

impl KeeperSlot {
    /// Who keeps the profile now.
    pub fn keeping(&self) -> Keeping {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether this app keeps the profile (and so runs its scheduler).
    pub fn keeps(&self) -> bool {
        self.keeping() == Keeping::Ours
    }

    /// Tries to take the lock of `home`; returns who keeps it afterwards
    /// and whether that changed.
    fn try_take(&self, home: &Home) -> (Keeping, bool) {
        let mut lock = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
        let now = if lock.is_some() {
            Keeping::Ours
        } else {
            match KeeperLock::acquire(home, KeeperKind::App) {
                Ok(taken) => {
                    *lock = Some(taken);
                    Keeping::Ours
                }
                // This process's previous backend of the same profile
                // (switched to it again): it lets go as it closes.
                Err(KeeperError::Held(keeper)) if is_this_app(keeper) => Keeping::Undecided,
                Err(KeeperError::Held(keeper)) => Keeping::Elsewhere(keeper),
                Err(err @ KeeperError::Io { .. }) => {
                    tracing::warn!("the keeper lock could not be used: {err}");
                    Keeping::Failed
                }
            }
        };
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let changed = *state != now;
        *state = now;
        (now, changed)
    }
}

/// How long `on_event` programs still running when the profile closes may
/// go on before they are stopped.
const HOOK_GRACE: Duration = Duration::from_secs(1);

/// The profile's `on_event` program, if its `config.toml` names one (a file
/// that cannot be read is logged, and no program runs).
fn hook_for(home: &Home) -> Option<EventHook> {
    match reconnect_store::ProfileConfig::load(home) {
        Ok(config) => EventHook::from_config(&config),
        Err(err) => {
            tracing::warn!("on_event is not run: {err}");
            None
        }
    }
}

/// Whether `keeper` is this very app (a backend of the same profile that is
/// closing).
fn is_this_app(keeper: Keeper) -> bool {
    keeper.kind == Some(KeeperKind::App) && keeper.pid == Some(std::process::id())
}

/// What the window and the tray say about who keeps the profile, when it
/// is not this app.
pub fn note(keeping: Keeping) -> Option<String> {
    match keeping {
        Keeping::Undecided | Keeping::Ours => None,
        Keeping::Elsewhere(keeper) => Some(format!(
            "Kept by {keeper}: it runs the scheduled refreshes, so this app runs none."
        )),
        Keeping::Failed => {
            Some("No scheduled refreshes: the profile's keeper lock could not be used.".to_owned())
        }
    }
}

/// Keeps `backend`'s profile while it is open: takes the keeper lock and runs
/// the engine's scheduler, or, while another process keeps it, looks again
/// every [`LOOK_AGAIN`]. Every change of keeper updates the window and tray.
pub fn keep(app: &AppHandle, backend: &Backend) {
    let slot = Arc::clone(&backend.keeper);
    let home = backend.data.home().clone();
    let engine = backend.engine.clone();
    let closed = backend.closed();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        tokio::pin!(closed);
        loop {
            let (keeping, changed) = slot.try_take(&home);
            if changed {
                crate::commands::accounts_changed(&app);
            }
            if keeping == Keeping::Ours {
                // The keeper runs the profile's `on_event` program too.
                let hooks = hook_for(&home).map(|hook| HookRunner::start(&engine, hook));
                engine.run_scheduler(&mut closed).await;
                if let Some(hooks) = hooks {
                    hooks.finish(Some(HOOK_GRACE)).await;
                }
                break;
            }
            tokio::select! {
                () = tokio::time::sleep(LOOK_AGAIN) => {}
                () = &mut closed => break,
            }
        }
        // Dropping the slot's last handle releases the lock.
        drop(slot);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_kept_elsewhere_is_taken_over_once_the_keeper_is_gone() {
        let dir = tempfile_dir();
        let home = Home::at(&dir).expect("home");
        let other = KeeperLock::acquire(&home, KeeperKind::Keep).expect("the other keeper");
        let slot = KeeperSlot::default();
        assert_eq!(slot.keeping(), Keeping::Undecided);
        let (keeping, changed) = slot.try_take(&home);
        assert!(changed);
        let Keeping::Elsewhere(keeper) = keeping else {
            panic!("the other keeper must be named: {keeping:?}");
        };
        assert_eq!(keeper.kind, Some(KeeperKind::Keep));
        assert_eq!(keeper.pid, Some(std::process::id()));
        assert!(!slot.keeps());
        assert_eq!(slot.try_take(&home), (keeping, false), "nothing changed");
        drop(other);
        assert_eq!(slot.try_take(&home), (Keeping::Ours, true));
        assert!(slot.keeps());
        let holder = KeeperLock::holder(&home).expect("holder").expect("held");
        assert_eq!(holder.kind, Some(KeeperKind::App));
        // The same profile opened again in this app waits for the old one.
        let again = KeeperSlot::default();
        assert_eq!(again.try_take(&home), (Keeping::Undecided, false));
        drop(slot);
        assert_eq!(again.try_take(&home), (Keeping::Ours, true));
        drop(again);
        assert_eq!(KeeperLock::holder(&home).expect("holder"), None);
        let _ = std::fs::remove_dir_all(dir);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "reconnect-app-keeper-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }
}
