// SPDX-License-Identifier: GPL-2.0

//! The `events` (text) and `events.json` formats: an event as both show it (the black box
//! keeps each event in both), the black box's state and the earlier boots' events.

use super::{
    Event,
    Events,
    Kind,
    Watch, //
};
use crate::{
    bridge, json,
    persist::{
        self,
        Previous,
        Setup, //
    },
    report,
    text::{
        self,
        Reader, //
    },
};
use kernel::{
    fmt::{
        self,
        Display,
        Write, //
    },
    prelude::*,
};

/// The `events` file.
pub(crate) struct Text<'a>(
    pub(crate) &'a Watch,
    pub(crate) &'a Events,
    pub(crate) Reader,
);

impl Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Text(w, c, reader) = *self;
        Display::fmt(&BoxStatus(w), f)?;
        f.write_char('\n')?;
        if let Some(prev) = w.previous() {
            write_previous(f, &prev, w)?;
            f.write_str("\n--- this boot and load\n")?;
        }
        if !w.on() {
            return f.write_str(
                "the watch is off: load with watch_interval_ms=<ms> (e.g. 1000) to record events\n",
            );
        }
        write!(
            f,
            "watch: a sample every {} ms; {} events kept of {}, {} dropped; new events by kind:",
            w.interval_ms,
            c.events.len(),
            c.capacity,
            c.dropped
        )?;
        for (k, n) in Kind::ALL.iter().zip(c.counts.iter()) {
            write!(f, " {} {n}", k.name())?;
        }
        f.write_char('\n')?;
        if c.events.is_empty() {
            return f.write_str("no event yet\n");
        }
        for e in c.events.iter() {
            f.write_char('\n')?;
            Display::fmt(&EventText(e, reader), f)?;
        }
        Ok(())
    }
}

/// The `events.json` file.
pub(crate) struct Json<'a>(
    pub(crate) &'a Watch,
    pub(crate) &'a Events,
    pub(crate) Reader,
);

impl Display for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Json(w, c, reader) = *self;
        let clock = Clock::now();
        json::object(f, |o| {
            o.object("persist", |o| write_persist_json(o, w))?
                .field("watch", w.on())?
                .field("interval_ms", w.interval_ms)?
                .field("capacity", c.capacity)?
                .field("dropped", c.dropped)?
                .object("counts", |o| {
                    for (k, &n) in Kind::ALL.iter().zip(c.counts.iter()) {
                        o.field(k.name(), n)?;
                    }
                    Ok(())
                })?
                .array("previous", |a| match w.previous() {
                    Some(prev) => write_previous_json(a, &prev, w),
                    None => Ok(()),
                })?
                .array("events", |a| {
                    for e in c.events.iter() {
                        let json = EventJson {
                            e,
                            reader,
                            clock,
                            report: true,
                        };
                        a.value(json::Embed(&json))?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
        f.write_char('\n')
    }
}

/// An event as `events` shows it: its line, then its report.
pub(super) struct EventText<'a>(pub(super) &'a Event, pub(super) Reader);

impl Display for EventText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let EventText(e, reader) = *self;
        write!(f, "=== event {}: {}", e.seq, e.kind.name())?;
        if let Some(cpu) = e.cpu {
            write!(f, " CPU {cpu}")?;
        }
        if let Some(pid) = e.pid {
            write!(f, " pid {pid} (")?;
            text::write_comm(f, &e.comm)?;
            f.write_char(')')?;
        }
        f.write_str(", first at ")?;
        write_secs(f, e.first_ns)?;
        if e.updates != 0 {
            f.write_str(", last at ")?;
            write_secs(f, e.taken_ns)?;
            write!(f, " ({} updates)", e.updates)?;
        }
        f.write_char('\n')?;
        match &e.report {
            Some(r) => Display::fmt(&report::Text(r, reader), f),
            None => f.write_str("no report: the watch had not built one\n"),
        }
    }
}

/// An event as an object of `events.json`; `report` false leaves its report out (`null`,
/// with `"report_cut":true`).
#[derive(Clone, Copy)]
pub(super) struct EventJson<'a> {
    pub(super) e: &'a Event,
    pub(super) reader: Reader,
    pub(super) clock: Clock,
    pub(super) report: bool,
}

impl Display for EventJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.e;
        json::object(f, |o| {
            o.field("seq", e.seq)?
                .field("kind", e.kind.name())?
                .field("taken_ns", e.taken_ns)?
                .field("first_ns", e.first_ns)?
                .field("updates", e.updates)?
                .field("taken_real_ns", self.clock.real(e.taken_ns))?
                .field("first_real_ns", self.clock.real(e.first_ns))?
                .field("cpu", e.cpu)?
                .field("pid", e.pid)?
                .field("comm", e.pid.map(|_| json::Str(text::comm_bytes(&e.comm))))?;
            match &e.report {
                Some(r) if self.report => {
                    o.field("report", json::Embed(&report::Json(r, self.reader)))?
                }
                Some(_) => o.field("report", None::<u64>)?.field("report_cut", true)?,
                None => o.field("report", None::<u64>)?,
            };
            Ok(())
        })
    }
}

/// The wall clock beside the monotonic one the events' times are in.
#[derive(Clone, Copy)]
pub(crate) struct Clock {
    mono_ns: u64,
    real_ns: u64,
}

impl Clock {
    /// Both clocks now (NMI-safe).
    pub(crate) fn now() -> Self {
        Self {
            mono_ns: bridge::now_ns(),
            real_ns: bridge::real_ns(),
        }
    }

    /// The wall-clock time of monotonic time `mono_ns`.
    pub(super) fn real(&self, mono_ns: u64) -> u64 {
        self.real_ns
            .saturating_sub(self.mono_ns.saturating_sub(mono_ns))
    }
}

/// Writes a time in ns as seconds: `12.345678901 s`.
fn write_secs(f: &mut fmt::Formatter<'_>, ns: u64) -> fmt::Result {
    write!(f, "{}.{:09} s", ns / 1_000_000_000, ns % 1_000_000_000)
}

/// The black box's state, as the line `status` and `events` show.
pub(crate) struct BoxStatus<'a>(pub(crate) &'a Watch);

impl Display for BoxStatus<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.0;
        const LOST: &str = "events do not survive a reboot";
        f.write_str("persist: ")?;
        let name = text::nul_terminated(&w.persist_name);
        let quoted = |f: &mut fmt::Formatter<'_>| {
            f.write_char('"')?;
            text::write_printable(f, name)?;
            f.write_char('"')
        };
        match &w.persist {
            Setup::On(p) => {
                f.write_str("region ")?;
                quoted(f)?;
                let c = p.counts();
                write!(
                    f,
                    ", {} KiB at {:#x}, {} slots of {} KiB: events survive a warm reboot; \
                     found {} of earlier boots or loads, {} bad records dropped, {} of another \
                     layout; {} written, {} not written, {} evicted",
                    p.size() / 1024,
                    p.phys(),
                    p.slots(),
                    persist::SLOT / 1024,
                    c.found,
                    c.bad,
                    c.other_version,
                    c.written,
                    c.failed,
                    c.evicted
                )?;
                if !p.origin.boot_known() {
                    f.write_str("; this boot's id is unknown (no /proc): an earlier load of this boot reads as an earlier boot")?;
                }
                if !w.on() {
                    f.write_str("; the watch is off: this boot's events are not recorded")?;
                }
                Ok(())
            }
            Setup::NoRegion => {
                f.write_str("no reserve_mem region ")?;
                quoted(f)?;
                write!(f, ": {LOST}")
            }
            Setup::TooSmall(size) => {
                f.write_str("region ")?;
                quoted(f)?;
                write!(
                    f,
                    " is {} KiB, at least {} KiB are needed: {LOST}",
                    size / 1024,
                    persist::MIN_SLOTS * persist::SLOT / 1024
                )
            }
            Setup::Failed(e) => {
                f.write_str("region ")?;
                quoted(f)?;
                write!(f, " could not be used ({e:?}): {LOST}")
            }
            Setup::Off => write!(
                f,
                "off: {LOST} (boot with reserve_mem=2M:4096:kintrospect, load with \
                 persist=kintrospect)"
            ),
        }
    }
}

/// Whether the records of `group` (one boot and load) are of this boot.
fn this_boot(w: &Watch, group: &[persist::Stored]) -> bool {
    w.black_box().is_some_and(|p| {
        p.origin.boot_known() && p.origin.boot_id == group[0].header.origin.boot_id
    })
}

/// The panic record of `group`, if that boot panicked.
fn panic_of(group: &[persist::Stored]) -> Option<&persist::Stored> {
    group
        .iter()
        .find(|r| Kind::from_code(r.header.kind) == Some(Kind::Panic))
}

/// Writes bytes this module wrote as text (checksummed records: whole `str`s).
fn write_stored(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    match core::str::from_utf8(bytes) {
        Ok(s) => f.write_str(s),
        Err(_) => text::write_printable(f, bytes),
    }
}

/// The earlier boots' events in `events`: one heading per boot and load, then its events as
/// that boot's `events` showed them.
fn write_previous(f: &mut fmt::Formatter<'_>, prev: &Previous, w: &Watch) -> fmt::Result {
    for g in prev.groups() {
        let o = g[0].header.origin;
        f.write_str("\n--- ")?;
        if this_boot(w, g) {
            f.write_str("this boot, an earlier load of kintrospect")?;
        } else if o.boot_known() {
            f.write_fmt(fmt!("previous boot {}", persist::Uuid(&o.boot_id)))?;
        } else {
            f.write_str("previous boot (its boot_id unknown)")?;
        }
        f.write_str(", kernel ")?;
        text::write_printable(f, o.release())?;
        f.write_fmt(fmt!(", booted {}", persist::Utc(o.boot_real_s)))?;
        match panic_of(g) {
            Some(p) => f.write_fmt(fmt!(
                ", panicked at {}",
                persist::Utc(p.header.last_real_ns / 1_000_000_000)
            ))?,
            None if this_boot(w, g) => f.write_str(", unloaded")?,
            None => f.write_str(", no panic recorded (rebooted, reset or hung)")?,
        }
        writeln!(f, ": {} event(s)", g.len())?;
        for r in g {
            f.write_char('\n')?;
            write_stored(f, &r.text)?;
        }
    }
    Ok(())
}

/// An event's JSON object as the black box kept it (checksummed: whole, as written).
struct StoredJson<'a>(&'a [u8]);

impl json::Value for StoredJson<'_> {
    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_stored(f, self.0)
    }
}

/// The earlier boots' events in `events.json`: one object per boot and load.
fn write_previous_json(a: &mut json::Array<'_, '_>, prev: &Previous, w: &Watch) -> fmt::Result {
    for g in prev.groups() {
        let origin = g[0].header.origin;
        let uuid = persist::Uuid(&origin.boot_id);
        a.object(|o| {
            o.field("boot_id", origin.boot_known().then_some(json::Text(&uuid)))?
                .field("this_boot", this_boot(w, g))?
                .field("load_id", origin.load_id)?
                .field("release", json::Str(origin.release()))?
                .field("boot_real_s", origin.boot_real_s)?
                .field("panicked", panic_of(g).map(|p| p.header.last_real_ns))?
                .array("events", |a| {
                    for r in g.iter() {
                        a.value(StoredJson(&r.json))?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    }
    Ok(())
}

/// The black box in `events.json`.
fn write_persist_json(o: &mut json::Object<'_, '_>, w: &Watch) -> fmt::Result {
    let (state, p) = match &w.persist {
        Setup::On(p) => ("on", Some(p)),
        Setup::NoRegion => ("no-region", None),
        Setup::TooSmall(_) => ("too-small", None),
        Setup::Failed(_) => ("failed", None),
        Setup::Off => ("off", None),
    };
    let name = text::nul_terminated(&w.persist_name);
    o.field("state", state)?
        .field("region", (!name.is_empty()).then_some(json::Str(name)))?;
    if let Some(p) = p {
        let c = p.counts();
        o.field("size", p.size())?
            .field("phys", p.phys())?
            .field("slots", p.slots())?
            .field("found", c.found)?
            .field("bad", c.bad)?
            .field("other_version", c.other_version)?
            .field("written", c.written)?
            .field("failed", c.failed)?
            .field("evicted", c.evicted)?;
    }
    Ok(())
}
