// SPDX-License-Identifier: GPL-2.0

//! Reports and event lines printed to the console, where the files may never be read again
//! (an oops, a panic): cut at a line's room and at [`CONSOLE_LINES`], never allocating.

use crate::{
    report::{
        self,
        Report, //
    },
    text::Reader,
};
use kernel::{
    fmt::{
        self,
        Write, //
    },
    prelude::*,
};

/// Lines of a report printed to the console (an oops, a panic) at most; an oops's report is
/// printed once per log window at most (see [`super::Ring`]).
const CONSOLE_LINES: u32 = 80;

/// A console log level.
#[derive(Clone, Copy)]
pub(super) enum Level {
    Err,
    Emerg,
}

/// Prints report `r` to the console, one log line per line, [`CONSOLE_LINES`] at most; no
/// raw addresses (the console is not a `%pK` reader). Never allocates.
pub(super) fn console_report(r: &Report, level: Level) {
    let mut out = Console {
        line: LineBuf::new(),
        level,
        lines: 0,
    };
    let reader = Reader {
        raw_addresses: false,
    };
    if out.write_fmt(fmt!("{}", report::Text(r, reader))).is_err() {
        out.print(b"... (cut: see the events file if it can be read)");
    } else if out.line.len != 0 {
        let line = out.line;
        out.print(line.bytes());
    }
}

/// A line being formatted, cut at its room.
#[derive(Clone, Copy)]
pub(super) struct LineBuf {
    buf: [u8; 160],
    len: usize,
}

impl LineBuf {
    pub(super) const fn new() -> Self {
        Self {
            buf: [0; 160],
            len: 0,
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    pub(super) fn as_str(&self) -> &str {
        // Only whole `str`s are ever written; a cut one is cut at a char boundary.
        core::str::from_utf8(self.bytes()).unwrap_or("?")
    }
}

impl Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut b = [0; 4];
            let b = c.encode_utf8(&mut b).as_bytes();
            if self.len + b.len() > self.buf.len() {
                break;
            }
            self.buf[self.len..self.len + b.len()].copy_from_slice(b);
            self.len += b.len();
        }
        Ok(())
    }
}

/// The console as a [`Write`]: each line is one log line.
struct Console {
    line: LineBuf,
    level: Level,
    lines: u32,
}

impl Console {
    /// Prints one line; an empty one (a separator in the files) is left out.
    fn print(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let s = core::str::from_utf8(bytes).unwrap_or("?");
        match self.level {
            Level::Err => pr_err!("{s}\n"),
            Level::Emerg => pr_emerg!("{s}\n"),
        }
        self.lines += 1;
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for part in s.split_inclusive('\n') {
            let (text, end) = match part.strip_suffix('\n') {
                Some(t) => (t, true),
                None => (part, false),
            };
            self.line.write_str(text)?;
            if end {
                if self.lines >= CONSOLE_LINES {
                    return Err(fmt::Error);
                }
                let line = self.line;
                self.print(line.bytes());
                self.line = LineBuf::new();
            }
        }
        Ok(())
    }
}
