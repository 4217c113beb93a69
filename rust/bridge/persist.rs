// SPDX-License-Identifier: GPL-2.0

//! The black box's memory (`rust/c/persist.c`): a `reserve_mem` region that survives a warm
//! reboot, and what its records need from the kernel (a checksum, the boot's identity, clocks
//! that can be read in a panic). The layout of the records is `rust/persist.rs`'s.

use super::*;
use core::ptr::NonNull;

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_persist_map(
            name: *const c_char,
            base: *mut *mut c_void,
            phys: *mut u64,
            size: *mut u64,
        ) -> c_int;
        pub(super) fn kintrospect_persist_unmap(base: *mut c_void);
        pub(super) fn kintrospect_persist_flush(addr: *mut c_void, len: u64);
        pub(super) fn kintrospect_crc32(crc: u32, p: *const c_void, len: u64) -> u32;
        pub(super) fn kintrospect_boot_id(id: *mut u8) -> c_int;
        pub(super) fn kintrospect_random_u64() -> u64;
        pub(super) fn kintrospect_real_ns() -> u64;
        pub(super) fn kintrospect_boottime_ns() -> u64;
    }
}

/// A `reserve_mem` region, mapped.
///
/// Its bytes are only ever copied in and out (never borrowed as a Rust slice), so a writer
/// another CPU left in the middle of a record (a panic stopped it) can tear bytes, which the
/// records' checks find, but never break a reference.
pub(crate) struct Region {
    base: NonNull<u8>,
    phys: u64,
    size: usize,
}

// SAFETY: The mapping is plain memory, valid until `drop`; it is only reached through raw
// copies in `read` and `write`, which any CPU may do.
unsafe impl Send for Region {}
// SAFETY: As above.
unsafe impl Sync for Region {}

impl Region {
    /// Maps the region reserved as `reserve_mem=SIZE:ALIGN:name`: `ENOENT` when there is none.
    pub(crate) fn map(name: &CStr) -> Result<Self> {
        let (mut base, mut phys, mut size) = (core::ptr::null_mut(), 0u64, 0u64);
        // SAFETY: `name` is NUL-terminated; the out-pointers are valid for one write each;
        // process context.
        to_result(unsafe {
            ffi::kintrospect_persist_map(name.as_char_ptr(), &mut base, &mut phys, &mut size)
        })?;
        let this = Self {
            base: NonNull::new(base.cast()).ok_or(ENOMEM)?,
            phys,
            size: usize::try_from(size).map_err(|_| EINVAL)?,
        };
        Ok(this)
    }

    /// Its size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// Its physical address (for a vmcore reader).
    pub(crate) fn phys(&self) -> u64 {
        self.phys
    }

    /// The range `[off, off + len)` if it lies within the region.
    fn range(&self, off: usize, len: usize) -> Result<*mut u8> {
        match off.checked_add(len) {
            Some(end) if end <= self.size => {
                // SAFETY: `off <= size`: the result is within the mapping or one past its end.
                Ok(unsafe { self.base.as_ptr().add(off) })
            }
            _ => Err(EINVAL),
        }
    }

    /// Copies the bytes at `off` into `out`; `EINVAL` beyond the end.
    pub(crate) fn read(&self, off: usize, out: &mut [u8]) -> Result {
        let src = self.range(off, out.len())?;
        // SAFETY: `src` is valid for `out.len()` bytes of the mapping (`range`), which no Rust
        // reference aliases.
        unsafe { core::ptr::copy_nonoverlapping(src, out.as_mut_ptr(), out.len()) };
        Ok(())
    }

    /// Copies `data` to `off`; `EINVAL` beyond the end.
    pub(crate) fn write(&self, off: usize, data: &[u8]) -> Result {
        let dst = self.range(off, data.len())?;
        // SAFETY: `dst` is valid for `data.len()` bytes of the mapping (`range`), which no Rust
        // reference aliases.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
        Ok(())
    }

    /// Writes `[off, off + len)` back from the cache to memory (a reset keeps only memory).
    pub(crate) fn flush(&self, off: usize, len: usize) {
        if let Ok(p) = self.range(off, len) {
            // SAFETY: `p` is valid for `len` bytes of the mapping; any context.
            unsafe { ffi::kintrospect_persist_flush(p.cast(), len as u64) };
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: `base` came from `kintrospect_persist_map()` and is unmapped once.
        unsafe { ffi::kintrospect_persist_unmap(self.base.as_ptr().cast()) };
    }
}

/// zlib's CRC-32 (Python's `zlib.crc32()`) of `data`, continuing `crc` (0 to start).
pub(crate) fn crc32(crc: u32, data: &[u8]) -> u32 {
    // SAFETY: `data` is valid for `data.len()` bytes; any context.
    unsafe { ffi::kintrospect_crc32(crc, data.as_ptr().cast(), data.len() as u64) }
}

/// The kernel's `boot_id` (`/proc/sys/kernel/random/boot_id`), if it can be read. Process
/// context.
pub(crate) fn boot_id() -> Option<[u8; 16]> {
    let mut id = [0u8; 16];
    // SAFETY: `id` is valid for 16 bytes; process context.
    let ret = unsafe { ffi::kintrospect_boot_id(id.as_mut_ptr()) };
    (ret == 0).then_some(id)
}

/// A random number (`get_random_u64()`).
pub(crate) fn random_u64() -> u64 {
    // SAFETY: No preconditions.
    unsafe { ffi::kintrospect_random_u64() }
}

/// Wall-clock time in ns; NMI-safe.
pub(crate) fn real_ns() -> u64 {
    // SAFETY: No preconditions; any context.
    unsafe { ffi::kintrospect_real_ns() }
}

/// Time since boot in ns (suspend included); NMI-safe.
pub(crate) fn boottime_ns() -> u64 {
    // SAFETY: No preconditions; any context.
    unsafe { ffi::kintrospect_boottime_ns() }
}
