//! Concurrency torture: W writer threads, each running the built `ifmatch` CLI as a script user
//! would, S times, against one shared document on a loopback server; then every save is
//! classified against the document the server holds at the end.
//!
//! Each writer adds only its own keys (`w{i}-{k}`), so the changes never collide: a correct
//! system keeps every key whose save was acknowledged, or tells that save's writer it was lost.
//! A save is one `ifmatch save` run with `--trail`; it was *acknowledged* when its trail holds a
//! write (PUT / PATCH / POST) answered 2xx. At the end each save run is one of:
//! - acknowledged and kept (its key is in the final document);
//! - acknowledged, lost, and reported to its writer (it exited non-zero: 3 "wrote over" /
//!   "replaced", 10 "not confirmed", 5 / 7);
//! - lost and unreported: it exited 0 ("saved") and its key is missing. Must never happen.
//!
//! Also counted: runs that said "nothing was overwritten" although one of their writes was
//! acknowledged (must never happen either).
//!
//! The writer's loop per key: `ifmatch get URL --etag-file T > BASE`, add the key, `ifmatch save
//! URL MINE --base BASE --if-match TAG [extra args]`; on exit 3 read again and retry the key (at
//! most `attempts` runs per key); on any other exit go on to the next key. Every child process
//! is killed at the run's deadline; `ifmatch check URL` runs once before the writers start, with
//! the state folder (`IFMATCH_STATE_DIR`) all writers share.

use crate::apache::Apache;
use crate::kinto::Kinto;
use crate::nginx::Nginx;
use crate::pouchdb::PouchDb;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server kinds the torture runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `ifmatch serve-demo` (atomic compare-and-write, strong ETags).
    Demo,
    /// Apache httpd mod_dav with `FileETag Digest` (strong ETags; If-Match not atomic with the
    /// write; an exclusive WebDAV lock on offer).
    ApacheDigest,
    /// Apache httpd mod_dav with its default `FileETag` (weak ETags for about a second after a
    /// change).
    ApacheDefault,
    /// nginx dav (accepts If-Match on writes and ignores it).
    Nginx,
    /// pouchdb-server (the CouchDB API; `--dialect couchdb`: the version is the body's `_rev`, a
    /// stale write is answered 409).
    PouchDb,
    /// Kinto (`--dialect kinto`: the record inside its envelope, If-Match on its
    /// `last_modified` stamp, basic auth).
    Kinto,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Demo,
        Kind::ApacheDigest,
        Kind::ApacheDefault,
        Kind::Nginx,
        Kind::PouchDb,
        Kind::Kinto,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Demo => "demo",
            Kind::ApacheDigest => "apache-digest",
            Kind::ApacheDefault => "apache-default",
            Kind::Nginx => "nginx",
            Kind::PouchDb => "pouchdb",
            Kind::Kinto => "kinto",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s.trim())
    }

    /// Starts one server of this kind (stopped when the returned value is dropped).
    pub fn start(self, bin: &Path) -> Server {
        match self {
            Kind::Demo => Server::Demo(Demo::start(bin)),
            Kind::ApacheDigest => Server::Apache(Apache::start_with(&[], "Digest")),
            Kind::ApacheDefault => Server::Apache(Apache::start_with(&[], "MTime Size")),
            Kind::Nginx => Server::Nginx(Nginx::start(&[])),
            Kind::PouchDb => Server::PouchDb(PouchDb::start("torture")),
            Kind::Kinto => Server::Kinto(Kinto::start()),
        }
    }
}

/// A running server of one kind.
pub enum Server {
    Demo(Demo),
    Apache(Apache),
    Nginx(Nginx),
    PouchDb(PouchDb),
    Kinto(Kinto),
}

impl Server {
    pub fn base_url(&self) -> &str {
        match self {
            Server::Demo(d) => &d.url,
            Server::Apache(a) => &a.url,
            Server::Nginx(n) => &n.url,
            Server::PouchDb(p) => &p.url,
            Server::Kinto(k) => &k.url,
        }
    }

    /// What every `ifmatch` run against this server has in its environment: the API's dialect
    /// and credentials, as a script user would export them.
    pub fn cli_env(&self) -> Vec<(String, String)> {
        let pairs: &[(&str, &str)] = match self {
            Server::PouchDb(_) => &[("IFMATCH_DIALECT", "couchdb")],
            Server::Kinto(_) => &[
                ("IFMATCH_DIALECT", "kinto"),
                ("IFMATCH_USER", crate::kinto::USER),
                ("IFMATCH_PASSWORD", crate::kinto::PASSWORD),
            ],
            _ => &[],
        };
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Creates the document `name` (`{}`) with `ifmatch create` (on the APIs with a dialect, with
    /// the API's own create request) and returns its URL.
    pub fn new_document(&self, bin: &Path, name: &str) -> String {
        match self {
            Server::PouchDb(p) => {
                let path = format!("/torture/{name}");
                let (status, body) = p.http("PUT", &path, Some("{}"));
                assert_eq!(status, 201, "creating {path}: {body}");
                return format!("{}{path}", p.url);
            }
            Server::Kinto(k) => {
                let path = format!("/buckets/b/collections/c/records/{name}");
                let (status, body) = k.http("PUT", &path, Some("{\"data\": {}}"));
                assert!(
                    status == 201 || status == 200,
                    "creating {path}: {status} {body}"
                );
                return format!("{}{path}", k.url);
            }
            _ => {}
        }
        let ext = if matches!(self, Server::Demo(_)) {
            ""
        } else {
            ".json"
        };
        let url = format!("{}/{name}{ext}", self.base_url());
        let state = scratch_dir(&format!("create-{name}"));
        let out = cli(bin, &state)
            .args(["create", &url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().expect("piped").write_all(b"{}\n")?;
                c.wait_with_output()
            })
            .expect("ifmatch create runs");
        let _ = std::fs::remove_dir_all(&state);
        assert_eq!(
            out.status.code(),
            Some(0),
            "creating {url}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        url
    }
}

/// `ifmatch serve-demo` run from a given binary (the bench runs the release build), stopped when
/// dropped.
pub struct Demo {
    pub url: String,
    child: Child,
}

impl Demo {
    pub fn start(bin: &Path) -> Demo {
        let mut child = Command::new(bin)
            .arg("serve-demo")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ifmatch serve-demo starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
            .read_line(&mut line)
            .expect("serve-demo prints its URL");
        let url = line.trim().to_string();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "serve-demo printed {url:?}"
        );
        Demo { url, child }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        crate::stop(&mut self.child);
    }
}

/// The `ifmatch` to torture: `IFMATCH_TORTURE_BIN` when set (the bench's release build), else
/// this build's.
pub fn bin() -> PathBuf {
    match std::env::var_os("IFMATCH_TORTURE_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => crate::ifmatch_bin(),
    }
}

/// A positive number from the environment, or `default`.
pub fn env_number(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .unwrap_or_else(|| panic!("{name}={v:?} is not a positive number")),
        Err(_) => default,
    }
}

/// One torture run's settings.
#[derive(Clone, Debug)]
pub struct Torture {
    pub bin: PathBuf,
    pub url: String,
    pub writers: usize,
    pub saves: usize,
    /// Extra arguments for every `ifmatch save` (e.g. `--watch 0`).
    pub save_args: Vec<String>,
    /// At most this many `save` runs per key (retries after exit 3).
    pub attempts: usize,
    /// The whole run's hard deadline: children still running then are killed.
    pub deadline: Duration,
    /// Environment of every `ifmatch` run (the server's dialect and credentials:
    /// `Server::cli_env`).
    pub env: Vec<(String, String)>,
}

/// One `ifmatch save` run.
#[derive(Clone, Debug)]
pub struct SaveRun {
    pub writer: usize,
    pub key: String,
    /// None: killed at the deadline.
    pub exit: Option<i32>,
    /// A write of this run was answered 2xx (from its trail).
    pub acknowledged: bool,
    /// The server granted this run a WebDAV write lock (a LOCK answered 2xx in its trail).
    pub locked: bool,
    /// stderr then stdout.
    pub output: String,
    /// The run's request trail (JSON), shown for a run behind a must-be-zero figure.
    pub trail: String,
    pub elapsed: Duration,
}

/// The figures of one run.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// `ifmatch save` runs (retries included) that finished.
    pub saves: usize,
    /// Runs killed at the deadline.
    pub killed: usize,
    pub acknowledged: usize,
    /// Runs the server granted a write lock.
    pub locked: usize,
    pub acknowledged_kept: usize,
    pub lost_reported: usize,
    /// Exit 0 and the key is not in the final document. Must be 0.
    pub lost_unreported: usize,
    /// Said "nothing was overwritten" after an acknowledged write. Must be 0.
    pub nothing_overwritten_after_ack: usize,
    /// Keys (of writers × saves) in the final document.
    pub keys_kept: usize,
    pub median_save: Duration,
    /// Exit code → runs.
    pub exits: BTreeMap<String, usize>,
}

/// What a run saw.
pub struct Outcome {
    /// The first line `ifmatch check` printed, and its exit code.
    pub check: String,
    pub runs: Vec<SaveRun>,
    pub final_doc: serde_json::Value,
    pub tally: Tally,
    pub elapsed: Duration,
}

impl Outcome {
    /// The runs behind the two must-be-zero figures, for a failure message.
    pub fn offenders(&self) -> String {
        let mut s = String::new();
        for r in &self.runs {
            let lost = (r.exit == Some(0)
                || (r.acknowledged && std::env::var_os("IFMATCH_TORTURE_SHOW_LOST").is_some()))
                && self.final_doc.get(&r.key).is_none();
            let nothing = r.acknowledged && says_nothing_overwritten(&r.output);
            if lost || nothing {
                s.push_str(&format!(
                    "\n  {} (exit {:?}, acknowledged {}, {}): {}",
                    r.key,
                    r.exit,
                    r.acknowledged,
                    if lost {
                        "LOST, said saved"
                    } else {
                        "said nothing was overwritten"
                    },
                    r.output.trim().chars().take(400).collect::<String>()
                ));
                s.push_str(&format!("\n    its requests: {}", trail_lines(&r.trail)));
            }
        }
        s
    }

    /// One line of figures.
    pub fn summary(&self) -> String {
        let t = &self.tally;
        format!(
            "check: {}; saves {} (killed {}, under a lock {}), acknowledged {}, kept {}, lost-and-reported {}, \
             lost-and-unreported {}, nothing-overwritten-after-ack {}, keys kept {}, median save \
             {} ms, exits {:?}, run {:.1} s",
            self.check,
            t.saves,
            t.killed,
            t.locked,
            t.acknowledged,
            t.acknowledged_kept,
            t.lost_reported,
            t.lost_unreported,
            t.nothing_overwritten_after_ack,
            t.keys_kept,
            t.median_save.as_millis(),
            t.exits,
            self.elapsed.as_secs_f64()
        )
    }
}

fn says_nothing_overwritten(output: &str) -> bool {
    output.to_lowercase().contains("nothing was overwritten")
}

/// A fresh temporary folder.
fn scratch_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ifmatch-torture-{}-{}-{what}",
        std::process::id(),
        crate::unique()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// `ifmatch` with its profiles in `state` and no credentials from the environment.
fn cli(bin: &Path, state: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env("IFMATCH_STATE_DIR", state)
        .env_remove("IFMATCH_TOKEN")
        .env_remove("IFMATCH_USER")
        .env_remove("IFMATCH_PASSWORD")
        .env_remove("IFMATCH_AUTH_HEADER")
        .env_remove("IFMATCH_AUTH_VALUE")
        .env_remove("IFMATCH_DIALECT");
    c
}

/// Runs `cmd` with stdout and stderr into files, killing it at `deadline`: its exit code (None
/// when killed) and how long it ran.
fn run_until(
    mut cmd: Command,
    out: &Path,
    err: &Path,
    deadline: Instant,
) -> (Option<i32>, Duration) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(out).expect("an output file"))
        .stderr(std::fs::File::create(err).expect("an output file"))
        .spawn()
        .expect("ifmatch runs");
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (status.code(), start.elapsed()),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return (None, start.elapsed());
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => panic!("waiting for ifmatch: {e}"),
        }
    }
}

/// A trail's requests, one short line each (method, preconditions, status, validator).
fn trail_lines(trail: &str) -> String {
    let Ok(serde_json::Value::Array(entries)) = serde_json::from_str(trail) else {
        return "(no trail)".into();
    };
    entries
        .iter()
        .map(|e| {
            format!(
                "\n      {} {} {} → {} {}",
                e["at"].as_str().unwrap_or(""),
                e["method"].as_str().unwrap_or("?"),
                e["preconditions"],
                e["status"],
                e["validator"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Whether a trail (the JSON `--trail` wrote) holds a write answered 2xx.
pub fn trail_acknowledged(trail: &str) -> bool {
    trail_has(trail, &["PUT", "PATCH", "POST"])
}

/// Whether a trail holds one of `methods` answered 2xx.
fn trail_has(trail: &str, methods: &[&str]) -> bool {
    let Ok(serde_json::Value::Array(entries)) = serde_json::from_str(trail) else {
        return false;
    };
    entries.iter().any(|e| {
        let method = e["method"].as_str().is_some_and(|m| methods.contains(&m));
        let ok = e["status"]
            .as_u64()
            .is_some_and(|s| (200..300).contains(&s));
        method && ok
    })
}

impl Torture {
    /// `ifmatch` with the shared state folder and this server's environment.
    fn cli(&self, state: &Path) -> Command {
        let mut c = cli(&self.bin, state);
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Runs the writers and classifies every save.
    pub fn run(&self) -> Outcome {
        let started = Instant::now();
        let deadline = started + self.deadline;
        let work = scratch_dir("run");
        let state = work.join("state");
        std::fs::create_dir_all(&state).unwrap();
        // As a careful user would: check the server once, so a profile exists.
        let (code, _) = run_until(
            {
                let mut c = self.cli(&state);
                c.args(["--timeout", "20", "check", &self.url]);
                c
            },
            &work.join("check.out"),
            &work.join("check.err"),
            deadline,
        );
        // Its verdict: the first line that is not the URL, up to its colon or parenthesis
        // ("Protected", "UNPROTECTED for create", …).
        let report = std::fs::read_to_string(work.join("check.out")).unwrap_or_default();
        let verdict = report
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("http"))
            .map(|l| {
                let l = l.split(':').next().unwrap_or(l);
                l.split(" (").next().unwrap_or(l)
            })
            .unwrap_or("(no report)");
        let check = format!(
            "{verdict} (exit {})",
            code.map_or("killed".into(), |c| c.to_string())
        );
        let handles: Vec<_> = (0..self.writers)
            .map(|i| {
                let me = self.clone();
                let dir = work.join(format!("w{i}"));
                let state = state.clone();
                std::fs::create_dir_all(&dir).unwrap();
                std::thread::spawn(move || me.writer(i, &dir, &state, deadline))
            })
            .collect();
        let mut runs = Vec::new();
        for h in handles {
            runs.extend(h.join().expect("a writer thread"));
        }
        // The document as the server holds it now.
        let (code, _) = run_until(
            {
                let mut c = self.cli(&state);
                c.args(["--timeout", "20", "get", &self.url]);
                c
            },
            &work.join("final.json"),
            &work.join("final.err"),
            Instant::now() + Duration::from_secs(30),
        );
        let final_text = std::fs::read_to_string(work.join("final.json")).unwrap_or_default();
        assert_eq!(
            code,
            Some(0),
            "the final read of {} failed: {}",
            self.url,
            std::fs::read_to_string(work.join("final.err")).unwrap_or_default()
        );
        let final_doc: serde_json::Value = serde_json::from_str(&final_text)
            .unwrap_or_else(|e| panic!("the final document is not JSON ({e}): {final_text}"));
        let _ = std::fs::remove_dir_all(&work);
        if let Some(dump) = std::env::var_os("IFMATCH_TORTURE_DUMP") {
            // Every run's key, exit and trail, and the final document, for a closer look.
            let all: Vec<serde_json::Value> = runs
                .iter()
                .map(|r| {
                    serde_json::json!({"key": r.key, "exit": r.exit, "trail": r.trail,
                        "output": r.output})
                })
                .collect();
            let _ = std::fs::write(
                dump,
                serde_json::json!({"runs": all, "final": final_doc}).to_string(),
            );
        }
        let tally = self.tally(&runs, &final_doc);
        Outcome {
            check,
            runs,
            final_doc,
            tally,
            elapsed: started.elapsed(),
        }
    }

    fn tally(&self, runs: &[SaveRun], doc: &serde_json::Value) -> Tally {
        let mut t = Tally::default();
        let mut times: Vec<Duration> = Vec::new();
        for r in runs {
            let Some(code) = r.exit else {
                t.killed += 1;
                continue;
            };
            t.saves += 1;
            times.push(r.elapsed);
            *t.exits.entry(code.to_string()).or_default() += 1;
            t.locked += usize::from(r.locked);
            let kept = doc.get(&r.key).is_some();
            if code == 0 && !kept {
                t.lost_unreported += 1;
            }
            if r.acknowledged {
                t.acknowledged += 1;
                if kept {
                    t.acknowledged_kept += 1;
                } else if code != 0 {
                    t.lost_reported += 1;
                }
                if says_nothing_overwritten(&r.output) {
                    t.nothing_overwritten_after_ack += 1;
                }
            }
        }
        times.sort();
        t.median_save = times.get(times.len() / 2).copied().unwrap_or_default();
        t.keys_kept = (0..self.writers)
            .flat_map(|i| (0..self.saves).map(move |k| format!("w{i}-{k}")))
            .filter(|k| doc.get(k).is_some())
            .count();
        t
    }

    /// One writer: `saves` keys, each read-add-save, retried after exit 3.
    fn writer(&self, i: usize, dir: &Path, state: &Path, deadline: Instant) -> Vec<SaveRun> {
        let base = dir.join("base.json");
        let tag = dir.join("tag");
        let mine = dir.join("mine.json");
        let trail = dir.join("trail.json");
        let (out, err) = (dir.join("out"), dir.join("err"));
        let mut runs = Vec::new();
        'keys: for k in 0..self.saves {
            let key = format!("w{i}-{k}");
            let mut attempts = 0;
            while attempts < self.attempts {
                if Instant::now() >= deadline {
                    break 'keys;
                }
                // Read: body into BASE, validator into TAG, from one request.
                let _ = std::fs::remove_file(&tag);
                let mut get = self.cli(state);
                get.args(["--timeout", "10", "get", &self.url, "--etag-file"])
                    .arg(&tag);
                let (code, _) = run_until(get, &base, &err, deadline);
                let doc = std::fs::read_to_string(&base)
                    .ok()
                    .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
                let (Some(0), Some(serde_json::Value::Object(mut doc))) = (code, doc) else {
                    attempts += 1;
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                doc.insert(key.clone(), serde_json::json!({ "writer": i, "n": k }));
                std::fs::write(
                    &mine,
                    serde_json::to_string_pretty(&serde_json::Value::Object(doc)).unwrap(),
                )
                .unwrap();
                let _ = std::fs::remove_file(&trail);
                let mut save = self.cli(state);
                save.args(["--timeout", "10", "--trail"])
                    .arg(&trail)
                    .args(["save", &self.url])
                    .arg(&mine)
                    .arg("--base")
                    .arg(&base);
                let tag_text = std::fs::read_to_string(&tag).unwrap_or_default();
                if !tag_text.trim().is_empty() {
                    save.args(["--if-match", tag_text.trim()]);
                }
                save.args(&self.save_args);
                let (code, elapsed) = run_until(save, &out, &err, deadline);
                attempts += 1;
                let output = format!(
                    "{}{}",
                    std::fs::read_to_string(&err).unwrap_or_default(),
                    std::fs::read_to_string(&out).unwrap_or_default()
                );
                let trail_text = std::fs::read_to_string(&trail).unwrap_or_default();
                runs.push(SaveRun {
                    writer: i,
                    key: key.clone(),
                    exit: code,
                    acknowledged: trail_acknowledged(&trail_text),
                    locked: trail_has(&trail_text, &["LOCK"]),
                    output,
                    trail: trail_text.clone(),
                    elapsed,
                });
                if code != Some(3) {
                    break;
                }
            }
        }
        runs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trail_with_a_write_answered_2xx_is_acknowledged() {
        assert!(trail_acknowledged(
            r#"[{"method":"GET","status":200},{"method":"PUT","status":204}]"#
        ));
        assert!(!trail_acknowledged(
            r#"[{"method":"GET","status":200},{"method":"PUT","status":412},{"method":"LOCK","status":200}]"#
        ));
        assert!(!trail_acknowledged(r#"[{"method":"PUT","status":null}]"#));
        assert!(!trail_acknowledged(""));
        assert!(trail_has(r#"[{"method":"LOCK","status":200}]"#, &["LOCK"]));
        assert!(!trail_has(r#"[{"method":"LOCK","status":423}]"#, &["LOCK"]));
    }
}
