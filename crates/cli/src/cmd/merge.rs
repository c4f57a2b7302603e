//! `ifmatch merge BASE MINE THEIRS`: the three-way JSON merge on files (also a git merge driver).
//! Exit codes follow git merge-file: 0 clean, 1 conflicts remain, 2 bad input.

use crate::args::PreferSide;
use crate::common::{pointer_words, print};
use crate::error::{CliError, Exit};
use ifmatch_engine::json::Doc;
use ifmatch_engine::merge::{self, Fill};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Runs `f` on every item on its own thread; the first failure ends the command (exit 2).
fn parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, String> + Sync,
) -> Result<Vec<R>, CliError> {
    let results: Vec<Result<R, String>> = std::thread::scope(|s| {
        let f = &f;
        let jobs: Vec<_> = items.iter().map(|i| s.spawn(move || f(i))).collect();
        jobs.into_iter()
            .map(|j| j.join().expect("worker thread"))
            .collect()
    });
    results
        .into_iter()
        .map(|r| r.map_err(|e| CliError::new(merge_exit::BAD_INPUT, e)))
        .collect()
}

/// Exit codes of `ifmatch merge` (git merge-file's convention).
pub mod merge_exit {
    pub const CLEAN: i32 = 0;
    pub const CONFLICTS: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
}

pub fn run(
    paths: [&PathBuf; 3],
    output: Option<&std::path::Path>,
    json: bool,
    prefer: Option<PreferSide>,
    id_keys: &[String],
    display: Option<&std::path::Path>,
) -> Exit {
    // Read, then parse, the three inputs concurrently.
    let texts = parallel(&paths, |p| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    })?;
    let named: Vec<(&String, &&PathBuf)> = texts.iter().zip(paths.iter()).collect();
    let parsed = parallel(&named, |(t, p)| {
        Doc::parse(t).map_err(|e| format!("{} is not valid JSON: {e}", p.display()))
    })?;
    let [b, m, t]: [Doc; 3] = parsed
        .try_into()
        .unwrap_or_else(|_| unreachable!("three documents"));
    let mut opts = merge::Options::default();
    if !id_keys.is_empty() {
        opts.id_keys = id_keys.to_vec();
    }
    let result = merge::three_way(&b, &m, &t, &opts);
    let fill = match (prefer, json, result.is_clean()) {
        (Some(PreferSide::Mine), _, _) => Fill::Mine,
        (Some(PreferSide::Theirs), _, _) => Fill::Theirs,
        (None, false, false) => Fill::Markers,
        _ => Fill::Base,
    };
    // Line endings follow MINE (git's %A, the file being merged into), whichever THEIRS uses
    // (the rest of the layout is theirs': indentation, final newline). Printed that way in the
    // first place: a replace pass over the merged text cost a tenth of a 10 MB merge.
    let want_crlf = crlf(&texts[1]);
    let style = ifmatch_engine::json::print::Style {
        crlf: want_crlf,
        ..result.style
    };
    let merged = result
        .render_in(fill, &style)
        .expect("a fill without resolutions always renders");
    let text = if json {
        result.report_json(&merged)
    } else {
        merged
    };
    if let Some(d) = display {
        let data = merge::display::display(&b, &m, &t, &result);
        let js = serde_json::to_string(&data).expect("display data serialises");
        std::fs::write(d, js).map_err(|e| {
            CliError::new(
                merge_exit::BAD_INPUT,
                format!("cannot write {}: {e}", d.display()),
            )
        })?;
    }
    // The JSON report and conflict markers may hold the other line end: only then a pass.
    let text = line_ends(text, want_crlf);
    match output {
        Some(p) => write_output(p, &text).map_err(|e| {
            CliError::new(
                merge_exit::BAD_INPUT,
                format!("cannot write {}: {e}", p.display()),
            )
        })?,
        None => print(&text).map_err(|e| CliError::new(merge_exit::BAD_INPUT, e.message))?,
    }
    let s = &result.stats;
    if !result.is_clean() {
        say!(
            "ifmatch: {} conflict(s) ({} change(s) from mine and {} from theirs merged cleanly){}",
            s.conflicts,
            s.from_mine,
            s.from_theirs,
            match prefer {
                Some(PreferSide::Mine) => ": resolved to mine",
                Some(PreferSide::Theirs) => ": resolved to theirs",
                None => "",
            }
        );
        for c in &result.conflicts {
            say!(
                "  {} {}",
                c.kind.as_str(),
                pointer_words(&c.pointer, "(whole document)")
            );
        }
    }
    if !result.positional_arrays.is_empty() {
        let why = if id_keys.is_empty() {
            "no identity key such as \"id\"".to_string()
        } else {
            // The key may be there and still be unusable: missing in one element, or the same
            // id twice in one version.
            let keys: Vec<String> = id_keys.iter().map(|k| pointer_words(k, "\"\"")).collect();
            format!(
                "--id-key {} is not present with a unique string or number in every element of \
                 all three versions",
                keys.join(", ")
            )
        };
        // Each array by its pointer, readable and unambiguous in a list ("" is the top level).
        let arrays: Vec<String> = result
            .positional_arrays
            .iter()
            .map(|p| pointer_words(p, "the top-level array"))
            .collect();
        say!(
            "ifmatch: warning: merged by position ({why}): {}",
            arrays.join(", ")
        );
    }
    Ok(if result.is_clean() || prefer.is_some() {
        merge_exit::CLEAN
    } else {
        merge_exit::CONFLICTS
    })
}

/// Whether `text` uses CRLF line ends, judged by its first line break (as editors do; a scan of
/// every line would cost a pass over a large file).
/// `text` with every line ending `\r\n` (`crlf`) or `\n`; no copy when it is so already.
fn line_ends(text: String, crlf: bool) -> String {
    let b = text.as_bytes();
    let mixed = if crlf {
        memchr::memchr_iter(b'\n', b).any(|i| i == 0 || b[i - 1] != b'\r')
    } else {
        memchr::memchr(b'\r', b).is_some()
    };
    match (mixed, crlf) {
        (false, _) => text,
        (true, true) => text.replace("\r\n", "\n").replace('\n', "\r\n"),
        (true, false) => text.replace("\r\n", "\n"),
    }
}

fn crlf(text: &str) -> bool {
    text.find('\n')
        .is_some_and(|i| i > 0 && text.as_bytes()[i - 1] == b'\r')
}

/// Writes the result to `path` the way an editor saves a file: through a symlink to its target,
/// keeping the file's permissions (a 0600 secrets file stays 0600), atomically (a crash never
/// leaves a half-written result; the output may be MINE itself); a FIFO or a device is written
/// into, never replaced by a regular file.
fn write_output(path: &Path, text: &str) -> std::io::Result<()> {
    let existing = std::fs::metadata(path).ok();
    if let Some(m) = &existing {
        if !m.is_file() {
            let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
            return f.write_all(text.as_bytes());
        }
    }
    let target = resolve_links(path);
    let tmp = target.with_extension(format!("ifmatch-{}.tmp", std::process::id()));
    let written = std::fs::write(&tmp, text).and_then(|_| {
        if let Some(m) = &existing {
            std::fs::set_permissions(&tmp, m.permissions())?;
        }
        std::fs::rename(&tmp, &target)
    });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// `path` with every symlink followed (a dangling one to where it points), so the link stays.
fn resolve_links(path: &Path) -> PathBuf {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&p) {
            Ok(next) => {
                p = match p.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                }
            }
            Err(_) => return p,
        }
    }
    p
}
