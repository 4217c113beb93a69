// SPDX-License-Identifier: GPL-2.0

//! The test paths (`rust/c/testpath.c`): the C part creates and serves the files of `test/`
//! itself, so all the Rust side sees of them is what they add to `status`.

use super::*;

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_test_status(buf: *mut c_char, size: usize) -> usize;
    }
}

/// Room for the test paths' lines of `status`.
const STATUS_LEN: usize = 64;

/// The test paths' lines of `status`, as the C part writes them; none with `test_paths=0`.
pub(crate) struct TestStatus {
    buf: [u8; STATUS_LEN],
    len: usize,
}

impl TestStatus {
    /// Reads the lines now.
    pub(crate) fn read() -> Self {
        let mut buf = [0; STATUS_LEN];
        // SAFETY: `buf` is valid for writes of `STATUS_LEN` bytes; process context.
        let len = unsafe { ffi::kintrospect_test_status(buf.as_mut_ptr().cast(), STATUS_LEN) };
        Self {
            buf,
            len: len.min(STATUS_LEN),
        }
    }
}

impl fmt::Display for TestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(core::str::from_utf8(&self.buf[..self.len]).map_err(|_| fmt::Error)?)
    }
}
