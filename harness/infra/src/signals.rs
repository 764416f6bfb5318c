//! How the harness ends early: on a signal, or when the reader of its output goes away.
//!
//! - SIGINT, SIGTERM, SIGHUP: the [`on_interrupt`] hooks run (newest first), then everything the
//!   [`reaper`](crate::reaper) holds is reaped, then the process exits with 128 + the signal number
//!   (130, 143, 129), the shell's convention.
//! - A closed stdout or stderr (`faultline run … | head`): the harness's own lines go through
//!   [`crate::console`], which drops them, and the run goes on to its verdict's exit code. Rust
//!   ignores SIGPIPE, so a `println!` elsewhere (a dependency) would panic on EPIPE: the panic hook
//!   installed here turns that panic into the same sequence as a signal, ending with SIGPIPE's
//!   default action, as any C tool would end, rather than exit 101 with a panic message.
//!
//! The signal handler itself only writes the signal number into a pipe (async-signal-safe); a
//! dedicated thread reads it and does the work. Meanwhile a path that would end the process first
//! (with an error's exit code) calls [`defer_to_interrupt`], so the interrupt's code wins.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use crate::reaper::{close, registered, sweep_until_settled};

/// Why the harness is ending early, given to the [`on_interrupt`] hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupt {
    /// SIGINT, SIGTERM, SIGHUP, or SIGPIPE for a closed output.
    pub signal: i32,
    /// The process's exit status: 128 + `signal`.
    pub exit_code: i32,
}

impl Interrupt {
    fn new(signal: i32) -> Self {
        Self {
            signal,
            exit_code: 128 + signal,
        }
    }

    /// "SIGINT", "SIGTERM", ...
    pub fn name(&self) -> &'static str {
        match self.signal {
            libc::SIGINT => "SIGINT",
            libc::SIGTERM => "SIGTERM",
            libc::SIGHUP => "SIGHUP",
            libc::SIGPIPE => "SIGPIPE",
            _ => "a signal",
        }
    }
}

type Hook = Arc<dyn Fn(&Interrupt) + Send + Sync>;

fn hooks() -> &'static Mutex<BTreeMap<u64, Hook>> {
    static HOOKS: OnceLock<Mutex<BTreeMap<u64, Hook>>> = OnceLock::new();
    HOOKS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// A registered hook; dropping it unregisters the hook.
#[must_use = "the hook is unregistered when this is dropped"]
#[derive(Debug)]
pub struct InterruptHook(u64);

impl Drop for InterruptHook {
    fn drop(&mut self) {
        if let Ok(mut h) = hooks().lock() {
            h.remove(&self.0);
        }
    }
}

/// Registers `hook` to run when the harness is interrupted, before anything is reaped (so the
/// stack is still up) and before the process exits (so, e.g., a runner can write an `interrupted`
/// verdict into its reports). Hooks run newest first on the signal thread while the rest of the
/// program keeps running: keep them short and do not wait on locks the interrupted code may hold.
/// A panicking hook is reported and the remaining ones still run.
pub fn on_interrupt(hook: impl Fn(&Interrupt) + Send + Sync + 'static) -> InterruptHook {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let key = NEXT.fetch_add(1, Ordering::Relaxed);
    hooks()
        .lock()
        .expect("interrupt hooks poisoned")
        .insert(key, Arc::new(hook));
    InterruptHook(key)
}

/// Set when an interrupt starts being handled; the handling thread then ends the process.
static ENDING_EARLY: AtomicBool = AtomicBool::new(false);

/// For a path that is about to end the process another way (an error's exit code, a panic): if an
/// interrupt is being handled, waits for it to end the process with its own exit code. The reaping
/// makes what was starting fail (a container removed under a stack's start), and that failure must
/// not end the process first with exit 2 or 101. Returns at once when no interrupt is under way.
pub fn defer_to_interrupt() {
    if ENDING_EARLY.load(Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
}

/// Runs the hooks, reaps everything, and ends the process as `interrupt` says.
fn end(interrupt: Interrupt) -> ! {
    ENDING_EARLY.store(true, Ordering::SeqCst);
    // A second cause (a signal during a broken-pipe exit) waits here for the first to exit.
    static ENDING: Mutex<()> = Mutex::new(());
    std::mem::forget(ENDING.lock());
    let resources = registered().len();
    // A closed output with nothing running ends quietly, like `yes | head`.
    if interrupt.signal != libc::SIGPIPE || resources > 0 {
        // stderr may be the closed pipe itself: a failed write must not panic here.
        let _ = writeln!(
            std::io::stderr(),
            "faultline: {}; cleaning up {resources} resource(s)",
            interrupt.name(),
        );
    }
    let to_run: Vec<Hook> = hooks()
        .lock()
        .map(|h| h.values().rev().cloned().collect())
        .unwrap_or_default();
    for hook in to_run {
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(&interrupt))).is_err() {
            let _ = writeln!(std::io::stderr(), "faultline: an interrupt hook panicked");
        }
    }
    // The runtime's tasks go on while this thread reaps: one still starting the stack may create a
    // directory or a process now, or write into a directory just removed. Closed, the registry
    // reaps what is registered from now on, and the sweep repeats until a round finds nothing.
    close();
    sweep_until_settled(std::time::Duration::from_millis(200), 10);
    if interrupt.signal == libc::SIGPIPE {
        // SAFETY: restoring the default action and raising it ends the process as a C tool ends.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
    }
    std::process::exit(interrupt.exit_code)
}

/// Write end of the signal pipe, for the handler.
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(signal: libc::c_int) {
    let byte = signal as u8;
    // SAFETY: write(2) is async-signal-safe; a full pipe only drops a repeated signal.
    unsafe {
        libc::write(
            PIPE_WRITE.load(Ordering::Relaxed),
            (&byte as *const u8).cast(),
            1,
        )
    };
}

/// Installs the SIGINT/SIGTERM/SIGHUP handlers and the closed-output panic hook. Safe to call
/// repeatedly; a failure is logged (the harness still runs, it just cannot clean up on a signal).
pub fn install_signal_handlers() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if let Err(e) = install() {
            tracing::warn!("could not install the signal handlers: {e}");
        }
        install_broken_pipe_hook();
    });
}

fn install() -> std::io::Result<()> {
    let mut fds = [0; 2];
    // SAFETY: pipe2(2) fills the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let read_fd = fds[0];
    PIPE_WRITE.store(fds[1], Ordering::Relaxed);
    std::thread::Builder::new()
        .name("faultline-signals".into())
        .spawn(move || loop {
            let mut byte = 0u8;
            // SAFETY: read(2) of one byte into a local.
            match unsafe { libc::read(read_fd, (&mut byte as *mut u8).cast(), 1) } {
                1 => end(Interrupt::new(i32::from(byte))),
                _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
                _ => {
                    tracing::warn!(
                        "signal pipe failed: {}; signals no longer clean up",
                        std::io::Error::last_os_error()
                    );
                    return;
                }
            }
        })?;
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: a zeroed sigaction with our handler, an empty mask and SA_RESTART is valid.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(signal, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

/// True for std's panic when printing to a closed stdout or stderr.
fn is_broken_pipe(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    message.starts_with("failed printing to std")
        && message.ends_with(&format!("(os error {})", libc::EPIPE))
}

fn install_broken_pipe_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if is_broken_pipe(info) {
            end(Interrupt::new(libc::SIGPIPE));
        }
        previous(info)
    }));
}
