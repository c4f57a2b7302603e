//! The per-connection cache of the last version read of each resource, for revalidating reads
//! with If-None-Match / If-Modified-Since.

use crate::outcome::Received;
use crate::precondition::Validator;
use std::collections::HashMap;
use std::sync::Mutex;

/// A cached version: its text and the validator it came with.
#[derive(Debug, Clone)]
pub(super) struct CacheEntry {
    pub(super) text: String,
    pub(super) validator: Validator,
}

/// The cache: resource URL → its last version read (with a validator).
#[derive(Debug, Default)]
pub(super) struct Cache {
    entries: Mutex<HashMap<String, CacheEntry>>,
}

impl Cache {
    /// The cached version of `url`, if any.
    pub(super) fn get(&self, url: &str) -> Option<CacheEntry> {
        self.lock().get(url).cloned()
    }

    /// Drops `url` (it was deleted, or a write's outcome is not known).
    pub(super) fn forget(&self, url: &str) {
        self.lock().remove(url);
    }

    /// Remembers a version that carries a validator (one without cannot be revalidated).
    pub(super) fn remember(&self, url: &str, doc: &Received) {
        if let Some(v) = &doc.validator {
            self.lock().insert(
                url.to_string(),
                CacheEntry {
                    text: doc.text.clone(),
                    validator: v.clone(),
                },
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, CacheEntry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}
