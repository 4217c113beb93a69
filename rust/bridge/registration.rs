// SPDX-License-Identifier: GPL-2.0

//! The module state handed to the C part, and everything that calls back with it: the debugfs
//! files, the SysRq key, the periodic tick and the watch (`rust/c/registration.c`,
//! `rust/c/debugfs.c`, `rust/c/sysrq.c`, `rust/c/watch.c`).
//!
//! One [`Registration`] owns the state and hands C one pointer to it, with callbacks that are
//! generic over the state's type: this part never names its user. Also here, next to the tick
//! and the watch that both use it: the clock of their own CPU time, [`task_runtime_ns`].

use super::*;

/// What a read of a file of `T` shows.
///
/// An `Err` means the report could not be had (its copy could not be allocated): the read
/// fails with `ENOMEM` and shows nothing, never a cut report.
pub(crate) type ShowFn<T> = fn(&T, &mut fmt::Formatter<'_>) -> fmt::Result;
/// What a write to a file of `T` does, given its first bytes and its whole length.
pub(crate) type WriteFn<T> = fn(&T, &[u8], usize) -> Result;

/// A debugfs file of a [`Handler`].
///
/// A readable file is mode 0400, a writable one 0200: root only.
pub(crate) struct FileDef<T: 'static> {
    name: &'static CStr,
    show: Option<ShowFn<T>>,
    write: Option<WriteFn<T>>,
}

impl<T> FileDef<T> {
    /// A file whose reads show `show`.
    pub(crate) const fn read(name: &'static CStr, show: ShowFn<T>) -> Self {
        Self {
            name,
            show: Some(show),
            write: None,
        }
    }

    /// A file whose writes are carried out by `write`, given the first [`MAX_WRITE`] bytes
    /// and the length of the whole write (which may be longer).
    pub(crate) const fn write(name: &'static CStr, write: WriteFn<T>) -> Self {
        Self {
            name,
            show: None,
            write: Some(write),
        }
    }

    fn mode(&self) -> u16 {
        (if self.show.is_some() { 0o400 } else { 0 })
            | (if self.write.is_some() { 0o200 } else { 0 })
    }
}

/// Longest part of a write passed to a [`FileDef`]'s write function (`KINTROSPECT_MAX_WRITE`).
pub(crate) const MAX_WRITE: usize = 64;

/// The module state as the C part calls it back.
pub(crate) trait Handler: Sync + Sized + 'static {
    /// The debugfs files, in creation order.
    const FILES: &'static [FileDef<Self>];

    /// The SysRq key was pressed: from the key's handler, in interrupt context (the keyboard,
    /// or a write to `/proc/sysrq-trigger`) under `rcu_read_lock()`; must neither sleep nor
    /// allocate. [`Handler::sysrq_deferred`] follows from a work item.
    fn sysrq(&self);

    /// The SysRq key's process-context part, after [`Handler::sysrq`].
    fn sysrq_deferred(&self);

    /// One periodic tick.
    fn tick(&self);

    /// One sample of the watch: periodic, or at once after a hook fired.
    fn watch(&self);

    /// The kernel panics (the watch's panic notifier): atomic, the other CPUs stopped; must
    /// neither sleep nor allocate nor wait for a lock.
    fn panic(&self);
}

/// What a [`Registration`] registers besides the state.
pub(crate) struct Config {
    /// The SysRq key.
    pub(crate) sysrq_key: u8,
    /// The period of [`Handler::tick`], 0 = never.
    pub(crate) tick_ms: u32,
    /// The period of [`Handler::watch`], 0 = never (and no hook).
    pub(crate) watch_ms: u32,
}

/// The C callbacks for a handler of type `T` (`struct kintrospect_ops`).
///
/// `show`'s `struct seq_file *` is an untyped pointer here: the C part only passes it through,
/// and through `seq_file` a kernel without lockdep reaches its empty `struct lock_class_key`,
/// which Debian 13's rustc 1.85 calls not FFI-safe in `kintrospect_register()`'s
/// declaration (`improper_ctypes`; the newer rustc of the debug kernels does not).
#[repr(C)]
struct Ops {
    show: unsafe extern "C" fn(*const c_void, u32, *mut c_void) -> c_int,
    write: unsafe extern "C" fn(*const c_void, u32, *const c_char, usize, usize) -> c_int,
    sysrq: unsafe extern "C" fn(*const c_void),
    sysrq_deferred: unsafe extern "C" fn(*const c_void),
    tick: unsafe extern "C" fn(*const c_void),
    watch: unsafe extern "C" fn(*const c_void),
    panic: unsafe extern "C" fn(*const c_void),
}

/// One debugfs file to create (`struct kintrospect_file_spec`).
#[repr(C)]
struct FileSpec {
    name: *const c_char,
    id: u32,
    mode: u16,
}

// The C side asserts the same layouts.
c_layout! {
    Ops (56 bytes) {
        show: 0,
        write: 8,
        sysrq: 16,
        sysrq_deferred: 24,
        tick: 32,
        watch: 40,
        panic: 48,
    }
}
c_layout! {
    FileSpec (16 bytes) {
        name: 0,
        id: 8,
        mode: 12,
    }
}

mod ffi {
    use super::*;

    unsafe extern "C" {
        pub(super) fn kintrospect_register(data: *const c_void, ops: *const Ops);
        pub(super) fn kintrospect_unregister();
        pub(super) fn kintrospect_debugfs_create(files: *const FileSpec, nr: u32) -> c_int;
        pub(super) fn kintrospect_debugfs_remove();
        pub(super) fn kintrospect_sysrq_register(key: u8) -> c_int;
        pub(super) fn kintrospect_sysrq_unregister();
        pub(super) fn kintrospect_tick_start(interval_ms: u32);
        pub(super) fn kintrospect_tick_stop();
        pub(super) fn kintrospect_task_runtime_ns() -> u64;
        pub(super) fn kintrospect_watch_start(interval_ms: u32) -> c_int;
        pub(super) fn kintrospect_watch_stop();
    }
}

/// The module state, registered with the C part with its files, SysRq key and tick.
///
/// Dropping it removes the files (waiting for reads and writes in progress), detaches the
/// watch's hooks and stops its sample, stops the tick, unregisters the SysRq key (waiting for
/// its deferred work) and only then, after [`Drop`], drops the state: nothing can call back
/// into freed state.
///
/// # Invariants
///
/// `kintrospect_register()` was called with a pointer to `*_data` and [`Self::OPS`]; the files,
/// the key, the tick and the watch exist exactly as `files`, `sysrq`, `tick` and `watch` say,
/// and all of them are gone before `_data` is dropped.
pub(crate) struct Registration<T: Handler> {
    files: bool,
    sysrq: bool,
    tick: bool,
    watch: bool,
    /// Kept for the C part, which is handed a pointer to it; dropped after [`Drop`].
    _data: Pin<KBox<T>>,
}

impl<T: Handler> Registration<T> {
    const OPS: Ops = Ops {
        show: show::<T>,
        write: write::<T>,
        sysrq: sysrq::<T>,
        sysrq_deferred: sysrq_deferred::<T>,
        tick: tick::<T>,
        watch: watch::<T>,
        panic: panic::<T>,
    };

    /// Builds the state and registers it: first what can fail (the SysRq key, the watch's
    /// hooks), then the tick, and the files last, so that no file is ever open when loading
    /// can still fail.
    ///
    /// The SysRq key fails with `EBUSY` when another handler owns it and `EINVAL` when SysRq
    /// cannot use it.
    pub(crate) fn new(init: impl PinInit<T, Error>, config: Config) -> Result<Self> {
        let data = KBox::pin_init(init, GFP_KERNEL)?;
        let ptr: *const T = &*data;
        // SAFETY: `ptr` points to pinned state that `Self` keeps until everything registered
        // below is gone (the type invariant, kept by `Drop`); `OPS` is a constant promoted to
        // static memory.
        unsafe { ffi::kintrospect_register(ptr.cast(), &Self::OPS) };
        // INVARIANT: Registered; nothing else exists yet. From here on, `Drop` undoes each step
        // taken, whatever step fails.
        let mut this = Self {
            files: false,
            sysrq: false,
            tick: false,
            watch: false,
            _data: data,
        };
        // SAFETY: Process context (module init).
        to_result(unsafe { ffi::kintrospect_sysrq_register(config.sysrq_key) })?;
        this.sysrq = true;
        if config.watch_ms != 0 {
            // SAFETY: Process context; the state is registered. A failure detaches what was
            // attached.
            to_result(unsafe { ffi::kintrospect_watch_start(config.watch_ms) })?;
            this.watch = true;
        }
        if config.tick_ms != 0 {
            // SAFETY: Process context; the state is registered.
            unsafe { ffi::kintrospect_tick_start(config.tick_ms) };
            this.tick = true;
        }
        let mut specs = KVec::new();
        for (id, file) in T::FILES.iter().enumerate() {
            let spec = FileSpec {
                name: file.name.as_char_ptr(),
                id: id as u32,
                mode: file.mode(),
            };
            specs.push(spec, GFP_KERNEL)?;
        }
        // SAFETY: `specs` holds `specs.len()` entries whose names are static C strings and
        // whose ids index `T::FILES`; process context. With `test_paths=1` the C part also
        // creates the test paths' files, which it serves itself.
        to_result(unsafe { ffi::kintrospect_debugfs_create(specs.as_ptr(), specs.len() as u32) })?;
        this.files = true;
        Ok(this)
    }
}

impl<T: Handler> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant each of these exists when its flag says so (a partial
        // debugfs tree is removed by its creation's failure path). Removal waits for reads and
        // writes in progress, stopping the watch for its hooks and a sample in progress,
        // stopping the tick for a tick in progress, unregistering the key for its handler and
        // its deferred work: afterwards nothing uses the pointer, and the
        // state is dropped after this function returns.
        unsafe {
            if self.files {
                ffi::kintrospect_debugfs_remove();
            }
            if self.watch {
                ffi::kintrospect_watch_stop();
            }
            if self.tick {
                ffi::kintrospect_tick_stop();
            }
            if self.sysrq {
                ffi::kintrospect_sysrq_unregister();
            }
            ffi::kintrospect_unregister();
        }
    }
}

/// The state behind the pointer the C part calls back with.
///
/// # Safety
///
/// `data` is the pointer a live [`Registration<T>`] registered.
unsafe fn state<'a, T: Handler>(data: *const c_void) -> &'a T {
    // SAFETY: By the function's safety requirements `data` points to a live, pinned `T`, only
    // ever shared.
    unsafe { &*data.cast::<T>() }
}

/// One read of a file, formatted by its show function, which may fail.
struct Show<'a, T> {
    data: &'a T,
    show: ShowFn<T>,
    failed: core::cell::Cell<bool>,
}

impl<T> fmt::Display for Show<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = (self.show)(self.data, f);
        self.failed.set(r.is_err());
        r
    }
}

/// Shows file `id` of `T::FILES` (`kintrospect_ops.show`).
///
/// # Safety
///
/// `data` is the pointer a live [`Registration<T>`] registered; `m` is the live `seq_file` of
/// the read in progress.
unsafe extern "C" fn show<T: Handler>(data: *const c_void, id: u32, m: *mut c_void) -> c_int {
    let Some(show) = T::FILES.get(id as usize).and_then(|file| file.show) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's safety requirements.
    let data = unsafe { state::<T>(data) };
    // SAFETY: By the function's safety requirements `m` is live for this call.
    let seq = unsafe { SeqFile::from_raw(m.cast()) };
    let show = Show {
        data,
        show,
        failed: core::cell::Cell::new(false),
    };
    seq_print!(seq, "{}", show);
    if show.failed.get() {
        ENOMEM.to_errno()
    } else {
        0
    }
}

/// Carries out a write to file `id` of `T::FILES` (`kintrospect_ops.write`).
///
/// # Safety
///
/// `data` is as for [`show`]; `buf` is valid for reads of `copied` bytes, the first of a write
/// of `len` bytes.
unsafe extern "C" fn write<T: Handler>(
    data: *const c_void,
    id: u32,
    buf: *const c_char,
    copied: usize,
    len: usize,
) -> c_int {
    let Some(write) = T::FILES.get(id as usize).and_then(|file| file.write) else {
        return EINVAL.to_errno();
    };
    // SAFETY: By the function's safety requirements.
    let data = unsafe { state::<T>(data) };
    // SAFETY: By the function's safety requirements `buf` is valid for `copied` bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), copied) };
    match write(data, input, len) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The SysRq key's handler (`kintrospect_ops.sysrq`).
///
/// # Safety
///
/// `data` is the pointer a live [`Registration<T>`] registered.
unsafe extern "C" fn sysrq<T: Handler>(data: *const c_void) {
    // SAFETY: By the function's safety requirements.
    unsafe { state::<T>(data) }.sysrq();
}

/// The SysRq key's deferred work (`kintrospect_ops.sysrq_deferred`).
///
/// # Safety
///
/// `data` is the pointer a live [`Registration<T>`] registered.
unsafe extern "C" fn sysrq_deferred<T: Handler>(data: *const c_void) {
    // SAFETY: By the function's safety requirements.
    unsafe { state::<T>(data) }.sysrq_deferred();
}

/// The periodic tick's work (`kintrospect_ops.tick`).
///
/// # Safety
///
/// `data` is the pointer a live [`Registration<T>`] registered.
unsafe extern "C" fn tick<T: Handler>(data: *const c_void) {
    // SAFETY: By the function's safety requirements.
    unsafe { state::<T>(data) }.tick();
}

/// One sample of the watch (`kintrospect_ops.watch`).
///
/// # Safety
///
/// `data` is the pointer a live [`Registration<T>`] registered.
unsafe extern "C" fn watch<T: Handler>(data: *const c_void) {
    // SAFETY: By the function's safety requirements.
    unsafe { state::<T>(data) }.watch();
}

/// The panic notifier (`kintrospect_ops.panic`).
///
/// # Safety
///
/// `data` is the pointer a live [`Registration<T>`] registered.
unsafe extern "C" fn panic<T: Handler>(data: *const c_void) {
    // SAFETY: By the function's safety requirements.
    unsafe { state::<T>(data) }.panic();
}

/// The calling task's CPU time in ns, as the scheduler accounts it (its `sum_exec_runtime`
/// brought up to now). Process context.
pub(crate) fn task_runtime_ns() -> u64 {
    // SAFETY: No preconditions; process context (it reads `current`).
    unsafe { ffi::kintrospect_task_runtime_ns() }
}
