//! The server check (`ifmatch check URL`): probes whether a server really enforces the
//! preconditions ifmatch relies on, and reports each finding with the requests and answers that
//! show it.
//!
//! Owns: the probe sequence, read-only parts first, then the write parts on a scratch resource
//! made beside the real one (`If-None-Match: *`, a random name, deleted afterwards), and the
//! verdict: protected / protected with caveats / unprotected / unknown.
//!
//! Must never: write the real resource (every write goes to the scratch resource, whose name
//! nobody else knows), or leave the scratch resource behind without saying so.

use crate::client::{Client, Exchange};
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
}

impl Report {
    /// The report as text for a terminal: the verdict, then each finding with its evidence.
    pub fn text(&self) -> String {
        let mut s = format!("{}\n{}\n", self.url, self.summary);
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
            line.push_str(&format!("  {n}: {v}"));
        }
        if let Some((b, _)) = body {
            line.push_str(&format!("  body {}", short(b)));
        }
        match self.client.exchange(method, url, headers, body).await {
            Ok(a) => {
                line.push_str(&format!(" → {}", a.status));
                if let Some(e) = &a.etag {
                    line.push_str(&format!(", ETag: {e}"));
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

/// The `n` a read of the scratch resource shows.
fn scratch_n(body: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    v.get("n")
        .or_else(|| v.get("data").and_then(|d| d.get("n")))
        .and_then(|n| n.as_u64())
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
    let p = Probe { client };
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

    // 1. The resource itself, read only.
    let read = p.get(url).await;
    let Some(answer) = read.answer.clone().filter(|_| read.ok()) else {
        add(
            "read",
            Mark::Info,
            "The resource could not be read, so nothing else was checked.".into(),
            vec![read.line],
        );
        return finish(url, None, findings, wrote, None, false);
    };
    let doc: Option<serde_json::Value> = serde_json::from_str(&answer.body).ok();
    // A stale client sends back the kind of tag it was given.
    let never = never_like(answer.etag.as_deref());
    let never = never.as_str();
    let envelope = doc
        .as_ref()
        .is_some_and(|d| d.get("data").is_some_and(|x| x.is_object()));
    match (&answer.etag, &answer.last_modified) {
        (Some(e), _) if e.starts_with("W/") => add(
            "validator",
            Mark::Caveat,
            format!(
                "Its validator is a weak ETag ({e}): RFC 9110 has If-Match compare strongly, so \
                 a server may refuse it (some make it strong a moment later)."
            ),
            vec![read.line.clone()],
        ),
        (Some(e), _) => add(
            "validator",
            Mark::Good,
            format!("Its validator is a strong ETag ({e})."),
            vec![read.line.clone()],
        ),
        (None, Some(lm)) => add(
            "validator",
            Mark::Caveat,
            format!(
                "It gives no ETag, only Last-Modified ({lm}): writes are conditional on a time \
                 with one-second resolution (If-Unmodified-Since)."
            ),
            vec![read.line.clone()],
        ),
        (None, None) => add(
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
        add(
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
    if !tokens.is_empty() {
        add(
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
        let again = p
            .ask("GET", url, &[("If-None-Match", e.clone())], None)
            .await;
        let (mark, says) = match again.status() {
            Some(304) => (
                Mark::Good,
                "A read with If-None-Match of that ETag is answered 304 Not Modified.".to_string(),
            ),
            Some(s) => (
                Mark::Info,
                format!("A read with If-None-Match of that ETag is answered {s}, not 304."),
            ),
            None => (Mark::Info, "The revalidating read failed.".to_string()),
        };
        add("revalidate", mark, says, vec![again.line]);
    }

    // 2. The write probes, on a scratch resource beside the real one.
    let tok = token();
    let Some(scratch) = scratch_url(url, &tok) else {
        return finish(url, None, findings, wrote, None, false);
    };
    let body = |n| scratch_body(&tok, n, envelope);
    let made = p
        .put(&scratch, Some(("If-None-Match", "*")), &body(1))
        .await;
    if !made.ok() {
        add(
            "scratch",
            Mark::Info,
            format!(
                "No scratch resource could be made beside this one ({}), so whether the server \
                 refuses stale writes was not checked. ifmatch compares the document before \
                 each write to it.",
                made.status()
                    .map(|s| format!("answered {s}"))
                    .unwrap_or_else(|| "the request failed".into())
            ),
            vec![made.line],
        );
        return finish(url, None, findings, wrote, None, false);
    }
    wrote.push(format!("created {scratch} (a scratch resource)"));

    // If-None-Match: * over the existing scratch resource.
    let again = p
        .put(&scratch, Some(("If-None-Match", "*")), &body(2))
        .await;
    let mut stale_status = None;
    match again.status() {
        Some(s) if (200..300).contains(&s) => add(
            "if_none_match",
            Mark::Bad,
            "It replaces an existing resource on a create (If-None-Match: *): \"create\" can \
             overwrite."
                .into(),
            vec![made.line.clone(), again.line],
        ),
        Some(s @ (409 | 412)) => {
            stale_status = Some(s);
            add(
                "if_none_match",
                Mark::Good,
                format!("It refuses a create over an existing resource ({s})."),
                vec![made.line.clone(), again.line],
            )
        }
        _ => add(
            "if_none_match",
            Mark::Info,
            "Its answer to a create over an existing resource is neither a refusal nor a \
             success."
                .into(),
            vec![again.line],
        ),
    }

    // If-Match that can never match.
    let (current, waited) = p.strong_etag(&scratch).await;
    let stale = p.put(&scratch, Some(("If-Match", never)), &body(3)).await;
    let mut unprotected = false;
    let if_match_known;
    match stale.status() {
        Some(s) if (200..300).contains(&s) => {
            unprotected = true;
            if_match_known = true;
            add(
                "if_match",
                Mark::Bad,
                format!(
                    "It accepts a write whose If-Match cannot match ({s}): it ignores If-Match, so \
                     a stale write overwrites whatever another writer saved."
                ),
                vec![stale.line],
            )
        }
        Some(s @ (409 | 412)) => {
            if_match_known = true;
            stale_status = Some(s);
            let how = if s == 409 {
                " — with 409, not 412 (ifmatch treats 409 as a conflict on this server)"
            } else {
                ""
            };
            // A 409 from a server with a version in the body is CouchDB's way: the body's
            // token, not the header, is what it checks.
            let in_body = if s == 409 { in_body.as_str() } else { "" };
            add(
                "if_match",
                Mark::Good,
                format!("It refuses a write whose If-Match cannot match ({s}){how}{in_body}."),
                vec![stale.line],
            )
        }
        Some(s) => {
            if_match_known = false;
            add(
                "if_match",
                Mark::Info,
                format!("A write whose If-Match cannot match is answered {s}: neither refused as stale nor done."),
                vec![stale.line],
            )
        }
        None => {
            if_match_known = false;
            add(
                "if_match",
                Mark::Info,
                "The write with an If-Match that cannot match failed.".into(),
                vec![stale.line],
            )
        }
    }

    // A write with the current validator, then one more of the same size: does the ETag follow
    // the content, and does the write's answer carry it?
    let (current, waited) = if unprotected {
        p.strong_etag(&scratch).await
    } else {
        (current, waited)
    };
    let strong_now = current.etag().is_some_and(|e| !e.starts_with("W/"));
    if waited && strong_now {
        add(
            "weak_for_a_moment",
            Mark::Caveat,
            "Right after a write its ETag is weak for a moment, then strong for the same \
             version: a write in that moment is refused (ifmatch waits it out)."
                .into(),
            vec![current.line.clone()],
        );
    }
    let mut not_content_derived = false;
    if let Some(tag) = current.etag().map(str::to_string) {
        let w1 = p.put(&scratch, Some(("If-Match", &tag)), &body(4)).await;
        let r1 = p.get(&scratch).await;
        let w2 = p.put(&scratch, Some(("If-Match", &tag)), &body(5)).await;
        let r2 = p.get(&scratch).await;
        if w1.ok() {
            match w1.etag() {
                Some(_) => add(
                    "write_answer",
                    Mark::Good,
                    "A write's answer carries the new ETag.".into(),
                    vec![w1.line.clone()],
                ),
                None => add(
                    "write_answer",
                    Mark::Info,
                    "A write's answer carries no ETag: ifmatch reads the resource after each \
                     write to learn it (and to see the server holds what was written)."
                        .into(),
                    vec![w1.line.clone()],
                ),
            }
        }
        let same_tag = r1.etag().is_some() && r1.etag() == current.etag();
        if w1.ok() && same_tag {
            not_content_derived = true;
            add(
                "etag",
                Mark::Caveat,
                "Its ETag did not change when the content did (same size, within a second): it \
                 is not derived from the content, so a stale If-Match can match."
                    .into(),
                vec![current.line.clone(), w1.line.clone(), r1.line.clone()],
            );
        } else if w1.ok() && w2.ok() && !unprotected {
            // The second write reused the first one's (now stale) tag and was accepted.
            not_content_derived = true;
            add(
                "etag",
                Mark::Caveat,
                "It accepted a second write conditional on the ETag the first one replaced: \
                 its ETag does not always change with the content."
                    .into(),
                vec![w1.line.clone(), w2.line.clone(), r2.line.clone()],
            );
        } else if w1.ok() {
            add(
                "etag",
                Mark::Good,
                "Its ETag changed with the content.".into(),
                vec![current.line.clone(), r1.line.clone()],
            );
        }
    }

    // PATCH: which media types does it apply (the effect, not the status)?
    for (ct, n, patch) in [
        (
            "application/merge-patch+json",
            6u8,
            if envelope {
                "{\"data\": {\"n\": 6}}".to_string()
            } else {
                "{\"n\": 6}".to_string()
            },
        ),
        (
            "application/json-patch+json",
            7u8,
            format!(
                "[{{\"op\": \"replace\", \"path\": \"{}/n\", \"value\": 7}}]",
                if envelope { "/data" } else { "" }
            ),
        ),
    ] {
        let headers = p.current_if_match(&scratch).await;
        let sent = p.ask("PATCH", &scratch, &headers, Some((&patch, ct))).await;
        let after = p.get(&scratch).await;
        let applied = after.answer.as_ref().and_then(|a| scratch_n(&a.body)) == Some(u64::from(n));
        let (mark, says) = match (sent.ok(), applied) {
            (true, true) => (Mark::Good, format!("It applies PATCH with {ct}.")),
            (true, false) => (
                Mark::Caveat,
                format!(
                    "It acknowledges PATCH with {ct} but does not apply it: ifmatch writes with \
                     PUT here."
                ),
            ),
            (false, _) => (
                Mark::Info,
                format!(
                    "It does not take PATCH with {ct} ({}).",
                    sent.status()
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "failed".into())
                ),
            ),
        };
        add("patch", mark, says, vec![sent.line, after.line]);
    }

    // DELETE with an If-Match that cannot match, then the clean-up.
    let stale_delete = p
        .ask("DELETE", &scratch, &[("If-Match", never.to_string())], None)
        .await;
    let mut gone = false;
    match stale_delete.status() {
        Some(s) if (200..300).contains(&s) => {
            unprotected = true;
            gone = true;
            add(
                "delete",
                Mark::Bad,
                "It deletes although the If-Match cannot match: a stale delete removes a newer \
                 version."
                    .into(),
                vec![stale_delete.line],
            )
        }
        Some(s @ (409 | 412)) => add(
            "delete",
            Mark::Good,
            format!("It refuses a delete whose If-Match cannot match ({s})."),
            vec![stale_delete.line],
        ),
        _ => add(
            "delete",
            Mark::Info,
            "Its answer to a delete whose If-Match cannot match is neither a refusal nor a \
             success."
                .into(),
            vec![stale_delete.line],
        ),
    }
    if !gone {
        let headers = p.current_if_match(&scratch).await;
        let del = p.ask("DELETE", &scratch, &headers, None).await;
        if !del.ok() {
            // Ours alone (nobody else knows the name): unconditionally, then.
            p.ask("DELETE", &scratch, &[], None).await;
        }
    }
    let after = p.get(&scratch).await;
    if matches!(after.status(), Some(404 | 410)) {
        wrote.push(format!("deleted {scratch} again"));
    } else {
        wrote.push(format!(
            "could NOT delete {scratch} ({}): remove it by hand",
            after.line
        ));
    }
    finish_with(
        url,
        Some(scratch),
        findings,
        wrote,
        stale_status,
        not_content_derived,
        (unprotected, if_match_known),
    )
}

fn finish(
    url: &str,
    scratch: Option<String>,
    findings: Vec<Finding>,
    wrote: Vec<String>,
    stale: Option<u16>,
    not_content_derived: bool,
) -> Report {
    finish_with(
        url,
        scratch,
        findings,
        wrote,
        stale,
        not_content_derived,
        (false, false),
    )
}

fn finish_with(
    url: &str,
    scratch: Option<String>,
    findings: Vec<Finding>,
    wrote: Vec<String>,
    stale_write_status: Option<u16>,
    etag_not_content_derived: bool,
    (unprotected, if_match_known): (bool, bool),
) -> Report {
    let bad = unprotected || findings.iter().any(|f| f.mark == Mark::Bad);
    let verdict = if bad {
        Verdict::Unprotected
    } else if !if_match_known {
        Verdict::Unknown
    } else if findings.iter().any(|f| f.mark == Mark::Caveat) {
        Verdict::Caveats
    } else {
        Verdict::Protected
    };
    let summary = match verdict {
        Verdict::Protected => "Protected: the server refuses stale writes, as RFC 9110 asks.",
        Verdict::Caveats => {
            "Protected, with caveats: the server refuses stale writes; see the caveats below."
        }
        Verdict::Unprotected => {
            "UNPROTECTED: the server accepts writes whose precondition is false, so a stale \
             write overwrites another writer's change. ifmatch compares the document just \
             before and just after each write to it, which catches every change made before \
             the write, but not one made in the same moment."
        }
        Verdict::Unknown => {
            "Unknown: whether the server refuses stale writes could not be checked. ifmatch \
             compares the document just before each write to it."
        }
    };
    Report {
        proposed_dialect: None,
        url: url.to_string(),
        scratch,
        verdict,
        summary: summary.to_string(),
        findings,
        wrote,
        stale_write_status,
        etag_not_content_derived,
    }
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
}
