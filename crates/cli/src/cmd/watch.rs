//! `ifmatch watch URL`: prints each new version of a resource as the server changes it, watched
//! the best way the server allows (`engine::live`: a change stream, else conditional polling),
//! until interrupted or, with `--until-change`, until the first change. Only ever reads.
//!
//! Stdout: each change as the document; with `--json` one line per version,
//! `{"version", "via", "bytes", "document"}`, the first the current version (`"via": "initial"`).
//! Stderr: how it watches, and what the user should know (a stream that dropped, a server whose
//! polls cost the whole document), one line each; at the end what it cost against plain polling.

use crate::common::{print, report};
use crate::error::{CliError, Exit};
use ifmatch_engine::json::print::{compact, pretty};
use ifmatch_engine::live::{self, Arrival, Control, LiveEvent, LiveOptions, Prefer, Via};
use ifmatch_engine::outcome::exit;
use ifmatch_engine::Client;
use std::time::Duration;

/// The default polling interval, in seconds, and how far it backs off while nothing changes.
const DEFAULT_SECS: f64 = 10.0;
const DEFAULT_MAX_SECS: f64 = 60.0;

/// `--interval SECS`: a number of seconds from 0.05 to 86400 (a day).
pub fn checked_interval(text: &str) -> Result<f64, CliError> {
    let secs: f64 = text.trim().parse().map_err(|_| {
        CliError::usage(format!(
            "--interval takes a number of seconds (from 0.05 to 86400), not {text:?}"
        ))
    })?;
    if secs.is_finite() && (0.05..=86400.0).contains(&secs) {
        Ok(secs)
    } else {
        Err(CliError::usage(format!(
            "--interval takes a number of seconds from 0.05 to 86400, not {text}"
        )))
    }
}

/// The options the flags give: an explicit interval is kept as it is (scripts asked for it);
/// the default one backs off from 10 s to 60 s while nothing changes.
pub fn options(interval: Option<&str>, feed: Prefer) -> Result<LiveOptions, CliError> {
    let (base, max) = match interval {
        Some(t) => {
            let s = checked_interval(t)?;
            (s, s)
        }
        None => (DEFAULT_SECS, DEFAULT_MAX_SECS),
    };
    Ok(LiveOptions {
        interval: Duration::from_secs_f64(base),
        max_interval: Duration::from_secs_f64(max),
        prefer: feed,
        ..LiveOptions::default()
    })
}

pub async fn run(
    client: &Client,
    url: &str,
    json: bool,
    until_change: bool,
    opts: LiveOptions,
) -> Exit {
    let ctl = Control::default();
    let mut failed: Option<CliError> = None;
    let mut emit = |e: LiveEvent| -> bool {
        match e {
            LiveEvent::Arrived(a) => {
                let first = a.via == Via::Initial;
                let line = if json {
                    Some(json_line(&a))
                } else if first {
                    None
                } else {
                    Some(pretty(&a.document))
                };
                if let Some(l) = line {
                    if let Err(e) = print(&l) {
                        failed = Some(e);
                        return false;
                    }
                }
                !until_change || first
            }
            LiveEvent::Notice(n) => {
                say!("ifmatch: {url}: {}", n.words);
                true
            }
            // Not a change: the same document under a new validator.
            LiveEvent::Revalidated(_) => true,
            LiveEvent::Ended(_) => false,
        }
    };
    let watching = live::watch(client, url, &opts, &ctl, &mut emit);
    let result = tokio::select! {
        r = watching => Some(r),
        _ = interrupted() => None,
    };
    if let Some(e) = failed {
        return Err(e);
    }
    let s = ctl.stats();
    if s.requests > 0 {
        say!(
            "ifmatch: watched {:.0} s: {} requests, {} answered 304, {} body bytes received; plain \
             polling every {} s would have received about {} bytes",
            s.seconds,
            s.requests,
            s.not_modified,
            s.bytes,
            opts.interval.as_secs_f64(),
            s.plain_polling_bytes
        );
    }
    match result {
        // The first read failed: its outcome's message and exit code, as `get` has them.
        Some(Err(out)) => Ok(report(&out)),
        Some(Ok(())) | None => Ok(exit::OK),
    }
}

/// One line of `--json`: the version, how it came, the bytes it cost, the document (compact, its
/// numbers and strings as the server spelled them).
fn json_line(a: &Arrival) -> String {
    let version = if crate::holds_secret(&a.version) {
        "(withheld: it holds your credential)".to_string()
    } else {
        a.version.clone()
    };
    let via = match a.via {
        Via::Initial => "initial",
        Via::Stream => "stream",
        // (`ifmatch watch` writes nothing: its versions are never of this kind.)
        Via::Poll | Via::Written => "poll",
    };
    format!(
        "{{\"version\": {}, \"via\": \"{via}\", \"bytes\": {}, \"document\": {}}}\n",
        serde_json::Value::String(version),
        a.bytes,
        compact(&a.document)
    )
}

/// SIGINT (or SIGTERM): the watch ends cleanly, exit 0.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
