//! The online index: records held for matching one arriving record at a time.
use super::*;

/// Records held for online matching, indexed by every blocking key.
#[derive(Debug, Clone, Default)]
pub struct Index {
    records: Vec<Prepared>,
    keys: HashMap<u64, Vec<u32>, BuildFx>,
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Index::default()
    }

    /// How many records it holds.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Adds a record; returns its index.
    pub fn insert(&mut self, record: Prepared, rules: &[BlockingRule]) -> u32 {
        let id = self.records.len() as u32;
        for rule in rules {
            rule.each_key(&record, |key| {
                let ids = self.keys.entry(key).or_default();
                // One record may give one key twice (`1123` without either 1).
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            });
        }
        self.records.push(record);
        id
    }

    /// The record at an index.
    pub fn record(&self, i: u32) -> &Prepared {
        &self.records[i as usize]
    }

    /// Every held record that shares a blocking key with `record` (keys held by `max_block`
    /// records or more are left out), each once, in index order.
    pub fn candidates(&self, record: &Prepared, settings: &Settings) -> Vec<u32> {
        let mut candidates: Vec<u32> = Vec::new();
        for rule in &settings.rules {
            rule.each_key(record, |key| {
                if let Some(ids) = self.keys.get(&key)
                    && ids.len() < settings.max_block
                {
                    candidates.extend(ids);
                }
            });
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.retain(|&i| is_candidate(&self.records[i as usize], record, &settings.rules));
        candidates
    }

    /// Every held record that shares a blocking key with `record`, scored, best first.
    pub fn matches(
        &self,
        record: &Prepared,
        trained: &Trained,
        settings: &Settings,
    ) -> Vec<(u32, Weighed)> {
        let mut scored: Vec<(u32, Weighed)> = self
            .candidates(record, settings)
            .into_iter()
            .map(|i| (i, trained.score(&self.records[i as usize], record)))
            .collect();
        scored.sort_by(|x, y| {
            (y.1.probability)
                .total_cmp(&x.1.probability)
                .then(x.0.cmp(&y.0))
        });
        scored
    }
}
