//! The window itself: closing asks, the installed package, theme and contrast, palette, workspace, tab bar, the toolbar's places and dialogs over the merge view.

use crate::support::*;

/// Closing a stale tab with edits, or a tab whose save failed, asks; declining keeps the text and
/// the draft; with no tab left nothing is editable or savable and no tab's message stays.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_every_close_asks_and_no_tab_means_nothing_to_save() {
    let _one_at_a_time = serial().await;
    let home = fresh_home("close");
    let d = Driver::start_in(&home, &[]);
    let c = d.session().await;
    two_tabs(&c, &Server::Demo).await;
    // Tab 1 saves; tab 2 (edited) learns that the server is newer: stale *and* dirty.
    activate(&c, 0).await;
    let t1 = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &edit(&t1, "/timezone", json!("UTC"))).await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "clean", "tab 1 saved").await;
    activate(&c, 1).await;
    let t2 = editor_text(&c, "editor").await;
    set_editor(
        &c,
        "editor",
        &edit(&t2, "/supportEmail", json!("care@acme.example")),
    )
    .await;
    js(&c, "window.dispatchEvent(new Event('focus'));").await;
    wait_for("stale and dirty at once", || async {
        let f = c
            .execute(
                "return document.querySelectorAll('[data-testid=\"tab\"]')[1].dataset.flags;",
                vec![],
            )
            .await
            .ok()?;
        (f.as_str()? == "dirty stale").then_some(())
    })
    .await;
    let words = js(
        &c,
        "return document.querySelectorAll('[data-testid=\"tab-status\"]')[1].textContent;",
    )
    .await;
    assert_eq!(words, json!("unsaved edits · newer version on the server"));
    wait_for_draft(&home, "care@acme.example").await;
    // Closing it asks; declining keeps it, its text and its draft.
    click(
        &c,
        &format!("[data-testid=\"tab\"]:nth-child(2) {}", tid("tab-close")),
    )
    .await;
    let q = wait_for("the question", || async { c.get_alert_text().await.ok() }).await;
    assert!(q.contains("unsaved work"), "{q}");
    c.dismiss_alert().await.unwrap();
    assert_eq!(
        c.find_all(Locator::Css(&tid("tab"))).await.unwrap().len(),
        2
    );
    assert!(editor_text(&c, "editor")
        .await
        .contains("care@acme.example"));
    wait_for_draft(&home, "care@acme.example").await;

    // Tab 1: a save that fails (invalid JSON); closing asks too.
    activate(&c, 0).await;
    set_editor(&c, "editor", "{\"siteName\": ").await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "error", "the failed save").await;
    assert!(visible(&c, "error-message").await);
    click(
        &c,
        &format!("[data-testid=\"tab\"]:nth-child(1) {}", tid("tab-close")),
    )
    .await;
    wait_for("the question", || async { c.get_alert_text().await.ok() }).await;
    c.dismiss_alert().await.unwrap();
    assert_eq!(editor_text(&c, "editor").await, "{\"siteName\": ");
    // The failed tab's message belongs to it: not shown on the other tab.
    activate(&c, 1).await;
    assert!(
        !visible(&c, "error-message").await,
        "tab 1's error is not tab 2's"
    );
    activate(&c, 0).await;
    assert!(
        visible(&c, "error-message").await,
        "and comes back with its tab"
    );

    // Discard both: nothing is left on screen that could be edited or saved.
    for _ in 0..2 {
        click(&c, &format!("{} {}", tid("tab"), tid("tab-close"))).await;
        wait_for("the question", || async { c.get_alert_text().await.ok() }).await;
        c.accept_alert().await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    wait_for("no tab", || async {
        c.find_all(Locator::Css(&tid("tab")))
            .await
            .ok()?
            .is_empty()
            .then_some(())
    })
    .await;
    assert!(
        visible(&c, "no-tab").await,
        "the editor area says no resource is open"
    );
    for id in ["save", "resubmit", "editor", "tab-validator", "tab-url"] {
        assert!(!visible(&c, id).await, "{id} is not shown with no tab");
    }
    assert!(
        !visible(&c, "error-message").await,
        "the closed tab's message went with it"
    );
    let left: Vec<_> = std::fs::read_dir(drafts_dir(&home))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .collect();
    assert!(left.is_empty(), "discarded by choice: no draft left");
    screenshot(&c, "no-tab").await;
    c.close().await.unwrap();
}

/// The .deb that scripts/package builds, installed with apt (scripts/test does both, then runs
/// this with `--ignored`): the installed binary belongs to the package, has its desktop entry
/// and icons, and its window comes up on the built-in demo server and shows the settings.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the installed package: scripts/test builds and installs it, then runs this"]
pub async fn e2e_the_installed_package_comes_up() {
    let _one_at_a_time = serial().await;
    let app = app_binary();
    assert_eq!(
        app,
        PathBuf::from("/usr/bin/ifmatch-desktop"),
        "run with IFMATCH_E2E_APP=/usr/bin/ifmatch-desktop"
    );
    let owner = Command::new("dpkg")
        .args(["-S", "/usr/bin/ifmatch-desktop"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&owner.stdout).starts_with("ifmatch:"),
        "the binary comes from the ifmatch package: {}",
        String::from_utf8_lossy(&owner.stderr)
    );
    let entry = std::fs::read_to_string("/usr/share/applications/ifmatch.desktop")
        .expect("the package installs a desktop entry");
    assert!(entry.contains("Exec=ifmatch-desktop"), "{entry}");
    assert!(
        std::path::Path::new("/usr/share/icons/hicolor/128x128/apps/ifmatch-desktop.png").exists()
            || std::path::Path::new("/usr/share/icons/hicolor/128x128/apps/ifmatch.png").exists(),
        "the package installs its icons"
    );
    let d = Driver::start(&[]);
    let c = d.session().await;
    assert_eq!(c.title().await.unwrap(), "ifmatch");
    until_visible(&c, "tab", "the demo's first tab").await;
    let text = wait_for("the settings in the editor", || async {
        let t = editor_text(&c, "editor").await;
        t.contains("siteName").then_some(t)
    })
    .await;
    assert!(text.contains("Acme"), "{text}");
    screenshot(&c, "installed-package").await;
    c.close().await.unwrap();
}

/// Dark and light follow the desktop: under GTK's dark variant the window is dark (editor
/// included); without it, light.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_theme_follows_the_desktop() {
    let _one_at_a_time = serial().await;
    for (env, dark) in [(vec![("GTK_THEME", "Adwaita:dark")], true), (vec![], false)] {
        let d = Driver::start(&env);
        let c = d.session().await;
        first_tab(&c).await;
        let colors = c
            .execute(
                "return [getComputedStyle(document.body).backgroundColor, \
                 getComputedStyle(document.querySelector('[data-testid=\"editor\"] .cm-editor')).backgroundColor, \
                 matchMedia('(prefers-color-scheme: dark)').matches];",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(colors[2], json!(dark), "{colors}");
        if dark {
            assert_eq!(colors[0], json!("rgb(32, 33, 36)"), "{colors}");
            assert_eq!(colors[1], json!("rgb(27, 27, 29)"), "{colors}");
            screenshot(&c, "dark-theme").await;
        } else {
            assert_ne!(colors[0], json!("rgb(32, 33, 36)"), "{colors}");
        }
        c.close().await.unwrap();
    }
}

/// The command palette (issue 11, item 4): it lists what can be done now, with shortcuts, and
/// runs what is typed.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_command_palette_runs_what_is_typed() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    click(&c, &tid("palette-open")).await;
    let items = || async {
        js(&c, "return [...document.querySelectorAll('[data-testid=\"palette-item\"]')].map(i => i.textContent);").await
    };
    let all = wait_for("the palette", || async {
        let v = items().await;
        (!v.as_array()?.is_empty()).then_some(v)
    })
    .await;
    let all: Vec<String> = serde_json::from_value(all).unwrap();
    assert!(
        all.iter()
            .any(|i| i.starts_with("Save") && i.ends_with("Ctrl+S")),
        "{all:?}"
    );
    assert!(
        !all.iter().any(|i| i.starts_with("Resubmit")),
        "no round, no resubmit: {all:?}"
    );
    let input = c.find(Locator::Css(&tid("palette-input"))).await.unwrap();
    input.send_keys("hist").await.unwrap();
    let some = wait_for("the filtered list", || async {
        let v: Vec<String> = serde_json::from_value(items().await).ok()?;
        (v.len() == 1).then_some(v)
    })
    .await;
    assert_eq!(some, vec!["History of this resource".to_string()]);
    input.send_keys("\u{E007}").await.unwrap(); // Enter
    until_visible(&c, "history", "the history").await;
    assert!(!visible(&c, "palette").await);
    c.close().await.unwrap();
}

/// The workspace drawer (issue 11, item 4): open tabs with their state, pinned and recent
/// resources, searchable; a click opens one.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_workspace_lists_pins_and_opens_resources() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    open(&c, "/labels").await;
    // The open collection's items are listed (a click opens one, below).
    let items = || async {
        js(&c, "return [...document.querySelectorAll('[data-testid=\"ws-item\"] a')].map(a => a.textContent);").await
    };
    // Edit the labels tab so it shows as dirty in the drawer.
    let labels = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &labels.replacen('[', "[ ", 1)).await;
    click(&c, &tid("ws-toggle")).await;
    let states = wait_for("the open tabs", || async {
        let v = c
            .execute(
                "return [...document.querySelectorAll('[data-testid=\"ws-tab\"]')].map(i => i.dataset.status);",
                vec![],
            )
            .await
            .ok()?;
        (v.as_array()?.len() == 2).then_some(v)
    })
    .await;
    assert_eq!(states, json!(["clean", "dirty"]));
    let listed = items().await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .contains(&json!("labels › Label_1")),
        "{listed}"
    );
    let recent = || async {
        js(&c, "return [...document.querySelectorAll('[data-testid=\"ws-recent-item\"] a')].map(a => a.textContent);").await
    };
    assert_eq!(recent().await, json!(["/labels", "/settings"]));
    // Pin /settings: it moves to Pinned.
    js(&c, "[...document.querySelectorAll('[data-testid=\"ws-recent-item\"]')].find(li => li.textContent.includes('/settings')).querySelector('[data-testid=\"ws-pin\"]').click()").await;
    wait_for("the pin", || async {
        let n = c
            .find_all(Locator::Css(&tid("ws-pinned-item")))
            .await
            .ok()?
            .len();
        (n == 1).then_some(())
    })
    .await;
    assert_eq!(recent().await, json!(["/labels"]));
    // Search narrows every list.
    set_field(&c, "ws-search", "lab").await;
    wait_for("the search", || async {
        let pinned = c
            .find_all(Locator::Css(&tid("ws-pinned-item")))
            .await
            .ok()?
            .len();
        (pinned == 0).then_some(())
    })
    .await;
    set_field(&c, "ws-search", "").await;
    // A click on the pinned one opens it in a new tab.
    let before = c.find_all(Locator::Css(&tid("tab"))).await.unwrap().len();
    js(
        &c,
        "document.querySelector('[data-testid=\"ws-pinned-item\"] a').click()",
    )
    .await;
    wait_for("the new tab", || async {
        (c.find_all(Locator::Css(&tid("tab"))).await.ok()?.len() > before).then_some(())
    })
    .await;
    screenshot(&c, "workspace").await;
    // An item of the open collection: found by the search, opened by a click.
    if !visible(&c, "workspace-drawer").await {
        click(&c, &tid("ws-toggle")).await;
    }
    set_field(&c, "ws-search", "Label_2").await;
    wait_for("the search among items", || async {
        (items().await == json!(["labels › Label_2"])).then_some(())
    })
    .await;
    let before = c.find_all(Locator::Css(&tid("tab"))).await.unwrap().len();
    js(
        &c,
        "document.querySelector('[data-testid=\"ws-item\"] a').click()",
    )
    .await;
    wait_for("the item's tab", || async {
        (c.find_all(Locator::Css(&tid("tab"))).await.ok()?.len() > before).then_some(())
    })
    .await;
    wait_for("the item open", || async {
        text_of(&c, "tab-url")
            .await
            .ends_with("/labels/Label_2")
            .then_some(())
    })
    .await;
    c.close().await.unwrap();
}

/// The WCAG contrast ratio of the text of the first element matching each selector against its
/// background (computed colours; a transparent background is taken from the nearest ancestor
/// that has one, a dialog's own before the page's): `{selector: ratio}`, null where none matches.
pub const CONTRAST: &str = "const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; }; \
    const bg = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; const a = c.match(/[\\d.]+/g); if (a && (a.length < 4 || Number(a[3]) > 0.5)) return c; } return getComputedStyle(document.documentElement).colorScheme.includes('dark') ? 'rgb(0, 0, 0)' : 'rgb(255, 255, 255)'; }; \
    const out = {}; for (const sel of arguments[0]) { const t = document.querySelector(sel); \
      if (!t) { out[sel] = null; continue; } const [x, y] = [lum(getComputedStyle(t).color), lum(bg(t))]; \
      out[sel] = (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); } return out;";

/// Measures `selectors` and asserts each reads at WCAG AA for text (4.5:1).
pub async fn assert_contrast(c: &Client, theme: &str, selectors: &[&str]) {
    let v = c.execute(CONTRAST, vec![json!(selectors)]).await.unwrap();
    for sel in selectors {
        let ratio = v[*sel]
            .as_f64()
            .unwrap_or_else(|| panic!("{theme}: nothing matches {sel}"));
        assert!(ratio >= 4.5, "{theme}: {sel} has contrast {ratio:.2}:1");
    }
}

/// Issue 34, item 7: text reads in both themes (WCAG AA, 4.5:1), measured on the computed
/// colours: the current conflict's title and words, the Result's header, the main text, and the
/// dialogs (the command palette, the review).
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_current_conflicts_title_has_contrast_in_both_themes() {
    let _one_at_a_time = serial().await;
    for (theme, env) in [
        ("dark", vec![("GTK_THEME", "Adwaita:dark")]),
        ("light", vec![]),
    ] {
        let d = Driver::start(&env);
        let c = d.session().await;
        two_tabs(&c, &Server::Demo).await;
        collide(&c).await;
        settle(&c).await;
        let dark = js(
            &c,
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
        )
        .await;
        assert_eq!(dark, json!(theme == "dark"), "the {theme} theme is in use");
        assert_contrast(
            &c,
            theme,
            &[
                "[data-testid=\"conflict-item\"].current .label",
                "[data-testid=\"conflict-item\"].current [data-testid=\"conflict-words\"]",
                "[data-testid=\"result-count\"]",
                "[data-testid=\"unresolved-count\"]",
                "[data-testid=\"editor\"] .cm-line",
                "[data-testid=\"mine-pane\"] .cm-line",
                "[data-testid=\"tab\"].active",
            ],
        )
        .await;
        click(&c, &tid("palette-open")).await;
        until_visible(&c, "palette", "the palette").await;
        assert_contrast(
            &c,
            theme,
            &[
                "[data-testid=\"palette-input\"]",
                "[data-testid=\"palette-item\"]",
            ],
        )
        .await;
        js(&c, "document.getElementById('palette').close()").await;
        click(&c, &tid("review")).await;
        until_visible(&c, "review-dialog", "the review").await;
        assert_contrast(
            &c,
            theme,
            &[
                "[data-testid=\"review-summary\"]",
                "[data-testid=\"review-diff\"] > div",
                "[data-testid=\"review-cancel\"]",
            ],
        )
        .await;
        screenshot(&c, &format!("contrast-{theme}")).await;
        click(&c, &tid("review-cancel")).await;
        c.close().await.unwrap();
    }
}

/// A save refused as invalid JSON says "not saved" only while the text differs from the saved
/// one: back to it (an undo), the tab is clean again and the message gone.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_back_to_the_saved_text_the_tab_no_longer_says_not_saved() {
    let (_one_at_a_time, _driver, c) = app().await;
    first_tab(&c).await;
    let loaded = editor_text(&c, "editor").await;
    set_editor(&c, "editor", &loaded.replacen('}', ",}", 1)).await;
    click(&c, &tid("save")).await;
    until_status(&c, 0, "error", "not saved").await;
    set_editor(&c, "editor", &loaded).await;
    until_status(&c, 0, "clean", "clean again").await;
    assert!(!visible(&c, "error-message").await);
    c.close().await.unwrap();
}

/// Issue 34, item 5: the tab bar keeps the active tab in view however many tabs are open.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_tab_bar_shows_the_active_tab() {
    let (_one_at_a_time, _driver, c) = app().await;
    c.set_window_size(1200, 800).await.unwrap();
    first_tab(&c).await;
    let in_view = || async {
        c.execute(
            "const bar = document.querySelector('[data-testid=\"tab-bar\"]').getBoundingClientRect(); \
             const t = document.querySelector('[data-testid=\"tab\"].active').getBoundingClientRect(); \
             return [t.left >= bar.left - 1 && t.right <= bar.right + 1, document.querySelector('[data-testid=\"tab-bar\"]').scrollWidth > bar.width];",
            vec![],
        )
        .await
        .unwrap()
    };
    for n in 0..14 {
        open(&c, if n % 2 == 0 { "/labels" } else { "/settings" }).await;
    }
    let v = wait_for("the newest tab in view", || async {
        let v = in_view().await;
        (v[0] == json!(true)).then_some(v)
    })
    .await;
    assert_eq!(v[1], json!(true), "the bar overflows: {v}");
    c.close().await.unwrap();
}

/// Records, on every change of the tab bar, where each shown toolbar button is (relative to the
/// toolbar: a message above the toolbar moves it whole, which is no jump), by the active tab's
/// status: `window.ifmatchPlaces = {status: [{testid: [x, y, w, h]}]}`.
pub const TOOLBAR_PLACES: &str = "window.ifmatchPlaces = {}; \
    const snap = () => { const t = document.querySelector('[data-testid=\"tab\"].active'); const bar = document.querySelector('.toolbar'); \
      if (!t || !bar.getClientRects().length) return; const at = bar.getBoundingClientRect(); const out = {}; \
      for (const b of bar.querySelectorAll('button')) { if (!b.getClientRects().length) continue; const r = b.getBoundingClientRect(); \
        out[b.dataset.testid] = [r.left - at.left, r.top - at.top, r.width, r.height].map(Math.round); } \
      (window.ifmatchPlaces[t.dataset.status] ??= []).push(out); }; \
    new MutationObserver(snap).observe(document.getElementById('tabs'), { subtree: true, childList: true, attributes: true }); snap();";

/// Issue 34: the toolbar's buttons keep their places as the tab's state changes — clean, dirty,
/// saving, in conflict, saved again — none jumps to another row or along it; Save and Resubmit
/// take turns in one slot.
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_the_toolbar_keeps_its_buttons_in_place() {
    let (_one_at_a_time, _driver, c) = app().await;
    c.set_window_size(1200, 800).await.unwrap();
    two_tabs(&c, &Server::Demo).await;
    js(&c, TOOLBAR_PLACES).await;
    collide(&c).await;
    click(&c, &tid("accept-all-mine")).await;
    wait_for("all decided", || async {
        text_of(&c, "unresolved-count")
            .await
            .starts_with("All")
            .then_some(())
    })
    .await;
    click(&c, &tid("resubmit")).await;
    wait_for("resubmitted", || async {
        if visible(&c, "review-dialog").await {
            click(&c, &tid("review-send")).await;
        }
        (tab_status(&c, 1).await == "clean").then_some(())
    })
    .await;
    let places = js(&c, "return window.ifmatchPlaces;").await;
    let places = places.as_object().unwrap();
    for state in ["clean", "dirty", "saving", "conflict"] {
        assert!(
            places.contains_key(state),
            "the toolbar was seen {state}: {places:?}"
        );
    }
    // Every button, in every state it was shown in: one place.
    let mut seen: std::collections::BTreeMap<String, Vec<(String, Value)>> = Default::default();
    for (state, snaps) in places {
        for snap in snaps.as_array().unwrap() {
            for (button, rect) in snap.as_object().unwrap() {
                seen.entry(button.clone())
                    .or_default()
                    .push((state.clone(), rect.clone()));
            }
        }
    }
    for b in [
        "save",
        "resubmit",
        "review",
        "reload",
        "history-toggle",
        "check-server",
    ] {
        assert!(seen.contains_key(b), "{b} was shown: {seen:?}");
    }
    for (button, rects) in &seen {
        let first = &rects[0].1;
        assert!(
            rects.iter().all(|(_, r)| r == first),
            "{button} keeps its place across states: {rects:?}"
        );
    }
    assert_eq!(
        seen["save"][0].1, seen["resubmit"][0].1,
        "Save and Resubmit share one slot"
    );
    c.close().await.unwrap();
}

/// Issue 34: a dialog above the merge view covers it — the panes' scrollbars do not show
/// through. At a spot on the Mine pane's scrollbar the page hit-tests the pane before the dialog
/// opens and the dialog (its backdrop) while it is open; the backdrop is opaque; and the editors
/// behind it have no scrollbars while it is open (WebKitGTK paints them above every layer).
#[tokio::test(flavor = "multi_thread")]
pub async fn e2e_a_dialog_covers_the_panes_scrollbars() {
    let (_one_at_a_time, _driver, c) = app().await;
    two_tabs(&c, &Server::Demo).await;
    collide(&c).await;
    settle(&c).await;
    let spot = c
        .execute(
            "const s = document.querySelector('[data-testid=\"mine-pane\"] .cm-scroller'); const r = s.getBoundingClientRect(); \
             return { overflows: s.scrollHeight > s.clientHeight, x: r.right - 3, y: r.top + r.height / 2 };",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        spot["overflows"],
        json!(true),
        "the Mine pane scrolls (it has a scrollbar to hide): {spot}"
    );
    let at = || async {
        c.execute(
            "const e = document.elementFromPoint(arguments[0], arguments[1]); \
             return !e ? 'nothing' : e.closest('[data-testid=\"mine-pane\"]') ? 'mine-pane' : e.closest('dialog') ? 'dialog' : e.tagName;",
            vec![spot["x"].clone(), spot["y"].clone()],
        )
        .await
        .unwrap()
    };
    assert_eq!(
        at().await,
        json!("mine-pane"),
        "the spot is the pane's: {spot}"
    );
    click(&c, &tid("review")).await;
    until_visible(&c, "review-dialog", "the review dialog").await;
    assert_eq!(
        at().await,
        json!("dialog"),
        "the dialog covers the pane's scrollbar: {spot}"
    );
    let backdrop = js(&c, "return getComputedStyle(document.querySelector('[data-testid=\"review-dialog\"]'), '::backdrop').backgroundColor;").await;
    let alpha = backdrop
        .as_str()
        .unwrap()
        .split(['(', ')', ',', '/', ' '])
        .filter_map(|v| v.parse::<f64>().ok())
        .nth(3)
        .unwrap_or(1.0);
    assert!(alpha >= 0.9, "the backdrop is opaque: {backdrop}");
    // WebKitGTK paints scrollbars above the dialog's layer: the editors behind it have none
    // while it is open, and have them again (scrolled where they were) once it closes.
    const SCROLLBARS: &str = "return [...document.querySelectorAll('.cm-scroller')].filter(s => !s.closest('dialog') && s.getClientRects().length) \
         .map(s => getComputedStyle(s).overflowY);";
    let during = js(&c, SCROLLBARS).await;
    let during = during.as_array().unwrap();
    assert!(
        during.len() >= 3 && during.iter().all(|o| o == "hidden"),
        "no editor behind the dialog shows a scrollbar: {during:?}"
    );
    screenshot(&c, "dialog-over-the-panes").await;
    click(&c, &tid("review-cancel")).await;
    let after = js(&c, SCROLLBARS).await;
    assert!(
        after.as_array().unwrap().iter().all(|o| o != "hidden"),
        "the editors scroll again once the dialog is closed: {after}"
    );
    c.close().await.unwrap();
}
