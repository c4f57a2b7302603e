//! Memory given back to the system after work on a big document.
//!
//! Opening, saving or merging a 10 MB resource allocates several times its size for a moment
//! (the texts, their tapes, the merge, the answer's JSON). glibc keeps what was freed in its
//! arenas — one per thread that allocated — so without help the process stays at its peak long
//! after the work is done (measured: the app process at 349 MB RSS with a 10 MB conflict view
//! open, of which a fraction was live). Two things fix that:
//! - big blocks are always mapped on their own (`M_MMAP_THRESHOLD` fixed at 256 KiB), so a
//!   document-sized buffer goes back to the system the moment it is freed — glibc otherwise
//!   raises the threshold to the largest block freed so far, and later 10 MB buffers then stay
//!   on the heap;
//! - a second after the async runtime last ran out of work (`trim_soon`, called by every worker
//!   thread as it parks: after every command, so none can forget it), `malloc_trim` returns the
//!   free pages of every arena. A window left alone wakes the runtime only for its 30-second
//!   staleness check, so it trims once per check.
//!
//! Elsewhere than glibc both are no-ops.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::sync::{Condvar, Mutex, OnceLock};
    use std::time::{Duration, Instant};

    /// When the trim is due (None: none wanted), and what wakes the trimming thread.
    static DUE: Mutex<Option<Instant>> = Mutex::new(None);
    static WAKE: Condvar = Condvar::new();
    static THREAD: OnceLock<()> = OnceLock::new();

    pub fn configure() {
        // SAFETY: mallopt only sets an allocator parameter; called once at start.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        }
    }

    pub fn trim_soon() {
        THREAD.get_or_init(|| {
            let _ = std::thread::Builder::new()
                .name("memory-trim".into())
                .spawn(run);
        });
        let mut due = DUE.lock().unwrap_or_else(|p| p.into_inner());
        // A thread already waiting for a deadline re-reads it when its wait ends, so moving
        // the deadline later needs no wake-up; only "none due" -> "due" does. (Workers park
        // thousands of times during a big download.)
        if due
            .replace(Instant::now() + Duration::from_secs(1))
            .is_none()
        {
            WAKE.notify_one();
        }
    }

    fn run() {
        let mut due = DUE.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            match *due {
                None => due = WAKE.wait(due).unwrap_or_else(|p| p.into_inner()),
                Some(t) if Instant::now() < t => {
                    due = WAKE
                        .wait_timeout(due, t - Instant::now())
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
                Some(_) => {
                    *due = None;
                    drop(due);
                    // SAFETY: malloc_trim only returns free memory to the system.
                    unsafe {
                        libc::malloc_trim(0);
                    }
                    due = DUE.lock().unwrap_or_else(|p| p.into_inner());
                }
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub fn configure() {}
    pub fn trim_soon() {}
}

/// Sets the allocator up to give big blocks back at once (call at start).
pub fn configure() {
    imp::configure();
}

/// Returns freed memory to the system a second after the last call (debounced: a burst of
/// calls trims once).
pub fn trim_soon() {
    imp::trim_soon();
}

/// The async runtime Tauri runs the commands on: Tauri's default (multi-threaded, with I/O and
/// timers), whose worker threads schedule a trim whenever they run out of work. Set it with
/// `tauri::async_runtime::set` before the app is built, and keep it for the process's life.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_park(trim_soon)
        .build()
}
