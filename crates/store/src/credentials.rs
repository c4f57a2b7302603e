//! Which parts of a resource's address carry a credential: user info, and query parameters
//! whose names say key, token, secret, signature … (`api_key`, `X-Amz-Signature`, a bare `key`
//! unless its value is a PostgREST filter) but not paging cursors (`page_token`). Used where an
//! address is kept (recent resources are not stored with one) and by the curl import.
//!
//! Owns: the credential-in-an-address rules. Must never: keep or print a value it finds.

/// Percent-decoding (and `+` as a space when `form`), for query names and values.
pub(crate) fn percent_decode(s: &str, form: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if form => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The words of a parameter name: split at punctuation and camelCase (`AWSAccessKeyId` →
/// aws, access, key, id), lower-case.
fn name_words(name: &str) -> Vec<String> {
    let mut words = vec![];
    let mut cur = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            continue;
        }
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1);
        let boundary = c.is_uppercase()
            && prev.is_some_and(|p| {
                p.is_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_uppercase() && next.is_some_and(|n| n.is_lowercase()))
            });
        if boundary && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.extend(c.to_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// A PostgREST filter (`eq.theme`, `in.(a,b)`, `not.is.null`): a column's value, no key.
fn is_filter(value: &str) -> bool {
    let op = value.split(['.', '(']).next().unwrap_or_default();
    value.len() > op.len()
        && [
            "eq",
            "neq",
            "gt",
            "gte",
            "lt",
            "lte",
            "like",
            "ilike",
            "match",
            "imatch",
            "in",
            "is",
            "isdistinct",
            "fts",
            "plfts",
            "phfts",
            "wfts",
            "cs",
            "cd",
            "ov",
            "sl",
            "sr",
            "nxr",
            "nxl",
            "adj",
            "not",
        ]
        .contains(&op)
}

/// Whether a query parameter (name and decoded value) carries a credential: `access_token`,
/// `api_key`, `apiKey`, `sig`, `X-Amz-Signature`, `client_secret`, `password`, a bare `key`
/// (unless its value is a PostgREST filter such as `eq.theme`) … but not `author`, `zipcode`
/// or `page_token`.
pub fn is_credential_param(name: &str, value: &str) -> bool {
    let words = name_words(name);
    if words.is_empty() {
        return false;
    }
    if words.len() == 1 && words[0] == "key" {
        return !is_filter(value);
    }
    let paging = words.iter().any(|w| {
        [
            "page",
            "next",
            "continuation",
            "sync",
            "cursor",
            "resume",
            "delta",
        ]
        .contains(&w.as_str())
    });
    let joined = words.concat();
    let secret_word = words.iter().any(|w| {
        [
            "token",
            "secret",
            "password",
            "passwd",
            "pwd",
            "pass",
            "passphrase",
            "signature",
            "sig",
            "hmac",
            "credential",
            "credentials",
            "jwt",
            "apikey",
            "auth",
            "authorization",
            "bearer",
            "session",
            "sessionid",
        ]
        .contains(&w.as_str())
            || w.ends_with("token")
            || w.ends_with("secret")
            || w.ends_with("password")
            || w.ends_with("apikey")
    });
    let secret_key = [
        "apikey",
        "accesskey",
        "secretkey",
        "privatekey",
        "authkey",
        "sessionkey",
        "signingkey",
    ]
    .iter()
    .any(|k| joined.contains(k));
    (secret_word || secret_key) && !(paging && joined.ends_with("token"))
}

/// A query parameter's name as the words may show it: a plain name (`api_key`, `X-Amz-Signature`)
/// followed by `=`; a bare word or an odd name may be the credential itself and is not shown.
pub(crate) fn param_name(name: &str, has_value: bool) -> String {
    let plain = name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.[]".contains(c));
    if has_value && plain {
        format!("the query parameter {name}")
    } else {
        "a query parameter that looks like a credential (its name is not shown)".into()
    }
}

/// What in a resource's address carries a credential (user info, a credential-looking query
/// parameter), named in words without its value; None when nothing does. `target` is what the
/// Open box takes: a path (`/v1/x?api_key=…`) or a full URL.
pub fn credential_in_target(target: &str) -> Option<String> {
    let no_fragment = target.split('#').next().unwrap_or_default();
    let (before, query) = no_fragment.split_once('?').unwrap_or((no_fragment, ""));
    if let Some((_, rest)) = before.split_once("://") {
        let authority = rest.split('/').next().unwrap_or_default();
        if authority.contains('@') {
            return Some("the user info in the URL".into());
        }
    }
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .find(|(n, v)| is_credential_param(&percent_decode(n, true), &percent_decode(v, true)))
        .map(|(n, v)| param_name(&percent_decode(n, true), !v.is_empty()))
}
