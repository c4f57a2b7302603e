//! One finding of the server check, with its evidence: what was probed, whether it is good,
//! a caveat, bad or only information, and the requests and answers that show it. Shared by the
//! check's probes (check.rs) and its concurrency probes (concurrency.rs).
//!
//! Owns: `Finding`, `Mark`. Must never: probe anything.

use serde::{Deserialize, Serialize};

/// What one finding says about the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    /// As RFC 9110 asks.
    Good,
    /// Safe, with something to know.
    Caveat,
    /// A stale write is not refused.
    Bad,
    /// Neither good nor bad: how the server does things.
    Info,
}

/// One finding, with its evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Finding {
    /// A short name for what was probed (`if_match`, `if_none_match`, `etag`, …).
    pub topic: String,
    /// Good, caveat, bad or information.
    pub mark: Mark,
    /// What was found, in a sentence.
    pub says: String,
    /// The requests and answers that show it, one line each.
    pub evidence: Vec<String>,
}
