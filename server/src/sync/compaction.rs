//! When an open room folds its log into a new snapshot.
//!
//! Compacting encodes the whole document, which costs in proportion to its size, so
//! compacting after a fixed number of entries makes a long editing session quadratic: the
//! B4 trace (259,778 one-character updates) compacted 520 times at 500 entries each and
//! spent more time encoding snapshots than storing updates. A room therefore waits for at
//! least `min_entries` entries *and* for the log to hold at least as many bytes as the
//! last snapshot: every compaction is paid for by as many bytes of new log, the total
//! work stays linear, and the stored log never outgrows the snapshot by more than one
//! batch.

/// What a room knows of its log since the last compaction.
#[derive(Debug, Clone)]
pub struct CompactionPolicy {
    min_entries: i64,
    snapshot_bytes: usize,
    log_bytes: usize,
}

impl CompactionPolicy {
    /// A room that loaded a snapshot of `snapshot_bytes` and `log_bytes` of log after it.
    pub fn new(min_entries: i64, snapshot_bytes: usize, log_bytes: usize) -> Self {
        Self {
            min_entries: min_entries.max(1),
            snapshot_bytes,
            log_bytes,
        }
    }

    /// Counts bytes appended to the log.
    pub fn logged(&mut self, bytes: usize) {
        self.log_bytes = self.log_bytes.saturating_add(bytes);
    }

    /// Whether `entries` new log entries (and the bytes counted) are worth a snapshot.
    pub fn due(&self, entries: i64) -> bool {
        entries >= self.min_entries && self.log_bytes >= self.snapshot_bytes
    }

    /// A snapshot of `snapshot_bytes` now covers the log.
    pub fn compacted(&mut self, snapshot_bytes: usize) {
        self.snapshot_bytes = snapshot_bytes;
        self.log_bytes = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_document_compacts_after_the_entry_count() {
        let mut policy = CompactionPolicy::new(500, 0, 0);
        policy.logged(499 * 30);
        assert!(!policy.due(499));
        policy.logged(30);
        assert!(policy.due(500));
    }

    #[test]
    fn a_large_document_waits_until_the_log_outweighs_its_snapshot() {
        let mut policy = CompactionPolicy::new(500, 0, 0);
        policy.compacted(160_000);
        policy.logged(500 * 30);
        assert!(!policy.due(500));
        policy.logged(160_000);
        assert!(policy.due(6_000));
    }

    #[test]
    fn the_work_stays_linear_in_the_final_size() {
        // B4-like: 260k updates of 31 bytes onto a state that grows to 160 kB. Compacting
        // every 500 entries encodes ~260 times the final size in all; this rule, ~52.
        const FINAL: usize = 160_000;
        let mut policy = CompactionPolicy::new(500, 0, 0);
        let (mut entries, mut encoded) = (0, 0);
        for n in 1..=260_000_usize {
            policy.logged(31);
            entries += 1;
            if policy.due(entries) {
                let size = n * FINAL / 260_000;
                policy.compacted(size);
                encoded += size;
                entries = 0;
            }
        }
        assert!(
            encoded < 64 * FINAL,
            "encoded {} times the final size",
            encoded / FINAL
        );
    }
}
