//! Sets and maps: keys in registers looked up in tables that the control
//! plane can change while packets run.
//!
//! A table keeps an immutable snapshot (its elements and an index built
//! from them) behind an [`ArcSwap`]: a lookup loads the current snapshot
//! without locking, and a change builds a new snapshot and swaps it in, so
//! readers never block and never see half a change. Writers are serialised
//! by a mutex.
//!
//! Every snapshot has a version, a number no other snapshot of any table
//! ever gets. A reader that looks up often keeps the snapshot it last used
//! in a [`Cached`] and reloads it only when the table's version has moved:
//! one plain load a lookup instead of the `ArcSwap` load, which takes and
//! gives back a slot with two atomic read-modify-writes.
//!
//! Indexes, by the key's shape:
//! - exact keys (`SetKind::Hash`): a hash map from the key's register chunks;
//! - one interval component: sorted disjoint intervals, binary search
//!   (prefixes are intervals);
//! - several interval components (concatenations with ranges): a list of
//!   boxes scanned in order.
//!
//! A key component of up to 16 bytes is compared as one 128-bit number made
//! of its register chunks, chunk 0 highest: the order of the chunks, which is
//! the byte order of the value.

use crate::insn::{MapId, SetId, Value, chunks_for, pack_chunks};
use crate::operands::key_registers;
use crate::program::{MapData, MapValue, SetElem, SetKind};
use arc_swap::ArcSwap;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// Why an element does not fit a table.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ElemError {
    /// The element has the wrong number of key components.
    #[error("{got} key components where the key has {expected}")]
    ComponentCount {
        /// Components of the declared key.
        expected: usize,
        /// Components of the element (low or high bounds).
        got: usize,
    },
    /// A component's width differs from the declared key's.
    #[error("key component {component} is {got} bytes wide where the key says {expected}")]
    Width {
        /// Index of the component.
        component: usize,
        /// Width of the declared key component.
        expected: usize,
        /// Width of the element's bound.
        got: usize,
    },
    /// A component's low bound is above its high bound.
    #[error("key component {component} has its low bound above its high bound")]
    LowAboveHigh {
        /// Index of the component.
        component: usize,
    },
    /// A range in a table of exact keys.
    #[error("key component {component} is a range in a table of exact keys")]
    NotExact {
        /// Index of the component.
        component: usize,
    },
    /// Two intervals of a map overlap, so a key could map to two values.
    #[error("the element overlaps another one of the map")]
    Overlap,
    /// A map entry's data is not of the map's declared kind or width.
    #[error("the entry's data is not of the map's declared kind and width")]
    Data,
}

/// The shape of a table's keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLayout {
    widths: Box<[u8]>,
    kind: SetKind,
    regs: usize,
}

impl KeyLayout {
    /// A layout with these component widths (bytes) and kind.
    pub fn new(widths: &[u8], kind: SetKind) -> KeyLayout {
        let regs = key_registers(widths);
        KeyLayout {
            widths: widths.into(),
            kind,
            regs,
        }
    }

    /// Component widths in bytes.
    pub fn widths(&self) -> &[u8] {
        &self.widths
    }

    /// Registers the key occupies: each component starts at a new register.
    pub fn regs(&self) -> usize {
        self.regs
    }

    /// Checks that `elem` has this layout's shape.
    pub fn check(&self, elem: &SetElem) -> Result<(), ElemError> {
        for got in [elem.low.len(), elem.high.len()] {
            if got != self.widths.len() {
                return Err(ElemError::ComponentCount {
                    expected: self.widths.len(),
                    got,
                });
            }
        }
        for (component, ((w, lo), hi)) in self
            .widths
            .iter()
            .zip(&elem.low)
            .zip(&elem.high)
            .enumerate()
        {
            let expected = usize::from(*w);
            for got in [lo.len(), hi.len()] {
                if got != expected {
                    return Err(ElemError::Width {
                        component,
                        expected,
                        got,
                    });
                }
            }
            if lo > hi {
                return Err(ElemError::LowAboveHigh { component });
            }
            if self.kind == SetKind::Hash && lo != hi {
                return Err(ElemError::NotExact { component });
            }
        }
        Ok(())
    }
}

/// The set of keys a [`Set`] holds.
pub type Set = Table<()>;
/// The entries a [`Map`] holds: keys to data or to verdicts.
pub type Map = Table<MapValue>;

/// A set or map whose elements can change while packets are looked up.
#[derive(Debug)]
pub struct Table<D> {
    layout: KeyLayout,
    /// Sets merge overlapping intervals; maps refuse them.
    merge_overlaps: bool,
    snapshot: ArcSwap<Snapshot<D>>,
    /// The version of the current snapshot, set once the snapshot is in
    /// place: readers that kept a snapshot ([`Cached`]), or code that
    /// compiled the elements of one version in (the JIT, for small tables),
    /// use it while the version is the same, and load the table otherwise.
    version: AtomicU64,
    writer: Mutex<()>,
}

/// The source of snapshot versions: never repeats, so a version names one
/// snapshot of one table.
static VERSIONS: AtomicU64 = AtomicU64::new(1);

/// A version no snapshot had before.
fn new_version() -> u64 {
    VERSIONS.fetch_add(1, Ordering::Relaxed)
}

/// A reader's copy of a table's snapshot, kept between its lookups (see
/// the module docs). It keeps the snapshot alive until its next lookup of
/// the changed table.
#[derive(Debug)]
pub struct Cached<D> {
    version: u64,
    snapshot: Option<Arc<Snapshot<D>>>,
}

impl<D> Default for Cached<D> {
    fn default() -> Self {
        Cached {
            version: 0,
            snapshot: None,
        }
    }
}

impl<D> Clone for Cached<D> {
    fn clone(&self) -> Self {
        Cached {
            version: self.version,
            snapshot: self.snapshot.clone(),
        }
    }
}

/// A reader's [`Cached`] snapshots, one per set and per map of the program
/// it runs, by id. Nothing in it is part of a result: it compares equal to
/// any other.
#[derive(Clone, Debug, Default)]
pub struct TableCache {
    /// The address of the tables' owner (the program instance) the
    /// snapshots belong to.
    owner: usize,
    sets: Vec<Cached<()>>,
    maps: Vec<Cached<MapValue>>,
}

impl TableCache {
    /// The cached snapshot of set `id` of the tables of `owner`.
    pub fn set(&mut self, owner: usize, id: SetId) -> &mut Cached<()> {
        self.serve(owner);
        slot(&mut self.sets, usize::from(id.0))
    }

    /// The cached snapshot of map `id` of the tables of `owner`.
    pub fn map(&mut self, owner: usize, id: MapId) -> &mut Cached<MapValue> {
        self.serve(owner);
        slot(&mut self.maps, usize::from(id.0))
    }

    /// Forgets every snapshot (for a reader that moved on to another
    /// program, before its first lookup there).
    pub fn forget(&mut self) {
        self.serve(0);
    }

    /// Forgets the snapshots of another owner's tables, so that a reader
    /// that moved on to a new program does not keep the old program's
    /// snapshots alive past its first lookup in the new one's tables (and
    /// the daemon's classifier calls [`TableCache::forget`] on a reload, for
    /// new programs that look nothing up).
    /// Versions, not owners, keep lookups right: two owners at one address
    /// in turn only cost a reload.
    fn serve(&mut self, owner: usize) {
        if self.owner != owner {
            self.owner = owner;
            self.sets.clear();
            self.maps.clear();
        }
    }
}

impl PartialEq for TableCache {
    fn eq(&self, _: &TableCache) -> bool {
        true
    }
}

impl Eq for TableCache {}

/// Entry `i` of `v`, made (empty) when `v` is shorter.
fn slot<T: Default>(v: &mut Vec<T>, i: usize) -> &mut T {
    if v.len() <= i {
        v.resize_with(i + 1, T::default);
    }
    &mut v[i]
}

#[derive(Debug)]
struct Snapshot<D> {
    elems: BTreeMap<SetElem, D>,
    index: Index<D>,
}

impl<D> Snapshot<D> {
    /// [`Table::lookup_with`] in this snapshot of a table of `layout`.
    #[inline]
    fn lookup<R>(&self, layout: &KeyLayout, key: &[u32], f: impl FnOnce(&D) -> R) -> Option<R> {
        match &self.index {
            Index::Exact(map) => map.get(Chunks::new(key)).map(f),
            Index::Ranges(ranges) => {
                let k = pack_chunks(key);
                let i = ranges.partition_point(|(lo, _, _)| *lo <= k);
                let (_, hi, d) = ranges.get(i.checked_sub(1)?)?;
                (k <= *hi).then(|| f(d))
            }
            Index::Boxes(boxes) => {
                let mut comps = [0u128; crate::insn::NUM_REGS];
                let mut at = 0;
                for (c, w) in comps.iter_mut().zip(layout.widths.iter()) {
                    let n = chunks_for(usize::from(*w));
                    *c = pack_chunks(key.get(at..at + n)?);
                    at += n;
                }
                let comps = comps.get(..layout.widths.len())?;
                boxes
                    .iter()
                    .find(|(b, _)| b.iter().zip(comps).all(|((lo, hi), k)| lo <= k && k <= hi))
                    .map(|(_, d)| f(d))
            }
        }
    }
}

/// Per key component, its low and high bound as [`pack_chunks`] numbers.
type Bounds = Box<[(u128, u128)]>;

#[derive(Debug)]
enum Index<D> {
    Exact(HashMap<ExactKey, D, BuildHasherDefault<FxHasher>>),
    Ranges(Vec<(u128, u128, D)>),
    Boxes(Vec<(Bounds, D)>),
}

impl<D: Clone> Table<D> {
    /// A table of `layout` holding `elems`; `merge_overlaps` is true for
    /// sets (overlapping intervals are merged) and false for maps (they are
    /// refused). Fails with the index of the first element that does not
    /// fit, or with no index when elements overlap.
    pub fn new(
        layout: KeyLayout,
        merge_overlaps: bool,
        elems: impl IntoIterator<Item = (SetElem, D)>,
    ) -> Result<Table<D>, (Option<usize>, ElemError)> {
        let mut map = BTreeMap::new();
        for (i, (elem, d)) in elems.into_iter().enumerate() {
            layout.check(&elem).map_err(|e| (Some(i), e))?;
            map.insert(elem, d);
        }
        let index = build_index(&layout, merge_overlaps, &map).map_err(|e| (None, e))?;
        Ok(Table {
            layout,
            merge_overlaps,
            snapshot: ArcSwap::from_pointee(Snapshot { elems: map, index }),
            version: AtomicU64::new(new_version()),
            writer: Mutex::new(()),
        })
    }

    /// An empty table of `layout` (see [`Table::new`] for `merge_overlaps`).
    pub fn empty(layout: KeyLayout, merge_overlaps: bool) -> Table<D> {
        let index = match layout.kind {
            SetKind::Hash => Index::Exact(HashMap::default()),
            SetKind::Interval if layout.widths.len() == 1 => Index::Ranges(Vec::new()),
            SetKind::Interval => Index::Boxes(Vec::new()),
        };
        Table {
            layout,
            merge_overlaps,
            snapshot: ArcSwap::from_pointee(Snapshot {
                elems: BTreeMap::new(),
                index,
            }),
            version: AtomicU64::new(new_version()),
            writer: Mutex::new(()),
        }
    }

    /// The shape of the table's keys.
    pub fn layout(&self) -> &KeyLayout {
        &self.layout
    }

    /// Looks up the key held in `key` (the registers of the key, each
    /// component starting at a new register) and applies `f` to what the
    /// key maps to. Never blocks.
    #[inline]
    pub fn lookup_with<R>(&self, key: &[u32], f: impl FnOnce(&D) -> R) -> Option<R> {
        self.snapshot.load().lookup(&self.layout, key, f)
    }

    /// [`Table::lookup_with`] in the snapshot kept in `cache`, which is
    /// reloaded first when the table has changed since.
    #[inline]
    pub fn lookup_cached<R>(
        &self,
        cache: &mut Cached<D>,
        key: &[u32],
        f: impl FnOnce(&D) -> R,
    ) -> Option<R> {
        // The version is set after its snapshot is in place (release), so
        // the snapshot loaded after reading it (acquire) is that one or a
        // later one; a later one is reloaded at the next lookup.
        let version = self.version.load(Ordering::Acquire);
        let snapshot = match &mut cache.snapshot {
            Some(s) if cache.version == version => s,
            slot => {
                cache.version = version;
                slot.insert(self.snapshot.load_full())
            }
        };
        snapshot.lookup(&self.layout, key, f)
    }

    /// Whether the key held in `key` is in the table.
    #[inline]
    pub fn contains(&self, key: &[u32]) -> bool {
        self.lookup_with(key, |_| ()).is_some()
    }

    /// Adds an element, or replaces the data of an equal one. Returns the
    /// data the element had before, if it was there. Crate-private: changes
    /// go through [`crate::Instance`], which checks them as the verifier
    /// would (a verdict map's jumps must keep the chain graph acyclic).
    pub(crate) fn insert(&self, elem: SetElem, data: D) -> Result<Option<D>, ElemError> {
        self.layout.check(&elem)?;
        self.change(|m| m.insert(elem, data))
    }

    /// Removes an element (which must be given exactly as it was added).
    /// Returns its data, if it was there. Crate-private, like
    /// [`Table::insert`].
    pub(crate) fn remove(&self, elem: &SetElem) -> Option<D> {
        // Removing elements cannot make the others overlap, so the rebuild
        // cannot fail; if it did, the table would stay as it was.
        self.change(|m| m.remove(elem)).ok().flatten()
    }

    /// The elements and their data, in key order.
    pub fn elements(&self) -> Vec<(SetElem, D)> {
        self.snapshot
            .load()
            .elems
            .iter()
            .map(|(k, d)| (k.clone(), d.clone()))
            .collect()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.snapshot.load().elems.len()
    }

    /// Whether the table has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn change<R>(&self, edit: impl FnOnce(&mut BTreeMap<SetElem, D>) -> R) -> Result<R, ElemError> {
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut elems = self.snapshot.load().elems.clone();
        let result = edit(&mut elems);
        let index = build_index(&self.layout, self.merge_overlaps, &elems)?;
        self.snapshot.store(Arc::new(Snapshot { elems, index }));
        self.version.store(new_version(), Ordering::Release);
        Ok(result)
    }

    /// The current snapshot's version (see the field's docs).
    pub(crate) fn version(&self) -> &AtomicU64 {
        &self.version
    }

    /// The elements and the version they belong to, when there are at
    /// most `limit` of them and no change raced the reading.
    pub(crate) fn small_snapshot(&self, limit: usize) -> Option<(u64, Vec<(SetElem, D)>)> {
        let before = self.version.load(Ordering::Acquire);
        let snapshot = self.snapshot.load();
        if snapshot.elems.len() > limit {
            return None;
        }
        let elems = snapshot
            .elems
            .iter()
            .map(|(e, d)| (e.clone(), d.clone()))
            .collect();
        (self.version.load(Ordering::Acquire) == before).then_some((before, elems))
    }
}

/// Checks that a map entry's data is of the map's declared kind and width.
pub fn check_map_data(declared: MapData, data: &MapValue) -> Result<(), ElemError> {
    match (declared, data) {
        (MapData::Value(w), MapValue::Value(v)) if v.len() == usize::from(w) => Ok(()),
        (MapData::Verdict, MapValue::Verdict(_)) => Ok(()),
        _ => Err(ElemError::Data),
    }
}

fn build_index<D: Clone>(
    layout: &KeyLayout,
    merge_overlaps: bool,
    elems: &BTreeMap<SetElem, D>,
) -> Result<Index<D>, ElemError> {
    if layout.kind == SetKind::Hash {
        let map = elems
            .iter()
            .map(|(e, d)| {
                let key = e.low.iter().flat_map(Value::to_chunks).collect();
                (ExactKey(key), d.clone())
            })
            .collect();
        return Ok(Index::Exact(map));
    }
    if layout.widths.len() == 1 {
        let mut ranges: Vec<(u128, u128, D)> = Vec::with_capacity(elems.len());
        // The map is ordered by low bound, so the ranges come sorted.
        for (e, d) in elems {
            let (lo, hi) = (e.low[0].packed(), e.high[0].packed());
            match ranges.last_mut() {
                Some(last) if lo <= last.1 => {
                    if !merge_overlaps {
                        return Err(ElemError::Overlap);
                    }
                    last.1 = last.1.max(hi);
                }
                _ => ranges.push((lo, hi, d.clone())),
            }
        }
        return Ok(Index::Ranges(ranges));
    }
    let boxes: Vec<(Bounds, D)> = elems
        .iter()
        .map(|(e, d)| {
            (
                e.low
                    .iter()
                    .zip(&e.high)
                    .map(|(l, h)| (l.packed(), h.packed()))
                    .collect(),
                d.clone(),
            )
        })
        .collect();
    if !merge_overlaps {
        let meets = |a: &[(u128, u128)], b: &[(u128, u128)]| {
            a.iter().zip(b).all(|(x, y)| x.0 <= y.1 && y.0 <= x.1)
        };
        for (i, (a, _)) in boxes.iter().enumerate() {
            if boxes[i + 1..].iter().any(|(b, _)| meets(a, b)) {
                return Err(ElemError::Overlap);
            }
        }
    }
    Ok(Index::Boxes(boxes))
}

/// An exact key's register chunks, as the hash index holds them.
#[derive(Debug, PartialEq, Eq)]
struct ExactKey(Box<[u32]>);

impl std::hash::Hash for ExactKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        Chunks::new(&self.0).hash(state);
    }
}

/// Register chunks as the hash index looks them up: compared inline, since
/// keys are a few chunks, too short for the call to `memcmp` that slices
/// of `u32` compare with; hashed two chunks to a word (a table's keys all
/// have one length), as [`ExactKey`] is.
#[repr(transparent)]
struct Chunks([u32]);

impl Chunks {
    fn new(chunks: &[u32]) -> &Chunks {
        // SAFETY: `Chunks` is a `repr(transparent)` wrapper of `[u32]`, so
        // the two have the same layout and pointer metadata.
        unsafe { &*(chunks as *const [u32] as *const Chunks) }
    }
}

impl PartialEq for Chunks {
    fn eq(&self, other: &Chunks) -> bool {
        // Or-ing the differences keeps it a loop (LLVM turns a loop of
        // early-out compares back into `memcmp`).
        self.0.len() == other.0.len()
            && self.0.iter().zip(&other.0).fold(0, |d, (a, b)| d | (a ^ b)) == 0
    }
}

impl Eq for Chunks {}

impl std::hash::Hash for Chunks {
    fn hash<H: Hasher>(&self, state: &mut H) {
        for pair in self.0.chunks(2) {
            let high = pair.get(1).map_or(0, |&c| u64::from(c) << 32);
            state.write_u64(u64::from(pair[0]) | high);
        }
    }
}

impl std::borrow::Borrow<Chunks> for ExactKey {
    fn borrow(&self) -> &Chunks {
        Chunks::new(&self.0)
    }
}

/// A fast non-cryptographic hasher for register keys (the rustc "Fx"
/// multiply-rotate scheme). Keys come from packets, but the table is
/// rebuilt only by the control plane, so a collision flood costs lookups
/// time, never correctness.
#[derive(Default)]
struct FxHasher {
    hash: u64,
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            self.write_u64(u64::from_le_bytes(b));
        }
        for b in words.remainder() {
            self.write_u64(u64::from(*b));
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.hash = (self.hash.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-component exact key of 2 bytes.
    fn elem(x: u16) -> SetElem {
        let v = Value(x.to_be_bytes().to_vec());
        SetElem {
            low: vec![v.clone()],
            high: vec![v],
        }
    }

    fn set(elems: &[u16]) -> Set {
        let layout = KeyLayout::new(&[2], SetKind::Hash);
        Table::new(layout, true, elems.iter().map(|x| (elem(*x), ()))).expect("a valid set")
    }

    fn has(s: &Set, cache: &mut Cached<()>, x: u16) -> bool {
        s.lookup_cached(cache, &[u32::from(x)], |_| ()).is_some()
    }

    #[test]
    fn a_cached_snapshot_follows_the_tables_changes() {
        let s = set(&[1, 2]);
        let mut cache = Cached::default();
        assert!(has(&s, &mut cache, 1) && !has(&s, &mut cache, 3));
        s.insert(elem(3), ()).unwrap();
        assert!(has(&s, &mut cache, 3));
        s.remove(&elem(1));
        assert!(!has(&s, &mut cache, 1) && has(&s, &mut cache, 2));
    }

    /// A reader's slot for set 0 serves whichever program it runs: two
    /// tables never share a version, even when one was made like the other.
    #[test]
    fn one_cache_slot_never_mixes_two_tables() {
        let (a, b) = (set(&[1]), set(&[2]));
        // One owner throughout: the versions alone keep the tables apart.
        let mut caches = TableCache::default();
        for _ in 0..2 {
            assert!(has(&a, caches.set(1, SetId(0)), 1) && !has(&a, caches.set(1, SetId(0)), 2));
            assert!(has(&b, caches.set(1, SetId(0)), 2) && !has(&b, caches.set(1, SetId(0)), 1));
        }
        drop(a);
        let c = set(&[3]);
        assert!(has(&c, caches.set(1, SetId(0)), 3) && !has(&c, caches.set(1, SetId(0)), 1));
    }

    /// A reader that moves on to another owner's tables lets go of the
    /// snapshots it kept of the first owner's.
    #[test]
    fn a_new_owner_drops_the_old_snapshots() {
        let s = set(&[1]);
        let mut caches = TableCache::default();
        assert!(has(&s, caches.set(1, SetId(4)), 1));
        assert!(caches.sets[4].snapshot.is_some());
        assert!(has(&s, caches.set(2, SetId(0)), 1));
        assert_eq!(caches.sets.len(), 1);
        caches.forget();
        assert!(caches.sets.is_empty());
    }
}
