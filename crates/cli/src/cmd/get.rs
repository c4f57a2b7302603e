//! `ifmatch get`: the body exactly as received; `-i` puts the validator first, `--etag` prints
//! only the validator, `--etag-file` writes it to a file (body and validator from one request).

use crate::common::{print, report};
use crate::error::{CliError, Exit};
use ifmatch_engine::outcome::exit;
use ifmatch_engine::{Client, Outcome, Validator};
use std::path::PathBuf;

pub async fn run(
    client: &Client,
    url: &str,
    include: bool,
    etag: bool,
    etag_file: &Option<PathBuf>,
) -> Exit {
    let out = client.get_fresh(url).await;
    if let Outcome::Fetched { doc, .. } = &out {
        let validator = doc.validator.as_ref();
        // A validator that holds the connection's credential (a server that builds its ETag
        // from the request) is never printed or written to a file, in any spelling.
        if let Some(v) = validator.filter(|_| include || etag || etag_file.is_some()) {
            if client.auth().redact(&v.text()) != v.text() {
                return Err(CliError::new(
                    exit::HTTP_ERROR,
                    "the server's validator for this resource holds your credential (it was \
                     built from the request), so ifmatch will not print it or write it to a file. \
                     Report it to the API's owners; `ifmatch save` and `put` without --if-match \
                     still work, reading the validator themselves."
                        .to_string(),
                ));
            }
        }
        if let Some(f) = etag_file {
            let text = validator.map(|v| v.text()).unwrap_or_default();
            std::fs::write(f, text + "\n")
                .map_err(|e| CliError::local(format!("cannot write {}: {e}", f.display())))?;
        }
        if etag {
            match validator.and_then(|v| v.etag()) {
                Some(t) => print(&format!("{}\n", t.raw))?,
                None => match validator {
                    Some(v) => print(&format!("{}\n", v.display()))?,
                    // The warnings name what the server sent and why it cannot be used.
                    None => return Err(CliError::new(exit::HTTP_ERROR, doc.warnings.join(" "))),
                },
            }
        } else {
            let mut head = String::new();
            if include {
                match validator {
                    Some(Validator::Etag { tag }) => head = format!("ETag: {}\n", tag.raw),
                    Some(Validator::LastModified { raw }) => {
                        head = format!("Last-Modified: {raw}\n")
                    }
                    None => head.push_str("ETag: (none)\n"),
                }
                head.push('\n');
            }
            print(&(head + &doc.text))?;
        }
    }
    Ok(report(&out))
}
