//! An `on_event` program's process group: the program starts a group of its
//! own, so a timeout stops it with everything it started (`sh -c 'sleep
//! 600 &'` included), not just the program itself. Where process groups do
//! not exist (Windows), the program itself is killed.

/// Makes the program lead a new process group when it starts.
pub(super) fn own_group(command: &mut tokio::process::Command) {
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(not(unix))]
    let _ = command;
}

/// The running program's group, killed when dropped unless released.
#[derive(Debug)]
pub(super) struct Group {
    #[cfg_attr(not(unix), allow(dead_code))]
    leader: Option<u32>,
}

impl Group {
    /// The group `child` leads (see [`own_group`]).
    pub(super) fn of(child: &tokio::process::Child) -> Self {
        Self { leader: child.id() }
    }

    /// The program ended by itself: whatever it left running may stay.
    pub(super) fn release(mut self) {
        self.leader = None;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self
            .leader
            .and_then(|p| i32::try_from(p).ok())
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
}
