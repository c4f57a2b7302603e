//! The save loop of docs/architecture.md, GUI-free: conditional write → on conflict fetch the
//! current version → three-way merge (base, mine, current) → a clean merge is ready to resubmit
//! with the current validator; collisions go to the user → resubmit → if the server changed again,
//! the next round starts from the newer version (the resolutions already made are part of "mine"
//! by then, so they are kept).
//!
//! Owns: what to do with every write outcome (412, a server's 409 dialect, 428 without a
//! validator, "saved but now different", an ambiguous network failure), and building the request
//! body for each write method (PUT, Merge Patch, JSON Patch, all from base → result).
//!
//! Must never: overwrite a newer server version without the user's decision (a clean merge is
//! resubmitted only when the caller asks for it), or lose the user's text (every outcome carries
//! it, or it was saved).

use crate::client::lock::{lock_note, LockTaken};
pub use crate::client::write::{plan_write, PlanError, WriteMethod, WritePlan};
use crate::client::Client;
use crate::json::Doc;
use crate::merge::{self, Fill, Options};
pub use crate::outcome::Version;
use crate::outcome::{AnswerProblem, Outcome, Received};
use crate::precondition::{Precondition, Validator};
pub use crate::round::{ConflictInfo, Round, SideLines};
use serde::Serialize;
use std::future::Future;

/// What the save loop needs from a connection to the server: these three requests and nothing
/// else. Deliberately left out: caching, the trail, credentials, retries and redirects — the
/// implementor (the real `Client`) owns them, so the loop's rules can be tested against a fake.
pub trait Conditional {
    /// Reads the resource without the cache.
    fn get_fresh(&self, url: &str) -> impl Future<Output = Outcome> + Send;
    /// Replaces it (`PUT`) under a precondition.
    fn put(&self, url: &str, body: &str, pre: Precondition)
        -> impl Future<Output = Outcome> + Send;
    /// Patches it under a precondition; `expected` is the whole document the patch should
    /// produce (checked when the answer carries no validator).
    fn patch(
        &self,
        url: &str,
        body: &str,
        content_type: &str,
        pre: Precondition,
        expected: Option<&str>,
    ) -> impl Future<Output = Outcome> + Send;
    /// Takes the server's write lock on `url` for the writes that follow (none by default).
    fn lock(&self, _url: &str) -> impl Future<Output = LockTaken> + Send {
        async { LockTaken::NotWanted }
    }
    /// Releases it (nothing by default); false when the server did not confirm the release.
    fn unlock(&self, _url: &str) -> impl Future<Output = bool> + Send {
        async { true }
    }
}

impl Conditional for Client {
    fn lock(&self, url: &str) -> impl Future<Output = LockTaken> + Send {
        // A lock left by a killed save expires after LOCK_SECONDS: wait that out.
        Client::lock(
            self,
            url,
            std::time::Duration::from_secs(crate::client::lock::LOCK_SECONDS + 1),
        )
    }
    fn unlock(&self, url: &str) -> impl Future<Output = bool> + Send {
        Client::unlock(self, url)
    }
    fn get_fresh(&self, url: &str) -> impl Future<Output = Outcome> + Send {
        Client::get_fresh(self, url)
    }
    fn put(
        &self,
        url: &str,
        body: &str,
        pre: Precondition,
    ) -> impl Future<Output = Outcome> + Send {
        Client::put(self, url, body, pre)
    }
    fn patch(
        &self,
        url: &str,
        body: &str,
        content_type: &str,
        pre: Precondition,
        expected: Option<&str>,
    ) -> impl Future<Output = Outcome> + Send {
        Client::patch(self, url, body, content_type, pre, expected)
    }
}

/// How far one save goes by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Resubmit a clean merge by itself (`ifmatch save`, or a connection that opted in); otherwise
    /// a clean merge comes back for the user to review.
    pub auto_resubmit: bool,
    /// At most this many write rounds (each round meets one concurrent change).
    pub max_rounds: usize,
    /// The server is not known to refuse stale writes (the server check found it ignores
    /// If-Match, or could not tell): read just before each write and treat a change since base
    /// as a conflict (the normal merge), and read just after it to see the server holds the
    /// change (a patch acknowledged but not applied falls back to PUT).
    pub check_around_writes: bool,
}

/// A way to stop a save between its steps (the window's Cancel). It takes effect at the start of
/// a round, before a write is sent, and during the loop's own pauses (waiting for a strong
/// validator); never while a write is on its way, so whatever a cancelled save wrote has had its
/// answer, and a read in progress finishes (bounded by the client's time limit). Clones share one
/// state: keep one to call `cancel`, pass another to `save_until`.
#[derive(Debug, Clone, Default)]
pub struct Cancel(std::sync::Arc<CancelState>);

#[derive(Debug, Default)]
struct CancelState {
    set: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    /// A token not cancelled yet.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Asks the save to stop at its next step (calling it again changes nothing).
    pub fn cancel(&self) {
        self.0.set.store(true, std::sync::atomic::Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.set.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Resolves once `cancel` is called (at once when it was).
    pub async fn cancelled(&self) {
        loop {
            // Made before the check, so a `cancel` in between still wakes it.
            let woken = self.0.notify.notified();
            if self.is_cancelled() {
                return;
            }
            woken.await;
        }
    }
}

/// A save its `Cancel` stopped before it was done. Every write it had sent was answered (a
/// cancel never cuts one off), so what the server holds is what those answers said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cancelled {
    /// The rounds begun, the one stopped included (0: stopped before the first).
    pub rounds: usize,
    /// The writes this save sent before it stopped (0: the server is unchanged by it).
    pub writes_sent: usize,
    /// How many of them the server acknowledged (each one landed, and was then replaced or
    /// merged over by the rounds after it).
    pub acknowledged: usize,
}

/// What a save did.
#[derive(Debug, Clone, PartialEq)]
pub struct SaveReport {
    /// How the last round ended.
    pub result: SaveResult,
    /// How many write rounds it took.
    pub rounds: usize,
    /// The version the last round started from (its merge's base).
    pub base: Version,
    /// The document the last round tried to write (with every automatic merge before it).
    pub mine: String,
    /// Changes taken from the server's concurrent versions by the automatic merges (0 when
    /// every resubmit only retried a write that had not landed).
    pub merged_from_theirs: usize,
    /// What the loop did on the way that the user should be told, in words (e.g. it waited for
    /// the server to hand out a strong validator and wrote again).
    pub notes: Vec<String>,
    /// How many of this save's writes the server acknowledged (2xx). When the save did not end
    /// saved and this is not 0, one of its writes landed and was then replaced or merged over:
    /// "nothing was overwritten" would be false.
    pub acknowledged: usize,
    /// The last round's write was made under the server's own write lock (read, compare and
    /// write while every writer that honours the server's locks was held off).
    pub under_lock: bool,
    /// How many times the same write was sent again because the one before did not land (its
    /// connection broke before an answer, and a read showed nothing had changed).
    pub resent: usize,
}

/// A connection that counts the writes the server acknowledged, for `SaveReport::acknowledged`.
struct Counting<'c, C> {
    inner: &'c C,
    acknowledged: std::sync::atomic::AtomicUsize,
    /// Writes sent without any precondition (the server gave no validator at all).
    unconditional: std::sync::atomic::AtomicUsize,
    /// Writes sent.
    sent: std::sync::atomic::AtomicUsize,
    /// Checked before each write: a write asked for after a cancel is not sent.
    cancel: Option<&'c Cancel>,
    /// A write was held back by the cancel.
    stopped: std::sync::atomic::AtomicBool,
}

impl<C: Conditional + Sync> Counting<'_, C> {
    /// Before a write: false (and noted) when the save was cancelled, and nothing is sent.
    fn may_write(&self) -> bool {
        if self.cancel.is_some_and(Cancel::is_cancelled) {
            self.stopped
                .store(true, std::sync::atomic::Ordering::SeqCst);
            return false;
        }
        self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        true
    }

    fn is_cancelled(&self) -> bool {
        self.cancel.is_some_and(Cancel::is_cancelled)
    }

    fn note_precondition(&self, pre: &Precondition) {
        if *pre == Precondition::None {
            self.unconditional
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn count(&self, out: Outcome) -> Outcome {
        if matches!(
            out,
            Outcome::Saved { .. }
                | Outcome::SavedThenChanged { .. }
                | Outcome::Unconfirmed { .. }
                | Outcome::NotApplied { .. }
        ) {
            self.acknowledged
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        out
    }
}

impl<C: Conditional + Sync> Conditional for Counting<'_, C> {
    fn get_fresh(&self, url: &str) -> impl Future<Output = Outcome> + Send {
        self.inner.get_fresh(url)
    }
    fn lock(&self, url: &str) -> impl Future<Output = LockTaken> + Send {
        self.inner.lock(url)
    }
    fn unlock(&self, url: &str) -> impl Future<Output = bool> + Send {
        self.inner.unlock(url)
    }
    fn put(
        &self,
        url: &str,
        body: &str,
        pre: Precondition,
    ) -> impl Future<Output = Outcome> + Send {
        let go = self.may_write();
        if go {
            self.note_precondition(&pre);
        }
        let fut = go.then(|| self.inner.put(url, body, pre));
        async move {
            match fut {
                Some(f) => self.count(f.await),
                None => held_back(),
            }
        }
    }
    fn patch(
        &self,
        url: &str,
        body: &str,
        content_type: &str,
        pre: Precondition,
        expected: Option<&str>,
    ) -> impl Future<Output = Outcome> + Send {
        let go = self.may_write();
        if go {
            self.note_precondition(&pre);
        }
        let fut = go.then(|| self.inner.patch(url, body, content_type, pre, expected));
        async move {
            match fut {
                Some(f) => self.count(f.await),
                None => held_back(),
            }
        }
    }
}

/// What a write held back by a cancel answers inside the loop (it never leaves `save_until`).
fn held_back() -> Outcome {
    Outcome::NetworkBeforeSend {
        detail: "cancelled before the write was sent".into(),
    }
}

/// What one save round ended in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SaveResult {
    /// Written; the new base.
    Saved {
        /// The version written, with its validator.
        base: Version,
        /// The write's outcome.
        outcome: Outcome,
    },
    /// The resource changed on the server; merging kept every change of both sides without a
    /// collision. Resubmitting the round's Result (`round.start`) with its current version's
    /// validator finishes the save.
    Merged {
        /// The round (no conflicts).
        round: Round,
    },
    /// The resource changed on the server and some changes collide: the user decides. The
    /// round's Result holds base's value at each conflict (the conflict view's starting Result).
    Conflicts {
        /// The round.
        round: Round,
    },
    /// Anything else: nothing was overwritten; the user's text stays a draft.
    Failed {
        /// The outcome that stopped the save.
        outcome: Outcome,
        /// What happened and what the user can do, in words.
        message: String,
    },
    /// The user's text is not valid JSON: nothing was sent.
    Invalid {
        /// The parser's words (line and column).
        message: String,
    },
}

/// One save round: writes `mine` conditionally on `base`; on a conflict, fetches and merges.
pub async fn save_round(
    client: &impl Conditional,
    url: &str,
    base: &Version,
    mine: &str,
    method: WriteMethod,
    opts: &Options,
) -> SaveResult {
    match checked_round(client, url, base, mine, method, opts, false).await {
        RoundEnd::Done(r) => r,
        RoundEnd::PatchIgnored { .. } => unreachable!("only a checked round looks"),
    }
}

/// How a round ended: with a result, or with a patch the server acknowledged and did not apply.
/// A round's result is moved once per round: boxing it would buy nothing.
#[allow(clippy::large_enum_variant)]
enum RoundEnd {
    Done(SaveResult),
    PatchIgnored { status: u16 },
}

/// One save round; with `check`, the document is read just before the write (a change since
/// base goes to the merge, as a refused write would) and just after it (the server must hold
/// the change).
async fn checked_round(
    client: &impl Conditional,
    url: &str,
    base: &Version,
    mine: &str,
    method: WriteMethod,
    opts: &Options,
    check: bool,
) -> RoundEnd {
    RoundEnd::Done(
        match round_inner(client, url, base, mine, method, opts, check).await {
            Ok(r) => r,
            Err(status) => return RoundEnd::PatchIgnored { status },
        },
    )
}

async fn round_inner(
    client: &impl Conditional,
    url: &str,
    base: &Version,
    mine: &str,
    method: WriteMethod,
    opts: &Options,
    check: bool,
) -> Result<SaveResult, u16> {
    // Planned once, before anything is sent: this parse is the document's validity check too.
    let plan = match plan_write(method, base, mine) {
        Ok(p) => p,
        Err(PlanError::DocumentInvalid(e)) => {
            return Ok(SaveResult::Invalid {
                message: format!(
                    "The document is not valid JSON ({e}); it was not sent. Fix it and save again."
                ),
            })
        }
        Err(e) => {
            return Ok(SaveResult::Invalid {
                message: e.to_string(),
            })
        }
    };
    let pre = match &base.validator {
        Some(v) if !check => v.precondition(),
        // No validator (the server gives none, or a 428 told us to get one), or a server not
        // known to refuse stale writes: read first; a change since base is merged, not written
        // over.
        _ => match client.get_fresh(url).await {
            Outcome::Fetched { doc, .. } => {
                let current = base_of(doc);
                if !crate::json::same_text(&current.text, &base.text) {
                    return Ok(merge_with(base, mine, current, opts));
                }
                match (&current.validator, &base.validator) {
                    (Some(v), _) | (None, Some(v)) => v.precondition(),
                    (None, None) => Precondition::None,
                }
            }
            other => return Ok(failed(other)),
        },
    };
    let out = match method {
        WriteMethod::Put => client.put(url, &plan.body, pre).await,
        _ => {
            client
                .patch(url, &plan.body, plan.content_type, pre, Some(mine))
                .await
        }
    };
    if check && out.is_success() {
        return after_checked_write(client, url, base, mine, method, opts, out).await;
    }
    Ok(match out {
        Outcome::HttpError { status: 409, .. } if method == WriteMethod::JsonPatch => {
            // A JSON Patch one of whose `test`s failed (RFC 5789 §2.2 answers 409): the resource
            // changed under it — unless a read shows it did not, and the 409 meant something else.
            match refetch_and_merge(client, url, base, mine, opts, None).await {
                SaveResult::Merged { round } | SaveResult::Conflicts { round }
                    if crate::json::same_text(&round.current.text, &base.text) =>
                {
                    failed(out)
                }
                merged => merged,
            }
        }
        Outcome::Saved { ref doc, .. } => {
            let new_base = match doc {
                Some(d) => base_of(d.clone()),
                None => Version {
                    text: mine.to_string(),
                    validator: None,
                },
            };
            SaveResult::Saved {
                base: new_base,
                outcome: out,
            }
        }
        Outcome::SavedThenChanged { status, current }
            if crate::json::same_text(&current.text, &base.text)
                && !crate::json::same_text(mine, &base.text) =>
        {
            // Acknowledged, and the server still holds the version the write was made from:
            // merging would send the same write again, to the same answer, round after round.
            not_applied(status)
        }
        Outcome::SavedThenChanged { status, current } => {
            // Everything of mine is in what the server holds, with its own bookkeeping around
            // it (CouchDB's new `_rev`, a stamp): saved, as that version. Else someone wrote in
            // the same moment: merged like a conflict.
            let current = base_of(current);
            match merge_with(base, mine, current.clone(), opts) {
                SaveResult::Merged { round }
                    if crate::json::same_text(&round.start, &current.text) =>
                {
                    SaveResult::Saved {
                        outcome: Outcome::Saved {
                            status,
                            doc: Some(Received {
                                text: current.text.clone(),
                                validator: current.validator.clone(),
                                warnings: vec![],
                            }),
                            validator_from: crate::outcome::ValidatorSource::Refetch,
                        },
                        base: current,
                    }
                }
                other => other,
            }
        }
        Outcome::Conflict { status, .. } => {
            let merged = refetch_and_merge(client, url, base, mine, opts, None).await;
            refused_own_validator(status, base, merged)
        }
        Outcome::PreconditionRequired if base.validator.is_none() => SaveResult::Failed {
            message:
                "The server requires a validator and gives none for this resource (no ETag, no \
                      Last-Modified), so ifmatch cannot write it safely. Nothing was sent twice; \
                      your text is kept."
                    .into(),
            outcome: Outcome::PreconditionRequired,
        },
        Outcome::NetworkAfterSend { .. } => {
            // Did it land? Look before deciding (ARCHITECTURE: ambiguous failures).
            refetch_and_merge(client, url, base, mine, opts, Some(out)).await
        }
        other => failed(other),
    })
}

/// After a write the server acknowledged, on a server not known to refuse stale writes: read
/// and see it holds the change. It does → saved (with the version read). It holds the version
/// the edit started from and the write was a patch → the patch was not applied (`Err`). It holds
/// something else → merged like a conflict: someone wrote in the same moment, or the server
/// stored something other than what was sent.
async fn after_checked_write(
    client: &impl Conditional,
    url: &str,
    base: &Version,
    mine: &str,
    method: WriteMethod,
    opts: &Options,
    out: Outcome,
) -> Result<SaveResult, u16> {
    let status = match &out {
        Outcome::Saved { status, .. } | Outcome::SavedThenChanged { status, .. } => *status,
        _ => 200,
    };
    let current = match client.get_fresh(url).await {
        Outcome::Fetched { doc, .. } => base_of(doc),
        // The write was acknowledged and the read that would confirm it failed: on a server
        // not known to refuse stale writes, that is written, not saved.
        failed_read => {
            return Ok(failed(Outcome::Unconfirmed {
                status,
                detail: failed_read.summary(),
            }))
        }
    };
    let same = crate::json::same_text;
    if same(&current.text, mine) {
        return Ok(SaveResult::Saved {
            base: current,
            outcome: out,
        });
    }
    if same(&current.text, &base.text) {
        // Acknowledged and not applied: a patch is tried again as a whole document; a whole
        // document is said once (sending it again would be answered the same way).
        return if method == WriteMethod::Put {
            Ok(not_applied(status))
        } else {
            Err(status)
        };
    }
    // Everything of mine is in what the server holds (it added stamps of its own): saved.
    match merge_with(base, mine, current.clone(), opts) {
        SaveResult::Merged { round } if same(&round.start, &current.text) => {
            Ok(SaveResult::Saved {
                base: current,
                outcome: out,
            })
        }
        other => Ok(other),
    }
}

fn not_applied(status: u16) -> SaveResult {
    let outcome = Outcome::NotApplied { status };
    SaveResult::Failed {
        message: format!("{} Your text is kept.", outcome.message()),
        outcome,
    }
}

fn failed(outcome: Outcome) -> SaveResult {
    let said = outcome.message();
    // (Some outcomes say it themselves: a 410 keeps the text too.)
    let message = if said.contains("Your text is kept") {
        said
    } else {
        format!("{said} Your text is kept.")
    };
    SaveResult::Failed { message, outcome }
}

fn base_of(d: Received) -> Version {
    Version {
        text: d.text,
        validator: d.validator,
    }
}

async fn refetch_and_merge(
    client: &impl Conditional,
    url: &str,
    base: &Version,
    mine: &str,
    opts: &Options,
    ambiguous: Option<Outcome>,
) -> SaveResult {
    let mut fetched = client.get_fresh(url).await;
    if matches!(&fetched, Outcome::InvalidResponse { problem, .. } if *problem == AnswerProblem::NotJson)
    {
        // A server may serve a half-written file during someone else's write: look again.
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        fetched = client.get_fresh(url).await;
    }
    let current = match (fetched, ambiguous.as_ref()) {
        (Outcome::Fetched { doc, .. }, _) => base_of(doc),
        // The write went out and the read that would tell whether it landed failed: neither
        // "nothing was sent" nor "not applied" is known — say so, with both failures.
        (read, Some(amb)) => {
            return SaveResult::Failed {
                message: format!(
                    "The write was sent but no complete answer came back, and the read to check \
                     whether it landed failed too ({}). It may have landed: reload to see the \
                     server's version before saving again. Your text is kept.",
                    read.summary()
                ),
                outcome: amb.clone(),
            }
        }
        (other, None) => return failed(other),
    };
    if let Some(amb) = ambiguous {
        if crate::json::same_text(&current.text, mine) {
            return SaveResult::Saved {
                base: current,
                outcome: amb,
            };
        }
        if current.validator.is_some() && current.validator == base.validator {
            // It did not land and nothing changed: the same conditional write is safe to retry,
            // and the caller does so with this unchanged base.
            return merge_with(base, mine, current, opts);
        }
    }
    merge_with(base, mine, current, opts)
}

/// A conflict answer while the server still holds exactly the version the write was conditional
/// on (same validator, same document): nothing changed, the server refuses the validator it
/// handed out. Saying "the resource changed" (or merging with itself forever) would be false.
fn refused_own_validator(status: u16, base: &Version, merged: SaveResult) -> SaveResult {
    let current = match &merged {
        SaveResult::Merged { round } => &round.current,
        _ => return merged,
    };
    let Some(v) = base
        .validator
        .as_ref()
        .filter(|v| Some(*v) == current.validator.as_ref())
    else {
        return merged;
    };
    if !crate::json::same_text(&current.text, &base.text) {
        return merged;
    }
    let why = match v.etag() {
        Some(t) if t.weak => format!(
            " Its validator {} is a weak ETag, and RFC 9110 has servers refuse If-Match with a \
             weak tag; some (Apache's default FileETag) make it strong about a second after a \
             write: load the resource again and save.",
            t.raw
        ),
        _ => format!(
            " It handed out {} and refused it in {} while still holding that version (also \
             after a second try): its precondition check races other writers' writes (seen \
             with several writers at once on Apache mod_dav), or it is broken. Try again; if \
             it persists with no other writer at work, the server cannot be written safely.",
            v.display(),
            match v {
                Validator::Etag { .. } => "If-Match",
                Validator::LastModified { .. } => "If-Unmodified-Since",
            }
        ),
    };
    SaveResult::Failed {
        message: format!(
            "The server refused the write ({status}) although the resource has not changed since \
             it was loaded.{why} Nothing was overwritten; your text is kept."
        ),
        outcome: Outcome::Conflict {
            status,
            hint: Some(why.trim().to_string()),
        },
    }
}

/// Whether a round ended with the server refusing the weak ETag it handed out while nothing
/// had changed (`refused_own_validator`'s verdict for a weak tag).
fn weak_refused(base: &Version, result: &SaveResult) -> bool {
    matches!(
        result,
        SaveResult::Failed {
            outcome: Outcome::Conflict { .. },
            ..
        }
    ) && base
        .validator
        .as_ref()
        .and_then(|v| v.etag())
        .is_some_and(|t| t.weak)
}

/// Reads the resource again until the server hands out a strong ETag for the same document as
/// `base` (`strong_validator`). None when it does not (or the document changed: the caller's
/// verdict stands, and the next save merges as usual).
async fn wait_for_strong(client: &impl Conditional, url: &str, base: &Version) -> Option<Version> {
    strong_validator(client, url, |d| crate::json::same_text(&d.text, &base.text))
        .await
        .map(base_of)
}

/// Waits out a weak-for-a-moment ETag (Apache's default `FileETag` is weak for about a second
/// after each change): reads `url` again, 0.4, 0.7, 1.0 and 1.2 s apart, until it comes with a
/// strong ETag, and returns that read when `same` says it is still the version meant. None
/// when no strong tag comes in that time, a read fails, or `same` says the version changed.
pub async fn strong_validator(
    client: &impl Conditional,
    url: &str,
    same: impl Fn(&Received) -> bool,
) -> Option<Received> {
    for ms in [400u64, 700, 1000, 1200] {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        let Outcome::Fetched { doc, .. } = client.get_fresh(url).await else {
            return None;
        };
        if !same(&doc) {
            return None;
        }
        if doc
            .validator
            .as_ref()
            .and_then(|x| x.etag())
            .is_some_and(|t| !t.weak)
        {
            return Some(doc);
        }
    }
    None
}

/// Sleeps `d`, or less when `cancel` is cancelled meanwhile (the loop's next step sees it).
async fn pause(d: std::time::Duration, cancel: Option<&Cancel>) {
    match cancel {
        Some(c) => {
            tokio::select! {
                _ = c.cancelled() => {}
                _ = tokio::time::sleep(d) => {}
            }
        }
        None => tokio::time::sleep(d).await,
    }
}

/// Merges base → mine with base → current.
pub fn merge_with(base: &Version, mine: &str, current: Version, opts: &Options) -> SaveResult {
    let parsed = (
        Doc::parse(&base.text),
        Doc::parse(mine),
        Doc::parse(&current.text),
    );
    let (b, m, t) = match parsed {
        (Ok(b), Ok(m), Ok(t)) => (b, m, t),
        (Err(e), _, _) => {
            return SaveResult::Invalid {
                message: format!("The version this edit started from is not valid JSON ({e})."),
            }
        }
        (_, Err(e), _) => {
            return SaveResult::Invalid {
                message: format!("The document is not valid JSON ({e}); it was not sent."),
            }
        }
        (_, _, Err(e)) => {
            return SaveResult::Failed {
                outcome: Outcome::InvalidResponse {
                    problem: AnswerProblem::NotJson,
                    detail: e.to_string(),
                },
                message: format!("The server's current version is not valid JSON ({e}), so it cannot be merged. Your text is kept."),
            }
        }
    };
    let result = merge::three_way(&b, &m, &t, opts);
    let merged = result
        .render(Fill::Base)
        .expect("a base fill always renders");
    let round = Round::from_merge(
        &result,
        merged,
        current.clone(),
        Some((&base.text, mine)),
        [&b, &m, &t],
    );
    if round.has_conflicts() {
        SaveResult::Conflicts { round }
    } else {
        SaveResult::Merged { round }
    }
}

/// A round in progress met a newer server version before its resubmit (a live watch saw it).
#[derive(Debug)]
pub enum Remerged {
    /// The round made again against the newer version; `text` is the Result carrying every
    /// decision and every edit by hand of the one before. `reopened`: conflicts whose server
    /// value changed after the user accepted it (the user decides them again).
    Again {
        /// The new round.
        round: Box<Round>,
        /// Its Result as the user left it, moved onto the newer version.
        text: String,
        /// Pointers of decisions taken back.
        reopened: Vec<String>,
    },
    /// The newer version changes what the user typed or decided in the Result outside what the
    /// round can hold, or the Result is not JSON now: the round is left as it is (the resubmit
    /// meets the newer version).
    Collides {
        /// Why, in words.
        message: String,
    },
}

/// `round` (whose Result is now `result`) merged again against `newer`: the round's own sides
/// (base and mine, for a round with conflicts; the server version it met, for a clean one)
/// merged with `newer`, then the user's work on the Result (its changes against the round's
/// start) carried onto the new start by a second three-way merge. A decision at a place whose
/// server value changed is taken back (it was made against the old value); every other
/// decision is kept.
pub fn remerge(round: &Round, result: &str, newer: Version, opts: &Options) -> Remerged {
    let collides = |m: &str| Remerged::Collides {
        message: m.to_string(),
    };
    let plain = |text: &str| Version {
        text: text.to_string(),
        validator: None,
    };
    let (Some(base), Some(mine)) = (&round.base, &round.mine) else {
        // A clean round: the Result is mine against the server version it met.
        return match merge_with(&round.current, result, newer, opts) {
            SaveResult::Merged { round } | SaveResult::Conflicts { round } => Remerged::Again {
                text: round.start.clone(),
                round: Box::new(round),
                reopened: vec![],
            },
            SaveResult::Invalid { message } | SaveResult::Failed { message, .. } => {
                collides(&format!("The server changed again, and the merge could not be made again ({message}). The round is left as it is: the resubmit will meet the newer version."))
            }
            SaveResult::Saved { .. } => unreachable!("a merge writes nothing"),
        };
    };
    let fresh = match merge_with(&plain(base), mine, newer, opts) {
        SaveResult::Merged { round } | SaveResult::Conflicts { round } => round,
        SaveResult::Invalid { message } | SaveResult::Failed { message, .. } => {
            return collides(&format!("The server changed again, and the merge could not be made again ({message}). The round is left as it is: the resubmit will meet the newer version."))
        }
        SaveResult::Saved { .. } => unreachable!("a merge writes nothing"),
    };
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => crate::json::same_text(a, b),
        (None, None) => true,
        _ => false,
    };
    // Decisions that stand: matched by place; an accepted server value must be unchanged.
    let mut work = round.clone();
    let mut mine_result = result.to_string();
    let mut reopened = vec![];
    let mut decisions = vec![None; fresh.conflicts.len()];
    for (i, old) in round.conflicts.iter().enumerate() {
        let Some(d) = round.decisions.get(i).cloned().flatten() else {
            continue;
        };
        let now = fresh
            .conflicts
            .iter()
            .position(|c| c.pointer == old.pointer && c.array_hunk == old.array_hunk);
        // A decision was made against the server's value there (whichever side it took): when
        // that value changed, the user decides again.
        let theirs_kept = now.is_some_and(|j| same(&fresh.conflicts[j].theirs, &old.theirs));
        match now {
            Some(j) if theirs_kept => decisions[j] = Some(d),
            Some(_) => {
                // Put back what the round started with there, so the new round starts it open.
                match work.accept(&mine_result, i, crate::round::Choice::Base) {
                    Ok(t) => mine_result = t,
                    Err(e) => return collides(&format!("The server changed again where you decided {}, and that decision could not be taken back ({e}). The round is left as it is.", old.pointer)),
                }
                reopened.push(if old.pointer.is_empty() {
                    "/".into()
                } else {
                    old.pointer.clone()
                });
            }
            // No longer a conflict: the second merge carries the value the user put there,
            // or tells a collision.
            None => {}
        }
    }
    let text = match merge_with(&plain(&round.start), &mine_result, plain(&fresh.start), opts) {
        SaveResult::Merged { round: r } => r.start,
        SaveResult::Invalid { message } => {
            return collides(&format!("The server changed again, and your Result is not valid JSON now ({message}), so the merge was not made again. The round is left as it is; the resubmit will meet the newer version."))
        }
        _ => {
            return collides("The server changed again where you had decided or typed in the Result, so the merge was not made again over your work. The round is left as it is; the resubmit will meet the newer version and show what collides.")
        }
    };
    let mut round = fresh;
    round.decisions = decisions;
    Remerged::Again {
        round: Box::new(round),
        text,
        reopened,
    }
}

/// The one save loop (the desktop and `ifmatch save` both use it): rounds of `save_round` until
/// the save is done, needs the user, or fails. A clean merge is resubmitted only when the policy
/// says so, and at most `max_rounds` rounds are written.
pub async fn save(
    client: &(impl Conditional + Sync),
    url: &str,
    base: Version,
    mine: String,
    method: WriteMethod,
    opts: &Options,
    policy: Policy,
) -> SaveReport {
    match save_loop(client, url, base, mine, method, opts, policy, None).await {
        Ok(report) => report,
        Err(_) => unreachable!("a save without a Cancel is never cancelled"),
    }
}

/// `save` that `cancel` can stop between its steps (`Cancel`): `Err` when it did, with what it
/// had sent by then. A round that ended by itself (saved, a merge for the user, a failure) is
/// reported as usual even when the cancel came during it: there was nothing left to stop.
#[allow(clippy::too_many_arguments)]
pub async fn save_until(
    client: &(impl Conditional + Sync),
    url: &str,
    base: Version,
    mine: String,
    method: WriteMethod,
    opts: &Options,
    policy: Policy,
    cancel: &Cancel,
) -> Result<SaveReport, Cancelled> {
    save_loop(client, url, base, mine, method, opts, policy, Some(cancel)).await
}

#[allow(clippy::too_many_arguments)]
async fn save_loop(
    client: &(impl Conditional + Sync),
    url: &str,
    mut base: Version,
    mut mine: String,
    mut method: WriteMethod,
    opts: &Options,
    policy: Policy,
    cancel: Option<&Cancel>,
) -> Result<SaveReport, Cancelled> {
    let client = &Counting {
        inner: client,
        acknowledged: Default::default(),
        unconditional: Default::default(),
        sent: Default::default(),
        cancel,
        stopped: Default::default(),
    };
    let mut rounds = 0;
    let cancelled = |rounds: usize| Cancelled {
        rounds,
        writes_sent: client.sent.load(std::sync::atomic::Ordering::Relaxed),
        acknowledged: client
            .acknowledged
            .load(std::sync::atomic::Ordering::Relaxed),
    };
    let mut merged_from_theirs = 0;
    let mut notes = vec![];
    let mut waited = false;
    let mut retried_refusal = false;
    let mut resent = 0;
    let mut under_lock;
    let mut lock_said = false;
    loop {
        if client.is_cancelled() {
            return Err(cancelled(rounds));
        }
        rounds += 1;
        // The server's own lock, where it has one, around this round's read → compare → write:
        // every writer that honours it is held off, so the compare holds when the write lands.
        let taken = client.lock(url).await;
        under_lock = taken == LockTaken::Held;
        if let (Some(note), false) = (lock_note(&taken), lock_said) {
            notes.push(note);
            lock_said = true;
        }
        let round = checked_round(
            client,
            url,
            &base,
            &mine,
            method,
            opts,
            policy.check_around_writes || under_lock,
        )
        .await;
        if under_lock {
            client.unlock(url).await;
        }
        if client.stopped.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(cancelled(rounds));
        }
        let result = match round {
            RoundEnd::Done(r) => r,
            RoundEnd::PatchIgnored { status } => {
                notes.push(format!(
                    "The server acknowledged the {} ({status}) but did not apply it: it still \
                     holds the version your edit started from. ifmatch wrote the whole document \
                     with PUT instead.",
                    match method {
                        WriteMethod::MergePatch => "merge patch",
                        _ => "JSON patch",
                    }
                ));
                method = WriteMethod::Put;
                continue;
            }
        };
        if !retried_refusal
            && !weak_refused(&base, &result)
            && matches!(
                result,
                SaveResult::Failed {
                    outcome: Outcome::Conflict { .. },
                    ..
                }
            )
        {
            // Refused with the strong validator the server still hands out: with other writers
            // at work, a server whose check races their writes answers so for a moment. Once
            // more, after a short pause, before saying so.
            retried_refusal = true;
            pause(std::time::Duration::from_millis(150), cancel).await;
            continue;
        }
        if !waited && weak_refused(&base, &result) {
            // Refused with the weak tag the server handed out, nothing changed: servers like
            // Apache (default FileETag) make it strong about a second after a write. Wait for
            // that, once, and write again with the strong tag.
            waited = true;
            let strong = match cancel {
                // Only reads and pauses: stopped where it is.
                Some(c) => tokio::select! {
                    biased;
                    _ = c.cancelled() => return Err(cancelled(rounds)),
                    s = wait_for_strong(client, url, &base) => s,
                },
                None => wait_for_strong(client, url, &base).await,
            };
            if let Some(strong) = strong {
                notes.push(format!(
                    "The server refused the weak validator {} it had handed out (as RFC 9110 \
                     requires for If-Match) although nothing had changed; ifmatch waited until it \
                     gave the strong validator {} for the same version and wrote again.",
                    base.validator
                        .as_ref()
                        .map(|v| v.display())
                        .unwrap_or_default(),
                    strong
                        .validator
                        .as_ref()
                        .map(|v| v.display())
                        .unwrap_or_default(),
                ));
                base = strong;
                continue;
            }
        }
        // The same write again, to the same unchanged version: the last one did not land (its
        // connection broke before an answer, and a read showed nothing changed). Once is a
        // retry; twice more is not "the server kept changing" — it did not change at all.
        let result = match result {
            SaveResult::Merged { ref round }
                if round.current.validator.is_some()
                    && round.current.validator == base.validator
                    && crate::json::same_text(&round.current.text, &base.text)
                    && crate::json::same_text(&round.start, &mine) =>
            {
                resent += 1;
                if resent < 2 {
                    result
                } else {
                    SaveResult::Failed {
                        message: "The write was sent again and again, and each time no \
                                  complete answer came back; reads after each showed it had \
                                  not landed and nothing had changed on the server. Nothing \
                                  was overwritten; your text is kept. Try again later."
                            .into(),
                        outcome: Outcome::NetworkAfterSend {
                            detail: "each write's connection broke before an answer".into(),
                        },
                    }
                }
            }
            other => other,
        };
        match result {
            SaveResult::Merged { round }
                if policy.auto_resubmit && rounds < policy.max_rounds.max(1) =>
            {
                merged_from_theirs += round.stats.from_theirs;
                base = round.current;
                mine = round.start;
            }
            result => {
                if client
                    .unconditional
                    .load(std::sync::atomic::Ordering::Relaxed)
                    > 0
                {
                    notes.push(
                        "The server gives this resource no validator (no ETag, no Last-Modified), \
                         so the write was sent without a precondition: ifmatch compared the \
                         resource just before writing, but a change another writer made in that \
                         same moment could still have been overwritten."
                            .into(),
                    );
                }
                return Ok(SaveReport {
                    result,
                    rounds,
                    base,
                    mine,
                    merged_from_theirs,
                    notes,
                    acknowledged: client
                        .acknowledged
                        .load(std::sync::atomic::Ordering::Relaxed),
                    under_lock,
                    resent,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The save loop's rules against a scripted server: each request takes the next answer.
    use super::*;
    use crate::etag::EntityTag;
    use crate::outcome::{Received, ValidatorSource};
    use std::collections::VecDeque;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Scripted {
        answers: Mutex<VecDeque<Outcome>>,
        /// "GET", "PUT If-Match: \"v1\"", "PATCH ..." in order.
        requests: Mutex<Vec<String>>,
    }

    impl Scripted {
        fn new(answers: Vec<Outcome>) -> Scripted {
            Scripted {
                answers: Mutex::new(answers.into()),
                ..Default::default()
            }
        }
        fn next(&self, request: String) -> Outcome {
            self.requests.lock().unwrap().push(request);
            self.answers
                .lock()
                .unwrap()
                .pop_front()
                .expect("the script has an answer for every request")
        }
        fn requests(&self) -> Vec<String> {
            self.requests.lock().unwrap().clone()
        }
    }

    fn pre_words(pre: &Precondition) -> String {
        pre.headers()
            .into_iter()
            .map(|(k, v)| format!(" {k}: {v}"))
            .collect()
    }

    impl Conditional for Scripted {
        fn get_fresh(&self, _url: &str) -> impl Future<Output = Outcome> + Send {
            let o = self.next("GET".into());
            async move { o }
        }
        fn put(
            &self,
            _url: &str,
            _body: &str,
            pre: Precondition,
        ) -> impl Future<Output = Outcome> + Send {
            let o = self.next(format!("PUT{}", pre_words(&pre)));
            async move { o }
        }
        fn patch(
            &self,
            _url: &str,
            _body: &str,
            _content_type: &str,
            pre: Precondition,
            _expected: Option<&str>,
        ) -> impl Future<Output = Outcome> + Send {
            let o = self.next(format!("PATCH{}", pre_words(&pre)));
            async move { o }
        }
    }

    fn tag(t: &str) -> Option<Validator> {
        Some(Validator::Etag {
            tag: EntityTag::parse(t).unwrap(),
        })
    }

    fn fetched(text: &str, t: &str) -> Outcome {
        Outcome::Fetched {
            doc: Received {
                text: text.into(),
                validator: tag(t),
                warnings: vec![],
            },
            from_cache: false,
        }
    }

    fn saved(text: &str, t: &str) -> Outcome {
        Outcome::Saved {
            status: 200,
            doc: Some(Received {
                text: text.into(),
                validator: tag(t),
                warnings: vec![],
            }),
            validator_from: ValidatorSource::Response,
        }
    }

    fn conflict() -> Outcome {
        Outcome::Conflict {
            status: 412,
            hint: None,
        }
    }

    const BASE: &str = r#"{"a": 1, "b": 1}"#;
    const MINE: &str = r#"{"a": 2, "b": 1}"#;
    const THEIRS: &str = r#"{"a": 1, "b": 2}"#;
    const THEIRS_COLLIDES: &str = r#"{"a": 3, "b": 1}"#;

    fn base() -> Version {
        Version {
            text: BASE.into(),
            validator: tag("\"v1\""),
        }
    }

    const MANUAL: Policy = Policy {
        auto_resubmit: false,
        max_rounds: 5,
        check_around_writes: false,
    };
    const AUTO: Policy = Policy {
        auto_resubmit: true,
        max_rounds: 5,
        check_around_writes: false,
    };

    async fn run(server: &Scripted, policy: Policy) -> SaveReport {
        save(
            server,
            "http://x/r",
            base(),
            MINE.into(),
            WriteMethod::Put,
            &Options::default(),
            policy,
        )
        .await
    }

    #[tokio::test]
    async fn a_stale_write_merges_and_waits_for_the_user_unless_the_policy_resubmits() {
        let s = Scripted::new(vec![conflict(), fetched(THEIRS, "\"v2\"")]);
        let r = run(&s, MANUAL).await;
        assert!(matches!(r.result, SaveResult::Merged { .. }), "{r:?}");
        assert_eq!(r.rounds, 1);
        assert_eq!(s.requests(), vec!["PUT If-Match: \"v1\"", "GET"]);

        let merged = r#"{"a": 2, "b": 2}"#;
        let s = Scripted::new(vec![
            conflict(),
            fetched(THEIRS, "\"v2\""),
            saved(merged, "\"v3\""),
        ]);
        let r = run(&s, AUTO).await;
        assert!(matches!(r.result, SaveResult::Saved { .. }), "{r:?}");
        assert_eq!(r.rounds, 2);
        assert_eq!(
            s.requests(),
            vec!["PUT If-Match: \"v1\"", "GET", "PUT If-Match: \"v2\""],
            "the resubmit carries the current version's validator"
        );
        assert_eq!(
            r.base.validator,
            tag("\"v2\""),
            "the last round started from theirs"
        );
    }

    #[tokio::test]
    async fn a_server_refusing_its_own_validator_is_told_not_merged_forever() {
        // 412 while the server still holds the loaded version with the same tag: tried once
        // more (a server whose check races other writers answers so for a moment), then said —
        // as a race or a broken check, not as "broken" alone.
        let s = Scripted::new(vec![
            conflict(),
            fetched(BASE, "\"v1\""),
            conflict(),
            fetched(BASE, "\"v1\""),
        ]);
        let r = run(&s, AUTO).await;
        match &r.result {
            SaveResult::Failed { message, outcome } => {
                assert!(message.contains("has not changed"), "{message}");
                assert!(message.contains("refused it"), "{message}");
                assert!(message.contains("races other writers"), "{message}");
                assert_eq!(outcome.exit_code(), crate::outcome::exit::CONFLICT);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            s.requests().len(),
            4,
            "one write and one read, once more, and no resubmit loop"
        );
        // The second try goes through: saved.
        let s = Scripted::new(vec![
            conflict(),
            fetched(BASE, "\"v1\""),
            saved(MINE, "\"v2\""),
        ]);
        assert!(matches!(
            run(&s, AUTO).await.result,
            SaveResult::Saved { .. }
        ));
        // The same tag but another document is a real change (a broken ETag): merged as usual.
        let s = Scripted::new(vec![conflict(), fetched(THEIRS, "\"v1\"")]);
        assert!(matches!(
            run(&s, MANUAL).await.result,
            SaveResult::Merged { .. }
        ));
    }

    #[tokio::test]
    async fn colliding_changes_stop_the_loop_whatever_the_policy() {
        let s = Scripted::new(vec![conflict(), fetched(THEIRS_COLLIDES, "\"v2\"")]);
        let r = run(&s, AUTO).await;
        match r.result {
            SaveResult::Conflicts { round } => assert_eq!(round.conflicts[0].pointer, "/a"),
            other => panic!("{other:?}"),
        }
        assert_eq!(s.requests().len(), 2, "nothing was written after the merge");
    }

    #[tokio::test]
    async fn automatic_resubmission_stops_at_the_round_limit() {
        let mut answers = vec![];
        for i in 2..10 {
            answers.push(conflict());
            answers.push(fetched(
                &format!(r#"{{"a": 1, "b": {i}}}"#),
                &format!("\"v{i}\""),
            ));
        }
        let s = Scripted::new(answers);
        let policy = Policy {
            auto_resubmit: true,
            max_rounds: 3,
            check_around_writes: false,
        };
        let r = run(&s, policy).await;
        assert!(matches!(r.result, SaveResult::Merged { .. }), "{r:?}");
        assert_eq!(r.rounds, 3);
        assert_eq!(
            s.requests().iter().filter(|q| q.starts_with("PUT")).count(),
            3
        );
    }

    #[tokio::test]
    async fn an_ambiguous_write_is_settled_by_a_read() {
        // The connection dropped after the write; the server holds what we sent: saved.
        let s = Scripted::new(vec![
            Outcome::NetworkAfterSend {
                detail: "connection closed".into(),
            },
            fetched(MINE, "\"v2\""),
        ]);
        let r = run(&s, MANUAL).await;
        assert!(matches!(r.result, SaveResult::Saved { .. }), "{r:?}");
        // It did not land and nothing changed: the same write can go again (a clean merge).
        let s = Scripted::new(vec![
            Outcome::NetworkAfterSend {
                detail: "connection closed".into(),
            },
            fetched(BASE, "\"v1\""),
        ]);
        let r = run(&s, MANUAL).await;
        assert!(matches!(r.result, SaveResult::Merged { .. }), "{r:?}");
    }

    #[tokio::test]
    async fn without_a_validator_the_loop_reads_first_and_never_writes_blind() {
        let no_validator = Version {
            text: BASE.into(),
            validator: None,
        };
        // The server holds something else already: merge, nothing written.
        let s = Scripted::new(vec![fetched(THEIRS, "\"v2\"")]);
        let r = save(
            &s,
            "http://x/r",
            no_validator.clone(),
            MINE.into(),
            WriteMethod::Put,
            &Options::default(),
            MANUAL,
        )
        .await;
        assert!(matches!(r.result, SaveResult::Merged { .. }), "{r:?}");
        assert_eq!(s.requests(), vec!["GET"]);
        // The server holds the base: the write carries the validator the read learned.
        let s = Scripted::new(vec![fetched(BASE, "\"v1\""), saved(MINE, "\"v2\"")]);
        let r = save(
            &s,
            "http://x/r",
            no_validator,
            MINE.into(),
            WriteMethod::Put,
            &Options::default(),
            MANUAL,
        )
        .await;
        assert!(matches!(r.result, SaveResult::Saved { .. }), "{r:?}");
        assert_eq!(s.requests(), vec!["GET", "PUT If-Match: \"v1\""]);
    }

    #[tokio::test]
    async fn invalid_json_sends_nothing() {
        let s = Scripted::new(vec![]);
        let r = save(
            &s,
            "http://x/r",
            base(),
            "{\"a\": ".into(),
            WriteMethod::Put,
            &Options::default(),
            AUTO,
        )
        .await;
        assert!(matches!(r.result, SaveResult::Invalid { .. }), "{r:?}");
        assert!(s.requests().is_empty());
    }

    #[tokio::test]
    async fn patches_carry_the_same_precondition() {
        let s = Scripted::new(vec![saved(MINE, "\"v2\"")]);
        let r = save(
            &s,
            "http://x/r",
            base(),
            MINE.into(),
            WriteMethod::MergePatch,
            &Options::default(),
            MANUAL,
        )
        .await;
        assert!(matches!(r.result, SaveResult::Saved { .. }), "{r:?}");
        assert_eq!(s.requests(), vec!["PATCH If-Match: \"v1\""]);
    }

    /// The scripted server, cancelling the save when it is asked its `at`-th request (counted
    /// from 1), after answering it.
    struct CancelsAt {
        inner: Scripted,
        cancel: Cancel,
        at: usize,
    }

    impl CancelsAt {
        fn answer(&self, o: Outcome) -> Outcome {
            if self.inner.requests().len() == self.at {
                self.cancel.cancel();
            }
            o
        }
    }

    impl Conditional for CancelsAt {
        fn get_fresh(&self, url: &str) -> impl Future<Output = Outcome> + Send {
            let o = self.answer(self.inner.next("GET".into()));
            let _ = url;
            async move { o }
        }
        fn put(&self, _: &str, _: &str, pre: Precondition) -> impl Future<Output = Outcome> + Send {
            let o = self.answer(self.inner.next(format!("PUT{}", pre_words(&pre))));
            async move { o }
        }
        fn patch(
            &self,
            _: &str,
            _: &str,
            _: &str,
            pre: Precondition,
            _: Option<&str>,
        ) -> impl Future<Output = Outcome> + Send {
            let o = self.answer(self.inner.next(format!("PATCH{}", pre_words(&pre))));
            async move { o }
        }
    }

    async fn run_until(
        server: &(impl Conditional + Sync),
        policy: Policy,
        cancel: &Cancel,
    ) -> Result<SaveReport, Cancelled> {
        save_until(
            server,
            "http://x/r",
            base(),
            MINE.into(),
            WriteMethod::Put,
            &Options::default(),
            policy,
            cancel,
        )
        .await
    }

    #[tokio::test]
    async fn a_cancel_stops_the_save_between_rounds_and_before_a_write_never_during_one() {
        // Cancelled before it starts: nothing is sent.
        let s = Scripted::new(vec![]);
        let c = Cancel::new();
        c.cancel();
        let r = run_until(&s, AUTO, &c).await;
        assert_eq!(
            r,
            Err(Cancelled {
                rounds: 0,
                writes_sent: 0,
                acknowledged: 0
            })
        );
        assert!(s.requests().is_empty());

        // Cancelled while the write is answered (a conflict): that write finished, and the
        // resubmit of the clean merge is not sent.
        let c = Cancel::new();
        let s = CancelsAt {
            inner: Scripted::new(vec![conflict(), fetched(THEIRS, "\"v2\"")]),
            cancel: c.clone(),
            at: 1,
        };
        let r = run_until(&s, AUTO, &c).await;
        assert_eq!(
            r,
            Err(Cancelled {
                rounds: 1,
                writes_sent: 1,
                acknowledged: 0
            })
        );
        assert_eq!(s.inner.requests(), vec!["PUT If-Match: \"v1\"", "GET"]);

        // Cancelled during the read before a write (a server not known to refuse stale
        // writes): the write is held back.
        let c = Cancel::new();
        let s = CancelsAt {
            inner: Scripted::new(vec![fetched(BASE, "\"v1\"")]),
            cancel: c.clone(),
            at: 1,
        };
        let checked = Policy {
            check_around_writes: true,
            ..AUTO
        };
        let r = run_until(&s, checked, &c).await;
        assert_eq!(
            r,
            Err(Cancelled {
                rounds: 1,
                writes_sent: 0,
                acknowledged: 0
            })
        );
        assert_eq!(s.inner.requests(), vec!["GET"]);

        // A round that ends by itself is reported as it ended, cancel or not.
        let c = Cancel::new();
        let s = CancelsAt {
            inner: Scripted::new(vec![saved(MINE, "\"v2\"")]),
            cancel: c.clone(),
            at: 1,
        };
        let r = run_until(&s, AUTO, &c).await.expect("saved, not cancelled");
        assert!(matches!(r.result, SaveResult::Saved { .. }), "{r:?}");

        // Without a cancel, `save_until` is `save`.
        let s = Scripted::new(vec![saved(MINE, "\"v2\"")]);
        let r = run_until(&s, AUTO, &Cancel::new()).await.expect("saved");
        assert_eq!(r.rounds, 1);
    }

    #[tokio::test]
    async fn a_cancel_wakes_a_waiter_made_before_it() {
        let c = Cancel::new();
        let waiter = c.clone();
        let t = tokio::spawn(async move { waiter.cancelled().await });
        tokio::task::yield_now().await;
        c.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(5), t)
            .await
            .expect("woken")
            .unwrap();
        assert!(c.is_cancelled());
        c.cancelled().await; // at once, once cancelled
    }
}

#[cfg(test)]
mod remerge_tests {
    use super::*;
    use crate::round::{Choice, ConflictState};
    use serde_json::{json, Value};

    fn v(doc: Value, tag: &str) -> Version {
        Version {
            text: serde_json::to_string_pretty(&doc).unwrap(),
            validator: Some(Validator::Etag {
                tag: crate::etag::EntityTag::strong(tag),
            }),
        }
    }

    fn round_of(r: SaveResult) -> Round {
        match r {
            SaveResult::Merged { round } | SaveResult::Conflicts { round } => round,
            other => panic!("a round, not {other:?}"),
        }
    }

    fn value(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// base {a:1,b:1,c:1}; mine a=2,b=2; theirs a=3,b=3: two conflicts (a, b).
    fn two_conflicts() -> Round {
        let base = v(json!({"a": 1, "b": 1, "c": 1}), "\"1\"");
        let mine = serde_json::to_string_pretty(&json!({"a": 2, "b": 2, "c": 1})).unwrap();
        let theirs = v(json!({"a": 3, "b": 3, "c": 1}), "\"2\"");
        let r = round_of(merge_with(&base, &mine, theirs, &Options::default()));
        assert_eq!(r.conflicts.len(), 2);
        r
    }

    #[test]
    fn a_disjoint_newer_version_keeps_every_decision_and_hand_edit() {
        let mut r = two_conflicts();
        let start = r.start.clone();
        let a = r.conflicts.iter().position(|c| c.pointer == "/a").unwrap();
        let decided = r.accept(&start, a, Choice::Mine).unwrap();
        // A newer version changes only /c.
        let newer = v(json!({"a": 3, "b": 3, "c": 9}), "\"3\"");
        let Remerged::Again {
            round,
            text,
            reopened,
        } = remerge(&r, &decided, newer.clone(), &Options::default())
        else {
            panic!("merged again")
        };
        assert!(reopened.is_empty());
        assert_eq!(
            round.current, newer,
            "the round stands on the newer version"
        );
        let doc = value(&text);
        assert_eq!(doc["a"], json!(2), "the decision (mine) is kept: {text}");
        assert_eq!(
            doc["c"],
            json!(9),
            "the newer change is in the Result: {text}"
        );
        let st = round.statuses(&text).unwrap();
        let by = |p: &str| st[round.conflicts.iter().position(|c| c.pointer == p).unwrap()].state;
        assert_eq!(by("/a"), ConflictState::Mine);
        assert_eq!(
            by("/b"),
            ConflictState::Unresolved,
            "the open one stays open"
        );
    }

    #[test]
    fn an_accepted_server_value_that_changed_again_is_decided_again() {
        let mut r = two_conflicts();
        let start = r.start.clone();
        let a = r.conflicts.iter().position(|c| c.pointer == "/a").unwrap();
        let decided = r.accept(&start, a, Choice::Theirs).unwrap();
        assert_eq!(value(&decided)["a"], json!(3));
        let newer = v(json!({"a": 4, "b": 3, "c": 1}), "\"3\"");
        let Remerged::Again {
            round,
            text,
            reopened,
        } = remerge(&r, &decided, newer, &Options::default())
        else {
            panic!("merged again")
        };
        assert_eq!(reopened, vec!["/a".to_string()]);
        let i = round
            .conflicts
            .iter()
            .position(|c| c.pointer == "/a")
            .unwrap();
        assert_eq!(round.conflicts[i].theirs.as_deref(), Some("4"));
        assert_eq!(
            round.statuses(&text).unwrap()[i].state,
            ConflictState::Unresolved,
            "the old theirs (3) is not kept as if decided: {text}"
        );
        assert_ne!(value(&text)["a"], json!(3));
    }

    #[test]
    fn a_typed_value_the_newer_version_changes_too_leaves_the_round_as_it_is() {
        let r = two_conflicts();
        // The user typed c = 5 in the Result (outside any conflict); the newer version sets c = 7.
        let mut doc = value(&r.start);
        doc["c"] = json!(5);
        let typed = serde_json::to_string_pretty(&doc).unwrap();
        let newer = v(json!({"a": 3, "b": 3, "c": 7}), "\"3\"");
        assert!(matches!(
            remerge(&r, &typed, newer, &Options::default()),
            Remerged::Collides { .. }
        ));
    }

    #[test]
    fn a_clean_round_moves_onto_the_newer_version() {
        let base = v(json!({"a": 1, "b": 1}), "\"1\"");
        let mine = serde_json::to_string_pretty(&json!({"a": 2, "b": 1})).unwrap();
        let theirs = v(json!({"a": 1, "b": 2}), "\"2\"");
        let r = round_of(merge_with(&base, &mine, theirs, &Options::default()));
        assert!(!r.has_conflicts());
        let newer = v(json!({"a": 1, "b": 2, "n": true}), "\"3\"");
        let Remerged::Again { round, text, .. } =
            remerge(&r, &r.start.clone(), newer.clone(), &Options::default())
        else {
            panic!("merged again")
        };
        assert_eq!(round.current, newer);
        assert_eq!(value(&text), json!({"a": 2, "b": 2, "n": true}));
    }
}
