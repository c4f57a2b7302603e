//! The server check's concurrency findings (engine::concurrency) against real servers on
//! loopback: whether validators see a same-size change within the same second, whether the
//! precondition check is atomic with the write (bursts of writes carrying one If-Match), and
//! whether the server offers a write lock it enforces.

use ifmatch_engine::concurrency::{probe, Concurrency};
use ifmatch_engine::{Auth, Client, ClientConfig, Outcome};
use ifmatch_tests::apache::Apache;
use ifmatch_tests::nginx::Nginx;

fn client() -> Client {
    Client::new(ClientConfig::default(), Auth::None).unwrap()
}

fn said(c: &Concurrency) -> String {
    c.findings
        .iter()
        .map(|f| {
            format!(
                "{:?} {}: {}\n  {}",
                f.mark,
                f.topic,
                f.says,
                f.evidence.join("\n  ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn apache_offers_an_enforced_lock_and_strong_validators() {
    let apache = Apache::start(&[("scratch.json", "{}")]);
    let url = format!("{}/scratch.json", apache.url);
    let c = probe(&client(), &url, true, false).await;
    eprintln!("{}", said(&c));
    assert_eq!(c.lock, Some(true), "{}", said(&c));
    assert_eq!(c.validators_miss_changes, Some(false), "{}", said(&c));
    assert!(c.atomic.is_some(), "{}", said(&c));
    // Its check races its own writes: a burst finds two acknowledgements now and then (one
    // check may see none; a few checks in a row do — on a loaded machine, where the server gets
    // the burst's requests one after another, a few dozen: each takes a fraction of a second).
    let mut found = c.atomic == Some(false);
    for _ in 0..40 {
        if found {
            break;
        }
        found = probe(&client(), &url, true, false).await.atomic == Some(false);
    }
    assert!(
        found,
        "Apache mod_dav's If-Match check was never seen racing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nginx_validators_miss_same_size_changes_and_it_has_no_lock() {
    let nginx = Nginx::start(&[("scratch.json", "{}")]);
    let c = probe(
        &client(),
        &format!("{}/scratch.json", nginx.url),
        true,
        false,
    )
    .await;
    eprintln!("{}", said(&c));
    assert_eq!(c.validators_miss_changes, Some(true), "{}", said(&c));
    assert_eq!(c.lock, Some(false), "{}", said(&c));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_server_is_atomic() {
    let demo = ifmatch_tests::demo().await;
    let url = format!("{}/scratch-probe", demo.url());
    let cl = client();
    assert!(cl.create(&url, "{}").await.is_success());
    let c = probe(&cl, &url, true, false).await;
    eprintln!("{}", said(&c));
    assert_eq!(c.atomic, Some(true), "{}", said(&c));
    assert_eq!(c.validators_miss_changes, Some(false), "{}", said(&c));
    assert_eq!(c.lock, Some(false), "{}", said(&c));
}

/// What the findings do to a write: after `ifmatch check` found Apache's enforced lock, `save`
/// reads, compares and writes under it (LOCK and UNLOCK in the trail, the token nowhere) and
/// says so; the stored profile keeps the findings. On nginx (validators that miss changes) the
/// save is compared before and watched after.
#[test]
fn a_checked_server_s_findings_decide_how_save_writes() {
    let run = |state: &std::path::Path, args: &[&str]| ifmatch_tests::run_cli(state, args, None);
    let apache = Apache::start(&[("cfg.json", "{\"n\": 0}")]);
    let state = apache.dir.join("state");
    let url = format!("{}/cfg.json", apache.url);
    let o = run(&state, &["check", &url]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let profiles = std::fs::read_to_string(state.join("servers.json")).unwrap();
    assert!(profiles.contains("\"lock\": true"), "{profiles}");
    let dir = apache.dir.join("work");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("base.json"), "{\"n\": 0}").unwrap();
    std::fs::write(dir.join("mine.json"), "{\"n\": 1}").unwrap();
    let trail = dir.join("trail.json");
    let o = run(
        &state,
        &[
            "--trail",
            trail.to_str().unwrap(),
            "save",
            &url,
            dir.join("mine.json").to_str().unwrap(),
            "--base",
            dir.join("base.json").to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("under the server's write lock"), "{err}");
    assert_eq!(apache.file("cfg.json").unwrap(), "{\"n\": 1}");
    let t = std::fs::read_to_string(&trail).unwrap();
    let methods: Vec<String> = serde_json::from_str::<serde_json::Value>(&t)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["method"].as_str().unwrap().to_string())
        .collect();
    assert!(
        methods.contains(&"LOCK".to_string()) && methods.contains(&"UNLOCK".to_string()),
        "{methods:?}"
    );
    assert!(
        !t.contains("opaquelocktoken"),
        "the lock token stays in its requests: {t}"
    );
    // Released: another writer (no lock) can write.
    let c = client();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let Outcome::Fetched { doc, .. } = c.get_fresh(&url).await else {
            panic!()
        };
        let out = c
            .put(&url, "{\"n\": 2}", doc.validator.unwrap().precondition())
            .await;
        assert!(out.is_success(), "{out:?}");
    });
    // `--no-lock`: the same save without the server's lock (no LOCK in the trail), confirmed by
    // the watch instead (a read after the write), and not said to be under a lock.
    std::fs::write(dir.join("base.json"), "{\"n\": 2}").unwrap();
    std::fs::write(dir.join("mine.json"), "{\"n\": 3}").unwrap();
    let o = run(
        &state,
        &[
            "--trail",
            trail.to_str().unwrap(),
            "save",
            &url,
            dir.join("mine.json").to_str().unwrap(),
            "--base",
            dir.join("base.json").to_str().unwrap(),
            "--no-lock",
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("under the server's write lock"), "{err}");
    assert_eq!(apache.file("cfg.json").unwrap(), "{\"n\": 3}");
    let t = std::fs::read_to_string(&trail).unwrap();
    let methods: Vec<String> = serde_json::from_str::<serde_json::Value>(&t)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["method"].as_str().unwrap().to_string())
        .collect();
    assert!(!methods.contains(&"LOCK".to_string()), "{methods:?}");
    // The watch: a read at least its window (0.5 s) after the write started.
    let entries: Vec<serde_json::Value> = serde_json::from_str(&t).unwrap();
    let ms = |e: &serde_json::Value| -> i64 {
        let at = e["at"].as_str().expect("a start time");
        let time = at
            .split('T')
            .nth(1)
            .expect("RFC 3339")
            .trim_end_matches('Z');
        let mut f = time.split(':');
        let (h, m, s): (i64, i64, f64) = (
            f.next().unwrap().parse().unwrap(),
            f.next().unwrap().parse().unwrap(),
            f.next().unwrap().parse().unwrap(),
        );
        (h * 3600 + m * 60) * 1000 + (s * 1000.0) as i64
    };
    let put = entries.iter().rposition(|e| e["method"] == "PUT").unwrap();
    let last_read = entries.iter().rposition(|e| e["method"] == "GET").unwrap();
    assert!(
        last_read > put && ms(&entries[last_read]) - ms(&entries[put]) >= 450,
        "without the lock the write is watched (read again half a second later): {t}"
    );
}
