// SPDX-License-Identifier: GPL-2.0

//! The watch's side of the black box (`persist=`, [`crate::persist`]): each event written
//! into the region as `events` and `events.json` show it (how the files show the region and
//! the earlier boots' events is in [`super::format`]).

use super::{
    format::{
        Clock,
        EventJson,
        EventText, //
    },
    Event,
};
use crate::{
    bridge::Region,
    persist::{
        Persist,
        Record, //
    },
    text::Reader,
};
use kernel::prelude::*;

/// How the black box's records show reports: no raw addresses (whoever reads them later).
const PERSIST_READER: Reader = Reader {
    raw_addresses: false,
};

/// Writes event `e` into the black box: into panic slot `panic_slot` from the panic notifier,
/// else as this load's event (an update at most once a second unless `force`).
pub(super) fn persist_event(
    p: &Persist<Region>,
    e: &Event,
    clock: Clock,
    panic_slot: Option<usize>,
    force: bool,
) -> Result {
    let text = EventText(e, PERSIST_READER);
    let json = EventJson {
        e,
        reader: PERSIST_READER,
        clock,
        report: true,
    };
    let short = EventJson {
        report: false,
        ..json
    };
    let r = Record {
        seq: e.seq,
        kind: e.kind.code(),
        first_real_ns: clock.real(e.first_ns),
        last_real_ns: clock.real(e.taken_ns),
        updates: e.updates,
        text: &text,
        json: &json,
        json_short: &short,
    };
    match panic_slot {
        Some(i) => p.write_in_panic(i, &r),
        None => {
            p.write(&r, force);
            Ok(())
        }
    }
}
