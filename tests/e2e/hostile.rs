//! A hostile pass on the window: what a hurried or unlucky admin does (typing while the window
//! works, double keys, undo after an Accept, invalid JSON, odd keys, resizing, failures on the
//! wire, a garbled draft, nonsense in the palette, every text in both themes). Each test keeps
//! one attack; those that found a defect are ignored with the defect in one line.

use crate::support::*;
use fantoccini::key::Key;

/// Adds a fault to the demo server the window uses.
async fn fault(c: &Client, f: Value) {
    let demo = demo_url(c).await;
    let r = reqwest::Client::new()
        .post(format!("{demo}/_demo/faults"))
        .body(f.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "the fault is set: {}", r.status());
}

/// Each conflict's resolution as Rust read it off the Result.
async fn resolutions(c: &Client) -> Vec<String> {
    let v = js(c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].map(e => e.dataset.resolution);").await;
    serde_json::from_value(v).unwrap()
}

async fn until_resolutions(c: &Client, want: &[&str], what: &str) {
    wait_for(what, || async {
        (resolutions(c).await == want).then_some(())
    })
    .await;
}

/// Keys pressed with focus on the page body (nothing of the window's focused).
async fn body_keys(c: &Client, keys: &str) {
    js(c, "document.activeElement && document.activeElement.blur()").await;
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

/// Creates `path` on the demo server with `doc` (If-None-Match: *).
async fn create(c: &Client, path: &str, doc: &Value) {
    let base = demo_url(c).await;
    let made = reqwest::Client::new()
        .put(format!("{base}{path}"))
        .header("If-None-Match", "*")
        .body(serde_json::to_string_pretty(doc).unwrap())
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());
}

/// 1. Typing during a slow save: the save ends, what was typed meanwhile is still in the editor
/// and the tab says it is unsaved (the window replaced the editor's text with the server's).
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_typing_during_a_slow_save_is_kept() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let loaded = editor_text(&c, "editor").await;
    let sent = edit(&loaded, "/siteName", json!("Sent by the save"));
    set_editor(&c, "editor", &sent).await;
    fault(
        &c,
        json!({"path": "/settings", "method": "PUT", "delay_ms": 2500, "count": 3}),
    )
    .await;
    click(&c, &tid("save")).await;
    until_visible(&c, "busy", "the save's progress").await;
    // The admin keeps typing while the window says "Saving…".
    let typed = edit(&sent, "/limits/maxUploadMb", json!(777));
    set_editor(&c, "editor", &typed).await;
    until_not_saving(&c, 0).await;
    let server = Server::Demo.read(&c).await;
    assert_eq!(server["siteName"], "Sent by the save", "the save landed");
    assert_eq!(
        result_at(&c, "/limits/maxUploadMb").await,
        json!(777),
        "what was typed during the save is still in the editor"
    );
    assert_eq!(
        tab_status(&c, 0).await,
        "dirty",
        "the typed edit is not on the server: the tab says unsaved"
    );
    c.close().await.unwrap();
}

/// 2. Typing in the Result while an Accept is on its way to Rust: the Accept applies and the
/// typed change stays (the window replaced the whole Result with Rust's answer to the text
/// before the typing).
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_typing_during_an_accept_is_kept() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    settle(&c).await;
    // The click and the keystroke in the same moment: the Accept's answer comes after both.
    js(
        &c,
        &format!(
            "document.querySelector('{}').click(); \
             const v = document.querySelector('[data-testid=\"editor\"]').ifmatchView; \
             const at = v.state.doc.toString().indexOf('{{') + 1; \
             v.dispatch({{changes: {{from: at, insert: '\\n  \"typedDuringAccept\": 1,'}}}});",
            result_accept(0, "mine").replace('\'', "\\'")
        ),
    )
    .await;
    until_resolutions(&c, &["mine", "unresolved"], "the Accept").await;
    settle(&c).await;
    assert_eq!(result_at(&c, "/siteName").await, json!("Acme Care"));
    assert_eq!(
        result_at(&c, "/typedDuringAccept").await,
        json!(1),
        "the member typed while the Accept was answered is still in the Result"
    );
    c.close().await.unwrap();
}

/// 3. Ctrl+S twice quickly, on a save and on a resubmit: one write each, and the window ends
/// saying "Saved" (clean), never a round or an error made by its own second write.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_double_ctrl_s_writes_once() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    let saves = || async { js(&c, "return window.ifmatchCallsOf('save_tab');").await };
    let ctrl_s = chord(&[Key::Control], "s");
    let mut failures = vec![];
    // (a) A save, right after typing (the lint has not checked the text yet).
    activate(&c, 0).await;
    let text = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&text, "/siteName", json!("Twice"))).await;
    let before = saves().await;
    body_keys(&c, &format!("{ctrl_s}{ctrl_s}")).await;
    wait_for("the save", || async {
        (Server::Demo.read(&c).await["siteName"] == "Twice").then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    until_not_saving(&c, 0).await;
    let n = saves().await.as_i64().unwrap() - before.as_i64().unwrap();
    if n != 1 {
        failures.push(format!("save: {n} save_tab calls for one text"));
    }
    let st = tab_status(&c, 0).await;
    if st != "clean" {
        failures.push(format!(
            "save: the tab ends {st:?}: {} / {}",
            text_of(&c, "merge-summary").await,
            text_of(&c, "error-message").await
        ));
    }
    // (b) A resubmit with every conflict decided.
    collide_at(
        &c,
        (0, 1),
        &[("/limits/maxUploadMb", json!(50), json!(100))],
    )
    .await;
    click(&c, &tid("accept-all-mine")).await;
    wait_for("all decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("All")
            .then_some(())
    })
    .await;
    let before = saves().await;
    body_keys(&c, &format!("{ctrl_s}{ctrl_s}")).await;
    wait_for("the resubmit", || async {
        (Server::Demo.read(&c).await["limits"]["maxUploadMb"] == 100).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    until_not_saving(&c, 1).await;
    let n = saves().await.as_i64().unwrap() - before.as_i64().unwrap();
    if n != 1 {
        failures.push(format!("resubmit: {n} save_tab calls for one round"));
    }
    let st = tab_status(&c, 1).await;
    if st != "clean" {
        failures.push(format!(
            "resubmit: the tab ends {st:?}: {} / {}",
            text_of(&c, "merge-summary").await,
            text_of(&c, "error-message").await
        ));
    }
    c.close().await.unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// 4. Invalid JSON typed in the Result, then Ctrl+S and Resubmit: nothing is sent, the window
/// says where, the text is kept as typed, the round goes on; fixed, it resubmits.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_invalid_json_in_the_result_is_refused_and_kept() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    let on_server = Server::Demo.read(&c).await;
    let good = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Acme Care"),
    );
    let bad = good.replacen("\"Acme Care\"", "\"Acme Care", 1);
    set_editor(&c, "editor", &bad).await;
    cursor_on(&c, "Acme Care").await;
    type_into(&c, "editor", &chord(&[Key::Control], "s")).await;
    let said = wait_for("the refusal", || async {
        let e = text_of(&c, "error-message").await;
        e.contains("not valid JSON").then_some(e)
    })
    .await;
    assert!(said.contains("line"), "the message says where: {said}");
    click(&c, &tid("resubmit")).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(c.get_alert_text().await.is_err(), "no question either");
    assert_eq!(Server::Demo.read(&c).await, on_server, "nothing was sent");
    assert_eq!(editor_text(&c, "editor").await, bad, "the text is kept");
    assert_eq!(tab_status(&c, 1).await, "conflict");
    assert!(visible(&c, "conflict-view").await);
    // Fixed (and the other conflict decided): the resubmit goes through.
    set_editor(
        &c,
        "editor",
        &edit(&good, "/limits/maxUploadMb", json!(100)),
    )
    .await;
    wait_for("both decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("All")
            .then_some(())
    })
    .await;
    click(&c, &tid("resubmit")).await;
    until_status(&c, 1, "clean", "resubmitted").await;
    assert!(!visible(&c, "error-message").await, "the old error is gone");
    let s = Server::Demo.read(&c).await;
    assert_eq!(s["siteName"], "Acme Care");
    assert_eq!(s["limits"]["maxUploadMb"], 100);
    c.close().await.unwrap();
}

/// 5. Accept, Ctrl+Z in the Result (the Accept undone), then Accept all theirs: the undone
/// conflict is open again and Accept all takes theirs for both.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_accept_undo_then_accept_all() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    settle(&c).await;
    let start = editor_text(&c, "editor").await;
    click(&c, &result_accept(0, "mine")).await;
    until_resolutions(&c, &["mine", "unresolved"], "the Accept").await;
    settle(&c).await;
    cursor_on(&c, "\"siteName\"").await;
    type_into(&c, "editor", &chord(&[Key::Control], "z")).await;
    wait_for("the undo", || async {
        (editor_text(&c, "editor").await == start).then_some(())
    })
    .await;
    until_resolutions(&c, &["unresolved", "unresolved"], "the conflict open again").await;
    assert!(text_of(&c, "unresolved-count").await.starts_with("2 of 2"));
    click(&c, &tid("accept-all-theirs")).await;
    until_resolutions(&c, &["theirs", "theirs"], "Accept all theirs").await;
    assert_eq!(result_at(&c, "/siteName").await, json!("Acme Help"));
    assert_eq!(result_at(&c, "/limits/maxUploadMb").await, json!(50));
    c.close().await.unwrap();
}

/// 6. A conflict's value edited by hand, then Accept all mine: the hand edit stays (Accept all
/// takes only what nobody decided), and the resubmit sends it.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_accept_all_keeps_a_hand_edit() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    let r = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&r, "/siteName", json!("Typed by hand"))).await;
    until_resolutions(&c, &["edited", "unresolved"], "the hand edit counted").await;
    click(&c, &tid("accept-all-mine")).await;
    until_resolutions(&c, &["edited", "mine"], "Accept all mine").await;
    assert_eq!(result_at(&c, "/siteName").await, json!("Typed by hand"));
    assert_eq!(result_at(&c, "/limits/maxUploadMb").await, json!(100));
    click(&c, &tid("resubmit")).await;
    // Neither side's value: the window asks first.
    let q = wait_for("the question", || async { c.get_alert_text().await.ok() }).await;
    assert!(
        q.contains("/siteName") && q.contains("Typed by hand"),
        "{q}"
    );
    c.accept_alert().await.unwrap();
    until_status(&c, 1, "clean", "resubmitted").await;
    let s = Server::Demo.read(&c).await;
    assert_eq!(s["siteName"], "Typed by hand");
    assert_eq!(s["limits"]["maxUploadMb"], 100);
    c.close().await.unwrap();
}

/// 7. The rail folded: Alt+↓ / Alt+↑ from the page body, a ruler click and Alt+1 still work, the
/// folded toggle counts what is open, and Ctrl+S with one open asks before sending.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_a_folded_rail_keeps_the_keyboard() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    click(&c, &tid("rail-toggle")).await;
    wait_for("the rail folded", || async {
        (!visible(&c, "conflict-list").await).then_some(())
    })
    .await;
    let count = || async { text_of(&c, "result-count").await };
    body_keys(&c, &chord(&[Key::Alt, Key::Down], "")).await;
    wait_for("Alt+↓", || async {
        count().await.starts_with("conflict 2 of 2").then_some(())
    })
    .await;
    body_keys(&c, &chord(&[Key::Alt, Key::Up], "")).await;
    wait_for("Alt+↑", || async {
        count().await.starts_with("conflict 1 of 2").then_some(())
    })
    .await;
    js(&c, "document.querySelectorAll('[data-testid=\"conflict-ruler\"] [data-testid=\"ruler-mark\"]')[1].click()").await;
    wait_for("the ruler's click", || async {
        count().await.starts_with("conflict 2 of 2").then_some(())
    })
    .await;
    settle(&c).await;
    body_keys(&c, &chord(&[Key::Alt], "1")).await;
    until_resolutions(&c, &["unresolved", "mine"], "Alt+1 on the current (second)").await;
    wait_for("the folded toggle counts", || async {
        text_of(&c, "rail-toggle")
            .await
            .contains("1 open")
            .then_some(())
    })
    .await;
    let on_server = Server::Demo.read(&c).await;
    settle(&c).await;
    body_keys(&c, &chord(&[Key::Control], "s")).await;
    let q = wait_for("the question", || async { c.get_alert_text().await.ok() }).await;
    assert!(q.contains("/siteName"), "{q}");
    c.dismiss_alert().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(Server::Demo.read(&c).await, on_server, "nothing was sent");
    c.close().await.unwrap();
}

/// The page's overflow: how far it scrolls down and sideways.
const OVERFLOW: &str = "const s = document.scrollingElement; return [s.scrollHeight - window.innerHeight, s.scrollWidth - window.innerWidth, window.innerWidth, window.innerHeight];";

/// 8. Keys with `/`, `~`, `"`, an emoji, right-to-left text and a very long name: each conflict
/// names its place (RFC 6901 pointer, the raw key as label), the view fits 1200×800 after being
/// resized to 800×600 and 1920×1080 mid-round, the review labels each side, the server gets
/// exactly mine.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_odd_keys_are_named_right_and_fit() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let long = "x".repeat(160);
    let keys = [
        "a/b".to_string(),
        "t~x".to_string(),
        "q\"uote".to_string(),
        "emoji 🙂".to_string(),
        "עברית ימין".to_string(),
        long.clone(),
    ];
    let pointers: Vec<String> = keys
        .iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect();
    let doc = |v: &str| {
        Value::Object(
            keys.iter()
                .map(|k| (k.clone(), json!(format!("{v} {k}"))))
                .collect(),
        )
    };
    create(&c, "/odd", &doc("base")).await;
    open(&c, "/odd").await;
    open(&c, "/odd").await;
    let changes: Vec<(&str, Value, Value)> = pointers
        .iter()
        .zip(&keys)
        .map(|(p, k)| {
            (
                p.as_str(),
                json!(format!("theirs {k}")),
                json!(format!("mine {k}")),
            )
        })
        .collect();
    collide_at(&c, (1, 2), &changes).await;
    settle(&c).await;
    let listed = js(&c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].map(e => [e.dataset.pointer, e.querySelector('.label').textContent]);").await;
    let mut got: Vec<(String, String)> = serde_json::from_value(listed).unwrap();
    got.sort();
    let mut want: Vec<(String, String)> = pointers
        .iter()
        .cloned()
        .zip(keys.iter().map(|k| k.to_string()))
        .collect();
    want.sort();
    let mut failures = vec![];
    if got != want {
        failures.push(format!("pointers and labels: {got:?} (want {want:?})"));
    }
    for (w, h) in [(800, 600), (1920, 1080), (1200, 800)] {
        c.set_window_size(w, h).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    settle(&c).await;
    let o = js(&c, OVERFLOW).await;
    screenshot(&c, "hostile-odd-keys-1200x800").await;
    if o[0].as_f64().unwrap() > 1.0 || o[1].as_f64().unwrap() > 1.0 {
        failures.push(format!(
            "at 1200×800 the page scrolls (down, sideways, w, h): {o}"
        ));
    }
    // Review on for this resubmit: every changed line says whose it is.
    click(&c, &tid("accept-all-mine")).await;
    wait_for("all decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("All")
            .then_some(())
    })
    .await;
    js(
        &c,
        "localStorage.setItem('ifmatch.reviewBeforeResubmit', 'always')",
    )
    .await;
    click(&c, &tid("resubmit")).await;
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
    for k in &keys {
        // As the review shows it: the key JSON-escaped.
        let escaped = serde_json::to_string(k).unwrap();
        let short: String = escaped[1..escaped.len() - 1].chars().take(20).collect();
        let mine = rows
            .iter()
            .find(|(t, _)| t.starts_with('+') && t.contains("mine ") && t.contains(&short));
        let theirs = rows
            .iter()
            .find(|(t, _)| t.starts_with('-') && t.contains("theirs ") && t.contains(&short));
        match (mine, theirs) {
            (Some((_, m)), Some((_, t))) if m == "mine" && t == "theirs" => {}
            other => failures.push(format!("review lines of {k:?}: {other:?}")),
        }
    }
    click(&c, &tid("review-send")).await;
    until_status(&c, 2, "clean", "resubmitted").await;
    let base = demo_url(&c).await;
    if read_demo(&format!("{base}/odd")).await != doc("mine") {
        failures.push("the server does not hold exactly mine".into());
    }
    c.close().await.unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// 9. The network fails around a write: dropped after the server applied it (alone, and with
/// the read that would settle it failing too), a gateway's 503 after the commit, dropped before
/// it reached the store. Every word is true: "Saved" only when the server holds the text, "may
/// have landed" when it could not be told, never "Saved" for a write that did not land; the
/// text is kept whenever the tab is not clean.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_a_write_lost_on_the_wire_is_told_truly() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    // The first save checks the server first: done before any fault is armed.
    click(&c, &tid("check-server")).await;
    until_visible(&c, "check-dialog", "the check").await;
    click(&c, &tid("check-close")).await;
    let put = |extra: Value| {
        let mut f = json!({"path": "/settings", "method": "PUT"});
        f.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        f
    };
    let mut failures = vec![];
    for (n, faults, must_say_maybe) in [
        (0, vec![put(json!({"drop_after_apply": true}))], false),
        (
            1,
            vec![
                put(json!({"drop_after_apply": true})),
                json!({"path": "/settings", "method": "GET", "drop_before_apply": true, "count": 5}),
            ],
            true,
        ),
        (2, vec![put(json!({"status_after_apply": 503}))], false),
        (3, vec![put(json!({"drop_before_apply": true}))], false),
    ] {
        let value = format!("Attempt {n}");
        let text = editor_text(&c, "editor").await;
        set_editor(&c, "editor", &edit(&text, "/siteName", json!(value))).await;
        for f in &faults {
            fault(&c, f.clone()).await;
        }
        click(&c, &tid("save")).await;
        until_not_saving(&c, 0).await;
        let _ = reqwest::Client::new()
            .delete(format!("{}/_demo/faults", demo_url(&c).await))
            .send()
            .await;
        let held = Server::Demo.read(&c).await["siteName"] == json!(value);
        let said = format!(
            "{} | {}",
            text_of(&c, "error-message").await,
            text_of(&c, "merge-summary").await
        );
        let st = tab_status(&c, 0).await;
        let lower = said.to_lowercase();
        let maybe = lower.contains("may have landed");
        if st == "clean" && !held {
            failures.push(format!(
                "{n}: clean but the server does not hold it: {said}"
            ));
        }
        if lower.contains("saved.") && !held {
            failures.push(format!("{n}: says saved, not held: {said}"));
        }
        if (lower.contains("nothing was written") || lower.contains("unchanged")) && held {
            failures.push(format!(
                "{n}: says nothing was written, but it landed: {said}"
            ));
        }
        if must_say_maybe && !maybe && st != "clean" {
            failures.push(format!(
                "{n}: could not be settled, yet not told it may have landed: {said} ({st})"
            ));
        }
        if st != "clean" && !editor_text(&c, "editor").await.contains(&value) {
            failures.push(format!("{n}: not clean and the text is not kept: {said}"));
        }
        // Back to what the server holds before the next attack.
        if st != "clean" {
            reload_until_clean(&c, 0).await;
        }
    }
    c.close().await.unwrap();
    assert!(failures.is_empty(), "{failures:#?}");
}

/// 10. A draft garbled on disk before a restart: the window starts, and says a draft could not
/// be read (the user's text is on disk, set aside: silently showing the server's version lets
/// the admin believe nothing was lost).
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_a_garbled_draft_is_told() {
    let _one_at_a_time = serial().await;
    let home = fresh_home("garbled");
    {
        let d = Driver::start_in(&home, &[]);
        let c = d.session().await;
        first_tab(&c).await;
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
    let dir = drafts_dir(&home);
    let mut garbled = 0;
    for e in std::fs::read_dir(&dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") {
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, &text[..text.len() / 2]).unwrap();
            garbled += 1;
        }
    }
    assert_eq!(garbled, 1, "one draft garbled");
    let d = Driver::start_in(&home, &[]);
    let c = d.session().await;
    first_tab(&c).await;
    settle(&c).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kept = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .any(|e| e.metadata().is_ok_and(|m| m.len() > 0));
    assert!(kept, "the garbled draft's bytes are kept on disk");
    let shown = js(&c, "return document.body.innerText;").await;
    let shown = shown.as_str().unwrap_or_default().to_lowercase();
    screenshot(&c, "hostile-garbled-draft").await;
    assert!(
        shown.contains("draft"),
        "the window says a draft could not be restored: {shown}"
    );
    c.close().await.unwrap();
}

/// 11. Nonsense (and regex-like characters) typed into the palette: nothing runs, nothing
/// breaks; Escape closes it and Ctrl+S, F1 and Alt+R still work from the page body.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_palette_nonsense_then_the_keys_still_work() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let on_server = Server::Demo.read(&c).await;
    body_keys(&c, &String::from(char::from(Key::F1))).await;
    until_visible(&c, "palette", "the palette").await;
    let input = c.find(Locator::Css(&tid("palette-input"))).await.unwrap();
    input.send_keys("zzqx (( [[ \\ ~~ .* ?? 🙂 ").await.unwrap();
    let items = js(
        &c,
        "return document.querySelectorAll('[data-testid=\"palette-item\"]').length;",
    )
    .await;
    assert_eq!(items, json!(0), "nothing matches nonsense");
    input
        .send_keys(&String::from(char::from(Key::Enter)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!visible(&c, "error-message").await, "no error");
    assert_eq!(Server::Demo.read(&c).await, on_server, "nothing ran");
    input
        .send_keys(&String::from(char::from(Key::Escape)))
        .await
        .unwrap();
    wait_for("the palette closed", || async {
        (!visible(&c, "palette").await).then_some(())
    })
    .await;
    let text = editor_text(&c, "editor").await;
    set_editor(
        &c,
        "editor",
        &edit(&text, "/siteName", json!("After nonsense")),
    )
    .await;
    body_keys(&c, &chord(&[Key::Control], "s")).await;
    until_status(&c, 0, "clean", "saved with Ctrl+S").await;
    assert_eq!(Server::Demo.read(&c).await["siteName"], "After nonsense");
    assert!(
        text_of(&c, "merge-summary").await.starts_with("Saved"),
        "{}",
        text_of(&c, "merge-summary").await
    );
    c.close().await.unwrap();
}

/// Every visible text under `root` below WCAG AA against its composed background:
/// `text | fg | bg | ratio`, at most 25.
const CONTRAST_SWEEP: &str = r#"
const root = document.querySelector(arguments[0]);
const parse = s => { const m = /rgba?\(([^)]+)\)/.exec(s); if (!m) return null; const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
const lum = c => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
const over = (top, under) => { const a = top[3] + under[3] * (1 - top[3]); return [0, 1, 2].map(i => (top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a).concat([a]); };
const dark = matchMedia('(prefers-color-scheme: dark)').matches;
const bgOf = el => { const layers = []; for (let e = el; e; e = e.parentElement) { const b = parse(getComputedStyle(e).backgroundColor); if (b && b[3] > 0) { layers.push(b); if (b[3] >= 1) break; } } let c = dark ? [0, 0, 0, 1] : [255, 255, 255, 1]; for (const l of layers.reverse()) c = over(l, c); return c; };
const out = [];
for (const el of root.querySelectorAll('*')) {
  if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
  if (el.closest('[hidden], :disabled, .cm-gutters, option')) continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) continue;
  const cs = getComputedStyle(el);
  if (cs.visibility !== 'visible' || Number(cs.opacity) === 0) continue;
  const bg = bgOf(el);
  const fg = over(parse(cs.color), bg);
  const [x, y] = [lum(fg), lum(bg)];
  const ratio = (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  const size = parseFloat(cs.fontSize), bold = Number(cs.fontWeight) >= 700;
  const need = size >= 24 || (size >= 18.66 && bold) ? 3 : 4.5;
  if (ratio < need) out.push(`${el.textContent.trim().slice(0, 40)} | ${el.tagName.toLowerCase()}.${el.className} [${el.closest('[data-testid]')?.dataset.testid ?? ''}] | ${cs.color} | ${bg.map(Math.round).join(',')} | ${ratio.toFixed(2)}`);
}
return [...new Set(out)].slice(0, 25);
"#;

/// 12. Every text on the conflict view and in the review dialog reads at WCAG AA, in the light
/// and the dark theme (not only the selected few).
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_every_text_has_contrast_in_both_themes() {
    let _one_at_a_time = serial().await;
    let mut failures = vec![];
    for (theme, env) in [
        ("dark", vec![("GTK_THEME", "Adwaita:dark")]),
        ("light", vec![]),
    ] {
        let d = Driver::start(&env);
        let c = d.session().await;
        c.set_window_size(1200, 800).await.unwrap();
        two_tabs(&c, &Server::Demo).await;
        collide(&c).await;
        settle(&c).await;
        let dark = js(
            &c,
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
        )
        .await;
        assert_eq!(dark, json!(theme == "dark"), "the {theme} theme is in use");
        // One decided, one open: both looks are on screen; the Details of the first open.
        click(&c, &result_accept(0, "mine")).await;
        until_resolutions(&c, &["mine", "unresolved"], "the Accept").await;
        js(
            &c,
            "document.querySelector('[data-testid=\"conflict-details\"]').open = true",
        )
        .await;
        settle(&c).await;
        let low = c
            .execute(CONTRAST_SWEEP, vec![json!("body")])
            .await
            .unwrap();
        screenshot(&c, &format!("hostile-contrast-{theme}")).await;
        for l in low.as_array().unwrap() {
            failures.push(format!("{theme} page: {}", l.as_str().unwrap()));
        }
        js(
            &c,
            "localStorage.setItem('ifmatch.reviewBeforeResubmit', 'always')",
        )
        .await;
        click(&c, &tid("review")).await;
        until_visible(&c, "review-dialog", "the review").await;
        settle(&c).await;
        let low = c
            .execute(
                CONTRAST_SWEEP,
                vec![json!("[data-testid=\"review-dialog\"]")],
            )
            .await
            .unwrap();
        for l in low.as_array().unwrap() {
            failures.push(format!("{theme} review: {}", l.as_str().unwrap()));
        }
        c.close().await.unwrap();
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// 13. The server changes again between the conflict view opening and Resubmit, at a place the
/// user decided and at one nobody touched: the next round keeps the untouched decision, asks
/// again only where theirs moved, and the window's words count what is open.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_a_second_412_round_keeps_decisions() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    click(&c, &result_accept(0, "mine")).await;
    until_resolutions(&c, &["mine", "unresolved"], "the first Accept").await;
    click(&c, &result_accept(1, "theirs")).await;
    until_resolutions(&c, &["mine", "theirs"], "the second Accept").await;
    // Another writer: maxUploadMb again (the place where theirs was taken) and a new field.
    let base = demo_url(&c).await;
    let r = reqwest::Client::new()
        .post(format!("{base}/_demo/another-admin/settings"))
        .body(r#"{"limits": {"maxUploadMb": 64}, "notifications": {"email": false}}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    click(&c, &tid("resubmit")).await;
    // The next round: conflict on maxUploadMb (theirs moved from 50 to 64 under the choice of
    // 50), or merged when the engine takes it as theirs; siteName stays mine either way.
    let st = wait_for("the next round", || async {
        let s = tab_status(&c, 1).await;
        matches!(s.as_str(), "merged" | "conflict" | "clean").then_some(s)
    })
    .await;
    settle(&c).await;
    assert_ne!(st, "clean", "the resubmit met the other writer");
    assert_eq!(
        result_at(&c, "/siteName").await,
        json!("Acme Care"),
        "the decision for siteName is kept"
    );
    assert_eq!(result_at(&c, "/notifications/email").await, json!(false));
    if st == "conflict" {
        let summary = text_of(&c, "merge-summary").await;
        let open = text_of(&c, "unresolved-count").await;
        assert!(
            open.starts_with("1 of 1") && summary.contains("1 of 1"),
            "only the moved place is asked again: {open} / {summary}"
        );
        click(&c, &tid("accept-all-theirs")).await;
        wait_for("decided", || async {
            text_of(&c, "unresolved-count")
                .await
                .starts_with("All")
                .then_some(())
        })
        .await;
    }
    click(&c, &tid("resubmit")).await;
    until_status(&c, 1, "clean", "saved").await;
    let s = Server::Demo.read(&c).await;
    assert_eq!(s["siteName"], "Acme Care");
    assert_eq!(s["limits"]["maxUploadMb"], 64);
    assert_eq!(s["notifications"]["email"], false);
    c.close().await.unwrap();
}

/// 14. Cancel during a slow save, edit, save again: the window's words are true each time (the
/// cancel is told, the second save says Saved only once the server holds the new text).
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_cancel_then_edit_then_save() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let text = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&text, "/siteName", json!("First try"))).await;
    fault(
        &c,
        json!({"path": "/settings", "method": "PUT", "delay_ms": 4000, "count": 3}),
    )
    .await;
    click(&c, &tid("save")).await;
    until_visible(&c, "busy", "the progress").await;
    click(&c, &tid("busy-cancel")).await;
    let said = wait_for("the cancel", || async {
        let e = text_of(&c, "error-message").await;
        e.contains("Cancelled").then_some(e)
    })
    .await;
    assert_ne!(tab_status(&c, 0).await, "clean", "{said}");
    // Let the slow write (if it went out) finish on the server, then edit and save again.
    tokio::time::sleep(Duration::from_millis(4500)).await;
    let _ = reqwest::Client::new()
        .delete(format!("{}/_demo/faults", demo_url(&c).await))
        .send()
        .await;
    let now = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&now, "/siteName", json!("Second try"))).await;
    click(&c, &tid("save")).await;
    // The tab shows the cancel's error until the second save starts (it clears it): an "error"
    // still saying "Cancelled" is not that save's outcome.
    let st = wait_for("the second save's outcome", || async {
        let s = tab_status(&c, 0).await;
        let cancelled = text_of(&c, "error-message").await.contains("Cancelled");
        (matches!(s.as_str(), "clean" | "merged" | "conflict" | "error") && !cancelled).then_some(s)
    })
    .await;
    settle(&c).await;
    let server = Server::Demo.read(&c).await;
    let summary = text_of(&c, "merge-summary").await;
    if st == "clean" {
        assert_eq!(
            server["siteName"], "Second try",
            "Saved means held: {summary}"
        );
        assert!(summary.starts_with("Saved"), "{summary}");
    } else {
        // The first write landed after the cancel: a round against it, never "Saved".
        assert!(!summary.starts_with("Saved"), "{st}: {summary}");
        assert!(
            editor_text(&c, "editor").await.contains("Second try"),
            "the second edit is kept"
        );
    }
    c.close().await.unwrap();
}

/// Typing during a save on a connection that resubmits clean merges automatically, while
/// another admin changes something else: the save merges that change in and writes it; the
/// editor then holds the typing with that change carried in (not the typing alone, which the
/// next save would write over the other admin's change), and the next save keeps both.
#[tokio::test(flavor = "multi_thread")]
pub async fn hostile_typing_during_a_save_that_resubmits_by_itself_keeps_the_servers_change() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let demo = demo_url(&c).await;
    crate::connections::new_connection(&c).await;
    set_field(&c, "c-name", "Auto").await;
    set_field(&c, "c-url", &demo).await;
    js(
        &c,
        "const e = document.getElementById('c-auto'); e.checked = true; e.dispatchEvent(new Event('change', {bubbles: true})); return true",
    )
    .await;
    click(&c, "#c-save").await;
    wait_for("the connection saved", || async {
        (!visible(&c, "connection-dialog").await).then_some(())
    })
    .await;
    open(&c, "/settings").await;
    until_status(&c, 1, "clean", "the tab on the new connection").await;
    let sent = edit(
        &editor_text(&c, "editor").await,
        "/siteName",
        json!("Sent Auto"),
    );
    set_editor(&c, "editor", &sent).await;
    fault(
        &c,
        json!({"path": "/settings", "method": "PUT", "delay_ms": 2500, "count": 1}),
    )
    .await;
    click(&c, &tid("save")).await;
    until_visible(&c, "busy", "the save's progress").await;
    let r = reqwest::Client::new()
        .post(format!("{demo}/_demo/another-admin/settings"))
        .body(r#"{"notifications": {"digest": "yearly"}}"#)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let typed = edit(&sent, "/limits/maxUploadMb", json!(779));
    set_editor(&c, "editor", &typed).await;
    until_not_saving(&c, 1).await;
    let server = Server::Demo.read(&c).await;
    assert_eq!(server["siteName"], "Sent Auto", "the save landed");
    assert_eq!(server["notifications"]["digest"], "yearly", "merged in");
    assert_eq!(result_at(&c, "/limits/maxUploadMb").await, json!(779));
    assert_eq!(
        result_at(&c, "/notifications/digest").await,
        json!("yearly"),
        "the editor lacks the change the save merged in and wrote"
    );
    click(&c, &tid("save")).await;
    until_status(&c, 1, "clean", "saved again").await;
    let server = Server::Demo.read(&c).await;
    assert_eq!(server["limits"]["maxUploadMb"], json!(779));
    assert_eq!(server["notifications"]["digest"], "yearly");
    c.close().await.unwrap();
}
