//! A connection from a pasted curl command (what every API client offers): the URL, the
//! credentials (`-u`, `Authorization: Bearer` / `Basic`, an API-key header), the write method
//! (`-X PATCH` with a merge-patch or JSON-patch Content-Type), and, in words, what was left out.
//! The secret goes where every typed secret goes: the connection form, then the keyring.

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

/// Splits a command line as a POSIX shell would for the parts curl commands use: single and
/// double quotes, backslash escapes, backslash-newline continuations, `$'…'` ANSI-C quotes.
pub fn shell_words(s: &str) -> Result<Vec<String>, String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut have = false;
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
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
                        None => return Err("a single quote is not closed".into()),
                    }
                }
            }
            '$' if it.peek() == Some(&'\'') => {
                it.next();
                have = true;
                loop {
                    match it.next() {
                        Some('\'') => break,
                        Some('\\') => match it.next() {
                            Some('n') => cur.push('\n'),
                            Some('t') => cur.push('\t'),
                            Some(x) => cur.push(x),
                            None => return Err("a $'…' quote is not closed".into()),
                        },
                        Some(x) => cur.push(x),
                        None => return Err("a $'…' quote is not closed".into()),
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
                            None => return Err("a double quote is not closed".into()),
                        },
                        Some(x) => cur.push(x),
                        None => return Err("a double quote is not closed".into()),
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

/// Reads a curl command.
pub fn parse(command: &str) -> Result<CurlImport, String> {
    let words = shell_words(command.trim())?;
    let mut args = words.iter().map(String::as_str).peekable();
    if args.peek() == Some(&"curl") {
        args.next();
    }
    let mut url: Option<String> = None;
    let mut auth = AuthInput::None;
    let mut method: Option<String> = None;
    let mut content_type: Option<String> = None;
    let mut ignored = vec![];
    let value = |flag: &str, v: Option<&str>| {
        v.map(str::to_string)
            .ok_or_else(|| format!("{flag} needs a value"))
    };
    while let Some(a) = args.next() {
        // --opt=value as well as --opt value
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (a, None),
        };
        let take = |args: &mut std::iter::Peekable<_>| -> Result<String, String> {
            match inline {
                Some(v) => Ok(v.to_string()),
                None => value(flag, Iterator::next(args)),
            }
        };
        match flag {
            "-H" | "--header" => {
                let h = take(&mut args)?;
                let (name, v) = h
                    .split_once(':')
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                    .ok_or_else(|| format!("the header {h:?} has no \"Name: value\" form"))?;
                let lower = name.to_ascii_lowercase();
                if lower == "authorization" {
                    let (scheme, cred) = v.split_once(' ').unwrap_or((v.as_str(), ""));
                    match scheme.to_ascii_lowercase().as_str() {
                        "bearer" => {
                            auth = AuthInput::Bearer {
                                token: cred.trim().to_string(),
                            }
                        }
                        "basic" => {
                            let decoded = base64::engine::general_purpose::STANDARD
                                .decode(cred.trim())
                                .ok()
                                .and_then(|b| String::from_utf8(b).ok())
                                .ok_or(
                                    "the Basic credentials are not valid base64 of user:password",
                                )?;
                            let (user, password) = decoded.split_once(':').ok_or(
                                "the Basic credentials have no ':' between user and password",
                            )?;
                            auth = AuthInput::Basic {
                                user: user.into(),
                                password: password.into(),
                            };
                        }
                        _ => {
                            auth = AuthInput::Header {
                                name: name.clone(),
                                value: v.clone(),
                            }
                        }
                    }
                } else if lower == "content-type" {
                    content_type = Some(v.to_ascii_lowercase());
                } else if is_key_header(&name) {
                    auth = AuthInput::Header { name, value: v };
                } else {
                    ignored.push(format!("the header {name} (ifmatch sets its own headers)"));
                }
            }
            "-u" | "--user" => {
                let u = take(&mut args)?;
                let (user, password) = u
                    .split_once(':')
                    .ok_or("-u needs user:password (ifmatch does not prompt for it)")?;
                auth = AuthInput::Basic {
                    user: user.into(),
                    password: password.into(),
                };
            }
            "-X" | "--request" => method = Some(take(&mut args)?.to_ascii_uppercase()),
            "--url" => url = Some(take(&mut args)?),
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-urlencode" | "--json" => {
                take(&mut args)?;
                ignored.push("the request body (-d): ifmatch sends the document you edit".into());
            }
            "-k" | "--insecure" => ignored.push(
                "-k: ifmatch always verifies TLS; trust a self-signed server with its certificate \
                 instead"
                    .into(),
            ),
            "-b" | "--cookie" | "-A" | "--user-agent" | "-e" | "--referer" | "-o" | "--output"
            | "-m" | "--max-time" | "--connect-timeout" | "-w" | "--write-out" => {
                take(&mut args)?;
                ignored.push(flag.to_string());
            }
            f if f.starts_with('-') && f.len() > 1 => {
                // Flags without a value: -s, -S, -i, -L, -v, --compressed, -f, …
            }
            u => url = Some(u.to_string()),
        }
    }
    let url = url.ok_or("the command names no URL")?;
    let parsed: ifmatch_engine::Url = url
        .parse()
        .map_err(|e| format!("the URL {url:?} is not valid: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the URL must be http:// or https://, not {}:",
            parsed.scheme()
        ));
    }
    if !parsed.username().is_empty() {
        auth = AuthInput::Basic {
            user: parsed.username().to_string(),
            password: parsed.password().unwrap_or_default().to_string(),
        };
    }
    let write_method = match (method.as_deref(), content_type.as_deref()) {
        (Some("PATCH"), Some(ct)) if ct.starts_with("application/json-patch+json") => {
            WriteMethod::JsonPatch
        }
        (Some("PATCH"), _) => WriteMethod::MergePatch,
        _ => WriteMethod::Put,
    };
    let mut path = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        path.push('?');
        path.push_str(q);
    }
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
        assert!(parse("curl -H").unwrap_err().contains("-H needs a value"));
        assert!(parse("curl -s").unwrap_err().contains("no URL"));
        assert!(parse("curl ftp://h/x").unwrap_err().contains("http"));
        assert!(parse("curl -u alice http://h/x")
            .unwrap_err()
            .contains("user:password"));
    }
}
