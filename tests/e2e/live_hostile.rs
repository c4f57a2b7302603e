//! Hostile pass on the live watch in the window (fresh-eyes review).

use crate::live::{another_client_sets, live_app, trail_rows, until_watched};
use crate::support::*;

/// Holds every `live_update` answer in the window for `ms` (the Rust call itself runs at once,
/// so Rust has already decided and moved the tab's base): a busy main thread, a slow bridge.
async fn hold_live_answers(c: &Client, ms: u64) -> Value {
    js(
        c,
        &format!(
            "window.__liveAsked = []; window.__liveShown = [];
             const hold = (p) => p.then((r) => {{ window.__liveAsked.push(r && r.kind); return new Promise((ok) => setTimeout(() => {{ window.__liveShown.push(r && r.kind); ok(r); }}, {ms})); }});
             const I = window.__TAURI_INTERNALS__;
             const origI = I.invoke.bind(I);
             window.__calls = []; const wrappedI = (cmd, args, o) => {{ window.__calls.push([cmd, Math.round(performance.now())]); return cmd === 'live_update' ? hold(origI(cmd, args, o)) : origI(cmd, args, o); }};
             try {{ I.invoke = wrappedI; }} catch (e) {{}}
             if (I.invoke === wrappedI) return 'internals';
             const core = window.__TAURI__.core; const orig = core.invoke.bind(core);
             const wrapped = (cmd, args) => {{ window.__calls.push([cmd, Math.round(performance.now())]); const p = orig(cmd, args); p.then(() => window.__calls.push(['<' + cmd, Math.round(performance.now())]), () => 0); return cmd === 'live_update' ? hold(p) : p; }};
             try {{ window.__TAURI__ = Object.assign({{}}, window.__TAURI__, {{ core: Object.assign({{}}, core, {{ invoke: wrapped }}) }}); }} catch (e) {{}}
             return window.__TAURI__.core.invoke === wrapped ? 'global' : 'none';"
        ),
    )
    .await
}

/// A save that starts while a live merge's answer is on its way to the window: Rust has moved
/// the tab's base to the server's newer version, the window still holds (and saves) the text
/// without the server's change. The save is then a conditional PUT on the NEW validator carrying
/// the OLD field: the other writer's change is reverted, silently, and the tab says "saved".
/// (Reverted the other writer's change at f34821a: PUT If-Match "<V2>" without it. Holds since
/// f4913e3: Save waits for the live answer.)
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_save_while_live_merge_answer_in_flight_keeps_other_writers_change() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let before = read_demo(&url).await;
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Hostile"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    let how = hold_live_answers(&c, 6000).await;
    assert_ne!(how, json!("none"), "the bridge is wrapped");
    another_client_sets(&url, "/limits/maxUploadMb", json!(641)).await;
    // Rust has answered (merged: the base moved); the window has not shown it yet.
    until(
        &c,
        "Rust decided the live merge",
        "return (window.__liveAsked || []).includes('merged')",
        vec![],
    )
    .await;
    assert!(
        !editor_text(&c, "editor").await.contains("641"),
        "the answer is still on its way"
    );
    // A person clicks now (the test's `click` would wait for the window's work, the held answer).
    eprintln!("click at {}", js(&c, "document.querySelector('[data-testid=\"save\"]').click(); return Math.round(performance.now())").await);
    tokio::time::sleep(std::time::Duration::from_secs(8)).await;
    let server = read_demo(&url).await;
    let notice = text_of(&c, "merge-summary").await;
    let status = tab_status(&c, 0).await;
    let rows = trail_rows(&c).await;
    eprintln!("after the save: tab {status:?}, notice {notice:?}, editor has 641: {}; server {server}; asked {}; trail {rows:#?}", editor_text(&c, "editor").await.contains("641"), js(&c, "return JSON.stringify([window.__liveAsked, window.__liveShown, window.__calls, Math.round(performance.now())])").await);
    screenshot(&c, "live-hostile-save-during-live-merge").await;
    assert_eq!(server["siteName"], json!("Acme Hostile"), "{rows:#?}");
    assert_eq!(
        server["limits"]["maxUploadMb"],
        json!(641),
        "the other writer's change was reverted by a save that never saw it (before: {}); trail: {rows:#?}",
        before["limits"]["maxUploadMb"]
    );
}

/// Two tabs on one resource (one clean, one with an edit). The dirty tab's live merge is
/// decided in Rust (its base moves to the server's newer version) while the user switches to the
/// other tab and back; the answer then finds the editor reset (its tracking broken), so the
/// merged text goes into the tab's string only, and the editor keeps showing (and Save sends)
/// the text without the server's change, on the new validator.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_switching_tabs_during_a_live_merge_keeps_the_servers_change() {
    let (_g, _d, c) = live_app(&[]).await;
    two_tabs(&c, &Server::Demo).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    // The second tab (active) gets the edit; the first stays clean.
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Switch"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 1, "dirty", "the edit is unsaved").await;
    let how = hold_live_answers(&c, 5000).await;
    assert_ne!(how, json!("none"), "the bridge is wrapped");
    another_client_sets(&url, "/limits/maxUploadMb", json!(642)).await;
    until(
        &c,
        "Rust decided the live merge",
        "return (window.__liveAsked || []).includes('merged')",
        vec![],
    )
    .await;
    activate(&c, 0).await;
    activate(&c, 1).await;
    until(
        &c,
        "the merge's answer shown",
        "return (window.__liveShown || []).includes('merged')",
        vec![],
    )
    .await;
    settle(&c).await;
    let shown = editor_text(&c, "editor").await;
    let status = tab_status(&c, 1).await;
    let notice = text_of(&c, "merge-summary").await;
    eprintln!("after the answer: tab {status:?}, notice {notice:?}");
    click(&c, &tid("save")).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let server = read_demo(&url).await;
    screenshot(&c, "live-hostile-switch-during-live-merge").await;
    assert_eq!(server["siteName"], json!("Acme Switch"));
    eprintln!(
        "server after the save: {server}; editor showed 642: {}",
        shown.contains("642")
    );
    assert!(
        shown.contains("642"),
        "the editor shows the merged text: {shown}"
    );
    assert_eq!(
        server["limits"]["maxUploadMb"],
        json!(642),
        "the other writer's change was reverted"
    );
}

/// A change taken back (maintenanceMode on, then off again): the server's document returns to a
/// content it had before, and a server whose ETag follows the content (the demo, content hashes;
/// any server without validators: the tab's `Seen` names those by their text) announces an ETag
/// the tab has "seen". `live_update` then answers Current, and the clean tab keeps showing the
/// change that was taken back, as the server's version.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_a_change_taken_back_reaches_the_clean_tab() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    another_client_sets(&url, "/maintenanceMode", json!(true)).await;
    wait_for("the clean tab shows maintenance on", || async {
        editor_text(&c, "editor")
            .await
            .contains("\"maintenanceMode\": true")
            .then_some(())
    })
    .await;
    another_client_sets(&url, "/maintenanceMode", json!(false)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut shown = String::new();
    while Instant::now() < deadline {
        shown = editor_text(&c, "editor").await;
        if shown.contains("\"maintenanceMode\": false") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let server = read_demo(&url).await;
    let notice = text_of(&c, "merge-summary").await;
    let status = tab_status(&c, 0).await;
    screenshot(&c, "live-hostile-aba").await;
    assert_eq!(server["maintenanceMode"], json!(false));
    assert!(
        shown.contains("\"maintenanceMode\": false"),
        "the server is back to maintenance off; the {status} tab still shows on, saying {notice:?}"
    );
}

/// The overwrite watch meets A-B-A: the user saves B over A; another client writes A back, byte
/// for byte (a tool re-applying its copy; here on the current ETag, as the demo demands). The watch announces A's ETag,
/// which the tab noted at its save (`t.seen.note(&report.base)`): `live_update` answers Current
/// before the overwrite check runs, so the save that was written over is never told, and the tab
/// keeps showing the user's text as the server's.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_a_save_written_over_by_the_old_document_is_told() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let original = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Overwritten"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    assert_eq!(read_demo(&url).await["siteName"], json!("Acme Overwritten"));
    // Another client puts the old document back, byte for byte (on the current ETag: the demo
    // refuses unconditional writes; a server that does not would let a stale tool do it).
    let etag = reqwest::get(&url).await.unwrap().headers()["etag"]
        .to_str()
        .unwrap()
        .to_string();
    let r = reqwest::Client::new()
        .put(&url)
        .header("If-Match", etag)
        .header("Content-Type", "application/json")
        .body(original.clone())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_ne!(read_demo(&url).await["siteName"], json!("Acme Overwritten"));
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut told = false;
    while Instant::now() < deadline && !told {
        told = visible(&c, "reapply-saved").await
            || !editor_text(&c, "editor").await.contains("Acme Overwritten");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let notice = text_of(&c, "merge-summary").await;
    let status = tab_status(&c, 0).await;
    screenshot(&c, "live-hostile-overwritten-by-old-document").await;
    assert!(
        told,
        "the server no longer holds the save; the {status} tab still shows it, saying {notice:?}"
    );
}

/// A colliding live change opened as the conflict round (Save with collisions marked): Rust
/// writes the tab's draft with the round and, as its text, the user's edit (`mine`), not the
/// round's Result. The window's own round draft comes only after it has shown the round; a crash
/// before that leaves a draft that restores as a round whose Result lacks the server's
/// non-colliding change, which a Resubmit (on the round's newer validator) then writes over.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_a_live_rounds_draft_holds_its_result() {
    let one_at_a_time = serial().await;
    let home = fresh_home("live-hostile-round-draft");
    let d = Driver::start_in(
        &home,
        &[("IFMATCH_LIVE", "on"), ("IFMATCH_LIVE_INTERVAL", "0.5")],
    );
    let c = d.session().await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Mine Site"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    // One write by another admin: /siteName collides, /limits/maxUploadMb does not.
    another_client_sets(&url, "/siteName", json!("Their Site")).await;
    another_client_sets(&url, "/limits/maxUploadMb", json!(643)).await;
    until_visible(&c, "live-show-conflicts", "the collision is marked").await;
    let how = hold_live_answers(&c, 8000).await;
    assert_ne!(how, json!("none"), "the bridge is wrapped");
    js(
        &c,
        "document.querySelector('[data-testid=\"save\"]').click(); return true",
    )
    .await;
    until(
        &c,
        "Rust opened the round",
        "return (window.__liveAsked || []).includes('round')",
        vec![],
    )
    .await;
    // The moment a crash would keep.
    let draft = crate::drafts::only_draft(&home);
    let text = draft["text"].as_str().unwrap_or_default().to_string();
    let start = draft["round"]["start"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    kill_app();
    let _ = c.close().await;
    drop(d);
    drop(one_at_a_time);
    assert!(
        start.contains("643"),
        "the round's Result has the server's change: {start}"
    );
    assert!(
        text.contains("643"),
        "the draft's text (restored as the round's Result) lacks the server's non-colliding change: {text}"
    );
}

/// Typing while a live merge's answer is on its way (held 3 s in the window): the typing and the
/// server's change are both in the editor after the answer, and a Save writes both.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_typing_during_the_live_round_trip_is_kept() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Typing"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    let how = hold_live_answers(&c, 3000).await;
    assert_ne!(how, json!("none"), "the bridge is wrapped");
    another_client_sets(&url, "/limits/maxUploadMb", json!(644)).await;
    until(
        &c,
        "Rust decided the live merge",
        "return (window.__liveAsked || []).includes('merged')",
        vec![],
    )
    .await;
    // Typed now, before the answer: " Now" at the end of the site's name.
    js(
        &c,
        "const v = document.querySelector('[data-testid=\"editor\"]').ifmatchView; \
         const at = v.state.doc.toString().indexOf('Acme Typing') + 'Acme Typing'.length; \
         v.dispatch({changes: {from: at, insert: ' Now'}, userEvent: 'input.type'}); return true",
    )
    .await;
    until(
        &c,
        "the merge's answer shown",
        "return (window.__liveShown || []).includes('merged')",
        vec![],
    )
    .await;
    settle(&c).await;
    let shown = editor_text(&c, "editor").await;
    assert!(
        shown.contains("Acme Typing Now") && shown.contains("644"),
        "both the typing and the server's change: {shown}"
    );
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "saved").await;
    let server = read_demo(&url).await;
    assert_eq!(server["siteName"], json!("Acme Typing Now"));
    assert_eq!(server["limits"]["maxUploadMb"], json!(644));
}

/// An edit that changes the text but not its meaning (the user compacted the document onto one
/// line, or reordered members): `live_update` takes the tab as clean (`same_text`) and replaces
/// the editor with the server's text; the user's text is gone, no word about it.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_a_formatting_edit_is_not_replaced() {
    let (_g, _d, c) = live_app(&[]).await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let doc: Value = serde_json::from_str(&editor_text(&c, "editor").await).unwrap();
    let compact = serde_json::to_string(&doc).unwrap();
    set_editor(&c, "editor", &compact).await;
    until_status(&c, 0, "dirty", "the text differs").await;
    another_client_sets(&url, "/limits/maxUploadMb", json!(645)).await;
    wait_for("the server's change reaches the tab", || async {
        editor_text(&c, "editor")
            .await
            .contains("645")
            .then_some(())
    })
    .await;
    let shown = editor_text(&c, "editor").await;
    let notice = text_of(&c, "merge-summary").await;
    assert_eq!(
        shown.lines().count(),
        1,
        "the user's one-line text, with the change merged in; shown ({notice:?}): {shown}"
    );
}

/// A conflict round, a value typed by hand into the Result (no Accept), then a newer version
/// the round is merged again with: the draft (what a crash restores) holds the typed value and
/// the server's newer change, not the fresh merge without the hand edit.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_a_re_merged_rounds_draft_keeps_the_hand_edit() {
    let one_at_a_time = serial().await;
    let home = fresh_home("live-hostile-remerge-draft");
    let d = Driver::start_in(
        &home,
        &[("IFMATCH_LIVE", "on"), ("IFMATCH_LIVE_INTERVAL", "0.5")],
    );
    let c = d.session().await;
    first_tab(&c).await;
    until_watched(&c).await;
    let url = format!("{}/settings", demo_url(&c).await);
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Mine Site"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_sets(&url, "/siteName", json!("Their Site")).await;
    until_visible(&c, "live-show-conflicts", "the collision is marked").await;
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    // Decided by typing a third value into the Result, not by an Accept.
    let result = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Hand Site"),
    );
    set_editor(&c, "editor", &result).await;
    settle(&c).await;
    another_client_sets(&url, "/notifications/digest", json!("weekly")).await;
    wait_for("the round merged again with the newer version", || async {
        let t = editor_text(&c, "editor").await;
        (t.contains("weekly") && t.contains("Hand Site")).then_some(())
    })
    .await;
    // The window's round draft (after its paint) has long been written.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let draft = crate::drafts::only_draft(&home);
    kill_app();
    let _ = c.close().await;
    drop(d);
    drop(one_at_a_time);
    let text = draft["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("Hand Site") && text.contains("weekly"),
        "the draft a crash restores lost the hand edit or the server's change: {text}"
    );
    assert!(
        draft["round"]["current"]["text"]
            .as_str()
            .unwrap_or_default()
            .contains("weekly"),
        "the draft's round is the one merged again"
    );
}

/// Typing while a Resubmit is on its way, and the server changes meanwhile (the resubmit meets
/// a 412): the window keeps the typed text and the round it showed; the draft pairs that text
/// with that round (never with the round the resubmit ended in, which the window does not
/// show), and the next Resubmit merges the server's change in.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_live_hostile_typing_during_a_resubmit_that_meets_a_change_is_drafted() {
    for live in ["off", "on"] {
        typing_during_a_resubmit_that_meets_a_change(live).await;
    }
}

/// With the watch off, the draft holds the round the window shows; with it on, the watch
/// merges the round again with the server's change after the save, and the draft follows.
async fn typing_during_a_resubmit_that_meets_a_change(live: &str) {
    let one_at_a_time = serial().await;
    let home = fresh_home(&format!("live-hostile-resubmit-typed-{live}"));
    let d = Driver::start_in(
        &home,
        &[("IFMATCH_LIVE", live), ("IFMATCH_LIVE_INTERVAL", "0.5")],
    );
    let c = d.session().await;
    first_tab(&c).await;
    if live == "on" {
        until_watched(&c).await;
    }
    let demo = demo_url(&c).await;
    let url = format!("{demo}/settings");
    let mine = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Mine Site"),
    );
    set_editor(&c, "editor", &mine).await;
    until_status(&c, 0, "dirty", "the edit is unsaved").await;
    another_client_sets(&url, "/siteName", json!("Their Site")).await;
    if live == "on" {
        until_visible(&c, "live-show-conflicts", "the collision is marked").await;
    }
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    click(&c, &result_accept(0, "mine")).await;
    settle(&c).await;
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{demo}/_demo/faults"))
        .body(r#"{"path": "/settings", "method": "PUT", "delay_ms": 3000, "count": 1}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    click(&c, &tid("resubmit")).await;
    until_visible(&c, "busy", "the resubmit's progress").await;
    // Another admin writes while the resubmit waits; the user types.
    let r = http
        .post(format!("{demo}/_demo/another-admin/settings"))
        .body(r#"{"notifications": {"digest": "monthly"}}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let typed = edit(
        &editor_text(&c, "editor").await,
        "/limits/maxUploadMb",
        json!(778),
    );
    set_editor(&c, "editor", &typed).await;
    until_not_saving(&c, 0).await;
    wait_for("the typed text kept, nothing written", || async {
        let e = text_of(&c, "error-message").await;
        e.contains("you typed meanwhile").then_some(())
    })
    .await;
    assert_eq!(result_at(&c, "/limits/maxUploadMb").await, json!(778));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let draft = crate::drafts::only_draft(&home);
    let text = draft["text"].as_str().unwrap_or_default().to_string();
    assert!(
        text.contains("778"),
        "the typed text is not in the draft: {text}"
    );
    let current = draft["round"]["current"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The text is the Result of the draft's round: it has that round's server change.
    assert!(
        !current.contains("monthly") || text.contains("monthly"),
        "{live}: the draft pairs the typed text with a round it is not the Result of: {current}"
    );
    if live == "off" {
        assert!(
            !current.contains("monthly") && draft["round"].is_object(),
            "the draft is not paired with the round the window shows: {current}"
        );
    }
    // Resubmitting again merges the server's change in, keeping the typed value.
    click(&c, &tid("resubmit")).await;
    wait_for("the server's change merged into the Result", || async {
        editor_text(&c, "editor")
            .await
            .contains("monthly")
            .then_some(())
    })
    .await;
    if tab_status(&c, 0).await != "clean" {
        click(&c, &tid("resubmit")).await;
        until_status(&c, 0, "clean", "resubmitted").await;
    }
    let held = read_demo(&url).await;
    let _ = c.close().await;
    drop(d);
    drop(one_at_a_time);
    assert_eq!(held["siteName"], json!("Mine Site"));
    assert_eq!(held["limits"]["maxUploadMb"], json!(778));
    assert_eq!(held["notifications"]["digest"], json!("monthly"));
}
