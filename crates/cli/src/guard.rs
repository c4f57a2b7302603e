//! What a write does on a server not known to refuse stale writes (no profile from
//! `ifmatch check`, or one that says it ignores If-Match or that its ETag does not follow the
//! content): compare the resource with the version the write is conditional on just before
//! writing, read it back just after, and say the risk that remains.
//!
//! What a write may do is decided by the engine (`ifmatch_engine::trust::decide`, the same rules
//! the desktop follows); this module only looks the stored profile up, runs the compare and the
//! read back that decision asks for, and puts its risks into the CLI's words.

use ifmatch_engine::check::WriteKind;
use ifmatch_engine::json::same_text;
use ifmatch_engine::outcome::exit;
use ifmatch_engine::trust::{self, Ask, Decision, Risk, ServerFacts};
use ifmatch_engine::{Client, EntityTag, Outcome};
use ifmatch_store::servers::{self, ServerProfiles};

/// The facts the server check stored for `url`'s folder (None: never checked).
fn stored_facts(url: &str) -> Option<ServerFacts> {
    let profiles = ServerProfiles::open(servers::default_dir().as_deref());
    profiles.lookup(url).map(|p| p.facts())
}

/// The statuses that mean "stale write" on the server at `url`: 412, and the status the server
/// check saw it answer a stale write with when that is not 412 (CouchDB-style 409).
pub fn conflict_statuses(url: &str) -> Vec<u16> {
    trust::conflict_statuses(stored_facts(url).as_ref())
}

pub struct Guard {
    decision: Decision,
}

impl Guard {
    /// The guard for a PUT to `url`, from the stored profiles and the client's dialect.
    pub fn for_url(url: &str, client: &Client) -> Guard {
        Guard::for_write(url, client, WriteKind::Put)
    }

    /// The guard for a single write of `kind` to `url`.
    pub fn for_write(url: &str, client: &Client, kind: WriteKind) -> Guard {
        Guard::for_ask(url, client, Ask::write(kind))
    }

    /// The guard for a write as `ask` says (a save's rounds, its lock choice).
    pub fn for_ask(url: &str, client: &Client, ask: Ask) -> Guard {
        Guard {
            decision: trust::decide(stored_facts(url).as_ref(), client.dialect(), ask),
        }
    }

    /// What the engine decided this write may do.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// Whether the server's preconditions for this kind of write are not to be relied on alone.
    pub fn untrusted(&self) -> bool {
        self.decision.untrusted()
    }

    /// Before a write conditional on `tag`: on an untrusted server, the resource must still be
    /// at that version, else nothing is sent (exit 3). Returns the document read (None when
    /// nothing was read).
    pub async fn still_at(
        &self,
        client: &Client,
        url: &str,
        tag: &EntityTag,
    ) -> Result<Option<String>, i32> {
        if !self.untrusted() {
            return Ok(None);
        }
        match client.get_fresh(url).await {
            Outcome::Fetched { doc, .. } => {
                let now = doc.validator.as_ref().and_then(|v| v.etag());
                match now {
                    Some(n) if !(n.raw == tag.raw || n.weak_eq(tag) && (n.weak || tag.weak)) => {
                        say!(
                            "ifmatch: Conflict: the resource changed on the server since {} (it \
                             is now {}), so nothing was sent and nothing was overwritten. This \
                             server is not known to refuse stale writes itself, so ifmatch \
                             compared before writing. Read the current version and redo your \
                             change on it.",
                            tag.raw,
                            n.raw
                        );
                        Err(exit::CONFLICT)
                    }
                    _ => Ok(Some(doc.text)),
                }
            }
            other => {
                say!(
                    "ifmatch: the resource could not be read just before writing ({}); nothing \
                     was sent.",
                    other.message().trim_end_matches('.')
                );
                Err(other.exit_code())
            }
        }
    }

    /// Before a create: on an untrusted server, the resource must not exist yet.
    pub async fn absent(&self, client: &Client, url: &str) -> Result<(), i32> {
        if !self.untrusted() {
            return Ok(());
        }
        match client.get_fresh(url).await {
            Outcome::Fetched { doc, .. } => {
                say!(
                    "ifmatch: Conflict: a resource already exists at this URL ({}), so nothing \
                     was sent and nothing was overwritten. This server is not known to refuse a \
                     create over an existing resource itself, so ifmatch looked first.",
                    doc.validator
                        .map(|v| v.display())
                        .unwrap_or_else(|| "no validator".into())
                );
                Err(exit::CONFLICT)
            }
            _ => Ok(()),
        }
    }

    /// After a write the server acknowledged, on an untrusted server: read it back. Holding
    /// `expected` is saved; holding `before` (what was there before the write) means the write
    /// was acknowledged but not applied; anything else, a concurrent change. `None`: saved.
    pub async fn read_back(
        &self,
        client: &Client,
        url: &str,
        expected: &str,
        before: Option<&str>,
    ) -> Option<i32> {
        if !self.untrusted() {
            return None;
        }
        let doc = match client.get_fresh(url).await {
            Outcome::Fetched { doc, .. } => doc,
            failed => {
                say!(
                    "ifmatch: the server acknowledged the write, but reading it back failed ({}): \
                     written, not confirmed. Read it (ifmatch get) before writing again.",
                    failed.summary()
                );
                return Some(exit::UNCONFIRMED);
            }
        };
        if holds(&doc.text, expected, before) {
            return None;
        }
        if before.is_some_and(|b| same_text(&doc.text, b)) {
            say!(
                "ifmatch: the server acknowledged the write but did not apply it: it still holds \
                 the version from before. Nothing of yours is lost (your input is unchanged), \
                 and writing it the same way again would be answered the same way: a PATCH can \
                 be sent as the whole document with `ifmatch put`; a PUT the server does not \
                 apply is for the API's owners."
            );
            return Some(exit::HTTP_ERROR);
        }
        say!(
            "ifmatch: the server acknowledged the write, but reading it back shows something \
             else: another writer changed it in the same moment, or the server did not store \
             what was sent. Read it (ifmatch get) and check before writing again."
        );
        Some(exit::CONFLICT)
    }

    /// After a successful write: the risk that remains, in words (nothing on a server the check
    /// found protected for this kind of write, nor where it could not tell).
    pub fn warn(&self) {
        match self.decision.risk() {
            Some(Risk::NoVersion) => say!(
                "ifmatch: warning: this API keeps no version (--dialect none): the resource was \
                 compared just before writing and read back after, but a change another writer \
                 made in that same moment could still have been overwritten."
            ),
            Some(Risk::Unprotected { write }) => unprotected(write),
            // Said as the CLI always has: its ETag lets a stale write through for every kind.
            Some(Risk::ValidatorsMissChanges) => unprotected(self.decision.kind),
            Some(Risk::Unchecked) => say!(
                "ifmatch: note: this server has not been checked (`ifmatch check URL`), so \
                 whether it refuses stale writes is not known: the resource was compared just \
                 before writing and read back after, but a change another writer made in that \
                 same moment could still have been overwritten."
            ),
            _ => {}
        }
    }
}

fn unprotected(kind: WriteKind) {
    say!(
        "ifmatch: warning: this server does not refuse stale writes of this kind ({}, \
         found by `ifmatch check`): the resource was compared just before writing and read back after, \
         but a change another writer made in that same moment could still have been \
         overwritten.",
        kind.words()
    );
}

/// Whether `current` holds the write of `expected` made over `before`: the same document, or,
/// when the version before the write is known, every change of the write with the server's own
/// bookkeeping around it (a new `_rev`, a stamp) — compared the way the merge compares.
pub fn holds(current: &str, expected: &str, before: Option<&str>) -> bool {
    same_text(current, expected)
        || before.is_some_and(|b| {
            !same_text(current, b)
                && ifmatch_engine::overwrite::overwritten(
                    b,
                    expected,
                    current,
                    &ifmatch_engine::merge::Options::default(),
                )
                .is_empty()
        })
}

/// A write's outcome judged against the version before it, when that is known: the server's
/// version differs from what was sent only by its own bookkeeping (a new `_rev`, a stamp) →
/// saved as that version; it is still exactly the version before → acknowledged, not applied.
/// Anything else stays as the client said.
pub fn judged(out: Outcome, expected: &str, before: Option<&str>) -> Outcome {
    match out {
        Outcome::SavedThenChanged { status, current } => {
            if before.is_some_and(|b| same_text(&current.text, b) && !same_text(expected, b)) {
                Outcome::NotApplied { status }
            } else if holds(&current.text, expected, before) {
                Outcome::Saved {
                    status,
                    validator_from: if current.validator.is_some() {
                        ifmatch_engine::outcome::ValidatorSource::Refetch
                    } else {
                        ifmatch_engine::outcome::ValidatorSource::None
                    },
                    doc: Some(current),
                }
            } else {
                Outcome::SavedThenChanged { status, current }
            }
        }
        other => other,
    }
}
