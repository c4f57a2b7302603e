//! The server check's concurrency probes (`ifmatch check`): whether a refused stale write is
//! all the protection there is. A server can refuse every stale write one at a time and still
//! lose updates under several writers, in two ways this measures on the check's scratch resource:
//!
//! - its validators miss changes: a change of the same size within the same second keeps the
//!   ETag (nginx and wsgidav derive it from size and modification second), so a stale If-Match
//!   still matches;
//! - its precondition check is not atomic with its write: a burst of writes carrying the same
//!   If-Match has more than one acknowledged (Apache mod_dav_fs).
//!
//! And whether the server offers a write lock that makes read → compare → write atomic for every
//! writer that honours it (WebDAV class 2: `DAV: 1,2` in OPTIONS, an exclusive `LOCK` that refuses
//! a write without its token with 423).
//!
//! Owns: those three probes, their findings with the requests and answers that show them, and
//! the facts the profile keeps (`Concurrency`).
//!
//! Must never: touch anything but the scratch resource it is given, leave a lock behind (it is
//! released, and expires by itself in `LOCK_SECONDS` if the release fails), or take longer than a
//! few seconds on loopback (bounded bursts).

use crate::client::{Client, Exchange};
use crate::finding::{Finding, Mark};
use std::time::{Duration, Instant};

/// What the probes found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Concurrency {
    /// Each probe's finding, with its evidence.
    pub findings: Vec<Finding>,
    /// Whether writes carrying the same If-Match were acknowledged once (true) or more than once
    /// (false); None when it could not be measured.
    pub atomic: Option<bool>,
    /// Whether a change of the same size within the same second kept the ETag (true); None when
    /// it could not be measured.
    pub validators_miss_changes: Option<bool>,
    /// Whether the server offers an exclusive write lock it enforces (a write without the token
    /// refused with 423); None when it could not be told.
    pub lock: Option<bool>,
}

/// Writes in one burst, and bursts at most (the first burst with two acknowledgements ends it).
const BURST: usize = 8;
const BURSTS: usize = 10;

fn line(method: &str, what: &str, a: &Result<Exchange, crate::Outcome>) -> String {
    match a {
        Ok(x) => format!(
            "{method} {what} → {}{}",
            x.status,
            x.etag
                .as_ref()
                .map(|e| format!(", ETag: {e}"))
                .unwrap_or_default()
        ),
        Err(o) => format!("{method} {what} → {}", o.summary()),
    }
}

/// Runs the probes on `scratch`, a resource the check made and nobody else knows, holding the
/// JSON text `text` now.
/// `atomicity` says whether to measure it: only where a write with a false If-Match is refused
/// at all (elsewhere there is no check to race, and a server that acknowledges every write
/// would look like a race).
/// `envelope`: the API keeps a record's fields under `data` (Kinto), so the probes' documents are
/// written in that shape (a bare document is refused there, and the probes would prove nothing).
pub async fn probe(
    client: &Client,
    scratch: &str,
    atomicity_too: bool,
    envelope: bool,
) -> Concurrency {
    let mut c = Concurrency::default();
    let shape = Shape { envelope };
    validators(client, scratch, shape, &mut c).await;
    if atomicity_too {
        atomicity(client, scratch, shape, &mut c).await;
    }
    lock(client, scratch, &mut c).await;
    // The evidence is shown and stored: validators that echo the credential appear redacted.
    let auth = client.auth();
    for f in &mut c.findings {
        f.says = auth.redact(&f.says);
        for e in &mut f.evidence {
            *e = auth.redact(e);
        }
    }
    if c.lock == Some(true) {
        // Saves here are made under the server's lock: a race in its If-Match check does not
        // reach them (writers that ignore locks are refused by the server itself, 423).
        for f in c.findings.iter_mut().filter(|f| f.topic == "atomicity") {
            if f.mark == Mark::Caveat {
                f.mark = Mark::Info;
                f.says.push_str(
                    " Here that does not reach ifmatch's saves: they are made under the server's \
                     write lock.",
                );
            }
        }
    }
    c
}

async fn read(client: &Client, url: &str) -> Option<(String, String)> {
    let a = client.exchange("GET", url, &[], None).await.ok()?;
    ((200..300).contains(&a.status))
        .then(|| a.etag.clone().map(|e| (e, a.body.clone())))
        .flatten()
}

/// How the probes' documents are written.
#[derive(Clone, Copy)]
struct Shape {
    /// Under `data` (Kinto's records).
    envelope: bool,
}

impl Shape {
    /// A probe document holding `value` as its `probe` member.
    fn doc(self, value: &str) -> String {
        let inner = format!("{{\"probe\":\"{value}\"}}");
        if self.envelope {
            format!("{{\"data\":{inner}}}")
        } else {
            inner
        }
    }

    /// Two documents of the same size that differ: `{"probe":"aaaa…"}` and `{"probe":"bbbb…"}`.
    fn same_size(self, n: usize, c: char) -> String {
        self.doc(&c.to_string().repeat(n))
    }
}

async fn validators(client: &Client, url: &str, shape: Shape, c: &mut Concurrency) {
    let mut evidence = vec![];
    // Two tries: a write that crossed a second boundary proves nothing.
    for _ in 0..2 {
        let Some((e0, _)) = read(client, url).await else {
            return;
        };
        let started = std::time::SystemTime::now();
        let first = client
            .exchange(
                "PUT",
                url,
                &[("If-Match", e0)],
                Some((&shape.same_size(16, 'a'), "application/json")),
            )
            .await;
        evidence.push(line("PUT", "{\"probe\":\"aaaa…\"} (16 a)", &first));
        let Some((e1, _)) = read(client, url).await else {
            return;
        };
        let second = client
            .exchange(
                "PUT",
                url,
                &[("If-Match", e1.clone())],
                Some((&shape.same_size(16, 'b'), "application/json")),
            )
            .await;
        evidence.push(line(
            "PUT",
            &format!("{{\"probe\":\"bbbb…\"}} (same size), If-Match: {e1}"),
            &second,
        ));
        let Some((e2, body)) = read(client, url).await else {
            return;
        };
        evidence.push(format!("GET → ETag: {e2}"));
        let secs = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        let same_second = secs(started) == secs(std::time::SystemTime::now());
        let changed = body.contains("bbbb");
        if !changed {
            // The second write did not land: nothing to say about the validators.
            return;
        }
        let answered_same = second
            .as_ref()
            .ok()
            .and_then(|a| a.etag.clone())
            .is_some_and(|e| e == e1);
        if e1 == e2 || answered_same {
            c.validators_miss_changes = Some(true);
            c.findings.push(Finding {
                topic: "validator_strength".into(),
                mark: Mark::Caveat,
                says: format!(
                    "Its ETag misses changes: the content changed to another of the same size \
                     within the same second and the ETag stayed {e1}{}. A stale If-Match still \
                     matches after such a change, so ifmatch compares the content right before \
                     each write and watches after it on this server.",
                    if answered_same && e1 != e2 {
                        " (the write was even answered with the old ETag)"
                    } else {
                        ""
                    }
                ),
                evidence,
            });
            return;
        }
        if same_second {
            c.validators_miss_changes = Some(false);
            c.findings.push(Finding {
                topic: "validator_strength".into(),
                mark: Mark::Good,
                says: "Its ETag follows the content: a change of the same size within the same \
                       second got a new one."
                    .into(),
                evidence,
            });
            return;
        }
        evidence.push("(the writes crossed a second: tried again)".into());
    }
}

async fn atomicity(client: &Client, url: &str, shape: Shape, c: &mut Concurrency) {
    let mut evidence = vec![];
    let started = Instant::now();
    for burst in 1..=BURSTS {
        let Some((etag, _)) = read(client, url).await else {
            return;
        };
        let bodies: Vec<String> = (0..BURST)
            .map(|i| shape.doc(&format!("burst {burst} writer {i}")))
            .collect();
        let headers = [("If-Match", etag.clone())];
        let writes = bodies
            .iter()
            .map(|b| client.exchange("PUT", url, &headers, Some((b.as_str(), "application/json"))));
        let answers = futures_util::future::join_all(writes).await;
        let acked = answers
            .iter()
            .filter(|a| a.as_ref().is_ok_and(|x| (200..300).contains(&x.status)))
            .count();
        let refused = answers
            .iter()
            .filter(|a| a.as_ref().is_ok_and(|x| x.status == 412 || x.status == 409))
            .count();
        evidence.push(format!(
            "{BURST} PUTs at once, each with If-Match: {etag} → {acked} acknowledged, {refused} \
             refused{}",
            if acked + refused < BURST {
                format!(", {} other", BURST - acked - refused)
            } else {
                String::new()
            }
        ));
        if acked > 1 {
            c.atomic = Some(false);
            c.findings.push(Finding {
                topic: "atomicity".into(),
                mark: Mark::Caveat,
                says: format!(
                    "Its precondition check is not atomic with its write: of {BURST} writes \
                     carrying the same If-Match at once, {acked} were acknowledged (an atomic \
                     check acknowledges one). Under several writers a change can be replaced \
                     although every write was conditional, so ifmatch takes the server's lock \
                     where it offers one, and otherwise watches after each write."
                ),
                evidence,
            });
            return;
        }
        if acked == 0 || started.elapsed() > Duration::from_secs(3) {
            break;
        }
    }
    if evidence.is_empty() {
        return;
    }
    let all_once = evidence.iter().all(|e| e.contains("→ 1 acknowledged"));
    c.atomic = all_once.then_some(true);
    c.findings.push(Finding {
        topic: "atomicity".into(),
        mark: if all_once { Mark::Good } else { Mark::Info },
        says: if all_once {
            format!(
                "Its precondition check held under bursts of {BURST} writes carrying the same \
                 If-Match: one acknowledged each time (no race seen; a rare one cannot be ruled \
                 out by a short check)."
            )
        } else {
            "Whether its precondition check is atomic could not be told (the bursts were not \
             answered as writes)."
                .into()
        },
        evidence,
    });
}

async fn lock(client: &Client, url: &str, c: &mut Concurrency) {
    let options = client.exchange("OPTIONS", url, &[], None).await;
    let mut evidence = vec![line("OPTIONS", "", &options)];
    let dav = match &options {
        Ok(a) => a.dav.clone(),
        Err(_) => None,
    };
    if let Some(d) = &dav {
        evidence.push(format!("DAV: {d}"));
    }
    let class2 = dav
        .as_deref()
        .is_some_and(|d| d.split(',').any(|x| x.trim() == "2"));
    if !class2 {
        c.lock = Some(false);
        c.findings.push(Finding {
            topic: "lock".into(),
            mark: Mark::Info,
            says: "It offers no write lock (no WebDAV class 2 in OPTIONS' DAV header).".into(),
            evidence,
        });
        return;
    }
    let taken = client.take_lock(url, Duration::from_secs(2)).await;
    evidence.push(format!("LOCK (exclusive write) → {taken:?}"));
    if taken != crate::client::lock::LockTaken::Held {
        c.lock = Some(false);
        c.findings.push(Finding {
            topic: "lock".into(),
            mark: Mark::Info,
            says: "It advertises WebDAV locks, but did not grant an exclusive write lock: saves \
                   go without one."
                .into(),
            evidence,
        });
        return;
    }
    let without = client
        .exchange(
            "PUT",
            url,
            &[],
            Some(("{\"probe\":\"without the lock\"}", "application/json")),
        )
        .await;
    evidence.push(line("PUT", "without the lock's token", &without));
    let released = client.unlock(url).await;
    evidence.push(format!(
        "UNLOCK → {}",
        if released {
            "released"
        } else {
            "not confirmed (it expires by itself)"
        }
    ));
    let enforced = without.as_ref().is_ok_and(|a| a.status == 423);
    c.lock = Some(enforced);
    c.findings.push(Finding {
        topic: "lock".into(),
        mark: if enforced { Mark::Good } else { Mark::Caveat },
        says: if enforced {
            "It offers an exclusive write lock (WebDAV class 2) and enforces it: a write without \
             the lock's token was refused with 423. ifmatch saves under it: read, compare and \
             write while every writer that honours the server's locks is held off."
                .into()
        } else {
            "It grants a write lock but does not enforce it (a write without the token was not \
             refused with 423): saves go without one."
                .into()
        },
        evidence,
    });
}
