// SPDX-License-Identifier: GPL-2.0

//! The debugfs files, the SysRq key and the periodic slab sampler, and the Rust callbacks
//! the C part calls for them (`rust/c/debugfs.c`, `rust/c/sysrq.c`, `rust/c/slab.c`).

use super::*;

/// kintrospect's SysRq key; unregistered on drop.
///
/// # Invariants
///
/// `kintrospect_sysrq_register()` succeeded with a pointer to a [`files::Data`] that outlives
/// this value.
pub(crate) struct Sysrq(());

impl Sysrq {
    /// Registers `key`; fails with `EBUSY` if another handler owns it. The handler captures
    /// CPUs and queues [`files::sysrq_deferred`] on `data`.
    ///
    /// # Safety
    ///
    /// `data` must stay valid, and its NMI buffers registered, until the returned value is
    /// dropped.
    pub(crate) unsafe fn register(key: u8, data: &files::Data) -> Result<Self> {
        let ptr: *const files::Data = data;
        // SAFETY: Process context; `data` outlives the registration by the caller's guarantee.
        to_result(unsafe { ffi::kintrospect_sysrq_register(key, ptr.cast()) })?;
        // INVARIANT: Registration succeeded with a pointer to `data`.
        Ok(Self(()))
    }
}

/// The SysRq key's process-context part (locks report); called from its work item.
///
/// # Safety
///
/// `data` is the pointer [`Sysrq::register`] was given, still valid.
#[no_mangle]
unsafe extern "C" fn kintrospect_sysrq_deferred(data: *const c_void) {
    // SAFETY: By the function's safety requirements `data` points to a live `files::Data`.
    let data = unsafe { &*data.cast::<files::Data>() };
    files::sysrq_deferred(data);
}

impl Drop for Sysrq {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the key is registered; process context. This also
        // waits for the deferred work, after which the data is no longer used.
        unsafe { ffi::kintrospect_sysrq_unregister() };
    }
}

/// The debugfs files, owning the state they show; removed on drop, before the state goes.
///
/// # Invariants
///
/// `kintrospect_debugfs_create()` succeeded with a pointer to `*data`, which stays pinned until
/// `kintrospect_debugfs_remove()` in [`Drop`] has returned.
pub(crate) struct Debugfs {
    // Field order is drop order: the sampler stops before the data it samples into goes.
    _sampler: Option<SlabSampler>,
    data: Pin<KBox<files::Data>>,
}

impl Debugfs {
    /// Creates `/sys/kernel/debug/kintrospect/` for `data`; the test files only if `test_paths`.
    pub(crate) fn create(data: Pin<KBox<files::Data>>, test_paths: bool) -> Result<Self> {
        let mut specs = KVec::new();
        for file in File::all().filter(|f| test_paths || !f.is_test()) {
            let spec = FileSpec {
                name: file.name().as_char_ptr(),
                id: file as u32,
                mode: file.mode(),
            };
            specs.push(spec, GFP_KERNEL)?;
        }
        let ptr: *const files::Data = &*data;
        // SAFETY: `specs` holds `specs.len()` entries whose names are static C strings; `ptr`
        // points to pinned data that lives in `Self` until the files are removed in `drop`.
        to_result(unsafe {
            ffi::kintrospect_debugfs_create(ptr.cast(), specs.as_ptr(), specs.len() as u32)
        })?;
        let interval_ms = data.slab_interval_ms();
        // INVARIANT: Creation succeeded with a pointer to `*data`; the sampler, if any, is
        // stopped (field order) before `data` is dropped.
        Ok(Self {
            _sampler: (interval_ms != 0).then(|| SlabSampler::start(ptr, interval_ms)),
            data,
        })
    }

    /// The state the files show.
    pub(crate) fn data(&self) -> &files::Data {
        &self.data
    }
}

impl Drop for Debugfs {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the files exist; removal waits for reads and writes in
        // progress, after which the data is no longer used by the C part and may be dropped.
        unsafe { ffi::kintrospect_debugfs_remove() };
    }
}

/// The periodic slab sampler: a delayed work that calls [`files::tick`]; stopped on drop.
///
/// # Invariants
///
/// `kintrospect_slab_sampler_start()` was called with a pointer to a pinned `files::Data` that
/// outlives this value (it is owned by the same [`Debugfs`], and dropped after it).
struct SlabSampler(());

impl SlabSampler {
    /// Starts sampling `data` every `interval_ms` (non-zero).
    fn start(data: *const files::Data, interval_ms: u32) -> Self {
        // SAFETY: `data` points to pinned data that the caller keeps alive until this value is
        // dropped; the work runs in process context.
        unsafe { ffi::kintrospect_slab_sampler_start(data.cast(), interval_ms) };
        // INVARIANT: Started with `data`, which the caller keeps alive.
        Self(())
    }
}

impl Drop for SlabSampler {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the sampler was started; stopping waits for a tick in
        // progress and keeps the work from running again. Process context (unload).
        unsafe { ffi::kintrospect_slab_sampler_stop() };
    }
}

/// Takes one periodic slab sample; called by the C part's delayed work.
///
/// # Safety
///
/// `data` is the pointer [`SlabSampler::start`] was given, and the sampler is running.
#[no_mangle]
unsafe extern "C" fn kintrospect_slab_tick(data: *const c_void) {
    // SAFETY: By the function's safety requirements `data` points to a live `files::Data`,
    // only ever shared.
    let data = unsafe { &*data.cast::<files::Data>() };
    files::tick(data);
}

/// One read of a file, formatted by [`files::show`].
struct Show<'a>(&'a files::Data, File);

impl fmt::Display for Show<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        files::show(self.0, self.1, f)
    }
}

/// Shows a kintrospect file; called by the C part's seq_file show callback.
///
/// # Safety
///
/// `data` is the pointer [`Debugfs::create`] passed to the C part, and the files still exist;
/// `m` is the live `seq_file` of the read in progress.
#[no_mangle]
unsafe extern "C" fn kintrospect_file_show(
    data: *const c_void,
    id: u32,
    m: *mut bindings::seq_file,
) -> c_int {
    let Some(file) = File::from_id(id) else {
        return -(bindings::EINVAL as c_int);
    };
    // SAFETY: By the function's safety requirements `data` points to a live `files::Data`,
    // only ever shared.
    let data = unsafe { &*data.cast::<files::Data>() };
    // SAFETY: By the function's safety requirements `m` is live for this call.
    let seq = unsafe { SeqFile::from_raw(m) };
    seq_print!(seq, "{}", Show(data, file));
    0
}

/// Carries out a write to a kintrospect file; called by the C part.
///
/// # Safety
///
/// `data` is as for [`kintrospect_file_show`]; `buf` is valid for reads of `copied` bytes, the
/// first of a write of `len` bytes.
#[no_mangle]
unsafe extern "C" fn kintrospect_file_write(
    data: *const c_void,
    id: u32,
    buf: *const c_char,
    copied: usize,
    len: usize,
) -> c_int {
    let Some(file) = File::from_id(id) else {
        return -(bindings::EINVAL as c_int);
    };
    // SAFETY: By the function's safety requirements `data` points to a live `files::Data`.
    let data = unsafe { &*data.cast::<files::Data>() };
    // SAFETY: By the function's safety requirements `buf` is valid for `copied` bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), copied) };
    match files::write(data, file, input, len) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
