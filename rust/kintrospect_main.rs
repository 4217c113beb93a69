// SPDX-License-Identifier: GPL-2.0

//! kintrospect: live debug introspection for debug kernels.
//!
//! Files under `/sys/kernel/debug/kintrospect/` show what every CPU is running right now,
//! captured by NMI so that a CPU spinning with interrupts off is seen too; a SysRq key takes
//! the same snapshot when userspace is wedged. See `Documentation/kintrospect/`.
//!
//! Rust holds the logic and the output formats; a small C part (`rust/c/`) reaches the kernel
//! interfaces that have no Rust binding, through [`bridge`] only.

use kernel::prelude::*;

mod bridge;
mod control;
mod cpus;
mod demangle;
mod files;
mod json;
mod locks;
mod persist;
mod report;
mod slab;
mod state;
mod status;
mod text;
mod watch;

module! {
    type: Kintrospect,
    name: "kintrospect",
    authors: ["kintrospect developers"],
    description: "Live debug introspection: NMI CPU snapshots, slab leak deltas",
    license: "GPL",
}

/// The loaded module: its state, registered with the C part (files, SysRq key, periodic tick).
///
/// Dropping it removes the files (waiting for reads and writes in progress), stops the tick,
/// unregisters the SysRq key (waiting for its work), and only then drops the state: the NMI
/// handler first (waiting for handlers in flight), then the reports ([`bridge::Registration`]
/// enforces the order). An open file pins the module, so none of this runs while a file (a
/// test spin among them) is in use.
struct Kintrospect {
    _registration: bridge::Registration<state::State>,
}

impl kernel::Module for Kintrospect {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let params = bridge::Params::read()?;
        let key = params.sysrq_key;
        let config = bridge::Config {
            sysrq_key: key,
            tick_ms: params.slab_interval_ms,
            watch_ms: params.watch_interval_ms,
        };
        let registration = bridge::Registration::new(state::State::new(&params)?, config)
            .inspect_err(|e| {
                if *e == EBUSY {
                    pr_err!(
                        "SysRq key '{}' is already taken; load with sysrq_key=<another key>\n",
                        char::from(key)
                    );
                } else if *e == EINVAL {
                    pr_err!("SysRq key '{}' cannot be used\n", char::from(key));
                }
            })?;
        pr_info!("kintrospect {} loaded\n", status::VERSION);
        Ok(Self {
            _registration: registration,
        })
    }
}
