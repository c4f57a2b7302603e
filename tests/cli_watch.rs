//! `ifmatch watch` end to end: the demo's event stream, Kubernetes-style watch and Gmail-style
//! history; CouchDB's changes feeds on real pouchdb-server (continuous, longpoll, a cut feed);
//! conditional polling on real Apache mod_dav, nginx and Kinto (304s in the trail, bytes against
//! plain polling); Consul blocking queries on a fake Consul KV (no real Consul installs here:
//! tests/support/consul.rs says why); hostile servers (garbage on a stream, 200 to a matching
//! If-None-Match, 410 Gone); bad `--interval` values; and the engine's `Live` watches sharing a
//! bounded number of stream connections to one server. Every wait is bounded and waits for an
//! event.

use ifmatch_engine::live::{Arrival, Live, LiveEvent, LiveOptions, NoticeKind, Via};
use ifmatch_engine::{Auth, Client};
use ifmatch_tests::consul::{Asked, ConsulFake};
use ifmatch_tests::raw::{RawServer, Reply};
use ifmatch_tests::watching::{CutProxy, Watching};
use ifmatch_tests::{http, DemoProcess};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

const LONG: Duration = Duration::from_secs(10);

fn state() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ifmatch-watch-{}", ifmatch_tests::unique()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn initial(w: &Watching) -> Value {
    let first = w
        .next(LONG)
        .unwrap_or_else(|| panic!("no first line; stderr: {}", w.stderr()));
    assert_eq!(first["via"], "initial", "{first}");
    first
}

#[test]
fn demo_event_stream_prints_a_change_and_sigint_exits_0() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    let w = Watching::start(&state(), &["--json", &url]);
    let first = initial(&w);
    assert!(
        w.wait_stderr("live: server-sent events", LONG),
        "{}",
        w.stderr()
    );
    let (s, _) = http(
        Default::default(),
        "POST",
        &format!("{}/_demo/another-admin/settings", demo.url),
        None,
    );
    assert_eq!(s, 200);
    let t = Instant::now();
    let next = w.next(LONG).expect("the change is printed");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(next["via"], "stream", "{next}");
    assert_ne!(next["version"], first["version"]);
    assert!(next["bytes"].as_u64().unwrap() > 0);
    assert_eq!(next["document"]["adminEdits"], 1);
    let (code, err) = w.interrupt();
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn demo_kubernetes_watch_until_change_without_server_owned_fields() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/api/v1/namespaces/default/configmaps/settings", demo.url);
    let w = Watching::start(
        &state(),
        &["--json", "--until-change", "--dialect", "kubernetes", &url],
    );
    let first = initial(&w);
    assert!(first["document"]["metadata"]
        .get("resourceVersion")
        .is_none());
    assert!(
        w.wait_stderr("live: Kubernetes watch", LONG),
        "{}",
        w.stderr()
    );
    let body = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"default","resourceVersion":"1"},"data":{"theme":"dark","pageSize":"50"}}"#;
    assert_eq!(http(Default::default(), "PUT", &url, Some(body)).0, 200);
    let next = w.next(LONG).expect("the change is printed");
    assert_eq!(next["via"], "stream");
    assert_eq!(next["document"]["data"]["theme"], "dark");
    assert!(next["document"]["metadata"]
        .get("resourceVersion")
        .is_none());
    let (code, err) = w.wait(LONG);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn demo_gmail_history_announces_a_label_change() {
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/labels/Label_2", demo.url);
    let w = Watching::start(
        &state(),
        &[
            "--json",
            "--until-change",
            "--dialect",
            "gmail",
            "--interval",
            "0.2",
            &url,
        ],
    );
    initial(&w);
    assert!(w.wait_stderr("changes endpoint", LONG), "{}", w.stderr());
    http(
        Default::default(),
        "POST",
        &format!("{}/_demo/another-admin/labels/Label_2", demo.url),
        None,
    );
    let next = w.next(LONG).expect("the change is printed");
    assert_eq!(next["via"], "stream");
    assert!(next["document"]["name"]
        .as_str()
        .unwrap()
        .contains("another admin"));
    assert_eq!(w.wait(LONG).0, Some(0));
}

#[test]
fn bad_intervals_are_usage_errors() {
    let st = state();
    for bad in ["0", "-1", "NaN", "inf", "1e9", "abc", "", "0.01"] {
        let out = ifmatch_tests::run_cli(
            &st,
            &["watch", "http://127.0.0.1:9/x", "--interval", bad],
            None,
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--interval"), "{bad}: {err}");
        assert!(!err.contains("panicked"), "{bad}: {err}");
    }
}

#[test]
fn pouchdb_changes_feeds_continuous_longpoll_and_a_cut_feed() {
    let p = ifmatch_tests::pouchdb::PouchDb::start("live");
    assert_eq!(p.http("PUT", "/live/cfg", Some(r#"{"n": 0}"#)).0, 201);
    let bump = |n: u64| {
        let rev = p.doc("/live/cfg").unwrap()["_rev"]
            .as_str()
            .unwrap()
            .to_string();
        let body = format!(r#"{{"_rev": "{rev}", "n": {n}}}"#);
        let (s, b) = p.http("PUT", "/live/cfg", Some(&body));
        assert_eq!(s, 201, "{b}");
        Instant::now()
    };
    let url = format!("{}/live/cfg", p.url);
    for (feed, words) in [("auto", "(continuous)"), ("longpoll", "(longpoll)")] {
        let w = Watching::start(
            &state(),
            &["--json", "--dialect", "couchdb", "--feed", feed, &url],
        );
        initial(&w);
        assert!(w.wait_stderr(words, LONG), "{}", w.stderr());
        // The feed is open once the watch said how; give the request a moment to reach the
        // server (its `since=now` is taken when it arrives), then another client writes.
        std::thread::sleep(Duration::from_millis(300));
        for n in 1..=2 {
            let at = bump(n + if feed == "auto" { 0 } else { 10 });
            let line = w
                .next(LONG)
                .unwrap_or_else(|| panic!("{feed}: {}", w.stderr()));
            let took = at.elapsed();
            assert!(
                took <= Duration::from_secs(1),
                "{feed}: printed after {took:?}"
            );
            assert_eq!(line["via"], "stream", "{line}");
            assert!(
                line["document"].get("_rev").is_none(),
                "server-owned: {line}"
            );
        }
        assert_eq!(w.interrupt().0, Some(0));
    }
    // A cut feed: the watch reconnects from its cursor and misses nothing.
    let port = p.url.rsplit(':').next().unwrap();
    let proxy = CutProxy::start(&format!("127.0.0.1:{port}"));
    let via_proxy = format!("http://127.0.0.1:{}/live/cfg", proxy.port);
    let w = Watching::start(&state(), &["--json", "--dialect", "couchdb", &via_proxy]);
    initial(&w);
    assert!(w.wait_stderr("(continuous)", LONG), "{}", w.stderr());
    std::thread::sleep(Duration::from_millis(300));
    proxy.cut();
    bump(100); // lands while the feed is down
    assert!(w.wait_stderr("reconnecting", LONG), "{}", w.stderr());
    let line = w.next(LONG).expect("the change made during the gap");
    assert_eq!(line["document"]["n"], 100, "{line}");
    std::thread::sleep(Duration::from_millis(800));
    bump(101);
    let line = w.next(LONG).expect("a change after the reconnect");
    assert_eq!(line["document"]["n"], 101, "{line}");
    assert_eq!(w.interrupt().0, Some(0));
}

/// Polls a file server every 0.1 s: 304s in the trail, a change found, fewer bytes than plain
/// polling.
fn polls_conditionally(url: &str, change: impl Fn()) {
    let st = state();
    let trail = st.join("trail.json");
    let w = Watching::start(
        &st,
        &[
            "--json",
            "--interval",
            "0.1",
            "--trail",
            trail.to_str().unwrap(),
            url,
        ],
    );
    let first = initial(&w);
    assert!(w.wait_stderr("polling every 0.1 s", LONG), "{}", w.stderr());
    std::thread::sleep(Duration::from_millis(1200));
    change();
    let line = w.next(LONG).unwrap_or_else(|| panic!("{}", w.stderr()));
    assert_eq!(line["via"], "poll");
    assert_ne!(line["version"], first["version"]);
    let (code, err) = w.interrupt();
    assert_eq!(code, Some(0), "{err}");
    let t: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&trail).unwrap()).unwrap();
    let not_modified = t.iter().filter(|e| e["status"] == 304).count();
    assert!(not_modified >= 3, "{not_modified} 304s: {t:?}");
    assert!(t.iter().all(|e| e["method"] == "GET"), "a watch only reads");
    // "… N body bytes received; plain polling every 0.1 s would have received about M bytes"
    let nums = |after: &str| -> u64 {
        let i = err.rfind(after).unwrap_or_else(|| panic!("{err}")) + after.len();
        err[i..].split_whitespace().next().unwrap().parse().unwrap()
    };
    let (got, plain) = (nums("answered 304, "), nums("received about "));
    assert!(got * 2 < plain, "{got} vs {plain}: {err}");
}

#[test]
fn apache_and_nginx_conditional_polling() {
    let doc = format!("{{\"padding\": \"{}\", \"n\": 1}}\n", "x".repeat(4000));
    let a = ifmatch_tests::apache::Apache::start(&[("cfg.json", &doc)]);
    let url = format!("{}/cfg.json", a.url);
    polls_conditionally(&url, || {
        let s = http(
            Default::default(),
            "PUT",
            &url,
            Some(&doc.replace("\"n\": 1", "\"n\": 2")),
        );
        assert!(s.0 < 300, "{s:?}");
    });
    let n = ifmatch_tests::nginx::Nginx::start(&[("cfg.json", &doc)]);
    let url = format!("{}/cfg.json", n.url);
    polls_conditionally(&url, || {
        // A different size: nginx's ETag is mtime-size.
        let s = http(
            Default::default(),
            "PUT",
            &url,
            Some(&doc.replace("\"n\": 1", "\"n\": 22")),
        );
        assert!(s.0 < 300, "{s:?}");
    });
}

const DOC: &str = "{\"a\": 1}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_garbage_on_the_stream_falls_back_to_polling() {
    let s = RawServer::start(vec![
        Reply::json(&["ETag: \"a\""], DOC),
        Reply::new(
            "200 OK",
            &["Content-Type: text/event-stream"],
            "this is not an event stream\n\n",
        ),
        Reply::json(&["ETag: \"b\""], "{\"a\": 2}"),
    ])
    .await;
    let url = format!("{}/doc", s.url);
    let w = tokio::task::spawn_blocking(move || {
        let w = Watching::start(
            &state(),
            &["--json", "--until-change", "--interval", "0.1", &url],
        );
        initial(&w);
        let line = w.next(LONG).expect("the change the settling read found");
        assert_eq!(line["via"], "poll");
        w.wait(LONG)
    })
    .await
    .unwrap();
    assert_eq!(w.0, Some(0), "{}", w.1);
    assert!(w.1.contains("watching by polling instead"), "{}", w.1);
    assert!(w.1.contains("not an event field"), "{}", w.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_full_body_to_a_matching_if_none_match_is_said() {
    let same = || Reply::json(&["ETag: \"a\""], DOC);
    let s = RawServer::start(vec![same(), same(), same(), same(), same()]).await;
    let url = format!("{}/doc", s.url);
    let err = tokio::task::spawn_blocking(move || {
        let w = Watching::start(&state(), &["--json", "--interval", "0.1", &url]);
        initial(&w);
        assert!(
            w.wait_stderr("every poll costs the full document", LONG),
            "{}",
            w.stderr()
        );
        w.interrupt()
    })
    .await
    .unwrap();
    assert_eq!(err.0, Some(0), "{}", err.1);
    let polls: Vec<_> = s.seen().into_iter().skip(2).collect();
    assert!(polls
        .iter()
        .all(|r| r.header("if-none-match") == Some("\"a\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_410_on_a_kubernetes_watch_reads_whole() {
    let obj = |rv: &str, theme: &str| {
        format!(
            r#"{{"kind":"ConfigMap","metadata":{{"name":"c","resourceVersion":"{rv}"}},"data":{{"theme":"{theme}"}}}}"#
        )
    };
    let s = RawServer::start(vec![
        Reply::json(&[], &obj("5", "light")),
        Reply::json(&[], "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,\"reason\":\"Expired\"}}\n"),
        Reply::json(&[], &obj("9", "dark")),
    ])
    .await;
    let url = format!("{}/api/v1/namespaces/d/configmaps/c", s.url);
    let (code, err) = tokio::task::spawn_blocking(move || {
        let w = Watching::start(
            &state(),
            &["--json", "--until-change", "--dialect", "kubernetes", &url],
        );
        initial(&w);
        let line = w.next(LONG).unwrap_or_else(|| panic!("{}", w.stderr()));
        assert_eq!(line["document"]["data"]["theme"], "dark");
        w.wait(LONG)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("410 Gone") && err.contains("read whole"),
        "{err}"
    );
    let seen = s.seen();
    assert!(
        seen[1].path.contains("watch=1") && seen[1].path.contains("resourceVersion=5"),
        "{:?}",
        seen[1].path
    );
}

/// Waits at most `limit` for the next event that `pick` keeps.
async fn next_event<T>(
    rx: &mut tokio::sync::broadcast::Receiver<LiveEvent>,
    limit: Duration,
    mut pick: impl FnMut(LiveEvent) -> Option<T>,
) -> Option<T> {
    tokio::time::timeout(limit, async {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if let Some(t) = pick(e) {
                        return Some(t);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return None,
            }
        }
    })
    .await
    .ok()
    .flatten()
}

fn watching_words(e: LiveEvent) -> Option<String> {
    match e {
        LiveEvent::Notice(n) if n.kind == NoticeKind::Watching => Some(n.words),
        _ => None,
    }
}

fn arrival(e: LiveEvent) -> Option<Arrival> {
    match e {
        LiveEvent::Arrived(a) if a.via != Via::Initial => Some(a),
        LiveEvent::Ended(out) => panic!("the watch ended: {}", out.summary()),
        _ => None,
    }
}

/// Two `Live` watches of two resources of the demo share a semaphore with one permit: the first
/// holds the event stream, the second polls and says why; both deliver another admin's change.
/// When the first ends, the second takes the stream up; when both end, the permit is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_watches_keep_to_the_streams_allowed_per_server() {
    let demo = ifmatch_tests::demo().await;
    let client = Arc::new(Client::new(Default::default(), Auth::None).unwrap());
    let sem = Arc::new(Semaphore::new(1));
    let opts = LiveOptions {
        interval: Duration::from_millis(100),
        max_interval: Duration::from_millis(100),
        streams: Some(sem.clone()),
        ..LiveOptions::default()
    };
    let (a, mut ra) = Live::start(
        client.clone(),
        format!("{}/settings", demo.url()),
        opts.clone(),
    );
    let words = next_event(&mut ra, LONG, watching_words)
        .await
        .expect("a says how");
    assert_eq!(words, "live: server-sent events");
    assert_eq!(
        sem.available_permits(),
        0,
        "the open stream holds the permit"
    );
    let (b, mut rb) = Live::start(
        client.clone(),
        format!("{}/flags/dark-mode", demo.url()),
        opts.clone(),
    );
    let words = next_event(&mut rb, LONG, watching_words)
        .await
        .expect("b says how");
    assert_eq!(
        words,
        "polling every 0.1 s, 304 when unchanged (1 stream already open to this server; a \
         stream is tried when one closes)"
    );
    // b polls: conditional reads answered 304 while nothing changes.
    let polling = Instant::now();
    while b.control().stats().not_modified < 2 {
        assert!(polling.elapsed() < LONG, "b polls");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Both deliver a change made by another client: a by its stream, b by a poll.
    demo.another_admin("/settings", None).unwrap();
    demo.another_admin("/flags/dark-mode", None).unwrap();
    let got = next_event(&mut ra, LONG, arrival)
        .await
        .expect("a's change");
    assert_eq!(got.via, Via::Stream);
    assert!(
        got.document.contains("\"adminEdits\": 1"),
        "{}",
        got.document
    );
    let got = next_event(&mut rb, LONG, arrival)
        .await
        .expect("b's change");
    assert_eq!(got.via, Via::Poll);
    assert!(
        got.document.contains("\"adminEdits\": 1"),
        "{}",
        got.document
    );
    // a ends: its permit goes to b, which now streams.
    drop(a);
    let words = next_event(&mut rb, LONG, watching_words)
        .await
        .expect("b says how again");
    assert_eq!(words, "live: server-sent events");
    demo.another_admin("/flags/dark-mode", None).unwrap();
    let got = next_event(&mut rb, LONG, arrival)
        .await
        .expect("b's second change");
    assert_eq!(got.via, Via::Stream);
    assert!(
        got.document.contains("\"adminEdits\": 2"),
        "{}",
        got.document
    );
    drop(b);
    let back = Instant::now();
    while sem.available_permits() != 1 {
        assert!(back.elapsed() < LONG, "the permit is given back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn consul_put(url: &str, value: &str) {
    let (s, b) = http(Default::default(), "PUT", url, Some(value));
    assert_eq!((s, b.as_str()), (200, "true"));
}

/// Consul's blocking queries (on a fake Consul KV: see tests/support/consul.rs): a change made
/// while a query waits is printed within a second, from the stream; an index that goes
/// backwards (a snapshot restore) is said and settled by a full read, and the blocking loop goes
/// on from the restored index.
#[test]
fn consul_blocking_query_and_an_index_going_backwards() {
    let c = ConsulFake::start();
    let key_url = format!("{}/v1/kv/settings", c.url);
    consul_put(&key_url, r#"{"theme": "light"}"#);
    consul_put(&format!("{}/v1/kv/other", c.url), "{}");
    let url = format!("{key_url}?raw");
    let w = Watching::start(&state(), &["--json", "--dialect", "consul", &url]);
    let first = initial(&w);
    assert_eq!(first["document"]["theme"], "light");
    assert!(
        w.wait_stderr("live: Consul blocking query", LONG),
        "{}",
        w.stderr()
    );
    let at = c.modify_index("settings").unwrap();
    assert!(c.wait_for_waiting(1, LONG), "a blocking query waits");
    let asked = c.asked();
    let blocking = asked.last().unwrap();
    assert!(
        blocking.path.starts_with("/v1/kv/settings?raw&index=")
            && blocking.path.contains(&format!("index={at}&"))
            && blocking.path.contains("&wait="),
        "{blocking:?}"
    );
    consul_put(&key_url, r#"{"theme": "dark"}"#);
    let t = Instant::now();
    let line = w.next(LONG).unwrap_or_else(|| panic!("{}", w.stderr()));
    assert!(t.elapsed() <= Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(line["via"], "stream", "{line}");
    assert_eq!(line["document"]["theme"], "dark");
    assert_ne!(line["version"], first["version"]);

    // A snapshot restore: the index goes back below the one the query waits on.
    assert!(c.wait_for_waiting(1, LONG), "a blocking query waits again");
    let before = c.asked().len();
    c.restore("settings", r#"{"theme": "restored"}"#, 2);
    let line = w.next(LONG).unwrap_or_else(|| panic!("{}", w.stderr()));
    assert_eq!(line["document"]["theme"], "restored", "{line}");
    assert_eq!(line["via"], "poll", "the full read found it: {line}");
    let err = w.stderr();
    assert!(
        err.contains("the Consul index went backwards") && err.contains("read whole"),
        "{err}"
    );
    let after: Vec<Asked> = c.asked().into_iter().skip(before).collect();
    assert!(
        after
            .iter()
            .any(|a| a.method == "GET" && a.path == "/v1/kv/settings?raw"),
        "a full read: {after:?}"
    );
    // The loop goes on from the restored index: a write at index 3 wakes it.
    assert!(c.wait_for_waiting(1, LONG), "a blocking query waits again");
    let asked = c.asked();
    assert!(
        asked.last().unwrap().path.contains("index=2&"),
        "{:?}",
        asked.last()
    );
    consul_put(&key_url, r#"{"theme": "after"}"#);
    let t = Instant::now();
    let line = w.next(LONG).unwrap_or_else(|| panic!("{}", w.stderr()));
    assert!(t.elapsed() <= Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(line["via"], "stream", "{line}");
    assert_eq!(line["document"]["theme"], "after");
    let (code, err) = w.interrupt();
    assert_eq!(code, Some(0), "{err}");
    // The test wrote 4 times; the watch only read.
    let asked = c.asked();
    assert_eq!(asked.iter().filter(|a| a.method != "GET").count(), 4);
    assert!(asked
        .iter()
        .all(|a| a.method == "GET" || !a.path.contains("raw")));
}

/// Kinto offers no change stream of its own (only through optional plugins, none set up here):
/// a record is watched by conditional polling, 304 while unchanged, its server-owned fields
/// left out.
#[test]
fn kinto_record_is_watched_by_conditional_polling() {
    use ifmatch_tests::kinto::{Kinto, PASSWORD, USER};
    let k = Kinto::start();
    let record = "/buckets/b/collections/c/records/settings";
    let (s, b) = k.http(
        "PUT",
        record,
        Some(r#"{"data": {"theme": "light", "pageSize": 50}}"#),
    );
    assert_eq!(s, 201, "{b}");
    let url = format!("{}{record}", k.url);
    let st = state();
    let trail = st.join("trail.json");
    let w = Watching::start_with(
        &st,
        &[("IFMATCH_USER", USER), ("IFMATCH_PASSWORD", PASSWORD)],
        &[
            "--json",
            "--dialect",
            "kinto",
            "--interval",
            "0.2",
            "--trail",
            trail.to_str().unwrap(),
            &url,
        ],
    );
    let first = initial(&w);
    assert_eq!(first["document"]["theme"], "light", "{first}");
    assert!(
        first["document"].get("last_modified").is_none(),
        "server-owned: {first}"
    );
    assert!(w.wait_stderr("polling every 0.2 s", LONG), "{}", w.stderr());
    std::thread::sleep(Duration::from_millis(1200));
    let (s, b) = k.http("PATCH", record, Some(r#"{"data": {"theme": "dark"}}"#));
    assert_eq!(s, 200, "{b}");
    let line = w.next(LONG).unwrap_or_else(|| panic!("{}", w.stderr()));
    assert_eq!(line["via"], "poll", "{line}");
    assert_eq!(line["document"]["theme"], "dark", "{line}");
    assert_eq!(line["document"]["pageSize"], 50, "{line}");
    assert_ne!(line["version"], first["version"]);
    let (code, err) = w.interrupt();
    assert_eq!(code, Some(0), "{err}");
    let t: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&trail).unwrap()).unwrap();
    assert!(t.iter().all(|e| e["method"] == "GET"), "a watch only reads");
    let not_modified = t.iter().filter(|e| e["status"] == 304).count();
    assert!(not_modified >= 3, "{not_modified} 304s: {t:?}");
}
