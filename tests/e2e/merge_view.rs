//! The merge view: it decides nothing by itself, accepts in one place per conflict, the panes follow the current conflict and stay aligned, it fits the window, the keyboard works.

use crate::support::*;

pub async fn resolutions(c: &Client) -> Vec<String> {
    let v = js(c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].map(e => e.dataset.resolution);").await;
    serde_json::from_value(v).unwrap()
}

pub async fn current_conflict(c: &Client) -> i64 {
    js(c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].findIndex(e => e.classList.contains('current'));").await
        .as_i64()
        .unwrap()
}

/// Waits past the window's status refresh (debounced), then checks nothing was decided.
pub async fn still_nothing_decided(c: &Client, after: &str) {
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        resolutions(c).await,
        vec!["unresolved", "unresolved"],
        "after {after}"
    );
    assert!(
        text_of(c, "unresolved-count").await.starts_with("2 of 2"),
        "after {after}: {}",
        text_of(c, "unresolved-count").await
    );
    assert!(
        text_of(c, "merge-summary")
            .await
            .contains("2 of 2 conflict(s) still need you"),
        "after {after}: the summary counts too"
    );
}

/// Type-and-undo, Edit without typing, an edit elsewhere and Alt+↓ in the Result decide nothing;
/// Resubmit then asks, naming the places, and declining sends nothing.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_conflict_view_decides_nothing_by_itself() {
    use fantoccini::key::Key;
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    let on_server = Server::Demo.read(&c).await;
    let start = editor_text(&c, "editor").await;
    still_nothing_decided(&c, "opening").await;
    // Unresolved spots are marked in the Result (gutter and lines).
    assert!(
        c.find(Locator::Css(".cm-conflict-open-marker"))
            .await
            .is_ok(),
        "a gutter mark"
    );
    assert!(
        c.find(Locator::Css(".cm-conflict-open")).await.is_ok(),
        "an inline mark"
    );

    // 1. One space typed on the conflict's line, then undone.
    cursor_on(&c, "\"siteName\"").await;
    type_into(&c, "editor", " ").await;
    wait_for("the space", || async {
        (editor_text(&c, "editor").await != start).then_some(())
    })
    .await;
    type_into(&c, "editor", &chord(&[Key::Control], "z")).await;
    wait_for("the undo", || async {
        (editor_text(&c, "editor").await == start).then_some(())
    })
    .await;
    still_nothing_decided(&c, "type and undo").await;

    // 2. Edit, and nothing typed: the cursor is on the value itself, nothing is decided.
    click(
        &c,
        "[data-testid=\"inline-actions\"][data-index=\"0\"] [data-testid=\"inline-edit\"]",
    )
    .await;
    settle(&c).await;
    let selected = js(&c, "const v = document.querySelector('[data-testid=\"editor\"]').ifmatchView; const s = v.state.selection.main; return v.state.sliceDoc(s.from, s.to);").await;
    assert_eq!(
        selected,
        json!("\"Acme Support\""),
        "Edit selects the value, not the line"
    );
    still_nothing_decided(&c, "Edit without typing").await;

    // 3. An edit of another line.
    set_editor(&c, "editor", &edit(&start, "/timezone", json!("UTC"))).await;
    still_nothing_decided(&c, "an edit elsewhere").await;

    // 4. Alt+↓ in the Result: the next conflict, and no line moved.
    let before = editor_text(&c, "editor").await;
    let was = current_conflict(&c).await;
    cursor_on(&c, "\"maintenanceMode\"").await;
    type_into(&c, "editor", &chord(&[Key::Alt, Key::Down], "")).await;
    wait_for("the next conflict", || async {
        (current_conflict(&c).await != was).then_some(())
    })
    .await;
    assert_eq!(editor_text(&c, "editor").await, before, "no line moved");
    still_nothing_decided(&c, "Alt+↓").await;
    assert!(
        text_of(&c, "conflict-keys").await.contains("Alt+↓"),
        "the keys are listed in the window"
    );
    screenshot(&c, "conflict-nothing-decided").await;

    // 5. Resubmit asks, naming both places; declining sends nothing.
    click(&c, &tid("resubmit")).await;
    let q = wait_for("the question", || async { c.get_alert_text().await.ok() }).await;
    assert!(
        q.starts_with("2 conflicts are not resolved")
            && q.contains("/siteName")
            && q.contains("/limits/maxUploadMb"),
        "{q}"
    );
    c.dismiss_alert().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(Server::Demo.read(&c).await, on_server, "nothing was sent");
    assert_eq!(tab_status(&c, 1).await, "conflict");
    c.close().await.unwrap();
}

/// Accept all theirs decides every conflict in one go (one call to Rust), the Result then holds
/// theirs' values, and the panes mark each side's changes from Rust's line hunks.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_accept_all_and_the_panes_marks() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    // The text of each pane's marked (changed) lines.
    let marked = |pane: &'static str| {
        let c = &c;
        async move {
            let v = c
                .execute(
                    "return [...document.querySelectorAll(`[data-testid=\"${arguments[0]}\"] .cm-changedLine`)].map((l) => l.textContent);",
                    vec![json!(pane)],
                )
                .await
                .unwrap();
            serde_json::from_value::<Vec<String>>(v).unwrap()
        }
    };
    let mine = wait_for("the Mine pane's marks", || async {
        let m = marked("mine-pane").await;
        (!m.is_empty()).then_some(m)
    })
    .await;
    let has = |lines: &[String], needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        has(&mine, "Acme Care") && has(&mine, "100"),
        "mine's changed lines are marked: {mine:?}"
    );
    assert!(
        !has(&mine, "timeoutMinutes"),
        "an unchanged line is not: {mine:?}"
    );
    let theirs = marked("theirs-pane").await;
    assert!(
        has(&theirs, "Acme Help") && has(&theirs, "50"),
        "theirs' changed lines are marked: {theirs:?}"
    );
    assert!(marked("base-pane").await.is_empty(), "base marks nothing");
    // The accept actions sit on each conflict in the Result too.
    let inline = || async {
        c.find_all(Locator::Css(&tid("inline-actions")))
            .await
            .unwrap()
            .len()
    };
    assert_eq!(inline().await, 2, "one row of actions per open conflict");
    js(&c, "document.querySelector('[data-testid=\"inline-actions\"] [data-testid=\"inline-accept-theirs\"]').click()").await;
    wait_for("the inline accept", || async {
        let items = c.find_all(Locator::Css(&tid("conflict-item"))).await.ok()?;
        let mut theirs = 0;
        for i in items {
            theirs +=
                usize::from(i.attr("data-resolution").await.ok()?.as_deref() == Some("theirs"));
        }
        (theirs == 1).then_some(())
    })
    .await;
    wait_for("the decided one's actions gone", || async {
        (inline().await == 1).then_some(())
    })
    .await;
    click(&c, &tid("accept-all-theirs")).await;
    wait_for("every conflict decided", || async {
        let items = c.find_all(Locator::Css(&tid("conflict-item"))).await.ok()?;
        let mut all = items.len() == 2;
        for i in items {
            all &= i.attr("data-resolution").await.ok()?.as_deref() == Some("theirs");
        }
        all.then_some(())
    })
    .await;
    let result: Value = serde_json::from_str(&editor_text(&c, "editor").await).unwrap();
    assert_eq!(result["siteName"], json!("Acme Help"));
    assert_eq!(result["limits"]["maxUploadMb"], json!(50));
    assert_eq!(
        result["notifications"]["email"],
        json!(true),
        "the rest is as it was"
    );
    // The Accept's answer came as the changed lines, not the whole Result.
    let edits = js(&c, "return window.ifmatchLastAccept.edits;").await;
    assert_eq!(edits, 1, "one changed line: {edits}");
    // The layout: side by side by default, stacked on demand, a taller height, hidden.
    let geometry = || async {
        c.execute(
            "const r = id => document.querySelector(`[data-testid=\"${id}\"]`).getBoundingClientRect(); \
             return [r('mine-pane').top, r('theirs-pane').top, r('mine-pane').height];",
            vec![],
        )
        .await
        .unwrap()
    };
    let side = geometry().await;
    assert_eq!(side[0], side[1], "side by side: {side}");
    c.execute(
        "const e = document.getElementById('panes-stacked'); e.checked = true; \
         e.dispatchEvent(new Event('input'));",
        vec![],
    )
    .await
    .unwrap();
    let stacked = wait_for("the panes stacked", || async {
        let g = geometry().await;
        (g[1].as_f64() > g[0].as_f64()).then_some(g)
    })
    .await;
    set_field(&c, "pane-height", "50").await;
    js(
        &c,
        "document.getElementById('pane-height').dispatchEvent(new Event('input'))",
    )
    .await;
    wait_for("the panes taller", || async {
        let g = geometry().await;
        (g[2].as_f64()? > stacked[2].as_f64()? * 1.5).then_some(())
    })
    .await;
    // (Toggled as the slider was: a click on a checkbox in the wrapped bar can land elsewhere.)
    let toggle = |id: &'static str, on: bool| {
        let c = &c;
        async move {
            c.execute(
                "const e = document.getElementById(arguments[0]); e.checked = arguments[1]; \
                 e.dispatchEvent(new Event('input'));",
                vec![json!(id), json!(on)],
            )
            .await
            .unwrap();
        }
    };
    toggle("panes-hidden", true).await;
    wait_for("the panes hidden", || async {
        (!visible(&c, "mine-pane").await && visible(&c, "editor").await).then_some(())
    })
    .await;
    toggle("panes-hidden", false).await;
    toggle("panes-stacked", false).await;
    until_visible(&c, "mine-pane", "the panes back").await;
    c.close().await.unwrap();
}

/// The merge view at the level of the merge editors admins know (issue 11, item 2): conflicts in
/// an overview ruler beside the Result's scrollbar (a click goes to one), accepts on each
/// conflict in the Mine and Theirs panes, scalar conflicts as a compact Base / Mine / Theirs
/// card (a click on a side accepts it), the header's words for people with the validators one
/// click away, and the review of the resubmit telling each line by its side.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_merge_view_ruler_pane_accepts_and_value_cards() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    assert_eq!(
        text_of(&c, "version-words").await,
        "Editing the version you loaded"
    );
    collide(&c).await;
    assert_eq!(
        text_of(&c, "version-words").await,
        "Merging with the server's newer version"
    );
    let summary = text_of(&c, "merge-summary").await;
    assert!(
        summary.starts_with("Someone changed this on the server since you opened it")
            && summary.contains("nothing else to merge")
            && summary.ends_with("2 of 2 conflict(s) still need you."),
        "{summary}"
    );
    // (a) The ruler: one mark a conflict, in the order of the text, open; a click goes there.
    let marks = || async {
        js(&c, "return [...document.querySelectorAll('[data-testid=\"conflict-ruler\"] [data-testid=\"ruler-mark\"]')].map(m => [m.dataset.index, m.dataset.state, parseFloat(m.style.top)]);").await
    };
    let m = wait_for("the ruler's marks", || async {
        let m = marks().await;
        (m.as_array()?.len() == 2).then_some(m)
    })
    .await;
    assert_eq!(m[0][1], json!("open"), "{m}");
    assert!(
        m[0][2].as_f64().unwrap() < m[1][2].as_f64().unwrap(),
        "marks follow the text: {m}"
    );
    let current = || async {
        js(&c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].findIndex(i => i.classList.contains('current'));").await
    };
    assert_eq!(current().await, json!(0));
    assert_eq!(
        text_of(&c, "result-count").await,
        "conflict 1 of 2 · 2 unresolved"
    );
    js(&c, "document.querySelectorAll('[data-testid=\"conflict-ruler\"] [data-testid=\"ruler-mark\"]')[1].click()").await;
    wait_for("the second conflict current", || async {
        (current().await == json!(1)).then_some(())
    })
    .await;
    assert_eq!(
        text_of(&c, "result-count").await,
        "conflict 2 of 2 · 2 unresolved"
    );
    // The Result header's ↑ goes back to the first.
    click(&c, &tid("result-prev")).await;
    wait_for("the first conflict current again", || async {
        (current().await == json!(0)).then_some(())
    })
    .await;
    click(&c, &tid("result-next")).await;
    wait_for("the second again", || async {
        (current().await == json!(1)).then_some(())
    })
    .await;
    // (b) The value cards: the three values whole.
    let cards = js(&c, "return [...document.querySelectorAll('[data-testid=\"value-card\"]')].map(k => ['base', 'mine', 'theirs'].map(s => k.querySelector(`[data-testid=\"card-${s}\"] code`).textContent));").await;
    assert_eq!(
        cards,
        json!([
            ["\"Acme Support\"", "\"Acme Care\"", "\"Acme Help\""],
            ["25", "100", "50"]
        ])
    );
    // (c) The panes' own accepts: Mine's on the first conflict.
    let pane_actions = |pane: &'static str| {
        let c = &c;
        async move {
            c.execute(
                "return document.querySelectorAll(`[data-testid=\"${arguments[0]}\"] [data-testid=\"pane-actions\"]`).length;",
                vec![json!(pane)],
            )
            .await
            .unwrap()
        }
    };
    assert_eq!(pane_actions("mine-pane").await, json!(2));
    assert_eq!(pane_actions("theirs-pane").await, json!(2));
    let theirs_buttons = js(&c, "return [...document.querySelectorAll('[data-testid=\"theirs-pane\"] [data-testid=\"pane-actions\"] button')].map(b => b.dataset.testid);").await;
    assert_eq!(
        theirs_buttons,
        json!(["pane-accept-theirs", "pane-accept-theirs"])
    );
    screenshot(&c, "merge-view").await;
    js(&c, "document.querySelector('[data-testid=\"mine-pane\"] [data-testid=\"pane-actions\"][data-index=\"0\"] [data-testid=\"pane-accept-mine\"]').click()").await;
    let resolution = |i: usize| {
        let c = &c;
        async move {
            c.execute(
                "return document.querySelectorAll('[data-testid=\"conflict-item\"]')[arguments[0]].dataset.resolution;",
                vec![json!(i)],
            )
            .await
            .unwrap()
        }
    };
    wait_for("the pane's accept", || async {
        (resolution(0).await == json!("mine")).then_some(())
    })
    .await;
    wait_for("its actions gone from both panes", || async {
        (pane_actions("mine-pane").await == json!(1)
            && pane_actions("theirs-pane").await == json!(1))
        .then_some(())
    })
    .await;
    // The Result's own Edit on the second conflict puts the cursor on its value, deciding
    // nothing.
    js(&c, "document.querySelector('[data-testid=\"inline-actions\"][data-index=\"1\"] [data-testid=\"inline-edit\"]').click()").await;
    wait_for("the value selected", || async {
        let v = c
            .execute(
                "const v = document.querySelector('[data-testid=\"editor\"]').ifmatchView; const s = v.state.selection.main; return v.state.sliceDoc(s.from, s.to);",
                vec![],
            )
            .await
            .ok()?;
        (v == json!("25")).then_some(())
    })
    .await;
    assert_eq!(resolution(1).await, json!("unresolved"));
    // (d) The Result's Accept theirs on the second; the card shows which side it holds.
    click(&c, &result_accept(1, "theirs")).await;
    wait_for("the Result's accept", || async {
        (resolution(1).await == json!("theirs")).then_some(())
    })
    .await;
    wait_for("the ruler shows both decided", || async {
        let m = marks().await;
        let states: Vec<_> = m.as_array()?.iter().map(|x| x[1].clone()).collect();
        (states == vec![json!("decided"), json!("decided")]).then_some(())
    })
    .await;
    let chosen = js(&c, "return [...document.querySelectorAll('[data-testid=\"value-card\"] .chosen')].map(e => e.dataset.testid);").await;
    assert_eq!(chosen, json!(["card-mine", "card-theirs"]));
    // (e) The review of the resubmit tells each line by its side: the server's siteName is
    // replaced by mine (a "-" line of theirs, a "+" line of mine).
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
                "return [...document.querySelectorAll('[data-testid=\"review-diff\"] > div')].map(r => [r.textContent, r.dataset.side ?? null]);",
                vec![],
            )
            .await
            .ok()?;
        (!v.as_array()?.is_empty()).then_some(v)
    })
    .await;
    let side_of = |needle: &str| {
        rows.as_array()
            .unwrap()
            .iter()
            .find(|r| r[0].as_str().unwrap().contains(needle))
            .map(|r| r[1].clone())
    };
    assert_eq!(side_of("\"Acme Help\""), Some(json!("theirs")), "{rows}");
    assert_eq!(side_of("\"Acme Care\""), Some(json!("mine")), "{rows}");
    let legend = text_of(&c, "review-legend").await;
    assert!(
        legend.contains("mine: your change")
            && legend.contains("theirs (−): the server's change, which this write replaces"),
        "{legend}"
    );
    screenshot(&c, "review-sides").await;
    click(&c, &tid("review-send")).await;
    until_status(&c, 1, "clean", "saved").await;
    let server = Server::Demo.read(&c).await;
    assert_eq!(server["siteName"], json!("Acme Care"));
    assert_eq!(server["limits"]["maxUploadMb"], json!(50));
    // The validators, one click away.
    click(&c, &tid("version-words")).await;
    wait_for("the version details", || async {
        let t = text_of(&c, "tab-validator").await;
        t.starts_with('"').then_some(())
    })
    .await;
    c.close().await.unwrap();
}

/// An array run's conflict is shown element by element (issue 11: "array hunks shown as
/// elements"), and a click on Theirs' column accepts theirs.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_an_array_runs_conflict_shows_its_elements() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    activate(&c, 0).await;
    let t1 = editor_text(&c, "editor").await;
    set_editor(
        &c,
        "editor",
        &edit(&t1, "/allowedDomains/1", json!("help.acme.example")),
    )
    .await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "tab 1 saved").await;
    activate(&c, 1).await;
    let t2 = editor_text(&c, "editor").await;
    let mut doc: Value = serde_json::from_str(&t2).unwrap();
    doc["allowedDomains"] = json!(["acme.example", "care.acme.example", "acme.example.org"]);
    set_editor(&c, "editor", &serde_json::to_string_pretty(&doc).unwrap()).await;
    click(&c, &tid("save")).await;
    let cols = wait_for("the elements card", || async {
        let v = c
            .execute(
                "const k = document.querySelector('[data-testid=\"elements-card\"]'); return k && ['base', 'mine', 'theirs'].map(s => [...k.querySelectorAll(`[data-testid=\"card-${s}\"] li`)].map(l => l.textContent));",
                vec![],
            )
            .await
            .ok()?;
        (!v.is_null()).then_some(v)
    })
    .await;
    assert_eq!(
        cols,
        json!([
            ["\"acme-support.example\""],
            ["\"care.acme.example\"", "\"acme.example.org\""],
            ["\"help.acme.example\""]
        ])
    );
    click(&c, &result_accept(0, "theirs")).await;
    wait_for("theirs accepted", || async {
        let r = c
            .execute(
                "return document.querySelector('[data-testid=\"conflict-item\"]').dataset.resolution;",
                vec![],
            )
            .await
            .ok()?;
        (r == json!("theirs")).then_some(())
    })
    .await;
    let result: Value = serde_json::from_str(&editor_text(&c, "editor").await).unwrap();
    assert_eq!(
        result["allowedDomains"],
        json!(["acme.example", "help.acme.example"])
    );
    c.close().await.unwrap();
}

/// A round with many conflicts lists a window of them around the current one (the list rebuilt
/// tens of thousands of elements after every change); the ruler and Next reach the rest.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_many_conflicts_list_a_window_around_the_current_one() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let base = demo_url(&c).await;
    let doc = |v: u32| {
        let m: serde_json::Map<String, Value> =
            (0..260).map(|i| (format!("k{i:03}"), json!(v))).collect();
        serde_json::to_string_pretty(&Value::Object(m)).unwrap()
    };
    let made = reqwest::Client::new()
        .put(format!("{base}/many"))
        .header("If-None-Match", "*")
        .body(doc(0))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());
    open(&c, "/many").await;
    open(&c, "/many").await;
    activate(&c, 1).await;
    set_editor(&c, "editor", &doc(1)).await;
    click(&c, &tid("save")).await;
    until_status(&c, 1, "clean", "tab 2 saved").await;
    activate(&c, 2).await;
    set_editor(&c, "editor", &doc(2)).await;
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    let listed = || async {
        c.execute(
            "const items = [...document.querySelectorAll('[data-testid=\"conflict-item\"]')]; \
             return [items.length, items[0]?.dataset.index, items[items.length - 1]?.dataset.index, \
             [...document.querySelectorAll('[data-testid=\"conflict-list-more\"]')].map(m => m.textContent.split(' ').slice(0, 3).join(' ')), \
             document.querySelectorAll('[data-testid=\"conflict-ruler\"] [data-testid=\"ruler-mark\"]').length];",
            vec![],
        )
        .await
        .unwrap()
    };
    let first = wait_for("the list", || async {
        let l = listed().await;
        (l[0] == json!(200)).then_some(l)
    })
    .await;
    assert_eq!(first, json!([200, "0", "199", ["… 60 later"], 260]));
    assert_eq!(
        text_of(&c, "unresolved-count").await,
        "260 of 260 conflicts unresolved"
    );
    // The last mark on the ruler: the list moves to show it.
    js(&c, "const m = document.querySelectorAll('[data-testid=\"conflict-ruler\"] [data-testid=\"ruler-mark\"]'); m[m.length - 1].click()").await;
    let last = wait_for("the list around the last", || async {
        let l = listed().await;
        (l[2] == json!("259")).then_some(l)
    })
    .await;
    assert_eq!(last, json!([200, "60", "259", ["… 60 earlier"], 260]));
    let current = js(
        &c,
        "return document.querySelector('[data-testid=\"conflict-item\"].current').dataset.index",
    )
    .await;
    assert_eq!(current, json!("259"));
    click(&c, &tid("accept-all-mine")).await;
    wait_for("every conflict decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("All 260")
            .then_some(())
    })
    .await;
    click(&c, &tid("resubmit")).await;
    until_status(&c, 2, "clean", "saved").await;
    let server: Value = serde_json::from_str(
        &reqwest::get(format!("{base}/many"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        server.as_object().unwrap().values().all(|v| v == &json!(2)),
        "every conflict resolved to mine on the server"
    );
    c.close().await.unwrap();
}

/// The focused element's test id and, for a conflict's control, its conflict's index.
pub async fn focused(c: &Client) -> String {
    let v = c
        .execute(
            "const e = document.activeElement; const li = e && e.closest('[data-index]'); \
             return (e && e.dataset ? (e.dataset.testid || e.tagName) : '') + (li ? '@' + li.dataset.index : '');",
            vec![],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

/// Issue 34, item 5: the keyboard always works. After an Accept focus moves to the next open
/// conflict's Accept (Enter takes it), after the last to Resubmit, and Ctrl+S resubmits from
/// there — focus is never left on the page body, where keys reach nothing.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_ctrl_s_after_an_accept_resubmits() {
    use fantoccini::key::Key;
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    click(&c, &result_accept(0, "mine")).await;
    wait_for("focus on the next conflict", || async {
        (focused(&c).await == "inline-accept-mine@1").then_some(())
    })
    .await;
    c.active_element()
        .await
        .unwrap()
        .send_keys(&String::from(char::from(Key::Enter)))
        .await
        .unwrap();
    wait_for("both decided, focus on Resubmit", || async {
        (text_of(&c, "unresolved-count").await.starts_with("All")
            && focused(&c).await == "resubmit")
            .then_some(())
    })
    .await;
    // Ctrl+S wherever focus is: here on Resubmit, outside the editor.
    c.active_element()
        .await
        .unwrap()
        .send_keys(&chord(&[Key::Control], "s"))
        .await
        .unwrap();
    until_status(&c, 1, "clean", "resubmitted").await;
    let s = Server::Demo.read(&c).await;
    assert_eq!(s["siteName"], "Acme Care");
    assert_eq!(s["limits"]["maxUploadMb"], 100);
    // And from the page body, after the round: Ctrl+S saves an edit.
    let now = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&now, "/siteName", json!("Acme Desk"))).await;
    js(
        &c,
        "document.activeElement && document.activeElement.blur()",
    )
    .await;
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&chord(&[Key::Control], "s"))
        .await
        .unwrap();
    wait_for("saved from the body", || async {
        (Server::Demo.read(&c).await["siteName"] == "Acme Desk").then_some(())
    })
    .await;
    c.close().await.unwrap();
}

/// Issue 34, item 5: the current conflict's Accepts are in the palette with their keys, and
/// Alt+1 (mine) / Alt+2 (theirs) take them from anywhere in the window.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_accept_keys_and_palette_entries() {
    use fantoccini::key::Key;
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    let resolutions = || async {
        let v = js(&c, "return [...document.querySelectorAll('[data-testid=\"conflict-item\"]')].map(e => e.dataset.resolution);").await;
        serde_json::from_value::<Vec<String>>(v).unwrap()
    };
    // The palette offers the current conflict's Accepts (no Both: a single value).
    click(&c, &tid("palette-open")).await;
    let offered = wait_for("the palette", || async {
        let v = c
            .execute(
                "return [...document.querySelectorAll('[data-testid=\"palette-item\"]')].map(e => e.dataset.accept || '').filter(Boolean);",
                vec![],
            )
            .await
            .ok()?;
        (!v.as_array()?.is_empty()).then_some(v)
    })
    .await;
    assert_eq!(offered, json!(["mine", "theirs", "base"]));
    js(&c, "document.getElementById('palette').close()").await;
    // Alt+2 from the page body: theirs for the current (first) conflict.
    js(
        &c,
        "document.activeElement && document.activeElement.blur()",
    )
    .await;
    c.find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys(&chord(&[Key::Alt], "2"))
        .await
        .unwrap();
    wait_for("theirs taken", || async {
        (resolutions().await == ["theirs", "unresolved"]).then_some(())
    })
    .await;
    // Alt+1 wherever focus went (the next conflict's Accept): mine for the second.
    c.active_element()
        .await
        .unwrap()
        .send_keys(&chord(&[Key::Alt], "1"))
        .await
        .unwrap();
    wait_for("mine taken", || async {
        (resolutions().await == ["theirs", "mine"]).then_some(())
    })
    .await;
    c.close().await.unwrap();
}

/// Whether the pane's rendered lines (CodeMirror draws those in view) hold `needle`, and its
/// scroll offset.
pub async fn pane_shows(c: &Client, pane: &str, needle: &str) -> (bool, f64) {
    let v = c
        .execute(
            "const p = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); const s = p.querySelector('.cm-scroller'); \
             const r = s.getBoundingClientRect(); \
             const seen = [...p.querySelectorAll('.cm-line')].some(l => { const b = l.getBoundingClientRect(); return b.bottom > r.top && b.top < r.bottom && l.textContent.includes(arguments[1]); }); \
             return [seen, s.scrollTop];",
            vec![json!(pane), json!(needle)],
        )
        .await
        .unwrap();
    (
        v[0].as_bool().unwrap_or(false),
        v[1].as_f64().unwrap_or(0.0),
    )
}

/// Issue 34, item 1: Mine / Theirs / Base follow the current conflict on Next, Previous and
/// Accept, on a document whose two conflicts are ~280 lines apart.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_panes_follow_the_current_conflict() {
    use ifmatch_tests::hostile::{Hostile, Knobs};
    let _one_at_a_time = serial().await;
    let mut doc = serde_json::Map::new();
    for i in 0..300 {
        doc.insert(format!("k{i:03}"), json!(i));
    }
    let text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap() + "\n";
    let server = Hostile::start(Knobs::default(), &[("/big.json", &text)]).await;
    let d = Driver::start(&[("IFMATCH_API_URL", &server.url)]);
    let c = d.session().await;
    open(&c, "/big.json").await;
    wait_for("the document", || async {
        editor_text(&c, "editor")
            .await
            .contains("k299")
            .then_some(())
    })
    .await;
    let mine = text
        .replace("\"k005\": 5,", "\"k005\": 1005,")
        .replace("\"k285\": 285,", "\"k285\": 1285,");
    set_editor(&c, "editor", &mine).await;
    server.set(
        "/big.json",
        &text
            .replace("\"k005\": 5,", "\"k005\": 2005,")
            .replace("\"k285\": 285,", "\"k285\": 2285,"),
    );
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    for pane in ["mine-pane", "theirs-pane"] {
        wait_for("the first conflict in the pane", || async {
            pane_shows(&c, pane, "\"k005\"").await.0.then_some(())
        })
        .await;
    }
    click(&c, &tid("conflict-next")).await;
    for (pane, needle) in [("mine-pane", "1285"), ("theirs-pane", "2285")] {
        let (seen, top) = wait_for("the pane at the second conflict", || async {
            let s = pane_shows(&c, pane, needle).await;
            s.0.then_some(s)
        })
        .await;
        assert!(seen && top > 1000.0, "{pane} scrolled to line ~287: {top}");
    }
    click(&c, &tid("conflict-prev")).await;
    for pane in ["mine-pane", "theirs-pane"] {
        wait_for("the panes back at the first conflict", || async {
            pane_shows(&c, pane, "\"k005\"").await.0.then_some(())
        })
        .await;
    }
    // An Accept of the first moves on to the second: the panes follow.
    click(&c, &result_accept(0, "mine")).await;
    for (pane, needle) in [("mine-pane", "1285"), ("theirs-pane", "2285")] {
        wait_for("the panes at the next open conflict", || async {
            pane_shows(&c, pane, needle).await.0.then_some(())
        })
        .await;
    }
    screenshot(&c, "panes-follow").await;
    c.close().await.unwrap();
}

/// Issue 34, item 1: at the default 1200×800 the merge view fits — Mine, Theirs and the Result
/// all begin inside the window, the page does not scroll, and the header stays in view.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_merge_view_fits_1200_by_800() {
    let (_one_at_a_time, _driver, c) = app().await;
    c.set_window_size(1200, 800).await.unwrap();
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    settle(&c).await;
    let g = c
        .execute(
            "const r = id => { const e = document.querySelector(`[data-testid=\"${id}\"]`); const b = e.getBoundingClientRect(); return [b.top, b.bottom, b.height]; }; \
             return { vh: window.innerHeight, scroll: document.scrollingElement.scrollHeight - window.innerHeight, \
                      mine: r('mine-pane'), theirs: r('theirs-pane'), result: r('editor'), tabs: r('tab'), head: r('result-count') };",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&c, "merge-view-1200x800").await;
    let vh = g["vh"].as_f64().unwrap();
    let at = |k: &str, i: usize| g[k][i].as_f64().unwrap();
    assert!(
        g["scroll"].as_f64().unwrap() <= 1.0,
        "the page does not scroll: {g}"
    );
    assert!(at("tabs", 0) >= 0.0, "the header is in view: {g}");
    assert!(
        at("head", 0) >= at("theirs", 1) && at("head", 1) <= at("result", 0) + 1.0,
        "the Result's header (its conflict count, Previous / Next) is not covered: {g}"
    );
    for k in ["mine", "theirs", "result"] {
        assert!(
            at(k, 0) >= 0.0 && at(k, 0) + 100.0 <= vh && at(k, 2) >= 100.0,
            "{k} starts inside the window with at least 100 px of it in view: {g}"
        );
    }
    c.close().await.unwrap();
}

/// How many accept controls for `choice` each place offers per conflict: `[list, Result, Mine
/// pane, Theirs pane]`, each an array of counts by conflict index (buttons only; the cards
/// show values and accept nothing).
pub const ACCEPTS_BY_PLACE: &str = "const n = arguments[0]; const count = (root, sel, key) => { const out = Array(n).fill(0); \
     for (const b of document.querySelectorAll(root)) { const host = b.closest(key); if (host && b.matches(sel)) out[Number(host.dataset.index)]++; } return out; }; \
     const sel = `button[data-testid$=\"accept-${arguments[1]}\"], button[title^=\"Accept ${arguments[1]}\"]`; \
     return [count('[data-testid=\"conflict-list\"] button', sel, '[data-testid=\"conflict-item\"]'), \
             count('[data-testid=\"editor\"] button', sel, '[data-testid=\"inline-actions\"]'), \
             count('[data-testid=\"mine-pane\"] button', sel, '[data-testid=\"pane-actions\"]'), \
             count('[data-testid=\"theirs-pane\"] button', sel, '[data-testid=\"pane-actions\"]')];";

/// Issue 34, item 1: one accept control per conflict per place — the Result's set and each
/// pane's own side, none in the conflict list (whose cards only show); the list is a rail that
/// folds away (the panes take its width) and says what happened in words for people, the raw
/// kind and pointer one click away.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_one_accept_per_conflict_per_place_and_a_folding_rail() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    settle(&c).await;
    let count = |choice: &'static str| {
        let c = &c;
        async move {
            c.execute(ACCEPTS_BY_PLACE, vec![json!(2), json!(choice)])
                .await
                .unwrap()
        }
    };
    // The Result draws a conflict's accepts where it is in view: scroll to each in turn.
    let mut result = vec![];
    for (i, nav) in [(0, None), (1, Some("conflict-next"))] {
        if let Some(nav) = nav {
            click(&c, &tid(nav)).await;
            settle(&c).await;
        }
        let v = wait_for("the conflict's accepts drawn", || async {
            let v = count("mine").await;
            (v[1][i] == json!(1) && v[2][i] == json!(1)).then_some(v)
        })
        .await;
        result.push(v[1][i].clone());
        assert_eq!(v[0], json!([0, 0]), "no Accept mine in the list: {v}");
        assert_eq!(v[3], json!([0, 0]), "no Accept mine in Theirs: {v}");
        let t = count("theirs").await;
        assert_eq!(
            (t[0].clone(), t[2].clone()),
            (json!([0, 0]), json!([0, 0])),
            "Accept theirs only in the Result and Theirs: {t}"
        );
        assert_eq!(t[3][i], json!(1), "{t}");
    }
    assert_eq!(result, vec![json!(1), json!(1)]);
    let card_buttons = js(
        &c,
        "return document.querySelectorAll('[data-testid=\"value-card\"] button').length;",
    )
    .await;
    assert_eq!(card_buttons, json!(0), "the cards only show");
    // Words for people; the raw kind only inside the closed details.
    let words = js(&c, "return [...document.querySelectorAll('[data-testid=\"conflict-words\"]')].map(e => e.textContent);").await;
    assert_eq!(words, json!(["both changed it", "both changed it"]));
    assert!(!text_of(&c, "conflict-view").await.contains("modify/modify"));
    click(
        &c,
        &format!(
            "{} {} summary",
            tid("conflict-item"),
            tid("conflict-details")
        ),
    )
    .await;
    // Open, and in view inside the rail (its facts scrolled there).
    wait_for("the raw details", || async {
        let v = c
            .execute(
                "const d = document.querySelector('[data-testid=\"conflict-item\"] [data-testid=\"conflict-details\"]'); \
                 const r = d.querySelector('.raw').getBoundingClientRect(); const l = d.closest('ol').getBoundingClientRect(); \
                 return d.open && r.height > 0 && r.top >= l.top - 1 && r.top < l.bottom ? d.textContent : '';",
                vec![],
            )
            .await
            .ok()?;
        v.as_str()?.contains("kind: modify/modify").then_some(())
    })
    .await;
    // The rail folds to its toggle; the panes take the room.
    let width = || async {
        js(&c, "return document.querySelector('[data-testid=\"mine-pane\"]').getBoundingClientRect().width;").await
        .as_f64()
        .unwrap()
    };
    let open_width = width().await;
    assert!(visible(&c, "conflict-list").await);
    click(&c, &tid("rail-toggle")).await;
    wait_for("the rail folded", || async {
        (!visible(&c, "conflict-list").await).then_some(())
    })
    .await;
    assert!(
        text_of(&c, "rail-toggle").await.contains("2 open"),
        "the folded rail still counts what is open"
    );
    let folded_width = width().await;
    assert!(
        folded_width > open_width + 50.0,
        "the panes are wider: {open_width} → {folded_width}"
    );
    screenshot(&c, "merge-view-rail-folded").await;
    click(&c, &tid("rail-toggle")).await;
    until_visible(&c, "conflict-list", "the rail open again").await;
    c.close().await.unwrap();
}

/// The 1-based line at the top of a pane and how far it is scrolled into it (pixels).
pub async fn pane_top(c: &Client, pane: &str) -> (String, f64) {
    let v = c
        .execute(
            "const v = document.querySelector(`[data-testid=\"${arguments[0]}\"]`).ifmatchView; const s = v.scrollDOM; \
             const b = v.lineBlockAtHeight(s.scrollTop); return [v.state.doc.lineAt(b.from).text.trim(), s.scrollTop - b.top];",
            vec![json!(pane)],
        )
        .await
        .unwrap();
    (
        v[0].as_str().unwrap_or_default().to_string(),
        v[1].as_f64().unwrap_or(0.0),
    )
}

/// Issue 34, item 1: Mine / Theirs / Base stay line-aligned while the user scrolls any of them,
/// also where one side inserted many lines above (the same line numbers would show different
/// members side by side); a click in the conflict list brings all three back to its conflict.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_panes_stay_line_aligned_while_scrolling() {
    use ifmatch_tests::hostile::{Hostile, Knobs};
    let _one_at_a_time = serial().await;
    let mut doc = serde_json::Map::new();
    for i in 0..300 {
        doc.insert(format!("k{i:03}"), json!(i));
    }
    let text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap() + "\n";
    let server = Hostile::start(Knobs::default(), &[("/big.json", &text)]).await;
    let d = Driver::start(&[("IFMATCH_API_URL", &server.url)]);
    let c = d.session().await;
    open(&c, "/big.json").await;
    wait_for("the document", || async {
        editor_text(&c, "editor")
            .await
            .contains("k299")
            .then_some(())
    })
    .await;
    // Mine inserts 40 lines near the top; both change k250.
    let inserted: String = (0..40)
        .map(|i| format!("  \"new{i:02}\": {i},\n"))
        .collect();
    let mine = text
        .replacen("  \"k002\"", &format!("{inserted}  \"k002\""), 1)
        .replace("\"k250\": 250,", "\"k250\": 1250,");
    set_editor(&c, "editor", &mine).await;
    server.set(
        "/big.json",
        &text.replace("\"k250\": 250,", "\"k250\": 2250,"),
    );
    click(&c, &tid("save")).await;
    wait_conflict_view(&c, "the conflict view").await;
    click(&c, &tid("show-base")).await;
    settle(&c).await;
    // The user scrolls Mine to k120 (line 163 of Mine, 123 of Theirs and Base).
    c.execute(
        "const v = document.querySelector('[data-testid=\"mine-pane\"]').ifmatchView; \
         const at = v.state.doc.toString().indexOf('\"k120\"'); v.scrollDOM.scrollTop = v.lineBlockAt(at).top + 3;",
        vec![],
    )
    .await
    .unwrap();
    // Level: the three show the same member at the top (Mine's k120 or a line or two on, as
    // the panes settle), not the same line number (that would be k080 in Theirs and Base).
    let key = |t: (String, f64)| t.0.split(':').next().unwrap_or_default().to_string();
    let tops = wait_for("the other panes level with Mine", || async {
        let m = key(pane_top(&c, "mine-pane").await);
        let t = key(pane_top(&c, "theirs-pane").await);
        let b = key(pane_top(&c, "base-pane").await);
        (m == t && t == b).then_some(m)
    })
    .await;
    let n: u32 = tops
        .trim_matches('"')
        .trim_start_matches('k')
        .parse()
        .unwrap();
    assert!((120..=126).contains(&n), "at k120 or near it: {tops}");
    // And the other way: Theirs scrolled to k200, Mine follows to its own k200.
    c.execute(
        "const v = document.querySelector('[data-testid=\"theirs-pane\"]').ifmatchView; \
         const at = v.state.doc.toString().indexOf('\"k200\"'); v.scrollDOM.scrollTop = v.lineBlockAt(at).top;",
        vec![],
    )
    .await
    .unwrap();
    let tops = wait_for("Mine level with Theirs", || async {
        let m = key(pane_top(&c, "mine-pane").await);
        (m == key(pane_top(&c, "theirs-pane").await) && m.starts_with("\"k2")).then_some(m)
    })
    .await;
    let n: u32 = tops
        .trim_matches('"')
        .trim_start_matches('k')
        .parse()
        .unwrap();
    assert!((200..=206).contains(&n), "at k200 or near it: {tops}");
    screenshot(&c, "panes-aligned").await;
    // A click on the conflict in the list: all three at k250 again.
    click(&c, &tid("conflict-item")).await;
    for (pane, needle) in [
        ("mine-pane", "1250"),
        ("theirs-pane", "2250"),
        ("base-pane", "\"k250\""),
    ] {
        wait_for("the panes at the conflict", || async {
            pane_shows(&c, pane, needle).await.0.then_some(())
        })
        .await;
    }
    c.close().await.unwrap();
}
