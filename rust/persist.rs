// SPDX-License-Identifier: GPL-2.0

//! The black box: the watch's events kept in a region of RAM that survives a warm reboot.
//!
//! Booted with `reserve_mem=2M:4096:kintrospect` and loaded with `persist=kintrospect`, the
//! watch writes every event, its report as text and as JSON, into the region as it records
//! and updates it, and the panic notifier writes the panic event (and the hooks' hits no
//! sample took) there too. After the reboot, the next load finds them.
//!
//! # Layout
//!
//! The region is cut into slots of [`SLOT`] bytes; slot `i` starts at `i * SLOT`. A slot holds
//! one record or nothing: a [`HEADER_LEN`]-byte header, then the event's text (as `events`
//! shows it, without raw addresses) and its JSON object (as in `events.json`). All numbers
//! are little-endian:
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic `KIEV` |
//! | 4 | 2 | version, 1 |
//! | 6 | 2 | header length, 144 |
//! | 8 | 4 | record length: header and payload |
//! | 12 | 4 | checksum: zlib's CRC-32 of the payload, continued over the header with this field 0 |
//! | 16 | 16 | the boot's `boot_id` (zero: unknown) |
//! | 32 | 8 | the boot's start, wall-clock seconds |
//! | 40 | 8 | the module load's random id |
//! | 48 | 8 | the event's number in that load |
//! | 56 | 4 | generation: the copy with the highest is the latest |
//! | 60 | 2 | the event's kind: 1 stuck-cpu, 2 hung-task, 3 deadlock, 4 sysrq, 5 oops, 6 panic |
//! | 62 | 2 | flags: 1 the text was cut, 2 the JSON report was left out |
//! | 64 | 8 | first seen, wall-clock ns |
//! | 72 | 8 | last updated, wall-clock ns |
//! | 80 | 4 | text length |
//! | 84 | 4 | JSON length |
//! | 88 | 4 | updates |
//! | 92 | 4 | zero |
//! | 96 | 48 | the kernel release, NUL-padded |
//!
//! A record is written with its magic zero, then the magic last, each step written back from
//! the cache: a reset in the middle leaves a slot without the magic (empty) or one whose
//! checksum fails (dropped and counted), never a record read as whole when it is not. An
//! update goes to a free slot before the older copy is cleared; a reset between the two
//! leaves both, and the higher generation wins.
//!
//! [`PANIC_SLOTS`] slots are set aside at load for the panic notifier, which takes no lock
//! (another CPU, stopped by the panic, may hold it) and so must never share a slot with the
//! watch.

use crate::bridge::{
    self,
    Region, //
};
use kernel::{
    fmt::{
        self,
        Display,
        Write, //
    },
    new_mutex,
    prelude::*,
    sync::{
        Arc,
        Mutex, //
    },
};

/// A record's first bytes.
pub(crate) const MAGIC: [u8; 4] = *b"KIEV";
/// The layout's version.
pub(crate) const VERSION: u16 = 1;
/// Bytes of a record's header.
pub(crate) const HEADER_LEN: usize = 144;
/// Bytes of a slot: a record at most.
pub(crate) const SLOT: usize = 64 * 1024;
/// Slots a region must have at least.
pub(crate) const MIN_SLOTS: usize = 8;
/// Slots kept for the panic notifier: the panic event and two hits no sample took.
pub(crate) const PANIC_SLOTS: usize = 3;
/// Bytes of the kernel release in a header.
const RELEASE_LEN: usize = 48;
/// An incident's updates are written at most this often; its latest copy may be older.
const UPDATE_EVERY_NS: u64 = 1_000_000_000;
/// Room kept after the text for the JSON object (or its short form).
const JSON_ROOM: usize = 4096;
/// The last line of a text that did not fit.
const CUT_NOTE: &str = "\n[cut: the report did not fit the record; see the JSON]\n";

/// Flag: the text was cut.
pub(crate) const FLAG_TEXT_CUT: u16 = 1;
/// Flag: the JSON object's report was left out (it did not fit).
pub(crate) const FLAG_JSON_CUT: u16 = 2;

/// Which boot and load wrote a record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The kernel's `boot_id`; all zero when it could not be read.
    pub(crate) boot_id: [u8; 16],
    /// The boot's start, wall-clock seconds.
    pub(crate) boot_real_s: u64,
    /// The module load's random id.
    pub(crate) load_id: u64,
    /// The kernel release, NUL-padded.
    pub(crate) release: [u8; RELEASE_LEN],
}

impl Origin {
    /// This boot and load.
    fn current() -> Self {
        let mut release = [0u8; RELEASE_LEN];
        let r = bridge::kernel_release().to_bytes();
        let n = r.len().min(RELEASE_LEN - 1);
        release[..n].copy_from_slice(&r[..n]);
        let real = bridge::real_ns();
        Self {
            boot_id: bridge::boot_id().unwrap_or([0; 16]),
            boot_real_s: real.saturating_sub(bridge::boottime_ns()) / 1_000_000_000,
            load_id: bridge::random_u64(),
            release,
        }
    }

    /// Whether the boot's id is known.
    pub(crate) fn boot_known(&self) -> bool {
        self.boot_id != [0; 16]
    }

    /// The kernel release.
    pub(crate) fn release(&self) -> &[u8] {
        crate::text::nul_terminated(&self.release)
    }
}

/// A record's header.
#[derive(Clone, Copy)]
pub(crate) struct Header {
    pub(crate) origin: Origin,
    pub(crate) seq: u64,
    pub(crate) generation: u32,
    /// The event's kind, 1-6 (the watch's `Kind::ALL` order, from 1).
    pub(crate) kind: u16,
    pub(crate) flags: u16,
    pub(crate) first_real_ns: u64,
    pub(crate) last_real_ns: u64,
    pub(crate) updates: u32,
    len: u32,
    text_len: u32,
    json_len: u32,
}

/// Why a slot holds no record that can be shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Bad {
    /// Nothing was ever written, or it was cleared (no magic, a zero first word).
    Empty,
    /// Bytes that are not a record (garbage, or a slot torn before its magic).
    Garbage,
    /// A record of another layout version.
    OtherVersion,
    /// The lengths do not add up.
    Length,
    /// The checksum does not match: torn or corrupted.
    Checksum,
}

fn get_u16(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([b[off], b[off + 1]])
}

fn get_u32(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

fn get_u64(b: &[u8], off: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[off..off + 8]);
    u64::from_le_bytes(v)
}

impl Header {
    /// The header's bytes, its checksum field `crc`.
    fn encode(&self, crc: u32) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&VERSION.to_le_bytes());
        b[6..8].copy_from_slice(&(HEADER_LEN as u16).to_le_bytes());
        b[8..12].copy_from_slice(&self.len.to_le_bytes());
        b[12..16].copy_from_slice(&crc.to_le_bytes());
        b[16..32].copy_from_slice(&self.origin.boot_id);
        b[32..40].copy_from_slice(&self.origin.boot_real_s.to_le_bytes());
        b[40..48].copy_from_slice(&self.origin.load_id.to_le_bytes());
        b[48..56].copy_from_slice(&self.seq.to_le_bytes());
        b[56..60].copy_from_slice(&self.generation.to_le_bytes());
        b[60..62].copy_from_slice(&self.kind.to_le_bytes());
        b[62..64].copy_from_slice(&self.flags.to_le_bytes());
        b[64..72].copy_from_slice(&self.first_real_ns.to_le_bytes());
        b[72..80].copy_from_slice(&self.last_real_ns.to_le_bytes());
        b[80..84].copy_from_slice(&self.text_len.to_le_bytes());
        b[84..88].copy_from_slice(&self.json_len.to_le_bytes());
        b[88..92].copy_from_slice(&self.updates.to_le_bytes());
        b[96..96 + RELEASE_LEN].copy_from_slice(&self.origin.release);
        b
    }

    /// Reads a header: its magic, version and lengths (the checksum needs the payload).
    fn decode(b: &[u8; HEADER_LEN]) -> core::result::Result<(Self, u32), Bad> {
        if b[0..4] != MAGIC {
            return Err(if get_u32(b, 0) == 0 {
                Bad::Empty
            } else {
                Bad::Garbage
            });
        }
        if get_u16(b, 4) != VERSION {
            return Err(Bad::OtherVersion);
        }
        let mut release = [0u8; RELEASE_LEN];
        release.copy_from_slice(&b[96..96 + RELEASE_LEN]);
        let mut boot_id = [0u8; 16];
        boot_id.copy_from_slice(&b[16..32]);
        let h = Self {
            origin: Origin {
                boot_id,
                boot_real_s: get_u64(b, 32),
                load_id: get_u64(b, 40),
                release,
            },
            seq: get_u64(b, 48),
            generation: get_u32(b, 56),
            kind: get_u16(b, 60),
            flags: get_u16(b, 62),
            first_real_ns: get_u64(b, 64),
            last_real_ns: get_u64(b, 72),
            updates: get_u32(b, 88),
            len: get_u32(b, 8),
            text_len: get_u32(b, 80),
            json_len: get_u32(b, 84),
        };
        let (len, text, json) = (h.len as usize, h.text_len as usize, h.json_len as usize);
        let sum = HEADER_LEN
            .checked_add(text)
            .and_then(|n| n.checked_add(json));
        if get_u16(b, 6) as usize != HEADER_LEN
            || len > SLOT
            || sum != Some(len)
            || !(1..=6).contains(&h.kind)
            || b[HEADER_LEN - 1] != 0
        {
            return Err(Bad::Length);
        }
        Ok((h, get_u32(b, 12)))
    }
}

/// Where records are kept: the region, or memory in the KUnit suites.
pub(crate) trait Store: Sync {
    fn size(&self) -> usize;
    fn read(&self, off: usize, out: &mut [u8]) -> Result;
    fn write(&self, off: usize, data: &[u8]) -> Result;
    fn flush(&self, off: usize, len: usize);
}

impl<T: Store> Store for &T {
    fn size(&self) -> usize {
        (**self).size()
    }
    fn read(&self, off: usize, out: &mut [u8]) -> Result {
        (**self).read(off, out)
    }
    fn write(&self, off: usize, data: &[u8]) -> Result {
        (**self).write(off, data)
    }
    fn flush(&self, off: usize, len: usize) {
        (**self).flush(off, len)
    }
}

impl Store for Region {
    fn size(&self) -> usize {
        Region::size(self)
    }
    fn read(&self, off: usize, out: &mut [u8]) -> Result {
        Region::read(self, off, out)
    }
    fn write(&self, off: usize, data: &[u8]) -> Result {
        Region::write(self, off, data)
    }
    fn flush(&self, off: usize, len: usize) {
        Region::flush(self, off, len)
    }
}

/// A record found in the region.
pub(crate) struct Stored {
    pub(crate) header: Header,
    pub(crate) text: KVec<u8>,
    pub(crate) json: KVec<u8>,
    slot: usize,
}

/// Reads the record in slot `slot`: the record, or why there is none.
fn read_slot<S: Store>(store: &S, slot: usize) -> core::result::Result<Stored, Bad> {
    let off = slot * SLOT;
    let mut hb = [0u8; HEADER_LEN];
    store.read(off, &mut hb).map_err(|_| Bad::Length)?;
    let (header, crc) = Header::decode(&hb)?;
    let mut text = KVec::new();
    let mut json = KVec::new();
    for (buf, at, len) in [
        (&mut text, HEADER_LEN, header.text_len as usize),
        (
            &mut json,
            HEADER_LEN + header.text_len as usize,
            header.json_len as usize,
        ),
    ] {
        // A record that cannot be copied is not shown: as if torn.
        buf.resize(len, 0, GFP_KERNEL).map_err(|_| Bad::Length)?;
        store.read(off + at, buf).map_err(|_| Bad::Length)?;
    }
    let mut sum = bridge::crc32(0, &text);
    sum = bridge::crc32(sum, &json);
    hb[12..16].fill(0);
    if bridge::crc32(sum, &hb) != crc {
        return Err(Bad::Checksum);
    }
    Ok(Stored {
        header,
        text,
        json,
        slot,
    })
}

/// A writer into a slot that stops at its end and sums what it wrote.
struct SlotWriter<'a, S: Store> {
    store: &'a S,
    at: usize,
    end: usize,
    crc: u32,
}

impl<S: Store> Write for SlotWriter<'_, S> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let b = s.as_bytes();
        if self.at + b.len() > self.end {
            return Err(fmt::Error);
        }
        self.store.write(self.at, b).map_err(|_| fmt::Error)?;
        self.crc = bridge::crc32(self.crc, b);
        self.at += b.len();
        Ok(())
    }
}

/// What to write of an event: its header fields and its text and JSON forms.
pub(crate) struct Record<'a> {
    pub(crate) seq: u64,
    pub(crate) kind: u16,
    pub(crate) first_real_ns: u64,
    pub(crate) last_real_ns: u64,
    pub(crate) updates: u32,
    pub(crate) text: &'a dyn Display,
    pub(crate) json: &'a dyn Display,
    /// The JSON object without its report, if the whole one does not fit.
    pub(crate) json_short: &'a dyn Display,
}

/// Writes `r` into slot `slot` as generation `generation` of `origin`. Never allocates or
/// sleeps (the panic notifier calls it).
fn write_slot<S: Store>(
    store: &S,
    slot: usize,
    origin: &Origin,
    generation: u32,
    r: &Record<'_>,
) -> Result {
    let off = slot * SLOT;
    // First the magic goes: a reset from here on leaves an empty slot or a torn record.
    clear_slot(store, slot);
    let start = off + HEADER_LEN;
    let mut w = SlotWriter {
        store,
        at: start,
        end: off + SLOT - JSON_ROOM - CUT_NOTE.len(),
        crc: 0,
    };
    let mut flags = 0;
    if w.write_fmt(fmt!("{}", r.text)).is_err() {
        w.end = off + SLOT - JSON_ROOM;
        w.write_str(CUT_NOTE).map_err(|_| EINVAL)?;
        flags |= FLAG_TEXT_CUT;
    }
    let text_len = w.at - start;
    let (json_at, text_crc) = (w.at, w.crc);
    w.end = off + SLOT;
    if w.write_fmt(fmt!("{}", r.json)).is_err() {
        w.at = json_at;
        w.crc = text_crc;
        w.write_fmt(fmt!("{}", r.json_short)).map_err(|_| EINVAL)?;
        flags |= FLAG_JSON_CUT;
    }
    let json_len = w.at - json_at;
    let h = Header {
        origin: *origin,
        seq: r.seq,
        generation,
        kind: r.kind,
        flags,
        first_real_ns: r.first_real_ns,
        last_real_ns: r.last_real_ns,
        updates: r.updates,
        len: (w.at - off) as u32,
        text_len: text_len as u32,
        json_len: json_len as u32,
    };
    let mut hb = h.encode(0);
    let crc = bridge::crc32(w.crc, &hb);
    hb[12..16].copy_from_slice(&crc.to_le_bytes());
    // The header without its magic, the payload written back, then the magic.
    store.write(off + 4, &hb[4..])?;
    store.flush(off, w.at - off);
    store.write(off, &hb[..4])?;
    store.flush(off, 4);
    Ok(())
}

/// Clears slot `slot` (its magic): nothing reads it as a record from then on. Every caller
/// found the slot in the store, so the write cannot fall outside it.
fn clear_slot<S: Store>(store: &S, slot: usize) {
    let _ = store.write(slot * SLOT, &[0; 4]);
    store.flush(slot * SLOT, 4);
}

/// The records found at load, of earlier boots or loads, oldest first.
pub(crate) struct Previous {
    pub(crate) records: KVec<Stored>,
}

impl Previous {
    /// The records by the boot and load that wrote them, oldest first, one slice of
    /// [`Previous::records`] each.
    pub(crate) fn groups(&self) -> impl Iterator<Item = &[Stored]> {
        self.records
            .chunk_by(|a, b| a.header.origin == b.header.origin)
    }
}

/// What a slot is used for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Free,
    /// A record of an earlier boot or load.
    Previous,
    /// Kept for the panic notifier.
    Panic,
    /// This load's event `seq`, its copy written at `written_ns` (wall clock).
    Event {
        seq: u64,
        generation: u32,
        written_ns: u64,
    },
}

/// What the scan at load found, and what was done since.
#[derive(Clone, Copy, Default)]
pub(crate) struct Counts {
    /// Records of earlier boots or loads found at load.
    pub(crate) found: u32,
    /// Slots whose bytes were not a record, or whose checksum failed.
    pub(crate) bad: u32,
    /// Records of another layout version.
    pub(crate) other_version: u32,
    /// Older copies of an updated event, superseded.
    pub(crate) stale: u32,
    /// Records written by this load.
    pub(crate) written: u64,
    /// Records this load could not write (no room, or a record that cannot fit).
    pub(crate) failed: u64,
    /// Records of earlier boots cleared to make room.
    pub(crate) evicted: u64,
}

struct State {
    uses: KVec<Use>,
    previous: Option<Arc<Previous>>,
    counts: Counts,
}

/// The black box: a region and what this load keeps in it.
#[pin_data]
pub(crate) struct Persist<S: Store> {
    store: S,
    /// The region's name.
    pub(crate) name: [u8; bridge::PERSIST_NAME_LEN],
    slots: usize,
    panic_slots: [usize; PANIC_SLOTS],
    /// This boot and load.
    pub(crate) origin: Origin,
    #[pin]
    state: Mutex<State>,
}

/// The black box as it was set up at load: the region in use, or why there is none.
pub(crate) enum Setup<S: Store> {
    /// No `persist=`.
    Off,
    /// No region of that name.
    NoRegion,
    /// The region is too small (its size in bytes).
    TooSmall(usize),
    /// The region could not be mapped or read.
    Failed(Error),
    /// Events persist, in this region.
    On(Pin<KBox<Persist<S>>>),
}

impl<S: Store> Setup<S> {
    /// The region in use, if events persist.
    pub(crate) fn black_box(&self) -> Option<&Persist<S>> {
        match self {
            Setup::On(p) => Some(p),
            _ => None,
        }
    }
}

impl<S: Store> Persist<S> {
    /// Scans `store` and sets this load up in it: keeps the records of earlier boots and
    /// loads, clears the rest, sets the panic slots aside. `EINVAL` when it has fewer than
    /// [`MIN_SLOTS`] slots.
    pub(crate) fn new(store: S, name: &[u8], origin: Origin) -> Result<impl PinInit<Self, Error>> {
        let slots = store.size() / SLOT;
        if slots < MIN_SLOTS {
            return Err(EINVAL);
        }
        let mut counts = Counts::default();
        let mut uses = KVec::with_capacity(slots, GFP_KERNEL)?;
        let mut found: KVec<Stored> = KVec::new();
        for slot in 0..slots {
            uses.push(Use::Free, GFP_KERNEL)?;
            match read_slot(&store, slot) {
                Ok(s) => {
                    // The same event twice (a reset between an update and the clear of the
                    // older copy): the higher generation stays.
                    let same = found.iter().position(|o| {
                        o.header.origin == s.header.origin && o.header.seq == s.header.seq
                    });
                    match same {
                        Some(i) if found[i].header.generation >= s.header.generation => {
                            clear_slot(&store, slot);
                            counts.stale += 1;
                        }
                        Some(i) => {
                            clear_slot(&store, found[i].slot);
                            counts.stale += 1;
                            found[i] = s;
                        }
                        None => found.push(s, GFP_KERNEL)?,
                    }
                }
                Err(Bad::Empty) => {}
                Err(Bad::OtherVersion) => {
                    counts.other_version += 1;
                    clear_slot(&store, slot);
                }
                Err(_) => {
                    counts.bad += 1;
                    clear_slot(&store, slot);
                }
            }
        }
        found.sort_unstable_by_key(|s| {
            (
                s.header.origin.boot_real_s,
                s.header.origin.load_id,
                s.header.seq,
            )
        });
        for s in found.iter() {
            uses[s.slot] = Use::Previous;
        }
        counts.found = found.len() as u32;
        // The panic slots, and room for two events, evicting the oldest records if need be.
        let mut panic_slots = [0; PANIC_SLOTS];
        let mut taken = 0;
        loop {
            let free = uses.iter().filter(|u| **u == Use::Free).count();
            if free >= PANIC_SLOTS + 2 || found.is_empty() {
                break;
            }
            let oldest = found.remove(0).map_err(|_| EINVAL)?;
            clear_slot(&store, oldest.slot);
            uses[oldest.slot] = Use::Free;
            counts.evicted += 1;
        }
        for (slot, u) in uses.iter_mut().enumerate().rev() {
            if taken < PANIC_SLOTS && *u == Use::Free {
                *u = Use::Panic;
                panic_slots[taken] = slot;
                taken += 1;
            }
        }
        let previous = if found.is_empty() {
            None
        } else {
            Some(Arc::new(Previous { records: found }, GFP_KERNEL)?)
        };
        let mut n = [0u8; bridge::PERSIST_NAME_LEN];
        let len = name.len().min(n.len() - 1);
        n[..len].copy_from_slice(&name[..len]);
        Ok(try_pin_init!(Self {
            store,
            name: n,
            slots,
            panic_slots,
            origin,
            state <- new_mutex!(
                State {
                    uses,
                    previous,
                    counts,
                },
                "kintrospect_persist"
            ),
        }? Error))
    }

    /// The region's size in bytes.
    pub(crate) fn size(&self) -> usize {
        self.store.size()
    }

    /// Slots in the region.
    pub(crate) fn slots(&self) -> usize {
        self.slots
    }

    /// The records of earlier boots and loads, if any are kept.
    pub(crate) fn previous(&self) -> Option<Arc<Previous>> {
        self.state.lock().previous.clone()
    }

    /// What was found and written.
    pub(crate) fn counts(&self) -> Counts {
        self.state.lock().counts
    }

    /// Writes this load's event `r` (new, or updated: then at most every [`UPDATE_EVERY_NS`]
    /// unless `force`). Process context.
    pub(crate) fn write(&self, r: &Record<'_>, force: bool) {
        let mut st = self.state.lock();
        let now = r.last_real_ns;
        let old = st
            .uses
            .iter()
            .position(|u| matches!(u, Use::Event { seq, .. } if *seq == r.seq));
        let generation = match old.map(|i| st.uses[i]) {
            Some(Use::Event {
                generation,
                written_ns,
                ..
            }) => {
                if !force && now.saturating_sub(written_ns) < UPDATE_EVERY_NS {
                    return;
                }
                generation + 1
            }
            _ => 1,
        };
        // A free slot; else the oldest of this load's other events, else the oldest record
        // of an earlier boot.
        let slot = match st.uses.iter().position(|u| *u == Use::Free) {
            Some(i) => i,
            None => {
                let oldest = st
                    .uses
                    .iter()
                    .enumerate()
                    .filter_map(|(i, u)| match u {
                        Use::Event { seq, .. } if *seq != r.seq => Some((*seq, i)),
                        _ => None,
                    })
                    .min();
                match (oldest, old) {
                    (Some((_, i)), _) => i,
                    (None, Some(i)) => i,
                    (None, None) => match st.uses.iter().position(|u| *u == Use::Previous) {
                        Some(i) => {
                            st.counts.evicted += 1;
                            i
                        }
                        None => {
                            st.counts.failed += 1;
                            return;
                        }
                    },
                }
            }
        };
        match write_slot(&self.store, slot, &self.origin, generation, r) {
            Ok(()) => {
                st.counts.written += 1;
                if let Some(i) = old.filter(|i| *i != slot) {
                    clear_slot(&self.store, i);
                    st.uses[i] = Use::Free;
                }
                st.uses[slot] = Use::Event {
                    seq: r.seq,
                    generation,
                    written_ns: now,
                };
            }
            Err(_) => {
                st.counts.failed += 1;
                st.uses[slot] = Use::Free;
            }
        }
    }

    /// Clears this load's event `seq` (the ring dropped it). Process context.
    pub(crate) fn forget(&self, seq: u64) {
        let mut st = self.state.lock();
        if let Some(i) = st
            .uses
            .iter()
            .position(|u| matches!(u, Use::Event { seq: s, .. } if *s == seq))
        {
            clear_slot(&self.store, i);
            st.uses[i] = Use::Free;
        }
    }

    /// `clear previous`: clears the records of earlier boots and loads. Process context.
    pub(crate) fn clear_previous(&self) {
        let old = {
            let mut st = self.state.lock();
            for (i, u) in st.uses.iter_mut().enumerate() {
                if *u == Use::Previous {
                    clear_slot(&self.store, i);
                    *u = Use::Free;
                }
            }
            st.previous.take()
        };
        drop(old);
    }

    /// Writes `r` into panic slot `n` (0 for the panic event). Takes no lock and never
    /// allocates: for the panic notifier only, which runs once.
    pub(crate) fn write_in_panic(&self, n: usize, r: &Record<'_>) -> Result {
        let slot = *self.panic_slots.get(n).ok_or(EINVAL)?;
        write_slot(&self.store, slot, &self.origin, 1, r)
    }
}

/// A boot's id as a UUID: `8-4-4-4-12` hex digits.
pub(crate) struct Uuid<'a>(pub(crate) &'a [u8; 16]);

impl Display for Uuid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_char('-')?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A wall-clock time in seconds since the epoch, as `2026-12-07 16:31:05 UTC`.
pub(crate) struct Utc(pub(crate) u64);

impl Display for Utc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, secs) = (self.0 / 86_400, self.0 % 86_400);
        // Days since 1970-01-01 to a civil date (proleptic Gregorian), by 400-year eras from
        // 0000-03-01.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        write!(
            f,
            "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

impl Persist<Region> {
    /// Sets up the black box in the region `persist=` names, for this boot and load.
    pub(crate) fn setup(name: &CStr) -> Setup<Region> {
        let region = match Region::map(name) {
            Ok(r) => r,
            Err(e) if e == ENOENT => return Setup::NoRegion,
            Err(e) => return Setup::Failed(e),
        };
        let size = region.size();
        let init = match Self::new(region, name.to_bytes(), Origin::current()) {
            Ok(init) => init,
            Err(e) if e == EINVAL => return Setup::TooSmall(size),
            Err(e) => return Setup::Failed(e),
        };
        match KBox::pin_init(init, GFP_KERNEL) {
            Ok(p) => Setup::On(p),
            Err(e) => Setup::Failed(e),
        }
    }

    /// The region's physical address.
    pub(crate) fn phys(&self) -> u64 {
        self.store.phys()
    }
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_persist)]
mod tests {
    use super::*;
    use core::cell::UnsafeCell;

    /// Memory standing in for the region.
    struct Mem(UnsafeCell<KVec<u8>>);

    // SAFETY: Each test uses its `Mem` from one thread.
    unsafe impl Sync for Mem {}

    impl Mem {
        fn new(size: usize) -> Result<Self> {
            let mut v = KVec::new();
            v.resize(size, 0, GFP_KERNEL)?;
            Ok(Self(UnsafeCell::new(v)))
        }
        fn bytes(&self) -> &mut KVec<u8> {
            // SAFETY: One thread; no reference is kept across calls.
            unsafe { &mut *self.0.get() }
        }
    }

    impl Store for Mem {
        fn size(&self) -> usize {
            self.bytes().len()
        }
        fn read(&self, off: usize, out: &mut [u8]) -> Result {
            let b = self.bytes().get(off..off + out.len()).ok_or(EINVAL)?;
            out.copy_from_slice(b);
            Ok(())
        }
        fn write(&self, off: usize, data: &[u8]) -> Result {
            let b = self.bytes().get_mut(off..off + data.len()).ok_or(EINVAL)?;
            b.copy_from_slice(data);
            Ok(())
        }
        fn flush(&self, _: usize, _: usize) {}
    }

    fn origin(boot: u8, load: u64) -> Origin {
        let mut release = [0u8; RELEASE_LEN];
        release[..5].copy_from_slice(b"7.3.4");
        Origin {
            boot_id: [boot; 16],
            boot_real_s: u64::from(boot) * 1000,
            load_id: load,
            release,
        }
    }

    fn record<'a>(seq: u64, text: &'a dyn Display, json: &'a dyn Display) -> Record<'a> {
        Record {
            seq,
            kind: 1,
            first_real_ns: 5,
            last_real_ns: seq * UPDATE_EVERY_NS,
            updates: 0,
            text,
            json,
            json_short: &"{\"short\":true}",
        }
    }

    /// Writes events 1-3 of boot 1 into a fresh region and gives the region back.
    fn region_with_three() -> Result<Mem> {
        let mem = Mem::new(MIN_SLOTS * SLOT)?;
        let p = KBox::pin_init(Persist::new(&mem, b"t", origin(1, 7))?, GFP_KERNEL)?;
        for seq in 1..=3 {
            p.write(&record(seq, &"text\n", &"{\"j\":1}"), false);
        }
        assert_eq!(p.counts().written, 3);
        drop(p);
        Ok(mem)
    }

    /// A record written is found by the next load, as an earlier one, whole.
    #[test]
    fn next_load_finds_records() -> Result {
        let mem = region_with_three()?;
        let p = KBox::pin_init(Persist::new(&mem, b"t", origin(2, 8))?, GFP_KERNEL)?;
        let prev = p.previous().ok_or(EINVAL)?;
        assert_eq!(prev.records.len(), 3);
        assert_eq!(&prev.records[0].text[..], b"text\n");
        assert_eq!(&prev.records[2].json[..], b"{\"j\":1}");
        assert_eq!(prev.groups().count(), 1);
        assert_eq!(p.counts().bad, 0);
        Ok(())
    }

    /// A flipped byte fails the checksum: that record alone is dropped and counted.
    #[test]
    fn corrupted_record_is_dropped() -> Result {
        let mem = region_with_three()?;
        let b = mem.bytes();
        // Slot 1's payload; slot 0's header.
        b[SLOT + HEADER_LEN] ^= 0x20;
        b[12] ^= 1;
        let p = KBox::pin_init(Persist::new(&mem, b"t", origin(2, 8))?, GFP_KERNEL)?;
        assert_eq!(p.previous().ok_or(EINVAL)?.records.len(), 1);
        assert_eq!(p.counts().bad, 2);
        Ok(())
    }

    /// Random bytes everywhere: nothing is shown, every slot counted bad, nothing breaks; a
    /// record of a newer layout is refused by its version.
    #[test]
    fn garbage_and_other_versions() -> Result {
        let mem = region_with_three()?;
        let b = mem.bytes();
        b[4] = 2;
        let mut x: u32 = 0x1234_5678;
        for v in b[SLOT..].iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *v = x as u8;
        }
        let p = KBox::pin_init(Persist::new(&mem, b"t", origin(2, 8))?, GFP_KERNEL)?;
        assert!(p.previous().is_none());
        assert_eq!(p.counts().other_version, 1);
        assert_eq!(p.counts().bad as usize, MIN_SLOTS - 1);
        Ok(())
    }

    /// Too small a region is refused.
    #[test]
    fn too_small() -> Result {
        let mem = Mem::new((MIN_SLOTS - 1) * SLOT)?;
        assert!(Persist::new(&mem, b"t", origin(1, 1)).is_err());
        Ok(())
    }

    /// An update goes to another slot, the older copy is cleared; a reset between the two
    /// leaves both, and the later generation is shown.
    #[test]
    fn update_keeps_one_copy() -> Result {
        let mem = Mem::new(MIN_SLOTS * SLOT)?;
        let p = KBox::pin_init(Persist::new(&mem, b"t", origin(1, 7))?, GFP_KERNEL)?;
        p.write(&record(1, &"old\n", &"{}"), false);
        let mut r = record(1, &"new\n", &"{}");
        r.last_real_ns += UPDATE_EVERY_NS;
        p.write(&r, false);
        // Within the update period: not written.
        r.last_real_ns += 1;
        p.write(&r, false);
        assert_eq!(p.counts().written, 2);
        drop(p);
        let q = KBox::pin_init(Persist::new(&mem, b"t", origin(2, 8))?, GFP_KERNEL)?;
        let prev = q.previous().ok_or(EINVAL)?;
        assert_eq!(prev.records.len(), 1);
        assert_eq!(&prev.records[0].text[..], b"new\n");
        assert_eq!(prev.records[0].header.generation, 2);
        assert_eq!(q.counts().stale, 0);
        Ok(())
    }

    /// A text too long for a slot is cut with a note, and the JSON falls back to its short
    /// form; both are flagged.
    #[test]
    fn too_long_is_cut_and_flagged() -> Result {
        struct Long(usize);
        impl Display for Long {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for _ in 0..self.0 {
                    f.write_str("0123456789abcdef")?;
                }
                Ok(())
            }
        }
        let mem = Mem::new(MIN_SLOTS * SLOT)?;
        let p = KBox::pin_init(Persist::new(&mem, b"t", origin(1, 7))?, GFP_KERNEL)?;
        p.write(&record(1, &Long(SLOT / 16), &Long(SLOT / 16)), false);
        drop(p);
        let q = KBox::pin_init(Persist::new(&mem, b"t", origin(2, 8))?, GFP_KERNEL)?;
        let prev = q.previous().ok_or(EINVAL)?;
        let h = prev.records[0].header;
        assert_eq!(h.flags, FLAG_TEXT_CUT | FLAG_JSON_CUT);
        assert!(prev.records[0].text.ends_with(CUT_NOTE.as_bytes()));
        assert_eq!(&prev.records[0].json[..], b"{\"short\":true}");
        Ok(())
    }

    /// Wall-clock seconds as a UTC date.
    #[test]
    fn utc() -> Result {
        let s = kernel::str::CString::try_from_fmt(fmt!(
            "{}|{}|{}",
            Utc(0),
            Utc(951_782_400),
            Utc(1_796_747_465)
        ))?;
        assert_eq!(
            s.to_bytes(),
            b"1970-01-01 00:00:00 UTC|2000-02-29 00:00:00 UTC|2026-12-08 16:31:05 UTC"
        );
        Ok(())
    }
}
