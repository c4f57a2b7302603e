//! Shared steps of the window tests: the app and tauri-driver (one at a time), waiting,
//! clicking once the window has settled, reading and setting editors, opening tabs, making two
//! tabs collide into the conflict view, screenshots.

pub use fantoccini::{Client, ClientBuilder, Locator};
pub use ifmatch_tests::apache::Apache;
pub use ifmatch_tests::nginx::Nginx;
pub use ifmatch_tests::pouchdb::PouchDb;
pub use ifmatch_tests::DemoProcess;
pub use serde_json::{json, Value};
pub use std::net::TcpListener;
pub use std::path::PathBuf;
pub use std::process::{Child, Command, Stdio};
pub use std::time::{Duration, Instant};

/// One app at a time: two WebKit processes starting together on a 2-core machine make session
/// creation flaky, and the tests kill "the" app process.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// A new, empty folder for one app's HOME (its settings and drafts). Unique per call: a reused
/// folder would hand the app another test's drafts, which it would rightly restore.
pub fn fresh_home(label: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "ifmatch-e2e-{label}-{}-{n}-{nanos}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The app under test: the debug build beside the test binary, or `IFMATCH_E2E_APP` (the
/// installed package's binary, for `e2e_the_installed_package_comes_up`).
pub fn app_binary() -> PathBuf {
    if let Some(app) = std::env::var_os("IFMATCH_E2E_APP") {
        return PathBuf::from(app);
    }
    let bin = ifmatch_tests::ifmatch_bin().with_file_name("ifmatch-desktop");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p ifmatch-desktop` (scripts/test does)",
        bin.display()
    );
    bin
}

pub fn tauri_driver() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_default();
    let candidates = [
        PathBuf::from(format!("{home}/.cargo/bin/tauri-driver")),
        PathBuf::from("tauri-driver"),
    ];
    candidates
        .into_iter()
        .find(|p| Command::new(p).arg("--help").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok())
        .expect("tauri-driver is not installed: scripts/test installs it (cargo install tauri-driver --locked)")
}

/// tauri-driver on ephemeral ports, with the app's environment; stopped with SIGTERM (SIGKILL
/// would orphan WebKitWebDriver).
pub struct Driver {
    child: Child,
    pub port: u16,
}

impl Driver {
    pub fn start(env: &[(&str, &str)]) -> Driver {
        let home = fresh_home("home");
        Driver::start_in(&home, env)
    }

    /// With the app's HOME (and so its data folder: settings, drafts) at `home`.
    pub fn start_in(home: &std::path::Path, env: &[(&str, &str)]) -> Driver {
        assert!(
            std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some(),
            "the end-to-end tests need a display: run them under xvfb-run (scripts/test does)"
        );
        let port = free_port();
        let native = std::iter::repeat_with(free_port)
            .find(|&p| p != port)
            .unwrap();
        std::fs::create_dir_all(home).unwrap();
        let mut cmd = Command::new(tauri_driver());
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env_remove("IFMATCH_API_URL")
        .env_remove("IFMATCH_TOKEN")
        // The app chooses how the page paints (main.rs); the tests see its choice.
        .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
        .env_remove("IFMATCH_GL_COMPOSITING")
        // The tests of the save loop see a tab learn of the server's change at Save (their
        // subject); the live tests (live.rs) turn the watch on.
        .env("IFMATCH_LIVE", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("tauri-driver starts");
        assert!(
            ifmatch_tests::wait_until_serving(&mut child, port, Duration::from_secs(20)),
            "tauri-driver did not listen on {port}"
        );
        Driver { child, port }
    }

    pub async fn session(&self) -> Client {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("wry"));
        caps.insert("tauri:options".into(), json!({"application": app_binary()}));
        let mut last = None;
        for _ in 0..3 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{}", self.port))
                .await
            {
                Ok(c) => {
                    // The review before a resubmit has its own test
                    // (e2e_review_before_resubmit); the others resubmit straight away.
                    let _ = c
                        .execute(
                            "localStorage.setItem('ifmatch.reviewBeforeResubmit', 'off')",
                            vec![],
                        )
                        .await;
                    return c;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        panic!("no WebDriver session with the app: {last:?}")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        ifmatch_tests::stop(&mut self.child);
    }
}

/// The demo server's URL, as the window shows it (`connection-url`'s `data-url`).
pub async fn demo_url(c: &Client) -> String {
    c.find(Locator::Css(&tid("connection-url")))
        .await
        .unwrap()
        .attr("data-url")
        .await
        .unwrap()
        .unwrap()
}

pub fn tid(id: &str) -> String {
    format!("[data-testid=\"{id}\"]")
}

/// How long the window gets to answer. Sized for the README's test command on a loaded 2-core
/// machine (a parallel build beside it, or three fresh-clone runs at once), where one answer has
/// been seen to take past 15 s, and the first tab of a fresh app past 30 s with four builds
/// beside it; a test that waits this long has failed anyway.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Waits until `f` gives Some (the UI answers asynchronously).
pub async fn wait_for<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn visible(c: &Client, id: &str) -> bool {
    match c.find(Locator::Css(&tid(id))).await {
        Ok(e) => e.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Clicks an element once the window has settled: none of its own actions still running
/// (`body[data-working]`, docs/testids.md) and the element where it was two frames ago. A click
/// aimed at a page that is still scrolling lands on whatever moved under it, for a person too.
pub async fn click(c: &Client, css: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        // Why the last attempt did not click, for the message if none does.
        let why = match c.execute_async(SETTLED, vec![json!(css)]).await {
            Ok(Value::Bool(true)) => match c.find(Locator::Css(css)).await {
                Ok(e) => match e.click().await {
                    Ok(()) => return,
                    Err(err) => format!(
                        "the click failed ({err}); displayed: {:?}",
                        e.is_displayed().await
                    ),
                },
                Err(err) => format!("not found ({err})"),
            },
            Ok(_) => {
                let working = c
                    .execute("return document.body.dataset.working ?? '0'", vec![])
                    .await;
                format!("not settled (moving, missing, or the window working: {working:?})")
            }
            Err(err) => format!("the settle script failed ({err})"),
        };
        if Instant::now() >= deadline {
            // What the window showed, for whoever reads the failure.
            let shot =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("output/e2e-click-failed.png");
            let saved = match png_of(c).await {
                Ok(png) => std::fs::create_dir_all(shot.parent().unwrap())
                    .and_then(|_| std::fs::write(&shot, png))
                    .map(|_| format!("(screenshot: {})", shot.display()))
                    .unwrap_or_default(),
                Err(_) => String::new(),
            };
            panic!("timed out clicking {css}: {why} {saved}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the window's own actions have finished (`body[data-working]` is 0). Not part of
/// `click`: a script run while a native question is open would dismiss it.
pub async fn settle(c: &Client) {
    wait_for("the window's work after the click", || async {
        let n = c
            .execute("return document.body.dataset.working ?? '0'", vec![])
            .await
            .ok()?;
        (n == json!("0")).then_some(())
    })
    .await;
}

/// True when nothing of the window's own is running and the element has not moved for two
/// frames.
pub const SETTLED: &str = "const [css, done] = arguments;     const at = () => { const e = document.querySelector(css); if (!e) return null;       const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height].join(); };     const first = at();     requestAnimationFrame(() => requestAnimationFrame(() => done(first !== null && first === at()       && (document.body.dataset.working ?? '0') === '0')));";

pub async fn text_of(c: &Client, id: &str) -> String {
    c.find(Locator::Css(&tid(id)))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Sets an editor's whole text through the automation hook (docs/testids.md).
pub async fn set_editor(c: &Client, id: &str, text: &str) {
    c.execute(
        "const v = document.querySelector(`[data-testid=\"${arguments[0]}\"]`).ifmatchView; \
         v.dispatch({changes: {from: 0, to: v.state.doc.length, insert: arguments[1]}});",
        vec![json!(id), json!(text)],
    )
    .await
    .unwrap();
}

pub async fn editor_text(c: &Client, id: &str) -> String {
    let v = c
        .execute("return document.querySelector(`[data-testid=\"${arguments[0]}\"]`).ifmatchView.state.doc.toString();", vec![json!(id)])
        .await
        .unwrap();
    v.as_str().unwrap().to_string()
}

/// A picture of the window. WebKitWebDriver takes it after the page's next painted update, and
/// a page that paints without OpenGL compositing (as the app does: main.rs) paints nothing while
/// nothing changes, so a screenshot waited forever. A pixel that flickers invisibly for a few
/// seconds gives it that update.
pub async fn png_of(c: &Client) -> Result<Vec<u8>, fantoccini::error::CmdError> {
    c.execute(
        "const d = document.createElement('div'); \
         d.style.cssText = 'position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;opacity:0'; \
         document.body.appendChild(d); const end = performance.now() + 5000; let n = 0; \
         const tick = () => { d.style.opacity = (n++ % 2) ? '0' : '0.01'; \
           if (performance.now() < end) requestAnimationFrame(tick); else d.remove(); }; \
         requestAnimationFrame(tick);",
        vec![],
    )
    .await?;
    c.screenshot().await
}

pub async fn screenshot(c: &Client, name: &str) {
    tokio::time::sleep(Duration::from_millis(600)).await;
    let png = png_of(c).await.unwrap();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("output");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("e2e-{name}.png")), png).unwrap();
}

pub async fn open(c: &Client, target: &str) {
    let before = c.find_all(Locator::Css(&tid("tab"))).await.unwrap().len();
    let input = c
        .find(Locator::Css(&tid("open-resource-input")))
        .await
        .unwrap();
    input.clear().await.unwrap();
    input.send_keys(target).await.unwrap();
    click(c, &tid("open-resource-submit")).await;
    wait_for("the new tab", || async {
        (c.find_all(Locator::Css(&tid("tab"))).await.ok()?.len() > before).then_some(())
    })
    .await;
}

/// The tab bar re-renders on every change, so tabs are read and clicked fresh each time.
pub async fn tab_status(c: &Client, index: usize) -> String {
    let v = c
        .execute("const t = document.querySelectorAll('[data-testid=\"tab\"]')[arguments[0]]; return t ? t.dataset.status : '';", vec![json!(index)])
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_string()
}

pub async fn activate(c: &Client, index: usize) {
    wait_for("a tab to click", || async {
        let tabs = c.find_all(Locator::Css(&tid("tab"))).await.ok()?;
        tabs.get(index)?.click().await.ok()
    })
    .await;
    wait_for("the tab to be active", || async {
        let v = c
            .execute("return document.querySelectorAll('[data-testid=\"tab\"]')[arguments[0]].classList.contains('active');", vec![json!(index)])
            .await
            .ok()?;
        v.as_bool()?.then_some(())
    })
    .await;
}

pub fn edit(text: &str, pointer: &str, v: Value) -> String {
    let mut doc: Value = serde_json::from_str(text).unwrap();
    *doc.pointer_mut(pointer).unwrap() = v;
    serde_json::to_string_pretty(&doc).unwrap()
}

/// Where the app's resource lives, and how to read the server's version of it.
pub enum Server<'a> {
    Demo,
    Apache(&'a Apache),
}

impl Server<'_> {
    pub async fn path(&self) -> &'static str {
        match self {
            Server::Demo => "/settings",
            Server::Apache(_) => "/settings.json",
        }
    }
    pub async fn read(&self, c: &Client) -> Value {
        let url = match self {
            Server::Demo => {
                let base = demo_url(c).await;
                format!("{base}/settings")
            }
            Server::Apache(a) => format!("{}/settings.json", a.url),
        };
        serde_json::from_str(&reqwest::get(&url).await.unwrap().text().await.unwrap()).unwrap()
    }
}

pub const SETTINGS: &str = "{\n  \"siteName\": \"Acme Support\",\n  \"session\": {\n    \"timeoutMinutes\": 30\n  },\n  \"notifications\": {\n    \"email\": true,\n    \"digest\": \"daily\"\n  },\n  \"limits\": {\n    \"maxUploadMb\": 25\n  }\n}\n";

/// Opens the resource in two tabs (the demo opens /settings by itself in the first).
pub async fn two_tabs(c: &Client, server: &Server<'_>) {
    if matches!(server, Server::Demo) {
        first_tab(c).await;
    } else {
        open(c, server.path().await).await;
    }
    open(c, server.path().await).await;
    assert!(
        visible(c, "tab-duplicate-note").await,
        "both tabs say the resource is open twice"
    );
}

/// Two tabs on one resource change the same two fields: the first saves, the second's save
/// meets it and opens the conflict view (/siteName and /limits/maxUploadMb collide).
pub async fn collide(c: &Client) {
    collide_at(
        c,
        (0, 1),
        &[
            ("/siteName", json!("Acme Help"), json!("Acme Care")),
            ("/limits/maxUploadMb", json!(50), json!(100)),
        ],
    )
    .await;
}

/// Waits until the conflict view is shown (`what` names the wait in a timeout's message).
pub async fn wait_conflict_view(c: &Client, what: &str) {
    wait_for(what, || async {
        visible(c, "conflict-view").await.then_some(())
    })
    .await;
}

/// CSS of conflict `index`'s accept of `choice` in the Result (its one set of accepts there).
pub fn result_accept(index: usize, choice: &str) -> String {
    format!("[data-testid=\"inline-actions\"][data-index=\"{index}\"] [data-testid=\"inline-accept-{choice}\"]")
}

/// Tabs `first` and `second` (the same resource) change each `(pointer, first's value,
/// second's value)`; the first saves, the second's save ends in the conflict view.
pub async fn collide_at(
    c: &Client,
    (first, second): (usize, usize),
    changes: &[(&str, Value, Value)],
) {
    for (n, tab) in [first, second].into_iter().enumerate() {
        activate(c, tab).await;
        let mut text = editor_text(c, "editor").await;
        for (pointer, a, b) in changes {
            text = edit(&text, pointer, if n == 0 { a.clone() } else { b.clone() });
        }
        set_editor(c, "editor", &text).await;
        click(c, &tid("save")).await;
        if n == 0 {
            until_status(c, tab, "clean", "the first tab saved").await;
        }
    }
    wait_conflict_view(c, "the conflict view").await;
}

// ---------------------------------------------------------------- nothing lost (drafts, secrets)

/// kill -9 the app (the newest process running its binary).
pub fn kill_app() {
    let pid = newest_pid(&app_binary()).to_string();
    assert!(Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap()
        .success());
    std::thread::sleep(Duration::from_millis(300));
}

pub fn drafts_dir(home: &std::path::Path) -> PathBuf {
    home.join("data/dev.ifmatch.desktop/drafts")
}

/// Waits until a draft file holds `needle` (drafts are written 250 ms after an edit).
pub async fn wait_for_draft(home: &std::path::Path, needle: &str) {
    let dir = drafts_dir(home);
    wait_for(&format!("a draft containing {needle:?}"), || async {
        let entries = std::fs::read_dir(&dir).ok()?;
        entries
            .flatten()
            .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(needle)))
            .then_some(())
    })
    .await;
}

pub async fn read_demo(url: &str) -> Value {
    serde_json::from_str(&reqwest::get(url).await.unwrap().text().await.unwrap()).unwrap()
}

pub async fn set_field(c: &Client, id: &str, value: &str) {
    c.execute(
        "const e = document.getElementById(arguments[0]); e.value = arguments[1]; e.dispatchEvent(new Event('input', {bubbles: true})); e.dispatchEvent(new Event('change', {bubbles: true}));",
        vec![json!(id), json!(value)],
    )
    .await
    .unwrap();
}

// ---------------------------------------------------------------- the window sends only what was chosen

/// Keys typed into an editor (its content element), e.g. `keys(&[Key::Alt, Key::Down])`.
pub async fn type_into(c: &Client, editor_id: &str, keys: &str) {
    let el = c
        .find(Locator::Css(&format!("{} .cm-content", tid(editor_id))))
        .await
        .unwrap();
    el.send_keys(keys).await.unwrap();
}

pub fn chord(keys: &[fantoccini::key::Key], then: &str) -> String {
    let mut s: String = keys.iter().map(|k| char::from(*k)).collect();
    s.push_str(then);
    s
}

/// Puts the Result's cursor at the end of the line holding `needle`, focused.
pub async fn cursor_on(c: &Client, needle: &str) {
    c.execute(
        "const v = document.querySelector('[data-testid=\"editor\"]').ifmatchView; \
         const at = v.state.doc.toString().indexOf(arguments[0]); \
         v.dispatch({selection: {anchor: v.state.doc.lineAt(at).to}}); v.focus();",
        vec![json!(needle)],
    )
    .await
    .unwrap();
}

// ---------------------------------------------------------------- the desktop at size (issue 12)

/// The processes under `root` (itself included): the app, its WebKit web and network processes.
pub fn tree_pids(root: u32) -> Vec<u32> {
    let mut parent = std::collections::HashMap::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid …: comm may hold spaces, so read after the last ')'.
        let after = &stat[stat.rfind(')').unwrap_or(0) + 1..];
        if let Some(ppid) = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok())
        {
            parent.insert(pid, ppid);
        }
    }
    let in_tree = |mut p: u32| loop {
        if p == root {
            return true;
        }
        match parent.get(&p) {
            Some(&q) if q != 0 && q != p => p = q,
            _ => return false,
        }
    };
    parent.keys().copied().filter(|&p| in_tree(p)).collect()
}

pub fn newest_pid(binary: &std::path::Path) -> u32 {
    let out = Command::new("pgrep")
        .args(["-n", "-f", binary.to_str().unwrap()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the process is running")
}

/// The document the main editor shows, as a JavaScript expression.
pub const SHOWN_DOC: &str =
    "document.querySelector('[data-testid=\"editor\"]').ifmatchView.state.doc";

/// Waits until the lint has checked the document `doc` (a JavaScript expression) evaluates to.
pub async fn until_checked(c: &Client, what: &str, doc: &str) {
    until(
        c,
        what,
        &format!("return window.ifmatchIsChecked({doc});"),
        vec![],
    )
    .await;
}

/// Polls a script until it returns true, every 10 ms (finer than `wait_for`: this is timed).
pub async fn until(c: &Client, what: &str, script: &str, args: Vec<Value>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if c.execute(script, args.clone())
            .await
            .ok()
            .and_then(|v| v.as_bool())
            == Some(true)
        {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The app with a fresh home and its WebDriver session, one at a time: the guard comes first so
/// that it is dropped last (after the session and the app are gone).
pub async fn app() -> (tokio::sync::MutexGuard<'static, ()>, Driver, Client) {
    let one_at_a_time = serial().await;
    let d = Driver::start(&[]);
    let c = d.session().await;
    (one_at_a_time, d, c)
}

/// Waits until the first tab shows (the demo opens /settings by itself).
pub async fn first_tab(c: &Client) {
    until_visible(c, "tab", "the first tab").await;
}

/// Waits until the element of test id `id` is shown (`what` names the wait in a timeout).
pub async fn until_visible(c: &Client, id: &str, what: &str) {
    wait_for(what, || async { visible(c, id).await.then_some(()) }).await;
}

/// Waits until tab `index` has status `status` (`what` names the wait in a timeout).
pub async fn until_status(c: &Client, index: usize, status: &str, what: &str) {
    wait_for(what, || async {
        (tab_status(c, index).await == status).then_some(())
    })
    .await;
}

/// Clicks Reload on the active tab (tab `index`) and waits until it is clean, answering yes to
/// the question about unsaved edits whenever it is asked. The question can open after the click
/// has returned, and a script run while it is open may dismiss it (the reload is then not done):
/// a tab still not clean a few seconds after a click is reloaded again.
pub async fn reload_until_clean(c: &Client, index: usize) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        click(c, &tid("reload")).await;
        let clicked = Instant::now();
        while clicked.elapsed() < Duration::from_secs(5) {
            if c.get_alert_text().await.is_ok() {
                c.accept_alert().await.unwrap();
            } else if let Ok(v) = c
                .execute(
                    "const t = document.querySelectorAll('[data-testid=\"tab\"]')[arguments[0]]; return t ? t.dataset.status : '';",
                    vec![json!(index)],
                )
                .await
            {
                if v.as_str() == Some("clean") {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for the tab to be reloaded ({})",
            tab_status(c, index).await
        );
    }
}

/// Runs `script` in the window and gives what it returns (a script that fails fails the test).
pub async fn js(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.unwrap()
}

/// The Result's value at `pointer`.
pub async fn result_at(c: &Client, pointer: &str) -> Value {
    let doc: Value = serde_json::from_str(&editor_text(c, "editor").await).unwrap();
    doc.pointer(pointer).cloned().unwrap_or(Value::Null)
}

/// Waits until tab `index` is no longer saving and the window's own work is done.
pub async fn until_not_saving(c: &Client, index: usize) {
    wait_for("the save to end", || async {
        (tab_status(c, index).await != "saving" && !visible(c, "busy").await).then_some(())
    })
    .await;
    settle(c).await;
}
