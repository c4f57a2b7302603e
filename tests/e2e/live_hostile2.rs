//! Second hostile pass on live tabs (fresh eyes): restarts, dialects, deletions, broken
//! servers, two dirty tabs, a bad interval.

use crate::live::{another_client_sets, trail_rows, until_watched};
use crate::support::*;

async fn live_status_text(c: &Client) -> String {
    let t = js(
        c,
        "const e = document.getElementById('live-status'); return e.textContent + ' | title: ' + e.title",
    )
    .await;
    t.as_str().unwrap_or_default().to_string()
}

async fn add_fault(demo: &str, fault: Value) {
    let r = reqwest::Client::new()
        .post(format!("{demo}/_demo/faults"))
        .body(fault.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "fault set");
}

/// A garbage `IFMATCH_LIVE_INTERVAL`: the app says it does not take it, and the user can read
/// that where the watch is described (the status line), once the watch is running.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile2_a_garbage_interval_is_said() {
    let _g = serial().await;
    let d = Driver::start(&[
        ("IFMATCH_LIVE", "on"),
        ("IFMATCH_LIVE_INTERVAL", "fast please"),
    ]);
    let c = d.session().await;
    first_tab(&c).await;
    until_watched(&c).await;
    // Long enough for the watch's first poll and its "Watching" notice.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let said = live_status_text(&c).await;
    eprintln!("status line: {said:?}");
    screenshot(&c, "live-hostile2-garbage-interval").await;
    assert!(
        said.contains("IFMATCH_LIVE_INTERVAL"),
        "the bad setting is not said once the watch runs: {said:?}"
    );
}

/// The resource deleted on the server while a tab shows it, then edited and saved: the tab says
/// it is gone, and Save does not silently bring it back.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile2_a_deleted_resource_is_said_and_not_silently_recreated() {
    let (_g, _d, c) = crate::live::live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let etag = reqwest::get(&url).await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let r = reqwest::Client::new()
        .delete(&url)
        .header("If-Match", etag)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "deleted: {}", r.status());
    let said = wait_for("the tab says the resource is gone", || async {
        let s = live_status_text(&c).await;
        let n = text_of(&c, "merge-summary").await;
        let all = format!("{s} || {n}");
        (all.to_lowercase().contains("gone")
            || all.to_lowercase().contains("deleted")
            || all.contains("410"))
        .then_some(all)
    })
    .await;
    eprintln!("said: {said}");
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme After Delete"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit").await;
    click(&c, &tid("save")).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = tab_status(&c, 0).await;
    let notice = text_of(&c, "merge-summary").await;
    let now = reqwest::get(&url).await.unwrap().status();
    let rows = trail_rows(&c).await;
    let shown = js(&c, "return [...document.querySelectorAll('[role=alert], .error, [data-testid=\"error\"], #problem, [data-testid=\"problem\"]')].map(e => e.id + ':' + e.textContent).join(' | ') + ' || ' + document.body.innerText.slice(0, 1500)").await;
    eprintln!("after save: tab {status:?}, notice {notice:?}, server GET {now}, window {shown}, trail {rows:#?}");
    screenshot(&c, "live-hostile2-deleted").await;
    assert!(
        editor_text(&c, "editor")
            .await
            .contains("Acme After Delete"),
        "the user's text is kept"
    );
    assert!(
        !(now.is_success() && status == "clean"),
        "the deleted resource was recreated with no question (tab {status}, {notice:?})"
    );
}

/// The watch's reads answered with 500s, then with a 200 whose body is not JSON (a proxy's
/// error page): the clean tab keeps its document, the dirty edit is kept, the status line says a
/// read failed, and once the server is well again its change arrives.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile2_broken_watch_reads_change_nothing_and_recover() {
    let (_g, _d, c) = crate::live::live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let demo = demo_url(&c).await;
    let url = format!("{demo}/settings");
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Broken"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit").await;
    add_fault(
        &demo,
        json!({"path": "/settings", "method": "GET", "count": 4, "status": 500}),
    )
    .await;
    add_fault(
        &demo,
        json!({"path": "/settings", "method": "GET", "count": 4, "status": 200,
               "content_type": "text/html", "body": "<html><body>Bad gateway</body></html>",
               "headers": {"etag": "\"proxy-page\""}}),
    )
    .await;
    // Another admin changes the resource: the stream announces it, and the watch's read of
    // it meets the faults.
    let r = reqwest::Client::new()
        .post(format!("{demo}/_demo/another-admin/settings"))
        .body(r#"{"limits": {"maxUploadMb": 660}}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let mut failed_said = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let s = live_status_text(&c).await;
        if s.contains("failed") || s.contains("not JSON") || s.contains("500") {
            failed_said = s;
        }
        let t = editor_text(&c, "editor").await;
        assert!(
            t.contains("Acme Broken") && !t.contains("Bad gateway"),
            "the edit changed under a broken read: {t}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let notice = text_of(&c, "merge-summary").await;
    eprintln!(
        "said during the faults: {failed_said:?}; now {:?}; notice {notice:?}; editor has 660: {}",
        live_status_text(&c).await,
        editor_text(&c, "editor").await.contains("660")
    );
    let _ = reqwest::Client::new()
        .delete(format!("{demo}/_demo/faults"))
        .send()
        .await;
    // Well again: another admin's change reaches the edit.
    another_client_sets(&url, "/limits/maxUploadMb", json!(661)).await;
    wait_for("the server's change merged after the faults", || async {
        editor_text(&c, "editor")
            .await
            .contains("661")
            .then_some(())
    })
    .await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    let s = read_demo(&url).await;
    assert_eq!(s["siteName"], json!("Acme Broken"));
    assert_eq!(s["limits"]["maxUploadMb"], json!(661));
    assert!(!failed_said.is_empty(), "the failing reads were never said");
}

/// A live merge, then the app killed (the draft holds the merged edit and stands on the merged
/// version), then another admin changes something else while the app is down: the restored tab
/// merges that too; Save keeps the user's edit, the first server change and the second.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile2_restart_after_a_live_merge_keeps_everything() {
    let one_at_a_time = serial().await;
    let home = fresh_home("live-hostile2-restart");
    let env = [("IFMATCH_LIVE", "on"), ("IFMATCH_LIVE_INTERVAL", "0.5")];
    let demo = DemoProcess::start(&[], &[]);
    let url = format!("{}/settings", demo.url);
    let mut env2 = env.to_vec();
    env2.push(("IFMATCH_API_URL", demo.url.as_str()));
    {
        let d = Driver::start_in(&home, &env2);
        let c = d.session().await;
        open(&c, "/settings").await;
        until_watched(&c).await;
        let mine = edit(
            &editor_text(&c, "editor").await,
            "/siteName",
            json!("Acme Restart"),
        );
        set_editor(&c, "editor", &mine).await;
        until_status(&c, 0, "dirty", "the edit").await;
        another_client_sets(&url, "/limits/maxUploadMb", json!(671)).await;
        wait_for("merged into the edit", || async {
            editor_text(&c, "editor")
                .await
                .contains("671")
                .then_some(())
        })
        .await;
        wait_for_draft(&home, "671").await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        kill_app();
        let _ = c.close().await;
        drop(d);
    }
    another_client_sets(&url, "/notifications/email", json!(false)).await;
    {
        let d = Driver::start_in(&home, &env2);
        let c = d.session().await;
        wait_for("the restored tab", || async {
            matches!(tab_status(&c, 0).await.as_str(), "dirty" | "stale").then_some(())
        })
        .await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        let shown = editor_text(&c, "editor").await;
        let notice = text_of(&c, "merge-summary").await;
        eprintln!("restored: {:?} notice {notice:?}", tab_status(&c, 0).await);
        assert!(
            shown.contains("Acme Restart") && shown.contains("671"),
            "{shown}"
        );
        click(&c, &tid("save")).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let st = tab_status(&c, 0).await;
            if st == "clean" || Instant::now() > deadline {
                break;
            }
            if visible(&c, "resubmit").await {
                click(&c, &tid("resubmit")).await;
            } else if visible(&c, "save").await && st == "dirty" {
                click(&c, &tid("save")).await;
            }
            tokio::time::sleep(Duration::from_millis(700)).await;
        }
        let s = read_demo(&url).await;
        let rows = trail_rows(&c).await;
        eprintln!("server {s}; trail {rows:#?}");
        screenshot(&c, "live-hostile2-restart").await;
        let _ = c.close().await;
        drop(d);
        drop(one_at_a_time);
        assert_eq!(s["siteName"], json!("Acme Restart"));
        assert_eq!(
            s["limits"]["maxUploadMb"],
            json!(671),
            "the merged change kept"
        );
        assert_eq!(
            s["notifications"]["email"],
            json!(false),
            "the change made while the app was closed kept"
        );
    }
}

/// A Kubernetes ConfigMap where another client writes the same data (only resourceVersion, a
/// server-owned field, moves): the dirty tab says no change arrived, and Save is one PUT, no 409.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile2_a_dialect_version_bump_alone_is_no_change() {
    let _one_at_a_time = serial().await;
    let demo = DemoProcess::start(&[], &[]);
    let path = "/api/v1/namespaces/default/configmaps/settings";
    let url = format!("{}{path}", demo.url);
    let d = Driver::start(&[("IFMATCH_LIVE", "on"), ("IFMATCH_LIVE_INTERVAL", "0.5")]);
    let c = d.session().await;
    first_tab(&c).await;
    crate::connections::new_connection(&c).await;
    set_field(&c, "c-name", "Cluster").await;
    set_field(&c, "c-url", &demo.url).await;
    set_field(&c, "c-dialect", "kubernetes").await;
    click(&c, "#c-save").await;
    wait_for("the dialog to close", || async {
        (!visible(&c, "connection-dialog").await).then_some(())
    })
    .await;
    open(&c, path).await;
    let loaded = wait_for("the ConfigMap", || async {
        let t = editor_text(&c, "editor").await;
        t.contains("pageSize").then_some(t)
    })
    .await;
    until_watched(&c).await;
    set_editor(&c, "editor", &edit(&loaded, "/data/theme", json!("dark"))).await;
    let idx = js(
        &c,
        "return [...document.querySelectorAll('[data-testid=\"tab\"]')].length - 1",
    )
    .await;
    let idx = idx.as_u64().unwrap() as usize;
    until_status(&c, idx, "dirty", "the edit").await;
    let before_notice = text_of(&c, "merge-summary").await;
    for _ in 0..3 {
        let same = read_demo(&url).await;
        let r = reqwest::Client::new()
            .put(&url)
            .body(same.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the same data written again");
        tokio::time::sleep(Duration::from_millis(800)).await;
    }
    let rv = read_demo(&url).await["metadata"]["resourceVersion"].clone();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let notice = text_of(&c, "merge-summary").await;
    eprintln!(
        "rv now {rv}; notice before {before_notice:?}, after {notice:?}; status {:?}",
        live_status_text(&c).await
    );
    assert!(
        !notice.contains("from the server") && !notice.contains("newer version"),
        "a change is said where only server-owned fields moved: {notice:?}"
    );
    click(&c, &tid("save")).await;
    wait_for("saved", || async {
        let n = text_of(&c, "merge-summary").await;
        (n.starts_with("Saved") || tab_status(&c, idx).await == "merged" || n.contains("conflict"))
            .then_some(())
    })
    .await;
    let rows = trail_rows(&c).await;
    let now = read_demo(&url).await;
    eprintln!("server {now}; trail {rows:#?}");
    assert_eq!(
        now["data"]["theme"],
        json!("dark"),
        "saved at once: {rows:#?}"
    );
    assert!(
        !rows.iter().any(|r| r.contains("409") || r.contains("412")),
        "a refused write on the wire: {rows:#?}"
    );
    c.close().await.unwrap();
}

/// Two tabs on one resource, both with unsaved, disjoint edits, and a server change: each tab
/// gets the server's change merged in; saving the first then the second keeps all three.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile2_two_dirty_tabs_and_a_server_change_lose_nothing() {
    let (_g, _d, c) = crate::live::live_app(&[]).await;
    two_tabs(&c, &Server::Demo).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    // Tab 1 (active): siteName.
    let t1 = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Tab Two Site"),
    );
    set_editor(&c, "editor", &t1).await;
    until_status(&c, 1, "dirty", "tab 2 edit").await;
    activate(&c, 0).await;
    let t0 = edit(
        &editor_text(&c, "editor").await,
        "/notifications/email",
        json!(false),
    );
    set_editor(&c, "editor", &t0).await;
    until_status(&c, 0, "dirty", "tab 1 edit").await;
    another_client_sets(&url, "/limits/maxUploadMb", json!(681)).await;
    wait_for("tab 1 merged", || async {
        editor_text(&c, "editor")
            .await
            .contains("681")
            .then_some(())
    })
    .await;
    activate(&c, 1).await;
    wait_for("tab 2 merged", || async {
        editor_text(&c, "editor")
            .await
            .contains("681")
            .then_some(())
    })
    .await;
    assert!(editor_text(&c, "editor").await.contains("Tab Two Site"));
    click(&c, &tid("save")).await;
    until_status(&c, 1, "clean", "tab 2 saved").await;
    activate(&c, 0).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let shown0 = editor_text(&c, "editor").await;
    eprintln!(
        "tab 1 now {:?}: has Tab Two Site {}",
        tab_status(&c, 0).await,
        shown0.contains("Tab Two Site")
    );
    click(&c, &tid("save")).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let st = tab_status(&c, 0).await;
        if st == "clean" || Instant::now() > deadline {
            break;
        }
        if visible(&c, "resubmit").await {
            click(&c, &tid("resubmit")).await;
        } else if st == "dirty" {
            click(&c, &tid("save")).await;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let s = read_demo(&url).await;
    let rows = trail_rows(&c).await;
    eprintln!("server {s}; trail {rows:#?}");
    assert_eq!(s["siteName"], json!("Tab Two Site"));
    assert_eq!(s["notifications"]["email"], json!(false));
    assert_eq!(s["limits"]["maxUploadMb"], json!(681));
}

/// A change announced on the event stream whose read is answered 500 twice: once the server is
/// well again the watch must read it (the status line says it "keeps trying"), and the status
/// line must then stop saying that a read failed.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile2_a_read_failure_is_unsaid_once_the_watch_recovers() {
    let (_g, _d, c) = crate::live::live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let demo = demo_url(&c).await;
    add_fault(
        &demo,
        json!({"path": "/settings", "method": "GET", "count": 2, "status": 500}),
    )
    .await;
    let r = reqwest::Client::new()
        .post(format!("{demo}/_demo/another-admin/settings"))
        .body(r#"{"limits": {"maxUploadMb": 662}}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    wait_for("the failure said", || async {
        live_status_text(&c)
            .await
            .contains("a read failed")
            .then_some(())
    })
    .await;
    wait_for("the change shown once the server is well", || async {
        editor_text(&c, "editor")
            .await
            .contains("662")
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let said = live_status_text(&c).await;
    screenshot(&c, "live-hostile2-read-failure-unsaid").await;
    assert!(
        !said.contains("a read failed"),
        "the watch read the change; the status line still says: {said:?}"
    );
}

/// The watch's read of a change answered with a status object under 200 (a proxy's
/// `{"status": "ok"}`, with its own ETag): neither the clean tab nor the edit takes it as the
/// newer version (a wiped document, every member's deletion merged into the edit); the tab says
/// what arrived; once the server answers with the document again, its change arrives, the
/// notice is gone, and Save writes the edit with it.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile2_a_status_object_is_not_taken_for_the_document() {
    let (_g, _d, c) = crate::live::live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let demo = demo_url(&c).await;
    let url = format!("{demo}/settings");
    let status_object = |n: u32| {
        json!({"path": "/settings", "method": "GET", "count": n, "status": 200,
               "content_type": "application/json",
               "body": "{\"status\": \"ok\", \"message\": \"accepted\"}",
               "headers": {"etag": "\"status-page\""}})
    };
    let unlike_said = || async {
        let n = text_of(&c, "merge-summary").await;
        n.contains("does not look like the document").then_some(n)
    };
    for dirty in [false, true] {
        if dirty {
            let mine = edit(
                &editor_text(&c, "editor").await,
                "/siteName",
                json!("Acme Status"),
            );
            set_editor(&c, "editor", &mine).await;
            until_status(&c, 0, "dirty", "the edit").await;
        }
        let before = editor_text(&c, "editor").await;
        add_fault(&demo, status_object(100)).await;
        // Another admin's change, written inside the server (its reads meet the fault too).
        let r = reqwest::Client::new()
            .post(format!("{demo}/_demo/another-admin/settings"))
            .body(format!(
                r#"{{"limits": {{"maxUploadMb": {}}}}}"#,
                if dirty { 720 } else { 710 }
            ))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let said = wait_for("the status object said", unlike_said).await;
        assert!(said.contains("status, message"), "{said}");
        // It stays out of the tab while the server keeps answering it.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = editor_text(&c, "editor").await;
        assert_eq!(now, before, "the tab changed under a status object");
        assert!(!now.contains("accepted"));
        let _ = reqwest::Client::new()
            .delete(format!("{demo}/_demo/faults"))
            .send()
            .await;
        // The document again, with a newer change: it arrives, and the notice is gone.
        let value = if dirty { 721 } else { 711 };
        another_client_sets(&url, "/limits/maxUploadMb", json!(value)).await;
        wait_for("the server's change after the status object", || async {
            let t = editor_text(&c, "editor").await;
            (t.contains(&value.to_string()) && (!dirty || t.contains("Acme Status"))).then_some(())
        })
        .await;
        assert!(
            unlike_said().await.is_none(),
            "the status object is still said"
        );
    }
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    let s = read_demo(&url).await;
    assert_eq!(s["siteName"], json!("Acme Status"));
    assert_eq!(s["limits"]["maxUploadMb"], json!(721));
    assert!(s.get("status").is_none(), "{s}");
}
