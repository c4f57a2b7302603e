//! A connection from a pasted curl command (what every API client offers): the URL, the
//! credentials (`-u`, `Authorization: Bearer` / `Basic`, an API-key header), the write method
//! (`-X PATCH` with a merge-patch or JSON-patch Content-Type), and, in words, what was left out.
//! The secret goes where every typed secret goes: the connection form, then the keyring.
//!
//! Every option form is read (`-XPATCH`, `-X PATCH`, `--request=PATCH`, `--request PATCH`,
//! `-sSLX PATCH`, `--`), every option that takes a value takes it (a proxy's address is never
//! mistaken for the URL), `--oauth2-bearer` is a bearer token, `-G` puts the data into the
//! query. A credential in the query (`access_token`, `api_key`, `sig` …) never reaches the path
//! that the Open box, the recent list and the history take: `access_token` becomes the bearer
//! token (RFC 6750 §2.3) when no other credential was given, any other is left out and said.
//!
//! Must never: put a credential into an error or into `ignored` (options are named, values
//! never shown), or send a credential somewhere the command did not (a proxy, Basic for a
//! `--digest` password, an unencrypted URL it guessed).

pub use crate::credentials::{credential_in_target, is_credential_param};
use crate::credentials::{param_name, percent_decode};
use crate::settings::AuthInput;
use base64::Engine;
use ifmatch_engine::session::WriteMethod;
use serde::Serialize;

/// What a curl command gives a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CurlImport {
    /// A name for the connection: the host.
    pub name: String,
    /// The origin (`https://api.example.com`).
    pub base_url: String,
    /// The rest of the URL: what to open (`/v1/settings?x=1`).
    pub path: String,
    pub auth: AuthInput,
    pub method: WriteMethod,
    /// What was not taken, in words (`-d` bodies, `-k`, other headers).
    pub ignored: Vec<String>,
}

/// Why a pasted command could not be read: nothing was taken from it. Its words (`Display`) say
/// what to change in the command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CurlError {
    /// A quote is not closed (which kind, in words: "a double quote").
    #[error("{0} is not closed")]
    UnclosedQuote(&'static str),
    /// A `$'…'` quote holds a `\u` / `\U` escape that is not a Unicode character.
    #[error("a $'…' quote holds a \\{0} escape that is not a Unicode character")]
    NotUnicode(char),
    /// An option (as written) has no value after it.
    #[error("{0} needs a value")]
    NeedsValue(String),
    /// A header option (as written) whose value has no `Name: value` form.
    #[error("a {0} header has no \"Name: value\" form")]
    HeaderWithoutName(String),
    /// `-u user` without a password (ifmatch does not prompt).
    #[error("{0} needs user:password (ifmatch does not prompt for it)")]
    UserWithoutPassword(String),
    /// An `Authorization: Basic` header whose credentials are not base64.
    #[error("the Basic credentials are not valid base64 of user:password")]
    BasicNotBase64,
    /// Basic credentials without the `:` between user and password.
    #[error("the Basic credentials have no ':' between user and password")]
    BasicWithoutColon,
    /// A URL without `http://` or `https://`.
    #[error(
        "the URL has no http:// or https:// in front: write it out (ifmatch does not guess, so \
         a credential never goes out unencrypted by mistake)"
    )]
    NoScheme,
    /// No URL at all.
    #[error("the command names no URL")]
    NoUrl,
    /// More than one URL.
    #[error("the command names {0} URLs; ifmatch opens one resource: keep one")]
    ManyUrls(usize),
    /// The URL does not parse (the parser's words).
    #[error("the URL is not valid: {0}")]
    BadUrl(String),
    /// A URL of another scheme.
    #[error("the URL must be http:// or https://, not {0}:")]
    NotHttp(String),
}

/// Splits a command line as a POSIX shell would for the parts curl commands use: single and
/// double quotes, backslash escapes, backslash-newline continuations, `$'…'` ANSI-C quotes; and
/// the line continuations of Windows' shells (`^` for cmd, `` ` `` for PowerShell) that API docs
/// print for `curl.exe`.
pub fn shell_words(s: &str) -> Result<Vec<String>, CurlError> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut have = false;
    let s = s.replace("\r\n", "\n");
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            '^' | '`' if it.peek() == Some(&'\n') => {
                it.next();
            }
            '\\' => match it.next() {
                Some('\n') => {}
                Some('\r') if it.peek() == Some(&'\n') => {
                    it.next();
                }
                Some(x) => {
                    cur.push(x);
                    have = true;
                }
                None => {}
            },
            '\'' => {
                have = true;
                loop {
                    match it.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(CurlError::UnclosedQuote("a single quote")),
                    }
                }
            }
            '$' if it.peek() == Some(&'\'') => {
                it.next();
                have = true;
                loop {
                    match it.next() {
                        Some('\'') => break,
                        Some('\\') => {
                            // Bash's ANSI-C escapes: \xHH (bytes, UTF-8 together), \uHHHH,
                            // \UHHHHHHHH, octal \NNN, and the letters.
                            let mut bytes: Vec<u8> = vec![];
                            let hex = |it: &mut std::iter::Peekable<std::str::Chars>,
                                       max: usize| {
                                let mut v = 0u32;
                                let mut n = 0;
                                while n < max {
                                    match it.peek().and_then(|c| c.to_digit(16)) {
                                        Some(d) => {
                                            v = v * 16 + d;
                                            it.next();
                                            n += 1;
                                        }
                                        None => break,
                                    }
                                }
                                (n > 0).then_some(v)
                            };
                            match it.next() {
                                Some('n') => cur.push('\n'),
                                Some('t') => cur.push('\t'),
                                Some('r') => cur.push('\r'),
                                Some('a') => cur.push('\u{7}'),
                                Some('b') => cur.push('\u{8}'),
                                Some('e' | 'E') => cur.push('\u{1b}'),
                                Some('f') => cur.push('\u{c}'),
                                Some('v') => cur.push('\u{b}'),
                                Some('x') => match hex(&mut it, 2) {
                                    Some(b) => {
                                        bytes.push(b as u8);
                                        // Following \xHH bytes make one UTF-8 character.
                                        while it.peek() == Some(&'\\') {
                                            let mut look = it.clone();
                                            look.next();
                                            if look.next() != Some('x') {
                                                break;
                                            }
                                            it.next();
                                            it.next();
                                            match hex(&mut it, 2) {
                                                Some(b) => bytes.push(b as u8),
                                                None => break,
                                            }
                                        }
                                        cur.push_str(&String::from_utf8_lossy(&bytes));
                                    }
                                    None => cur.push_str("\\x"),
                                },
                                Some(u @ ('u' | 'U')) => {
                                    let max = if u == 'u' { 4 } else { 8 };
                                    match hex(&mut it, max).and_then(char::from_u32) {
                                        Some(c) => cur.push(c),
                                        None => return Err(CurlError::NotUnicode(u)),
                                    }
                                }
                                Some(d @ '0'..='7') => {
                                    let mut v = d.to_digit(8).unwrap_or(0);
                                    for _ in 0..2 {
                                        match it.peek().and_then(|c| c.to_digit(8)) {
                                            Some(x) => {
                                                v = v * 8 + x;
                                                it.next();
                                            }
                                            None => break,
                                        }
                                    }
                                    cur.push_str(&String::from_utf8_lossy(&[v as u8]));
                                }
                                Some(x) => cur.push(x),
                                None => return Err(CurlError::UnclosedQuote("a $'…' quote")),
                            }
                        }
                        Some(x) => cur.push(x),
                        None => return Err(CurlError::UnclosedQuote("a $'…' quote")),
                    }
                }
            }
            '"' => {
                have = true;
                loop {
                    match it.next() {
                        Some('"') => break,
                        Some('\\') => match it.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some('\n') => {}
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err(CurlError::UnclosedQuote("a double quote")),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(CurlError::UnclosedQuote("a double quote")),
                    }
                }
            }
            c if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            c => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        out.push(cur);
    }
    Ok(out)
}

/// Header names that carry an API key.
fn is_key_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "private-token",
        "x-access-token",
    ]
    .contains(&n.as_str())
        || n.ends_with("-api-key")
        || n.ends_with("-token")
}

/// curl's one-letter options that take a value (`-X PATCH`, `-XPATCH`).
const SHORT_WITH_VALUE: &str = "AbcCdDeEFHKmoPQrtTuUwxXyYz";
/// curl's one-letter options without a value (they may be combined: `-sSL`).
const SHORT_WITHOUT_VALUE: &str = "0123456#:aBfgGhiIjJklLMnNOpqRsSvVZ";

/// curl's long options that take a value (as curl 8 documents them), besides the ones `parse`
/// reads itself.
const LONG_WITH_VALUE: &[&str] = &[
    "abstract-unix-socket",
    "alt-svc",
    "aws-sigv4",
    "cacert",
    "capath",
    "cert",
    "cert-type",
    "ciphers",
    "config",
    "connect-timeout",
    "connect-to",
    "continue-at",
    "cookie",
    "cookie-jar",
    "create-file-mode",
    "crlfile",
    "curves",
    "delegation",
    "dns-interface",
    "dns-ipv4-addr",
    "dns-ipv6-addr",
    "dns-servers",
    "doh-url",
    "dump-header",
    "ech",
    "egd-file",
    "engine",
    "etag-compare",
    "etag-save",
    "expect100-timeout",
    "form",
    "form-string",
    "ftp-account",
    "ftp-alternative-to-user",
    "ftp-method",
    "ftp-port",
    "ftp-ssl-ccc-mode",
    "happy-eyeballs-timeout-ms",
    "haproxy-clientip",
    "hostpubmd5",
    "hostpubsha256",
    "hsts",
    "interface",
    "ip-tos",
    "ipfs-gateway",
    "keepalive-cnt",
    "keepalive-time",
    "key",
    "key-type",
    "krb",
    "knownhosts",
    "libcurl",
    "limit-rate",
    "local-port",
    "login-options",
    "mail-auth",
    "mail-from",
    "mail-rcpt",
    "max-filesize",
    "max-redirs",
    "max-time",
    "netrc-file",
    "noproxy",
    "output",
    "output-dir",
    "parallel-max",
    "pass",
    "pinnedpubkey",
    "preproxy",
    "proto",
    "proto-default",
    "proto-redir",
    "proxy",
    "proxy-cacert",
    "proxy-capath",
    "proxy-cert",
    "proxy-cert-type",
    "proxy-ciphers",
    "proxy-crlfile",
    "proxy-header",
    "proxy-key",
    "proxy-key-type",
    "proxy-pass",
    "proxy-pinnedpubkey",
    "proxy-service-name",
    "proxy-tls13-ciphers",
    "proxy-tlsauthtype",
    "proxy-tlspassword",
    "proxy-tlsuser",
    "proxy-user",
    "proxy1.0",
    "pubkey",
    "quote",
    "random-file",
    "range",
    "rate",
    "referer",
    "request-target",
    "resolve",
    "retry",
    "retry-delay",
    "retry-max-time",
    "sasl-authzid",
    "service-name",
    "sigalgs",
    "socks4",
    "socks4a",
    "socks5",
    "socks5-gssapi-service",
    "socks5-hostname",
    "speed-limit",
    "speed-time",
    "ssl-sessions",
    "stderr",
    "telnet-option",
    "tftp-blksize",
    "time-cond",
    "tls-max",
    "tls13-ciphers",
    "tlsauthtype",
    "tlspassword",
    "tlsuser",
    "trace",
    "trace-ascii",
    "trace-config",
    "unix-socket",
    "upload-file",
    "upload-flags",
    "user-agent",
    "variable",
    "vlan-priority",
    "write-out",
];

/// Long options without a value that change nothing ifmatch does (output, progress, retries,
/// protocol versions …): taken silently.
const LONG_QUIET: &[&str] = &[
    "silent",
    "show-error",
    "location",
    "verbose",
    "include",
    "compressed",
    "fail",
    "fail-with-body",
    "fail-early",
    "globoff",
    "http1.0",
    "http1.1",
    "http2",
    "http2-prior-knowledge",
    "http3",
    "http3-only",
    "no-progress-meter",
    "progress-bar",
    "no-buffer",
    "head",
    "ipv4",
    "ipv6",
    "path-as-is",
    "retry-connrefused",
    "retry-all-errors",
    "tcp-nodelay",
    "tcp-fastopen",
    "no-keepalive",
    "no-sessionid",
    "no-alpn",
    "no-npn",
    "disable",
    "raw",
    "tr-encoding",
    "styled-output",
    "no-styled-output",
    "show-headers",
    "trace-time",
    "trace-ids",
    "remote-name",
    "remote-name-all",
    "remote-header-name",
    "remote-time",
    "create-dirs",
    "no-clobber",
    "remove-on-error",
    "xattr",
    "parallel",
    "parallel-immediate",
    "suppress-connect-headers",
    "manual",
    "help",
    "version",
    "location-trusted",
    "junk-session-cookies",
    "mptcp",
    "out-null",
    "skip-existing",
    "ssl-reqd",
    "ssl",
    "tlsv1",
    "tlsv1.0",
    "tlsv1.1",
    "tlsv1.2",
    "tlsv1.3",
    "sslv2",
    "sslv3",
    "false-start",
    "ssl-allow-beast",
    "ssl-no-revoke",
    "ssl-revoke-best-effort",
    "ssl-auto-client-cert",
    "cert-status",
    "doh-cert-status",
    "append",
    "use-ascii",
    "list-only",
    "crlf",
    "proxytunnel",
    "next",
];

/// Options that change how `-u` signs in: the user and password are not sent as Basic then.
const OTHER_SIGN_IN: &[&str] = &[
    "digest",
    "ntlm",
    "ntlm-wb",
    "negotiate",
    "anyauth",
    "aws-sigv4",
    "krb",
    "delegation",
];

/// The reason an option with a value is left out, in words (never its value).
fn left_out(name: &str, shown: &str) -> String {
    let proxy = name == "x"
        || name == "U"
        || name.starts_with("proxy")
        || name.starts_with("socks")
        || name == "preproxy";
    if proxy {
        if name == "U" || name.ends_with("user") || name.ends_with("pass") || name.contains("tls") {
            return format!(
                "{shown}: the proxy's credentials are not taken (ifmatch does not send through \
                 the command's proxy)"
            );
        }
        return format!(
            "{shown}: the proxy is not taken (ifmatch does not send through the command's proxy)"
        );
    }
    match name {
        "b" | "cookie" | "c" | "cookie-jar" => format!(
            "{shown}: cookies are not taken (if the API signs in with a cookie, give it as a \
             custom header credential)"
        ),
        "E" | "cert" | "key" | "pass" | "cert-type" | "key-type" | "tlsuser" | "tlspassword"
        | "tlsauthtype" => {
            format!("{shown}: client certificates and their passwords are not taken")
        }
        "cacert" | "capath" | "pinnedpubkey" | "crlfile" => format!(
            "{shown}: trust a self-signed server with its certificate in the connection instead"
        ),
        "d" | "data" | "data-raw" | "data-binary" | "data-ascii" | "data-urlencode" | "json"
        | "F" | "form" | "form-string" | "T" | "upload-file" => {
            format!("the request body ({shown}): ifmatch sends the document you edit")
        }
        "K" | "config" => {
            format!("{shown}: the config file is not read (its options are not taken)")
        }
        "netrc-file" => format!("{shown}: credentials from a .netrc file are not read"),
        "resolve"
        | "connect-to"
        | "unix-socket"
        | "abstract-unix-socket"
        | "interface"
        | "doh-url"
        | "dns-servers"
        | "request-target" => format!(
            "{shown}: ifmatch connects to the URL's host as it is (this option is not taken)"
        ),
        "aws-sigv4" => format!("{shown}: AWS request signing is not supported"),
        _ => format!("{shown} (not needed to edit a resource)"),
    }
}

/// Where a value comes from: attached (`-XPATCH`, `--request=PATCH`) or the next word.
fn value_of<'a>(
    shown: &str,
    attached: Option<&'a str>,
    words: &mut std::slice::Iter<'a, String>,
) -> Result<&'a str, CurlError> {
    match attached {
        Some(v) => Ok(v),
        None => words
            .next()
            .map(String::as_str)
            .ok_or_else(|| CurlError::NeedsValue(shown.to_string())),
    }
}

/// Percent-encoding of everything but unreserved characters (what `--data-urlencode` does).
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A `--data-urlencode` / `--url-query` argument as curl encodes it (`name=content`,
/// `=content`, `content`; `+` in front: already encoded, for `--url-query`).
fn urlencoded(arg: &str, plus_is_raw: bool) -> String {
    if plus_is_raw {
        if let Some(raw) = arg.strip_prefix('+') {
            return raw.to_string();
        }
    }
    match arg.split_once('=') {
        Some(("", content)) => percent_encode(content),
        Some((name, content)) => format!("{name}={}", percent_encode(content)),
        None => percent_encode(arg),
    }
}

/// Adds `w` to what was not taken (once).
fn say(ignored: &mut Vec<String>, w: String) {
    if !ignored.contains(&w) {
        ignored.push(w);
    }
}

/// An option's name as the words may show it: a name such as curl's (`--proxy-user`), or, for
/// a word that only starts with `-` (a pasted value, a header typed as an option), nothing of it.
fn shown_name(shown: &str) -> String {
    let name = shown.trim_start_matches('-');
    let plain = !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if plain {
        shown.to_string()
    } else {
        "a word starting with - (not shown: it is not an option's name)".into()
    }
}

/// A header's name as the words may show it: a name as HTTP spells them (RFC 9110 tokens), or,
/// for anything else (a pasted credential with a colon in it), nothing of it.
fn header_name(name: &str) -> String {
    let token = !name.is_empty()
        && name.len() <= 60
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c));
    if token {
        name.to_string()
    } else {
        "whose name is not a header name (not shown)".into()
    }
}

/// A credential the command gives, and how: the strongest is taken (what curl would send: a
/// typed `Authorization` header over `--oauth2-bearer` over `-u` over the URL's user info).
struct Credential {
    rank: u8,
    how: String,
    auth: AuthInput,
}

/// Reads a curl command (`curl`, `curl.exe` or a path to either first, or not at all).
///
/// Every option form curl and API docs write is read: `-X PATCH`, `-XPATCH`, `--request PATCH`,
/// `--request=PATCH`, combined flags (`-sSLX PATCH`), `--` before the URL. Options with a value
/// always take it (a proxy's address is never mistaken for the URL). What is not taken is said
/// in `ignored` by the option's name; no error and no word there ever holds a credential.
pub fn parse(command: &str) -> Result<CurlImport, CurlError> {
    let words = shell_words(command.trim())?;
    let mut it = words.iter();
    // A shell prompt copied with the command.
    if words.first().is_some_and(|w| w == "$" || w == ">") {
        it.next();
    }
    let first = it
        .as_slice()
        .first()
        .map(String::as_str)
        .unwrap_or_default();
    let program = first
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if program == "curl" || program == "curl.exe" {
        it.next();
    }
    let mut urls: Vec<String> = vec![];
    let mut others = 0usize;
    let mut schemeless = false;
    let mut creds: Vec<Credential> = vec![];
    let mut sign_in: Option<String> = None;
    let mut method: Option<String> = None;
    let mut content_type: Option<String> = None;
    let mut get = false;
    let mut data: Vec<String> = vec![];
    let mut data_flag: Option<String> = None;
    let mut url_query: Vec<String> = vec![];
    let mut ignored: Vec<String> = vec![];
    let mut options_end = false;
    while let Some(word) = it.next() {
        let w = word.as_str();
        if options_end || !w.starts_with('-') || w == "-" {
            if w.contains("://") {
                urls.push(w.to_string());
            } else if !w.is_empty() {
                if w.contains('.') || w.contains('/') || w.starts_with("localhost") {
                    schemeless = true;
                }
                others += 1;
            }
            continue;
        }
        if w == "--" {
            options_end = true;
            continue;
        }
        // One option (long) or a cluster of one-letter options.
        let mut opts: Vec<(String, String, Option<&str>)> = vec![];
        if let Some(long) = w.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let name = name.strip_prefix("expand-").unwrap_or(name);
            opts.push((name.to_ascii_lowercase(), format!("--{name}"), attached));
        } else {
            let letters = &w[1..];
            for (i, c) in letters.char_indices() {
                let rest = &letters[i + c.len_utf8()..];
                if SHORT_WITH_VALUE.contains(c) {
                    opts.push((
                        c.to_string(),
                        format!("-{c}"),
                        (!rest.is_empty()).then_some(rest),
                    ));
                    break;
                }
                opts.push((c.to_string(), format!("-{c}"), None));
            }
        }
        for (name, shown, attached) in opts {
            let short_value = name.len() == 1 && SHORT_WITH_VALUE.contains(name.as_str());
            let short_plain = name.len() == 1 && SHORT_WITHOUT_VALUE.contains(name.as_str());
            match name.as_str() {
                "H" | "header" => {
                    let h = value_of(&shown, attached, &mut it)?;
                    if h.starts_with('@') {
                        say(
                            &mut ignored,
                            format!("{shown} @file: headers from a file are not read"),
                        );
                        continue;
                    }
                    let Some((name, v)) = h.split_once(':') else {
                        if h.trim_end().ends_with(';') {
                            continue;
                        }
                        return Err(CurlError::HeaderWithoutName(shown.clone()));
                    };
                    let (name, v) = (name.trim().to_string(), v.trim().to_string());
                    if v.is_empty() {
                        // `-H 'Name:'` only keeps curl from sending a header of its own.
                        continue;
                    }
                    let lower = name.to_ascii_lowercase();
                    if lower == "authorization" {
                        let (scheme, cred) = v.split_once(' ').unwrap_or((v.as_str(), ""));
                        let new = match scheme.to_ascii_lowercase().as_str() {
                            "bearer" => AuthInput::Bearer {
                                token: cred.trim().to_string(),
                            },
                            "basic" => {
                                let decoded = base64::engine::general_purpose::STANDARD
                                    .decode(cred.trim())
                                    .ok()
                                    .and_then(|b| String::from_utf8(b).ok())
                                    .ok_or(CurlError::BasicNotBase64)?;
                                let (user, password) = decoded
                                    .split_once(':')
                                    .ok_or(CurlError::BasicWithoutColon)?;
                                AuthInput::Basic {
                                    user: user.into(),
                                    password: password.into(),
                                }
                            }
                            _ => AuthInput::Header {
                                name: name.clone(),
                                value: v.clone(),
                            },
                        };
                        creds.push(Credential {
                            rank: 4,
                            how: format!("{shown} Authorization"),
                            auth: new,
                        });
                    } else if lower == "content-type" {
                        content_type = Some(v.to_ascii_lowercase());
                    } else if is_key_header(&name) {
                        creds.push(Credential {
                            rank: 3,
                            how: format!("{shown} {}", header_name(&name)),
                            auth: AuthInput::Header { name, value: v },
                        });
                    } else if lower == "cookie" {
                        say(&mut ignored, left_out("cookie", "the header Cookie"));
                    } else {
                        say(
                            &mut ignored,
                            format!(
                                "the header {} (ifmatch sets its own headers)",
                                header_name(&name)
                            ),
                        );
                    }
                }
                "u" | "user" => {
                    let u = value_of(&shown, attached, &mut it)?;
                    let (name, password) = u
                        .split_once(':')
                        .ok_or_else(|| CurlError::UserWithoutPassword(shown.clone()))?;
                    creds.push(Credential {
                        rank: 1,
                        how: shown.clone(),
                        auth: AuthInput::Basic {
                            user: name.into(),
                            password: password.into(),
                        },
                    });
                }
                "oauth2-bearer" => {
                    let token = value_of(&shown, attached, &mut it)?.trim().to_string();
                    creds.push(Credential {
                        rank: 2,
                        how: shown.clone(),
                        auth: AuthInput::Bearer { token },
                    });
                }
                "X" | "request" => {
                    method = Some(value_of(&shown, attached, &mut it)?.to_ascii_uppercase())
                }
                "url" => {
                    let u = value_of(&shown, attached, &mut it)?;
                    urls.push(u.to_string());
                }
                "url-query" => {
                    url_query.push(urlencoded(value_of(&shown, attached, &mut it)?, true));
                }
                "d" | "data" | "data-ascii" | "data-binary" | "data-raw" | "data-urlencode"
                | "json" => {
                    let v = value_of(&shown, attached, &mut it)?;
                    data.push(if name == "data-urlencode" {
                        urlencoded(v, false)
                    } else {
                        v.to_string()
                    });
                    data_flag.get_or_insert(shown.clone());
                    if name == "json" && content_type.is_none() {
                        content_type = Some("application/json".into());
                    }
                }
                "G" | "get" => get = true,
                "k" | "insecure" => say(
                    &mut ignored,
                    format!(
                        "{shown}: ifmatch always verifies TLS; trust a self-signed server with \
                         its certificate instead"
                    ),
                ),
                "n" | "netrc" | "netrc-optional" => say(
                    &mut ignored,
                    format!("{shown}: credentials from a .netrc file are not read"),
                ),
                n if OTHER_SIGN_IN.contains(&n) => {
                    if LONG_WITH_VALUE.contains(&n) {
                        value_of(&shown, attached, &mut it)?;
                    }
                    sign_in = Some(shown.clone());
                    say(&mut ignored, left_out(n, &shown));
                }
                "basic" => {}
                n if short_value || LONG_WITH_VALUE.contains(&n) => {
                    value_of(&shown, attached, &mut it)?;
                    say(&mut ignored, left_out(n, &shown));
                }
                n if short_plain || LONG_QUIET.contains(&n) => {}
                n if n.starts_with("no-") && LONG_QUIET.contains(&&n[3..]) => {}
                _ => {
                    // Not an option curl documents: if a word follows that is no option and
                    // no URL, it is taken as its value (left out as well, never shown).
                    let takes_next = attached.is_none()
                        && shown.starts_with("--")
                        && it
                            .as_slice()
                            .first()
                            .is_some_and(|n| !n.starts_with('-') && !n.contains("://"));
                    if takes_next {
                        it.next();
                        say(
                            &mut ignored,
                            format!(
                                "{} and the word after it (an option ifmatch does not know)",
                                shown_name(&shown)
                            ),
                        );
                    } else {
                        say(
                            &mut ignored,
                            format!("{} (an option ifmatch does not know)", shown_name(&shown)),
                        );
                    }
                }
            }
        }
    }
    let url = match urls.as_slice() {
        [] if schemeless => return Err(CurlError::NoScheme),
        [] => return Err(CurlError::NoUrl),
        [one] => one.clone(),
        more => return Err(CurlError::ManyUrls(more.len())),
    };
    if others > 0 {
        say(
            &mut ignored,
            format!(
                "{others} word{} that {} neither an option nor the URL",
                if others == 1 { "" } else { "s" },
                if others == 1 { "is" } else { "are" }
            ),
        );
    }
    let mut parsed =
        ifmatch_engine::Url::parse(&url).map_err(|e| CurlError::BadUrl(e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CurlError::NotHttp(parsed.scheme().to_string()));
    }
    // -G: the data goes into the query, as curl sends it.
    let mut extra: Vec<String> = url_query;
    if get {
        extra.append(&mut data);
    } else if let Some(flag) = data_flag {
        say(&mut ignored, left_out("d", &flag));
    }
    if !extra.is_empty() {
        let q = parsed
            .query()
            .filter(|q| !q.is_empty())
            .into_iter()
            .map(str::to_string)
            .chain(extra)
            .collect::<Vec<_>>()
            .join("&");
        parsed.set_query(Some(&q));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        creds.push(Credential {
            rank: 0,
            how: "the user info in the URL".into(),
            auth: AuthInput::Basic {
                user: percent_decode(parsed.username(), false),
                password: percent_decode(parsed.password().unwrap_or_default(), false),
            },
        });
    }
    if let Some(other) = &sign_in {
        for c in creds
            .iter()
            .filter(|c| matches!(c.auth, AuthInput::Basic { .. }))
        {
            say(
                &mut ignored,
                format!(
                    "the user and password of {}: ifmatch signs in with Basic, and {other} asks \
                     for another way (Basic would hand the password to the server)",
                    c.how
                ),
            );
        }
        creds.retain(|c| !matches!(c.auth, AuthInput::Basic { .. }) || c.rank == 4);
    }
    // The strongest credential, the last of equal ones.
    // (max_by_key keeps the last of equal maxima, as curl keeps the last -u or -H.)
    let chosen = (0..creds.len()).max_by_key(|&i| creds[i].rank);
    let mut auth = AuthInput::None;
    if let Some(i) = chosen {
        let taken = creds.remove(i);
        for c in &creds {
            say(
                &mut ignored,
                format!(
                    "the credential of {} (the one of {} is taken: a connection has one)",
                    c.how, taken.how
                ),
            );
        }
        auth = taken.auth;
    }
    // A key given as the user name with no password (`-u sk_test_…:`, as Stripe and others
    // document it): the user name is the secret, and a connection keeps its user name in
    // settings. It becomes the same header as a custom credential, whose value goes to the
    // keyring; the bytes sent are the ones curl sends.
    if let AuthInput::Basic { user, password } = &auth {
        if password.is_empty() && !user.is_empty() {
            let value = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:"))
            );
            say(
                &mut ignored,
                "a key given as the user name with no password is kept as an Authorization \
                 header (its value in the keyring, as every secret), not as a user name in the \
                 settings"
                    .to_string(),
            );
            auth = AuthInput::Header {
                name: "Authorization".into(),
                value,
            };
        }
    }
    // Credentials in the query: never carried into the path (it goes to the Open box, the
    // recent list, the history's words).
    let mut kept: Vec<&str> = vec![];
    if let Some(q) = parsed.query() {
        for piece in q.split('&').filter(|p| !p.is_empty()) {
            let (n, v) = piece.split_once('=').unwrap_or((piece, ""));
            let (n, v) = (percent_decode(n, true), percent_decode(v, true));
            if !is_credential_param(&n, &v) {
                kept.push(piece);
            } else if n == "access_token" && auth == AuthInput::None {
                auth = AuthInput::Bearer { token: v };
                say(
                    &mut ignored,
                    "the query parameter access_token (taken as the connection's bearer token, \
                     sent in the Authorization header; the path keeps no credential)"
                        .into(),
                );
            } else {
                say(
                    &mut ignored,
                    format!(
                        "{} (it holds a credential: left out of the path so that no file keeps \
                         it; if the API needs it, give it as a header credential if the API \
                         takes one)",
                        param_name(&n, piece.contains('='))
                    ),
                );
            }
        }
    }
    let mut path = parsed.path().to_string();
    if !kept.is_empty() {
        path.push('?');
        path.push_str(&kept.join("&"));
    }
    let write_method = match (method.as_deref(), content_type.as_deref()) {
        (Some("PATCH"), Some(ct)) if ct.starts_with("application/json-patch+json") => {
            WriteMethod::JsonPatch
        }
        (Some("PATCH"), _) => WriteMethod::MergePatch,
        (None | Some("GET" | "PUT" | "HEAD"), _) => WriteMethod::Put,
        (Some(m), _) => {
            let m = m
                .chars()
                .filter(char::is_ascii_alphabetic)
                .take(16)
                .collect::<String>();
            say(
                &mut ignored,
                format!(
                    "-X {m}: ifmatch writes with PUT or PATCH (this connection writes with PUT)"
                ),
            );
            WriteMethod::Put
        }
    };
    Ok(CurlImport {
        name: parsed.host_str().unwrap_or("API").to_string(),
        base_url: parsed.origin().ascii_serialization(),
        path,
        auth,
        method: write_method,
        ignored,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_as_a_shell_splits_them() {
        assert_eq!(
            shell_words("curl -H 'A: b c' \"x\\\"y\" a\\ b \\\n  $'t\\tu'").unwrap(),
            vec!["curl", "-H", "A: b c", "x\"y", "a b", "t\tu"]
        );
        assert!(shell_words("curl 'open").is_err());
    }

    #[test]
    fn a_bearer_token_and_the_resource() {
        let c = parse(
            "curl -s -X GET 'https://api.example.com/v1/settings?view=full' \\\n  -H 'Authorization: Bearer tok-123' -H 'Accept: application/json'",
        )
        .unwrap();
        assert_eq!(c.base_url, "https://api.example.com");
        assert_eq!(c.path, "/v1/settings?view=full");
        assert_eq!(c.name, "api.example.com");
        assert_eq!(
            c.auth,
            AuthInput::Bearer {
                token: "tok-123".into()
            }
        );
        assert_eq!(c.method, WriteMethod::Put);
        assert_eq!(c.ignored.len(), 1, "{:?}", c.ignored);
    }

    #[test]
    fn basic_in_every_spelling_and_api_key_headers() {
        let b = AuthInput::Basic {
            user: "alice".into(),
            password: "pa:ss".into(),
        };
        assert_eq!(parse("curl -u alice:pa:ss http://h/x").unwrap().auth, b);
        assert_eq!(parse("curl --user=alice:pa:ss http://h/x").unwrap().auth, b);
        // base64("alice:pa:ss")
        assert_eq!(
            parse("curl -H 'Authorization: Basic YWxpY2U6cGE6c3M=' http://h/x")
                .unwrap()
                .auth,
            b
        );
        assert_eq!(
            parse("curl -H 'X-Api-Key: k1' http://h:8080/x")
                .unwrap()
                .auth,
            AuthInput::Header {
                name: "X-Api-Key".into(),
                value: "k1".into()
            }
        );
        assert_eq!(
            parse("curl http://h:8080/x").unwrap().base_url,
            "http://h:8080"
        );
    }

    #[test]
    fn patch_methods_and_what_is_left_out() {
        let c = parse(
            "curl -k -X PATCH -H 'Content-Type: application/merge-patch+json' -d '{\"a\":1}' https://h/x",
        )
        .unwrap();
        assert_eq!(c.method, WriteMethod::MergePatch);
        assert_eq!(c.ignored.len(), 2, "{:?}", c.ignored);
        let c = parse(
            "curl --request patch -H 'content-type: application/json-patch+json' https://h/x",
        )
        .unwrap();
        assert_eq!(c.method, WriteMethod::JsonPatch);
    }

    #[test]
    fn what_cannot_be_read_is_said() {
        assert!(parse("curl -H")
            .unwrap_err()
            .to_string()
            .contains("-H needs a value"));
        assert!(parse("curl -s").unwrap_err().to_string().contains("no URL"));
        assert!(parse("curl ftp://h/x")
            .unwrap_err()
            .to_string()
            .contains("http"));
        assert!(parse("curl -u alice http://h/x")
            .unwrap_err()
            .to_string()
            .contains("user:password"));
    }

    /// What a row expects: the import's parts, and words `ignored` must hold.
    struct Row {
        cmd: &'static str,
        base: &'static str,
        path: &'static str,
        auth: AuthInput,
        method: WriteMethod,
        said: &'static [&'static str],
    }

    fn bearer(t: &str) -> AuthInput {
        AuthInput::Bearer { token: t.into() }
    }

    fn basic(u: &str, p: &str) -> AuthInput {
        AuthInput::Basic {
            user: u.into(),
            password: p.into(),
        }
    }

    #[test]
    fn every_option_form_reads_as_curl_reads_it() {
        use AuthInput::None as N;
        use WriteMethod::{JsonPatch as J, MergePatch as M, Put as P};
        let rows = vec![
            // The method, in every form.
            ("curl -XPATCH https://h/x", "https://h", "/x", N, M, &[][..]),
            ("curl -X PATCH https://h/x", "https://h", "/x", N, M, &[]),
            ("curl --request=PATCH https://h/x", "https://h", "/x", N, M, &[]),
            ("curl --request PATCH https://h/x", "https://h", "/x", N, M, &[]),
            ("curl -sSLX PATCH https://h/x", "https://h", "/x", N, M, &[]),
            ("curl -sSLXPATCH https://h/x", "https://h", "/x", N, M, &[]),
            ("curl -sSk https://h/x", "https://h", "/x", N, P, &["-k"]),
            (
                "curl -XPATCH -H'Content-Type: application/json-patch+json' https://h/x",
                "https://h",
                "/x",
                N,
                J,
                &[],
            ),
            ("curl -X POST https://h/x", "https://h", "/x", N, P, &["-X POST"]),
            // Basic, in every form.
            ("curl -ualice:pa55 https://h/x", "https://h", "/x", basic("alice", "pa55"), P, &[]),
            ("curl -u alice:pa55 https://h/x", "https://h", "/x", basic("alice", "pa55"), P, &[]),
            ("curl --user=alice:pa55 https://h/x", "https://h", "/x", basic("alice", "pa55"), P, &[]),
            ("curl --user alice:pa55 https://h/x", "https://h", "/x", basic("alice", "pa55"), P, &[]),
            ("curl -su alice:pa55 https://h/x", "https://h", "/x", basic("alice", "pa55"), P, &[]),
            (
                "curl 'https://al%40ce:p%3Ass@h/x'",
                "https://h",
                "/x",
                basic("al@ce", "p:ss"),
                P,
                &[],
            ),
            // Headers, in every form.
            ("curl -H'Authorization: Bearer x' https://h/x", "https://h", "/x", bearer("x"), P, &[]),
            ("curl -H 'Authorization: Bearer x' https://h/x", "https://h", "/x", bearer("x"), P, &[]),
            (
                "curl '--header=Authorization: Bearer x' https://h/x",
                "https://h",
                "/x",
                bearer("x"),
                P,
                &[],
            ),
            (
                "curl --header 'Authorization: Bearer x' https://h/x",
                "https://h",
                "/x",
                bearer("x"),
                P,
                &[],
            ),
            ("curl --oauth2-bearer tok https://h/x", "https://h", "/x", bearer("tok"), P, &[]),
            ("curl --oauth2-bearer=tok https://h/x", "https://h", "/x", bearer("tok"), P, &[]),
            (
                "curl -u a:b -H 'Authorization: Bearer t' https://h/x",
                "https://h",
                "/x",
                bearer("t"),
                P,
                &["-u"],
            ),
            ("curl --digest -u a:b https://h/x", "https://h", "/x", N, P, &["--digest"]),
            // Proxies take their value and are said; the URL stays the URL.
            (
                "curl -x http://proxy:3128 -H 'Authorization: Bearer t' https://api.example.com/v1/x",
                "https://api.example.com",
                "/v1/x",
                bearer("t"),
                P,
                &["-x: the proxy"],
            ),
            ("curl -xhttp://proxy:3128 https://h/x", "https://h", "/x", N, P, &["-x"]),
            ("curl --proxy http://proxy:3128 https://h/x", "https://h", "/x", N, P, &["--proxy"]),
            ("curl --proxy=http://proxy:3128 https://h/x", "https://h", "/x", N, P, &["--proxy"]),
            ("curl --socks5 proxy:1080 https://h/x", "https://h", "/x", N, P, &["--socks5"]),
            ("curl --preproxy socks5://p:1 https://h/x", "https://h", "/x", N, P, &["--preproxy"]),
            ("curl -U u:p https://h/x", "https://h", "/x", N, P, &["-U: the proxy's credentials"]),
            ("curl --proxy-user u:p https://h/x", "https://h", "/x", N, P, &["--proxy-user"]),
            // Ends of options, programs, continuations.
            ("curl -s -- https://h/x", "https://h", "/x", N, P, &[]),
            ("curl.exe -X PATCH ^\n  -H \"Authorization: Bearer t\" ^\n  https://h/x", "https://h", "/x", bearer("t"), M, &[]),
            ("curl.exe -X PATCH `\n  -H \"Authorization: Bearer t\" `\r\n  https://h/x", "https://h", "/x", bearer("t"), M, &[]),
            ("/usr/bin/curl -X PATCH \\\n  https://h/x", "https://h", "/x", N, M, &[]),
            ("-X PATCH https://h/x", "https://h", "/x", N, M, &[]),
            ("$ curl -X PATCH https://h/x", "https://h", "/x", N, M, &[]),
            ("curl --url https://h/x", "https://h", "/x", N, P, &[]),
            ("curl --url=https://h/x", "https://h", "/x", N, P, &[]),
            // Bodies, cookies, certificates: their values taken, never the URL.
            ("curl -d@body.json https://h/x", "https://h", "/x", N, P, &["request body (-d)"]),
            ("curl --data '{}' https://h/x", "https://h", "/x", N, P, &["request body (--data)"]),
            ("curl -b sid=1 https://h/x", "https://h", "/x", N, P, &["-b: cookies"]),
            ("curl -E c.pem:pw https://h/x", "https://h", "/x", N, P, &["-E: client cert"]),
            ("curl -o out.json -m 5 https://h/x", "https://h", "/x", N, P, &["-o", "-m"]),
            // Options ifmatch does not know: said by name.
            ("curl --frobnicate v https://h/x", "https://h", "/x", N, P, &["--frobnicate and the word"]),
            ("curl --frobnicate=v https://h/x", "https://h", "/x", N, P, &["--frobnicate (an option"]),
            ("curl -W https://h/x", "https://h", "/x", N, P, &["-W (an option"]),
            ("curl https://h/x stray", "https://h", "/x", N, P, &["1 word that is neither"]),
            // Credentials in the query.
            (
                "curl 'https://h/x?access_token=abc&view=full'",
                "https://h",
                "/x?view=full",
                bearer("abc"),
                P,
                &["access_token (taken as the connection's bearer"],
            ),
            (
                "curl -H 'Authorization: Bearer t' 'https://h/x?access_token=abc'",
                "https://h",
                "/x",
                bearer("t"),
                P,
                &["the query parameter access_token (it holds a credential"],
            ),
            ("curl 'https://h/x?api_key=K&a=1'", "https://h", "/x?a=1", N, P, &["api_key"]),
            ("curl 'https://h/f?sv=2020&sig=S&se=2030'", "https://h", "/f?sv=2020&se=2030", N, P, &["sig"]),
            ("curl 'https://h/f?X-Amz-Signature=S&X-Amz-Date=1'", "https://h", "/f?X-Amz-Date=1", N, P, &["X-Amz-Signature"]),
            ("curl 'https://h/f?apiKey=S'", "https://h", "/f", N, P, &["apiKey"]),
            ("curl 'https://h/f?key=S'", "https://h", "/f", N, P, &["the query parameter key"]),
            ("curl -G -d api_key=K -d q=1 https://h/x", "https://h", "/x?q=1", N, P, &["api_key"]),
            ("curl --url-query api_key=K https://h/x", "https://h", "/x", N, P, &["api_key"]),
            ("curl -G --data-urlencode 'q=a b' https://h/x", "https://h", "/x?q=a%20b", N, P, &[]),
            // Not credentials: kept as they are.
            ("curl 'https://h/rest/v1/prefs?key=eq.theme'", "https://h", "/rest/v1/prefs?key=eq.theme", N, P, &[]),
            (
                "curl 'https://h/books?author=a&zipcode=1&pageToken=p'",
                "https://h",
                "/books?author=a&zipcode=1&pageToken=p",
                N,
                P,
                &[],
            ),
        ];
        for (cmd, base, path, auth, method, said) in rows {
            let row = Row {
                cmd,
                base,
                path,
                auth,
                method,
                said,
            };
            let c = parse(row.cmd).unwrap_or_else(|e| panic!("{}: {e}", row.cmd));
            assert_eq!(c.base_url, row.base, "{}", row.cmd);
            assert_eq!(c.path, row.path, "{}", row.cmd);
            assert_eq!(c.auth, row.auth, "{}", row.cmd);
            assert_eq!(c.method, row.method, "{}", row.cmd);
            for w in row.said {
                assert!(
                    c.ignored.iter().any(|i| i.contains(w)),
                    "{}: {w:?} not in {:?}",
                    row.cmd,
                    c.ignored
                );
            }
            if row.said.is_empty() {
                assert!(c.ignored.is_empty(), "{}: {:?}", row.cmd, c.ignored);
            }
        }
    }

    #[test]
    fn what_cannot_be_imported_is_an_error() {
        for (cmd, error) in [
            ("curl -H", "-H needs a value"),
            ("curl https://h/x -x", "-x needs a value"),
            (
                "curl https://h/x --oauth2-bearer",
                "--oauth2-bearer needs a value",
            ),
            (
                "curl https://h/x --proxy-user",
                "--proxy-user needs a value",
            ),
            ("curl https://h/x -sX", "-X needs a value"),
            ("curl -s", "no URL"),
            ("curl -x http://proxy:3128", "no URL"),
            ("curl api.example.com/x", "no http:// or https://"),
            ("curl https://a/x https://b/y", "2 URLs"),
            ("curl ftp://h/x", "http"),
            ("curl -u alice https://h/x", "user:password"),
            ("curl -H 'Authorization: Basic !!' https://h/x", "base64"),
            ("curl -H 'no colon' https://h/x", "Name: value"),
            ("curl 'https://h:99999/x'", "not valid"),
        ] {
            let e = parse(cmd).unwrap_err().to_string();
            assert!(e.contains(error), "{cmd}: {e}");
        }
    }

    #[test]
    fn no_error_and_no_word_holds_the_credential() {
        let s = "S3cr3t-Val";
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("alice:{s}"));
        let spellings = [
            s.to_string(),
            s.to_ascii_lowercase(),
            percent_encode(s),
            b64.clone(),
            base64::engine::general_purpose::STANDARD.encode(s),
        ];
        let commands = [
            "curl -u alice:SECRET https://h/x",
            "curl -ualice:SECRET https://h/x",
            "curl --user=alice:SECRET https://h/x",
            "curl --user alice:SECRET https://h/x",
            "curl -u SECRET https://h/x",
            "curl -uSECRET https://h/x",
            "curl -H 'Authorization: Bearer SECRET' https://h/x",
            "curl -H'Authorization: Bearer SECRET' https://h/x",
            "curl '--header=Authorization: Bearer SECRET' https://h/x",
            "curl -H 'Authorization: Basic B64' https://h/x",
            "curl -H 'Authorization: Basic SECRET' https://h/x",
            "curl -H 'Authorization: Token SECRET' https://h/x",
            "curl -H 'X-Api-Key: SECRET' https://h/x",
            "curl -H 'SECRET' https://h/x",
            "curl -H 'Cookie: sid=SECRET' https://h/x",
            "curl -H 'X-Other: SECRET' https://h/x",
            "curl -H 'Bearer SECRET: x' https://h/x -H 'Authorization: Bearer t'",
            "curl --oauth2-bearer SECRET https://h/x",
            "curl --oauth2-bearer=SECRET https://h/x",
            "curl --oauth2-bearer SECRET",
            "curl -x http://u:SECRET@proxy:3128 https://h/x",
            "curl -x http://u:SECRET@proxy:3128",
            "curl -U u:SECRET https://h/x",
            "curl --proxy-user=u:SECRET https://h/x",
            "curl --socks5 u:SECRET@p:1080 https://h/x",
            "curl https://alice:SECRET@h/x",
            "curl -H 'Authorization: Bearer t' https://alice:SECRET@h/x",
            "curl 'https://h/x?access_token=SECRET'",
            "curl -u a:b 'https://h/x?access_token=SECRET'",
            "curl 'https://h/x?api_key=SECRET'",
            "curl 'https://h/x?sig=SECRET&sv=1'",
            "curl 'https://h/x?X-Amz-Signature=SECRET'",
            "curl 'https://h/x?key=SECRET'",
            "curl 'https://h/x?client_secret=SECRET'",
            "curl 'https://h/x?SECRETtoken'",
            "curl 'https://h:SECRET/x'",
            "curl 'ftp://u:SECRET@h/x'",
            "curl 'https://h/x?token=SECRET' 'https://h/y?token=SECRET'",
            "curl 'h/x?token=SECRET'",
            "curl -G -d api_key=SECRET https://h/x",
            "curl -G --data-urlencode password=SECRET https://h/x",
            "curl --url-query token=SECRET https://h/x",
            "curl -d password=SECRET https://h/x",
            "curl -b sid=SECRET https://h/x",
            "curl -E cert.pem:SECRET https://h/x",
            "curl --pass SECRET https://h/x",
            "curl --tlspassword SECRET https://h/x",
            "curl --frobnicate SECRET https://h/x",
            "curl --frobnicate=SECRET https://h/x",
            "curl '--Authorization: Bearer SECRET' https://h/x",
            "curl -W SECRET https://h/x",
            "curl https://h/x SECRET",
            "curl --digest -u alice:SECRET https://h/x",
            "curl --aws-sigv4 aws:amz:us-east-1:s3 -u AKID:SECRET https://h/x",
            "curl -u alice:SECRET -H 'Authorization: Bearer t' https://h/x",
        ];
        for template in commands {
            let cmd = template.replace("SECRET", s).replace("B64", &b64);
            let words = match parse(&cmd) {
                Ok(c) => {
                    let mut w = c.ignored.clone();
                    w.extend([c.name, c.base_url, c.path]);
                    w
                }
                Err(e) => vec![e.to_string()],
            };
            for w in &words {
                for sp in &spellings {
                    assert!(
                        !w.contains(sp.as_str()),
                        "{cmd}: {w:?} shows the credential"
                    );
                }
            }
        }
    }

    #[test]
    fn credential_looking_parameters() {
        for (name, value, secret) in [
            ("access_token", "x", true),
            ("api_key", "x", true),
            ("apiKey", "x", true),
            ("api-key", "x", true),
            ("token", "x", true),
            ("auth_token", "x", true),
            ("authtoken", "x", true),
            ("sig", "x", true),
            ("X-Amz-Signature", "x", true),
            ("X-Amz-Credential", "x", true),
            ("X-Amz-Security-Token", "x", true),
            ("AWSAccessKeyId", "x", true),
            ("client_secret", "x", true),
            ("password", "x", true),
            ("key", "AIza123", true),
            ("key", "eq.theme", false),
            ("key", "in.(a,b)", false),
            ("author", "a", false),
            ("zipcode", "1", false),
            ("country_code", "1", false),
            ("pageToken", "p", false),
            ("next_page_token", "p", false),
            ("monkey", "x", false),
            ("keyword", "x", false),
            ("view", "full", false),
        ] {
            assert_eq!(is_credential_param(name, value), secret, "{name}={value}");
        }
        assert!(credential_in_target("/x?api_key=1").is_some());
        assert!(credential_in_target("https://u:p@h/x").is_some());
        assert!(credential_in_target("/rest/prefs?key=eq.theme&author=a").is_none());
        assert!(credential_in_target("https://h/x?view=full#token=1").is_none());
    }
}
