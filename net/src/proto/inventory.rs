//! Inventory relay state of one peer: what it knows ([`KnownInventory`]) and what we will
//! announce to it at its next trickle ([`InvQueue`]).
//!
//! Bitcoin Core does not announce a transaction the moment it learns it. Each peer has a
//! queue (`m_tx_inventory_to_send`) flushed on a randomized Poisson timer
//! (`NextInvToInbounds` / `rand_exp_duration`, mean `INBOUND_INVENTORY_BROADCAST_INTERVAL` =
//! 5 s), `INVENTORY_BROADCAST_TARGET` entries per flush plus 5 per 1,000 queued, at most
//! `INVENTORY_BROADCAST_MAX` = 1,000, so an observer cannot tell who heard of a transaction
//! first; we flush up to [`crate::config::INVENTORY_BROADCAST_MAX`] (1,000) each time. Items
//! the peer already has are skipped: Core remembers them in a rolling bloom filter
//! (`m_tx_inventory_known_filter`, 50,000 entries) fed by what the peer announced to us and
//! what we announced to it. btcd keeps the same state as an LRU (`knownInventory`) and an
//! `invSendQueue` flushed by its trickle ticker.
//!
//! | type               | holds                                  | bound                          |
//! |--------------------|----------------------------------------|--------------------------------|
//! | [`KnownInventory`] | exact 32-byte hashes, set + FIFO order | `max_known_inventory` (50,000) |
//! | [`InvQueue`]       | [`InvItem`]s waiting for the trickle   | [`MAX_INV_QUEUE`] (50,000)     |
//!
//! Both allocate nothing until used, so an idle peer costs nothing here, and both have a
//! named bound: at the bound the oldest entry makes room for the new one.

use std::collections::{HashSet, VecDeque};

use btcwire::limits;
use btcwire::types::InvItem;

/// Most items waiting in one peer's [`InvQueue`]: one full `inv` message (Bitcoin Core
/// `MAX_INV_SZ`, [`limits::MAX_INV_ENTRIES`]).
pub const MAX_INV_QUEUE: usize = limits::MAX_INV_ENTRIES as usize;

/// The inventory hashes a peer is known to have: announced by it, or announced to it.
///
/// Keeps exact hashes (no false positives, unlike Core's rolling bloom filter) in a
/// `HashSet` for lookups and a FIFO for eviction: once `capacity` hashes are held, inserting
/// a new one forgets the oldest. The set uses std's randomly keyed SipHash, so a peer
/// announcing chosen hashes cannot degrade lookups. Nothing is allocated before the first
/// insert; when full it holds about `capacity × 80` bytes (set slots plus FIFO entries).
#[derive(Debug, Clone, Default)]
pub struct KnownInventory {
    set: HashSet<[u8; 32]>,
    order: VecDeque<[u8; 32]>,
    capacity: usize,
}

impl KnownInventory {
    /// Returns an empty filter that remembers at most `capacity` hashes (0 remembers none).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            set: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Remembers `hash`, forgetting the oldest hash when full; returns whether it is new.
    pub fn insert(&mut self, hash: [u8; 32]) -> bool {
        if self.capacity == 0 || self.set.contains(&hash) {
            return false;
        }
        if self.order.len() >= self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.set.remove(&oldest);
            }
        }
        self.set.insert(hash);
        self.order.push_back(hash);
        true
    }

    /// Returns whether `hash` is remembered.
    #[must_use]
    pub fn contains(&self, hash: &[u8; 32]) -> bool {
        self.set.contains(hash)
    }

    /// Returns the number of hashes remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Returns whether no hash is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Returns the most hashes remembered at once.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Returns the number of hashes the allocated memory can hold without growing: 0 until
    /// the first insert.
    #[must_use]
    pub fn allocated(&self) -> usize {
        self.set.capacity().max(self.order.capacity())
    }

    /// Forgets every hash and frees the memory.
    pub fn clear(&mut self) {
        self.set = HashSet::new();
        self.order = VecDeque::new();
    }
}

/// Inventory waiting for a peer's next trickle, oldest first.
///
/// Holds at most `capacity` items ([`MAX_INV_QUEUE`] for a [`crate::proto::peer::Peer`]);
/// pushing onto a full queue drops the oldest item: the newest announcements are the most
/// useful, and the oldest are the likeliest to have reached the peer some other way. The
/// same item may be queued twice; [`InvQueue::pop_batch`] sends it once, because it marks
/// every item sent as known. Nothing is allocated before the first push.
#[derive(Debug, Clone, Default)]
pub struct InvQueue {
    items: VecDeque<InvItem>,
    capacity: usize,
}

impl InvQueue {
    /// Returns an empty queue of at most `capacity` items (0 queues nothing).
    #[must_use]
    pub const fn new(capacity: usize) -> Self {
        Self {
            items: VecDeque::new(),
            capacity,
        }
    }

    /// Queues `item`; returns the oldest item when it was dropped to make room (or `item`
    /// itself when the capacity is 0).
    pub fn push(&mut self, item: InvItem) -> Option<InvItem> {
        if self.capacity == 0 {
            return Some(item);
        }
        let dropped = if self.items.len() >= self.capacity {
            self.items.pop_front()
        } else {
            None
        };
        self.items.push_back(item);
        dropped
    }

    /// Takes up to `max` items the peer does not know, oldest first, marking each as known
    /// in `known`; items it already knows are discarded on the way. Items beyond `max` stay
    /// queued for the next trickle.
    pub fn pop_batch(&mut self, max: usize, known: &mut KnownInventory) -> Vec<InvItem> {
        let mut batch = Vec::new();
        // Bounded by the queue's length: every iteration removes one item.
        while batch.len() < max {
            let Some(item) = self.items.pop_front() else {
                break;
            };
            if known.contains(&item.hash) {
                continue;
            }
            known.insert(item.hash);
            batch.push(item);
        }
        if self.items.is_empty() {
            // A burst should not pin its peak allocation for the rest of the connection.
            self.items = VecDeque::new();
        }
        batch
    }

    /// Returns the number of items queued.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Returns whether nothing is queued.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Returns the most items queued at once.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// Returns the number of items the allocated memory can hold without growing: 0 until
    /// the first push.
    #[must_use]
    pub fn allocated(&self) -> usize {
        self.items.capacity()
    }

    /// Drops every queued item and frees the memory.
    pub fn clear(&mut self) {
        self.items = VecDeque::new();
    }

    /// Returns an iterator over the queued items, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &InvItem> + '_ {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use btcwire::types::InvType;

    fn hash(n: u32) -> [u8; 32] {
        let mut h = [0u8; 32];
        h[..4].copy_from_slice(&n.to_le_bytes());
        h[31] = 0xaa;
        h
    }

    fn tx(n: u32) -> InvItem {
        InvItem::new(InvType::WITNESS_TX, hash(n))
    }

    #[test]
    fn known_inventory_allocates_nothing_until_used() {
        let mut known = KnownInventory::new(10);
        assert_eq!(known.allocated(), 0);
        assert!(!known.contains(&hash(1)));
        assert_eq!(known.allocated(), 0, "a lookup allocates nothing");
        assert!(known.insert(hash(1)));
        assert!(known.allocated() > 0);
        known.clear();
        assert_eq!((known.len(), known.allocated()), (0, 0));
    }

    #[test]
    fn known_inventory_is_exact_and_deduplicates() {
        let mut known = KnownInventory::new(10);
        assert!(known.insert(hash(1)));
        assert!(!known.insert(hash(1)), "a second insert is not new");
        assert_eq!(known.len(), 1);
        assert!(known.contains(&hash(1)));
        // Exact: hashes sharing 31 bytes are different.
        let mut near = hash(1);
        near[31] ^= 1;
        assert!(!known.contains(&near));
    }

    #[test]
    fn known_inventory_forgets_oldest_at_capacity() {
        let mut known = KnownInventory::new(3);
        for n in 0..5 {
            known.insert(hash(n));
        }
        assert_eq!(known.len(), 3);
        assert!(!known.contains(&hash(0)) && !known.contains(&hash(1)));
        assert!((2..5).all(|n| known.contains(&hash(n))));
        // Re-inserting a remembered hash does not refresh it: FIFO, not LRU.
        known.insert(hash(2));
        known.insert(hash(5));
        assert!(!known.contains(&hash(2)));
        assert!(known.contains(&hash(5)));
    }

    #[test]
    fn known_inventory_of_capacity_zero_remembers_nothing() {
        let mut known = KnownInventory::new(0);
        assert!(!known.insert(hash(1)));
        assert!(!known.contains(&hash(1)));
        assert_eq!(known.allocated(), 0);
    }

    #[test]
    fn known_inventory_stays_bounded_under_a_flood() {
        let cap = 1_000;
        let mut known = KnownInventory::new(cap);
        for n in 0..20_000 {
            known.insert(hash(n));
        }
        assert_eq!(known.len(), cap);
        assert!(
            known.allocated() <= 4 * cap,
            "allocated {}",
            known.allocated()
        );
        assert!((19_000..20_000).all(|n| known.contains(&hash(n))));
    }

    #[test]
    fn inv_queue_allocates_nothing_until_used() {
        let mut q = InvQueue::new(MAX_INV_QUEUE);
        assert_eq!(q.allocated(), 0);
        assert!(q.is_empty());
        assert_eq!(q.push(tx(1)), None);
        assert!(q.allocated() > 0);
        let mut known = KnownInventory::new(10);
        assert_eq!(q.pop_batch(10, &mut known), [tx(1)]);
        assert_eq!(q.allocated(), 0, "an emptied queue frees its memory");
    }

    #[test]
    fn inv_queue_drops_oldest_when_full() {
        let mut q = InvQueue::new(3);
        for n in 0..3 {
            assert_eq!(q.push(tx(n)), None);
        }
        assert_eq!(q.push(tx(3)), Some(tx(0)));
        assert_eq!(q.len(), 3);
        let queued: Vec<_> = q.iter().copied().collect();
        assert_eq!(queued, [tx(1), tx(2), tx(3)]);
        assert_eq!(InvQueue::new(0).push(tx(9)), Some(tx(9)));
    }

    #[test]
    fn pop_batch_skips_known_items_and_marks_sent_ones() {
        let mut q = InvQueue::new(100);
        let mut known = KnownInventory::new(100);
        known.insert(hash(2));
        for n in 0..6 {
            q.push(tx(n));
        }
        q.push(tx(0)); // queued twice, sent once
        let first = q.pop_batch(3, &mut known);
        assert_eq!(
            first,
            [tx(0), tx(1), tx(3)],
            "2 is known: skipped, not counted"
        );
        assert!(known.contains(&hash(0)) && known.contains(&hash(3)));
        let second = q.pop_batch(3, &mut known);
        assert_eq!(second, [tx(4), tx(5)], "the duplicate 0 is now known");
        assert!(q.is_empty());
        assert!(q.pop_batch(3, &mut known).is_empty());
    }

    #[test]
    fn pop_batch_leaves_the_rest_for_the_next_trickle() {
        let mut q = InvQueue::new(MAX_INV_QUEUE);
        let mut known = KnownInventory::new(10_000);
        for n in 0..2_500 {
            q.push(tx(n));
        }
        let sizes: Vec<usize> = (0..4)
            .map(|_| q.pop_batch(1_000, &mut known).len())
            .collect();
        assert_eq!(sizes, [1_000, 1_000, 500, 0]);
    }
}
