//! Drafts: edits and decisions survive kill -9 and come back on the running demo.

use crate::support::*;

/// The draft files there are, parsed (written whole by a rename: never read half-written).
pub fn drafts(home: &std::path::Path) -> Vec<Value> {
    std::fs::read_dir(drafts_dir(home))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap())
        .collect()
}

/// The one draft file there is, parsed.
pub fn only_draft(home: &std::path::Path) -> Value {
    let mut all = drafts(home);
    assert_eq!(all.len(), 1, "one draft");
    all.remove(0)
}

/// The decisions (Accepts) recorded in the only draft under `home`: the choice per conflict.
pub fn draft_decisions(home: &std::path::Path) -> Vec<Option<String>> {
    only_draft(home)["round"]["decisions"]
        .as_array()
        .expect("the round's decisions")
        .iter()
        .map(|x| x["choice"].as_str().map(String::from))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_drafts_survive_kill_9() {
    let _one_at_a_time = serial().await;
    let demo = DemoProcess::start(&[], &[]);
    let settings_url = format!("{}/settings", demo.url);
    let env = [("IFMATCH_API_URL", demo.url.as_str())];

    // 1. In the middle of an edit.
    let home = fresh_home("kill");
    {
        let d = Driver::start_in(&home, &env);
        let c = d.session().await;
        open(&c, "/settings").await;
        let t = editor_text(&c, "editor").await;
        set_editor(
            &c,
            "editor",
            &edit(&t, "/siteName", json!("Typed before the crash")),
        )
        .await;
        wait_for_draft(&home, "Typed before the crash").await;
        kill_app();
        let _ = c.close().await;
    }
    // While the app is down, another admin changes the resource: the draft's base is now stale.
    let r = reqwest::Client::new()
        .post(format!("{}/_demo/another-admin/settings", demo.url))
        .body(r#"{"notifications": {"email": false}}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    {
        let d = Driver::start_in(&home, &env);
        let c = d.session().await;
        // "dirty", or already "stale": the server changed while the app was down.
        wait_for("the restored tab", || async {
            matches!(tab_status(&c, 0).await.as_str(), "dirty" | "stale").then_some(())
        })
        .await;
        assert!(editor_text(&c, "editor")
            .await
            .contains("Typed before the crash"));
        assert!(text_of(&c, "merge-summary")
            .await
            .contains("restored from drafts"));
        screenshot(&c, "drafts-restored-edit").await;
        // Closing a tab with unsaved work asks first; declining keeps it.
        click(&c, &format!("{} {}", tid("tab"), tid("tab-close"))).await;
        wait_for("the question", || async { c.get_alert_text().await.ok() }).await;
        c.dismiss_alert().await.unwrap();
        // Still there, edits intact; dismissing refocuses the window, and the focus check may
        // already have noticed that the server changed meanwhile ("stale").
        let st = tab_status(&c, 0).await;
        assert!(
            st == "dirty" || st == "stale",
            "the tab is still there: {st}"
        );
        assert!(editor_text(&c, "editor")
            .await
            .contains("Typed before the crash"));
        // The stale base goes through the normal merge: the other admin's change is kept.
        click(&c, &tid("save")).await;
        until_status(&c, 0, "merged", "the merge").await;
        click(&c, &tid("resubmit")).await;
        until_status(&c, 0, "clean", "saved").await;
        let s = read_demo(&settings_url).await;
        assert_eq!(s["siteName"], "Typed before the crash");
        assert_eq!(
            s["notifications"]["email"], false,
            "the other admin's change is kept"
        );
        let left: Vec<_> = std::fs::read_dir(drafts_dir(&home))
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .collect();
        assert!(left.is_empty(), "a saved tab leaves no draft");
        c.close().await.unwrap();
    }

    // 2. In the middle of a conflict resolution.
    let home = fresh_home("kill");
    {
        let d = Driver::start_in(&home, &env);
        let c = d.session().await;
        open(&c, "/settings").await;
        open(&c, "/settings").await;
        collide(&c).await;
        // The round's draft: Rust writes the Result it answered with (the window sends no copy
        // of a text it was just given), and it is the text the editor shows.
        let shown = editor_text(&c, "editor").await;
        wait_for("the round's draft", || async {
            match &drafts(&home)[..] {
                [d] => (d["round"].is_object() && d["text"] == shown.as_str()).then_some(()),
                _ => None,
            }
        })
        .await;
        assert_eq!(
            js(&c, "return window.ifmatchCallsOf('save_round_draft');").await,
            1,
            "the round's draft is Rust's own copy"
        );
        assert_eq!(draft_decisions(&home), vec![None, None]);
        click(&c, &result_accept(0, "mine")).await;
        // The window shows the Accept only once Rust has written it into the draft: from the
        // moment the list says "→ mine", a crash cannot lose it.
        wait_for("the Accept shown", || async {
            let r = c
                .execute("return document.querySelector('[data-testid=\"conflict-item\"]').dataset.resolution;", vec![])
                .await
                .ok()?;
            (r.as_str()? == "mine").then_some(())
        })
        .await;
        assert_eq!(
            draft_decisions(&home),
            vec![Some("mine".to_string()), None],
            "the decision is on disk before the window says so"
        );
        kill_app();
        let _ = c.close().await;
    }
    {
        let d = Driver::start_in(&home, &env);
        let c = d.session().await;
        wait_conflict_view(&c, "the restored conflict view").await;
        assert!(
            text_of(&c, "unresolved-count").await.starts_with("1 of 2"),
            "the resolution made before the crash is back"
        );
        let r = editor_text(&c, "editor").await;
        assert!(r.contains("\"Acme Care\""), "{r}");
        screenshot(&c, "drafts-restored-conflict").await;
        set_editor(&c, "editor", &edit(&r, "/limits/maxUploadMb", json!(75))).await;
        wait_for("all resolved", || async {
            text_of(&c, "unresolved-count")
                .await
                .starts_with("All")
                .then_some(())
        })
        .await;
        click(&c, &tid("resubmit")).await;
        wait_for("the question about 75", || async {
            c.get_alert_text().await.ok()
        })
        .await;
        c.accept_alert().await.unwrap();
        until_status(&c, 0, "clean", "saved").await;
        let s = read_demo(&settings_url).await;
        assert_eq!(s["siteName"], "Acme Care");
        assert_eq!(s["limits"]["maxUploadMb"], 75);
        c.close().await.unwrap();
    }
}

/// Issue 34, item 4: a draft made on the built-in demo, restored after the app was killed,
/// points at the demo running now (a new port each start): Save reaches it instead of failing
/// with "Connection refused".
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_restored_demo_draft_saves_to_the_running_demo() {
    let _one_at_a_time = serial().await;
    let home = fresh_home("demo-draft");
    let first_url;
    {
        let d = Driver::start_in(&home, &[]);
        let c = d.session().await;
        first_tab(&c).await;
        first_url = demo_url(&c).await;
        let t = editor_text(&c, "editor").await;
        set_editor(
            &c,
            "editor",
            &edit(&t, "/siteName", json!("Kept across runs")),
        )
        .await;
        wait_for_draft(&home, "Kept across runs").await;
        kill_app();
        let _ = c.close().await;
    }
    let d = Driver::start_in(&home, &[]);
    let c = d.session().await;
    until_status(&c, 0, "dirty", "the restored tab").await;
    let now_url = demo_url(&c).await;
    assert_ne!(first_url, now_url, "the demo runs on another port now");
    let tab_url = js(
        &c,
        "return document.querySelector('[data-testid=\"tab\"]').title;",
    )
    .await;
    assert_eq!(tab_url, json!(format!("{now_url}/settings")));
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    assert_eq!(
        read_demo(&format!("{now_url}/settings")).await["siteName"],
        "Kept across runs"
    );
    c.close().await.unwrap();
}
