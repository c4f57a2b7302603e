//! A hostile pass over the recent surfaces: the server's WebDAV write lock as `check` finds it and
//! `save` takes it (against a lock server that misbehaves one knob at a time), the watch after a
//! save against reads that turn into something else, bad flag values in every spelling, `watch`
//! against streams that lie, and draft files that are not drafts. Each test is an attack; the
//! ones that found a defect are ignored with the defect named, so the suite stays green.

use ifmatch_tests::hostile::{Hostile, Knobs};
use ifmatch_tests::ifmatch_bin;
use ifmatch_tests::raw::{read_request, Seen};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

// ---------------------------------------------------------------------------------------------
// A WebDAV class 2 server that keeps JSON documents, enforces If-Match, and grants exclusive
// write locks, misbehaving as its knobs say.

#[derive(Debug, Clone)]
struct LockKnobs {
    /// A write without the lock's token while the lock is held is refused with 423.
    enforce: bool,
    /// The LOCK answer carries the `Lock-Token` header.
    token_header: bool,
    /// Answers to requests that carry the token echo it: in `X-Request-Id`, and in the body of
    /// error answers.
    echo_token: bool,
    /// UNLOCK is answered with this status (and does nothing) when set.
    unlock_status: Option<u16>,
    /// A write carrying the token is answered with this status (nothing stored), its body
    /// echoing the `If` header it carried.
    fail_locked_write: Option<u16>,
}

impl Default for LockKnobs {
    fn default() -> Self {
        LockKnobs {
            enforce: true,
            token_header: true,
            echo_token: false,
            unlock_status: None,
            fail_locked_write: None,
        }
    }
}

#[derive(Default)]
struct LockState {
    knobs: LockKnobs,
    docs: HashMap<String, String>,
    /// path → (token, expires)
    locks: HashMap<String, (String, Instant)>,
    issued: Vec<String>,
    n: u64,
}

struct LockServer {
    url: String,
    state: Arc<Mutex<LockState>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn fnv(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn tag_of(text: &str) -> String {
    format!("\"{:016x}\"", fnv(text))
}

fn reply(status: &str, headers: &[String], body: &str) -> Vec<u8> {
    let mut s = format!("HTTP/1.1 {status}\r\n");
    for h in headers {
        s.push_str(h);
        s.push_str("\r\n");
    }
    s.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    s.into_bytes()
}

impl LockServer {
    async fn start(knobs: LockKnobs, docs: &[(&str, &str)]) -> LockServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(LockState {
            knobs,
            docs: docs
                .iter()
                .map(|(p, t)| (p.to_string(), t.to_string()))
                .collect(),
            ..LockState::default()
        }));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (st, sn) = (state.clone(), seen.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (st, sn) = (st.clone(), sn.clone());
                tokio::spawn(async move {
                    let Some(req) = read_request(&mut sock).await else {
                        return;
                    };
                    sn.lock().unwrap().push(req.clone());
                    let bytes = lock_answer(&mut st.lock().unwrap(), &req);
                    let _ = sock.write_all(&bytes).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        LockServer {
            url,
            state,
            seen,
            task,
        }
    }

    fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    fn knobs(&self, f: impl FnOnce(&mut LockKnobs)) {
        f(&mut self.state.lock().unwrap().knobs);
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn clear_seen(&self) {
        self.seen.lock().unwrap().clear();
    }

    fn methods(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.method).collect()
    }

    /// Locks held and not yet expired.
    fn live_locks(&self) -> usize {
        let now = Instant::now();
        self.state
            .lock()
            .unwrap()
            .locks
            .values()
            .filter(|(_, until)| *until > now)
            .count()
    }

    fn issued(&self) -> Vec<String> {
        self.state.lock().unwrap().issued.clone()
    }

    fn paths(&self) -> Vec<String> {
        let mut p: Vec<String> = self.state.lock().unwrap().docs.keys().cloned().collect();
        p.sort();
        p
    }

    fn text(&self, path: &str) -> Option<String> {
        self.state.lock().unwrap().docs.get(path).cloned()
    }
}

fn lock_answer(st: &mut LockState, req: &Seen) -> Vec<u8> {
    let now = Instant::now();
    st.locks.retain(|_, (_, until)| *until > now);
    let path = req.path.clone();
    let method = req.method.to_ascii_uppercase();
    let held = st.locks.get(&path).map(|(t, _)| t.clone());
    let carries = |t: &str| {
        req.header("if").is_some_and(|h| h.contains(t))
            || req.header("lock-token").is_some_and(|h| h.contains(t))
    };
    let mut extra = vec![];
    if st.knobs.echo_token {
        if let Some(t) = held.as_deref().filter(|t| carries(t)) {
            extra.push(format!("X-Request-Id: {t}"));
        }
    }
    let err = |status: &str, what: &str, extra: &[String]| {
        let mut body = serde_json::json!({ "error": what });
        if st.knobs.echo_token {
            body["if"] = Value::from(req.header("if").unwrap_or(""));
            body["lock-token"] = Value::from(req.header("lock-token").unwrap_or(""));
        }
        let mut h = vec!["Content-Type: application/json".to_string()];
        h.extend(extra.iter().cloned());
        reply(status, &h, &body.to_string())
    };
    let current = st.docs.get(&path).cloned();
    let tag = current.as_deref().map(tag_of);
    match method.as_str() {
        "OPTIONS" => reply(
            "200 OK",
            &[
                "DAV: 1,2".into(),
                "Allow: GET, HEAD, PUT, PATCH, DELETE, OPTIONS, LOCK, UNLOCK".into(),
            ],
            "",
        ),
        "LOCK" => {
            if held.is_some() {
                return err("423 Locked", "locked", &extra);
            }
            let secs: u64 = req
                .header("timeout")
                .and_then(|t| t.trim().strip_prefix("Second-"))
                .and_then(|s| s.parse().ok())
                .unwrap_or(3600);
            st.n += 1;
            let token = format!(
                "opaquelocktoken:5ec12e7-{:08x}-{}",
                fnv(&format!("{path}{}", st.n)),
                st.n
            );
            st.locks.insert(
                path.clone(),
                (token.clone(), now + Duration::from_secs(secs)),
            );
            st.issued.push(token.clone());
            let mut h = vec!["Content-Type: application/xml; charset=utf-8".to_string()];
            if st.knobs.token_header {
                h.push(format!("Lock-Token: <{token}>"));
            }
            let body = format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>\
                 <D:activelock><D:locktype><D:write/></D:locktype><D:lockscope><D:exclusive/>\
                 </D:lockscope><D:depth>0</D:depth><D:timeout>Second-{secs}</D:timeout>\
                 <D:locktoken><D:href>{token}</D:href></D:locktoken></D:activelock>\
                 </D:lockdiscovery></D:prop>"
            );
            reply("200 OK", &h, &body)
        }
        "UNLOCK" => {
            if let Some(s) = st.knobs.unlock_status {
                return err(&format!("{s} Refused"), "unlock refused", &extra);
            }
            match held {
                Some(t) if carries(&t) => {
                    st.locks.remove(&path);
                    reply("204 No Content", &extra, "")
                }
                _ => err("409 Conflict", "no such lock", &extra),
            }
        }
        "GET" | "HEAD" => {
            let Some(text) = current else {
                return err("404 Not Found", "no such resource", &[]);
            };
            let t = tag.unwrap();
            if req.header("if-none-match").is_some_and(|h| h.contains(&t)) {
                return reply("304 Not Modified", &[format!("ETag: {t}")], "");
            }
            let body = if method == "HEAD" { "" } else { text.as_str() };
            reply(
                "200 OK",
                &[
                    "Content-Type: application/json".into(),
                    format!("ETag: {t}"),
                ],
                body,
            )
        }
        "PUT" | "PATCH" | "DELETE" => {
            if let Some(t) = &held {
                if !carries(t) && st.knobs.enforce {
                    return err("423 Locked", "locked", &extra);
                }
                if carries(t) {
                    if let Some(s) = st.knobs.fail_locked_write {
                        return err(&format!("{s} Failed"), "write failed", &extra);
                    }
                }
            }
            if let Some(h) = req.header("if-match") {
                if current.is_none()
                    || !h
                        .split(',')
                        .any(|x| x.trim() == "*" || Some(x.trim()) == tag.as_deref())
                {
                    return err("412 Precondition Failed", "precondition failed", &extra);
                }
            }
            if let Some(h) = req.header("if-none-match") {
                if current.is_some()
                    && (h.trim() == "*" || tag.as_deref().is_some_and(|t| h.contains(t)))
                {
                    return err("412 Precondition Failed", "precondition failed", &extra);
                }
            }
            let body = String::from_utf8_lossy(&req.body).into_owned();
            let new = match method.as_str() {
                "DELETE" => {
                    if current.is_none() {
                        return err("404 Not Found", "no such resource", &extra);
                    }
                    st.docs.remove(&path);
                    return reply("204 No Content", &extra, "");
                }
                "PATCH" => {
                    let Some(text) = &current else {
                        return err("404 Not Found", "no such resource", &extra);
                    };
                    let (Ok(mut doc), Ok(patch)) = (
                        serde_json::from_str::<Value>(text),
                        serde_json::from_str::<Value>(&body),
                    ) else {
                        return err("400 Bad Request", "not JSON", &extra);
                    };
                    if req
                        .header("content-type")
                        .is_some_and(|c| c.contains("json-patch"))
                    {
                        if ifmatch_engine::patch::apply_json_patch(&mut doc, &patch).is_err() {
                            return err("409 Conflict", "patch failed", &extra);
                        }
                    } else {
                        ifmatch_engine::patch::apply_merge_patch(&mut doc, &patch);
                    }
                    serde_json::to_string_pretty(&doc).unwrap()
                }
                _ => {
                    if serde_json::from_str::<Value>(&body).is_err() {
                        return err("400 Bad Request", "not JSON", &extra);
                    }
                    body
                }
            };
            let created = current.is_none();
            st.docs.insert(path.clone(), new.clone());
            let mut h = vec![
                "Content-Type: application/json".to_string(),
                format!("ETag: {}", tag_of(&new)),
            ];
            h.extend(extra);
            reply(if created { "201 Created" } else { "200 OK" }, &h, &new)
        }
        _ => err("405 Method Not Allowed", "no", &extra),
    }
}

// ---------------------------------------------------------------------------------------------
// Running the CLI.

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ifmatch-hostile-recent-{}-{name}-{}",
        std::process::id(),
        ifmatch_tests::unique()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `ifmatch ARGS` with `dir/state` as its state folder, no credential but `env`'s.
fn cli(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    cli_timed(dir, env, args, Duration::from_secs(40))
}

fn cli_timed(dir: &Path, env: &[(&str, &str)], args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(ifmatch_bin())
        .args(args)
        .env("IFMATCH_STATE_DIR", dir.join("state"))
        .env_remove("IFMATCH_TOKEN")
        .env_remove("IFMATCH_USER")
        .env_remove("IFMATCH_PASSWORD")
        .env_remove("IFMATCH_DIALECT")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// `cli` on a blocking thread (the servers run on this test's runtime).
async fn cli_async(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let dir = dir.to_path_buf();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        cli(&dir, &env, &args)
    })
    .await
    .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn both(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", out(o), err(o))
}

fn no_panic(o: &Output) {
    let e = err(o);
    assert!(
        !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
        "a panic: {e}"
    );
    assert_ne!(o.status.code(), Some(101), "a panic: {e}");
}

/// Writes base and mine into `dir`; the arguments of `save URL mine --base base`.
fn save_args(dir: &Path, url: &str, base: &str, mine: &str) -> Vec<String> {
    std::fs::write(dir.join("base.json"), base).unwrap();
    std::fs::write(dir.join("mine.json"), mine).unwrap();
    vec![
        "save".into(),
        url.into(),
        dir.join("mine.json").display().to_string(),
        "--base".into(),
        dir.join("base.json").display().to_string(),
    ]
}

const DOC: &str = r#"{"name": "cfg", "a": 0, "b": 0}"#;
const MINE: &str = r#"{"name": "cfg", "a": 1, "b": 0}"#;

/// The lock server after `ifmatch check` stored its profile in `dir`.
async fn checked_lock_server(knobs: LockKnobs, dir: &Path) -> (LockServer, Output) {
    let s = LockServer::start(knobs, &[("/cfg/x", DOC)]).await;
    let o = cli_async(dir, &[], &["check", "--json", &s.at("/cfg/x")]).await;
    (s, o)
}

fn finding<'a>(report: &'a Value, topic: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["topic"] == topic)
        .unwrap_or_else(|| panic!("no {topic} finding in {report}"))
}

// ---------------------------------------------------------------------------------------------
// The lock: check

/// An enforced lock is found, with its evidence; the check releases it, removes its scratch
/// resource and stays within a few seconds.
#[tokio::test(flavor = "multi_thread")]
async fn check_finds_an_enforced_lock_and_leaves_nothing_behind() {
    let d = scratch("check-lock");
    let started = Instant::now();
    let (s, o) = checked_lock_server(LockKnobs::default(), &d).await;
    let took = started.elapsed();
    no_panic(&o);
    let report: Value = serde_json::from_str(&out(&o)).unwrap_or_else(|_| panic!("{}", both(&o)));
    let lock = finding(&report, "lock");
    assert_eq!(lock["mark"], "good", "{lock}");
    let evidence = lock["evidence"].to_string();
    assert!(evidence.contains("423"), "{evidence}");
    assert!(evidence.contains("DAV"), "{evidence}");
    assert_eq!(report["lock"], Value::Bool(true), "{report}");
    assert_eq!(s.live_locks(), 0, "the check left its lock behind");
    assert_eq!(s.paths(), vec!["/cfg/x".to_string()], "scratch left behind");
    assert_eq!(
        s.text("/cfg/x").unwrap(),
        DOC,
        "the checked resource was written"
    );
    for t in s.issued() {
        assert!(!out(&o).contains(&t), "lock token in the check's output");
        assert!(!err(&o).contains(&t), "lock token in the check's stderr");
    }
    assert!(took < Duration::from_secs(20), "the check took {took:?}");
}

/// A server that grants the lock and does not enforce it: said as such (not "good"), and saves
/// then go without it and are watched.
#[tokio::test(flavor = "multi_thread")]
async fn a_lock_granted_and_not_enforced_is_not_used_and_the_save_is_watched() {
    let d = scratch("lock-ignored");
    let (s, o) = checked_lock_server(
        LockKnobs {
            enforce: false,
            ..LockKnobs::default()
        },
        &d,
    )
    .await;
    let report: Value = serde_json::from_str(&out(&o)).unwrap_or_else(|_| panic!("{}", both(&o)));
    let lock = finding(&report, "lock");
    assert_ne!(lock["mark"], "good", "{lock}");
    assert_ne!(report["lock"], Value::Bool(true), "{report}");
    assert_eq!(s.live_locks(), 0);
    s.clear_seen();
    let tag = tag_of(DOC);
    let mut args = save_args(&d, &s.at("/cfg/x"), DOC, MINE);
    args.extend(["--if-match".to_string(), tag]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli_async(&d, &[], &args).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let m = s.methods();
    assert!(
        !m.iter().any(|m| m == "LOCK"),
        "a lock not enforced was taken: {m:?}"
    );
    let put = m.iter().position(|m| m == "PUT").expect("a PUT");
    assert!(
        m[put + 1..].iter().any(|m| m == "GET"),
        "no watch read after the write: {m:?}"
    );
    assert!(
        !err(&o).contains("under the server's write lock"),
        "{}",
        err(&o)
    );
}

// ---------------------------------------------------------------------------------------------
// The lock: save

/// After the check found an enforced lock, a save takes it (and says so), writes with its token,
/// releases it, asks for a short timeout, and no watch follows. The token is in no output.
#[tokio::test(flavor = "multi_thread")]
async fn a_save_under_the_lock_says_so_and_releases_it() {
    let d = scratch("save-lock");
    let (s, o) = checked_lock_server(LockKnobs::default(), &d).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    s.clear_seen();
    let tag = tag_of(DOC);
    let trail = d.join("trail.json");
    let mut args = save_args(&d, &s.at("/cfg/x"), DOC, MINE);
    args.extend([
        "--if-match".to_string(),
        tag,
        "--trail".to_string(),
        trail.display().to_string(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli_async(&d, &[], &args).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(
        err(&o).contains("under the server's write lock"),
        "{}",
        err(&o)
    );
    let seen = s.seen();
    let lock = seen.iter().find(|r| r.method == "LOCK").expect("a LOCK");
    let secs: u64 = lock
        .header("timeout")
        .and_then(|t| t.strip_prefix("Second-"))
        .and_then(|t| t.parse().ok())
        .unwrap_or(u64::MAX);
    assert!(secs <= 60, "a killed save's lock would stay {secs} s");
    let put = seen.iter().find(|r| r.method == "PUT").expect("a PUT");
    let token = s.issued().last().unwrap().clone();
    assert!(put.header("if").is_some_and(|h| h.contains(&token)));
    assert!(seen.iter().any(|r| r.method == "UNLOCK"));
    assert_eq!(s.live_locks(), 0, "the save left its lock behind");
    assert_eq!(
        serde_json::from_str::<Value>(&s.text("/cfg/x").unwrap()).unwrap(),
        serde_json::from_str::<Value>(MINE).unwrap()
    );
    let trail_text = std::fs::read_to_string(&trail).unwrap_or_default();
    for t in s.issued() {
        assert!(
            !out(&o).contains(&t) && !err(&o).contains(&t),
            "token in output"
        );
        assert!(!trail_text.contains(&t), "token in the trail: {trail_text}");
    }
}

/// Saves against a lock server that echoes the lock token back — in `X-Request-Id` of answers to
/// the locked write, and in the body of a failed locked write (answered 2xx, 500, 400) — and
/// where the token turned up: (which write answer, stdout / stderr / trail, the line).
async fn lock_token_echo_leaks() -> Vec<String> {
    let mut leaks = vec![];
    for fail in [None, Some(500), Some(400)] {
        let d = scratch(&format!("lock-echo-{fail:?}"));
        let (s, o) = checked_lock_server(LockKnobs::default(), &d).await;
        assert_eq!(o.status.code(), Some(0), "{}", both(&o));
        s.knobs(|k| {
            k.echo_token = true;
            k.fail_locked_write = fail;
        });
        let trail = d.join("trail.json");
        let mut args = save_args(&d, &s.at("/cfg/x"), DOC, MINE);
        args.extend([
            "--if-match".to_string(),
            tag_of(DOC),
            "--trail".to_string(),
            trail.display().to_string(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = cli_async(&d, &[], &args).await;
        no_panic(&o);
        if fail.is_some() {
            assert_ne!(o.status.code(), Some(0), "{fail:?}: {}", both(&o));
            assert!(
                !err(&o).contains("nothing was overwritten") || s.text("/cfg/x").unwrap() == DOC
            );
        } else {
            assert_eq!(o.status.code(), Some(0), "{}", both(&o));
        }
        let trail_text = std::fs::read_to_string(&trail).unwrap_or_default();
        for t in s.issued() {
            // The token's own unique part.
            let core = t.trim_start_matches("opaquelocktoken:");
            for (name, place) in [
                ("stdout", out(&o)),
                ("stderr", err(&o)),
                ("trail", trail_text.clone()),
            ] {
                if place.contains(core) {
                    let line = place.lines().find(|l| l.contains(core)).unwrap_or("");
                    leaks.push(format!("write answered {fail:?}: {name}: {}", line.trim()));
                }
            }
        }
    }
    leaks
}

/// The echoed lock token reaches neither stdout nor stderr.
#[tokio::test(flavor = "multi_thread")]
async fn a_lock_token_echoed_back_reaches_no_output() {
    let leaks: Vec<String> = lock_token_echo_leaks()
        .await
        .into_iter()
        .filter(|l| !l.contains(": trail: "))
        .collect();
    assert!(
        leaks.is_empty(),
        "the lock token leaked:\n{}",
        leaks.join("\n")
    );
}

/// The echoed lock token does not reach the trail either.
#[tokio::test(flavor = "multi_thread")]
async fn a_lock_token_echoed_back_reaches_no_trail() {
    let leaks = lock_token_echo_leaks().await;
    assert!(
        leaks.is_empty(),
        "the lock token leaked:\n{}",
        leaks.join("\n")
    );
}

/// UNLOCK answered 423: the save still says what happened to the write (exit 0, saved), tells
/// nothing false, leaks no token, and the next save waits the lock out instead of failing.
#[tokio::test(flavor = "multi_thread")]
async fn an_unlock_refused_leaves_a_lock_that_expires_and_the_next_save_goes_through() {
    let d = scratch("unlock-423");
    let (s, o) = checked_lock_server(LockKnobs::default(), &d).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    s.knobs(|k| k.unlock_status = Some(423));
    let mut args = save_args(&d, &s.at("/cfg/x"), DOC, MINE);
    args.extend(["--if-match".to_string(), tag_of(DOC)]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli_async(&d, &[], &a).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    for t in s.issued() {
        assert!(!out(&o).contains(&t) && !err(&o).contains(&t));
    }
    // The lock is still there (released by nobody): the next save waits for it to expire.
    assert_eq!(
        s.live_locks(),
        1,
        "the refused release did not leave the lock"
    );
    s.knobs(|k| k.unlock_status = None);
    let mine2 = r#"{"name": "cfg", "a": 1, "b": 2}"#;
    let mut args = save_args(&d, &s.at("/cfg/x"), MINE, mine2);
    args.extend(["--if-match".to_string(), tag_of(&s.text("/cfg/x").unwrap())]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli_async(&d, &[], &a).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert_eq!(
        serde_json::from_str::<Value>(&s.text("/cfg/x").unwrap()).unwrap(),
        serde_json::from_str::<Value>(mine2).unwrap()
    );
    assert_eq!(s.live_locks(), 0);
}

/// LOCK answered 200 without a token during the save: no lock, said so, and the write is
/// watched like any write made without it.
#[tokio::test(flavor = "multi_thread")]
async fn a_lock_granted_without_a_token_is_said_and_the_save_is_watched() {
    let d = scratch("lock-no-token");
    let (s, o) = checked_lock_server(LockKnobs::default(), &d).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    s.knobs(|k| k.token_header = false);
    s.clear_seen();
    let mut args = save_args(&d, &s.at("/cfg/x"), DOC, MINE);
    args.extend(["--if-match".to_string(), tag_of(DOC)]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli_async(&d, &[], &a).await;
    no_panic(&o);
    let e = err(&o);
    assert!(!e.contains("under the server's write lock"), "{e}");
    assert!(e.contains("lock"), "the missing lock is not said: {e}");
    let m = s.methods();
    if o.status.code() == Some(0) {
        let put = m.iter().position(|m| m == "PUT").expect("a PUT");
        assert!(
            m[put + 1..].iter().any(|m| m == "GET"),
            "a save without the lock was not watched: {m:?}"
        );
    } else {
        // The token-less lock blocks every write until it expires: refused, never "saved".
        assert!(!e.contains("saved"), "{e}");
    }
}

/// `--no-lock` where the check found an enforced lock: no LOCK is sent, the save is watched.
#[tokio::test(flavor = "multi_thread")]
async fn no_lock_sends_no_lock_and_watches() {
    let d = scratch("no-lock");
    let (s, o) = checked_lock_server(LockKnobs::default(), &d).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    s.clear_seen();
    let mut args = save_args(&d, &s.at("/cfg/x"), DOC, MINE);
    args.extend(["--if-match".to_string(), tag_of(DOC), "--no-lock".into()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli_async(&d, &[], &a).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let m = s.methods();
    assert!(!m.iter().any(|m| m == "LOCK"), "{m:?}");
    let put = m.iter().position(|m| m == "PUT").expect("a PUT");
    assert!(m[put + 1..].iter().any(|m| m == "GET"), "{m:?}");
}

// ---------------------------------------------------------------------------------------------
// Bad flag values, in every spelling: a usage error (2) that names the flag, no panic, nothing
// sent.

#[tokio::test(flavor = "multi_thread")]
async fn bad_flag_values_in_every_spelling_are_usage_errors_and_send_nothing() {
    let s = Hostile::start(Knobs::default(), &[("/cfg", DOC)]).await;
    let d = scratch("bad-flags");
    let base = save_args(&d, &s.at("/cfg"), DOC, MINE);
    let mut tried = vec![];
    let mut wrong = vec![];
    let watch_bad = [
        vec!["--watch", "-1"],
        vec!["--watch=-1"],
        vec!["--watch", "nan"],
        vec!["--watch=NaN"],
        vec!["--watch=1e400"],
        vec!["--watch=inf"],
        vec!["--watch=+infinity"],
        vec!["--watch", ""],
        vec!["--watch="],
        vec!["--watch", " "],
        vec!["--watch", "0x10"],
        vec!["--watch", "1s"],
        vec!["--watch", "3600.0001"],
        vec!["--watch", "1,5"],
        vec!["--method", ""],
        vec!["--method", "PUT2"],
        vec!["--rounds", "-1"],
        vec!["--rounds", "1e3"],
        vec!["--rounds", ""],
        vec!["--timeout", "-5"],
        vec!["--timeout", "nan"],
        vec!["--timeout", ""],
        vec!["--if-match", ""],
        vec!["--if-match", "\"unterminated"],
        vec!["--watch", "1", "--no-watch", "--watch", "2"],
    ];
    for extra in &watch_bad {
        let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
        args.extend(extra.iter().copied());
        let o = cli_async(&d, &[], &args).await;
        no_panic(&o);
        tried.push(extra.join(" "));
        if o.status.code() != Some(2) && o.status.code() != Some(1) {
            wrong.push(format!(
                "save {}: exit {:?}: {}",
                extra.join(" "),
                o.status.code(),
                err(&o)
            ));
        }
    }
    for bad in [
        "0x10", "", " ", "0", "-0", "0.049", "86400.5", "nan", "inf", "1e400", "-1", "1e-400",
        "10s", "٣",
    ] {
        let flag = format!("--interval={bad}");
        let o = cli_async(&d, &[], &["watch", "--until-change", &flag, &s.at("/cfg")]).await;
        no_panic(&o);
        tried.push(flag.clone());
        if o.status.code() != Some(2) || !err(&o).contains("--interval") {
            wrong.push(format!(
                "watch {flag}: exit {:?}: {}",
                o.status.code(),
                err(&o)
            ));
        }
    }
    for bad in ["", "LONGPOLL", "stream", "auto,poll"] {
        let flag = format!("--feed={bad}");
        let o = cli_async(&d, &[], &["watch", "--until-change", &flag, &s.at("/cfg")]).await;
        no_panic(&o);
        if o.status.code() != Some(2) {
            wrong.push(format!(
                "watch {flag}: exit {:?}: {}",
                o.status.code(),
                err(&o)
            ));
        }
    }
    assert!(
        s.seen_method("PUT").is_empty() && s.seen_method("PATCH").is_empty(),
        "a bad flag still wrote: {:?}",
        s.seen()
            .iter()
            .map(|r| r.method.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(s.text("/cfg").unwrap(), DOC);
    assert!(wrong.is_empty(), "tried {tried:?}\n{}", wrong.join("\n"));
}

/// A huge `--timeout` (u64::MAX seconds) is no overflow panic in get, save, watch or check.
#[tokio::test(flavor = "multi_thread")]
async fn a_huge_timeout_is_no_panic() {
    let s = Hostile::start(Knobs::default(), &[("/cfg", DOC)]).await;
    let d = scratch("huge-timeout");
    let huge = u64::MAX.to_string();
    let o = cli_async(&d, &[], &["get", "--timeout", &huge, &s.at("/cfg")]).await;
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    let mut args = save_args(&d, &s.at("/cfg"), DOC, MINE);
    args.extend([
        "--timeout".into(),
        huge.clone(),
        "--watch".into(),
        "0".into(),
    ]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli_async(&d, &[], &a).await;
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    s.before("GET", s.seen_method("GET").len() + 2, |t| {
        t.replace("\"b\": 0", "\"b\": 5")
    });
    let o = cli_async(
        &d,
        &[],
        &[
            "watch",
            "--until-change",
            "--interval",
            "0.05",
            "--timeout",
            &huge,
            &s.at("/cfg"),
        ],
    )
    .await;
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
}

// ---------------------------------------------------------------------------------------------
// The watch after a save: a read that comes back as something else.

/// The watch's read answers an HTML page, an empty body, a status object or `null` instead of the
/// document: never exit 0 / silently "saved"; 3 (said where) or 10 (not confirmed).
#[tokio::test(flavor = "multi_thread")]
async fn a_watch_read_that_is_not_the_document_is_never_a_silent_save() {
    let mut wrong = vec![];
    for (what, body) in [
        ("html", "<html><body>Service Unavailable</body></html>"),
        ("empty", ""),
        ("status object", r#"{"ok": true}"#),
        ("null", "null"),
        ("array", "[]"),
        ("not json", "{\"name\": \"cfg\", \"a\": 1,"),
    ] {
        let s = Hostile::start(Knobs::default(), &[("/cfg", DOC)]).await;
        // Untrusted: GET before the write (1), the read-back (2), the watch's read (3).
        let b = body.to_string();
        s.before("GET", 3, move |_| b);
        let d = scratch(&format!("watch-type-{}", what.replace(' ', "-")));
        let mut args = save_args(&d, &s.at("/cfg"), DOC, MINE);
        args.extend(["--if-match".into(), s.etag_of(DOC).unwrap()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = cli_async(&d, &[], &a).await;
        no_panic(&o);
        let code = o.status.code();
        if !matches!(code, Some(3) | Some(10)) {
            wrong.push(format!("{what}: exit {code:?}: {}", err(&o)));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Between the write and the watch, another client changes other members and reprints the
/// document: our change is still held, so no alarm, exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn a_change_beside_ours_before_the_watch_is_no_alarm() {
    let s = Hostile::start(Knobs::default(), &[("/cfg", DOC)]).await;
    s.before("GET", 3, |t| {
        let mut v: Value = serde_json::from_str(t).unwrap();
        v["b"] = Value::from(7);
        v["c"] = Value::from("new");
        serde_json::to_string_pretty(&v).unwrap()
    });
    let d = scratch("watch-beside");
    let mut args = save_args(&d, &s.at("/cfg"), DOC, MINE);
    args.extend(["--if-match".into(), s.etag_of(DOC).unwrap()]);
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cli_async(&d, &[], &a).await;
    assert_eq!(o.status.code(), Some(0), "{}", both(&o));
    assert!(!err(&o).contains("wrote over"), "{}", err(&o));
    assert_eq!(s.seen_method("GET").len(), 3, "the watch read is missing");
}

// ---------------------------------------------------------------------------------------------
// `watch` and redirects: the credential never follows a redirect to another host, and a watch
// never writes.

#[tokio::test(flavor = "multi_thread")]
async fn a_watch_redirected_to_another_host_does_not_carry_the_token_there() {
    const TOKEN: &str = "tok-5ecret-redirect-7781";
    let target = Hostile::start(Knobs::default(), &[("/cfg", DOC)]).await;
    let port = target.url.rsplit(':').next().unwrap().to_string();
    let elsewhere = format!("http://localhost:{port}/cfg");
    let loc = format!("Location: {elsewhere}");
    let script: Vec<ifmatch_tests::raw::Reply> = (0..8)
        .map(|_| ifmatch_tests::raw::Reply::new("302 Found", &[&loc], ""))
        .collect();
    let origin = ifmatch_tests::raw::RawServer::start(script).await;
    let d = scratch("watch-redirect");
    let o = cli_async(
        &d,
        &[("IFMATCH_TOKEN", TOKEN)],
        &[
            "watch",
            "--json",
            "--until-change",
            "--interval",
            "0.05",
            &format!("{}/cfg", origin.url),
        ],
    )
    .await;
    no_panic(&o);
    // Whatever the watch made of it, the other host never saw the token, and nothing was written.
    for r in target.seen() {
        let head = String::from_utf8_lossy(&r.head).into_owned();
        assert!(
            !head.contains(TOKEN),
            "the token followed the redirect to another host:\n{head}"
        );
        assert!(
            r.method == "GET" || r.method == "HEAD",
            "a watch wrote: {}",
            r.method
        );
    }
    assert!(!out(&o).contains(TOKEN) && !err(&o).contains(TOKEN));
}

// ---------------------------------------------------------------------------------------------
// Drafts that are not drafts.

use ifmatch_engine::json::Doc;
use ifmatch_engine::merge::{self, Fill};
use ifmatch_engine::round::{Choice, Round};
use ifmatch_engine::session::Version;
use ifmatch_store::drafts::{Draft, DraftStore};

fn a_draft(id: &str, round: Option<Round>) -> Draft {
    Draft {
        tab_id: id.into(),
        connection_id: "demo".into(),
        url: "http://127.0.0.1:1/cfg".into(),
        base: Version {
            text: DOC.into(),
            validator: None,
        },
        text: MINE.into(),
        round,
        updated_at: String::new(),
    }
}

/// A real round with one conflict (a: 0 → 1 mine, 0 → 2 theirs).
fn a_round() -> Round {
    let theirs = r#"{"name": "cfg", "a": 2, "b": 0}"#;
    let (b, m, t) = (
        Doc::parse(DOC).unwrap(),
        Doc::parse(MINE).unwrap(),
        Doc::parse(theirs).unwrap(),
    );
    let result = merge::three_way(&b, &m, &t, &merge::Options::default());
    let start = result.render_in(Fill::Base, &result.style).unwrap();
    Round::from_merge(
        &result,
        start,
        Version {
            text: theirs.into(),
            validator: None,
        },
        Some((DOC, MINE)),
        [&b, &m, &t],
    )
}

/// Empty, zero-byte, whitespace, wrong-shape, foreign, binary, huge-number and directory drafts:
/// the load never panics, keeps the good drafts, and sets every bad one aside, none deleted.
#[test]
fn garbled_and_foreign_draft_files_are_set_aside_never_deleted() {
    let dir = scratch("drafts-garbled").join("drafts");
    let store = DraftStore::new(dir.clone()).unwrap();
    store.put(&a_draft("t1-1", None)).unwrap();
    store.put(&a_draft("t1-2", Some(a_round()))).unwrap();
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("t2-1", vec![]),
        ("t2-2", b"   \n".to_vec()),
        ("t2-3", b"[]".to_vec()),
        ("t2-4", br#"{"tab_id": 5}"#.to_vec()),
        (
            "t2-5",
            br#"{"kind": "Service", "apiVersion": "v1"}"#.to_vec(),
        ),
        ("t2-6", vec![0xff, 0xfe, 0x00, 0x7b]),
        (
            "t2-7",
            br#"{"tab_id": "t2-7", "round": {"current": 1}}"#.to_vec(),
        ),
        ("t2-8", "{\"a\":".repeat(10_000).into_bytes()),
    ];
    for (id, bytes) in &bad {
        std::fs::write(dir.join(format!("{id}.json")), bytes).unwrap();
    }
    std::fs::create_dir(dir.join("t3-1.json")).unwrap();
    let loaded = std::panic::catch_unwind(|| store.load_all()).expect("the load panicked");
    let ids: Vec<&str> = loaded.iter().map(|d| d.tab_id.as_str()).collect();
    assert_eq!(ids, vec!["t1-1", "t1-2"]);
    assert_eq!(loaded[1].round, Some(a_round()));
    for (id, bytes) in &bad {
        let aside = dir.join(format!("{id}.unreadable"));
        assert_eq!(
            std::fs::read(&aside).ok().as_ref(),
            Some(bytes),
            "{id} not kept aside as it was"
        );
    }
    assert!(dir.join("t3-1.unreadable").is_dir() || dir.join("t3-1.json").is_dir());
}

/// A second unreadable draft of the same tab is set aside too — without replacing the first
/// one set aside (that would delete it).
#[test]
fn a_second_unreadable_draft_does_not_replace_the_first_one_set_aside() {
    let dir = scratch("drafts-twice").join("drafts");
    let store = DraftStore::new(dir.clone()).unwrap();
    std::fs::write(dir.join("t5-1.json"), b"first garbled draft {").unwrap();
    assert!(store.load_all().is_empty());
    std::fs::write(dir.join("t5-1.json"), b"second garbled draft {").unwrap();
    assert!(store.load_all().is_empty());
    let mut kept: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        vec![
            b"first garbled draft {".to_vec(),
            b"second garbled draft {".to_vec()
        ],
        "a draft set aside was deleted"
    );
}

/// A restored round whose decisions outnumber its conflicts (a foreign or hand-edited draft):
/// statuses, Accept and Accept all never panic; an out-of-range Accept is an error.
#[test]
fn a_round_with_more_decisions_than_conflicts_restores_and_never_panics() {
    let dir = scratch("drafts-decisions").join("drafts");
    let store = DraftStore::new(dir.clone()).unwrap();
    let mut v = serde_json::to_value(a_draft("t7-1", Some(a_round()))).unwrap();
    let d = serde_json::json!({"choice": "mine", "value": "1"});
    v["round"]["decisions"] = serde_json::json!([d.clone(), d.clone(), d.clone(), null, d]);
    std::fs::write(dir.join("t7-1.json"), v.to_string()).unwrap();
    let loaded = store.load_all();
    assert_eq!(loaded.len(), 1, "the draft did not restore");
    let mut round = loaded[0].round.clone().expect("its round");
    assert!(round.has_conflicts(), "the test's round has a conflict");
    let start = round.start.clone();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = round.statuses(&start);
        assert!(round.accept(&start, 4, Choice::Mine).is_err());
        let _ = round.accept(&start, 0, Choice::Theirs);
        let _ = round.accept_all(&start, Choice::Mine);
        let _ = round.statuses(&start);
    }));
    assert!(r.is_ok(), "a restored round panicked");
}

// ---------------------------------------------------------------------------------------------
// Merge output: line endings follow MINE, the layout THEIRS, in every output form.

#[test]
fn merge_line_endings_follow_mine_in_every_output_form() {
    let d = scratch("merge-eol");
    let base = "{\n    \"a\": 1,\n    \"b\": [1, 2],\n    \"c\": \"x\"\n}\n";
    let mine_lf = "{\n  \"a\": 5,\n  \"b\": [1, 2],\n  \"c\": \"mine\"\n}\n";
    let theirs_lf = "{\n    \"a\": 1,\n    \"b\": [1, 2, 3],\n    \"c\": \"theirs\"\n}\n";
    let mut wrong = vec![];
    for (mine_crlf, theirs_crlf) in [(true, false), (false, true), (true, true)] {
        let crlf = |t: &str, on: bool| {
            if on {
                t.replace('\n', "\r\n")
            } else {
                t.to_string()
            }
        };
        std::fs::write(d.join("b.json"), base).unwrap();
        std::fs::write(d.join("m.json"), crlf(mine_lf, mine_crlf)).unwrap();
        std::fs::write(d.join("t.json"), crlf(theirs_lf, theirs_crlf)).unwrap();
        let files = [
            d.join("b.json").display().to_string(),
            d.join("m.json").display().to_string(),
            d.join("t.json").display().to_string(),
        ];
        for extra in [
            vec![],
            vec!["--prefer", "mine"],
            vec!["--prefer", "theirs"],
            vec!["--json"],
        ] {
            let mut args = vec!["merge"];
            args.extend(files.iter().map(String::as_str));
            args.extend(extra.iter().copied());
            let o = cli(&d, &[], &args);
            no_panic(&o);
            let text = out(&o);
            let lone_lf = text
                .bytes()
                .enumerate()
                .any(|(i, b)| b == b'\n' && (i == 0 || text.as_bytes()[i - 1] != b'\r'));
            let any_cr = text.contains('\r');
            let ok = if mine_crlf { !lone_lf } else { !any_cr };
            // Layout THEIRS: four-space indentation (not mine's two).
            let layout = extra.contains(&"--json") || text.contains("\n    \"");
            if !ok || !layout || text.is_empty() {
                wrong.push(format!(
                    "mine crlf {mine_crlf}, theirs crlf {theirs_crlf}, {extra:?}: exit {:?}\n{text:?}",
                    o.status.code()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// `watch` against event streams that lie: invalid UTF-8, a giant line without a newline, a
// `retry: 0` and a close, an event with huge `data`. Whatever the stream does, the change is
// printed, the watch ends with --until-change, and only GETs are sent.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_event_streams_still_print_the_change_and_only_read() {
    use ifmatch_tests::raw::{RawServer, Reply};
    use ifmatch_tests::watching::Watching;
    let giant = "a".repeat(1 << 20);
    let streams: Vec<(&str, Vec<u8>)> = vec![
        ("invalid utf-8", b"data: \xff\xfe\xfd\n\n".to_vec()),
        (
            "giant line, no newline",
            format!("data: {giant}").into_bytes(),
        ),
        ("retry 0 and close", b"retry: 0\n\n".to_vec()),
        (
            "huge data event",
            format!("event: put\ndata: {{\"path\": \"/\", \"data\": \"{giant}\"}}\n\n")
                .into_bytes(),
        ),
    ];
    let mut wrong = vec![];
    for (what, body) in streams {
        let mut head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .into_bytes();
        head.extend_from_slice(&body);
        let mut script = vec![Reply::json(&["ETag: \"a\""], DOC), Reply(head)];
        script.extend((0..30).map(|_| Reply::json(&["ETag: \"b\""], MINE)));
        let s = RawServer::start(script).await;
        let url = format!("{}/doc", s.url);
        let state = scratch(&format!("sse-{}", what.replace([' ', ','], "-"))).join("state");
        let (first, second, end) = tokio::task::spawn_blocking(move || {
            let w = Watching::start(
                &state,
                &["--json", "--until-change", "--interval", "0.05", &url],
            );
            let first = w.next(Duration::from_secs(10));
            let second = w.next(Duration::from_secs(15));
            (first, second, w.wait(Duration::from_secs(10)))
        })
        .await
        .unwrap();
        let writes: Vec<String> = s
            .seen()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| r.method)
            .collect();
        let ok = first.as_ref().is_some_and(|l| l["via"] == "initial")
            && second
                .as_ref()
                .is_some_and(|l| l["version"] == "\"b\"" && l["via"] != "initial")
            && end.0 == Some(0)
            && writes.is_empty()
            && !end.1.contains("panicked");
        if !ok {
            wrong.push(format!(
                "{what}: first {first:?}, second {second:?}, exit {:?}, writes {writes:?}\n{}",
                end.0, end.1
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}
