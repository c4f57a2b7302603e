//! `ifmatch put`: replaces a resource only if it is still the version named by `--if-match`
//! (or, without it, the version a fresh GET finds); `--force` writes unconditionally.
//!
//! A refusal is read back before it is reported: "the resource changed" only when it did. A
//! server whose ETag is weak for a moment after each change (Apache's default `FileETag`) is
//! waited out — the write goes again with the strong tag for the same version, and the
//! validator printed after a write is a strong one a chained `put --if-match` can use.

use crate::common::{precondition_and_version, print_saved, read_json_input, report};
use crate::error::Exit;
use crate::guard::Guard;
use ifmatch_engine::outcome::exit;
use ifmatch_engine::outcome::{Received, ValidatorSource};
use ifmatch_engine::session;
use ifmatch_engine::{Client, EntityTag, Outcome, Precondition};
use std::path::PathBuf;

pub async fn run(
    client: &Client,
    url: &str,
    file: &Option<PathBuf>,
    if_match: &Option<String>,
    force: bool,
) -> Exit {
    let body = read_json_input(file)?;
    let (pre, read) = match precondition_and_version(client, url, if_match, force).await? {
        Ok(p) => p,
        Err(out) => return Ok(report(&out)),
    };
    let sent = match &pre {
        Precondition::IfMatch(t) => Some(t.clone()),
        _ => None,
    };
    // A server not known to refuse stale writes: compare first (the GET that supplied a
    // validator without --if-match was that comparison already).
    let guard = Guard::for_url(url, client);
    let before = match (&sent, if_match) {
        (Some(t), Some(_)) => match guard.still_at(client, url, t).await {
            Ok(b) => b,
            Err(code) => return Ok(code),
        },
        // Without --if-match the GET that gave the validator read the version written over.
        _ => read,
    };
    let mut out = client.put(url, &body, pre).await;
    if let (Outcome::Conflict { status, .. }, Some(t)) = (&out, &sent) {
        match refused_unchanged(client, url, t).await {
            Unchanged::No => {}
            Unchanged::StrongNow(strong) => {
                say!(
                    "ifmatch: the server refused the weak validator {} (RFC 9110: If-Match needs a \
                     strong one); once it handed out the strong {} for the same version, the write \
                     was sent again with it.",
                    t.raw, strong.raw
                );
                out = client.put(url, &body, Precondition::IfMatch(strong)).await;
            }
            Unchanged::Yes => {
                let why = if t.weak {
                    "It is a weak ETag, which RFC 9110 has servers refuse in If-Match, and the \
                     server gave no strong one within three seconds."
                } else {
                    "Its precondition check is broken, so it cannot be written safely with \
                     preconditions (--force writes unconditionally, at the risk of overwriting a \
                     concurrent change)."
                };
                say!(
                    "ifmatch: refused ({status}) although the server still hands out {} for this \
                     resource: nothing changed since that version, and nothing was overwritten. \
                     {why}",
                    t.raw
                );
                return Ok(exit::CONFLICT);
            }
        }
    }
    let out = strong_after_write(client, url, &body, out).await;
    // Judged against the version before the write, when it was read: the server's own
    // bookkeeping (CouchDB's new `_rev`, a stamp) is not another writer, and the version before
    // unchanged is a write acknowledged and not applied.
    let out = crate::guard::judged(out, &body, before.as_deref());
    if out.is_success() && !force {
        if let Some(code) = guard.read_back(client, url, &body, before.as_deref()).await {
            return Ok(code);
        }
        // The watch, where the server is not known to be atomic and the version before the
        // write is known (read just before it): a concurrent stale write let through is found.
        if let (Some(wait), Some(before)) = (guard.decision().watch, before.as_deref()) {
            let opts = ifmatch_engine::merge::Options::default();
            if let Err(code) =
                crate::watch::confirm(client, url, before, &body, wait.as_secs_f64(), &opts).await
            {
                return Ok(code);
            }
        }
        guard.warn();
    }
    print_saved(&out)?;
    Ok(report(&out))
}

enum Unchanged {
    /// The resource is not at that version any more (or could not be read): a real conflict.
    No,
    /// It is, and the server now gives a strong tag for it.
    StrongNow(EntityTag),
    /// It is, with the same tag: the server refuses the validator it hands out.
    Yes,
}

/// After a refusal: does the server still hand out the tag that was sent?
async fn refused_unchanged(client: &Client, url: &str, sent: &EntityTag) -> Unchanged {
    let Outcome::Fetched { doc, .. } = client.get_fresh(url).await else {
        return Unchanged::No;
    };
    let now = doc.validator.as_ref().and_then(|v| v.etag());
    if now.is_none_or(|n| n.raw != sent.raw) {
        return Unchanged::No;
    }
    if !sent.weak {
        return Unchanged::Yes;
    }
    // Weak for a moment: the same version (weakly equal tag) with a strong tag, soon.
    let strong = session::strong_validator(client, url, |d| {
        d.validator
            .as_ref()
            .and_then(|x| x.etag())
            .is_some_and(|n| n.weak_eq(sent))
    })
    .await;
    match strong
        .and_then(|d| d.validator)
        .and_then(|v| v.etag().cloned())
    {
        Some(t) => Unchanged::StrongNow(t),
        None => Unchanged::Yes,
    }
}

/// A write whose answer (or the read after it) carries a weak tag: wait for the strong one for
/// what was written, so the validator printed can be used by the next `put --if-match`.
async fn strong_after_write(client: &Client, url: &str, body: &str, out: Outcome) -> Outcome {
    let Outcome::Saved {
        status,
        doc: Some(d),
        ..
    } = &out
    else {
        return out;
    };
    if !d
        .validator
        .as_ref()
        .and_then(|v| v.etag())
        .is_some_and(|t| t.weak)
    {
        return out;
    }
    let written = |r: &Received| ifmatch_engine::json::same_text(&r.text, body);
    match session::strong_validator(client, url, written).await {
        // What the server holds now, read with its strong tag (and that read's own warnings).
        Some(doc) => Outcome::Saved {
            status: *status,
            doc: Some(doc),
            validator_from: ValidatorSource::Refetch,
        },
        None => out,
    }
}
