//! Whether a server's preconditions can be trusted for a write, decided once for every front end
//! (the CLI's write commands and the desktop's save alike). Not about TLS certificates: that is
//! `client::trust`.
//!
//! From what the server check found (`ServerFacts`, kept per folder by the store) and the
//! connection's dialect, `decide` says what a write of one kind may do: the save loop's `Policy`
//! (compare before and read back after on a server not known to refuse stale writes of that
//! kind), whether to take the server's write lock, whether to watch after the write and for how
//! long by default, which statuses mean "stale write" on this server (412, or the 409 the check
//! saw), and the risks that remain, as facts (`Risk`) that each front end puts into its own words.
//!
//! Owns: the trust rules (per kind of write: a PATCH consults the verdict the check found for
//! PATCH, not the one for PUT; validators that miss changes are never trusted; a profile stored
//! before per-method verdicts speaks for PUT, create and DELETE only), the lock choice, the
//! default watch, and the extra stale-write status.
//!
//! Must never: send a request, read or write the profiles file, or build a sentence — a `Risk` is
//! a fact; words live at the edges (the CLI's `guard.rs`, the desktop's view).

use crate::check::{MethodVerdict, Verdict, WriteKind};
use crate::dialect::Dialect;
use crate::session::Policy;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long after an acknowledged write the default watch reads the resource again.
pub const DEFAULT_WATCH: Duration = Duration::from_millis(500);

/// The status every server answers a stale conditional write with (RFC 9110 §13.1.1).
pub const PRECONDITION_FAILED: u16 = 412;

/// What the server check found about a server, as far as a write's trust depends on it. The
/// store keeps these in its profile (`ServerProfile::facts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFacts {
    /// The check's overall verdict.
    pub verdict: Verdict,
    /// The status it answered a stale write with (412, CouchDB-style 409), when one was seen.
    pub stale_write_status: Option<u16>,
    /// Its ETag was seen to stay the same while the content changed.
    pub validators_miss_changes: bool,
    /// The verdict for each kind of write the check probed (empty for a profile from before the
    /// check probed each method: that check probed PUT, create and DELETE only).
    pub methods: BTreeMap<WriteKind, MethodVerdict>,
    /// Whether its If-Match check held under bursts of writes carrying one validator (false: a
    /// race was seen); None when not measured.
    pub atomic: Option<bool>,
    /// Whether it offers an exclusive write lock it enforces (WebDAV class 2); None when not
    /// known.
    pub lock: Option<bool>,
}

impl ServerFacts {
    /// Whether the server's own preconditions can be relied on overall (it refuses stale writes
    /// and its ETag follows the content).
    pub fn trusted(&self) -> bool {
        matches!(self.verdict, Verdict::Protected | Verdict::Caveats)
            && !self.validators_miss_changes
    }

    /// Whether a write of this kind can rely on the server's own preconditions: the check saw it
    /// refuse such a write when stale and apply it when current, and the ETag follows the
    /// content. Facts from before per-method verdicts speak for PUT, create and DELETE only
    /// (what that check probed); never for PATCH.
    pub fn trusted_for(&self, kind: WriteKind) -> bool {
        if self.validators_miss_changes {
            return false;
        }
        match self.methods.get(&kind) {
            Some(v) => *v == MethodVerdict::Protected,
            None if self.methods.is_empty() => {
                matches!(kind, WriteKind::Put | WriteKind::Create | WriteKind::Delete)
                    && self.trusted()
            }
            None => false,
        }
    }

    /// Whether the check found that a write of this kind overwrites when stale (facts from before
    /// per-method verdicts: the overall verdict).
    pub fn unprotected_for(&self, kind: WriteKind) -> bool {
        match self.methods.get(&kind) {
            Some(v) => *v == MethodVerdict::Unprotected,
            None => self.verdict == Verdict::Unprotected,
        }
    }

    /// Whether it offers a write lock it enforces.
    pub fn offers_lock(&self) -> bool {
        self.lock == Some(true)
    }

    /// Whether an acknowledged write is watched although the server refuses stale writes, when
    /// saves take its lock where it offers one: its validators miss changes, or its check was
    /// seen racing its own writes and there is no lock to make the write atomic.
    pub fn needs_watch(&self) -> bool {
        self.validators_miss_changes || (self.atomic == Some(false) && !self.offers_lock())
    }

    /// The status it answers a stale write with when that is not 412 (CouchDB-style 409): such
    /// an answer to a write is a conflict on this server.
    pub fn other_stale_status(&self) -> Option<u16> {
        self.stale_write_status
            .filter(|s| *s != PRECONDITION_FAILED)
    }
}

/// What is asked of a write, besides the server and the dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ask {
    /// The kind of write: its verdict is the one consulted.
    pub kind: WriteKind,
    /// Resubmit a clean merge by itself (`ifmatch save`, or a connection that opted in).
    pub auto_resubmit: bool,
    /// At most this many write rounds (0 counts as 1).
    pub max_rounds: usize,
    /// Go without the server's write lock even where it offers one (`save --no-lock`).
    pub decline_lock: bool,
}

impl Ask {
    /// A single write of `kind` (no automatic resubmission, one round, the lock where offered).
    pub fn write(kind: WriteKind) -> Ask {
        Ask {
            kind,
            auto_resubmit: false,
            max_rounds: 1,
            decline_lock: false,
        }
    }
}

/// A risk that remains for a write, as a fact. Several can hold at once; `Decision::risks` lists
/// them most serious first, and a front end says the first it has words for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Risk {
    /// The connection's dialect says the API keeps no version (`--dialect none`): writes are
    /// compared just before and read back just after, nothing more.
    NoVersion,
    /// The check saw a stale write of this kind overwrite on this server.
    Unprotected {
        /// The kind of write.
        write: WriteKind,
    },
    /// The server's ETag stays the same while the content changes: a stale If-Match can match.
    ValidatorsMissChanges,
    /// The server was checked, but no verdict speaks for this kind of write (not offered,
    /// acknowledged and not applied, the check could not tell, or a profile from before the
    /// check probed PATCH).
    Undetermined {
        /// The kind of write.
        write: WriteKind,
    },
    /// The server was never checked: whether it refuses stale writes is not known.
    Unchecked,
    /// Its precondition check was seen racing its own writes, and the write goes without a lock.
    NotAtomic,
}

/// What a write may do on a server, decided once (`decide`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The kind of write it was decided for.
    pub kind: WriteKind,
    /// The save loop's policy: `check_around_writes` where the server's preconditions for this
    /// kind of write are not to be relied on alone.
    pub policy: Policy,
    /// Take the server's write lock around read → compare → write (`Client::use_server_lock`).
    pub take_lock: bool,
    /// Watch after an acknowledged write by default (read again this long after it), unless the
    /// write was made under the server's lock (`watch_after`).
    pub watch: Option<Duration>,
    /// The statuses that mean "stale write" on this server (`ClientConfig::conflict_statuses`):
    /// 412, and the status the check saw (409) where it differs. A dialect's own conflict
    /// statuses are the dialect's to recognise and are not repeated here.
    pub conflict_statuses: Vec<u16>,
    /// The risks that remain, most serious first (empty: the server's own check is enough).
    pub risks: Vec<Risk>,
}

impl Decision {
    /// Whether the server's preconditions are not to be relied on alone for this write: compare
    /// just before it and read it back just after.
    pub fn untrusted(&self) -> bool {
        self.policy.check_around_writes
    }

    /// How long after a write to watch it by default: none when it was made under the server's
    /// lock (read, compare and write were one step for every writer that honours it).
    pub fn watch_after(&self, under_lock: bool) -> Option<Duration> {
        self.watch.filter(|_| !under_lock)
    }

    /// The most serious risk, the one a front end tells after a successful write.
    pub fn risk(&self) -> Option<Risk> {
        self.risks.first().copied()
    }
}

/// The statuses that mean "stale write" on a server with these facts: 412, and the one the check
/// saw when it differs. Known before the kind of write is (a client is made per connection).
pub fn conflict_statuses(facts: Option<&ServerFacts>) -> Vec<u16> {
    let mut s = vec![PRECONDITION_FAILED];
    s.extend(facts.and_then(ServerFacts::other_stale_status));
    s
}

/// What a write of `ask.kind` may do on a server with these facts (None: never checked) over a
/// connection with this dialect.
pub fn decide(facts: Option<&ServerFacts>, dialect: &Dialect, ask: Ask) -> Decision {
    let no_version = !dialect.versioned;
    let kind = ask.kind;
    let trusted = !no_version && facts.is_some_and(|f| f.trusted_for(kind));
    let lock_offered = facts.is_some_and(ServerFacts::offers_lock);
    let take_lock = !no_version && lock_offered && !ask.decline_lock;
    // Declining the lock it offers: atomicity the check did not measure is not assumed.
    let atomic = facts.and_then(|f| match f.atomic {
        Some(true) => Some(true),
        _ if lock_offered && ask.decline_lock => Some(false),
        a => a,
    });
    let lock_held = lock_offered && !ask.decline_lock;
    let not_atomic = atomic == Some(false) && !lock_held;
    let misses = facts.is_some_and(|f| f.validators_miss_changes);
    // Every acknowledged write not made under the server's lock is watched (`watch_after`): no
    // short check proves a server's precondition atomic with its write. Kinto held the check's
    // bursts (one of eight writes carrying the same If-Match acknowledged, every time) and still
    // acknowledged 32 pairs of writes carrying the same If-Match under 16 writers in one
    // 30-second run; one of those replaced a save that had said "saved".
    let watch = Some(DEFAULT_WATCH);

    let mut risks = vec![];
    if no_version {
        risks.push(Risk::NoVersion);
    }
    match facts {
        None => risks.push(Risk::Unchecked),
        Some(f) => {
            if f.unprotected_for(kind) {
                risks.push(Risk::Unprotected { write: kind });
            }
            if misses {
                risks.push(Risk::ValidatorsMissChanges);
            }
            if !f.trusted_for(kind) && !f.unprotected_for(kind) && !misses {
                risks.push(Risk::Undetermined { write: kind });
            }
        }
    }
    if not_atomic {
        risks.push(Risk::NotAtomic);
    }
    // Unchecked goes after the facts that are worse than not knowing.
    risks.sort_by_key(|r| match r {
        Risk::NoVersion => 0,
        Risk::Unprotected { .. } => 1,
        Risk::ValidatorsMissChanges => 2,
        Risk::Undetermined { .. } => 3,
        Risk::Unchecked => 4,
        Risk::NotAtomic => 5,
    });

    Decision {
        kind,
        policy: Policy {
            auto_resubmit: ask.auto_resubmit,
            max_rounds: ask.max_rounds.max(1),
            check_around_writes: !trusted,
        },
        take_lock,
        watch,
        conflict_statuses: conflict_statuses(facts),
        risks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MethodVerdict::{NotApplied, NotOffered, Protected as P, Unprotected as U};

    fn facts(verdict: Verdict) -> ServerFacts {
        ServerFacts {
            verdict,
            stale_write_status: Some(412),
            validators_miss_changes: false,
            methods: BTreeMap::new(),
            atomic: None,
            lock: None,
        }
    }

    fn per_method(verdict: Verdict, m: &[(WriteKind, MethodVerdict)]) -> ServerFacts {
        ServerFacts {
            methods: m.iter().copied().collect(),
            ..facts(verdict)
        }
    }

    fn plain() -> Dialect {
        Dialect::default()
    }

    fn none() -> Dialect {
        Dialect::preset("none").expect("the none preset")
    }

    fn put() -> Ask {
        Ask::write(WriteKind::Put)
    }

    #[test]
    fn a_protected_server_is_trusted_and_nothing_more_is_done() {
        let d = decide(Some(&facts(Verdict::Protected)), &plain(), put());
        assert!(!d.untrusted());
        assert!(!d.take_lock);
        // Watched all the same: a check cannot prove its precondition atomic.
        assert_eq!(d.watch_after(false), Some(DEFAULT_WATCH));
        assert_eq!(d.risks, vec![]);
        assert_eq!(d.conflict_statuses, vec![412]);
        // Caveats alone do not take the trust away.
        let d = decide(Some(&facts(Verdict::Caveats)), &plain(), put());
        assert!(!d.untrusted() && d.risks.is_empty());
    }

    #[test]
    fn the_callers_wishes_go_into_the_policy() {
        let ask = Ask {
            kind: WriteKind::Put,
            auto_resubmit: true,
            max_rounds: 0,
            decline_lock: false,
        };
        let d = decide(Some(&facts(Verdict::Protected)), &plain(), ask);
        assert_eq!(
            d.policy,
            Policy {
                auto_resubmit: true,
                max_rounds: 1,
                check_around_writes: false
            }
        );
    }

    #[test]
    fn an_unprotected_kind_is_compared_watched_and_said_per_kind() {
        let f = per_method(
            Verdict::Unprotected,
            &[
                (WriteKind::Put, P),
                (WriteKind::MergePatch, U),
                (WriteKind::JsonPatch, NotOffered),
                (WriteKind::Delete, P),
                (WriteKind::Create, P),
            ],
        );
        let d = decide(Some(&f), &plain(), put());
        assert!(!d.untrusted() && d.risks.is_empty(), "{d:?}");
        let d = decide(Some(&f), &plain(), Ask::write(WriteKind::MergePatch));
        assert!(d.untrusted());
        assert_eq!(d.watch, Some(DEFAULT_WATCH));
        assert_eq!(
            d.risks,
            vec![Risk::Unprotected {
                write: WriteKind::MergePatch
            }]
        );
        let d = decide(Some(&f), &plain(), Ask::write(WriteKind::JsonPatch));
        assert!(d.untrusted());
        assert_eq!(
            d.risk(),
            Some(Risk::Undetermined {
                write: WriteKind::JsonPatch
            }),
            "not offered is not trusted, nor found unprotected"
        );
        let f = per_method(Verdict::Caveats, &[(WriteKind::Put, NotApplied)]);
        let d = decide(Some(&f), &plain(), put());
        assert!(d.untrusted());
        assert_eq!(
            d.risk(),
            Some(Risk::Undetermined {
                write: WriteKind::Put
            })
        );
    }

    #[test]
    fn a_profile_from_before_per_method_verdicts_never_speaks_for_patch() {
        let f = facts(Verdict::Protected);
        for k in [WriteKind::Put, WriteKind::Create, WriteKind::Delete] {
            assert!(
                !decide(Some(&f), &plain(), Ask::write(k)).untrusted(),
                "{k:?}"
            );
        }
        for k in [WriteKind::MergePatch, WriteKind::JsonPatch] {
            let d = decide(Some(&f), &plain(), Ask::write(k));
            assert!(d.untrusted(), "{k:?}");
            assert_eq!(d.risk(), Some(Risk::Undetermined { write: k }));
        }
        // Its overall verdict says unprotected: every kind is.
        let d = decide(Some(&facts(Verdict::Unprotected)), &plain(), put());
        assert_eq!(
            d.risks,
            vec![Risk::Unprotected {
                write: WriteKind::Put
            }]
        );
    }

    #[test]
    fn an_unknown_verdict_or_no_profile_is_not_trusted() {
        let d = decide(Some(&facts(Verdict::Unknown)), &plain(), put());
        assert!(d.untrusted());
        assert_eq!(d.watch, Some(DEFAULT_WATCH));
        assert_eq!(
            d.risks,
            vec![Risk::Undetermined {
                write: WriteKind::Put
            }]
        );
        let d = decide(None, &plain(), put());
        assert!(d.untrusted() && !d.take_lock);
        assert_eq!(d.watch, Some(DEFAULT_WATCH));
        assert_eq!(d.risks, vec![Risk::Unchecked]);
        assert_eq!(d.conflict_statuses, vec![412]);
    }

    #[test]
    fn validators_that_miss_changes_take_the_trust_away_whatever_the_verdict() {
        let mut f = per_method(Verdict::Protected, &[(WriteKind::Put, P)]);
        f.validators_miss_changes = true;
        let d = decide(Some(&f), &plain(), put());
        assert!(d.untrusted());
        assert_eq!(d.watch, Some(DEFAULT_WATCH));
        assert_eq!(d.risks, vec![Risk::ValidatorsMissChanges]);
        // With a kind found unprotected too, that comes first.
        f.methods.insert(WriteKind::Put, U);
        let d = decide(Some(&f), &plain(), put());
        assert_eq!(
            d.risks,
            vec![
                Risk::Unprotected {
                    write: WriteKind::Put
                },
                Risk::ValidatorsMissChanges
            ]
        );
    }

    #[test]
    fn a_dialect_without_a_version_is_never_trusted_and_takes_no_lock() {
        let mut f = facts(Verdict::Protected);
        f.lock = Some(true);
        let d = decide(Some(&f), &none(), put());
        assert!(d.untrusted());
        assert!(!d.take_lock, "no version: no lock");
        assert_eq!(d.watch, Some(DEFAULT_WATCH));
        assert_eq!(d.risk(), Some(Risk::NoVersion));
        let d = decide(None, &none(), put());
        assert_eq!(d.risks, vec![Risk::NoVersion, Risk::Unchecked]);
    }

    #[test]
    fn a_lock_offered_is_taken_and_makes_a_racing_check_atomic() {
        let mut f = facts(Verdict::Caveats);
        f.atomic = Some(false);
        let d = decide(Some(&f), &plain(), put());
        assert!(!d.untrusted() && !d.take_lock);
        assert_eq!(d.watch, Some(DEFAULT_WATCH), "a race, no lock: watched");
        assert_eq!(d.risks, vec![Risk::NotAtomic]);
        f.lock = Some(true);
        let d = decide(Some(&f), &plain(), put());
        assert!(d.take_lock);
        assert_eq!(d.watch_after(true), None, "under the lock: atomic");
        assert_eq!(
            d.watch_after(false),
            Some(DEFAULT_WATCH),
            "a lock that was not granted: watched"
        );
        assert!(d.risks.is_empty());
        // Declined (`save --no-lock`): watched as a racing server.
        let ask = Ask {
            decline_lock: true,
            ..put()
        };
        let d = decide(Some(&f), &plain(), ask);
        assert!(!d.take_lock);
        assert_eq!(d.watch, Some(DEFAULT_WATCH));
        assert_eq!(d.risks, vec![Risk::NotAtomic]);
        // Declined where atomicity was never measured: not assumed either.
        f.atomic = None;
        let d = decide(Some(&f), &plain(), ask);
        assert_eq!(d.risks, vec![Risk::NotAtomic]);
        // Declined where the check saw it atomic: no risk to tell, and watched like any write
        // made without the lock.
        f.atomic = Some(true);
        let d = decide(Some(&f), &plain(), ask);
        assert_eq!((d.watch, d.risks.clone()), (Some(DEFAULT_WATCH), vec![]));
    }

    #[test]
    fn a_write_under_the_lock_needs_no_watch() {
        let d = decide(None, &plain(), put());
        assert_eq!(d.watch_after(false), Some(DEFAULT_WATCH));
        assert_eq!(d.watch_after(true), None);
    }

    #[test]
    fn a_409_server_counts_409_as_a_conflict() {
        let mut f = facts(Verdict::Unprotected);
        f.stale_write_status = Some(409);
        assert_eq!(conflict_statuses(Some(&f)), vec![412, 409]);
        let d = decide(Some(&f), &plain(), Ask::write(WriteKind::Delete));
        assert_eq!(d.conflict_statuses, vec![412, 409]);
        f.stale_write_status = None;
        assert_eq!(conflict_statuses(Some(&f)), vec![412]);
        assert_eq!(conflict_statuses(None), vec![412]);
    }
}
