//! The overwrite watch after a write the server acknowledged: a short while later, does the
//! server still hold the change? On a server not known to make its check atomic with its write
//! (no profile, found unprotected, weak or time-derived validators) this runs by default: a
//! concurrent writer whose stale write the server let through is found here, and said to the user
//! who made the write, instead of a silent "saved".

use crate::error::CliError;
use ifmatch_engine::merge::Options;
use ifmatch_engine::outcome::exit;
use ifmatch_engine::{Client, Outcome};

/// The watch's wait as given by `--watch SECS`: a number of seconds from 0 to 3600.
pub fn checked_secs(secs: f64) -> Result<f64, CliError> {
    if secs.is_finite() && (0.0..=3600.0).contains(&secs) {
        Ok(secs)
    } else {
        Err(CliError::usage(format!(
            "--watch takes a number of seconds from 0 to 3600, not {secs}"
        )))
    }
}

/// Waits `secs`, reads `url`, and says what became of the change from `before` to `written`.
/// Ok when the server still holds it; otherwise the exit code, after one sentence on stderr:
/// 3 when another client wrote over it or deleted the resource, 10 when the read failed.
pub async fn confirm(
    client: &Client,
    url: &str,
    before: &str,
    written: &str,
    secs: f64,
    opts: &Options,
) -> Result<(), i32> {
    tokio::time::sleep(std::time::Duration::from_secs_f64(secs)).await;
    match client.get_fresh(url).await {
        Outcome::Fetched { doc, .. } => {
            // Compared with what was written (not the write's answer, which may be a status
            // object), the way the merge compares: ids, values, not indexes and spellings.
            let lost = ifmatch_engine::overwrite::overwritten(before, written, &doc.text, opts);
            if lost.is_empty() {
                return Ok(());
            }
            let at: Vec<&str> = lost
                .iter()
                .map(|p| {
                    if p.is_empty() {
                        "the whole document"
                    } else {
                        p
                    }
                })
                .collect();
            say!(
                "ifmatch: saved, but {secs} s later the server no longer holds your change at \
                 {}: another client wrote over it. Run the same save again without --if-match: \
                 it merges your change into what the server holds now.",
                at.join(", ")
            );
            Err(exit::CONFLICT)
        }
        Outcome::NotFound | Outcome::Gone => {
            say!(
                "ifmatch: saved, but {secs} s later the resource is gone: another client deleted \
                 it, and your change with it. Your input is unchanged; create the resource again \
                 if it should exist."
            );
            Err(exit::CONFLICT)
        }
        failed => {
            say!(
                "ifmatch: written, but the watch could not read the resource {secs} s later \
                 ({}): whether the server still holds your change is not confirmed. Read it \
                 (ifmatch get) to see.",
                failed.summary()
            );
            Err(exit::UNCONFIRMED)
        }
    }
}
