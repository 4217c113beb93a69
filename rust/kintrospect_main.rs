// SPDX-License-Identifier: GPL-2.0

//! kintrospect: live debug introspection for debug kernels.
//!
//! Files under `/sys/kernel/debug/kintrospect/` show what every CPU is running right now,
//! captured by NMI so that a CPU spinning with interrupts off is seen too; a SysRq key takes
//! the same snapshot when userspace is wedged. See `Documentation/kintrospect.rst`.
//!
//! Rust holds the logic and the output formats; a small C part (`rust/c/`) reaches the kernel
//! interfaces that have no Rust binding, through [`bridge`] only.

use kernel::{
    debugfs::Scope,
    prelude::*, //
};

mod bridge;
mod control;
mod cpus;
mod files;
mod json;
mod status;

module! {
    type: Kintrospect,
    name: "kintrospect",
    authors: ["kintrospect developers"],
    description: "Live debug introspection: NMI CPU snapshots",
    license: "GPL",
}

/// The loaded module.
struct Kintrospect {
    files: Pin<KBox<Scope<files::Data>>>,
}

impl kernel::Module for Kintrospect {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let files = KBox::pin_init(files::create(), GFP_KERNEL)?;
        pr_info!("kintrospect {} loaded\n", status::VERSION);
        Ok(Self { files })
    }
}

impl Drop for Kintrospect {
    fn drop(&mut self) {
        // Runs before `files` is dropped: removing the debugfs files waits for reads in
        // progress, so test spins must end first.
        bridge::TestPath::shutdown();
    }
}
