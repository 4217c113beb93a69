// SPDX-License-Identifier: GPL-2.0

//! Kernel slab reports and the leak test cache (`rust/c/slab.c`).

use super::*;

/// One of the kernel's slab reports (`enum kintrospect_slab_file`).
#[derive(Clone, Copy)]
pub(crate) enum SlabFile<'a> {
    /// `/proc/slabinfo`.
    SlabInfo,
    /// `/proc/allocinfo` (memory allocation profiling).
    AllocInfo,
    /// `/sys/kernel/debug/slab/<cache>/alloc_traces` (SLUB user tracking), of this cache.
    AllocTraces(&'a [u8]),
}

/// Where the slab reports are opened from: `/proc` and `/sys/kernel/debug/slab`, looked up
/// once (at load, in the loading task's context) so that the periodic sampler's kworker, whose
/// root need not have them, can open them too. Released on drop.
///
/// # Invariants
///
/// `kintrospect_slab_files_init()` succeeded and `kintrospect_slab_files_exit()` has not run.
pub(crate) struct SlabFiles(());

impl SlabFiles {
    /// Looks up `/proc` (required) and the SLUB debugfs directory (optional).
    pub(crate) fn open() -> Result<Self> {
        // SAFETY: Called once, from module init, in process context.
        to_result(unsafe { ffi::kintrospect_slab_files_init() })?;
        // INVARIANT: The lookup succeeded.
        Ok(Self(()))
    }

    /// Reads a whole slab report into `buf`; returns the bytes read.
    ///
    /// `EFBIG` when `buf` filled up before the end of the file (its first `buf.len()` bytes
    /// are in `buf`); `EINVAL` for a cache name that cannot be a path component; the open or
    /// read error otherwise. Process context: reading may sleep.
    pub(crate) fn read(&self, file: SlabFile<'_>, buf: &mut [u8]) -> Result<usize> {
        read_slab_file(file, buf)
    }

    /// Whether the slab report `file` exists and can be read.
    pub(crate) fn exists(&self, file: SlabFile<'_>) -> bool {
        let mut byte = [0u8; 1];
        matches!(read_slab_file(file, &mut byte), Ok(_) | Err(EFBIG))
    }
}

impl Drop for SlabFiles {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the lookups are held; this runs once, after the
        // sampler has stopped (the slab state that owns this goes after it).
        unsafe { ffi::kintrospect_slab_files_exit() };
    }
}

/// Reads a whole slab report into `buf`; returns the bytes read (see [`SlabFiles::read`]).
///
/// `EFBIG` when `buf` filled up before the end of the file (its first `buf.len()` bytes are
/// in `buf`); `EINVAL` for a cache name that cannot be a path component; the open or read
/// error otherwise. Process context: reading may sleep.
fn read_slab_file(file: SlabFile<'_>, buf: &mut [u8]) -> Result<usize> {
    // Room for the cache name and its NUL; the C side checks the full path's length.
    let mut cache = [0u8; 128];
    let (which, cache) = match file {
        SlabFile::SlabInfo => (0, core::ptr::null()),
        SlabFile::AllocInfo => (1, core::ptr::null()),
        SlabFile::AllocTraces(name) => {
            if name.len() >= cache.len() || name.contains(&0) {
                return Err(EINVAL);
            }
            cache[..name.len()].copy_from_slice(name);
            (2, cache.as_ptr().cast::<c_char>())
        }
    };
    let mut n = 0usize;
    // SAFETY: `cache` is null or a NUL-terminated string; `buf` is valid for writes of
    // `buf.len()` bytes and `n` for one `usize`; process context. The directories are looked
    // up or not; the C side checks which.
    to_result(unsafe {
        ffi::kintrospect_read_slab_file(which, cache, buf.as_mut_ptr().cast(), buf.len(), &mut n)
    })?;
    Ok(n.min(buf.len()))
}

/// Monotonic time in ns (`ktime_get_ns()`).
pub(crate) fn now_ns() -> u64 {
    // SAFETY: No preconditions.
    unsafe { ffi::kintrospect_now_ns() }
}

/// The leak test path's cache, `kintrospect_leak`, and the objects it keeps; freed and
/// destroyed on drop.
///
/// # Invariants
///
/// `kintrospect_leak_init()` succeeded and `kintrospect_leak_exit()` has not run yet.
pub(crate) struct Leak(());

impl Leak {
    /// Creates the `kintrospect_leak` cache.
    pub(crate) fn create() -> Result<Self> {
        // SAFETY: Called once, from module init, in process context.
        to_result(unsafe { ffi::kintrospect_leak_init() })?;
        // INVARIANT: Creation succeeded.
        Ok(Self(()))
    }

    /// Allocates and keeps `nr` more objects (1..=1000000); `ENOMEM` keeps the ones allocated
    /// before the failure.
    pub(crate) fn alloc(&self, nr: u32) -> Result {
        // SAFETY: By the type invariant the cache exists; process context.
        to_result(unsafe { ffi::kintrospect_leak_alloc(nr) })
    }

    /// Frees every kept object.
    pub(crate) fn free(&self) {
        // SAFETY: By the type invariant the cache exists; process context.
        unsafe { ffi::kintrospect_leak_free() };
    }

    /// Objects kept now.
    pub(crate) fn count(&self) -> u64 {
        // SAFETY: By the type invariant the cache exists; process context.
        unsafe { ffi::kintrospect_leak_count() }
    }
}

impl Drop for Leak {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the cache exists; this runs once, at unload, after the
        // debugfs files that allocate from it are gone.
        unsafe { ffi::kintrospect_leak_exit() };
    }
}
