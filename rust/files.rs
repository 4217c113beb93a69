// SPDX-License-Identifier: GPL-2.0

//! The debugfs tree, `/sys/kernel/debug/kintrospect/`, and the state its files share.
//!
//! Everything the files use lives in one [`Data`] owned by the debugfs [`Scope`]: dropping the
//! scope first removes the files (waiting for reads and writes in progress), then drops the
//! data, the SysRq key before the NMI buffers it uses.

use crate::{
    bridge::{
        self,
        Nmi,
        Source,
        SpinEnd,
        Sysrq,
        TestPath, //
    },
    control::{
        self,
        Command, //
    },
    cpus,
    status::Status,
};
use kernel::{
    debugfs::Scope,
    fmt,
    new_mutex,
    prelude::*,
    sync::Mutex,
    uaccess::UserSliceReader,
};

/// State shared by kintrospect's files.
#[pin_data]
pub(crate) struct Data {
    // Field order is drop order: the SysRq key goes before the NMI buffers it captures into.
    sysrq: Sysrq,
    nmi: Nmi,
    /// Serialises `control` writers, so that a second one waits instead of failing.
    #[pin]
    control_lock: Mutex<()>,
    status: Status,
    test: Option<TestPath>,
    spin_timeout_ms: u32,
}

impl Data {
    /// Registers the NMI handler, then the SysRq key, with the module parameters.
    fn new() -> impl PinInit<Self, Error> {
        let timeout_ms = bridge::params::nmi_timeout_ms();
        let key = bridge::params::sysrq_key();
        let test_paths = bridge::params::test_paths();
        try_pin_init!(Self {
            nmi: Nmi::register(timeout_ms)?,
            sysrq: Sysrq::register(key).inspect_err(|e| {
                if *e == EBUSY {
                    pr_err!(
                        "SysRq key '{}' is already taken; load with sysrq_key=<another key>\n",
                        char::from(key)
                    );
                } else {
                    pr_err!("SysRq key '{}' cannot be used\n", char::from(key));
                }
            })?,
            control_lock <- new_mutex!(()),
            status: Status {
                features: bridge::features(),
                sysrq_key: key,
                nmi_timeout_ms: timeout_ms,
                test_paths,
                nr_cpu_slots: nmi.nr_slots(),
                snapshot_memory: nmi.memory(),
            },
            test: test_paths.then(TestPath::new),
            spin_timeout_ms: bridge::params::spin_timeout_ms(),
        }? Error)
    }
}

/// Creates `/sys/kernel/debug/kintrospect/` and everything in it.
pub(crate) fn create() -> impl PinInit<Scope<Data>, Error> {
    Scope::dir(Data::new(), c"kintrospect", |data, dir| {
        dir.read_callback_file(c"status", data, &status_show);
        dir.write_only_callback_file(c"control", data, &control_write);
        dir.read_callback_file(c"cpus", data, &cpus_show);
        dir.read_callback_file(c"cpus.json", data, &cpus_json_show);
        if data.test.is_some() {
            let test = dir.dir(c"test");
            test.read_callback_file(c"spin", data, &spin_show);
            test.read_callback_file(c"spin_irqoff", data, &spin_irqoff_show);
            test.write_only_callback_file(c"release", data, &release_write);
        }
    })
}

fn status_show(data: &Data, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    data.status.write(f, Status::kernel_release())
}

fn control_write(data: &Data, reader: &mut UserSliceReader) -> Result {
    let len = reader.len();
    if len > control::MAX_LEN {
        return Err(EINVAL);
    }
    let mut buf = [0u8; control::MAX_LEN];
    reader.read_slice(&mut buf[..len])?;
    match control::parse(&buf[..len])? {
        Command::SnapshotCpus => {
            let _guard = data.control_lock.lock();
            data.nmi.capture(Source::Control)
        }
    }
}

/// Writes the latest CPU snapshot with `format`, or why it cannot.
fn show_cpus<F>(data: &Data, f: &mut fmt::Formatter<'_>, format: F) -> fmt::Result
where
    F: Fn(&mut fmt::Formatter<'_>, &cpus::Snapshot, &cpus::Kallsyms) -> fmt::Result,
{
    match cpus::Snapshot::latest(&data.nmi) {
        Ok(snap) => format(f, &snap, &cpus::Kallsyms::new()),
        Err(e) => writeln!(f, "error: cannot copy the snapshot ({e:?})"),
    }
}

fn cpus_show(data: &Data, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    show_cpus(data, f, |f, snap, syms| {
        write!(f, "{}", cpus::Text(snap, syms))
    })
}

fn cpus_json_show(data: &Data, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    show_cpus(data, f, |f, snap, syms| {
        write!(f, "{}", cpus::Json(snap, syms))
    })
}

/// Spins in a read of `test/spin` or `test/spin_irqoff` and says how it ended.
fn spin(data: &Data, irqoff: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(test) = &data.test else {
        return Ok(());
    };
    match test.spin(irqoff, data.spin_timeout_ms) {
        SpinEnd::Released => writeln!(f, "released"),
        SpinEnd::TimedOut => writeln!(f, "timed out after {} ms", data.spin_timeout_ms),
        SpinEnd::Unloading => writeln!(f, "ended by unload"),
    }
}

fn spin_show(data: &Data, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    spin(data, false, f)
}

fn spin_irqoff_show(data: &Data, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    spin(data, true, f)
}

fn release_write(data: &Data, reader: &mut UserSliceReader) -> Result {
    // Any write releases; its content is not looked at.
    reader.skip(reader.len())?;
    if let Some(test) = &data.test {
        test.release();
    }
    Ok(())
}
