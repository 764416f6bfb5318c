//! The harness's own lines on stdout and stderr, written so that a reader going away
//! (`faultline … | head`) never ends the run: the stream is marked closed, later lines to it are
//! dropped, and the process goes on to its verdict and exits with that verdict's code.
//!
//! std's `println!`/`eprintln!` panic on a failed write (Rust ignores SIGPIPE, so a closed pipe is
//! an `EPIPE` error); the [`outln!`](crate::outln), [`out!`](crate::out) and
//! [`errln!`](crate::errln) macros go through [`write_out`] and [`write_err`] instead. A write
//! that fails for another reason (a full disk behind a redirect) is reported once on the other
//! stream, then that stream is treated as closed too.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Which stream a line goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stream {
    Out,
    Err,
}

impl Stream {
    fn closed(self) -> &'static AtomicBool {
        match self {
            Stream::Out => &STDOUT_CLOSED,
            Stream::Err => &STDERR_CLOSED,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stream::Out => "stdout",
            Stream::Err => "stderr",
        }
    }
}

fn write(stream: Stream, args: std::fmt::Arguments<'_>) {
    if stream.closed().load(Ordering::Relaxed) {
        return;
    }
    let result = match stream {
        Stream::Out => {
            let mut out = std::io::stdout().lock();
            out.write_fmt(args).and_then(|()| out.flush())
        }
        Stream::Err => std::io::stderr().lock().write_fmt(args),
    };
    if let Err(e) = result {
        if !stream.closed().swap(true, Ordering::Relaxed)
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            let other = match stream {
                Stream::Out => Stream::Err,
                Stream::Err => Stream::Out,
            };
            write(
                other,
                format_args!(
                    "faultline: writing to {} failed ({e}); its output is dropped from here on\n",
                    stream.name()
                ),
            );
        }
    }
}

/// Writes to stdout; a closed stdout drops the text without failing.
pub fn write_out(args: std::fmt::Arguments<'_>) {
    write(Stream::Out, args)
}

/// Writes to stderr; a closed stderr drops the text without failing.
pub fn write_err(args: std::fmt::Arguments<'_>) {
    write(Stream::Err, args)
}

/// True once a write to stdout has failed (the reader went away).
pub fn stdout_closed() -> bool {
    STDOUT_CLOSED.load(Ordering::Relaxed)
}

/// `println!` that survives a closed stdout (see [`crate::console`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::console::write_out(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::console::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` that survives a closed stdout (see [`crate::console`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::console::write_out(format_args!($($arg)*)) };
}

/// `eprintln!` that survives a closed stderr (see [`crate::console`]).
#[macro_export]
macro_rules! errln {
    () => { $crate::console::write_err(format_args!("\n")) };
    ($($arg:tt)*) => {
        $crate::console::write_err(format_args!("{}\n", format_args!($($arg)*)))
    };
}
