//! The engine against a real Apache httpd 2.4 with mod_dav + mod_dav_fs (`FileETag Digest`),
//! started from tests/apache/httpd.conf.in on a loopback port.

use ifmatch_engine::outcome::ValidatorSource;
use ifmatch_engine::{Auth, Client, ClientConfig, Outcome, Precondition, Validator};
use ifmatch_tests::apache::Apache;

const SETTINGS: &str = "{\n  \"theme\": \"light\",\n  \"pageSize\": 50\n}\n";

fn client() -> Client {
    Client::new(ClientConfig::default(), Auth::None).unwrap()
}

#[tokio::test]
async fn read_write_create_delete_and_stale_write() {
    let apache = Apache::start(&[("settings.json", SETTINGS)]);
    let c = client();
    let url = format!("{}/settings.json", apache.url);

    // Read: a strong digest ETag.
    let Outcome::Fetched { doc, .. } = c.get(&url).await else {
        panic!("read failed")
    };
    assert_eq!(doc.text, SETTINGS);
    let Some(Validator::Etag { tag: v1 }) = doc.validator.clone() else {
        panic!("{doc:?}")
    };
    assert!(!v1.weak, "FileETag Digest gives strong tags: {v1}");
    // Revalidation: 304 from Apache, body from the cache.
    assert!(matches!(
        c.get(&url).await,
        Outcome::Fetched {
            from_cache: true,
            ..
        }
    ));

    // Conditional write: Apache answers 204 without an ETag, so the client GETs to learn it.
    let mine = SETTINGS.replace("light", "dark");
    let out = c.put(&url, &mine, Precondition::IfMatch(v1.clone())).await;
    let Outcome::Saved {
        doc: Some(saved),
        validator_from: ValidatorSource::Refetch,
        ..
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(saved.text, mine);
    let v2 = saved.validator.unwrap().etag().unwrap().clone();
    assert_ne!(v2.opaque, v1.opaque);
    assert_eq!(apache.file("settings.json").unwrap(), mine);

    // Stale write: refused with 412, the file keeps the first write.
    let theirs = SETTINGS.replace("50", "100");
    let out = c
        .put(&url, &theirs, Precondition::IfMatch(v1.clone()))
        .await;
    assert!(
        matches!(out, Outcome::Conflict { status: 412, .. }),
        "{out:?}"
    );
    assert_eq!(apache.file("settings.json").unwrap(), mine);

    // Create: If-None-Match: * makes a new file, and refuses to overwrite an existing one.
    let new_url = format!("{}/flags.json", apache.url);
    let out = c.create(&new_url, "{\"beta\": true}\n").await;
    assert!(matches!(out, Outcome::Saved { status: 201, .. }), "{out:?}");
    let again = c.create(&new_url, "{\"beta\": false}\n").await;
    assert!(
        matches!(again, Outcome::Conflict { status: 412, .. }),
        "{again:?}"
    );
    assert_eq!(apache.file("flags.json").unwrap(), "{\"beta\": true}\n");

    // Delete: stale If-Match refused, current one accepted; then 404.
    let out = c.delete(&url, Precondition::IfMatch(v1)).await;
    assert!(matches!(out, Outcome::Conflict { .. }), "{out:?}");
    let out = c.delete(&url, Precondition::IfMatch(v2)).await;
    assert!(matches!(out, Outcome::Deleted { .. }), "{out:?}");
    assert_eq!(c.get(&url).await, Outcome::NotFound);
    assert!(apache.file("settings.json").is_none());
}

#[tokio::test]
async fn apache_serving_a_non_json_file_is_reported() {
    let apache = Apache::start(&[("index.html", "<html><body>It works!</body></html>")]);
    match client().get(&format!("{}/index.html", apache.url)).await {
        Outcome::InvalidResponse { problem, detail } => {
            assert_eq!(problem, ifmatch_engine::outcome::AnswerProblem::NotJson);
            assert!(detail.contains("text/html"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}

/// Apache's default `FileETag` (mtime + size): the ETag is weak for about a second after each
/// change of the file, and Apache (rightly) refuses If-Match with it. A save in that second must
/// not say "the resource changed" or give up: nothing changed.
#[tokio::test]
async fn default_file_etag_weak_for_a_moment_is_waited_out_not_called_a_change() {
    use ifmatch_engine::merge::Options;
    use ifmatch_engine::session::{self, Policy, SaveResult, Version, WriteMethod};
    let apache = Apache::start_with(&[("settings.json", SETTINGS)], "MTime Size");
    let c = client();
    let url = format!("{}/settings.json", apache.url);
    let policy = Policy {
        auto_resubmit: true,
        max_rounds: 5,
        check_around_writes: false,
    };
    // The file changes on disk just now, so Apache hands out a weak tag for it.
    let load = || async {
        // (Retried: a read that a loaded machine delays past the second sees a strong tag.)
        for _ in 0..5 {
            std::fs::write(apache.dir.join("data/settings.json"), SETTINGS).unwrap();
            let out = c.get_fresh(&url).await;
            let Outcome::Fetched { doc, .. } = out else {
                panic!("read failed: {out:?}")
            };
            if doc
                .validator
                .as_ref()
                .and_then(|v| v.etag())
                .is_some_and(|t| t.weak)
            {
                return Version {
                    text: doc.text,
                    validator: doc.validator,
                };
            }
        }
        panic!("Apache's default FileETag gave no weak tag for a file changed this second");
    };
    let base = load().await;
    let mine = SETTINGS.replace("light", "dark");
    let report = session::save(
        &c,
        &url,
        base,
        mine.clone(),
        WriteMethod::Put,
        &Options::default(),
        policy,
    )
    .await;
    let SaveResult::Saved { base: saved, .. } = &report.result else {
        panic!("{:?}", report.result)
    };
    assert_eq!(apache.file("settings.json").unwrap(), mine);
    assert_eq!(saved.text, mine);
    assert_eq!(report.rounds, 2);
    assert_eq!(report.merged_from_theirs, 0);
    assert!(
        report.notes.len() == 1 && report.notes[0].contains("weak validator"),
        "{:?}",
        report.notes
    );

    // Someone else really changes it in that second: the normal merge, not the wait.
    let base = load().await;
    let theirs = SETTINGS.replace("50", "100");
    std::fs::write(apache.dir.join("data/settings.json"), &theirs).unwrap();
    let report = session::save(
        &c,
        &url,
        base,
        mine.clone(),
        WriteMethod::Put,
        &Options::default(),
        policy,
    )
    .await;
    assert!(
        matches!(report.result, SaveResult::Saved { .. }),
        "{:?}",
        report.result
    );
    let on_disk: serde_json::Value =
        serde_json::from_str(&apache.file("settings.json").unwrap()).unwrap();
    assert_eq!(
        on_disk,
        serde_json::json!({"theme": "dark", "pageSize": 100})
    );
    // The merge's resubmit carries the other writer's tag, weak too in that second: waited out
    // the same way (and said), never called "the server kept changing".
    assert!(report.merged_from_theirs > 0, "{report:?}");
    assert!(
        report.notes.iter().all(|n| n.contains("weak validator")),
        "{report:?}"
    );
}

/// `ifmatch put` on Apache's default `FileETag`: the weak tag of a file changed this second is
/// waited out (the write goes again with the strong tag for the same version), the validator
/// printed is strong so a chained `put --if-match` works at once, and a stale tag is still a
/// conflict.
#[test]
fn put_chains_on_default_file_etag_and_a_stale_tag_stays_a_conflict() {
    use std::process::Command;
    let apache = Apache::start_with(&[("settings.json", SETTINGS)], "MTime Size");
    let url = format!("{}/settings.json", apache.url);
    let dir = apache.dir.clone();
    let put = |text: &str, if_match: Option<&str>| {
        let f = dir.join("mine.json");
        std::fs::write(&f, text).unwrap();
        let mut c = Command::new(ifmatch_tests::ifmatch_bin());
        c.arg("put").arg(&url).arg(&f);
        if let Some(t) = if_match {
            c.arg("--if-match").arg(t);
        }
        c.output().unwrap()
    };
    // Changed on disk "now" (its mtime 1.5 s ahead, so that the weak moment outlasts a slow
    // start of the command on a loaded machine): Apache hands out a weak tag until a second
    // after that.
    let path = apache.dir.join("data/settings.json");
    std::fs::write(&path, SETTINGS).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_millis(1500))
        .unwrap();
    let one = SETTINGS.replace("light", "dark");
    let o = put(&one, None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains("weak validator"),
        "the weak tag was refused and waited out: {err}"
    );
    let first = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(
        first.starts_with('"'),
        "a strong tag is printed: {first:?} ({err})"
    );
    assert_eq!(apache.file("settings.json").unwrap(), one);
    // Chained straight away with the printed tag.
    let two = one.replace("50", "60");
    let o = put(&two, Some(&first));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let second = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(second.starts_with('"') && second != first, "{second:?}");
    assert_eq!(apache.file("settings.json").unwrap(), two);
    // The first tag is stale now: a real conflict, said as one, nothing overwritten.
    let o = put(&SETTINGS.replace("50", "70"), Some(&first));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("changed on the server"), "{err}");
    assert_eq!(apache.file("settings.json").unwrap(), two);
}

/// The server check on both FileETag modes: protected with strong digests; with the default
/// (mtime + size), protected with the caveat that the ETag is weak for a moment after a write.
#[test]
fn the_check_finds_apache_protected_in_both_file_etag_modes() {
    for (mode, verdict) in [("Digest", "protected"), ("MTime Size", "caveats")] {
        let apache = Apache::start_with(&[("settings.json", SETTINGS)], mode);
        let state = apache.dir.join("ifmatch-state");
        let url = format!("{}/settings.json", apache.url);
        let o = ifmatch_tests::run_cli(&state, &["check", &url, "--json"], None);
        let report: serde_json::Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{mode}: {e}: {}", String::from_utf8_lossy(&o.stderr)));
        assert_eq!(o.status.code(), Some(0), "{mode}: {report}");
        assert_eq!(report["verdict"], verdict, "{mode}: {report}");
        let marks: Vec<(String, String)> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["topic"].as_str().unwrap().to_string(),
                    f["mark"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        for topic in ["if_match", "if_none_match", "delete"] {
            assert!(
                marks.contains(&(topic.to_string(), "good".to_string())),
                "{mode}: {topic}: {marks:?}"
            );
        }
        if mode != "Digest" {
            assert!(
                marks.contains(&("weak_for_a_moment".to_string(), "caveat".to_string())),
                "{mode}: {marks:?}"
            );
        }
        assert_eq!(apache.file("settings.json").unwrap(), SETTINGS);
        let left = std::fs::read_dir(apache.dir.join("data")).unwrap().count();
        assert_eq!(left, 1, "{mode}: the scratch resource is gone");
    }
}

async fn read_version(c: &Client, url: &str) -> ifmatch_engine::session::Version {
    match c.get_fresh(url).await {
        Outcome::Fetched { doc, .. } => ifmatch_engine::session::Version {
            text: doc.text,
            validator: doc.validator,
        },
        other => panic!("{other:?}"),
    }
}

/// The server's own write lock (WebDAV class 2): a save takes it around read → compare → write,
/// a writer without the token is held off (423) meanwhile, it is released after the save, and a
/// lock left by a save that was killed expires by itself so the next save goes through.
#[tokio::test(flavor = "multi_thread")]
async fn a_save_under_the_servers_lock() {
    use ifmatch_engine::client::lock::{LockTaken, LOCK_SECONDS};
    use ifmatch_engine::merge::Options;
    use ifmatch_engine::session::{self, Policy, SaveResult, WriteMethod};
    let apache = Apache::start(&[("cfg.json", "{\"n\": 0}")]);
    let url = format!("{}/cfg.json", apache.url);
    let policy = Policy {
        auto_resubmit: true,
        max_rounds: 5,
        check_around_writes: false,
    };
    // While one client holds the lock, a write without its token is refused with 423.
    let holder = client();
    holder.use_server_lock(true);
    assert_eq!(
        holder.lock(&url, std::time::Duration::from_secs(1)).await,
        LockTaken::Held
    );
    let other = client();
    let v = read_version(&other, &url).await;
    let out = other
        .put(
            &url,
            "{\"n\": 9}",
            v.validator.as_ref().unwrap().precondition(),
        )
        .await;
    assert!(
        matches!(out, Outcome::HttpError { status: 423, .. }),
        "{out:?}"
    );
    assert!(holder.unlock(&url).await, "released");

    // A save under the lock: said, and the lock is gone afterwards (an unlocked write works).
    let saver = client();
    saver.use_server_lock(true);
    let base = read_version(&saver, &url).await;
    let r = session::save(
        &saver,
        &url,
        base,
        "{\"n\": 1}".into(),
        WriteMethod::Put,
        &Options::default(),
        policy,
    )
    .await;
    assert!(
        matches!(r.result, SaveResult::Saved { .. }),
        "{:?}",
        r.result
    );
    assert!(r.under_lock, "{r:?}");
    assert_eq!(apache.file("cfg.json").unwrap(), "{\"n\": 1}");
    let v = read_version(&other, &url).await;
    let out = other
        .put(
            &url,
            "{\"n\": 2}",
            v.validator.as_ref().unwrap().precondition(),
        )
        .await;
    assert!(out.is_success(), "the save released its lock: {out:?}");

    // A save killed while holding the lock: the next save waits for it to expire, then saves.
    let killed = client();
    killed.use_server_lock(true);
    assert_eq!(
        killed.lock(&url, std::time::Duration::from_secs(1)).await,
        LockTaken::Held
    );
    drop(killed);
    let started = std::time::Instant::now();
    let base = read_version(&saver, &url).await;
    let r = session::save(
        &saver,
        &url,
        base,
        "{\"n\": 3}".into(),
        WriteMethod::Put,
        &Options::default(),
        policy,
    )
    .await;
    assert!(
        matches!(r.result, SaveResult::Saved { .. }),
        "{:?}",
        r.result
    );
    assert!(r.under_lock, "{r:?}");
    assert!(started.elapsed() <= std::time::Duration::from_secs(LOCK_SECONDS + 2));
    assert_eq!(apache.file("cfg.json").unwrap(), "{\"n\": 3}");
}
