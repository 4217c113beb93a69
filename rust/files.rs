// SPDX-License-Identifier: GPL-2.0

//! The files under `/sys/kernel/debug/kintrospect/`: what each one shows and does.
//!
//! [`FILES`] lists every file with what a read shows and what a write does, [`COMMANDS`] the
//! commands `control` accepts; both work on the module [`State`]. The files themselves are
//! created by the C part (see [`crate::bridge::Registration`]) so that an open file pins the
//! module.

use crate::{
    bridge::{
        FileDef,
        TestStatus, //
    },
    control, cpus, locks, report, slab,
    state::State,
    status,
    text::Reader,
    watch,
};
use kernel::{
    fmt::{
        self,
        Display, //
    },
    prelude::*,
};

/// The files, in creation order: what a read shows, what a write does.
pub(crate) const FILES: &[FileDef<State>] = &[
    FileDef::read(c"status", show_status),
    FileDef::write(c"control", write_control),
    FileDef::read(c"cpus", |d, f| show_cpus(d, false, f)),
    FileDef::read(c"cpus.json", |d, f| show_cpus(d, true, f)),
    FileDef::read(c"locks", |d, f| show_locks(d, false, f)),
    FileDef::read(c"locks.json", |d, f| show_locks(d, true, f)),
    FileDef::read(c"report", |d, f| show_report(d, false, f)),
    FileDef::read(c"report.json", |d, f| show_report(d, true, f)),
    FileDef::read(c"events", |d, f| show_events(d, false, f)),
    FileDef::read(c"events.json", |d, f| show_events(d, true, f)),
    FileDef::read(c"metrics", show_metrics),
    FileDef::read(c"slab_delta", |d, f| d.slab.write_text(f)),
    FileDef::read(c"slab_delta.json", |d, f| d.slab.write_json(f)),
];

/// The `status` file.
fn show_status(data: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let live = status::Live {
        slab: data.slab.counters(),
        locks_buffer_bytes: data.locks.lock().memory(),
        report_buffer_bytes: data.report.lock().memory(),
        watch: data.watch.counters(),
        watch_box: watch::BoxStatus(&data.watch),
        test: TestStatus::read(),
    };
    data.status.write(f, &live)
}

/// The `locks` and `locks.json` files.
fn show_locks(data: &State, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let state = data.locks.lock();
    match state.latest() {
        // Before the first snapshot, JSON readers still get JSON, as for cpus.json.
        None if json => {
            f.write_str("{\"seq\":0,\"tasks\":[],\"cycles\":[],\"possible_cycles\":[]}\n")
        }
        None => writeln!(f, "no snapshot yet: write \"snapshot locks\" to control"),
        Some(snap) if json => Display::fmt(&locks::Json(snap, Reader::current()), f),
        Some(snap) => Display::fmt(&locks::Text(snap, Reader::current()), f),
    }
}

/// The `report` and `report.json` files.
fn show_report(data: &State, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let state = data.report.lock();
    let empty = report::Report::new();
    let r = state.latest().unwrap_or(&empty);
    match json {
        true => {
            Display::fmt(&report::Json(r, Reader::current()), f)?;
            f.write_str("\n")
        }
        false => Display::fmt(&report::Text(r, Reader::current()), f),
    }
}

/// The `events` and `events.json` files.
fn show_events(data: &State, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    // The read fails with ENOMEM when the copy cannot be had.
    let events = data.watch.copy().map_err(|_| fmt::Error)?;
    let reader = Reader::current();
    match json {
        true => Display::fmt(&watch::Json(&data.watch, &events, reader), f),
        false => Display::fmt(&watch::Text(&data.watch, &events, reader), f),
    }
}

/// The `metrics` file.
fn show_metrics(data: &State, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let events = data.watch.copy().map_err(|_| fmt::Error)?;
    let now = match data.watch.on() {
        true => data.watch.now(),
        // With the watch off, the gauges come from the latest report, if any.
        false => data
            .report
            .lock()
            .latest()
            .map_or(watch::Now::default(), watch::Now::of),
    };
    let mut suspects = KVec::new();
    data.slab.suspects(&mut suspects).map_err(|_| fmt::Error)?;
    let metrics = watch::Metrics {
        watch: &data.watch,
        counts: events.counts,
        dropped: events.dropped,
        now,
        suspects: &suspects,
    };
    Display::fmt(&metrics, f)
}

/// The `cpus` and `cpus.json` files.
fn show_cpus(data: &State, json: bool, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match cpus::Snapshot::latest(&data.nmi) {
        Ok(snap) if json => Display::fmt(&cpus::Json(&snap, Reader::current()), f),
        Ok(snap) => Display::fmt(&cpus::Text(&snap, Reader::current()), f),
        // The read fails with ENOMEM.
        Err(_) => Err(fmt::Error),
    }
}

/// What a `control` command does.
type CommandFn = fn(&State) -> Result;

/// The commands `control` accepts, and what each does.
const COMMANDS: &[(&str, CommandFn)] = &[
    ("snapshot cpus", State::snapshot_cpus),
    ("snapshot locks", |d| d.locks.lock().snapshot().map(|_| ())),
    ("snapshot slab", |d| {
        d.slab.sample(slab::Caller::Control, false)
    }),
    ("snapshot slab sites", |d| {
        d.slab.sample(slab::Caller::Control, true)
    }),
    ("snapshot report", State::snapshot_report),
    ("snapshot all", State::snapshot_report),
    ("baseline", |d| d.slab.baseline()),
    ("clear previous", |d| d.watch.clear_previous()),
];

/// A write to `control`: one command of [`COMMANDS`].
fn write_control(data: &State, input: &[u8], len: usize) -> Result {
    if len > control::MAX_LEN {
        return Err(EINVAL);
    }
    control::parse(input, COMMANDS)?(data)
}
