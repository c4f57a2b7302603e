//! `ifmatch watch` end to end: the demo's event stream, Kubernetes-style watch and Gmail-style
//! history; CouchDB's changes feeds on real pouchdb-server (continuous, longpoll, a cut feed);
//! conditional polling on real Apache mod_dav and nginx (304s in the trail, bytes against plain
//! polling); hostile servers (garbage on a stream, 200 to a matching If-None-Match, 410 Gone);
//! bad `--interval` values. Every wait is bounded and waits for an event.

use ifmatch_tests::raw::{RawServer, Reply};
use ifmatch_tests::watching::{CutProxy, Watching};
use ifmatch_tests::{http, DemoProcess};
use serde_json::Value;
use std::time::{Duration, Instant};

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
