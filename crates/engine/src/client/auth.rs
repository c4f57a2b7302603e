//! How requests authenticate: the secret type that never prints, the credentials of a
//! connection, the one function that reads them from the environment, and the one redaction of
//! a connection's secret from any text (`Auth::redact`, `Auth::excerpt`).
//!
//! Must never: let a text that server words or request data reach (an error, a warning, a
//! challenge, a trail record) keep the secret in any spelling, or cut a text before redacting it.

use std::fmt;

/// A secret value: never printed by Debug or Display.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself, for the one place that sends it (a request header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How requests authenticate. Attached only to requests for the connection's own origin.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    #[default]
    /// No credentials.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
    /// `Authorization: Basic` with a user name and password.
    Basic {
        /// The user name (not secret; shown in previews).
        user: String,
        /// The password.
        password: Secret,
    },
    /// A custom header carrying an API key (`X-Api-Key: <key>`).
    Header {
        /// The header's name.
        name: String,
        /// The header's value.
        value: Secret,
    },
}

/// Why the credentials in the environment cannot be used (nothing is sent with them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The variable's value is not UTF-8 text.
    #[error("${0} is not valid UTF-8 text, so it cannot go into a header; nothing was sent")]
    NotText(&'static str),
    /// The value holds a line break or another control character (a header cannot).
    #[error("${0} holds a line break or another control character (a copy-paste accident?); nothing was sent")]
    ControlCharacter(&'static str),
    /// One half of a pair is set without the other.
    #[error("${0} is set but ${1} is not; set both, or neither")]
    Incomplete(&'static str, &'static str),
}

impl Auth {
    /// Credentials from the environment — the one place both the CLI and the desktop read them
    /// (arguments show up in `ps` and shell history): `IFMATCH_TOKEN` (bearer), else
    /// `IFMATCH_USER` + `IFMATCH_PASSWORD` (basic), else `IFMATCH_AUTH_HEADER` +
    /// `IFMATCH_AUTH_VALUE` (a custom header). Empty variables count as unset.
    pub fn from_env() -> Result<Auth, CredentialsError> {
        Auth::from_vars(|k| std::env::var_os(k))
    }

    /// `from_env` over any source of variables (tests).
    pub fn from_vars(
        get: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Auth, CredentialsError> {
        let var = |k: &'static str| -> Result<Option<String>, CredentialsError> {
            match get(k) {
                None => Ok(None),
                Some(v) if v.is_empty() => Ok(None),
                Some(v) => {
                    let s = v.into_string().map_err(|_| CredentialsError::NotText(k))?;
                    if s.chars().any(|c| c.is_control()) {
                        return Err(CredentialsError::ControlCharacter(k));
                    }
                    Ok(Some(s))
                }
            }
        };
        if let Some(t) = var("IFMATCH_TOKEN")? {
            return Ok(Auth::Bearer(Secret::new(t)));
        }
        let pair = |a: &'static str,
                    b: &'static str|
         -> Result<Option<(String, String)>, CredentialsError> {
            match (var(a)?, var(b)?) {
                (Some(x), Some(y)) => Ok(Some((x, y))),
                (None, None) => Ok(None),
                (Some(_), None) => Err(CredentialsError::Incomplete(a, b)),
                (None, Some(_)) => Err(CredentialsError::Incomplete(b, a)),
            }
        };
        if let Some((user, p)) = pair("IFMATCH_USER", "IFMATCH_PASSWORD")? {
            return Ok(Auth::Basic {
                user,
                password: Secret::new(p),
            });
        }
        if let Some((name, v)) = pair("IFMATCH_AUTH_HEADER", "IFMATCH_AUTH_VALUE")? {
            return Ok(Auth::Header {
                name,
                value: Secret::new(v),
            });
        }
        Ok(Auth::None)
    }

    /// The credentials header as a request carries it, with the secret masked (`••••••`): for
    /// showing a request, never for sending one.
    pub fn masked_header(&self) -> Option<(String, String)> {
        match self {
            Auth::None => None,
            Auth::Bearer(_) => Some(("Authorization".into(), "Bearer ••••••".into())),
            Auth::Basic { user, .. } => {
                Some(("Authorization".into(), format!("Basic ({user}:••••••)")))
            }
            Auth::Header { name, .. } => Some((name.clone(), "••••••".into())),
        }
    }
}

/// Adds the credentials to a request (only ever called for the connection's own origin).
pub(super) fn authorize(req: reqwest::RequestBuilder, auth: &Auth) -> reqwest::RequestBuilder {
    match auth {
        Auth::None => req,
        Auth::Bearer(t) => req.bearer_auth(t.expose()),
        Auth::Basic { user, password } => req.basic_auth(user, Some(password.expose())),
        Auth::Header { name, value } => req.header(name.as_str(), value.expose()),
    }
}

/// The mark that stands where a secret was, in every text the tool prints or keeps.
pub const REDACTED: &str = "••••••";

/// The shortest run of a secret's characters that is blanked out on its own when only part of the
/// secret was echoed (a server that cut it, a text that ends inside it): 8 characters, or the
/// whole secret when it is shorter. Eight characters of a token are enough to recognise it (or to
/// find it in another log) and far more than the four that consoles show on purpose; a shorter
/// run is left, so that ordinary words are not blanked out by coincidence.
pub const FRAGMENT_CHARS: usize = 8;

impl Auth {
    /// Every value of this connection that is secret, decoded: the secret itself and the base64
    /// texts that carry it (the basic header's `user:password`, and the bare value, which some
    /// servers echo base64-encoded). Each is looked for in every spelling (`redact`).
    fn secret_forms(&self) -> Vec<String> {
        // The value itself; its base64 as the start of an encoded text (padded, and URL-safe);
        // and the characters that encode only the value when it sits 1 or 2 bytes past a
        // 3-byte boundary of a longer encoded text (a request dump, a JSON document).
        // (Those last are kept only from 8 characters on: a shorter run of base64 letters
        // would turn up in ordinary words.)
        let one = |s: &str| {
            let b = s.as_bytes();
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            // As is, in another case (host names and certificate names are lower-cased on the
            // way, some servers shout), hex in either case, base64.
            let mut v = vec![
                s.to_string(),
                s.to_lowercase(),
                s.to_uppercase(),
                hex.to_uppercase(),
                hex,
                base64(b),
                base64url(b),
            ];
            v.extend(
                [base64_inside(b, 1), base64_inside(b, 2)]
                    .into_iter()
                    .filter(|f| f.len() >= FRAGMENT_CHARS),
            );
            v
        };
        let forms = match self {
            Auth::None => vec![],
            Auth::Bearer(t) => one(t.expose()),
            Auth::Basic { user, password } => {
                let mut v = one(password.expose());
                let pair = format!("{user}:{}", password.expose());
                v.push(base64(pair.as_bytes()));
                v.push(base64url(pair.as_bytes()));
                v.extend(
                    [
                        base64_inside(pair.as_bytes(), 1),
                        base64_inside(pair.as_bytes(), 2),
                    ]
                    .into_iter()
                    .filter(|f| f.len() >= FRAGMENT_CHARS),
                );
                // The whole header value encoded once more (a server that base64s the request
                // headers it echoes): "Basic <base64 of user:password>" in base64.
                let header = format!("Basic {}", base64(pair.as_bytes()));
                v.extend(one(&header).into_iter().skip(1));
                v
            }
            Auth::Header { value, .. } => {
                let mut v = one(value.expose());
                // A Basic header given as a custom credential (a key as the user name with no
                // password, `-u KEY:`): the user name and password inside are secrets too.
                if let Some(pair) = value
                    .expose()
                    .strip_prefix("Basic ")
                    .and_then(|b| unbase64(b.trim()))
                {
                    for part in pair.split(':').filter(|p| !p.is_empty()) {
                        v.extend(one(part));
                    }
                }
                v
            }
        };
        // A one- or two-character secret would blank out ordinary words; such a secret is not
        // protected by redaction anyway.
        let mut forms: Vec<String> = forms
            .into_iter()
            .filter(|f| f.chars().count() >= 3)
            .collect();
        forms.sort();
        forms.dedup();
        forms
    }

    /// `text` (words a server sent: an error body, a challenge, a `Location`; or a record of
    /// ours: a URL, a trail entry) with this connection's secret replaced by [`REDACTED`]
    /// wherever it occurs, in any spelling and any mix of spellings: as is, JSON-escaped
    /// (`\/`, `\"`, `\\`, `\u0074`, surrogate pairs, doubly escaped), Rust- or Python-escaped
    /// (`\u{74}`, `\x74`), percent-encoded (either case of hex, `+` for a space, `%252F` encoded
    /// twice), HTML-escaped (`&amp;`, `&#x2F;`, `&#47;`), or base64 (see `secret_forms`). A run
    /// of at least [`FRAGMENT_CHARS`] of the secret's characters is blanked out too, so a secret
    /// the server cut short does not show its first half.
    pub fn redact(&self, text: &str) -> String {
        let forms = self.secret_forms();
        if forms.is_empty() {
            return text.to_string();
        }
        let mut spans: Vec<(usize, usize)> = vec![];
        for f in &forms {
            let chars: Vec<char> = f.chars().collect();
            find_spelled(text.as_bytes(), &chars, &mut spans);
        }
        if spans.is_empty() {
            return text.to_string();
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        let mut i = 0;
        while i < spans.len() {
            let (start, mut end) = spans[i];
            i += 1;
            // Overlapping or touching spans become one mark.
            while i < spans.len() && spans[i].0 <= end {
                end = end.max(spans[i].1);
                i += 1;
            }
            if start < at {
                // Inside the previous mark already (cannot happen once merged; kept safe).
                at = at.max(end);
                continue;
            }
            out.push_str(&text[at..start]);
            out.push_str(REDACTED);
            at = end;
        }
        out.push_str(&text[at..]);
        out
    }

    /// At most `max_chars` characters of `text` (plus the rest of a mark the limit would cut),
    /// redacted first and cut after: a secret that straddles the limit is blanked out whole,
    /// never shown in part, and the cut never lands inside the mark. The one way server words
    /// are shortened for an error or a record.
    pub fn excerpt(&self, text: &str, max_chars: usize) -> String {
        // Only what can be shown is redacted (a 64 MB error body is not scanned whole): the
        // first `max_chars` characters and enough after them to hold any spelling of the secret
        // that starts before the limit (the longest form, each character spelled as up to 12
        // bytes: a doubly escaped `\\u0074`, `%2525XX`).
        let longest = self
            .secret_forms()
            .iter()
            .map(|f| f.chars().count())
            .max()
            .unwrap_or(0);
        let window = max_chars + 12 * longest + 16;
        let end = text
            .char_indices()
            .nth(window)
            .map_or(text.len(), |(i, _)| i);
        cut(&self.redact(&text[..end]), max_chars)
    }
}

/// `text` cut after `max_chars` characters, never inside a [`REDACTED`] mark (a mark the limit
/// falls into is kept whole).
pub fn cut(text: &str, max_chars: usize) -> String {
    let Some((at, _)) = text.char_indices().nth(max_chars) else {
        return text.to_string();
    };
    let mut end = at;
    for (p, m) in text.match_indices(REDACTED) {
        if p >= at {
            break;
        }
        if p + m.len() > at {
            end = p + m.len();
            break;
        }
    }
    text[..end].to_string()
}

/// Adds to `spans` the byte ranges of `t` that spell a run of `secret`'s characters long enough
/// to blank out: the whole secret, or at least `FRAGMENT_CHARS` consecutive characters of it.
/// Every start is tried (not only after the previous match), so a match that began early in
/// surrounding text cannot hide the one that covers the secret.
fn find_spelled(t: &[u8], secret: &[char], spans: &mut Vec<(usize, usize)>) {
    let len = secret.len();
    let need = len.min(FRAGMENT_CHARS);
    let last_start = len - need;
    // The secret's characters by their first UTF-8 byte: where a raw spelling can start.
    let mut by_first: Vec<Vec<usize>> = vec![vec![]; 256];
    for (k, c) in secret.iter().enumerate().take(last_start + 1) {
        let mut buf = [0u8; 4];
        by_first[c.encode_utf8(&mut buf).as_bytes()[0] as usize].push(k);
    }
    let mut starts: Vec<usize> = Vec::new();
    let mut units: Vec<(char, usize)> = Vec::new();
    let mut states: Vec<usize> = Vec::new();
    let mut next: Vec<usize> = Vec::new();
    // Where each character of the secret starts in its UTF-8, and where the next byte that can
    // begin an escaped spelling is in `t`: a start whose first `need` characters lie in plain
    // text can only be a raw spelling, checked by comparing bytes before any decoding.
    let utf8: String = secret.iter().collect();
    let mut offsets: Vec<usize> = utf8.char_indices().map(|(o, _)| o).collect();
    offsets.push(utf8.len());
    let mut next_escape = vec![t.len(); t.len() + 1];
    for j in (0..t.len()).rev() {
        next_escape[j] = if is_escape_start(t[j]) {
            j
        } else {
            next_escape[j + 1]
        };
    }
    let mut i = 0;
    while i < t.len() {
        let b = t[i];
        // Where the furthest match starting here ends: the next start is tried there (every
        // byte up to it is blanked out already). A text that repeats the secret is then read
        // once, not once per character of the secret at every byte.
        let mut furthest = i;
        starts.clear();
        if is_escape_start(b) {
            units.clear();
            decode_at(t, i, 0, &mut units);
            for (k0, s) in secret.iter().enumerate().take(last_start + 1) {
                if units.iter().any(|(c, _)| c == s) {
                    starts.push(k0);
                }
            }
        } else {
            starts.extend_from_slice(&by_first[b as usize]);
        }
        for &k0 in &starts {
            let raw = &utf8.as_bytes()[offsets[k0]..offsets[k0 + need]];
            if next_escape[i] >= i + raw.len() && !t[i..].starts_with(raw) {
                continue;
            }
            states.clear();
            states.push(i);
            let mut k = k0;
            let mut end = i;
            while k < len {
                next.clear();
                for &p in &states {
                    units.clear();
                    decode_at(t, p, 0, &mut units);
                    next.extend(
                        units
                            .iter()
                            .filter(|(c, _)| *c == secret[k])
                            .map(|(_, e)| *e),
                    );
                }
                if next.is_empty() {
                    break;
                }
                next.sort_unstable();
                next.dedup();
                std::mem::swap(&mut states, &mut next);
                end = *states.last().unwrap_or(&end);
                k += 1;
            }
            if k - k0 >= need && end > i {
                spans.push((i, end));
                furthest = furthest.max(end);
                if k0 == 0 && k == len {
                    // The whole secret from its first character: no other start here reaches
                    // further (starts are tried from the secret's first character on).
                    break;
                }
            }
        }
        i = if furthest > i { furthest } else { i + 1 };
    }
}

/// Whether a spelling other than the character itself can start with byte `b`.
fn is_escape_start(b: u8) -> bool {
    matches!(b, b'\\' | b'%' | b'&' | b'+')
}

/// Every character that a spelling starting at byte `i` of `t` can stand for, with the byte
/// offset where that spelling ends: the character itself, `+` (a space), `%XX` (one UTF-8
/// character's bytes, each possibly encoded again as `%25XX`), `\/` `\"` `\\` `\'` `\uXXXX`
/// (surrogate pairs too) `\u{X…}` `\xXX` (and any of them behind more backslashes), and the
/// HTML entities (`&amp;`, `&#x2F;`, `&#47;`, …, escaped twice too).
fn decode_at(t: &[u8], i: usize, depth: u8, out: &mut Vec<(char, usize)>) {
    let Some(&first) = t.get(i) else {
        return;
    };
    let width = match first {
        0x00..=0x7f => 1,
        0x80..=0xbf => 0,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    };
    if width > 0 {
        if let Some(c) = t
            .get(i..i + width)
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|s| s.chars().next())
        {
            out.push((c, i + width));
        }
    }
    match first {
        b'+' => out.push((' ', i + 1)),
        b'%' => percent_chars(t, i, out),
        b'\\' => {
            let Some(&e) = t.get(i + 1) else {
                return;
            };
            if matches!(e, b'/' | b'"' | b'\\' | b'\'') {
                out.push((char::from(e), i + 2));
            }
            if e == b'u' {
                if let Some((v, q)) = json_unicode(t, i) {
                    out.push((v, q));
                }
                if t.get(i + 2) == Some(&b'{') {
                    let rest = &t[i..t.len().min(i + 14)];
                    if let Some(close) = rest.iter().position(|&x| x == b'}') {
                        if let Some(v) = rest
                            .get(3..close)
                            .and_then(hex_value)
                            .and_then(char::from_u32)
                        {
                            out.push((v, i + close + 1));
                        }
                    }
                }
            }
            if e == b'x' {
                if let Some(v) = t
                    .get(i + 2..i + 4)
                    .and_then(hex_value)
                    .and_then(char::from_u32)
                {
                    out.push((v, i + 4));
                }
            }
            // Escaped more than once (JSON inside JSON): skip one backslash.
            if e == b'\\' && depth < 4 {
                decode_at(t, i + 1, depth + 1, out);
            }
        }
        b'&' => {
            let rest = &t[i..t.len().min(i + 12)];
            let Some(semi) = rest.iter().position(|&x| x == b';') else {
                return;
            };
            let name = &rest[1..semi];
            let v = match name {
                b"amp" => Some('&'),
                b"lt" => Some('<'),
                b"gt" => Some('>'),
                b"quot" => Some('"'),
                b"apos" => Some('\''),
                b"sol" => Some('/'),
                b"nbsp" => Some('\u{a0}'),
                [b'#', b'x' | b'X', hex @ ..] => hex_value(hex).and_then(char::from_u32),
                [b'#', dec @ ..] if !dec.is_empty() && dec.iter().all(u8::is_ascii_digit) => {
                    std::str::from_utf8(dec)
                        .ok()
                        .and_then(|d| d.parse::<u32>().ok())
                        .and_then(char::from_u32)
                }
                _ => None,
            };
            if let Some(v) = v {
                out.push((v, i + semi + 1));
            }
            // `&amp;#x2F;`: escaped for HTML twice (the `&` of an entity written as `&amp;`).
            if name == b"amp" && depth < 4 {
                let after = i + semi + 1;
                let mut inner = Vec::with_capacity(13);
                inner.push(b'&');
                inner.extend_from_slice(&t[after..t.len().min(after + 12)]);
                let mut found = vec![];
                decode_at(&inner, 0, depth + 1, &mut found);
                for (c, e) in found {
                    if e > 1 {
                        out.push((c, after + e - 1));
                    }
                }
            }
        }
        _ => {}
    }
}

/// The characters a run of `%XX` at `i` can stand for (one UTF-8 character, each byte possibly
/// encoded more than once), with where each ends.
fn percent_chars(t: &[u8], i: usize, out: &mut Vec<(char, usize)>) {
    let mut seqs: Vec<(Vec<u8>, usize)> = vec![];
    percent_bytes(t, i, &mut |v, q| seqs.push((vec![v], q)));
    for (bytes, q) in seqs {
        let lead = bytes[0];
        let width = match lead {
            0x00..=0x7f => 1,
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf7 => 4,
            _ => continue,
        };
        let mut partial = vec![(bytes, q)];
        for _ in 1..width {
            let mut longer = vec![];
            for (b, p) in &partial {
                percent_bytes(t, *p, &mut |v, r| {
                    if v & 0xc0 == 0x80 {
                        let mut b = b.clone();
                        b.push(v);
                        longer.push((b, r));
                    }
                });
            }
            partial = longer;
        }
        for (b, p) in partial {
            if let Some(c) = std::str::from_utf8(&b).ok().and_then(|s| s.chars().next()) {
                out.push((c, p));
            }
        }
    }
}

/// Every byte a `%XX` at `p` can stand for, with where it ends: `%XX` itself, and for `%25XX`
/// (`%2525XX`, …) also the byte `XX` of an encoding that was encoded again.
fn percent_bytes(t: &[u8], p: usize, found: &mut impl FnMut(u8, usize)) {
    if t.get(p) != Some(&b'%') {
        return;
    }
    let mut q = p + 1;
    while let Some(v) = t.get(q..q + 2).and_then(hex_value) {
        found(v as u8, q + 2);
        if v != 0x25 {
            return;
        }
        q += 2;
    }
}

/// A `\uXXXX` escape at `i` (with its low surrogate when it is a high one): the character and
/// where it ends.
fn json_unicode(t: &[u8], i: usize) -> Option<(char, usize)> {
    let unit = |p: usize| -> Option<u32> {
        if t.get(p) != Some(&b'\\') || !matches!(t.get(p + 1), Some(b'u' | b'U')) {
            return None;
        }
        hex_value(t.get(p + 2..p + 6)?)
    };
    let hi = unit(i)?;
    if (0xD800..0xDC00).contains(&hi) {
        let lo = unit(i + 6)?;
        if !(0xDC00..0xE000).contains(&lo) {
            return None;
        }
        let v = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
        return char::from_u32(v).map(|c| (c, i + 12));
    }
    char::from_u32(hi).map(|c| (c, i + 6))
}

/// The value of 1 to 8 hex digits (either case).
fn hex_value(h: &[u8]) -> Option<u32> {
    if h.is_empty() || h.len() > 8 {
        return None;
    }
    let mut v = 0u32;
    for &d in h {
        v = v * 16 + char::from(d).to_digit(16)?;
    }
    Some(v)
}

/// Standard base64 (padding optional) decoded to UTF-8 text; None when it is not that.
fn unbase64(s: &str) -> Option<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = vec![];
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Standard base64 with padding (RFC 4648 §4), as the basic-auth header carries it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The base64 characters that depend on `bytes` alone when they are encoded `offset` bytes past
/// a 3-byte boundary inside a longer text: the characters that also carry bits of the bytes
/// before or after are left out.
fn base64_inside(bytes: &[u8], offset: usize) -> String {
    let mut padded = vec![0u8; offset];
    padded.extend_from_slice(bytes);
    let full = base64(&padded);
    let full = full.trim_end_matches('=');
    // Characters carrying a bit of the bytes before: 2 after one such byte, 3 after two.
    let skip = [0, 2, 3][offset % 3];
    // The last character carries bits of what follows unless the text ends on a boundary.
    let drop = usize::from(!(offset + bytes.len()).is_multiple_of(3));
    let end = full.len().saturating_sub(drop);
    full.get(skip..end).unwrap_or_default().to_string()
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), as tokens travel in URLs.
fn base64url(bytes: &[u8]) -> String {
    base64(bytes)
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_key_inside_a_basic_header_credential_is_redacted() {
        let key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
        let a = Auth::Header {
            name: "Authorization".into(),
            value: Secret::new(format!("Basic {}", base64(format!("{key}:").as_bytes()))),
        };
        assert_eq!(unbase64(&base64(b"alice:pw")).as_deref(), Some("alice:pw"));
        let r = a.redact(&format!("invalid key {key} given"));
        assert_eq!(r, format!("invalid key {REDACTED} given"));
    }

    #[test]
    fn hex_and_another_case_are_redacted() {
        let a = Auth::Bearer(Secret::new("Zq8RfT2mWx9LkP4vNb7H"));
        let hex: String = "Zq8RfT2mWx9LkP4vNb7H"
            .bytes()
            .map(|x| format!("{x:02x}"))
            .collect();
        for echoed in [
            hex.clone(),
            hex.to_uppercase(),
            "zq8rft2mwx9lkp4vnb7h".to_string(),
            "ZQ8RFT2MWX9LKP4VNB7H".to_string(),
        ] {
            let r = a.redact(&format!("error: {echoed}."));
            assert_eq!(r, format!("error: {REDACTED}."), "{echoed}");
        }
    }

    #[test]
    fn a_body_repeating_the_secret_is_read_once() {
        // A server echoing the token a hundred thousand times: every copy blanked, as one mark,
        // and the error excerpt reads only what it shows (this took minutes when every start of
        // every copy was walked).
        let tok = "a".repeat(64);
        let a = Auth::Bearer(Secret::new(tok.clone()));
        let body = format!("echo {} end", tok.repeat(16_000));
        assert_eq!(a.redact(&body), format!("echo {REDACTED} end"));
        let e = a.excerpt(&body, 300);
        assert!(e.starts_with("echo ") && !e.contains("aaaaaaaa"), "{e}");
    }

    #[test]
    fn a_basic_header_encoded_once_more_is_redacted() {
        let basic = Auth::Basic {
            user: "alice".into(),
            password: Secret::new("hunter2pass"),
        };
        let header = format!("Basic {}", base64(b"alice:hunter2pass"));
        for pad in ["", "x", "xy"] {
            let echoed = format!("headers: {}|", base64(format!("{pad}{header}").as_bytes()));
            let r = basic.redact(&echoed);
            assert!(
                !r.contains(&base64(header.as_bytes())[4..16]),
                "{pad:?}: {r}"
            );
            assert!(!r.contains("YWxpY2U6aHVudGVyMnBhc3M"), "{r}");
        }
    }

    use super::*;

    #[test]
    fn echoed_secrets_are_redacted_in_every_form() {
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(base64(b"ab"), "YWI=");
        let basic = Auth::Basic {
            user: "Aladdin".into(),
            password: Secret::new("open sesame"),
        };
        let echoed =
            "bad header Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ== (pw open sesame)";
        let r = basic.redact(echoed);
        assert!(!r.contains("open sesame") && !r.contains("QWxhZGRp"), "{r}");
        let bearer = Auth::Bearer(Secret::new("tok-123"));
        assert_eq!(
            bearer.redact("token tok-123 expired"),
            "token •••••• expired"
        );
        assert_eq!(Auth::None.redact("nothing to hide"), "nothing to hide");
    }

    fn bearer(t: &str) -> Auth {
        Auth::Bearer(Secret::new(t))
    }

    /// Every spelling a server was seen to echo, alone and mixed, is blanked out and the words
    /// around it are kept.
    #[test]
    fn echoed_spellings_are_redacted() {
        let a = bearer("tok/abc\"def+g h&i");
        for echoed in [
            r#"tok/abc"def+g h&i"#,
            r#"tok\/abc\"def+g h&i"#,
            r#"\u0074ok\/abc\u0022def\u002bg\u0020h\u0026i"#,
            r#"\u0074\u006F\u006b/abc\"def+g h&i"#,
            r#"tok\\\/abc\\\"def+g h&i"#,
            "tok%2Fabc%22def%2Bg+h%26i",
            "tok%2fabc%22def%2bg%20h%26i",
            "tok%252Fabc%2522def%252Bg%2520h%2526i",
            "tok&#x2F;abc&quot;def+g h&amp;i",
            "tok&#47;abc&#34;def&#X2b;g h&amp;i",
            "tok&amp;#x2F;abc&amp;quot;def+g h&amp;amp;i",
            r#"tok\u{2f}abc\x22def+g h&i"#,
        ] {
            let text = format!("before {echoed} after");
            assert_eq!(a.redact(&text), "before •••••• after", "{echoed}");
        }
        // Base64 of the bare token (and URL-safe base64 without padding).
        let t = "ghp_16C7e42F292c6912E7710c838347Ae178B4a";
        let b = bearer(t);
        for echoed in [base64(t.as_bytes()), base64url(t.as_bytes())] {
            assert_eq!(b.redact(&format!("x {echoed} y")), "x •••••• y", "{echoed}");
        }
        // The token's base64 inside a longer encoded text, at each alignment.
        for before in ["", "x", "xy", "{\"t\":\""] {
            let blob = base64(format!("{before}{t}\"}}").as_bytes());
            let r = b.redact(&format!("dump {blob} end"));
            assert!(r.contains(REDACTED), "{before:?}: {r}");
            // Around the mark only what encodes the bytes before and after (and one character
            // shared with the token at each end) is left.
            let (left, right) = r.split_once(REDACTED).unwrap();
            let left = left.trim_start_matches("dump ");
            let right = right.trim_end_matches(" end");
            assert!(left.len() <= before.len() * 4 / 3 + 2, "{before:?}: {r}");
            assert!(right.len() <= 8, "{before:?}: {r}");
        }
        // The basic password in any spelling, and the header's base64.
        let basic = Auth::Basic {
            user: "alice".into(),
            password: Secret::new("pa/ss\"wörd"),
        };
        for echoed in [
            r#"pa\/ss\"w\u00f6rd"#.to_string(),
            "pa%2Fss%22w%C3%B6rd".to_string(),
            base64(b"alice:pa/ss\"w\xc3\xb6rd"),
            base64("alice:pa/ss\"wörd".as_bytes()),
        ] {
            let r = basic.redact(&format!("[{echoed}]"));
            assert_eq!(r, "[••••••]", "{echoed}");
        }
        // A custom header's value, the same way.
        let h = Auth::Header {
            name: "X-Api-Key".into(),
            value: Secret::new("key/123 456"),
        };
        for echoed in [
            "key/123 456",
            r#"key\/123 456"#,
            "key%2F123+456",
            "key&#x2f;123&#32;456",
        ] {
            assert_eq!(h.redact(&format!("<{echoed}>")), "<••••••>", "{echoed}");
        }
        // Unrelated words stay, and no redaction without credentials.
        assert_eq!(a.redact("tokens expire; abc"), "tokens expire; abc");
        // A short secret's base64 at an offset is a few letters: not looked for.
        let short = bearer("abcd");
        assert_eq!(short.redact("FiY2 and hYmNk"), "FiY2 and hYmNk");
    }

    /// A token echoed after padding is redacted before the excerpt cuts, so no part of it shows
    /// wherever the limit falls, and the cut never lands inside the mark.
    #[test]
    fn excerpts_redact_first_and_never_cut_a_mark() {
        let token = "s3cr3t-T0ken-0123456789";
        let a = bearer(token);
        for pad in 150..220 {
            let text = format!("{}{token} trailing words", "x".repeat(pad));
            let e = a.excerpt(&text, 200);
            assert!(!e.contains("s3cr3t"), "pad {pad}: {e}");
            assert!(e.starts_with(&"x".repeat(pad.min(200))), "pad {pad}: {e}");
            let rest = &e[pad.min(200)..];
            assert!(
                rest.is_empty() || rest.starts_with(REDACTED),
                "pad {pad}: the mark is whole: {e}"
            );
        }
        assert_eq!(cut("ab••••••cd", 4), "ab••••••");
        assert_eq!(cut("ab••••••cd", 2), "ab");
        assert_eq!(cut("ab••••••cd", 9), "ab••••••c");
        assert_eq!(cut("short", 200), "short");
    }

    /// A secret the server itself cut short: a run of 8 of its characters is blanked out, a
    /// shorter one (a console's last four) is not.
    #[test]
    fn fragments_of_eight_characters_are_redacted() {
        let a = bearer("abcdefghijklmnopqrstuvwxyz0123456789");
        assert_eq!(
            a.redact("token abcdefghij... invalid"),
            "token ••••••... invalid"
        );
        assert_eq!(a.redact("token …6789 invalid"), "token …6789 invalid");
        assert_eq!(a.redact("see klmnopqr"), "see ••••••");
        assert_eq!(a.redact("see klmnopq"), "see klmnopq");
        // A secret shorter than 8 characters only whole.
        let s = bearer("t0k3n!");
        assert_eq!(s.redact("t0k3n and t0k3n!"), "t0k3n and ••••••");
    }
}
