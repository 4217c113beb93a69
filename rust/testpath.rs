// SPDX-License-Identifier: GPL-2.0

//! The test paths (`test_paths=1`): what the files under `test/` do.
//!
//! - `test/spin`, `test/spin_irqoff`: a read spins in kernel mode with a named spinlock held
//!   (and interrupts off), until `test/release` is written or its bound elapses;
//! - `test/abba_a`, `test/abba_b`: two readers deadlock on a pair of mutexes until killed;
//! - `test/leak`: allocates objects from a module-owned cache and keeps them until `free`.
//!
//! Bounded and releasable, like `lib/test_lockup.c`. The C side is `rust/c/testpath.c` (and the
//! leak cache in `rust/c/slab.c`), reached through [`bridge::TestPath`] and [`bridge::Leak`].

use crate::{
    bridge::{
        self,
        Leak,
        SpinEnd,
        TestPath, //
    },
    control, //
};
use kernel::{
    fmt,
    prelude::*, //
};

/// The test paths' state.
pub(crate) struct TestPaths {
    path: TestPath,
    leak: Leak,
    spin_timeout_ms: u32,
}

impl TestPaths {
    /// Enables the test paths and creates the leak test cache.
    pub(crate) fn new(params: &bridge::Params) -> Result<Self> {
        Ok(Self {
            path: TestPath::new(),
            leak: Leak::create()?,
            spin_timeout_ms: params.spin_timeout_ms,
        })
    }

    /// Objects the leak test path keeps (shown in `status`).
    pub(crate) fn leak_count(&self) -> u64 {
        self.leak.count()
    }
}

/// Spins in a read of `test/spin` or `test/spin_irqoff` and says how it ended (and, with
/// interrupts off, for how long they were off, waiting for the lock included).
pub(crate) fn spin(t: &TestPaths, irqoff: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let spin = t.path.spin(irqoff, t.spin_timeout_ms);
    match spin.end {
        SpinEnd::Released => writeln!(f, "released")?,
        SpinEnd::TimedOut(ms) => writeln!(f, "timed out after {ms} ms")?,
        SpinEnd::ForIrqoffWaiter(ms) => {
            writeln!(f, "ended early: an irqs-off waiter allows at most {ms} ms")?
        }
    }
    if irqoff {
        writeln!(f, "interrupts off for {} ms", spin.irqoff_ns / 1_000_000)?;
    }
    Ok(())
}

/// Deadlocks in a read of `test/abba_a` or `test/abba_b` until killed.
pub(crate) fn abba(t: &TestPaths, b_first: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match t.path.abba(b_first, t.spin_timeout_ms) {
        Ok(()) => writeln!(f, "no deadlock"),
        Err(e) if e == ETIMEDOUT => writeln!(f, "the partner reader did not come"),
        Err(e) => writeln!(f, "ended: {e:?}"),
    }
}

/// A write to `test/release`: any write releases every spin; its content is not looked at.
pub(crate) fn release(t: &TestPaths) -> Result {
    t.path.release();
    Ok(())
}

/// A write to `test/leak`: a count to allocate (1..=[`control::LEAK_MAX`]), or `free`.
pub(crate) fn leak(t: &TestPaths, input: &[u8], len: usize) -> Result {
    if len > control::MAX_LEN {
        return Err(EINVAL);
    }
    match control::parse_leak(input)? {
        control::Leak::Alloc(n) => t.leak.alloc(n),
        control::Leak::Free => {
            t.leak.free();
            Ok(())
        }
    }
}
