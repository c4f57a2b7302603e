//! Secrets in everything the tool prints or keeps: a server that echoes the connection's
//! credential back, in any spelling and at any position, must not get it onto stdout, stderr, an
//! error's words or the `--trail` file, in whole or in part.
//!
//! The property test drives `Auth::redact` / `Auth::excerpt` (the engine's one redaction, shared by
//! the CLI and the app) over random secrets, spellings and positions; the server tests run the
//! built `ifmatch` binary against scripted servers that echo the credential in error bodies, in a
//! redirect's `Location`, in a `WWW-Authenticate` challenge, in an ETag and a request id.

use ifmatch_engine::{Auth, Secret};
use ifmatch_tests::ifmatch_bin;
use ifmatch_tests::raw::{RawServer, Reply};
use proptest::prelude::*;
use std::process::{Command, Stdio};

/// The mark the engine puts where a secret was.
const MARK: &str = "••••••";

/// The shortest run of a secret's characters that must never show: 8 characters (or the whole
/// secret when shorter). Eight characters identify a token (and can be searched for in other
/// logs); the four a console shows on purpose do not, and a bound below 8 would make ordinary
/// words collide with random secrets.
const FRAGMENT: usize = 8;

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                A[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// The spellings a server was seen to echo a credential in.
#[derive(Debug, Clone, Copy)]
enum Spelling {
    Raw,
    /// As serde writes it inside a JSON string, with `/` as `\/` too.
    Json,
    /// Every character as `\uXXXX` (surrogate pairs beyond the BMP), lower-case hex.
    JsonUnicode,
    /// Percent-encoded, upper-case hex, everything but unreserved characters.
    Percent,
    /// Percent-encoded, lower-case hex, `+` for a space (a form body or query).
    PercentForm,
    /// Percent-encoded twice (`%252F`: a URL inside a redirect's `next=`).
    PercentTwice,
    /// HTML-escaped as an error page shows it (`&amp;`, `&quot;`, `&#x2F;`, `&#39;`).
    Html,
    /// Base64 of the bare value.
    Base64,
    /// Base64 of `user:value` (a basic-auth header).
    Base64Basic,
}

const SPELLINGS: [Spelling; 9] = [
    Spelling::Raw,
    Spelling::Json,
    Spelling::JsonUnicode,
    Spelling::Percent,
    Spelling::PercentForm,
    Spelling::PercentTwice,
    Spelling::Html,
    Spelling::Base64,
    Spelling::Base64Basic,
];

fn percent(s: &str, lower: bool, plus: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else if b == b' ' && plus {
            out.push('+');
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn spell(secret: &str, user: &str, how: Spelling) -> String {
    match how {
        Spelling::Raw => secret.to_string(),
        Spelling::Json => {
            let j = serde_json::to_string(secret).unwrap();
            j[1..j.len() - 1].replace('/', "\\/")
        }
        Spelling::JsonUnicode => {
            let mut out = String::new();
            for c in secret.chars() {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            out
        }
        Spelling::Percent => percent(secret, false, false),
        Spelling::PercentForm => percent(secret, true, true),
        Spelling::PercentTwice => percent(&percent(secret, false, false), false, false),
        Spelling::Html => {
            let mut out = String::new();
            for c in secret.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&#39;"),
                    '/' => out.push_str("&#x2F;"),
                    c => out.push(c),
                }
            }
            out
        }
        Spelling::Base64 => base64(secret.as_bytes()),
        Spelling::Base64Basic => base64(format!("{user}:{secret}").as_bytes()),
    }
}

/// Why `out` shows the secret (in some spelling, or a run of `FRAGMENT` characters of a
/// spelling), or None.
fn leak(out: &str, secret: &str, user: &str) -> Option<String> {
    for how in SPELLINGS {
        if matches!(how, Spelling::Base64Basic) && user.is_empty() {
            continue;
        }
        let s: Vec<char> = spell(secret, user, how).chars().collect();
        let n = s.len().min(FRAGMENT);
        // The base64 of `user:` alone says nothing secret: only windows that reach the secret.
        let from = if matches!(how, Spelling::Base64Basic) {
            (user.len() + 1) / 3 * 4
        } else {
            0
        };
        for w in s.windows(n).skip(from) {
            let w: String = w.iter().collect();
            if out.contains(&w) {
                return Some(format!("{how:?} fragment {w:?}"));
            }
        }
    }
    None
}

/// `text` cut after `max` characters, extended to the end of a mark the cut falls into.
fn expected_cut(text: &str, max: usize) -> String {
    let Some((at, _)) = text.char_indices().nth(max) else {
        return text.to_string();
    };
    let mut end = at;
    if let Some(p) = text.find(MARK) {
        if p < at && at < p + MARK.len() {
            end = p + MARK.len();
        }
    }
    text[..end].to_string()
}

fn secret_chars() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => (0x20u8..0x7f).prop_map(char::from),
        1 => prop::sample::select(vec!['é', 'ö', 'ß', '€', '漢', '😀', '\u{a0}']),
    ]
}

fn text_chars() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => (0x20u8..0x7f).prop_map(char::from),
        1 => prop::sample::select(vec!['ä', '—', '•', '字', '🙂']),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Bearer,
    Basic,
    Header,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever the secret, its spelling and its place (before, across or after the 200-character
    /// excerpt boundary), the redacted text holds no spelling of it and no run of 8 of its
    /// characters, and keeps every character around it; the excerpt is that text cut after 200
    /// characters, never inside the mark.
    #[test]
    fn redaction_over_any_spelling_and_position(
        secret in prop::collection::vec(secret_chars(), 3..40).prop_map(|v| v.into_iter().collect::<String>()),
        how in prop::sample::select(SPELLINGS.to_vec()),
        kind in prop::sample::select(vec![Kind::Bearer, Kind::Basic, Kind::Header]),
        before in prop::collection::vec(text_chars(), 0..320),
        after in prop::collection::vec(text_chars(), 0..80),
    ) {
        let user = "alice";
        let auth = match kind {
            Kind::Bearer => Auth::Bearer(Secret::new(secret.clone())),
            Kind::Basic => Auth::Basic { user: user.into(), password: Secret::new(secret.clone()) },
            Kind::Header => Auth::Header { name: "X-Api-Key".into(), value: Secret::new(secret.clone()) },
        };
        let how = if matches!(how, Spelling::Base64Basic) && !matches!(kind, Kind::Basic) {
            Spelling::Base64
        } else {
            how
        };
        // The text around the secret shares no character with it (so it cannot extend the
        // secret by coincidence), and a neutral character stands at each junction (so an escape
        // cannot begin in the text and end in the secret).
        let keep = |v: &Vec<char>| -> String { v.iter().filter(|c| !secret.contains(**c)).collect() };
        let junction = ['.', ',', '|', '!', '?', '~'].into_iter().find(|c| !secret.contains(*c));
        prop_assume!(junction.is_some());
        let j = junction.unwrap();
        let before = format!("{}{j}", keep(&before));
        let after = format!("{j}{}", keep(&after));
        let text = format!("{before}{}{after}", spell(&secret, user, how));
        let shown_user = if matches!(kind, Kind::Basic) { user } else { "" };

        let redacted = auth.redact(&text);
        if let Some(why) = leak(&redacted, &secret, shown_user) {
            prop_assert!(false, "{why} in {redacted:?}");
        }
        prop_assert_eq!(&redacted, &format!("{before}{MARK}{after}"));

        let excerpt = auth.excerpt(&text, 200);
        if let Some(why) = leak(&excerpt, &secret, shown_user) {
            prop_assert!(false, "{why} in the excerpt {excerpt:?}");
        }
        prop_assert_eq!(&excerpt, &expected_cut(&redacted, 200));
    }
}

// ---------------------------------------------------------------------------------------------
// Through the real client: the CLI against servers that echo the credential.

/// A credential with every character that changes under an encoding: `/`, `"`, `\`, `%`, `+`,
/// a space, `&`, `<`, `'`.
const SECRET: &str = "Tk/9\"q\\z+ 7%x&a<b'Zy-0451";
const USER: &str = "alice";

/// How the CLI is given the credential.
#[derive(Debug, Clone, Copy)]
enum Cred {
    Bearer,
    Basic,
    Header,
}

impl Cred {
    fn env(self) -> Vec<(&'static str, &'static str)> {
        match self {
            Cred::Bearer => vec![("IFMATCH_TOKEN", SECRET)],
            Cred::Basic => vec![("IFMATCH_USER", USER), ("IFMATCH_PASSWORD", SECRET)],
            Cred::Header => vec![
                ("IFMATCH_AUTH_HEADER", "X-Api-Key"),
                ("IFMATCH_AUTH_VALUE", SECRET),
            ],
        }
    }
}

struct Run {
    stdout: String,
    stderr: String,
    trail: String,
}

/// Runs `ifmatch ARGS… --trail FILE` with the credential in the environment.
async fn run(cred: Cred, args: Vec<String>, name: &str) -> Run {
    let dir = std::env::temp_dir().join(format!("ifmatch-hostile-secrets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let trail = dir.join(format!("{name}.json"));
    let _ = std::fs::remove_file(&trail);
    let t = trail.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(ifmatch_bin());
        cmd.args(&args)
            .arg("--trail")
            .arg(&t)
            .env_remove("IFMATCH_TOKEN")
            .env_remove("IFMATCH_USER")
            .env_remove("IFMATCH_PASSWORD")
            .env_remove("IFMATCH_AUTH_HEADER")
            .env_remove("IFMATCH_AUTH_VALUE")
            .env_remove("IFMATCH_DIALECT")
            .stdin(Stdio::null());
        for (k, v) in cred.env() {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let trail_text = std::fs::read_to_string(&trail).unwrap_or_default();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        trail: trail_text,
    }
}

/// Asserts that nothing the run printed or kept holds the secret, and that the trail was
/// written (so the check is not vacuous).
fn assert_no_leak(r: &Run, cred: Cred, what: &str) {
    let user = if matches!(cred, Cred::Basic) {
        USER
    } else {
        ""
    };
    // The trail is JSON: look at its text and at its strings decoded.
    let decoded = match serde_json::from_str::<serde_json::Value>(&r.trail) {
        Ok(v) => {
            let mut all = String::new();
            collect_strings(&v, &mut all);
            all
        }
        Err(e) => panic!(
            "{what}: the trail is not JSON ({e}): {:?}\n{}",
            r.trail, r.stderr
        ),
    };
    assert!(
        r.trail.contains("\"method\""),
        "{what}: a trail was written: {:?}",
        r.trail
    );
    for (name, text) in [
        ("stdout", &r.stdout),
        ("stderr", &r.stderr),
        ("trail", &r.trail),
        ("trail (decoded)", &decoded),
    ] {
        if let Some(why) = leak(text, SECRET, user) {
            panic!("{what} ({cred:?}): {why} in {name}:\n{text}");
        }
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) => {
            out.push_str(s);
            out.push('\n');
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

const CREDS: [Cred; 3] = [Cred::Bearer, Cred::Basic, Cred::Header];

/// Error bodies that echo the credential in each spelling, after ~150 characters of padding (so
/// the 200-character excerpt boundary falls inside it), as a JSON message and as plain text.
#[tokio::test(flavor = "multi_thread")]
async fn error_bodies_echoing_the_credential_print_no_part_of_it() {
    for cred in CREDS {
        for how in SPELLINGS {
            let user = if matches!(cred, Cred::Basic) {
                USER
            } else {
                "x"
            };
            let echoed = spell(SECRET, user, how);
            // A JSON message (the JSON text escapes what the spelling left raw).
            // Each padded so that the excerpt's limit (300 for a JSON message, 200 for a text
            // error, 60 for a body that is no JSON) falls inside the echoed credential.
            let message = format!("{} rejected credential {echoed} here", "p".repeat(270));
            let json = serde_json::json!({ "message": message }).to_string();
            let plain = format!("{} rejected credential {echoed} here", "q".repeat(170));
            let not_json = format!("{} rejected credential {echoed} here", "n".repeat(30));
            let s = RawServer::start(vec![
                Reply::new(
                    "500 Internal Server Error",
                    &["Content-Type: application/json"],
                    &json,
                ),
                Reply::new("400 Bad Request", &["Content-Type: text/plain"], &plain),
                Reply::new("200 OK", &["Content-Type: text/plain"], &not_json),
            ])
            .await;
            for (i, expect) in ["ppppp", "qqqqq", "nnnnn"].iter().enumerate() {
                let r = run(
                    cred,
                    vec!["get".into(), format!("{}/doc", s.url)],
                    &format!("body-{cred:?}-{how:?}-{i}"),
                )
                .await;
                let what = format!("answer {i}, {how:?}");
                assert!(
                    r.stderr.contains(expect),
                    "{what}: the detail is shown: {}",
                    r.stderr
                );
                assert_no_leak(&r, cred, &what);
            }
        }
    }
}

/// A redirect whose `Location` carries the credential (in a nested `next=`, in a query value
/// whose name says nothing, in the path), followed to a 401 whose challenge echoes it too, and
/// answers whose ETag and request id echo it: neither the output nor the trail shows it.
#[tokio::test(flavor = "multi_thread")]
async fn redirects_challenges_and_headers_echoing_the_credential_are_redacted() {
    for cred in CREDS {
        let user = if matches!(cred, Cred::Basic) {
            USER
        } else {
            "x"
        };
        let pct = spell(SECRET, user, Spelling::Percent);
        let twice = spell(SECRET, user, Spelling::PercentTwice);
        let json = spell(SECRET, user, Spelling::Json);
        let location = format!("Location: /login/{pct}?next=%2Fdoc%3Ftoken%3D{twice}&v={pct}");
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\", \
             error_description=\"token {json} expired\""
        );
        let etag = format!("ETag: \"{pct}\"");
        let rid = format!("X-Request-Id: {}{pct}", "r".repeat(190));
        let s = RawServer::start(vec![
            // get: a redirect, then a challenge.
            Reply::new("302 Found", &[location.as_str()], ""),
            Reply::new("401 Unauthorized", &[challenge.as_str()], ""),
            // get: an answer whose ETag and request id echo the credential.
            Reply::new(
                "404 Not Found",
                &[etag.as_str(), rid.as_str(), "Content-Type: text/plain"],
                "no such thing",
            ),
        ])
        .await;
        let r = run(
            cred,
            vec!["get".into(), format!("{}/doc", s.url)],
            &format!("redirect-{cred:?}"),
        )
        .await;
        assert!(r.stderr.contains("401"), "{cred:?}: {}", r.stderr);
        assert!(
            r.trail.contains("/login/"),
            "{cred:?}: the hop is recorded: {}",
            r.trail
        );
        assert_no_leak(&r, cred, "redirect then challenge");
        let r = run(
            cred,
            vec!["get".into(), format!("{}/doc", s.url)],
            &format!("headers-{cred:?}"),
        )
        .await;
        assert!(
            r.trail.contains("rrrrr"),
            "{cred:?}: the request id is kept: {}",
            r.trail
        );
        assert_no_leak(&r, cred, "ETag and request id");
        assert!(s.seen().len() >= 3, "{cred:?}: {:?}", s.seen().len());
    }
}

/// The app's path: the engine client itself (what the desktop shows and keeps). A redirect with
/// the credential in its `Location`, then a 401 whose challenge echoes it: the outcome (with its
/// challenge) and the trail hold no spelling of it.
#[tokio::test(flavor = "multi_thread")]
async fn the_clients_outcome_and_trail_hold_no_echo() {
    use ifmatch_engine::{Client, ClientConfig, Outcome};
    for cred in CREDS {
        let user = if matches!(cred, Cred::Basic) {
            USER
        } else {
            "x"
        };
        let pct = spell(SECRET, user, Spelling::Percent);
        let json = spell(SECRET, user, Spelling::Json);
        let location = format!("Location: /login/{pct}?next=%2Fdoc%3Fkey%3D{pct}");
        let challenge = format!("WWW-Authenticate: Bearer error_description=\"{json}\"");
        let s = RawServer::start(vec![
            Reply::new("307 Temporary Redirect", &[location.as_str()], ""),
            Reply::new("401 Unauthorized", &[challenge.as_str()], ""),
        ])
        .await;
        let auth = match cred {
            Cred::Bearer => Auth::Bearer(Secret::new(SECRET)),
            Cred::Basic => Auth::Basic {
                user: USER.into(),
                password: Secret::new(SECRET),
            },
            Cred::Header => Auth::Header {
                name: "X-Api-Key".into(),
                value: Secret::new(SECRET),
            },
        };
        let c = Client::new(ClientConfig::default(), auth).unwrap();
        let out = c.get(&format!("{}/doc", s.url)).await;
        let Outcome::Unauthorized {
            challenge: Some(ch),
        } = &out
        else {
            panic!("{cred:?}: {out:?}");
        };
        assert!(ch.contains("error_description"), "{ch}");
        let shown = format!("{ch}\n{out:?}\n{}", out.message());
        let trail = c.trail().to_json();
        assert!(trail.contains("/login/"), "{trail}");
        let u = if matches!(cred, Cred::Basic) {
            USER
        } else {
            ""
        };
        for (name, text) in [("outcome", &shown), ("trail", &trail)] {
            if let Some(why) = leak(text, SECRET, u) {
                panic!("{cred:?}: {why} in the {name}: {text}");
            }
        }
    }
}

/// A write answered by a redirect (not followed: it would turn the write into a GET) names the
/// target in its error, and a chain of redirects longer than the limit names the last one: both
/// without the credential that the `Location`s carry.
#[tokio::test(flavor = "multi_thread")]
async fn redirect_targets_named_in_errors_are_redacted() {
    for cred in CREDS {
        let user = if matches!(cred, Cred::Basic) {
            USER
        } else {
            "x"
        };
        let pct = spell(SECRET, user, Spelling::PercentForm);
        let location = format!("Location: /moved?next={pct}");
        // The write reads first (200), then its PUT is answered by a redirect.
        let s = RawServer::start(vec![
            Reply::json(&["ETag: \"1\""], "{\"a\": 0}"),
            Reply::new("301 Moved Permanently", &[location.as_str()], ""),
        ])
        .await;
        let mut hops = vec![];
        for i in 0..8 {
            let l = format!("Location: /hop{i}/{pct}");
            hops.push(Reply::new("302 Found", &[l.as_str()], ""));
        }
        let many = RawServer::start(hops).await;
        let dir =
            std::env::temp_dir().join(format!("ifmatch-hostile-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let body = dir.join("body.json");
        std::fs::write(&body, "{\"a\": 1}").unwrap();
        let r = run(
            cred,
            vec![
                "put".into(),
                format!("{}/doc", s.url),
                body.display().to_string(),
                "--if-match".into(),
                "\"1\"".into(),
            ],
            &format!("put-redirect-{cred:?}"),
        )
        .await;
        assert!(
            r.stderr.contains("/moved"),
            "{cred:?}: the target is named: {}",
            r.stderr
        );
        assert_no_leak(&r, cred, "a write's redirect");
        let r = run(
            cred,
            vec!["get".into(), format!("{}/doc", many.url)],
            &format!("many-redirects-{cred:?}"),
        )
        .await;
        assert!(
            r.stderr.contains("/hop"),
            "{cred:?}: the last hop is named: {}",
            r.stderr
        );
        assert_no_leak(&r, cred, "too many redirects");
    }
}

/// An ETag that echoes the credential (weak, unquoted, or no entity tag at all) is quoted in the
/// warnings a read carries (the app shows them, the CLI prints them): redacted there too.
#[tokio::test(flavor = "multi_thread")]
async fn validator_warnings_quoting_an_echoed_etag_are_redacted() {
    use ifmatch_engine::{Client, ClientConfig, Outcome};
    let pct = spell(SECRET, "x", Spelling::Percent);
    let b64 = spell(SECRET, "x", Spelling::Base64);
    for etag in [
        format!("ETag: W/\"{pct}\""),
        format!("ETag: {b64}"),
        format!("ETag: \"{pct} {b64}\""),
    ] {
        let s = RawServer::start(vec![
            Reply::json(&[etag.as_str()], "{\"a\": 1}"),
            Reply::json(&[etag.as_str()], "{\"a\": 1}"),
        ])
        .await;
        let c = Client::new(ClientConfig::default(), Auth::Bearer(Secret::new(SECRET))).unwrap();
        let out = c.get(&format!("{}/doc", s.url)).await;
        let Outcome::Fetched { doc, .. } = &out else {
            panic!("{etag}: {out:?}");
        };
        let warnings = doc.warnings.join("\n");
        assert!(
            warnings.contains("ETag"),
            "{etag}: a warning names the ETag: {warnings}"
        );
        if let Some(why) = leak(&warnings, SECRET, "") {
            panic!("{etag}: {why} in the warnings: {warnings}");
        }
        let trail = c.trail().to_json();
        if let Some(why) = leak(&trail, SECRET, "") {
            panic!("{etag}: {why} in the trail: {trail}");
        }
        let r = run(
            Cred::Bearer,
            vec!["get".into(), format!("{}/doc", s.url)],
            "etag-warning",
        )
        .await;
        assert!(
            r.stderr.contains("ETag"),
            "{etag}: the CLI warns: {}",
            r.stderr
        );
        assert_no_leak(&r, Cred::Bearer, &etag);
    }
}

/// A strong ETag built from the request's credential: `get -i`, `get --etag` and
/// `get --etag-file` would print it or write it to a file. They refuse (exit 5) and say why;
/// the body alone (`get`) is still delivered.
#[tokio::test(flavor = "multi_thread")]
async fn a_validator_holding_the_credential_is_never_printed_or_written() {
    let pct = spell(SECRET, "x", Spelling::Percent);
    let etag = format!("ETag: \"v1-{pct}\"");
    let dir = std::env::temp_dir().join(format!("ifmatch-etag-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tag");
    let _ = std::fs::remove_file(&file);
    for args in [
        vec!["get".to_string(), "-i".into()],
        vec!["get".into(), "--etag".into()],
        vec![
            "get".into(),
            "--etag-file".into(),
            file.display().to_string(),
        ],
    ] {
        let s = RawServer::start(vec![Reply::json(&[etag.as_str()], "{\"a\": 1}")]).await;
        let mut a = args.clone();
        a.push(format!("{}/doc", s.url));
        let r = run(Cred::Bearer, a, "etag-echo").await;
        assert!(
            r.stderr.contains("holds your credential"),
            "{args:?}: {}",
            r.stderr
        );
        assert_no_leak(&r, Cred::Bearer, &format!("{args:?}"));
        let written = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(leak(&written, SECRET, "").is_none(), "{args:?}: {written}");
    }
    let s = RawServer::start(vec![Reply::json(&[etag.as_str()], "{\"a\": 1}")]).await;
    let r = run(
        Cred::Bearer,
        vec!["get".into(), format!("{}/doc", s.url)],
        "etag-body",
    )
    .await;
    assert_eq!(r.stdout, "{\"a\": 1}", "{}", r.stderr);
}

/// A server whose ETag holds the token after a write: `put` and `save` do not print the new
/// validator (stdout stays empty) and say why; `create` over an existing resource names no
/// validator holding it. Every stderr line passes the connection's redaction.
#[tokio::test(flavor = "multi_thread")]
async fn validators_holding_the_credential_are_not_printed_by_writes() {
    let pct = spell(SECRET, "x", Spelling::Percent);
    let tagged = format!("ETag: \"{pct}-2\"");
    let dir = std::env::temp_dir().join(format!("ifmatch-etag-writes-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let doc = dir.join("doc.json");
    std::fs::write(&doc, "{\"a\": 2}").unwrap();
    // put --if-match: the PUT is answered with the document and the echoing ETag.
    let s = RawServer::start(vec![
        Reply::json(&["ETag: \"v1\""], "{\"a\": 1}"),
        Reply::json(&[tagged.as_str()], "{\"a\": 2}"),
        Reply::json(&[tagged.as_str()], "{\"a\": 2}"),
        Reply::json(&[tagged.as_str()], "{\"a\": 2}"),
        Reply::json(&[tagged.as_str()], "{\"a\": 2}"),
    ])
    .await;
    let r = run(
        Cred::Bearer,
        vec![
            "put".into(),
            format!("{}/doc", s.url),
            doc.display().to_string(),
            "--if-match".into(),
            "\"v1\"".into(),
        ],
        "put-etag",
    )
    .await;
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("holds your credential"), "{}", r.stderr);
    assert_no_leak(&r, Cred::Bearer, "put");
    // create over an existing resource: the refusal names its validator, redacted.
    let s = RawServer::start(vec![Reply::json(&[tagged.as_str()], "{\"a\": 1}")]).await;
    let r = run(
        Cred::Bearer,
        vec![
            "create".into(),
            format!("{}/doc", s.url),
            doc.display().to_string(),
        ],
        "create-etag",
    )
    .await;
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_no_leak(&r, Cred::Bearer, "create");
}

/// `ifmatch edit` keeps the user's text in a file named after the resource: never after its query
/// (`?api_key=…`), so no credential lands in a file name or in the message naming the file.
#[test]
fn edit_names_its_kept_file_without_the_query() {
    let dir = std::env::temp_dir().join(format!("ifmatch-edit-name-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tmp")).unwrap();
    let editor = dir.join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nprintf '{bad' > \"$1\"\n").unwrap();
    let _ = Command::new("chmod").arg("+x").arg(&editor).status();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(RawServer::start(vec![Reply::json(
        &["ETag: \"v1\""],
        "{\"a\": 1}",
    )]));
    let url = format!("{}/settings?api_key=QUERYSECRETVALUE42", s.url);
    let o = Command::new(ifmatch_bin())
        .args(["edit", &url])
        .env("EDITOR", &editor)
        .env_remove("VISUAL")
        .env("TMPDIR", dir.join("tmp"))
        .env("IFMATCH_STATE_DIR", dir.join("state"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains("QUERYSECRETVALUE42"), "{err}");
    let names: Vec<String> = std::fs::read_dir(dir.join("tmp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.contains("settings")),
        "the text is kept: {names:?}"
    );
    assert!(
        !names.iter().any(|n| n.contains("QUERYSECRET")),
        "{names:?}"
    );
    drop(s);
}

/// The client itself does not keep a validator built from the credential: the app's history and
/// drafts, and every command, get none to store or show (the warning says why).
#[tokio::test(flavor = "multi_thread")]
async fn the_client_keeps_no_validator_holding_the_credential() {
    use ifmatch_engine::{Client, ClientConfig, Outcome};
    let pct = spell(SECRET, "x", Spelling::Percent);
    let etag = format!("ETag: \"v1-{pct}\"");
    let s = RawServer::start(vec![Reply::json(&[etag.as_str()], "{\"a\": 1}")]).await;
    let c = Client::new(ClientConfig::default(), Auth::Bearer(Secret::new(SECRET))).unwrap();
    let Outcome::Fetched { doc, .. } = c.get_fresh(&format!("{}/doc", s.url)).await else {
        panic!("read failed");
    };
    assert!(doc.validator.is_none(), "{:?}", doc.validator);
    assert!(
        doc.warnings
            .iter()
            .any(|w| w.contains("holds your credential")),
        "{:?}",
        doc.warnings
    );
}
