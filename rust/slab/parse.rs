// SPDX-License-Identifier: GPL-2.0

//! Parsers of the kernel's slab reports: `/proc/slabinfo` and SLUB's `alloc_traces`.
//!
//! Both are text the kernel writes for people; a line that does not have the expected shape is
//! rejected (counted by the caller), never trusted in part, and never makes the parser panic.

use kernel::prelude::*;

/// Longest cache name kept; longer names are cut (and counted as such).
pub(crate) const NAME_LEN: usize = 64;

/// The first line of the only `/proc/slabinfo` format understood.
pub(crate) const SLABINFO_HEADER: &[u8] = b"slabinfo - version: 2.1";

/// A slab cache name, inline so that a sample allocates once for all its caches.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Name {
    len: u8,
    bytes: [u8; NAME_LEN],
}

impl Name {
    /// The name `s`, cut at [`NAME_LEN`] bytes; the flag says whether it was cut.
    pub(crate) fn new(s: &[u8]) -> (Self, bool) {
        let n = s.len().min(NAME_LEN);
        let mut bytes = [0u8; NAME_LEN];
        bytes[..n].copy_from_slice(&s[..n]);
        // `n` is at most `NAME_LEN` (64), which fits in a `u8`.
        (
            Self {
                len: n as u8,
                bytes,
            },
            n < s.len(),
        )
    }

    /// The name's bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len).min(NAME_LEN)]
    }
}

/// One `/proc/slabinfo` line.
#[derive(Clone, Copy)]
#[cfg_attr(
    not(kintrospect_kunit),
    expect(
        dead_code,
        reason = "every column of a line is parsed; only the tests read some"
    )
)]
pub(crate) struct Cache {
    pub(crate) name: Name,
    pub(crate) active_objs: u64,
    pub(crate) num_objs: u64,
    /// The size of one object in the slab, with SLUB's metadata (`s->size`).
    pub(crate) objsize: u64,
    pub(crate) objperslab: u64,
    pub(crate) pagesperslab: u64,
    pub(crate) active_slabs: u64,
    pub(crate) num_slabs: u64,
    /// Whether the sample's slabinfo listings had the cache; `false`: missing from them (they
    /// can skip a cache while others are created or destroyed), counts carried over from the
    /// sample before.
    pub(crate) listed: bool,
    /// Whether `active_objs` counts only live objects: the cache has no per-CPU sheaves, or
    /// they were flushed right before the reading.
    pub(crate) exact: bool,
    /// Set (to the bound) when the cache was not flushed because its count moved by more than
    /// the bound of objects its sheaves can hold since the baseline: not exact, but the sign of
    /// the change is certain (see [`super::sheaves`]).
    pub(crate) beyond: Option<u64>,
}

// Only the KUnit suites build caches by hand.
#[cfg(kintrospect_kunit)]
impl Cache {
    /// A listed cache `name` of `active_objs` objects of 64 bytes, all live and counted exactly.
    pub(crate) fn for_test(name: &[u8], active_objs: u64) -> Self {
        Self {
            name: Name::new(name).0,
            active_objs,
            num_objs: active_objs,
            objsize: 64,
            objperslab: 64,
            pagesperslab: 1,
            active_slabs: 1,
            num_slabs: 1,
            listed: true,
            exact: true,
            beyond: None,
        }
    }
}

/// Parses a decimal number of at most 19 digits (no sign, no overflow).
fn number(word: &[u8]) -> Option<u64> {
    if word.is_empty() || word.len() > 19 {
        return None;
    }
    word.iter().try_fold(0u64, |n, &d| {
        d.is_ascii_digit().then(|| n * 10 + u64::from(d - b'0'))
    })
}

/// The blank-separated words of `s`.
fn words(s: &[u8]) -> impl Iterator<Item = &[u8]> {
    s.split(|b| *b == b' ' || *b == b'\t')
        .filter(|w| !w.is_empty())
}

/// Parses exactly three blank-separated numbers.
fn three_numbers(s: &[u8]) -> Option<[u64; 3]> {
    let mut out = [0u64; 3];
    let mut n = 0;
    for w in words(s) {
        *out.get_mut(n)? = number(w)?;
        n += 1;
    }
    (n == 3).then_some(out)
}

/// Parses one cache line of `/proc/slabinfo` 2.1:
///
/// `name active_objs num_objs objsize objperslab pagesperslab : tunables l b s : slabdata
/// active_slabs num_slabs sharedavail`
///
/// The name is everything before the five numbers, so a name with a blank in it is kept whole.
/// Returns the cache and whether its name had to be cut.
pub(crate) fn slabinfo_line(line: &[u8]) -> Option<(Cache, bool)> {
    const TUNABLES: &[u8] = b" : tunables ";
    const SLABDATA: &[u8] = b" : slabdata ";
    let t = line.windows(TUNABLES.len()).position(|w| w == TUNABLES)?;
    let (head, rest) = (&line[..t], &line[t + TUNABLES.len()..]);
    let s = rest.windows(SLABDATA.len()).position(|w| w == SLABDATA)?;
    let (tunables, slabdata) = (&rest[..s], &rest[s + SLABDATA.len()..]);

    // The five numbers after the name, read from the right.
    let mut nums = [0u64; 5];
    let mut end = head.len();
    for slot in nums.iter_mut().rev() {
        let h = head[..end].trim_ascii_end();
        let start = h
            .iter()
            .rposition(|b| *b == b' ' || *b == b'\t')
            .map_or(0, |p| p + 1);
        *slot = number(&h[start..])?;
        end = start;
    }
    let name = head[..end].trim_ascii();
    if name.is_empty() {
        return None;
    }
    three_numbers(tunables)?;
    let sd = three_numbers(slabdata)?;
    let (name, cut) = Name::new(name);
    let cache = Cache {
        name,
        active_objs: nums[0],
        num_objs: nums[1],
        objsize: nums[2],
        objperslab: nums[3],
        pagesperslab: nums[4],
        active_slabs: sd[0],
        num_slabs: sd[1],
        listed: true,
        exact: false,
        beyond: None,
    };
    Some((cache, cut))
}

/// Longest allocation site kept (`function+off/size [module]`).
pub(crate) const SITE_LEN: usize = 192;

/// One allocation site of SLUB's `alloc_traces`: how many live objects it allocated.
#[derive(Clone, Copy)]
pub(crate) struct Site {
    pub(crate) count: u64,
    len: u8,
    symbol: [u8; SITE_LEN],
}

impl Site {
    /// A site named `symbol`, followed by ` module` if given, with `count` objects. A site too
    /// long for [`SITE_LEN`] bytes keeps the start of its name, `...` and all of its
    /// `+off/size [module]`, as `rust/c/lockinfo.c` keeps frames and lock sites, so that a long
    /// Rust name is still demangled (its start) with its offset and module; anything else is
    /// cut at the end.
    pub(crate) fn new(count: u64, symbol: &[u8], module: Option<&[u8]>) -> Self {
        const DOTS: &[u8] = b"...";
        let sep = module.map_or(&b""[..], |_| b" ");
        let module = module.unwrap_or(b"");
        let whole = symbol.len() + sep.len() + module.len();
        let tail_at = symbol
            .iter()
            .rposition(|&b| b == b'+')
            .filter(|&at| whole > SITE_LEN && whole - at <= SITE_LEN / 2);
        let parts = match tail_at {
            Some(at) => {
                let head = SITE_LEN - (whole - at) - DOTS.len();
                [
                    symbol.get(..head).unwrap_or(b""),
                    DOTS,
                    symbol.get(at..).unwrap_or(b""),
                    sep,
                    module,
                ]
            }
            None => [symbol, sep, module, b"", b""],
        };
        let mut s = [0u8; SITE_LEN];
        let mut n = 0;
        for &b in parts.iter().flat_map(|p| p.iter()) {
            let Some(d) = s.get_mut(n) else {
                break;
            };
            *d = b;
            n += 1;
        }
        // `n` is at most `SITE_LEN` (192), which fits in a `u8`.
        Self {
            count,
            len: n as u8,
            symbol: s,
        }
    }

    /// The site's symbol, as `%pS` printed it.
    pub(crate) fn symbol(&self) -> &[u8] {
        &self.symbol[..usize::from(self.len).min(SITE_LEN)]
    }
}

/// Inserts `site` into `top`, which keeps the `N` sites with the highest counts, highest first.
fn keep_top<const N: usize>(top: &mut KVec<Site>, site: Site) -> Result {
    let at = top
        .iter()
        .position(|s| s.count < site.count)
        .unwrap_or(top.len());
    if at >= N {
        return Ok(());
    }
    if top.len() >= N {
        top.truncate(N - 1);
    }
    top.push(site, GFP_KERNEL)?;
    top.as_mut_slice()[at..].rotate_right(1);
    Ok(())
}

/// Most distinct sites of one `alloc_traces` file merged; the file lists the largest first.
const MAX_DISTINCT_SITES: usize = 512;

/// Parses `alloc_traces` (`mm/slub.c`, `slab_debugfs_show()`) and keeps the `N` sites with the
/// most objects, most first.
///
/// A site line is `<count> <symbol> [module] age=... pid=...`; the stack lines that follow it
/// (CONFIG_STACKDEPOT) start with blanks and a symbol, never with a number, and are skipped.
/// SLUB lists one call site once per distinct stack: those are added up.
pub(crate) fn alloc_traces<const N: usize>(text: &[u8], top: &mut KVec<Site>) -> Result {
    let mut all: KVec<Site> = KVec::new();
    for line in text.split(|b| *b == b'\n') {
        let mut w = words(line);
        let (Some(count), Some(symbol)) = (w.next().and_then(number), w.next()) else {
            continue;
        };
        let module = w
            .next()
            .filter(|m| m.starts_with(b"[") && m.ends_with(b"]"));
        let site = Site::new(count, symbol, module);
        if let Some(s) = all.iter_mut().find(|s| s.symbol() == site.symbol()) {
            s.count = s.count.saturating_add(count);
        } else if all.len() < MAX_DISTINCT_SITES {
            all.push(site, GFP_KERNEL)?;
        }
    }
    top.clear();
    for site in all.iter() {
        keep_top::<N>(top, *site)?;
    }
    Ok(())
}

/// Parses `/proc/allocinfo` (`lib/alloc_tag.c`: `<bytes> <calls> <file:line> [module]
/// func:<name>`) and keeps the `N` sites holding the most bytes; the count is in bytes.
pub(crate) fn allocinfo<const N: usize>(text: &[u8], top: &mut KVec<Site>) -> Result {
    top.clear();
    for line in text.split(|b| *b == b'\n') {
        let mut w = words(line);
        let (Some(bytes), Some(_calls)) = (w.next().and_then(number), w.next().and_then(number))
        else {
            continue;
        };
        let Some(first) = w.next() else {
            continue;
        };
        // The tag is the rest of the line from its first word, a subslice of `line`.
        let tag_at = (first.as_ptr() as usize).saturating_sub(line.as_ptr() as usize);
        keep_top::<N>(
            top,
            Site::new(
                bytes,
                line.get(tag_at..).unwrap_or(first).trim_ascii_end(),
                None,
            ),
        )?;
    }
    Ok(())
}

#[cfg(kintrospect_kunit)]
#[kernel::macros::kunit_tests(kintrospect_slab_parse)]
mod tests {
    use super::*;

    const LINE: &[u8] =
        b"kmalloc-256          896    896    256   16    1 : tunables    0    0    0 \
                          : slabdata     56     56      0";

    #[test]
    fn parses_a_slabinfo_line() {
        let Some((c, cut)) = slabinfo_line(LINE) else {
            panic!("a real slabinfo line was rejected");
        };
        assert!(!cut);
        assert_eq!(c.name.as_bytes(), b"kmalloc-256");
        assert_eq!(
            [
                c.active_objs,
                c.num_objs,
                c.objsize,
                c.objperslab,
                c.pagesperslab,
                c.active_slabs,
                c.num_slabs
            ],
            [896, 896, 256, 16, 1, 56, 56]
        );
    }

    #[test]
    fn keeps_names_with_blanks_and_cuts_long_ones() {
        let line = b"my cache 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0";
        let Some((c, _)) = slabinfo_line(line) else {
            panic!("a name with a blank was rejected");
        };
        assert_eq!(c.name.as_bytes(), b"my cache");
        assert_eq!(c.active_objs, 1);
        const REST: &[u8] = b" 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0";
        let mut long = [b'x'; 100 + REST.len()];
        long[100..].copy_from_slice(REST);
        let Some((c, cut)) = slabinfo_line(&long) else {
            panic!("a long name was rejected");
        };
        assert!(cut);
        assert_eq!(c.name.as_bytes().len(), NAME_LEN);
    }

    #[test]
    fn rejects_malformed_lines() {
        for bad in [
            &b""[..],
            b"slabinfo - version: 2.1",
            b"# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> \
              : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> \
              <num_slabs> <sharedavail>",
            b"kmalloc-256 896 896 256 16 : tunables 0 0 0 : slabdata 56 56 0",
            b"1 2 3 4 5 : tunables 0 0 0 : slabdata 56 56 0",
            b"k 1 2 3 4 5 : tunables 0 0 : slabdata 56 56 0",
            b"k 1 2 3 4 5 : tunables 0 0 0 0 : slabdata 56 56 0",
            b"k 1 2 3 4 5 : tunables 0 0 0 : slabdata 56 56",
            b"k 1 2 3 4 5 : tunables 0 0 0 : slabdata 56 56 0 9",
            b"k 1 2 -3 4 5 : tunables 0 0 0 : slabdata 56 56 0",
            b"k 1 2 3 4 99999999999999999999 : tunables 0 0 0 : slabdata 1 1 0",
            b"k 1 2 3 4 5 : slabdata 56 56 0 : tunables 0 0 0",
            b"k 1 2 3 4 5\xff : tunables 0 0 0 : slabdata 56 56 0",
            b" : tunables  : slabdata ",
        ] {
            assert!(slabinfo_line(bad).is_none());
        }
    }

    #[test]
    fn keeps_the_top_alloc_sites() -> Result {
        let text = b"   1000 kintrospect_test_leak_alloc+0x3c/0x90 [kintrospect] age=5/6/7 pid=1\n\
                     \x20       kmem_cache_alloc_noprof+0x1/0x2\n\
                     \x20       kintrospect_test_leak_alloc+0x3c/0x90 [kintrospect]\n\
                     \n\
                     \x20     7 a+0x1/0x2 age=1 pid=1\n\
                     \x20     4 c+0x1/0x2 age=1 pid=1\n\
                     \x20    50 b+0x1/0x2 age=1 pid=1\n\
                     \x20     9 c+0x1/0x2 age=1 pid=1\n\
                     \x20     x d+0x1/0x2\n\
                     No data\n";
        let mut top = KVec::new();
        alloc_traces::<3>(text, &mut top)?;
        assert_eq!(top.len(), 3);
        assert_eq!(top[0].count, 1000);
        assert_eq!(
            top[0].symbol(),
            b"kintrospect_test_leak_alloc+0x3c/0x90 [kintrospect]"
        );
        assert_eq!((top[1].count, top[1].symbol()), (50, &b"b+0x1/0x2"[..]));
        assert_eq!((top[2].count, top[2].symbol()), (13, &b"c+0x1/0x2"[..]));
        Ok(())
    }

    /// A Rust site too long for a record keeps the start of its name, "..." and its offset
    /// and module, which the demangler reads back; before, the end was cut and the name could
    /// not be read (nor its offset and module seen).
    #[test]
    fn cuts_a_long_site_in_its_name() {
        let name = b"_RNvMs0_NtNtCsl7L7n58I0Vr_6kernel5alloc4kvecINtB5_3VecppE7reserveINtNtCsjsgo_\
                     16kintrospect_main4slab6Sample0E0Cs1234567890_16kintrospect_main\
                     NtNtCsjsgonXbPYzo_16kintrospect_main4slab5Cache";
        let mut symbol = [0u8; 256];
        symbol[..name.len()].copy_from_slice(name);
        let tail = b"+0x8a/0xd2";
        symbol[name.len()..name.len() + tail.len()].copy_from_slice(tail);
        let symbol = &symbol[..name.len() + tail.len()];
        let site = Site::new(7, symbol, Some(b"[kintrospect]"));
        let got = site.symbol();
        assert_eq!(got.len(), SITE_LEN);
        assert!(got.starts_with(&name[..40]));
        assert!(got.ends_with(b"...+0x8a/0xd2 [kintrospect]"));
        // A short site is kept whole, and a long one without an offset is cut at the end.
        let short = Site::new(1, b"f+0x1/0x2", Some(b"[m]"));
        assert_eq!(short.symbol(), b"f+0x1/0x2 [m]");
        let plain = Site::new(1, &[b'x'; 300], None);
        assert_eq!(plain.symbol(), &[b'x'; SITE_LEN][..]);
    }

    #[test]
    fn keeps_the_top_allocinfo_sites() -> Result {
        let text = b"allocinfo - version: 1.0\n\
                     #     <size>  <calls> <tag info>\n\
                     \x20      4096        1 mm/a.c:10 func:a\n\
                     \x20    819200      200 fs/b.c:20 [ext4] func:b\n\
                     \x20         0        0 mm/c.c:30 func:c\n";
        let mut top = KVec::new();
        allocinfo::<2>(text, &mut top)?;
        assert_eq!(top.len(), 2);
        assert_eq!(
            (top[0].count, top[0].symbol()),
            (819200, &b"fs/b.c:20 [ext4] func:b"[..])
        );
        assert_eq!(
            (top[1].count, top[1].symbol()),
            (4096, &b"mm/a.c:10 func:a"[..])
        );
        Ok(())
    }
}
