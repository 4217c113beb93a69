// SPDX-License-Identifier: GPL-2.0

//! The bridge to kintrospect's C part.
//!
//! The kernel crate has no bindings for NMI handlers, SysRq keys, the ORC unwinder, kallsyms,
//! kernel file reads, delayed works or slab caches, so a small C part (`rust/c/`) reaches
//! them. The bridge is the only Rust code that calls it: each part, one per area of the C
//! header, declares that area's functions, mirrors its records (their layouts asserted with
//! [`c_layout!`], as the header asserts them) and wraps them safely. This file keeps what the parts share and
//! the names the rest of the module uses; everything else in the module is safe Rust built on
//! them.
//!
//! C header: `rust/c/kintrospect.h`

use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_char,
        c_int,
        c_void, //
    },
    fmt,
    prelude::*,
    seq_file::SeqFile,
    seq_print, //
};

/// Bytes of a task name (`KINTROSPECT_COMM_LEN`).
pub(crate) const COMM_LEN: usize = 16;

/// Asserts at build time that a record mirrored from `rust/c/kintrospect.h` has the C record's
/// size and the offset of each of its fields, as the header asserts them with `static_assert`:
/// a field added, moved or resized on one side only fails the build.
macro_rules! c_layout {
    ($record:ident ($size:literal bytes) { $($field:ident: $offset:literal,)+ }) => {
        const _: () = assert!(core::mem::size_of::<$record>() == $size);
        $(const _: () = assert!(core::mem::offset_of!($record, $field) == $offset);)+
    };
}

/// Mirrors a C enum of `rust/c/kintrospect.h` as a Rust enum of the same integer type, with
/// the same values, written here once: the checked conversion from the raw value (`EINVAL`
/// for one the Rust side does not know) and the conversion back for the C side.
macro_rules! c_enum {
    (
        $(#[$meta:meta])*
        $name:ident: $ty:ident {
            $($(#[$vmeta:meta])* $variant:ident = $value:expr,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr($ty)]
        pub(crate) enum $name {
            $($(#[$vmeta])* $variant = $value,)+
        }

        impl TryFrom<$ty> for $name {
            type Error = Error;

            fn try_from(v: $ty) -> Result<Self> {
                [$($name::$variant),+]
                    .into_iter()
                    .find(|x| *x as $ty == v)
                    .ok_or(EINVAL)
            }
        }

        impl From<$name> for $ty {
            fn from(v: $name) -> Self {
                v as $ty
            }
        }
    };
}

mod config;
mod locks;
mod nmi;
mod persist;
mod registration;
mod runq;
mod slab;
mod testpath;
mod watch;

pub(crate) use config::{
    features,
    kernel_release,
    Params,
    PERSIST_NAME_LEN,
    SLAB_TREND_MAX, //
};
pub(crate) use locks::{
    collect_locks,
    confirm_edges,
    HeldMode,
    LockFlag,
    LockFlags,
    LockKind,
    RawHeld,
    RawLocksInfo,
    RawTask, //
};
// Only the KUnit suites build lock records by hand.
#[cfg(kintrospect_kunit)]
pub(crate) use locks::LOCK_NAME_LEN;
pub(crate) use nmi::{
    nmi_cost,
    nr_cpu_slots,
    raw_addresses_allowed,
    snapshot_memory,
    Context,
    CpuLockdep,
    Mode,
    Nmi,
    RawCpu,
    RawCpusInfo,
    Source,
    State,
    CPU_MAX_HELD,
    MAX_FRAMES, //
};
// Only the KUnit suites build CPU records by hand.
#[cfg(kintrospect_kunit)]
pub(crate) use nmi::zeroed_cpus;
pub(crate) use persist::{
    boot_id,
    boottime_ns,
    crc32,
    random_u64,
    real_ns,
    Region, //
};
pub(crate) use registration::{
    task_runtime_ns,
    Config,
    FileDef,
    Handler,
    Registration,
    MAX_WRITE, //
};
pub(crate) use runq::{
    collect_runnable,
    RawRunnable, //
};
pub(crate) use slab::{
    cpus_and_nodes,
    now_ns,
    FlushError,
    FlushStatus,
    SlabFile,
    SlabFiles,
    SlabIoGuard, //
    FLUSH_TIMEOUT_MS,
    PROBE_TIMEOUT_MS,
};
pub(crate) use testpath::TestStatus;
pub(crate) use watch::{
    hits_recorded,
    peek_hits_in_panic,
    take_hits,
    Cadence,
    HitKind,
    Hook,
    Hooks,
    RawHit,
    MAX_HITS, //
};
