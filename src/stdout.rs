//! Standard output for the commands. A reader that goes away early (`burnbox openapi | head`)
//! ends the command quietly with the status a shell gives a process killed by `SIGPIPE`, as any
//! Unix tool ends, instead of the panic `println!` raises.

use std::fmt::Arguments;
use std::io::{ErrorKind, Write};

/// The exit status of a command whose reader went away: 128 + `SIGPIPE`.
const BROKEN_PIPE_STATUS: i32 = 141;

/// Writes `text` to standard output and flushes it; exits with [`BROKEN_PIPE_STATUS`] when the
/// reader is gone, and says so on stderr for any other failure.
pub fn write(text: Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout.write_fmt(text).and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        Err(err) if err.kind() == ErrorKind::BrokenPipe => std::process::exit(BROKEN_PIPE_STATUS),
        Err(err) => eprintln!("burnbox: cannot write to standard output: {err}"),
    }
}

/// `print!` without the panic: see [`write`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!($($arg)*))
    };
}

/// `println!` without the panic: see [`write`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
