//! `ifmatch check`: does this server really refuse stale writes? Probes it (read-only first,
//! then on a scratch resource beside URL), prints each finding with its evidence, and remembers
//! the verdict for the write commands (`servers.json` in the state folder), with the verdict of
//! each kind of write (PUT, each PATCH type, DELETE, create), which is what a write of that kind
//! consults. A check that reached no verdict (its resource unreadable, no scratch resource) is
//! not stored, and leaves the verdict stored before as it was.

use crate::common::print;
use crate::error::Exit;
use ifmatch_engine::check::{self, Verdict};
use ifmatch_engine::dialect::VersionIn;
use ifmatch_engine::Client;
use ifmatch_store::servers::{self, ServerProfile, ServerProfiles};

/// Exit code: the server accepts stale writes.
pub const UNPROTECTED: i32 = 8;
/// Exit code: whether it refuses them could not be checked.
pub const UNKNOWN: i32 = 9;

pub async fn run(client: &Client, url: &str, json: bool) -> Exit {
    // The probes are plain HTTP preconditions on a scratch resource, or for a version in the
    // query the dialect's own writes: they say nothing about an API whose version travels in
    // the body (a scratch document there is the API's own shape), or that keeps none.
    let d = client.dialect();
    let query_version = matches!(d.version, VersionIn::Query { .. });
    if !d.versioned || !(d.header_version() || query_version) {
        let then = if d.versioned {
            "its version travels in the body: writes carry it where the API expects it, and \
             where no verdict is stored for this folder each is also compared with the server \
             just before it is sent and read back just after"
        } else {
            "the API keeps no version: every write is compared with the server just before it \
             is sent and read back just after"
        };
        say!(
            "ifmatch: the server check probes If-Match and If-None-Match, which the {} dialect \
             does not use, so it was not run and nothing was stored; {then}.",
            d.name
        );
        return Ok(UNKNOWN);
    }
    let report = if query_version {
        // Consul's ?cas=, Elasticsearch's ?if_seq_no=: asked through the dialect.
        check::check_query_dialect(client, url).await
    } else {
        check::check(client, url).await
    };
    if json {
        print(&format!(
            "{}\n",
            serde_json::to_string_pretty(&report).expect("a report serialises")
        ))?;
    } else {
        print(&report.text())?;
    }
    let mut profiles = ServerProfiles::open(servers::default_dir().as_deref());
    if !report.conclusive() {
        let kept = profiles
            .lookup(url)
            .map(|p| {
                format!(
                    "the verdict stored before ({}, from {}) stays",
                    p.verdict.words(),
                    p.checked_url
                )
            })
            .unwrap_or_else(|| "writes here stay \"not checked\"".into());
        say!("ifmatch: the check reached no verdict, so none was stored: {kept}");
    } else if let Err(e) = profiles.remember(url, ServerProfile::from_report(&report)) {
        say!("ifmatch: the verdict could not be stored ({e}); later writes will not know it");
    }
    Ok(match report.verdict {
        Verdict::Protected | Verdict::Caveats => 0,
        Verdict::Unprotected => UNPROTECTED,
        Verdict::Unknown => UNKNOWN,
    })
}
