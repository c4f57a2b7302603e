//! Saving through the merge: two tabs, other writers, servers that check If-Match, ignore it or answer 409, layouts kept, long and locked saves, documents of every size.

use crate::support::*;

pub async fn scenario_a(c: &Client, server: Server<'_>, shot: &str) {
    two_tabs(c, &server).await;
    // Tab 1: session timeout.
    activate(c, 0).await;
    let t1 = editor_text(c, "editor").await;
    set_editor(
        c,
        "editor",
        &edit(&t1, "/session/timeoutMinutes", json!(45)),
    )
    .await;
    assert_eq!(tab_status(c, 0).await, "dirty");
    // Typing paused: the lint has checked this text, and the save reuses that check instead of
    // sending the whole document to Rust again to ask.
    until_checked(c, "the lint to check the text", SHOWN_DOC).await;
    click(c, &tid("save")).await;
    until_status(c, 0, "clean", "tab 1 saved").await;
    assert_eq!(
        js(c, "return window.ifmatchLastSave.checkCalls;").await,
        json!(0),
        "the save reused the lint's check of the same text (no check_json call)"
    );
    // Tab 2 learns (If-None-Match on focus) that the server has a newer version.
    js(c, "window.dispatchEvent(new Event('focus'));").await;
    until_status(c, 1, "stale", "tab 2 to be stale").await;
    // Tab 2, loaded before that save: the digest.
    activate(c, 1).await;
    let t2 = editor_text(c, "editor").await;
    assert!(
        t2.contains("\"timeoutMinutes\": 30"),
        "tab 2 still shows the version it loaded"
    );
    set_editor(
        c,
        "editor",
        &edit(&t2, "/notifications/digest", json!("weekly")),
    )
    .await;
    click(c, &tid("save")).await;
    until_status(c, 1, "merged", "the automatic merge").await;
    let summary = text_of(c, "merge-summary").await;
    assert!(
        summary.contains("their 1 change and your 1 change merged, nothing collides"),
        "{summary}"
    );
    screenshot(c, &format!("{shot}-merged")).await;
    click(c, &tid("resubmit")).await;
    until_status(c, 1, "clean", "the resubmit").await;
    let s = server.read(c).await;
    assert_eq!(s["session"]["timeoutMinutes"], 45);
    assert_eq!(s["notifications"]["digest"], "weekly");
    screenshot(c, shot).await;
}

/// The conflict panes share the texts the window already holds instead of splitting a 10 MB
/// document into lines again: Mine is the very text object that was saved, Base the one the
/// tab showed as loaded (issue 12's memory; fails when a pane makes its text anew). And the
/// merge's Result is not sent back to Rust to be checked as JSON.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_conflict_panes_share_the_texts_the_window_holds() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    activate(&c, 0).await;
    let text = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&text, "/siteName", json!("Acme Help"))).await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "the first tab saved").await;
    let keep = |name: &'static str| {
        let c = c.clone();
        async move {
            c.execute(
                "window[arguments[0]] = document.querySelector('[data-testid=\"editor\"]').ifmatchView.state.doc;",
                vec![json!(name)],
            )
            .await
            .unwrap();
        }
    };
    activate(&c, 1).await;
    keep("ifmatchLoaded").await;
    let checks = || async { js(&c, "return window.ifmatchCallsOf('check_json');").await };
    // The shown text's own lint check first (300 ms after the switch; later under load).
    until_checked(
        &c,
        "the lint to check the shown text",
        "window.ifmatchLoaded",
    )
    .await;
    let typed = checks().await;
    set_editor(&c, "editor", &edit(&text, "/siteName", json!("Acme Care"))).await;
    keep("ifmatchSent").await;
    until_checked(&c, "the lint to check the text", "window.ifmatchSent").await;
    let before = checks().await;
    assert_eq!(
        before, typed,
        "the lint's check came with the draft's answer (no check_json call)"
    );
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    let shared = c
        .execute(
            "const doc = id => document.querySelector(`[data-testid=\"${id}\"]`).ifmatchView.state.doc; \
             return [doc('mine-pane') === window.ifmatchSent, doc('base-pane') === window.ifmatchLoaded];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        shared,
        json!([true, true]),
        "Mine and Base share the window's texts"
    );
    // The Result is the merge's own print: the lint does not send it back to Rust to be checked
    // (nor did the save check the text the lint had checked).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        checks().await,
        before,
        "no check_json call from the save to a second past the conflict view"
    );
    let name = |t: String| serde_json::from_str::<Value>(&t).unwrap()["siteName"].clone();
    assert_eq!(name(editor_text(&c, "mine-pane").await), json!("Acme Care"));
    assert_eq!(
        name(editor_text(&c, "theirs-pane").await),
        json!("Acme Help")
    );
    assert_eq!(
        name(editor_text(&c, "base-pane").await),
        serde_json::from_str::<Value>(&text).unwrap()["siteName"]
    );
    // The Result and theirs crossed the bridge as changes to the text sent and the version
    // loaded (a line or two each: the conflict's line, and the end of the text where the
    // window's lacks the final newline of Rust's print), and the window built them right:
    // theirs is what the server holds, the Result differs from it only at the conflict
    // (base's value there).
    let edits = js(&c, "return window.ifmatchLastSave.edits;").await;
    let came = |i: usize| edits[i].as_i64().is_some_and(|n| (1..=2).contains(&n));
    assert!(
        came(0) && came(1),
        "the Result and theirs came as changes: {edits}"
    );
    let server: Value = read_demo(&format!("{}/settings", demo_url(&c).await)).await;
    let theirs: Value = serde_json::from_str(&editor_text(&c, "theirs-pane").await).unwrap();
    assert_eq!(theirs, server);
    let mut result: Value = serde_json::from_str(&editor_text(&c, "editor").await).unwrap();
    result["siteName"] = server["siteName"].clone();
    assert_eq!(result, server);
}

/// Two tabs in conflict at once: each shows its own Mine / Theirs / Base and conflict list
/// (the panes showed the last round opened, whichever tab was shown, and their inline Accepts
/// then acted on the wrong tab's conflicts), and Ctrl+Z after a tab switch never brings the
/// other tab's text into this one (where Save would have written it).
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_each_tab_keeps_its_own_conflict_and_undo() {
    use fantoccini::key::Key;
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    open(&c, "/posts/1").await;
    open(&c, "/posts/1").await;
    collide(&c).await;
    collide_at(
        &c,
        (2, 3),
        &[("/title", json!("First title"), json!("Second title"))],
    )
    .await;
    let pointers = || async {
        let v = js(&c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].map(e => e.dataset.pointer);").await;
        serde_json::from_value::<Vec<String>>(v).unwrap()
    };
    for (tab, theirs, list) in [
        (3, "\"First title\"", vec!["/title"]),
        (1, "\"Acme Help\"", vec!["/siteName", "/limits/maxUploadMb"]),
        (3, "\"First title\"", vec!["/title"]),
        (1, "\"Acme Help\"", vec!["/siteName", "/limits/maxUploadMb"]),
    ] {
        activate(&c, tab).await;
        wait_conflict_view(&c, "the tab's conflict view").await;
        assert_eq!(pointers().await, list, "tab {tab}'s conflicts");
        let shown = editor_text(&c, "theirs-pane").await;
        assert!(shown.contains(theirs), "tab {tab}'s Theirs: {shown}");
        let on_screen = js(
            &c,
            "return document.querySelector('[data-testid=\"theirs-pane\"]').innerText;",
        )
        .await;
        assert!(
            on_screen.as_str().unwrap_or_default().contains(theirs),
            "tab {tab}'s Theirs on screen: {on_screen}"
        );
    }
    // Tab 1 was just shown after tab 3: undo has nothing of tab 3 to bring back.
    let before = editor_text(&c, "editor").await;
    cursor_on(&c, "\"siteName\"").await;
    type_into(&c, "editor", &chord(&[Key::Control], "z")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = editor_text(&c, "editor").await;
    assert!(
        !after.contains("First title"),
        "tab 3's text came back: {after}"
    );
    assert_eq!(after, before, "nothing to undo in a tab just shown");
    assert_eq!(tab_status(&c, 1).await, "conflict");
    c.close().await.unwrap();
}

/// (b), and with `third_writer` (c).
pub async fn scenario_b(
    c: &Client,
    server: Server<'_>,
    shot: &str,
    third_writer: Option<&(dyn Fn(String) + Sync)>,
) {
    two_tabs(c, &server).await;
    collide(c).await;
    let pointers = js(c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].map(e => e.dataset.pointer);").await;
    let pointers: Vec<String> = serde_json::from_value(pointers).unwrap();
    assert_eq!(pointers, vec!["/siteName", "/limits/maxUploadMb"]);
    assert!(text_of(c, "unresolved-count").await.starts_with("2 of 2"));
    screenshot(c, &format!("{shot}-conflict")).await;
    if let Some(w) = third_writer {
        w(server.path().await.to_string());
    }
    // /siteName ← mine; /limits/maxUploadMb ← typed by hand in the Result.
    click(c, &result_accept(0, "mine")).await;
    wait_for("the first resolution", || async {
        let t = editor_text(c, "editor").await;
        t.contains("\"Acme Care\"").then_some(())
    })
    .await;
    assert!(text_of(c, "unresolved-count").await.starts_with("1 of 2"));
    let r = editor_text(c, "editor").await;
    set_editor(c, "editor", &edit(&r, "/limits/maxUploadMb", json!(75))).await;
    wait_for("the edit of the value counts as a decision", || async {
        text_of(c, "unresolved-count")
            .await
            .starts_with("All")
            .then_some(())
    })
    .await;
    click(c, &tid("resubmit")).await;
    // 75 is neither mine (100) nor theirs (50): the window names it and asks first.
    let q = wait_for("the question before sending", || async {
        c.get_alert_text().await.ok()
    })
    .await;
    assert!(
        q.contains("/limits/maxUploadMb") && q.contains("75") && !q.contains("/siteName"),
        "{q}"
    );
    c.accept_alert().await.unwrap();
    if third_writer.is_some() {
        // The server changed again meanwhile: the next round merges it with the resolutions.
        until_status(c, 1, "merged", "the next round").await;
        let t = editor_text(c, "editor").await;
        assert!(
            t.contains("\"Acme Care\"") && t.contains("75"),
            "the resolutions are kept: {t}"
        );
        screenshot(c, &format!("{shot}-next-round")).await;
        click(c, &tid("resubmit")).await;
    }
    until_status(c, 1, "clean", "saved").await;
    let s = server.read(c).await;
    let mut want: Value = serde_json::from_str(SETTINGS).unwrap();
    if matches!(server, Server::Demo) {
        want = demo_settings();
    }
    want["siteName"] = json!("Acme Care");
    want["limits"]["maxUploadMb"] = json!(75);
    if third_writer.is_some() {
        want["notifications"]["email"] = json!(false);
    }
    assert_eq!(s, want, "the server's document is exactly the expected one");
    screenshot(c, shot).await;
}

/// The demo server's seed settings, as the server starts with them.
pub fn demo_settings() -> Value {
    ifmatch_tests::seed::document("/settings").expect("the demo seeds /settings")
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_demo_server() {
    let _one_at_a_time = serial().await;
    // One app per scenario: each starts its own demo server.
    {
        let d = Driver::start(&[]);
        let c = d.session().await;
        scenario_a(&c, Server::Demo, "a-demo").await;
        c.close().await.unwrap();
    }
    {
        let d = Driver::start(&[]);
        let c = d.session().await;
        scenario_b(&c, Server::Demo, "b-demo", None).await;
        c.close().await.unwrap();
    }
    {
        let d = Driver::start(&[]);
        let c = d.session().await;
        let base = wait_for("the demo URL", || async {
            c.find(Locator::Css(&tid("connection-url")))
                .await
                .ok()?
                .attr("data-url")
                .await
                .ok()?
        })
        .await;
        let third = move |path: String| {
            let url = format!("{base}/_demo/another-admin{path}");
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    let r = reqwest::Client::new()
                        .post(&url)
                        .body(r#"{"notifications": {"email": false}}"#)
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success());
                });
            })
            .join()
            .unwrap();
        };
        scenario_b(&c, Server::Demo, "c-demo", Some(&third)).await;
        c.close().await.unwrap();
    }
    {
        let d = Driver::start(&[]);
        let c = d.session().await;
        first_tab(&c).await;
        scenario_d(&c, Server::Demo, "d-demo-invalid-json").await;
        c.close().await.unwrap();
    }
}

/// (d) Invalid JSON cannot be saved; the message says where; the text stays; nothing is sent.
pub async fn scenario_d(c: &Client, server: Server<'_>, shot: &str) {
    let before = server.read(c).await;
    let bad = "{\n  \"siteName\": \"Acme\",\n  \"limits\": {\n    \"maxUploadMb\": 25,\n  }\n}\n";
    set_editor(c, "editor", bad).await;
    click(c, &tid("save")).await;
    let msg = wait_for("the error", || async {
        let e = c.find(Locator::Css(&tid("error-message"))).await.ok()?;
        e.is_displayed().await.ok()?.then_some(())?;
        e.text().await.ok()
    })
    .await;
    assert!(
        msg.contains("line 5, column 3") && msg.contains("trailing comma"),
        "{msg}"
    );
    assert_eq!(
        editor_text(c, "editor").await,
        bad,
        "the user's text is untouched"
    );
    assert_eq!(tab_status(c, 0).await, "error");
    assert_eq!(server.read(c).await, before, "nothing was sent");
    // The editor marks the place too (the lint, from Rust's parser).
    wait_for("the lint mark", || async {
        c.find(Locator::Css(".cm-lintRange-error"))
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    screenshot(c, shot).await;
}

#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_apache() {
    let _one_at_a_time = serial().await;
    {
        let apache = Apache::start(&[("settings.json", SETTINGS)]);
        let d = Driver::start(&[("IFMATCH_API_URL", &apache.url)]);
        let c = d.session().await;
        scenario_a(&c, Server::Apache(&apache), "a-apache").await;
        c.close().await.unwrap();
    }
    {
        let apache = Apache::start(&[("settings.json", SETTINGS)]);
        let d = Driver::start(&[("IFMATCH_API_URL", &apache.url)]);
        let c = d.session().await;
        scenario_b(&c, Server::Apache(&apache), "b-apache", None).await;
        c.close().await.unwrap();
    }
    {
        // (c) The third writer is another client of the same Apache, writing conditionally.
        let apache = Apache::start(&[("settings.json", SETTINGS)]);
        let d = Driver::start(&[("IFMATCH_API_URL", &apache.url)]);
        let c = d.session().await;
        let base = apache.url.clone();
        let third = move |path: String| {
            let url = format!("{base}{path}");
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    use ifmatch_engine::session::{save_round, SaveResult, Version, WriteMethod};
                    let client =
                        ifmatch_engine::Client::new(Default::default(), Default::default())
                            .unwrap();
                    let ifmatch_engine::Outcome::Fetched { doc, .. } = client.get_fresh(&url).await
                    else {
                        panic!("read")
                    };
                    let mine = edit(&doc.text, "/notifications/email", json!(false));
                    let base = Version {
                        text: doc.text,
                        validator: doc.validator,
                    };
                    let r = save_round(
                        &client,
                        &url,
                        &base,
                        &mine,
                        WriteMethod::Put,
                        &Default::default(),
                    )
                    .await;
                    assert!(matches!(r, SaveResult::Saved { .. }), "{r:?}");
                });
            })
            .join()
            .unwrap();
        };
        scenario_b(&c, Server::Apache(&apache), "c-apache", Some(&third)).await;
        c.close().await.unwrap();
    }
    {
        let apache = Apache::start(&[("settings.json", SETTINGS)]);
        let d = Driver::start(&[("IFMATCH_API_URL", &apache.url)]);
        let c = d.session().await;
        open(&c, "/settings.json").await;
        scenario_d(&c, Server::Apache(&apache), "d-apache-invalid-json").await;
        c.close().await.unwrap();
    }
}

/// Order is data (issue 12): one tab moves a targeting rule first, another tab meanwhile edits a
/// rule's rollout. The second save meets the first, merges cleanly, and the resubmit keeps both:
/// the new order and the edit (it used to follow the server's order, dropping the move).
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_reorder_survives_the_merge() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    open(&c, "/flags/new-checkout").await;
    open(&c, "/flags/new-checkout").await;
    // Tab 2: the DACH rollout goes from 25 to 50, saved.
    activate(&c, 1).await;
    let t = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&t, "/rules/1/rollout", json!(50))).await;
    click(&c, &tid("save")).await;
    until_status(&c, 1, "clean", "tab 2 saved").await;
    // Tab 3, loaded before that save: the DACH rule moves first.
    activate(&c, 2).await;
    let t = editor_text(&c, "editor").await;
    let mut doc: Value = serde_json::from_str(&t).unwrap();
    doc["rules"].as_array_mut().unwrap().reverse();
    set_editor(&c, "editor", &serde_json::to_string_pretty(&doc).unwrap()).await;
    click(&c, &tid("save")).await;
    until_status(&c, 2, "merged", "the automatic merge").await;
    let merged: Value = serde_json::from_str(&editor_text(&c, "editor").await).unwrap();
    let ids = |v: &Value| -> Vec<String> {
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{}={}", r["id"].as_str().unwrap(), r["rollout"]))
            .collect()
    };
    let want = ["dach-rollout=50", "beta-testers=null"];
    assert_eq!(ids(&merged), want, "the Result keeps the move and the edit");
    click(&c, &tid("resubmit")).await;
    until_status(&c, 2, "clean", "the resubmit").await;
    let base = demo_url(&c).await;
    let url = format!("{base}/flags/new-checkout");
    let on_server: Value =
        serde_json::from_str(&reqwest::get(&url).await.unwrap().text().await.unwrap()).unwrap();
    assert_eq!(ids(&on_server), want, "the server holds both");
    c.close().await.unwrap();
}

/// A document over 512 KB is shown as plain text with a note saying so (the syntax tree's
/// background re-parse made every keystroke wait); switching to a small tab brings JSON back.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_large_document_is_plain_text_and_says_so() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let base = demo_url(&c).await;
    let items: Vec<Value> = (0..12_000)
        .map(|i| json!({"id": format!("item-{i}"), "name": format!("Item number {i}"), "enabled": i % 2 == 0}))
        .collect();
    let big = serde_json::to_string_pretty(&json!({ "items": items })).unwrap();
    assert!(big.len() > 512 * 1024, "{} bytes", big.len());
    let r = reqwest::Client::new()
        .put(format!("{base}/big"))
        .header("If-None-Match", "*")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert!(
        !visible(&c, "large-document-note").await,
        "a small document has no note"
    );
    open(&c, "/big").await;
    until_visible(&c, "large-document-note", "the large document's note").await;
    let text = editor_text(&c, "editor").await;
    let held: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(held["items"].as_array().unwrap().len(), 12_000);
    // A pause in typing sends the big text across the bridge once: the draft's answer carries
    // the JSON check the lint shows.
    let calls = || async {
        js(
            &c,
            "return [window.ifmatchCallsOf('check_json'), window.ifmatchCallsOf('save_draft')];",
        )
        .await
    };
    // The opened text's own lint check first (300 ms after it was shown; later under load).
    until_checked(&c, "the lint to check the opened text", SHOWN_DOC).await;
    let before = calls().await;
    set_editor(
        &c,
        "editor",
        &text.replacen("Item number 7", "Item number seven", 1),
    )
    .await;
    until_checked(&c, "the lint to check the text", SHOWN_DOC).await;
    let after = calls().await;
    assert_eq!(
        after[0], before[0],
        "no check_json call of its own: {before} → {after}"
    );
    assert_eq!(
        after[1].as_u64().unwrap(),
        before[1].as_u64().unwrap() + 1,
        "one draft write: {before} → {after}"
    );
    // The page paints without OpenGL compositing (llvmpipe on a machine without a GPU made a
    // keystroke in a 10 MB document take 250 ms): the web process was started with it off.
    let web: Vec<u32> = tree_pids(newest_pid(&app_binary()))
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.starts_with("WebKitWebProces"))
        })
        .collect();
    assert!(!web.is_empty(), "the app's WebKit web process");
    for p in web {
        let env = std::fs::read(format!("/proc/{p}/environ")).unwrap();
        assert!(
            env.split(|&b| b == 0)
                .any(|v| v == b"WEBKIT_DISABLE_COMPOSITING_MODE=1"),
            "web process {p} runs with compositing"
        );
    }
    activate(&c, 0).await;
    wait_for("the note gone in the small tab", || async {
        (!visible(&c, "large-document-note").await).then_some(())
    })
    .await;
    c.close().await.unwrap();
}

/// A document that holds an array of id-keyed objects opens as a document; a collection (an
/// object holding an array under the URL's own name) lists its items compactly.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_documents_are_not_collections() {
    let _one_at_a_time = serial().await;
    let services: Vec<Value> = (0..1127)
        .map(|i| json!({"id": format!("svc-{i:04}"), "image": format!("registry.example/svc-{i:04}:1.{i}"), "replicas": 2, "port": 8000 + i, "env": {"LOG": "info", "REGION": "eu-west"}, "notes": "x".repeat(700)}))
        .collect();
    let big = serde_json::to_string_pretty(&json!({"version": 3, "services": services})).unwrap();
    assert!(big.len() > 1_000_000, "a 1 MB document: {}", big.len());
    let apache = Apache::start(&[("big.json", &big)]);
    let d = Driver::start(&[("IFMATCH_API_URL", &apache.url)]);
    let c = d.session().await;
    open(&c, "/big.json").await;
    assert!(editor_text(&c, "editor").await.contains("svc-1126"));
    assert!(
        !visible(&c, "collection-items").await,
        "a document, not a collection"
    );
    assert_eq!(
        c.find_all(Locator::Css(&tid("collection-item")))
            .await
            .unwrap()
            .len(),
        0
    );
    c.close().await.unwrap();
    drop(d);
    // The demo's /labels is a collection: a collapsed list that leaves the editor in view.
    let d = Driver::start(&[]);
    let c = d.session().await;
    first_tab(&c).await;
    open(&c, "/labels").await;
    assert!(visible(&c, "collection-items").await);
    let open_list = js(&c, "return document.getElementById('items').open;").await;
    assert_eq!(open_list, json!(false), "collapsed until asked");
    assert!(visible(&c, "editor").await);
    c.close().await.unwrap();
}

/// Issue 9 in the window: before the first write to nginx's dav module (which accepts If-Match
/// and ignores it), the app checks the server, finds it unprotected and says so on the tab; a
/// concurrent change made meanwhile by a plain HTTP writer is not overwritten but merged (the
/// app compared before writing), and the save says the risk that remains. "Check server" shows
/// the report with its evidence.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_server_that_ignores_if_match_is_checked_and_nothing_is_lost() {
    let _one_at_a_time = serial().await;
    let nginx = Nginx::start(&[("settings.json", SETTINGS)]);
    let d = Driver::start(&[("IFMATCH_API_URL", &nginx.url)]);
    let c = d.session().await;
    open(&c, "/settings.json").await;
    wait_for("the badge before any write", || async {
        text_of(&c, "server-safety")
            .await
            .contains("not checked yet")
            .then_some(())
    })
    .await;
    let loaded = editor_text(&c, "editor").await;
    set_editor(
        &c,
        "editor",
        &edit(&loaded, "/siteName", json!("Acme Help")),
    )
    .await;
    // Another writer, not using ifmatch, changes the page size meanwhile (a different size,
    // so even nginx's ETag moves).
    let theirs = edit(&loaded, "/limits/maxUploadMb", json!(1000));
    std::fs::write(nginx.dir.join("data/settings.json"), &theirs).unwrap();
    click(&c, &tid("save")).await;
    let badge = wait_for("the check's verdict on the tab", || async {
        let b = text_of(&c, "server-safety").await;
        b.contains("IGNORES").then_some(b)
    })
    .await;
    assert!(badge.contains("compared before and after"), "{badge}");
    // Not written over: merged, waiting for review (the connection does not resubmit itself).
    until_status(&c, 0, "merged", "the merge").await;
    let now: Value = serde_json::from_str(&nginx.file("settings.json").unwrap()).unwrap();
    assert_eq!(
        now["limits"]["maxUploadMb"], 1000,
        "the other writer's change stands"
    );
    assert_eq!(now["siteName"], "Acme Support", "nothing written yet");
    click(&c, &tid("resubmit")).await;
    let said = wait_for("saved", || async {
        let s = text_of(&c, "merge-summary").await;
        s.starts_with("Saved").then_some(s)
    })
    .await;
    assert!(said.contains("does not refuse stale writes"), "{said}");
    let now: Value = serde_json::from_str(&nginx.file("settings.json").unwrap()).unwrap();
    assert_eq!(
        (
            now["siteName"].clone(),
            now["limits"]["maxUploadMb"].clone()
        ),
        (json!("Acme Help"), json!(1000))
    );
    // The report, with its evidence.
    click(&c, &tid("check-server")).await;
    let report = wait_for("the report", || async {
        visible(&c, "check-dialog").await.then_some(())?;
        let r = text_of(&c, "check-report").await;
        r.contains("UNPROTECTED").then_some(r)
    })
    .await;
    assert!(
        report.contains("If-Match: \"ifmatch-check-never-matches\""),
        "{report}"
    );
    screenshot(&c, "server-check-nginx").await;
    click(&c, &tid("check-close")).await;
    // The exported trail carries the server's profile with its requests.
    click(&c, &tid("trail-toggle")).await;
    click(&c, &tid("export-trail")).await;
    let notice = wait_for("the export", || async {
        let t = text_of(&c, "merge-summary").await;
        t.contains("written to").then_some(t)
    })
    .await;
    let path = notice
        .split("written to ")
        .nth(1)
        .and_then(|r| r.split(" — ").next())
        .unwrap()
        .trim()
        .to_string();
    let exported: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        exported["server_profile"]["verdict"], "unprotected",
        "{exported}"
    );
    assert!(exported["requests"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
    click(&c, &tid("trail-toggle")).await;

    // The overwrite watch: a client that sends no If-Match writes its stale copy back, undoing
    // the change just saved. The next freshness check says so, by pointer, and "Reapply my
    // change" merges it into the newer version for review; Resubmit puts it back.
    let stale_copy = edit(&theirs, "/notifications/digest", json!("weekly"));
    std::fs::write(nginx.dir.join("data/settings.json"), &stale_copy).unwrap();
    let said = wait_for("the overwrite watch", || async {
        c.execute("window.dispatchEvent(new Event('focus'))", vec![])
            .await
            .ok()?;
        let e = text_of(&c, "merge-summary").await;
        e.contains("another client wrote over it").then_some(e)
    })
    .await;
    assert!(said.contains("/siteName"), "{said}");
    // The save did land: the tab does not say "not saved".
    assert!(!text_of(&c, "error-message").await.contains("wrote over"));
    assert_ne!(tab_status(&c, 0).await, "error");
    // Meanwhile the server moves on again: Reapply reads it first, so the round merges into
    // the version the server holds now, not the one the watch saw.
    let newer = edit(&stale_copy, "/session/timeoutMinutes", json!(120));
    std::fs::write(nginx.dir.join("data/settings.json"), &newer).unwrap();
    // With unsaved edits, Reapply asks first (its round's Result would replace them); No
    // keeps them.
    let saved_text = editor_text(&c, "editor").await;
    let typed = edit(&saved_text, "/limits/maxUploadMb", json!(4321));
    set_editor(&c, "editor", &typed).await;
    settle(&c).await;
    click(&c, &tid("reapply-saved")).await;
    let q = wait_for("the question", || async { c.get_alert_text().await.ok() }).await;
    assert!(q.contains("unsaved edits"), "{q}");
    c.dismiss_alert().await.unwrap();
    settle(&c).await;
    assert_eq!(editor_text(&c, "editor").await, typed, "the edit is kept");
    set_editor(&c, "editor", &saved_text).await;
    settle(&c).await;
    click(&c, &tid("reapply-saved")).await;
    until_status(&c, 0, "merged", "the reapplied round").await;
    let r = editor_text(&c, "editor").await;
    assert!(
        r.contains("\"timeoutMinutes\": 120") && r.contains("Acme Help"),
        "the round stands on the server's version read now: {r}"
    );
    click(&c, &tid("resubmit")).await;
    wait_for("saved again", || async {
        text_of(&c, "merge-summary")
            .await
            .starts_with("Saved")
            .then_some(())
    })
    .await;
    let now: Value = serde_json::from_str(&nginx.file("settings.json").unwrap()).unwrap();
    assert_eq!(now["siteName"], "Acme Help", "my change is back");
    assert_eq!(
        now["session"]["timeoutMinutes"], 120,
        "the newest change stays"
    );
    assert_eq!(
        now["notifications"]["digest"], "weekly",
        "the other client's own change stays"
    );
    c.close().await.unwrap();
}

/// A long save says so and can be cancelled (issue 12, item 3), and the message after a Cancel
/// is true: before any write, "nothing was written"; with a write on its way, "it may have
/// landed" and the window offers to reload.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_long_save_shows_progress_and_cancels_truthfully() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let demo = demo_url(&c).await;
    let http = reqwest::Client::new();
    let fault = |f: Value| {
        let (http, demo) = (http.clone(), demo.clone());
        async move {
            let r = http
                .post(format!("{demo}/_demo/faults"))
                .body(f.to_string())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
    };
    let loaded = editor_text(&c, "editor").await;
    set_editor(
        &c,
        "editor",
        &edit(&loaded, "/siteName", json!("Acme Help")),
    )
    .await;
    // The first save checks the server first; its first read is slow: cancel during it.
    fault(json!({"path": "/settings", "method": "GET", "delay_ms": 2500})).await;
    click(&c, &tid("save")).await;
    let busy = wait_for("the progress", || async {
        visible(&c, "busy").await.then_some(())?;
        Some(text_of(&c, "busy").await)
    })
    .await;
    assert!(busy.starts_with("Saving…"), "{busy}");
    click(&c, &tid("busy-cancel")).await;
    let said = wait_for("the cancel", || async {
        let e = text_of(&c, "error-message").await;
        e.contains("Cancelled").then_some(e)
    })
    .await;
    assert!(said.contains("before anything was written"), "{said}");
    assert!(!visible(&c, "busy").await);
    let server: Value = serde_json::from_str(
        &http
            .get(format!("{demo}/settings"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(server["siteName"], "Acme Support", "nothing was written");
    assert_eq!(tab_status(&c, 0).await, "error");
    // Now the write itself is slow: cancelled on its way, it may have landed.
    fault(json!({"path": "/settings", "method": "PUT", "delay_ms": 4000})).await;
    click(&c, &tid("save")).await;
    until_visible(&c, "busy", "the progress").await;
    click(&c, &tid("busy-cancel")).await;
    let said = wait_for("the cancel", || async {
        let e = text_of(&c, "error-message").await;
        e.contains("Cancelled while a write").then_some(e)
    })
    .await;
    assert!(said.contains("may have landed"), "{said}");
    assert!(
        visible(&c, "reload-now").await,
        "the window offers to reload"
    );
    assert!(
        editor_text(&c, "editor").await.contains("Acme Help"),
        "the text is kept"
    );
    c.close().await.unwrap();
}

/// A server that refuses stale writes with 409 (CouchDB-style) rather than 412: the server
/// check finds it, and the window then takes a 409 to a save as a conflict and merges, as it
/// does a 412 (before: "refused (409)" and no merge).
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_409_server_merges_like_a_412_one() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    let base = demo_url(&c).await;
    let http = reqwest::Client::new();
    let cfg = http
        .post(format!("{base}/_demo/config"))
        .body(r#"{"stale_status": 409}"#)
        .send()
        .await
        .unwrap();
    assert!(cfg.status().is_success());
    activate(&c, 0).await;
    let loaded = editor_text(&c, "editor").await;
    set_editor(
        &c,
        "editor",
        &edit(&loaded, "/session/timeoutMinutes", json!(45)),
    )
    .await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "tab 1 saved").await;
    // The stale write really is answered 409 by the server.
    let stale = http
        .put(format!("{base}/settings"))
        .header("If-Match", "\"not-the-current-one\"")
        .body(loaded.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status().as_u16(), 409);
    activate(&c, 1).await;
    set_editor(
        &c,
        "editor",
        &edit(&loaded, "/notifications/digest", json!("weekly")),
    )
    .await;
    click(&c, &tid("save")).await;
    let status = wait_for("the merge", || async {
        let s = tab_status(&c, 1).await;
        (s == "merged" || s == "error").then_some(s)
    })
    .await;
    let error = if visible(&c, "error-message").await {
        text_of(&c, "error-message").await
    } else {
        String::new()
    };
    assert_eq!(status, "merged", "{error}");
    click(&c, &tid("resubmit")).await;
    until_status(&c, 1, "clean", "saved").await;
    let server = Server::Demo.read(&c).await;
    assert_eq!(server["session"]["timeoutMinutes"], json!(45));
    assert_eq!(server["notifications"]["digest"], json!("weekly"));
    c.close().await.unwrap();
}

/// The lines of `new` that differ from `old` (the same number of lines expected).
pub fn changed_lines(old: &str, new: &str) -> Vec<String> {
    let (o, n): (Vec<&str>, Vec<&str>) = (old.split('\n').collect(), new.split('\n').collect());
    assert_eq!(
        o.len(),
        n.len(),
        "the same lines expected:\n{old}\n---\n{new}"
    );
    (0..o.len())
        .filter(|&i| o[i] != n[i])
        .map(|i| n[i].to_string())
        .collect()
}

/// Issue 34, item 2: a server document indented with four spaces comes back with four — the
/// conflict view's Result, the Result after an Accept, and the PUT body of the resubmit differ
/// from the server's text only on the lines whose values changed.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_servers_layout_is_kept_through_a_conflict_round() {
    use ifmatch_tests::hostile::{Hostile, Knobs};
    let _one_at_a_time = serial().await;
    let doc = "{\n    \"replicas\": 3,\n    \"image\": \"app:1\",\n    \"env\": {\n        \"A\": \"1\",\n        \"B\": \"2\"\n    },\n    \"tags\": [\n        \"x\",\n        \"y\"\n    ]\n}\n";
    let server = Hostile::start(Knobs::default(), &[("/cfg.json", doc)]).await;
    let d = Driver::start(&[("IFMATCH_API_URL", &server.url)]);
    let c = d.session().await;
    // With the review before the resubmit (off in the other tests).
    js(
        &c,
        "localStorage.removeItem('ifmatch.reviewBeforeResubmit')",
    )
    .await;
    open(&c, "/cfg.json").await;
    let loaded = wait_for("the document", || async {
        let t = editor_text(&c, "editor").await;
        t.contains("replicas").then_some(t)
    })
    .await;
    assert_eq!(loaded, doc, "the editor shows the server's text");
    // Mine: replicas 9, env.B 5. Another admin meanwhile: replicas 7, image app:2.
    let mine = doc
        .replace("\"replicas\": 3", "\"replicas\": 9")
        .replace("\"B\": \"2\"", "\"B\": \"5\"");
    set_editor(&c, "editor", &mine).await;
    let theirs = doc
        .replace("\"replicas\": 3", "\"replicas\": 7")
        .replace("app:1", "app:2");
    server.set("/cfg.json", &theirs);
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    // The Result starts as the server's text with my clean change in and the conflict at its
    // base value: two lines differ, in the server's indentation.
    let result = editor_text(&c, "editor").await;
    assert_eq!(
        changed_lines(&theirs, &result),
        vec!["    \"replicas\": 3,", "        \"B\": \"5\""],
        "{result}"
    );
    screenshot(&c, "layout-kept-conflict").await;
    click(&c, &result_accept(0, "mine")).await;
    let result = wait_for("the Accept", || async {
        let t = editor_text(&c, "editor").await;
        t.contains("\"replicas\": 9").then_some(t)
    })
    .await;
    assert_eq!(
        changed_lines(&theirs, &result),
        vec!["    \"replicas\": 9,", "        \"B\": \"5\""],
        "an Accept keeps the layout: {result}"
    );
    click(&c, &tid("resubmit")).await;
    // The review: only the changed lines, each told by where its value came from — the
    // other admin's image kept ("theirs"), their replicas replaced, my two values.
    let rows = wait_for("the review", || async {
        visible(&c, "review-dialog").await.then_some(())?;
        let v = c
            .execute(
                "return [...document.querySelectorAll('[data-testid=\"review-diff\"] > div')].map(r => [r.textContent, r.dataset.side ?? '']);",
                vec![],
            )
            .await
            .ok()?;
        (!v.as_array()?.is_empty()).then_some(v)
    })
    .await;
    let rows: Vec<(String, String)> = serde_json::from_value(rows).unwrap();
    let side = |line: &str| {
        rows.iter()
            .find(|(t, _)| t == line)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("{line:?} not in the review: {rows:?}"))
    };
    assert_eq!(side("-     \"replicas\": 7,"), "theirs", "{rows:?}");
    assert_eq!(side("+     \"replicas\": 9,"), "mine", "{rows:?}");
    assert_eq!(side("      \"image\": \"app:2\","), "theirs", "{rows:?}");
    assert_eq!(side("+         \"B\": \"5\""), "mine", "{rows:?}");
    assert!(
        text_of(&c, "review-summary")
            .await
            .contains("2 line(s) added, 2 removed"),
        "{}",
        text_of(&c, "review-summary").await
    );
    screenshot(&c, "review-layout-kept").await;
    click(&c, &tid("review-send")).await;
    until_status(&c, 0, "clean", "saved").await;
    let sent = server
        .seen_method("PUT")
        .last()
        .map(|r| String::from_utf8(r.body.clone()).unwrap())
        .unwrap();
    assert_eq!(
        changed_lines(&theirs, &sent),
        vec!["    \"replicas\": 9,", "        \"B\": \"5\""],
        "the PUT body differs from the server's text only on the changed lines: {sent}"
    );
    assert_eq!(
        server.text("/cfg.json").unwrap(),
        theirs
            .replace("\"replicas\": 7", "\"replicas\": 9")
            .replace("\"B\": \"2\"", "\"B\": \"5\"")
    );
    c.close().await.unwrap();
}

/// Issue 34, item 3: the overwrite watch knows what it saw. On the demo server (checked: it
/// refuses stale writes), tab A saves timeoutMinutes 45; tab B, on the old version, gets the
/// 412, accepts its own 60 and resubmits with If-Match. Tab A then says "changed after your
/// save: 45 → 60, by a write that saw yours" — not "wrote over it", not "not saved", and no
/// Reapply offered.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_later_write_that_saw_the_save_is_not_an_overwrite() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide_at(
        &c,
        (0, 1),
        &[("/session/timeoutMinutes", json!(45), json!(60))],
    )
    .await;
    click(&c, &result_accept(0, "mine")).await;
    wait_for("the Accept", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("All")
            .then_some(())
    })
    .await;
    click(&c, &tid("resubmit")).await;
    until_status(&c, 1, "clean", "tab B saved").await;
    activate(&c, 0).await;
    let said = wait_for("the watch's words", || async {
        c.execute("window.dispatchEvent(new Event('focus'))", vec![])
            .await
            .ok()?;
        let n = text_of(&c, "merge-summary").await;
        n.contains("Changed after your save").then_some(n)
    })
    .await;
    assert!(
        said.contains("/session/timeoutMinutes: 45 → 60")
            && said.contains("a write that saw yours"),
        "{said}"
    );
    assert!(!said.contains("wrote over"), "{said}");
    assert!(!visible(&c, "reapply-saved").await, "nothing to reapply");
    assert!(!visible(&c, "error-message").await);
    assert_ne!(
        tab_status(&c, 0).await,
        "error",
        "the tab saved: never 'not saved'"
    );
    screenshot(&c, "changed-after-your-save").await;
    c.close().await.unwrap();
}

/// Issue 33 / 34: a save made under the server's WebDAV lock (Apache mod_dav, found by the
/// check) says so in the window, in the words the save's report carries.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_save_under_the_servers_lock_says_so() {
    let _one_at_a_time = serial().await;
    let apache = Apache::start(&[("settings.json", SETTINGS)]);
    let d = Driver::start(&[("IFMATCH_API_URL", &apache.url)]);
    let c = d.session().await;
    open(&c, "/settings.json").await;
    click(&c, &tid("check-server")).await;
    wait_for("the check's report", || async {
        (visible(&c, "check-dialog").await && !text_of(&c, "check-report").await.is_empty())
            .then_some(())
    })
    .await;
    click(&c, &tid("check-close")).await;
    let t = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&t, "/siteName", json!("Locked in"))).await;
    click(&c, &tid("save")).await;
    let said = wait_for("saved", || async {
        (tab_status(&c, 0).await == "clean").then_some(())?;
        Some(text_of(&c, "merge-summary").await)
    })
    .await;
    assert!(said.contains("under the server's write lock"), "{said}");
    let now: Value = serde_json::from_str(&apache.file("settings.json").unwrap()).unwrap();
    assert_eq!(now["siteName"], "Locked in");
    c.close().await.unwrap();
}
