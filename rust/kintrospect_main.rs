// SPDX-License-Identifier: GPL-2.0

//! kintrospect: live debug introspection for debug kernels.
//!
//! Files under `/sys/kernel/debug/kintrospect/` show what every CPU is running right now,
//! captured by NMI so that a CPU spinning with interrupts off is seen too; a SysRq key takes
//! the same snapshot when userspace is wedged. See `Documentation/kintrospect.rst`.
//!
//! Rust holds the logic and the output formats; a small C part (`rust/c/`) reaches the kernel
//! interfaces that have no Rust binding, through [`bridge`] only.

use kernel::prelude::*;

mod bridge;
mod control;
mod cpus;
mod files;
mod json;
mod locks;
mod slab;
mod status;

module! {
    type: Kintrospect,
    name: "kintrospect",
    authors: ["kintrospect developers"],
    description: "Live debug introspection: NMI CPU snapshots, slab leak deltas",
    license: "GPL",
}

/// The loaded module.
///
/// Dropping it unregisters the SysRq key (waiting for its work), removes the debugfs files
/// (waiting for reads and writes in progress), and last unregisters the NMI handler and frees
/// its buffers. An open file pins
/// the module, so none of this runs while a file (a test spin among them) is in use.
struct Kintrospect {
    // Field order is drop order: the SysRq key uses the data the files own.
    _sysrq: bridge::Sysrq,
    _files: bridge::Debugfs,
}

impl kernel::Module for Kintrospect {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let data = KBox::pin_init(files::Data::new()?, GFP_KERNEL)?;
        let test_paths = data.test.is_some();
        let files = bridge::Debugfs::create(data, test_paths)?;
        let key = bridge::params::sysrq_key();
        // SAFETY: `files` owns the data and is dropped after `sysrq` (field order).
        let sysrq = unsafe { bridge::Sysrq::register(key, files.data()) }.inspect_err(|e| {
            if *e == EBUSY {
                pr_err!(
                    "SysRq key '{}' is already taken; load with sysrq_key=<another key>\n",
                    char::from(key)
                );
            } else {
                pr_err!("SysRq key '{}' cannot be used\n", char::from(key));
            }
        })?;
        pr_info!("kintrospect {} loaded\n", status::VERSION);
        Ok(Self {
            _sysrq: sysrq,
            _files: files,
        })
    }
}
