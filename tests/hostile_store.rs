//! The store's newest surfaces under hostile use: local history written by several tabs,
//! threads and app processes at once, and resources whose address carries a credential on their
//! way from a pasted curl command through the Open box into the recent list.

use ifmatch_store::history::{History, HistoryEntry, MAX_ENTRIES};
use ifmatch_store::settings::Settings;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

/// A fresh, empty folder of this test process.
fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "ifmatch-hostile-store-{}-{name}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// The text recorded for a validator (each writer's versions are told apart by it).
fn text_of(validator: &str) -> String {
    format!(
        "{{\"written by\": \"{validator}\", \"pad\": \"{}\"}}",
        "x".repeat(validator.len() * 7)
    )
}

/// Every index under `dir` parses as an index: an object with an `entries` array.
fn every_index_parses(dir: &Path) {
    for folder in std::fs::read_dir(dir).unwrap().flatten() {
        if !folder.path().is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(folder.path().join("index.json")).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}: {text}", folder.path().display()));
        assert!(v["entries"].is_array(), "{text}");
    }
}

/// Checks `url`'s history after `written` versions (validators) were recorded into it.
fn check_history(h: &History, url: &str, written: &[String]) {
    let l: Vec<HistoryEntry> = h.list(url);
    assert_eq!(
        l.len(),
        written.len().min(MAX_ENTRIES),
        "{url}: {} recorded, {} listed",
        written.len(),
        l.len()
    );
    let mut seen = HashSet::new();
    for e in &l {
        let v = e
            .validator
            .clone()
            .expect("every version has its validator");
        assert!(
            written.contains(&v),
            "{url}: {v} was not recorded into this resource"
        );
        assert!(seen.insert(v.clone()), "{url}: {v} listed twice");
        assert_eq!(
            h.text(url, &e.file).unwrap(),
            text_of(&v),
            "{url}: the entry of {v} points at another version's text"
        );
        assert_eq!(e.bytes, text_of(&v).len());
    }
    assert_eq!(
        l.iter().map(|e| &e.file).collect::<HashSet<_>>().len(),
        l.len(),
        "two entries share one file"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// N threads (tabs) record distinct texts into one resource's history, or into two at
    /// once: afterwards every entry's file holds exactly the text recorded for it, nothing is
    /// lost beyond the bound, and every index parses.
    #[test]
    fn concurrent_writers_lose_and_mix_nothing(
        threads in 2usize..6,
        per_thread in 1usize..14,
        two_resources in any::<bool>(),
    ) {
        let d = fresh_dir("prop");
        let h = History::new(&d);
        let urls = ["http://h/rest/v1/prefs?key=eq.theme", "http://h/rest/v1/prefs?key=eq.locale"];
        let resources = if two_resources { 2 } else { 1 };
        std::thread::scope(|s| {
            for t in 0..threads {
                let h = &h;
                s.spawn(move || {
                    for i in 0..per_thread {
                        let r = (t + i) % resources;
                        let v = format!("r{r}-t{t}-i{i}");
                        h.record(urls[r], "saved", Some(v.clone()), &text_of(&v)).unwrap();
                    }
                });
            }
        });
        let mut written: HashMap<usize, Vec<String>> = HashMap::new();
        for t in 0..threads {
            for i in 0..per_thread {
                let r = (t + i) % resources;
                written.entry(r).or_default().push(format!("r{r}-t{t}-i{i}"));
            }
        }
        for (r, url) in urls.iter().enumerate() {
            check_history(&h, url, written.get(&r).map_or(&[][..], |w| &w[..]));
        }
        every_index_parses(&d);
        let _ = std::fs::remove_dir_all(&d);
    }
}

const CHILD_DIR: &str = "IFMATCH_HOSTILE_STORE_HISTORY_DIR";
const CHILD_NAME: &str = "IFMATCH_HOSTILE_STORE_WRITER";
const CHILD_VERSIONS: usize = 12;

/// Not a test of its own: the body of one app process in `app_processes_recording_at_once`
/// (it does nothing unless that test started it).
#[test]
fn history_writer_process() {
    let (Ok(dir), Ok(name)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_NAME)) else {
        return;
    };
    let h = History::new(Path::new(&dir));
    for i in 0..CHILD_VERSIONS {
        let v = format!("{name}-{i}");
        h.record("http://h/settings", "loaded", Some(v.clone()), &text_of(&v))
            .unwrap();
    }
}

/// Two (here three) app processes recording versions of one resource at once, each with two
/// threads: every version is kept and each entry points at its own text.
#[test]
fn app_processes_recording_at_once() {
    let d = fresh_dir("processes");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|p| {
            std::process::Command::new(&exe)
                .args(["history_writer_process", "--exact", "--test-threads=2"])
                .env(CHILD_DIR, &d)
                .env(CHILD_NAME, format!("p{p}"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let h = History::new(&d);
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..CHILD_VERSIONS {
                let v = format!("main-{i}");
                h.record("http://h/settings", "loaded", Some(v.clone()), &text_of(&v))
                    .unwrap();
            }
        });
    });
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a writer process failed");
    }
    let written: Vec<String> = ["p0", "p1", "p2", "main"]
        .iter()
        .flat_map(|n| (0..CHILD_VERSIONS).map(move |i| format!("{n}-{i}")))
        .collect();
    assert!(written.len() <= MAX_ENTRIES);
    check_history(&h, "http://h/settings", &written);
    every_index_parses(&d);
    let salts = std::fs::read_dir(&d)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("salt"))
        .count();
    assert_eq!(salts, 1, "the processes agreed on one salt");
    let _ = std::fs::remove_dir_all(&d);
}

/// A resource imported from a curl command with a credential in its query, opened and kept in
/// the recent list: the stored settings hold no credential in any spelling, and a resource
/// whose address carries none is kept as typed.
#[test]
fn the_recent_list_never_keeps_a_credential() {
    let secret = "Tok3n-Zz9";
    let commands = [
        "curl 'https://api.example.com/v1/x?access_token=SECRET&view=full'",
        "curl 'https://api.example.com/v1/x?api_key=SECRET'",
        "curl -H 'Authorization: Bearer t' 'https://api.example.com/v1/x?access_token=SECRET'",
        "curl 'https://api.example.com/f?sv=1&sig=SECRET'",
        "curl -G -d apiKey=SECRET https://api.example.com/v1/x",
        "curl --url-query token=SECRET https://api.example.com/v1/x",
        "curl https://alice:SECRET@api.example.com/v1/x",
    ];
    let mut settings = Settings::default();
    for template in commands {
        let cmd = template.replace("SECRET", secret);
        let c = ifmatch_store::curl::parse(&cmd).unwrap();
        assert!(!c.path.contains(secret), "{cmd}: {}", c.path);
        // The window puts the path into the Open box; opening it remembers it.
        settings.remember_recent(&c.path);
        assert!(
            c.ignored.iter().all(|w| !w.contains(secret)),
            "{cmd}: {:?}",
            c.ignored
        );
    }
    // Typed into the Open box by hand.
    for typed in [
        "/v1/x?api_key=SECRET",
        "/v1/x?client_secret=SECRET",
        "/v1/x?X-Amz-Signature=SECRET",
        "https://api.example.com/v1/x?access_token=SECRET",
        "https://alice:SECRET@api.example.com/v1/x",
        "/v1/x?password=SECRET%21",
    ] {
        let t = typed.replace("SECRET", secret);
        assert!(!settings.remember_recent(&t), "{t} was kept");
    }
    // Kept by an older version: gone at the next open.
    settings.recent.push(format!("/old?session_id={secret}"));
    assert!(settings.remember_recent("/rest/v1/prefs?key=eq.theme"));
    assert!(settings.remember_recent("/books?author=a&zipcode=1"));
    let json = serde_json::to_string(&settings).unwrap();
    assert!(!json.contains(secret), "{json}");
    assert!(!json
        .to_ascii_lowercase()
        .contains(&secret.to_ascii_lowercase()));
    assert_eq!(
        settings.recent[..2],
        ["/books?author=a&zipcode=1", "/rest/v1/prefs?key=eq.theme"]
    );
    assert!(settings.recent.contains(&"/v1/x?view=full".to_string()));
    assert!(settings.recent.contains(&"/f?sv=1".to_string()));
}

/// Repeated credentials: curl keeps the last `-u`, and so does the import.
#[test]
fn the_last_of_repeated_credentials_is_taken() {
    let c = ifmatch_store::curl::parse("curl -u a:FIRST -u b:SECOND https://api.example.com/x")
        .unwrap();
    let shown = format!("{:?}", c.auth);
    assert!(
        shown.contains("SECOND") && !shown.contains("FIRST"),
        "{shown}"
    );
}

/// A version file replaced by a link (to a file outside the history) is not read back as a
/// version: Restore would put it into an editor and Save would send it.
#[test]
fn a_version_file_replaced_by_a_link_is_not_read() {
    use ifmatch_store::history::History;
    let dir = std::env::temp_dir().join(format!("ifmatch-history-link-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let h = History::new(&dir);
    let url = "http://h/settings";
    h.record(url, "loaded", None, "{\"v\": 1}").unwrap();
    h.record(url, "saved", None, "{\"v\": 2}").unwrap();
    let older = h.list(url).last().unwrap().file.clone();
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "not a version").unwrap();
    let folder = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join(&older).exists())
        .unwrap();
    std::fs::remove_file(folder.join(&older)).unwrap();
    std::os::unix::fs::symlink(&victim, folder.join(&older)).unwrap();
    let r = h.text(url, &older);
    assert!(r.is_err(), "{r:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A key given as the basic user name with an empty password (`-u sk_test_…:`, Stripe's way):
/// never a user name in settings; the same bytes go out as a header credential (keyring).
#[test]
fn a_key_as_the_user_name_is_not_stored_as_one() {
    use ifmatch_store::settings::AuthInput;
    let c = ifmatch_store::curl::parse(
        "curl https://api.stripe.com/v1/charges -u sk_test_4eC39HqLyjWDarjtT1zdp7dc:",
    )
    .unwrap();
    match &c.auth {
        AuthInput::Header { name, value } => {
            assert_eq!(name, "Authorization");
            assert!(value.starts_with("Basic "), "{value}");
        }
        other => panic!("{other:?}"),
    }
    let words = c.ignored.join(" ");
    assert!(!words.contains("sk_test"), "{words}");
}

/// `$'…'` quotes are read as bash reads them: \xHH (several making one UTF-8 character),
/// \uHHHH, octal, \r — a credential written that way is not silently corrupted.
#[test]
fn ansi_c_quotes_are_read_as_bash_reads_them() {
    let words =
        ifmatch_store::curl::shell_words(r"$'A\x41B' $'\u20ac' $'\xe2\x82\xac' $'a\rb' $'\101'")
            .unwrap();
    assert_eq!(words, vec!["AAB", "€", "€", "a\rb", "A"]);
    let c = ifmatch_store::curl::parse(
        r"curl https://api.example.com/x -H $'Authorization: Bearer SECRET\x41NSI'",
    )
    .unwrap();
    assert!(
        format!("{:?}", c.auth).contains("SECRETANSI"),
        "{:?}",
        c.auth
    );
}
