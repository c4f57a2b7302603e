//! `ifmatch`: the headless front door over the engine, for admins' scripts.
//!
//! Every write is conditional unless `--force` says otherwise; every failure is one sentence on
//! stderr and a distinct exit code (see `ifmatch --help` and the README). Secrets come from the
//! environment, never from arguments (arguments show up in `ps` and shell history).

use clap::{Parser, Subcommand};
use ifmatch_engine::demo::{DemoConfig, DemoServer};
use ifmatch_engine::outcome::exit;
use ifmatch_engine::{Auth, Client, ClientConfig, EntityTag, Outcome, Precondition, Secret};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

const AFTER_HELP: &str = "\
Authentication comes from the environment, never from arguments:
  IFMATCH_TOKEN                       bearer token
  IFMATCH_USER + IFMATCH_PASSWORD     basic auth
  IFMATCH_AUTH_HEADER + IFMATCH_AUTH_VALUE   a custom header (e.g. X-Api-Key)

Exit codes:
  0 success   1 local error (bad input file, invalid JSON)   2 usage
  3 conflict: the resource changed since the validator was read (412); nothing was overwritten
  4 precondition required (428): the server refuses unconditional writes
  5 other HTTP error (401, 403, 404, 410, 429, 5xx, not JSON, too large, ...)
  6 network error before the request was sent
  7 network error after the request was sent: a write may or may not have landed";

#[derive(Parser)]
#[command(
    name = "ifmatch",
    version,
    about = "Edit JSON resources behind HTTP APIs without losing anyone's update: every write is conditional.",
    after_help = AFTER_HELP
)]
struct Cli {
    /// Seconds before a request is given up.
    #[arg(long, global = true, default_value_t = 30)]
    timeout: u64,
    /// Write the redacted request trail as JSON to this file ("-" for stderr).
    #[arg(long, global = true, value_name = "FILE")]
    trail: Option<String>,
    /// Trust this PEM certificate (a self-signed server).
    #[arg(long, global = true, value_name = "PEM")]
    cacert: Option<PathBuf>,
    /// Also treat this status as "stale write" (e.g. 409 for CouchDB-style servers).
    #[arg(long = "conflict-status", global = true, value_name = "CODE")]
    conflict_status: Vec<u16>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print a resource's body (with -i, its validator first).
    Get {
        url: String,
        /// Print the validator (ETag or Last-Modified) and a blank line before the body.
        #[arg(short = 'i', long = "include")]
        include: bool,
        /// Print only the validator, e.g. tag=$(ifmatch get --etag URL).
        #[arg(long, conflicts_with = "include")]
        etag: bool,
        /// Also write the validator to this file (body and validator from one request).
        #[arg(long, value_name = "FILE")]
        etag_file: Option<PathBuf>,
    },
    /// Save MINE the safe way: a conditional write; if the resource changed since BASE, merge
    /// three ways and resubmit when nothing collides; exit 3 with the conflicts when something does.
    Save {
        url: String,
        /// Your edited document (default: stdin).
        file: Option<PathBuf>,
        /// The version your edit started from (as `get` printed it).
        #[arg(long, value_name = "FILE")]
        base: PathBuf,
        /// BASE's validator. Without it, a GET first checks the server still has BASE.
        #[arg(long, value_name = "ETAG")]
        if_match: Option<String>,
        /// How to write: the whole document, or a patch computed from BASE.
        #[arg(long, value_enum, default_value = "put")]
        method: MethodArg,
        /// At most this many write rounds (each round meets one concurrent change).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        #[arg(long = "id-key", value_name = "KEY")]
        id_key: Vec<String>,
    },
    /// Replace a resource, only if it is still the version you read.
    Put {
        url: String,
        /// The new document (default: stdin).
        file: Option<PathBuf>,
        /// The validator you read (as printed by `get -i`). Without it, a fresh GET supplies it.
        #[arg(long, value_name = "ETAG")]
        if_match: Option<String>,
        /// Write unconditionally, overwriting whatever is there (no If-Match).
        #[arg(long, conflicts_with = "if_match")]
        force: bool,
    },
    /// Change a resource with a JSON Merge Patch (RFC 7396), conditionally.
    Patch {
        url: String,
        /// The merge patch (default: stdin).
        file: Option<PathBuf>,
        #[arg(long, value_name = "ETAG")]
        if_match: Option<String>,
        #[arg(long, conflicts_with = "if_match")]
        force: bool,
    },
    /// Create a resource that must not exist yet (If-None-Match: *).
    Create {
        url: String,
        /// The document (default: stdin).
        file: Option<PathBuf>,
    },
    /// Delete a resource, only if it is still the version you read.
    Delete {
        url: String,
        #[arg(long, value_name = "ETAG")]
        if_match: Option<String>,
        #[arg(long, conflicts_with = "if_match")]
        force: bool,
    },
    /// Three-way merge of JSON files: BASE (the common ancestor), MINE, THEIRS.
    ///
    /// Writes the merged document (canonical pretty form). Exit 0 when clean, 1 when conflicts
    /// remain (the output then marks them with <<<<<<< mine / ||||||| base / ======= /
    /// >>>>>>> theirs and is deliberately not JSON), 2 on bad input.
    Merge {
        base: PathBuf,
        mine: PathBuf,
        theirs: PathBuf,
        /// Write the result here instead of stdout (atomically; may be MINE, as a git merge driver does).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Print {"merged", "conflicts", "stats", "positional_arrays"} as JSON; "merged" shows
        /// each unresolved conflict with its base value.
        #[arg(long)]
        json: bool,
        /// Resolve every conflict to this side (like git merge-file --ours / --theirs); exit 0.
        #[arg(long, value_name = "SIDE")]
        prefer: Option<PreferSide>,
        /// Identity key(s) for arrays of objects, tried in order (default: id, _id, key, name, uid).
        #[arg(long = "id-key", value_name = "KEY")]
        id_key: Vec<String>,
        /// Also write the conflict view's display data (texts, line diffs, conflict line ranges) as JSON.
        #[arg(long, value_name = "FILE")]
        display: Option<PathBuf>,
    },
    /// Start the built-in demo server and print its URL; runs until interrupted.
    ServeDemo {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Accept writes without a precondition (by default they get 428).
        #[arg(long)]
        allow_unconditional: bool,
        /// Require this bearer token, read from the named environment variable.
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum MethodArg {
    Put,
    MergePatch,
    JsonPatch,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum PreferSide {
    Mine,
    Theirs,
}

fn auth_from_env() -> Auth {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(t) = var("IFMATCH_TOKEN") {
        return Auth::Bearer(Secret::new(t));
    }
    if let (Some(u), Some(p)) = (var("IFMATCH_USER"), var("IFMATCH_PASSWORD")) {
        return Auth::Basic {
            user: u,
            password: Secret::new(p),
        };
    }
    if let (Some(n), Some(v)) = (var("IFMATCH_AUTH_HEADER"), var("IFMATCH_AUTH_VALUE")) {
        return Auth::Header {
            name: n,
            value: Secret::new(v),
        };
    }
    Auth::None
}

fn fail(code: i32, msg: &str) -> ! {
    eprintln!("ifmatch: {msg}");
    std::process::exit(code)
}

fn read_json_input(file: &Option<PathBuf>) -> String {
    let (text, name) = match file {
        Some(p) if p.as_os_str() != "-" => match std::fs::read_to_string(p) {
            Ok(t) => (t, p.display().to_string()),
            Err(e) => fail(
                exit::LOCAL_ERROR,
                &format!("cannot read {}: {e}", p.display()),
            ),
        },
        _ => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                fail(exit::LOCAL_ERROR, &format!("cannot read stdin: {e}"));
            }
            (s, "stdin".to_string())
        }
    };
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
        fail(
            exit::LOCAL_ERROR,
            &format!("{name} is not valid JSON ({e}); nothing was sent"),
        );
    }
    text
}

fn parse_tag(s: &str) -> EntityTag {
    EntityTag::parse(s).unwrap_or_else(|e| fail(exit::USAGE, &format!("--if-match: {e}")))
}

/// The precondition for a write: explicit, forced off, or from a fresh GET.
async fn precondition_for(
    client: &Client,
    url: &str,
    if_match: &Option<String>,
    force: bool,
) -> Result<Precondition, Outcome> {
    if force {
        return Ok(Precondition::None);
    }
    if let Some(t) = if_match {
        return Ok(Precondition::IfMatch(parse_tag(t)));
    }
    match client.get_fresh(url).await {
        Outcome::Fetched { doc, .. } => match doc.validator {
            Some(v) => Ok(v.precondition()),
            None => fail(
                exit::HTTP_ERROR,
                "the server gives this resource no validator (no ETag, no Last-Modified), so the \
                 write cannot be made conditional; use --force to overwrite it anyway",
            ),
        },
        Outcome::NotFound | Outcome::Gone => fail(
            exit::HTTP_ERROR,
            "there is no resource at this URL to replace; use `ifmatch create` to create it",
        ),
        other => Err(other),
    }
}

fn report(out: &Outcome) -> i32 {
    let doc = match out {
        Outcome::Fetched { doc, .. } => Some(doc),
        Outcome::Saved { doc, .. } => doc.as_ref(),
        _ => None,
    };
    if let Some(d) = doc {
        for w in &d.warnings {
            eprintln!("ifmatch: warning: {w}");
        }
    }
    if !out.is_success() {
        eprintln!("ifmatch: {}", out.message());
    }
    out.exit_code()
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let mut cfg = ClientConfig {
        timeout: Duration::from_secs(cli.timeout.max(1)),
        ..Default::default()
    };
    cfg.conflict_statuses
        .extend(cli.conflict_status.iter().copied());
    if let Some(p) = &cli.cacert {
        match std::fs::read(p) {
            Ok(pem) => cfg.extra_root_pem = Some(pem),
            Err(e) => fail(
                exit::LOCAL_ERROR,
                &format!("cannot read {}: {e}", p.display()),
            ),
        }
    }
    let client = match Client::new(cfg, auth_from_env()) {
        Ok(c) => c,
        Err(e) => fail(exit::LOCAL_ERROR, &e.to_string()),
    };
    let code = run(&cli, &client).await;
    if let Some(t) = &cli.trail {
        let json = client.trail().to_json();
        if t == "-" {
            eprintln!("{json}");
        } else if let Err(e) = std::fs::write(t, json) {
            eprintln!("ifmatch: cannot write the trail to {t}: {e}");
        }
    }
    std::process::exit(code);
}

async fn run(cli: &Cli, client: &Client) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match &cli.cmd {
        Cmd::Get {
            url,
            include,
            etag,
            etag_file,
        } => {
            let out = client.get_fresh(url).await;
            if let Outcome::Fetched { doc, .. } = &out {
                let validator = doc.validator.as_ref();
                if let Some(f) = etag_file {
                    let text = validator.map(|v| v.text()).unwrap_or_default();
                    if let Err(e) = std::fs::write(f, text + "\n") {
                        fail(
                            exit::LOCAL_ERROR,
                            &format!("cannot write {}: {e}", f.display()),
                        );
                    }
                }
                if *etag {
                    match validator.and_then(|v| v.etag()) {
                        Some(t) => {
                            let _ = writeln!(stdout, "{}", t.raw);
                        }
                        None => match validator {
                            Some(v) => {
                                let _ = writeln!(stdout, "{}", v.display());
                            }
                            None => fail(exit::HTTP_ERROR, "the server sent no validator"),
                        },
                    }
                } else {
                    if *include {
                        match validator {
                            Some(ifmatch_engine::Validator::Etag { tag }) => {
                                let _ = writeln!(stdout, "ETag: {}", tag.raw);
                            }
                            Some(ifmatch_engine::Validator::LastModified { raw }) => {
                                let _ = writeln!(stdout, "Last-Modified: {raw}");
                            }
                            None => {
                                let _ = writeln!(stdout, "ETag: (none)");
                            }
                        }
                        let _ = writeln!(stdout);
                    }
                    let _ = stdout.write_all(doc.text.as_bytes());
                }
            }
            report(&out)
        }
        Cmd::Put {
            url,
            file,
            if_match,
            force,
        } => {
            let body = read_json_input(file);
            let pre = match precondition_for(client, url, if_match, *force).await {
                Ok(p) => p,
                Err(out) => return report(&out),
            };
            let out = client.put(url, &body, pre).await;
            print_saved(&mut stdout, &out);
            report(&out)
        }
        Cmd::Patch {
            url,
            file,
            if_match,
            force,
        } => {
            let body = read_json_input(file);
            let pre = match precondition_for(client, url, if_match, *force).await {
                Ok(p) => p,
                Err(out) => return report(&out),
            };
            let out = client
                .patch(url, &body, "application/merge-patch+json", pre, None)
                .await;
            print_saved(&mut stdout, &out);
            report(&out)
        }
        Cmd::Create { url, file } => {
            let body = read_json_input(file);
            let out = client.create(url, &body).await;
            print_saved(&mut stdout, &out);
            report(&out)
        }
        Cmd::Delete {
            url,
            if_match,
            force,
        } => {
            let pre = match precondition_for(client, url, if_match, *force).await {
                Ok(p) => p,
                Err(out) => return report(&out),
            };
            report(&client.delete(url, pre).await)
        }
        Cmd::Save {
            url,
            file,
            base,
            if_match,
            method,
            rounds,
            id_key,
        } => {
            save(
                client,
                url,
                file,
                base,
                if_match.as_deref(),
                *method,
                *rounds,
                id_key,
            )
            .await
        }
        Cmd::Merge {
            base,
            mine,
            theirs,
            output,
            json,
            prefer,
            id_key,
            display,
        } => merge_files(
            [base, mine, theirs],
            output.as_deref(),
            *json,
            *prefer,
            id_key,
            display.as_deref(),
        ),
        Cmd::ServeDemo {
            port,
            allow_unconditional,
            token_env,
        } => {
            let token = token_env.as_ref().map(|v| {
                std::env::var(v)
                    .unwrap_or_else(|_| fail(exit::USAGE, &format!("--token-env: ${v} is not set")))
            });
            let cfg = DemoConfig {
                require_preconditions: !allow_unconditional,
                bearer_token: token,
            };
            let server = match DemoServer::start(([127, 0, 0, 1], *port).into(), cfg).await {
                Ok(s) => s,
                Err(e) => fail(
                    exit::LOCAL_ERROR,
                    &format!("cannot listen on 127.0.0.1:{port}: {e}"),
                ),
            };
            let _ = writeln!(stdout, "{}", server.url());
            let _ = stdout.flush();
            drop(stdout);
            eprintln!(
                "ifmatch demo server on {} — try: ifmatch get -i {}/settings ; \
                 make another admin edit it: curl -X POST {}/_demo/another-admin/settings ; \
                 Ctrl+C stops it",
                server.url(),
                server.url(),
                server.url()
            );
            wait_for_stop().await;
            server.stop().await;
            exit::OK
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn save(
    client: &Client,
    url: &str,
    file: &Option<PathBuf>,
    base_path: &PathBuf,
    if_match: Option<&str>,
    method: MethodArg,
    rounds: usize,
    id_keys: &[String],
) -> i32 {
    use ifmatch_engine::session::{save_until_done, Base, SaveResult, WriteMethod};
    let mine = read_json_input(file);
    let base_text = match std::fs::read_to_string(base_path) {
        Ok(t) => t,
        Err(e) => fail(
            exit::LOCAL_ERROR,
            &format!("cannot read {}: {e}", base_path.display()),
        ),
    };
    let base = Base {
        text: base_text,
        validator: if_match.map(|t| ifmatch_engine::Validator::Etag { tag: parse_tag(t) }),
    };
    let method = match method {
        MethodArg::Put => WriteMethod::Put,
        MethodArg::MergePatch => WriteMethod::MergePatch,
        MethodArg::JsonPatch => WriteMethod::JsonPatch,
    };
    let mut opts = ifmatch_engine::merge::Options::default();
    if !id_keys.is_empty() {
        opts.id_keys = id_keys.to_vec();
    }
    let (result, used) =
        save_until_done(client, url, base, mine, method, &opts, rounds.max(1)).await;
    match result {
        SaveResult::Saved { base, .. } => {
            if let Some(v) = &base.validator {
                println!("{}", v.text());
            }
            if used > 1 {
                eprintln!("ifmatch: saved after {used} rounds: the server's concurrent changes were merged in");
            }
            exit::OK
        }
        SaveResult::Conflicts {
            current,
            merged,
            conflicts,
            ..
        } => {
            let report = serde_json::json!({
                "current_validator": current.validator.as_ref().map(|v| v.text()),
                "current": current.text,
                "merged": merged,
                "conflicts": conflicts,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&report).expect("serialises")
            );
            eprintln!(
                "ifmatch: the resource changed on the server and {} change(s) collide with yours; nothing was overwritten. \
                 Resolve them in \"merged\" (it shows the base value at each conflict) and save again with \
                 --base set to \"current\" and --if-match set to \"current_validator\".",
                conflicts.len()
            );
            for c in &conflicts {
                eprintln!("  {} {}", c.kind, c.pointer);
            }
            exit::CONFLICT
        }
        SaveResult::Merged { .. } => {
            eprintln!("ifmatch: the server kept changing: still not saved after {used} rounds; nothing was overwritten. Try again.");
            exit::CONFLICT
        }
        SaveResult::Failed { outcome, message } => {
            eprintln!("ifmatch: {message}");
            outcome.exit_code()
        }
        SaveResult::Invalid { message } => fail(exit::LOCAL_ERROR, &message),
    }
}

/// Runs `f` on every item on its own thread; the first failure ends the command (exit 2).
fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> Result<R, String> + Sync) -> Vec<R> {
    let results: Vec<Result<R, String>> = std::thread::scope(|s| {
        let f = &f;
        let jobs: Vec<_> = items.iter().map(|i| s.spawn(move || f(i))).collect();
        jobs.into_iter()
            .map(|j| j.join().expect("worker thread"))
            .collect()
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| fail(merge_exit::BAD_INPUT, &e)))
        .collect()
}

/// Exit codes of `ifmatch merge` (git merge-file's convention).
mod merge_exit {
    pub const CLEAN: i32 = 0;
    pub const CONFLICTS: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
}

fn merge_files(
    paths: [&PathBuf; 3],
    output: Option<&std::path::Path>,
    json: bool,
    prefer: Option<PreferSide>,
    id_keys: &[String],
    display: Option<&std::path::Path>,
) -> i32 {
    use ifmatch_engine::json::Doc;
    use ifmatch_engine::merge::{self, Fill};
    // Read, then parse, the three inputs concurrently.
    let texts = parallel(&paths, |p| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    });
    let named: Vec<(&String, &&PathBuf)> = texts.iter().zip(paths.iter()).collect();
    let parsed = parallel(&named, |(t, p)| {
        Doc::parse(t).map_err(|e| format!("{} is not valid JSON: {e}", p.display()))
    });
    let [b, m, t]: [Doc; 3] = parsed
        .try_into()
        .unwrap_or_else(|_| unreachable!("three documents"));
    let mut opts = merge::Options::default();
    if !id_keys.is_empty() {
        opts.id_keys = id_keys.to_vec();
    }
    let result = merge::three_way(&b, &m, &t, &opts);
    let fill = match (prefer, json, result.is_clean()) {
        (Some(PreferSide::Mine), _, _) => Fill::Mine,
        (Some(PreferSide::Theirs), _, _) => Fill::Theirs,
        (None, false, false) => Fill::Markers,
        _ => Fill::Base,
    };
    let merged = result
        .render(fill)
        .expect("a fill without resolutions always renders");
    let text = if json {
        result.report_json(&merged)
    } else {
        merged
    };
    if let Some(d) = display {
        let data = merge::display::display(&b, &m, &t, &result);
        let js = serde_json::to_string(&data).expect("display data serialises");
        if let Err(e) = std::fs::write(d, js) {
            fail(
                merge_exit::BAD_INPUT,
                &format!("cannot write {}: {e}", d.display()),
            );
        }
    }
    match output {
        Some(p) => {
            // Atomic: a crash never leaves a half-written result (the output may be MINE itself).
            let tmp = p.with_extension(format!("ifmatch-{}.tmp", std::process::id()));
            if let Err(e) = std::fs::write(&tmp, &text).and_then(|_| std::fs::rename(&tmp, p)) {
                let _ = std::fs::remove_file(&tmp);
                fail(
                    merge_exit::BAD_INPUT,
                    &format!("cannot write {}: {e}", p.display()),
                );
            }
        }
        None => {
            let mut so = std::io::stdout().lock();
            let _ = so.write_all(text.as_bytes());
            let _ = so.flush();
        }
    }
    let s = &result.stats;
    if !result.is_clean() {
        eprintln!(
            "ifmatch: {} conflict(s) ({} change(s) from mine and {} from theirs merged cleanly){}",
            s.conflicts,
            s.from_mine,
            s.from_theirs,
            match prefer {
                Some(PreferSide::Mine) => ": resolved to mine",
                Some(PreferSide::Theirs) => ": resolved to theirs",
                None => "",
            }
        );
        for c in &result.conflicts {
            eprintln!(
                "  {} {}",
                c.kind.as_str(),
                if c.pointer.is_empty() {
                    "(whole document)"
                } else {
                    &c.pointer
                }
            );
        }
    }
    if !result.positional_arrays.is_empty() {
        eprintln!(
            "ifmatch: warning: merged by position (no identity key such as \"id\"): {}",
            result.positional_arrays.join(", ")
        );
    }
    if result.is_clean() || prefer.is_some() {
        merge_exit::CLEAN
    } else {
        merge_exit::CONFLICTS
    }
}

/// After a successful write, the new validator goes to stdout (scripts chain writes with it).
fn print_saved(stdout: &mut impl Write, out: &Outcome) {
    if let Outcome::Saved { doc: Some(d), .. } = out {
        if let Some(v) = &d.validator {
            let _ = writeln!(stdout, "{}", v.text());
        }
    }
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
