//! The server check (`ifmatch check URL`): probes whether a server really enforces the
//! preconditions ifmatch relies on, and reports each finding with the requests and answers that
//! show it.
//!
//! Owns: the probe sequence, read-only parts first, then the write parts on a scratch resource
//! made beside the real one (`If-None-Match: *`, a random name, deleted afterwards), the verdict
//! of each kind of write (create, PUT, PATCH as merge-patch and as json-patch, DELETE: each from
//! a write whose precondition is false and one whose precondition holds, the effect read back),
//! and the overall verdict: protected / protected with caveats / unprotected / unknown.
//!
//! Must never: write the real resource (every write goes to the scratch resource, whose name
//! nobody else knows), or leave the scratch resource behind without saying so; call a method
//! protected from a status alone, or "not applied" from a read that did not show the scratch
//! document; call a check that reached no verdict anything but unknown.

use crate::client::{Client, Exchange};
pub use crate::finding::{Finding, Mark};
use crate::outcome::Outcome;
use crate::precondition::Precondition;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How far a server can be trusted with conditional writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// It refuses stale writes (If-Match that cannot match, If-None-Match: * over an existing
    /// resource) and nothing else was found wanting.
    Protected,
    /// It refuses stale writes, with something to know (a weak or time-derived ETag, a patch it
    /// acknowledges without applying, no validator on a write's answer).
    Caveats,
    /// It accepts writes whose precondition is false: a stale write overwrites.
    Unprotected,
    /// The check could not tell (no scratch resource could be made beside the real one).
    Unknown,
}

impl Verdict {
    /// The verdict in a few words.
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Protected => "protected",
            Verdict::Caveats => "protected, with caveats",
            Verdict::Unprotected => "UNPROTECTED",
            Verdict::Unknown => "unknown",
        }
    }
}

/// A kind of write, probed on its own: servers enforce preconditions per method (one may
/// refuse a stale PUT and apply a stale PATCH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// `PUT` with `If-None-Match: *`: a create that must not replace an existing resource.
    Create,
    /// `PUT` with `If-Match`.
    Put,
    /// `PATCH` with `application/merge-patch+json` and `If-Match`.
    MergePatch,
    /// `PATCH` with `application/json-patch+json` and `If-Match`.
    JsonPatch,
    /// `DELETE` with `If-Match`.
    Delete,
}

impl WriteKind {
    /// Every kind, in the order the check probes them.
    pub const ALL: [WriteKind; 5] = [
        WriteKind::Create,
        WriteKind::Put,
        WriteKind::MergePatch,
        WriteKind::JsonPatch,
        WriteKind::Delete,
    ];

    /// The method as people say it.
    pub fn words(self) -> &'static str {
        match self {
            WriteKind::Create => "create (PUT, If-None-Match: *)",
            WriteKind::Put => "PUT",
            WriteKind::MergePatch => "PATCH (merge-patch)",
            WriteKind::JsonPatch => "PATCH (json-patch)",
            WriteKind::Delete => "DELETE",
        }
    }

    fn is_patch(self) -> bool {
        matches!(self, WriteKind::MergePatch | WriteKind::JsonPatch)
    }
}

impl From<crate::session::WriteMethod> for WriteKind {
    fn from(m: crate::session::WriteMethod) -> WriteKind {
        match m {
            crate::session::WriteMethod::Put => WriteKind::Put,
            crate::session::WriteMethod::MergePatch => WriteKind::MergePatch,
            crate::session::WriteMethod::JsonPatch => WriteKind::JsonPatch,
        }
    }
}

/// What the check found for one kind of write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum MethodVerdict {
    /// It refuses such a write whose precondition is false, and applies one whose precondition
    /// holds.
    Protected,
    /// It applies such a write whose precondition is false: a stale write overwrites.
    Unprotected,
    /// It acknowledges such writes (2xx) without applying them: "done" is not stored.
    NotApplied,
    /// It does not offer this method (405 or 501; 415 for a patch type): nothing to protect.
    NotOffered,
    /// The check could not tell.
    Unknown,
}

impl MethodVerdict {
    /// The verdict in a few words.
    pub fn words(self) -> &'static str {
        match self {
            MethodVerdict::Protected => "refuses stale writes",
            MethodVerdict::Unprotected => "UNPROTECTED: a stale write overwrites",
            MethodVerdict::NotApplied => "acknowledged but NOT APPLIED",
            MethodVerdict::NotOffered => "not offered",
            MethodVerdict::Unknown => "could not be checked",
        }
    }
}

/// The check's verdict for one kind of write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MethodCheck {
    /// The kind of write.
    pub method: WriteKind,
    /// What the check found for it.
    pub verdict: MethodVerdict,
    /// The status of the probe whose precondition was false (None: no answer).
    pub stale_status: Option<u16>,
}

/// The check's result for one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Report {
    /// The resource checked.
    pub url: String,
    /// The scratch resource the write probes used (None when none could be made).
    pub scratch: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// The verdict and what it means for writing, in a sentence.
    pub summary: String,
    /// Every finding, in the order probed.
    pub findings: Vec<Finding>,
    /// What the check wrote on the server, and whether it was cleaned up.
    pub wrote: Vec<String>,
    /// The status the server answers a stale write with (412, or a dialect's 409).
    pub stale_write_status: Option<u16>,
    /// Whether the server's ETag was seen to stay the same while the content changed.
    pub etag_not_content_derived: bool,
    /// The dialect preset the document's shape points to (`--dialect NAME`), if any.
    #[serde(default)]
    pub proposed_dialect: Option<String>,
    /// The verdict for each kind of write probed (empty when the write probes could not run).
    #[serde(default)]
    pub methods: Vec<MethodCheck>,
    /// Whether its precondition check held under bursts of writes carrying one If-Match (false:
    /// more than one was acknowledged — not atomic with the write); None when not measured.
    #[serde(default)]
    pub atomic: Option<bool>,
    /// Whether it offers an exclusive write lock it enforces (WebDAV class 2); None when not
    /// measured.
    #[serde(default)]
    pub lock: Option<bool>,
}

impl Report {
    /// The verdict for one kind of write (None: not probed).
    pub fn method(&self, kind: WriteKind) -> Option<MethodVerdict> {
        self.methods
            .iter()
            .find(|m| m.method == kind)
            .map(|m| m.verdict)
    }

    /// Whether the check reached a verdict (one that may replace what was known before).
    pub fn conclusive(&self) -> bool {
        self.verdict != Verdict::Unknown
    }

    /// The report as text for a terminal: the verdict, each kind of write's verdict, then each
    /// finding with its evidence.
    pub fn text(&self) -> String {
        let mut s = format!("{}\n{}\n", self.url, self.summary);
        if !self.methods.is_empty() {
            s.push_str("\nPer method:\n");
            for m in &self.methods {
                s.push_str(&format!(
                    "  {:<32}{}\n",
                    m.method.words(),
                    m.verdict.words()
                ));
            }
        }
        for f in &self.findings {
            let mark = match f.mark {
                Mark::Good => "ok     ",
                Mark::Caveat => "caveat ",
                Mark::Bad => "BAD    ",
                Mark::Info => "info   ",
            };
            s.push_str(&format!("\n{mark}{}\n", f.says));
            for e in &f.evidence {
                s.push_str(&format!("         {e}\n"));
            }
        }
        if !self.wrote.is_empty() {
            s.push_str("\nWhat the check wrote on the server:\n");
            for w in &self.wrote {
                s.push_str(&format!("  {w}\n"));
            }
        }
        s
    }
}

/// The sibling resource the write probes use: the last path segment replaced by a random name
/// (with the real one's extension, so servers that map extensions to types treat it alike).
pub fn scratch_url(url: &str, token: &str) -> Option<String> {
    let mut u: reqwest::Url = url.parse().ok()?;
    u.set_query(None);
    u.set_fragment(None);
    let path = u.path().to_string();
    let (dir, last) = path.rsplit_once('/')?;
    let ext = last
        .rsplit_once('.')
        .map(|(_, e)| format!(".{e}"))
        .unwrap_or_default();
    u.set_path(&format!("{dir}/ifmatch-check-{token}{ext}"));
    Some(u.to_string())
}

/// A name nobody else uses: the time and the process, in hex.
fn token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", nanos & 0xffff_ffff_ffff, std::process::id())
}

/// An If-Match that no server hands out (strong: RFC 9110 compares If-Match strongly).
const NEVER: &str = "\"ifmatch-check-never-matches\"";
/// The same, weak: what a client of a server that hands out weak tags would send back. A server
/// that honours If-Match refuses it (a weak tag never matches strongly); one that takes any
/// If-Match as "some version" does not.
const NEVER_WEAK: &str = "W/\"ifmatch-check-never-matches\"";

struct Probe<'a> {
    client: &'a Client,
}

/// What a probe got: the answer (or the failure, in words) and the evidence line.
struct Seen {
    answer: Option<Exchange>,
    line: String,
}

impl Seen {
    fn status(&self) -> Option<u16> {
        self.answer.as_ref().map(|a| a.status)
    }
    fn ok(&self) -> bool {
        self.status().is_some_and(|s| (200..300).contains(&s))
    }
    fn etag(&self) -> Option<&str> {
        self.answer.as_ref().and_then(|a| a.etag.as_deref())
    }
}

impl Probe<'_> {
    async fn ask(
        &self,
        method: &str,
        url: &str,
        headers: &[(&'static str, String)],
        body: Option<(&str, &str)>,
    ) -> Seen {
        let path = url
            .parse::<reqwest::Url>()
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| url.to_string());
        let mut line = format!("{method} {path}");
        for (n, v) in headers {
            // An If-Match sends back the server's own tag, which may echo the credential.
            line.push_str(&format!("  {n}: {}", self.client.auth().redact(v)));
        }
        if let Some((b, _)) = body {
            line.push_str(&format!("  body {}", short(b)));
        }
        match self.client.exchange(method, url, headers, body).await {
            Ok(a) => {
                line.push_str(&format!(" → {}", a.status));
                if let Some(e) = &a.etag {
                    // The evidence is shown and stored: a validator that echoes the credential
                    // is shown redacted (the raw one is still what the probes send back).
                    line.push_str(&format!(", ETag: {}", self.client.auth().redact(e)));
                } else if matches!(method, "GET" | "PUT" | "PATCH") {
                    line.push_str(", no ETag");
                }
                Seen {
                    answer: Some(a),
                    line,
                }
            }
            Err(out) => {
                line.push_str(&format!(" → failed: {}", out.message()));
                Seen { answer: None, line }
            }
        }
    }

    async fn get(&self, url: &str) -> Seen {
        self.ask("GET", url, &[], None).await
    }

    async fn put(&self, url: &str, pre: Option<(&'static str, &str)>, body: &str) -> Seen {
        let headers: Vec<(&'static str, String)> =
            pre.into_iter().map(|(n, v)| (n, v.to_string())).collect();
        self.ask("PUT", url, &headers, Some((body, "application/json")))
            .await
    }

    /// A read of the scratch resource and the `n` it shows: None when the read could not tell
    /// (it failed, or answered something other than the scratch document), 0 when the resource
    /// is not there (so no `n` written is held).
    async fn n_of(&self, url: &str) -> (Seen, Option<u64>) {
        let seen = self.get(url).await;
        let n = match seen.status() {
            Some(404 | 410) => Some(0),
            _ if seen.ok() => seen.answer.as_ref().and_then(|a| scratch_n(&a.body)),
            _ => None,
        };
        (seen, n)
    }

    /// A read of the scratch resource and whether it is gone (None: the read could not tell).
    async fn gone(&self, url: &str) -> (Seen, Option<bool>) {
        let seen = self.get(url).await;
        let gone = match seen.status() {
            Some(404 | 410) => Some(true),
            _ if seen.ok() => Some(false),
            _ => None,
        };
        (seen, gone)
    }

    /// `If-Match` with the resource's current (strong, once the server gives one) ETag; none
    /// when it has no ETag.
    async fn current_if_match(&self, url: &str) -> Vec<(&'static str, String)> {
        let (cur, _) = self.strong_etag(url).await;
        cur.etag()
            .map(|e| ("If-Match", e.to_string()))
            .into_iter()
            .collect()
    }

    /// Reads until the ETag is strong (a server may make it weak for a moment after a write),
    /// for up to three seconds. Returns the last read and whether it had to wait.
    async fn strong_etag(&self, url: &str) -> (Seen, bool) {
        let mut waited = false;
        let mut seen = self.get(url).await;
        for _ in 0..12 {
            if !seen.etag().is_some_and(|e| e.starts_with("W/")) {
                break;
            }
            waited = true;
            tokio::time::sleep(Duration::from_millis(250)).await;
            seen = self.get(url).await;
        }
        (seen, waited)
    }
}

/// An If-Match no version of the resource will match, shaped like the server's own tags: weak
/// when they are weak (what a stale client of that server sends back), and digits when they are
/// digits (Kinto answers 400 to an If-Match that is not a quoted number; "1", a millisecond after
/// 1970, is a version no resource has now).
fn never_like(server_tag: Option<&str>) -> String {
    let Some(tag) = server_tag else {
        return NEVER.into();
    };
    let weak = tag.starts_with("W/");
    let opaque = tag.trim_start_matches("W/").trim_matches('"');
    let digits = !opaque.is_empty() && opaque.bytes().all(|b| b.is_ascii_digit());
    match (weak, digits) {
        (false, true) => format!("\"{}\"", if opaque == "1" { "2" } else { "1" }),
        (true, _) => NEVER_WEAK.into(),
        (false, false) => NEVER.into(),
    }
}

fn short(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 80 {
        format!("{}…", one.chars().take(80).collect::<String>())
    } else {
        one
    }
}

/// The scratch document with `n`, in the real document's envelope (`{"data": …}` when the real
/// one is one, as Kinto's records are). Every `n` of one digit gives the same size.
fn scratch_body(token: &str, n: u8, envelope: bool) -> String {
    let inner = format!("{{\"ifmatch_check\": \"{token}\", \"n\": {n}}}");
    if envelope {
        format!("{{\"data\": {inner}}}")
    } else {
        inner
    }
}

/// The `n` a read of the scratch resource shows; None when the answer is not the scratch
/// document at all (a server's metadata about it, a page), which says nothing about whether a
/// write was applied.
fn scratch_n(body: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let doc = if v.get("ifmatch_check").is_some() {
        &v
    } else {
        v.get("data").filter(|d| d.get("ifmatch_check").is_some())?
    };
    doc.get("n").and_then(|n| n.as_u64())
}

/// Where the document says its version, if it does: fields real APIs use as a body token.
fn body_tokens(doc: &serde_json::Value) -> Vec<String> {
    [
        "/_rev",
        "/etag",
        "/_etag",
        "/version",
        "/version/number",
        "/metadata/resourceVersion",
        "/last_modified",
        "/data/last_modified",
        "/_seq_no",
    ]
    .iter()
    .filter_map(|p| {
        let v = doc.pointer(p)?;
        (v.is_string() || v.is_number()).then(|| format!("{p} = {v}"))
    })
    .collect()
}

/// Runs the check on `url`. Read-only probes first; the write probes touch only a scratch
/// resource beside it.
pub async fn check(client: &Client, url: &str) -> Report {
    let mut proposal = None;
    let mut report = check_probes(client, url, &mut proposal).await;
    report.proposed_dialect = proposal;
    report
}

async fn check_probes(client: &Client, url: &str, proposal: &mut Option<String>) -> Report {
    let mut c = Checking {
        p: Probe { client },
        findings: vec![],
        wrote: vec![],
        methods: vec![],
        stale_status: None,
    };
    // 1. The resource itself, read only.
    let Some(resource) = c.read_probes(url, proposal).await else {
        return finish(url, None, c.findings, c.wrote, None, false);
    };
    // 2. The write probes, on a scratch resource beside the real one.
    let tok = token();
    let Some(scratch) = scratch_url(url, &tok) else {
        return finish(url, None, c.findings, c.wrote, None, false);
    };
    let body = |n| scratch_body(&tok, n, resource.envelope);
    let Some(made) = c.make_scratch(&scratch, &body(1)).await else {
        return finish(url, None, c.findings, c.wrote, None, false);
    };
    c.create_probe(&scratch, made, &body(2)).await;
    let never = resource.never.as_str();
    let not_content_derived = c.put_probes(&scratch, never, &body).await;
    c.patch_probes(&scratch, never, resource.envelope).await;
    // Under several writers (engine::concurrency): do the validators see a same-size change in
    // the same second, is the check atomic with the write (only where PUT refuses stale writes:
    // elsewhere there is no check to race), is there a write lock it enforces.
    let put_protected = c
        .methods
        .iter()
        .any(|(k, v, ..)| *k == WriteKind::Put && *v == MethodVerdict::Protected);
    let conc = crate::concurrency::probe(client, &scratch, put_protected, resource.envelope).await;
    for f in conc.findings {
        c.add(&f.topic, f.mark, f.says, f.evidence);
    }
    let not_content_derived = not_content_derived || conc.validators_miss_changes == Some(true);
    // The scratch document back, for the delete probes that read it.
    let headers = c.p.current_if_match(&scratch).await;
    c.p.ask(
        "PUT",
        &scratch,
        &headers,
        Some((&body(9), "application/json")),
    )
    .await;
    c.delete_probes(&scratch, never).await;

    let mut checks = vec![];
    for (kind, verdict, stale, lines) in std::mem::take(&mut c.methods) {
        let (topic, mark, says) = method_finding(kind, verdict, stale, &resource.in_body, false);
        c.add(topic, mark, says, lines);
        checks.push(MethodCheck {
            method: kind,
            verdict,
            stale_status: stale.status,
        });
    }
    let mut report = finish(
        url,
        Some(scratch),
        c.findings,
        c.wrote,
        c.stale_status,
        not_content_derived,
    );
    report.methods = checks;
    report.atomic = conc.atomic;
    report.lock = conc.lock;
    judge(&mut report);
    report
}

/// The check while its probes run: what it found, what it wrote, each kind of write's verdict
/// with the effect of its stale probe and its evidence.
struct Checking<'a> {
    p: Probe<'a>,
    findings: Vec<Finding>,
    wrote: Vec<String>,
    methods: Vec<(WriteKind, MethodVerdict, Effect, Vec<String>)>,
    /// The status a stale write was refused with (412, or 409), the first seen.
    stale_status: Option<u16>,
}

/// What the read-only probes learnt that the write probes need.
struct Resource {
    /// An ETag that can never match, shaped like the server's (a stale client sends back the
    /// kind of tag it was given).
    never: String,
    /// The document is an envelope with its data under `data` (Kinto): probes write that shape.
    envelope: bool,
    /// Words on a version the document keeps in its body ("" when none).
    in_body: String,
}

impl Checking<'_> {
    fn add(&mut self, topic: &str, mark: Mark, says: String, evidence: Vec<String>) {
        self.findings.push(Finding {
            topic: topic.into(),
            mark,
            says,
            evidence,
        })
    }

    fn refused(&mut self, status: Option<u16>) {
        if let Some(s @ (409 | 412)) = status {
            self.stale_status.get_or_insert(s);
        }
    }

    /// The resource itself, read only: its validator, its shape (a dialect's?), a version in its
    /// body, whether it revalidates. None: it could not be read (said), nothing else is probed.
    async fn read_probes(&mut self, url: &str, proposal: &mut Option<String>) -> Option<Resource> {
        let read = self.p.get(url).await;
        let Some(answer) = read.answer.clone().filter(|_| read.ok()) else {
            self.add(
                "read",
                Mark::Info,
                "The resource could not be read, so nothing else was checked.".into(),
                vec![read.line],
            );
            return None;
        };
        let doc: Option<serde_json::Value> = serde_json::from_str(&answer.body).ok();
        // A stale client sends back the kind of tag it was given.
        let never = never_like(answer.etag.as_deref());
        let envelope = doc
            .as_ref()
            .is_some_and(|d| d.get("data").is_some_and(|x| x.is_object()));
        // Said in findings that are shown and stored: a validator echoing the credential redacted.
        let shown = |v: &Option<String>| v.as_deref().map(|x| self.p.client.auth().redact(x));
        match (shown(&answer.etag), shown(&answer.last_modified)) {
            (Some(e), _) if e.starts_with("W/") => self.add(
                "validator",
                Mark::Caveat,
                format!(
                "Its validator is a weak ETag ({e}): RFC 9110 has If-Match compare strongly, so \
                 a server may refuse it (some make it strong a moment later)."
            ),
                vec![read.line.clone()],
            ),
            (Some(e), _) => self.add(
                "validator",
                Mark::Good,
                format!("Its validator is a strong ETag ({e})."),
                vec![read.line.clone()],
            ),
            (None, Some(lm)) => self.add(
                "validator",
                Mark::Caveat,
                format!(
                "It gives no ETag, only Last-Modified ({lm}): writes are conditional on a time \
                 with one-second resolution (If-Unmodified-Since)."
            ),
                vec![read.line.clone()],
            ),
            (None, None) => self.add(
                "validator",
                Mark::Caveat,
                "It gives no validator at all (no ETag, no Last-Modified): ifmatch can only \
             compare the document before writing."
                    .into(),
                vec![read.line.clone()],
            ),
        }
        let tokens = doc.as_ref().map(body_tokens).unwrap_or_default();
        let in_body = if tokens.is_empty() {
            String::new()
        } else {
            format!(
                " (it keeps a version in the body too, {}: a write must carry the current one)",
                tokens[0]
            )
        };
        if let Some((name, shows)) = doc.as_ref().and_then(crate::dialect::propose) {
            *proposal = Some(name.to_string());
            self.add(
                "dialect",
                Mark::Info,
                format!(
                "It is shaped like the {name} API ({shows}): with `--dialect {name}` (in the app: \
                 the connection's Version, {name}) ifmatch sends the version where that API \
                 expects it and keeps its own fields out of your edits."
            ),
                vec![],
            );
        }
        if let Some((name, what)) = doc.as_ref().and_then(crate::dialect::not_a_document) {
            self.add(
                "not_document",
                Mark::Caveat,
                format!(
                    "The answer is not a document to edit: it has the shape the {name} dialect \
                 knows as {what}. Saved back, it would be stored as the value."
                ),
                vec![read.line.clone()],
            );
        }
        if !tokens.is_empty() {
            self.add(
                "body_token",
                Mark::Info,
                format!(
                    "The document carries fields that look like a version in the body: {}.",
                    tokens.join(", ")
                ),
                vec![],
            );
        }
        if let Some(e) = &answer.etag {
            let again = self
                .p
                .ask("GET", url, &[("If-None-Match", e.clone())], None)
                .await;
            let (mark, says) = match again.status() {
                Some(304) => (
                    Mark::Good,
                    "A read with If-None-Match of that ETag is answered 304 Not Modified."
                        .to_string(),
                ),
                Some(s) => (
                    Mark::Info,
                    format!("A read with If-None-Match of that ETag is answered {s}, not 304."),
                ),
                None => (Mark::Info, "The revalidating read failed.".to_string()),
            };
            self.add("revalidate", mark, says, vec![again.line]);
        }
        Some(Resource {
            never,
            envelope,
            in_body,
        })
    }

    /// The scratch resource made with `If-None-Match: *` (None: it could not be, said).
    async fn make_scratch(&mut self, scratch: &str, body: &str) -> Option<Seen> {
        let made = self
            .p
            .put(scratch, Some(("If-None-Match", "*")), body)
            .await;
        if !made.ok() {
            self.add(
                "scratch",
                Mark::Info,
                format!(
                    "No scratch resource could be made beside this one ({}), so whether the \
                     server refuses stale writes was not checked. ifmatch compares the document \
                     before each write to it.",
                    made.status()
                        .map(|s| format!("answered {s}"))
                        .unwrap_or_else(|| "the request failed".into())
                ),
                vec![made.line],
            );
            return None;
        }
        self.wrote
            .push(format!("created {scratch} (a scratch resource)"));
        Some(made)
    }

    /// Create: `If-None-Match: *` over the scratch resource just made (`made`).
    async fn create_probe(&mut self, scratch: &str, made: Seen, body: &str) {
        let (made_read, made_n) = self.p.n_of(scratch).await;
        let made_effect = Effect::of(&made, made_n.map(|n| n == 1));
        let again = self
            .p
            .put(scratch, Some(("If-None-Match", "*")), body)
            .await;
        let (again_read, again_n) = self.p.n_of(scratch).await;
        let again_effect = Effect::of(&again, again_n.map(|n| n == 2));
        self.refused(again.status());
        self.methods.push((
            WriteKind::Create,
            method_verdict(WriteKind::Create, again_effect, Some(made_effect)),
            again_effect,
            vec![
                made.line.clone(),
                made_read.line,
                again.line,
                again_read.line,
            ],
        ));
    }

    /// PUT with an If-Match that can never match, then with the current one, then one more of
    /// the same size: is a stale PUT refused, does the ETag follow the content, does the write's
    /// answer carry it. Returns whether the ETag was seen not to follow the content.
    async fn put_probes(
        &mut self,
        scratch: &str,
        never: &str,
        body: &impl Fn(u8) -> String,
    ) -> bool {
        let (current, waited) = self.p.strong_etag(scratch).await;
        let stale = self
            .p
            .put(scratch, Some(("If-Match", never)), &body(3))
            .await;
        let (stale_read, stale_n) = self.p.n_of(scratch).await;
        let stale_effect = Effect::of(&stale, stale_n.map(|n| n == 3));
        self.refused(stale.status());
        let (current, waited) = if stale.ok() {
            self.p.strong_etag(scratch).await
        } else {
            (current, waited)
        };
        let strong_now = current.etag().is_some_and(|e| !e.starts_with("W/"));
        if waited && strong_now {
            self.add(
                "weak_for_a_moment",
                Mark::Caveat,
                "Right after a write its ETag is weak for a moment, then strong for the same \
             version: a write in that moment is refused (ifmatch waits it out)."
                    .into(),
                vec![current.line.clone()],
            );
        }
        // A write with the current validator, then one more of the same size: does the ETag follow
        // the content, and does the write's answer carry it?
        let mut not_content_derived = false;
        let mut put_lines = vec![stale.line.clone(), stale_read.line];
        // Without a validator the write is unconditional: the scratch resource is ours alone, and
        // what counts here is whether the server applies it.
        let tag = current.etag().map(str::to_string);
        let w1 = self
            .p
            .put(scratch, tag.as_deref().map(|t| ("If-Match", t)), &body(4))
            .await;
        let (r1, r1_n) = self.p.n_of(scratch).await;
        let put_current = Some(Effect::of(&w1, r1_n.map(|n| n == 4)));
        put_lines.extend([w1.line.clone(), r1.line.clone()]);
        let applied = r1_n == Some(4);
        if w1.ok() && applied {
            match w1.etag() {
                Some(_) => self.add(
                    "write_answer",
                    Mark::Good,
                    "A write's answer carries the new ETag.".into(),
                    vec![w1.line.clone()],
                ),
                None => self.add(
                    "write_answer",
                    Mark::Info,
                    "A write's answer carries no ETag: ifmatch reads the resource after each \
                 write to learn it (and to see the server holds what was written)."
                        .into(),
                    vec![w1.line.clone()],
                ),
            }
        }
        if let Some(tag) = tag {
            let w2 = self
                .p
                .put(scratch, Some(("If-Match", &tag)), &body(5))
                .await;
            let r2 = self.p.get(scratch).await;
            let same_tag = r1.etag().is_some() && r1.etag() == current.etag();
            if w1.ok() && applied && same_tag {
                not_content_derived = true;
                self.add(
                "etag",
                Mark::Caveat,
                "Its ETag did not change when the content did (same size, within a second): it \
                 is not derived from the content, so a stale If-Match can match."
                    .into(),
                vec![current.line.clone(), w1.line.clone(), r1.line.clone()],
            );
            } else if w1.ok() && applied && w2.ok() && !stale.ok() {
                // The second write reused the first one's (now stale) tag and was accepted.
                not_content_derived = true;
                self.add(
                    "etag",
                    Mark::Caveat,
                    "It accepted a second write conditional on the ETag the first one replaced: \
                 its ETag does not always change with the content."
                        .into(),
                    vec![w1.line.clone(), w2.line.clone(), r2.line.clone()],
                );
            } else if w1.ok() && applied {
                self.add(
                    "etag",
                    Mark::Good,
                    "Its ETag changed with the content.".into(),
                    vec![current.line.clone(), r1.line.clone()],
                );
            }
        }
        self.methods.push((
            WriteKind::Put,
            method_verdict(WriteKind::Put, stale_effect, put_current),
            stale_effect,
            put_lines,
        ));
        not_content_derived
    }

    /// PATCH, each media type: one whose If-Match cannot match, then one with the current
    /// validator (the effect read back, not the status).
    async fn patch_probes(&mut self, scratch: &str, never: &str, envelope: bool) {
        for (kind, ct, stale_n, current_n) in [
            (
                WriteKind::MergePatch,
                "application/merge-patch+json",
                6u8,
                7u8,
            ),
            (
                WriteKind::JsonPatch,
                "application/json-patch+json",
                8u8,
                9u8,
            ),
        ] {
            let patch = |n: u8| match kind {
                WriteKind::MergePatch if envelope => format!("{{\"data\": {{\"n\": {n}}}}}"),
                WriteKind::MergePatch => format!("{{\"n\": {n}}}"),
                _ => format!(
                    "[{{\"op\": \"replace\", \"path\": \"{}/n\", \"value\": {n}}}]",
                    if envelope { "/data" } else { "" }
                ),
            };
            let sent = self
                .p
                .ask(
                    "PATCH",
                    scratch,
                    &[("If-Match", never.to_string())],
                    Some((&patch(stale_n), ct)),
                )
                .await;
            let (after, n) = self.p.n_of(scratch).await;
            let stale = Effect::of(&sent, n.map(|n| n == u64::from(stale_n)));
            let mut lines = vec![sent.line, after.line];
            let current = if matches!(stale.status, Some(405 | 415 | 501)) {
                None
            } else {
                let headers = self.p.current_if_match(scratch).await;
                let sent = self
                    .p
                    .ask("PATCH", scratch, &headers, Some((&patch(current_n), ct)))
                    .await;
                let (after, n) = self.p.n_of(scratch).await;
                lines.extend([sent.line.clone(), after.line]);
                Some(Effect::of(&sent, n.map(|n| n == u64::from(current_n))))
            };
            self.methods
                .push((kind, method_verdict(kind, stale, current), stale, lines));
        }
    }

    /// DELETE with an If-Match that cannot match, then with the current one: the clean-up. A
    /// scratch resource that is not there (its writes acknowledged, never stored) shows nothing
    /// about a delete.
    async fn delete_probes(&mut self, scratch: &str, never: &str) {
        let (before_delete, absent) = self.p.gone(scratch).await;
        let stale_delete = self
            .p
            .ask("DELETE", scratch, &[("If-Match", never.to_string())], None)
            .await;
        let (after_stale, gone_stale) = self.p.gone(scratch).await;
        let stale = Effect::of(&stale_delete, gone_stale);
        let mut lines = vec![stale_delete.line, after_stale.line];
        let mut current = None;
        if gone_stale != Some(true) {
            let headers = self.p.current_if_match(scratch).await;
            let del = self.p.ask("DELETE", scratch, &headers, None).await;
            let (after, gone) = self.p.gone(scratch).await;
            lines.extend([del.line.clone(), after.line]);
            current = Some(Effect::of(&del, gone));
            if gone != Some(true) {
                // Ours alone (nobody else knows the name): unconditionally, then.
                self.p.ask("DELETE", scratch, &[], None).await;
            }
        }
        let verdict = if absent == Some(true) {
            lines.insert(0, before_delete.line);
            MethodVerdict::Unknown
        } else {
            method_verdict(WriteKind::Delete, stale, current)
        };
        self.methods
            .push((WriteKind::Delete, verdict, stale, lines));
        let after = self.p.get(scratch).await;
        if matches!(after.status(), Some(404 | 410)) {
            self.wrote.push(format!("deleted {scratch} again"));
        } else {
            self.wrote.push(format!(
                "could NOT delete {scratch} ({}): remove it by hand",
                after.line
            ));
        }
    }
}

/// The check under a dialect whose version travels in the query (Consul's `?cas=`,
/// Elasticsearch's `?if_seq_no=&if_primary_term=`): the same questions as `check`, asked
/// through the client's dialect on a scratch resource beside the real one (the real URL's query
/// kept: Consul's reads need `?raw`). Create, PUT and DELETE each get a write with the version
/// just read and one with a version that a write has since replaced, the effect read back:
/// a compare-and-set acknowledged without setting (Consul answering `true`) is "not applied".
pub async fn check_query_dialect(client: &Client, url: &str) -> Report {
    let d = client.dialect();
    let mut findings = vec![];
    let mut wrote = vec![];
    let mut add = |topic: &str, mark: Mark, says: String, evidence: Vec<String>| {
        findings.push(Finding {
            topic: topic.into(),
            mark,
            says,
            evidence,
        })
    };
    let line = |what: &str, target: &str, o: &Outcome| {
        let path = target
            .parse::<reqwest::Url>()
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| target.to_string());
        // The outcome's kind and status, not its sentence (written for a user's own write).
        let status = match o {
            Outcome::Conflict { status, .. } => Some(*status),
            _ => outcome_effect(o, None).status,
        };
        match status {
            Some(st) => format!("{what} {path} → {} ({st})", o.kind()),
            None => format!("{what} {path} → {}", o.kind()),
        }
    };
    let real = client.get_fresh(url).await;
    if !real.is_success() {
        add(
            "read",
            Mark::Info,
            format!(
                "The resource could not be read through the {} dialect, so nothing else was \
                 checked.",
                d.name
            ),
            vec![line("read", url, &real)],
        );
        return finish(url, None, findings, wrote, None, false);
    }
    let tok = token();
    let Some(scratch) = scratch_url(url, &tok).and_then(|s| {
        let mut u: reqwest::Url = s.parse().ok()?;
        u.set_query(url.parse::<reqwest::Url>().ok()?.query());
        Some(u.to_string())
    }) else {
        return finish(url, None, findings, wrote, None, false);
    };
    let body = |n| scratch_body(&tok, n, false);
    // A read of the scratch resource: its evidence line, validator and `n`.
    let read = |target: String| async move {
        let o = client.get_fresh(&target).await;
        let (tag, n) = match &o {
            Outcome::Fetched { doc, .. } => (
                doc.validator.as_ref().and_then(|v| v.etag()).cloned(),
                scratch_n(&doc.text),
            ),
            Outcome::NotFound | Outcome::Gone => (None, Some(0)),
            _ => (None, None),
        };
        (line("read", &target, &o), tag, n)
    };
    let made = client.create(&scratch, &body(1)).await;
    if !made.is_success() {
        add(
            "scratch",
            Mark::Info,
            "No scratch resource could be made beside this one, so whether the server refuses \
             stale writes was not checked."
                .into(),
            vec![line("create", &scratch, &made)],
        );
        return finish(url, None, findings, wrote, None, false);
    }
    wrote.push(format!("created {scratch} (a scratch resource)"));
    let mut methods = vec![];
    let (r1, v1, n1) = read(scratch.clone()).await;
    let made_effect = outcome_effect(&made, n1.map(|n| n == 1));
    let again = client.create(&scratch, &body(2)).await;
    let (r2, _, n2) = read(scratch.clone()).await;
    let again_effect = outcome_effect(&again, n2.map(|n| n == 2));
    methods.push((
        WriteKind::Create,
        method_verdict(WriteKind::Create, again_effect, Some(made_effect)),
        again_effect,
        vec![
            line("create", &scratch, &made),
            r1,
            line("create again", &scratch, &again),
            r2,
        ],
        None,
    ));
    match v1 {
        Some(v1) => {
            let pre = Precondition::IfMatch(v1.clone());
            let cur = client.put(&scratch, &body(3), pre.clone()).await;
            let (r3, _, n3) = read(scratch.clone()).await;
            let current = outcome_effect(&cur, n3.map(|n| n == 3));
            // The version read before that write: replaced by it when it was applied.
            let stale = client.put(&scratch, &body(4), pre).await;
            let (r4, _, n4) = read(scratch.clone()).await;
            let stale_effect = outcome_effect(&stale, n4.map(|n| n == 4));
            methods.push((
                WriteKind::Put,
                method_verdict(WriteKind::Put, stale_effect, Some(current)),
                stale_effect,
                vec![
                    line("write with the version read", &scratch, &cur),
                    r3,
                    line("write with that version again", &scratch, &stale),
                    r4,
                ],
                None,
            ));
            let stale_del = client
                .delete(&scratch, Precondition::IfMatch(v1.clone()))
                .await;
            let (r5, now, n5) = read(scratch.clone()).await;
            let stale_del_effect = outcome_effect(&stale_del, n5.map(|n| n == 0));
            let mut lines = vec![line("delete with an old version", &scratch, &stale_del), r5];
            let current_del = match now {
                Some(now) if n5 != Some(0) => {
                    let del = client.delete(&scratch, Precondition::IfMatch(now)).await;
                    let (r6, _, n6) = read(scratch.clone()).await;
                    lines.extend([line("delete with the version read", &scratch, &del), r6]);
                    Some(outcome_effect(&del, n6.map(|n| n == 0)))
                }
                _ => None,
            };
            if v1_same_as_stale(&stale_effect) {
                // The PUT with the current version was not applied, so the old one was still
                // current: the delete with it shows nothing about stale deletes.
                let note = "Whether it refuses a DELETE with a version that is no longer \
                            current could not be checked: its PUTs were not applied, so no \
                            version was ever replaced."
                    .to_string();
                methods.push((
                    WriteKind::Delete,
                    MethodVerdict::Unknown,
                    stale_del_effect,
                    lines,
                    Some(note),
                ));
            } else {
                let verdict = method_verdict(WriteKind::Delete, stale_del_effect, current_del);
                methods.push((WriteKind::Delete, verdict, stale_del_effect, lines, None));
            }
        }
        None => add(
            "validator",
            Mark::Info,
            format!(
                "The scratch resource's read carried no {} version, so writes with a version \
                 were not checked.",
                d.name
            ),
            vec![],
        ),
    }
    // Ours alone: whatever is left goes unconditionally.
    let (_, _, left) = read(scratch.clone()).await;
    if left != Some(0) {
        client.delete(&scratch, Precondition::None).await;
    }
    let (gone_line, _, left) = read(scratch.clone()).await;
    if left == Some(0) {
        wrote.push(format!("deleted {scratch} again"));
    } else {
        wrote.push(format!(
            "could NOT delete {scratch} ({gone_line}): remove it by hand"
        ));
    }
    let mut checks = vec![];
    for (kind, verdict, stale, lines, note) in methods {
        let (topic, mark, says) = match note {
            Some(says) => ("delete", Mark::Info, says),
            None => method_finding(kind, verdict, stale, "", true),
        };
        add(topic, mark, says, lines);
        checks.push(MethodCheck {
            method: kind,
            verdict,
            stale_status: stale.status,
        });
    }
    let mut report = finish(url, Some(scratch), findings, wrote, None, false);
    report.methods = checks;
    judge(&mut report);
    report
}

/// Whether the write with the replaced version was acknowledged without being applied (then
/// the "replaced" version may still be current: the current PUT was not applied either).
fn v1_same_as_stale(stale: &Effect) -> bool {
    stale.status.is_some_and(|s| (200..300).contains(&s)) && stale.applied == Some(false)
}

/// An outcome as the status `method_verdict` reads: a refusal as stale is 412 whatever the
/// dialect's spelling (Consul's 200 `false`), an acknowledged write its status.
fn outcome_effect(o: &Outcome, applied: Option<bool>) -> Effect {
    let status = match o {
        Outcome::Conflict { .. } => Some(412),
        Outcome::Saved { status, .. }
        | Outcome::Deleted { status }
        | Outcome::Unconfirmed { status, .. }
        | Outcome::NotApplied { status }
        | Outcome::SavedThenChanged { status, .. }
        | Outcome::HttpError { status, .. }
        | Outcome::ServerError { status, .. } => Some(*status),
        Outcome::NotFound => Some(404),
        Outcome::Gone => Some(410),
        Outcome::PreconditionRequired => Some(428),
        _ => None,
    };
    Effect { status, applied }
}

/// What one write did: its status (None: no answer) and whether a read after it showed its
/// effect (None: the read could not tell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Effect {
    status: Option<u16>,
    applied: Option<bool>,
}

impl Effect {
    fn of(seen: &Seen, applied: Option<bool>) -> Effect {
        Effect {
            status: seen.status(),
            applied,
        }
    }
}

/// The verdict for one kind of write from its two probes: `stale`, whose precondition was
/// false, and `current`, whose precondition held (None: not made, for want of a validator).
/// A refusal counts only when the server is not refusing every write; an acknowledgement
/// counts as applied only when a read showed it.
fn method_verdict(kind: WriteKind, stale: Effect, current: Option<Effect>) -> MethodVerdict {
    let ok = |s: Option<u16>| s.is_some_and(|s| (200..300).contains(&s));
    let not_offered =
        |s: Option<u16>| matches!(s, Some(405 | 501)) || (kind.is_patch() && s == Some(415));
    if not_offered(stale.status) {
        return MethodVerdict::NotOffered;
    }
    if ok(stale.status) {
        return match (stale.applied, current) {
            // It said yes to the stale write without doing it, and the current one neither.
            (Some(false), Some(c)) if ok(c.status) && c.applied == Some(false) => {
                MethodVerdict::NotApplied
            }
            // A stale write answered with success and not applied, current one applied: the
            // refusal is hidden behind a success; a client believes it saved.
            (Some(false), _) => MethodVerdict::NotApplied,
            _ => MethodVerdict::Unprotected,
        };
    }
    if !matches!(stale.status, Some(409 | 412)) {
        return MethodVerdict::Unknown;
    }
    match current {
        None => MethodVerdict::Protected,
        Some(c) if ok(c.status) && c.applied == Some(false) => MethodVerdict::NotApplied,
        Some(c) if ok(c.status) => MethodVerdict::Protected,
        Some(_) => MethodVerdict::Unknown,
    }
}

/// The finding that says one kind of write's verdict: topic, mark, sentence.
fn method_finding(
    kind: WriteKind,
    verdict: MethodVerdict,
    stale: Effect,
    in_body: &str,
    dialect: bool,
) -> (&'static str, Mark, String) {
    // What makes the probe stale, and what the server must check: the header, or a dialect's
    // version (in the body or the query).
    let (stale_words, cond) = if dialect {
        ("version is no longer current", "the version")
    } else {
        ("If-Match cannot match", "If-Match")
    };
    let topic = match kind {
        WriteKind::Create => "if_none_match",
        WriteKind::Put => "if_match",
        WriteKind::MergePatch | WriteKind::JsonPatch => "patch",
        WriteKind::Delete => "delete",
    };
    let m = kind.words();
    let s = stale
        .status
        .map(|s| s.to_string())
        .unwrap_or_else(|| "no answer".into());
    let (mark, says) = match (verdict, kind) {
        (MethodVerdict::Protected, WriteKind::Create) => (
            Mark::Good,
            format!("It refuses a create over an existing resource ({s})."),
        ),
        (MethodVerdict::Protected, _) => {
            let how = if stale.status == Some(409) && kind == WriteKind::Put {
                format!(
                    " — with 409, not 412 (ifmatch treats 409 as a conflict on this \
                     server){in_body}"
                )
            } else {
                String::new()
            };
            (
                Mark::Good,
                format!(
                    "It refuses a {m} whose {stale_words} ({s}){how}, and applies one \
                     with the current validator."
                ),
            )
        }
        (MethodVerdict::Unprotected, WriteKind::Create) => (
            Mark::Bad,
            "It replaces an existing resource on a create (If-None-Match: *): \"create\" can \
             overwrite."
                .into(),
        ),
        (MethodVerdict::Unprotected, WriteKind::Delete) => (
            Mark::Bad,
            format!(
                "It deletes although its {stale_words} ({s}): a stale delete removes a \
                 newer version."
            ),
        ),
        (MethodVerdict::Unprotected, _) => (
            Mark::Bad,
            format!(
                "It applies a {m} whose {stale_words} ({s}): it ignores {cond} on \
                 {m}, so a stale {m} overwrites whatever another writer saved."
            ),
        ),
        (MethodVerdict::NotApplied, _) => (
            Mark::Caveat,
            format!(
                "It acknowledges a {m} but does not apply it (read back after the write): a \
                 {m} it answers with success is not necessarily stored{}.",
                if kind.is_patch() {
                    "; ifmatch writes with PUT here"
                } else {
                    "; ifmatch reads back after each such write"
                }
            ),
        ),
        (MethodVerdict::NotOffered, _) => (
            Mark::Info,
            format!(
                "It does not offer {m} ({s}){}.",
                if kind.is_patch() {
                    ": ifmatch writes with PUT here"
                } else {
                    ""
                }
            ),
        ),
        (MethodVerdict::Unknown, _) => (
            Mark::Info,
            if matches!(stale.status, Some(409 | 412)) {
                format!(
                    "It refuses a {m} whose {stale_words} ({s}), but refuses one with \
                     the current validator too: the check cannot tell whether it enforces \
                     {cond} on {m}."
                )
            } else {
                format!(
                    "A {m} whose {stale_words} is answered {s}: neither refused as \
                     stale nor done, so the check cannot tell whether it enforces {cond} on \
                     {m}."
                )
            },
        ),
    };
    (topic, mark, says)
}

/// A report without per-method verdicts (the write probes could not run): verdict unknown.
fn finish(
    url: &str,
    scratch: Option<String>,
    findings: Vec<Finding>,
    wrote: Vec<String>,
    stale_write_status: Option<u16>,
    etag_not_content_derived: bool,
) -> Report {
    let mut report = Report {
        proposed_dialect: None,
        url: url.to_string(),
        scratch,
        verdict: Verdict::Unknown,
        summary: String::new(),
        findings,
        wrote,
        stale_write_status,
        etag_not_content_derived,
        methods: vec![],
        atomic: None,
        lock: None,
    };
    judge(&mut report);
    report
}

/// The overall verdict and summary from the per-method verdicts and the findings: unprotected
/// when any kind of write (or any finding) is; unknown when PUT's could not be told; with
/// caveats when a finding has one.
fn judge(report: &mut Report) {
    let unprotected: Vec<&str> = report
        .methods
        .iter()
        .filter(|m| m.verdict == MethodVerdict::Unprotected)
        .map(|m| m.method.words())
        .collect();
    let put_known = matches!(
        report.method(WriteKind::Put),
        Some(MethodVerdict::Protected | MethodVerdict::Unprotected | MethodVerdict::NotApplied)
    );
    let bad = !unprotected.is_empty() || report.findings.iter().any(|f| f.mark == Mark::Bad);
    report.verdict = if bad {
        Verdict::Unprotected
    } else if !put_known {
        Verdict::Unknown
    } else if report.findings.iter().any(|f| f.mark == Mark::Caveat) {
        Verdict::Caveats
    } else {
        Verdict::Protected
    };
    let which = if unprotected.is_empty() {
        String::new()
    } else {
        format!(" for {}", unprotected.join(", "))
    };
    report.summary = match report.verdict {
        Verdict::Protected => {
            "Protected: the server refuses stale writes, as RFC 9110 asks.".to_string()
        }
        Verdict::Caveats => {
            let not_applied: Vec<&str> = report
                .methods
                .iter()
                .filter(|m| m.verdict == MethodVerdict::NotApplied)
                .map(|m| m.method.words())
                .collect();
            if not_applied.is_empty() {
                "Protected, with caveats: the server refuses stale writes; see the caveats below."
                    .to_string()
            } else {
                format!(
                    "Protected, with caveats: the server refuses stale writes, but it \
                     acknowledges {} without applying them: a success answer there does not \
                     mean it stored anything (ifmatch reads back after such writes). See the \
                     caveats below.",
                    not_applied.join(", ")
                )
            }
        }
        Verdict::Unprotected => format!(
            "UNPROTECTED{which}: the server accepts writes whose precondition is false, so a \
             stale write overwrites another writer's change. ifmatch compares the document \
             just before and just after each such write, which catches every change made \
             before the write, but not one made in the same moment."
        ),
        Verdict::Unknown => "Unknown: whether the server refuses stale writes could not be \
                             checked. ifmatch compares the document just before each write to \
                             it."
        .to_string(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_resource_is_a_sibling_with_the_same_extension() {
        assert_eq!(
            scratch_url("http://h:1/a/settings.json?x=1", "ab").as_deref(),
            Some("http://h:1/a/ifmatch-check-ab.json")
        );
        assert_eq!(
            scratch_url("http://h:1/v1/records/r1", "ab").as_deref(),
            Some("http://h:1/v1/records/ifmatch-check-ab")
        );
        assert_eq!(
            scratch_url("http://h:1/", "ab").as_deref(),
            Some("http://h:1/ifmatch-check-ab")
        );
    }

    #[test]
    fn the_never_matching_tag_has_the_servers_shape() {
        assert_eq!(never_like(None), NEVER);
        assert_eq!(never_like(Some("\"abc-12\"")), NEVER);
        assert_eq!(never_like(Some("W/\"4f-xyz\"")), NEVER_WEAK);
        assert_eq!(never_like(Some("\"1796218907437\"")), "\"1\"");
        assert_eq!(never_like(Some("\"1\"")), "\"2\"");
    }

    #[test]
    fn scratch_bodies_keep_their_size_and_envelope() {
        assert_eq!(
            scratch_body("t", 1, false).len(),
            scratch_body("t", 9, false).len()
        );
        assert_eq!(scratch_n(&scratch_body("t", 4, true)), Some(4));
        assert_eq!(scratch_n(&scratch_body("t", 5, false)), Some(5));
        // Not the scratch document (Consul's metadata array, another API's wrapper): no `n`,
        // so a write is neither shown applied nor shown not applied.
        assert_eq!(
            scratch_n(r#"[{"Key": "k", "Value": "eyJuIjogNH0="}]"#),
            None
        );
        assert_eq!(scratch_n(r#"{"n": 4}"#), None);
    }

    #[test]
    fn body_tokens_are_found_where_apis_put_them() {
        let d: serde_json::Value =
            serde_json::from_str(r#"{"_rev": "2-ab", "metadata": {"resourceVersion": "7"}}"#)
                .unwrap();
        assert_eq!(
            body_tokens(&d),
            vec![
                "/_rev = \"2-ab\"".to_string(),
                "/metadata/resourceVersion = \"7\"".to_string()
            ]
        );
    }

    fn effect(status: u16, applied: Option<bool>) -> Effect {
        Effect {
            status: Some(status),
            applied,
        }
    }

    #[test]
    fn each_kind_of_write_is_judged_by_what_its_own_probes_did() {
        use MethodVerdict::*;
        let v = method_verdict;
        let k = WriteKind::MergePatch;
        // Refused stale, applied current.
        assert_eq!(
            v(k, effect(412, Some(false)), Some(effect(204, Some(true)))),
            Protected
        );
        // A stale write applied: unprotected, whatever the status.
        assert_eq!(
            v(k, effect(200, Some(true)), Some(effect(200, Some(true)))),
            Unprotected
        );
        // A stale write answered 2xx, the read failing: not proven refused.
        assert_eq!(v(k, effect(204, None), None), Unprotected);
        // 405 / 501 (and 415 for a patch type): not offered, not "unprotected".
        for s in [405, 501, 415] {
            assert_eq!(v(k, effect(s, Some(false)), None), NotOffered, "{s}");
        }
        assert_eq!(
            v(WriteKind::Put, effect(415, Some(false)), None),
            Unknown,
            "415 to a PUT is not 'PUT not offered'"
        );
        // Acknowledged, never applied.
        assert_eq!(
            v(k, effect(200, Some(false)), Some(effect(200, Some(false)))),
            NotApplied
        );
        assert_eq!(
            v(k, effect(412, Some(false)), Some(effect(200, Some(false)))),
            NotApplied
        );
        // Refusing the current write too proves nothing.
        assert_eq!(
            v(
                WriteKind::Put,
                effect(409, Some(false)),
                Some(effect(409, Some(false)))
            ),
            Unknown
        );
        assert_eq!(v(k, effect(404, Some(false)), None), Unknown);
    }

    /// A small stateful HTTP server on 127.0.0.1 whose If-Match enforcement and storing are
    /// chosen per method: what real servers do (nginx ignores If-Match on PUT, many frameworks
    /// check it on PUT and DELETE but not on PATCH).
    mod server {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        #[derive(Default, Clone)]
        pub struct Knobs {
            /// Methods whose If-Match (and If-None-Match) are ignored.
            pub ignore: Vec<&'static str>,
            /// Methods answered 200 without storing anything.
            pub not_applied: Vec<&'static str>,
            /// Methods answered 405.
            pub not_allowed: Vec<&'static str>,
            /// Every GET of this path answers 500.
            pub broken_read: Option<&'static str>,
            /// A GET without `?raw` answers Consul's metadata array about the value.
            pub consul_reads: bool,
            /// Consul's KV writes: `?cas=N` (0: create), answered `true` / `false`, the version
            /// in `X-Consul-Index`.
            pub consul_cas: bool,
            /// With `consul_cas`: a write with `?cas=N` (N > 0) answers `true` and stores nothing.
            pub cas_not_applied: bool,
            /// Every ETag carries this text (a server that builds its tags from the request's
            /// credential).
            pub etag_suffix: &'static str,
        }

        type Store = Arc<Mutex<HashMap<String, (serde_json::Value, u64)>>>;

        pub async fn start(knobs: Knobs, docs: &[(&str, &str)]) -> (String, Store) {
            let store: Store = Arc::new(Mutex::new(
                docs.iter()
                    .map(|(p, d)| (p.to_string(), (serde_json::from_str(d).unwrap(), 1)))
                    .collect(),
            ));
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", l.local_addr().unwrap());
            let st = store.clone();
            tokio::spawn(async move {
                let mut counter = 100;
                while let Ok((mut sock, _)) = l.accept().await {
                    counter += 1;
                    let mut buf = vec![];
                    let mut chunk = [0u8; 4096];
                    let head_end = loop {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break None;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break Some(i + 4);
                        }
                    };
                    let Some(head_end) = head_end else { continue };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let mut lines = head.split("\r\n");
                    let first: Vec<&str> = lines.next().unwrap().split(' ').collect();
                    let (method, path) = (first[0].to_string(), first[1].to_string());
                    let headers: HashMap<String, String> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    let len: usize = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let n = sock.read(&mut chunk).await.unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let body = String::from_utf8_lossy(&buf[head_end..]).to_string();
                    let (status, etag, text) =
                        answer(&knobs, &st, &method, &path, &headers, &body, counter);
                    let etag = etag
                        .map(|e| match knobs.consul_cas {
                            true => format!("X-Consul-Index: {e}\r\n"),
                            false => format!("ETag: \"v{e}{}\"\r\n", knobs.etag_suffix),
                        })
                        .unwrap_or_default();
                    let out = format!(
                        "HTTP/1.1 {status} X\r\n{etag}Content-Type: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{text}",
                        text.len()
                    );
                    let _ = sock.write_all(out.as_bytes()).await;
                    let _ = sock.shutdown().await;
                }
            });
            (url, store)
        }

        fn answer(
            k: &Knobs,
            st: &Store,
            method: &str,
            path: &str,
            h: &HashMap<String, String>,
            body: &str,
            next: u64,
        ) -> (u16, Option<u64>, String) {
            let mut st = st.lock().unwrap();
            let (path, query) = path.split_once('?').unwrap_or((path, ""));
            if method == "GET" {
                if k.broken_read == Some(path) {
                    return (500, None, "{}".into());
                }
                return match st.get(path) {
                    Some((_, v)) if k.consul_reads && query != "raw" => (
                        200,
                        Some(*v),
                        format!(
                            r#"[{{"LockIndex":0,"Key":"{path}","Flags":0,"Value":"e30=","CreateIndex":1,"ModifyIndex":{v}}}]"#
                        ),
                    ),
                    Some((d, v)) => (200, Some(*v), d.to_string()),
                    None => (404, None, "{}".into()),
                };
            }
            if k.not_allowed.contains(&method) {
                return (405, None, "{}".into());
            }
            let now = st.get(path).map(|(_, v)| *v);
            if k.consul_cas {
                let cas = query
                    .split('&')
                    .find_map(|p| p.strip_prefix("cas="))
                    .and_then(|n| n.parse::<u64>().ok());
                let holds = match cas {
                    None => true,
                    Some(0) => now.is_none(),
                    Some(n) => now == Some(n),
                };
                if !holds && !k.ignore.contains(&method) {
                    return (200, None, "false".into());
                }
                if k.cas_not_applied && cas.is_some_and(|n| n > 0) {
                    return (200, None, "true".into());
                }
                match method {
                    "PUT" => {
                        st.insert(path.into(), (serde_json::from_str(body).unwrap(), next));
                    }
                    "DELETE" => {
                        st.remove(path);
                    }
                    _ => return (405, None, "{}".into()),
                }
                return (200, None, "true".into());
            }
            if !k.ignore.contains(&method) {
                if let Some(m) = h.get("if-match") {
                    let tag = now.map(|v| format!("\"v{v}{}\"", k.etag_suffix));
                    if tag.as_deref() != Some(m.as_str()) {
                        return (412, None, "{}".into());
                    }
                }
                if h.get("if-none-match").is_some_and(|v| v == "*") && now.is_some() {
                    return (412, None, "{}".into());
                }
            }
            if k.not_applied.contains(&method) {
                return (200, now, "{}".into());
            }
            match method {
                "PUT" => {
                    st.insert(path.into(), (serde_json::from_str(body).unwrap(), next));
                    (
                        if now.is_some() { 200 } else { 201 },
                        Some(next),
                        "{}".into(),
                    )
                }
                "PATCH" => {
                    let Some((d, _)) = st.get(path).cloned() else {
                        return (404, None, "{}".into());
                    };
                    let mut d = d;
                    let p: serde_json::Value = serde_json::from_str(body).unwrap();
                    match p {
                        serde_json::Value::Array(ops) => {
                            for op in ops {
                                d["n"] = op["value"].clone();
                            }
                        }
                        serde_json::Value::Object(m) => {
                            for (key, val) in m {
                                d[key] = val;
                            }
                        }
                        _ => return (400, None, "{}".into()),
                    }
                    st.insert(path.into(), (d, next));
                    (200, Some(next), "{}".into())
                }
                "DELETE" => match st.remove(path) {
                    Some(_) => (204, None, String::new()),
                    None => (404, None, "{}".into()),
                },
                _ => (405, None, "{}".into()),
            }
        }
    }

    fn client() -> Client {
        Client::new(crate::ClientConfig::default(), crate::Auth::None).unwrap()
    }

    #[tokio::test]
    async fn a_server_that_ignores_if_match_on_patch_only_is_unprotected_for_patch_only() {
        let knobs = server::Knobs {
            ignore: vec!["PATCH"],
            ..Default::default()
        };
        let (base, store) = server::start(knobs, &[("/a/settings.json", r#"{"x": 1}"#)]).await;
        let r = check(&client(), &format!("{base}/a/settings.json")).await;
        assert_eq!(r.verdict, Verdict::Unprotected, "{}", r.text());
        assert_eq!(r.method(WriteKind::Put), Some(MethodVerdict::Protected));
        assert_eq!(r.method(WriteKind::Create), Some(MethodVerdict::Protected));
        assert_eq!(r.method(WriteKind::Delete), Some(MethodVerdict::Protected));
        assert_eq!(
            r.method(WriteKind::MergePatch),
            Some(MethodVerdict::Unprotected)
        );
        assert_eq!(
            r.method(WriteKind::JsonPatch),
            Some(MethodVerdict::Unprotected)
        );
        assert!(r.summary.contains("PATCH (merge-patch)"), "{}", r.summary);
        let text = r.text();
        assert!(text.contains("Per method:"), "{text}");
        // The JSON says it per method too.
        let json = serde_json::to_value(&r).unwrap();
        assert!(
            json["methods"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["method"] == "merge_patch" && m["verdict"] == "unprotected"),
            "{json}"
        );
        // The real document untouched, the scratch gone.
        let st = store.lock().unwrap();
        assert_eq!(st.len(), 1, "{:?}", st.keys());
        assert_eq!(st["/a/settings.json"].0, serde_json::json!({"x": 1}));
    }

    #[tokio::test]
    async fn patch_not_offered_is_not_unprotected() {
        let knobs = server::Knobs {
            not_allowed: vec!["PATCH"],
            ..Default::default()
        };
        let (base, _store) = server::start(knobs, &[("/settings.json", r#"{"x": 1}"#)]).await;
        let r = check(&client(), &format!("{base}/settings.json")).await;
        assert_eq!(r.verdict, Verdict::Protected, "{}", r.text());
        assert_eq!(
            r.method(WriteKind::MergePatch),
            Some(MethodVerdict::NotOffered)
        );
        assert_eq!(
            r.method(WriteKind::JsonPatch),
            Some(MethodVerdict::NotOffered)
        );
        assert_eq!(r.method(WriteKind::Put), Some(MethodVerdict::Protected));
    }

    #[tokio::test]
    async fn writes_acknowledged_but_not_applied_are_said_per_method() {
        let knobs = server::Knobs {
            not_applied: vec!["PATCH"],
            ..Default::default()
        };
        let (base, _s) = server::start(knobs, &[("/settings.json", r#"{"x": 1}"#)]).await;
        let r = check(&client(), &format!("{base}/settings.json")).await;
        assert_eq!(
            r.method(WriteKind::MergePatch),
            Some(MethodVerdict::NotApplied)
        );
        assert_eq!(
            r.method(WriteKind::JsonPatch),
            Some(MethodVerdict::NotApplied)
        );
        assert_eq!(r.method(WriteKind::Put), Some(MethodVerdict::Protected));
        assert_eq!(r.verdict, Verdict::Caveats, "{}", r.text());
        // A server that stores nothing it acknowledges, PUT included: never "protected", and
        // its create is not taken for an overwrite.
        let knobs = server::Knobs {
            not_applied: vec!["PUT", "PATCH", "DELETE"],
            ..Default::default()
        };
        let (base, _s) = server::start(knobs, &[("/settings.json", r#"{"x": 1}"#)]).await;
        let r = check(&client(), &format!("{base}/settings.json")).await;
        assert_eq!(r.method(WriteKind::Create), Some(MethodVerdict::NotApplied));
        assert_eq!(r.method(WriteKind::Put), Some(MethodVerdict::NotApplied));
        assert_ne!(r.verdict, Verdict::Protected, "{}", r.text());
        assert!(
            r.text().contains("acknowledged but NOT APPLIED"),
            "{}",
            r.text()
        );
    }

    #[tokio::test]
    async fn a_check_that_cannot_read_its_resource_is_not_conclusive() {
        let knobs = server::Knobs {
            broken_read: Some("/settings.json"),
            ..Default::default()
        };
        let (base, _s) = server::start(knobs, &[("/settings.json", r#"{"x": 1}"#)]).await;
        let r = check(&client(), &format!("{base}/settings.json")).await;
        assert_eq!(r.verdict, Verdict::Unknown);
        assert!(!r.conclusive());
        assert!(r.methods.is_empty());
        let r = check(&client(), &format!("{base}/missing.json")).await;
        assert!(!r.conclusive(), "a 404: {}", r.text());
    }

    /// A Consul-like server: reads without `?raw` answer metadata, every precondition ignored.
    /// The scratch reads are not the scratch document, so nothing is shown "not applied": the
    /// writes it accepts stale are unprotected. The real resource read without `?raw` is said.
    #[tokio::test]
    async fn a_scratch_read_that_is_not_the_document_proves_nothing_applied_or_not() {
        let knobs = server::Knobs {
            ignore: vec!["PUT", "PATCH", "DELETE"],
            consul_reads: true,
            ..Default::default()
        };
        let (base, _s) = server::start(knobs, &[("/v1/kv/settings", r#"{"x": 1}"#)]).await;
        let r = check(&client(), &format!("{base}/v1/kv/settings?raw")).await;
        assert_eq!(r.verdict, Verdict::Unprotected, "{}", r.text());
        for k in [WriteKind::Create, WriteKind::Put, WriteKind::Delete] {
            assert_eq!(r.method(k), Some(MethodVerdict::Unprotected), "{k:?}");
        }
        assert!(!r.text().contains("NOT APPLIED"), "{}", r.text());
        let r = check(&client(), &format!("{base}/v1/kv/settings")).await;
        assert!(
            r.findings
                .iter()
                .any(|f| f.topic == "not_document" && f.says.contains("?raw")),
            "{}",
            r.text()
        );
    }

    fn consul_client() -> Client {
        let cfg = crate::ClientConfig {
            dialect: crate::dialect::Dialect::preset("consul").unwrap(),
            ..Default::default()
        };
        Client::new(cfg, crate::Auth::None).unwrap()
    }

    /// Consul's `?cas=` checked through the dialect: an honest server is protected per method;
    /// one whose compare-and-set answers `true` without setting is "acknowledged but not
    /// applied" for PUT, never protected, and DELETE is not judged on a version that was never
    /// replaced.
    #[tokio::test]
    async fn a_query_version_is_checked_through_the_dialect() {
        let knobs = server::Knobs {
            consul_cas: true,
            ..Default::default()
        };
        let (base, store) = server::start(knobs, &[("/v1/kv/settings", r#"{"x": 1}"#)]).await;
        let url = format!("{base}/v1/kv/settings?raw");
        let r = check_query_dialect(&consul_client(), &url).await;
        assert_eq!(r.verdict, Verdict::Protected, "{}", r.text());
        for k in [WriteKind::Create, WriteKind::Put, WriteKind::Delete] {
            assert_eq!(r.method(k), Some(MethodVerdict::Protected), "{k:?}");
        }
        {
            let st = store.lock().unwrap();
            assert_eq!(st.len(), 1, "the scratch key is gone: {:?}", st.keys());
            assert_eq!(st["/v1/kv/settings"].0, serde_json::json!({"x": 1}));
        }
        assert!(
            r.wrote.iter().any(|w| w.starts_with("deleted")),
            "{:?}",
            r.wrote
        );

        let knobs = server::Knobs {
            consul_cas: true,
            cas_not_applied: true,
            ..Default::default()
        };
        let (base, _s) = server::start(knobs, &[("/v1/kv/settings", r#"{"x": 1}"#)]).await;
        let r = check_query_dialect(&consul_client(), &format!("{base}/v1/kv/settings?raw")).await;
        assert_eq!(
            r.method(WriteKind::Put),
            Some(MethodVerdict::NotApplied),
            "{}",
            r.text()
        );
        assert_eq!(r.method(WriteKind::Delete), Some(MethodVerdict::Unknown));
        assert_ne!(r.verdict, Verdict::Protected);
        assert!(r.summary.contains("without applying"), "{}", r.summary);

        // A server that ignores the index: unprotected.
        let knobs = server::Knobs {
            consul_cas: true,
            ignore: vec!["PUT", "DELETE"],
            ..Default::default()
        };
        let (base, _s) = server::start(knobs, &[("/v1/kv/settings", r#"{"x": 1}"#)]).await;
        let r = check_query_dialect(&consul_client(), &format!("{base}/v1/kv/settings?raw")).await;
        assert_eq!(r.verdict, Verdict::Unprotected, "{}", r.text());
        assert_eq!(r.method(WriteKind::Put), Some(MethodVerdict::Unprotected));
    }

    /// A server whose ETags carry the request's credential: the check's evidence (the answers'
    /// ETags and the If-Match sent back) never shows it, while the probes still work.
    #[tokio::test]
    async fn the_evidence_never_shows_a_credential_the_server_echoes_in_its_tags() {
        const TOKEN: &str = "tok-9f8e7d6c5b4a";
        let knobs = server::Knobs {
            etag_suffix: "-tok-9f8e7d6c5b4a",
            ..Default::default()
        };
        let (base, _s) = server::start(knobs, &[("/s.json", r#"{"x": 1}"#)]).await;
        let client = Client::new(
            crate::ClientConfig::default(),
            crate::Auth::Bearer(crate::Secret::new(TOKEN)),
        )
        .unwrap();
        let r = check(&client, &format!("{base}/s.json")).await;
        assert_eq!(
            r.method(WriteKind::Put),
            Some(MethodVerdict::Protected),
            "{}",
            r.text()
        );
        let all = serde_json::to_string(&r).unwrap() + &r.text();
        assert!(!all.contains(TOKEN), "{all}");
        assert!(
            all.contains("If-Match: \"v"),
            "the If-Match lines are there: {all}"
        );
    }
}
