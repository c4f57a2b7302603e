//! `ifmatch`: the headless front door over the engine, for admins' scripts.
//!
//! Every write is conditional unless `--force` says otherwise; every failure is one sentence on
//! stderr and a distinct exit code (see `ifmatch --help` and the README). Secrets come from the
//! environment, never from arguments (arguments show up in `ps` and shell history).
//!
//! One exit point: commands (`cmd/`, one file each) return their exit code or a `CliError`;
//! `main` prints the error, writes the request trail (`--trail`) whatever happened, and exits.

/// `eprintln!` that survives a stderr that cannot be written (a full disk, a closed pipe) instead
/// of panicking. Stderr carries notes, warnings and errors about the result, never the result
/// itself: a note that cannot be written does not change the exit code (a command whose result
/// reached stdout, or the server, succeeded; one that failed has its own code already). What a
/// command delivers goes to stdout (`common::print`), where a failed write is the command's
/// failure. The one exception, `--trail -`, is checked where it is written.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let line = $crate::redacted(format!($($arg)*));
        let _ = writeln!(std::io::stderr(), "{line}");
    }};
}

/// The connection's credentials, for the last redaction every line on stderr goes through
/// (whatever a message quotes — a validator, a server's words — never shows the secret).
static CREDENTIALS: std::sync::OnceLock<ifmatch_engine::Auth> = std::sync::OnceLock::new();

/// `text` with the connection's secret blanked out, in every spelling.
pub fn redacted(text: String) -> String {
    match CREDENTIALS.get() {
        Some(a) => a.redact(&text),
        None => text,
    }
}

/// Whether `text` (a validator about to be printed or stored for the user) holds the
/// connection's secret in any spelling.
pub fn holds_secret(text: &str) -> bool {
    CREDENTIALS.get().is_some_and(|a| a.redact(text) != text)
}

mod args;
mod cmd;
mod common;
mod error;
mod guard;
mod watch;

use args::{Cli, Cmd};
use clap::Parser;
use error::{CliError, Exit};
use ifmatch_engine::{Client, ClientConfig};
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = trail_is_not_a_file_of_the_command(&cli) {
        return fail(&e);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&CliError::local(format!("cannot start: {e}"))),
    };
    let code = runtime.block_on(async {
        let client = match client_for(&cli) {
            Ok(c) => c,
            Err(e) => return fail(&e),
        };
        let _ = CREDENTIALS.set(client.auth().clone());
        let code = match run(&cli, &client).await {
            Ok(code) => exit_code(code),
            Err(e) => fail(&e),
        };
        // A trail asked for on stderr is output, not a note: when it cannot be written, a
        // successful run fails as it would with a full stdout.
        if !write_trail(&cli, &client) && code == ExitCode::SUCCESS {
            return exit_code(ifmatch_engine::outcome::exit::LOCAL_ERROR);
        }
        code
    });
    // The demo server's tasks end with the runtime; nothing else is left running.
    runtime.shutdown_timeout(Duration::from_millis(100));
    code
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn fail(e: &CliError) -> ExitCode {
    say!("ifmatch: {}", e.message);
    exit_code(e.code)
}

/// The client from the global options and the environment's credentials.
fn client_for(cli: &Cli) -> Result<Client, CliError> {
    let mut cfg = ClientConfig {
        timeout: Duration::from_secs(cli.timeout.max(1)),
        ..Default::default()
    };
    cfg.conflict_statuses
        .extend(cli.conflict_status.iter().copied());
    // A server the check found answering stale writes with 409 (CouchDB-style): 409 is a
    // conflict there without --conflict-status.
    for status in target_url(&cli.cmd)
        .map(guard::conflict_statuses)
        .unwrap_or_default()
    {
        if !cfg.conflict_statuses.contains(&status) {
            cfg.conflict_statuses.push(status);
        }
    }
    cfg.dialect = dialect_named(&cli.dialect)?;
    if let Some(p) = &cli.cacert {
        let pem = std::fs::read(p).map_err(|e| {
            let why = if p.is_dir() {
                "is a directory, not a PEM certificate file".to_string()
            } else if e.kind() == std::io::ErrorKind::NotFound {
                "does not exist".to_string()
            } else {
                format!("cannot be read ({e})")
            };
            CliError::local(format!("--cacert {} {why}; nothing was sent", p.display()))
        })?;
        cfg.extra_root_pem = Some(pem);
    }
    let auth = ifmatch_engine::Auth::from_env().map_err(|e| CliError::usage(e.to_string()))?;
    Client::new(cfg, auth).map_err(|e| match (&cli.cacert, e) {
        (Some(p), ifmatch_engine::client::ClientError::Certificate(why)) => {
            CliError::local(format!("--cacert {} {why}; nothing was sent", p.display()))
        }
        (Some(p), e) => CliError::local(format!("--cacert {}: {e}", p.display())),
        (None, e) => CliError::local(e.to_string()),
    })
}

/// `--dialect`: a preset's name, or a JSON file describing a dialect (`Dialect`'s fields).
fn dialect_named(name: &str) -> Result<ifmatch_engine::dialect::Dialect, CliError> {
    use ifmatch_engine::dialect::{Dialect, PRESETS};
    if let Some(d) = Dialect::preset(name) {
        return Ok(d);
    }
    let path = std::path::Path::new(name);
    if name.ends_with(".json") || path.is_file() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("--dialect: cannot read {name}: {e}")))?;
        let mut d = Dialect::from_json(&text).map_err(|e| {
            CliError::usage(format!(
                "--dialect: {name} does not describe a dialect: {e}"
            ))
        })?;
        if d.name.is_empty() || d.name == "generic" {
            d.name = "custom".into();
        }
        return Ok(d);
    }
    let names: Vec<String> = PRESETS
        .iter()
        .map(|(n, what)| format!("  {n:<14} {what}"))
        .collect();
    Err(CliError::usage(format!(
        "--dialect {name:?} is not one of these (or a JSON file describing one):\n{}",
        names.join("\n")
    )))
}

/// The resource a command talks to, if it talks to one.
fn target_url(cmd: &Cmd) -> Option<&str> {
    match cmd {
        Cmd::Get { url, .. }
        | Cmd::Put { url, .. }
        | Cmd::Patch { url, .. }
        | Cmd::Create { url, .. }
        | Cmd::Delete { url, .. }
        | Cmd::Save { url, .. }
        | Cmd::Edit { url }
        | Cmd::Watch { url, .. } => Some(url),
        Cmd::Check { .. } | Cmd::Merge { .. } | Cmd::ServeDemo { .. } => None,
    }
}

/// The redacted request trail, as JSON, to the file `--trail` names ("-": stderr); false when
/// stderr, where it was asked for, could not take it (a file that cannot be written is said).
fn write_trail(cli: &Cli, client: &Client) -> bool {
    use std::io::Write as _;
    let Some(t) = &cli.trail else {
        return true;
    };
    let json = client.trail().to_json();
    if t == "-" {
        let mut se = std::io::stderr().lock();
        return writeln!(se, "{json}").and_then(|_| se.flush()).is_ok();
    }
    if let Err(e) = std::fs::write(t, json) {
        say!("ifmatch: cannot write the trail to {t}: {e}");
    }
    true
}

async fn run(cli: &Cli, client: &Client) -> Exit {
    match &cli.cmd {
        Cmd::Get {
            url,
            include,
            etag,
            etag_file,
        } => cmd::get::run(client, url, *include, *etag, etag_file).await,
        Cmd::Put {
            url,
            file,
            if_match,
            force,
        } => cmd::put::run(client, url, file, if_match, *force).await,
        Cmd::Patch {
            url,
            file,
            if_match,
            force,
        } => cmd::patch::run(client, url, file, if_match, *force).await,
        Cmd::Create { url, file } => cmd::create::run(client, url, file).await,
        Cmd::Check { url, json } => cmd::check::run(client, url, *json).await,
        Cmd::Edit { url } => cmd::edit::run(client, url).await,
        Cmd::Delete {
            url,
            if_match,
            force,
        } => cmd::delete::run(client, url, if_match, *force).await,
        Cmd::Save {
            url,
            file,
            base,
            if_match,
            method,
            rounds,
            id_key,
            watch,
            no_watch,
            no_lock,
        } => {
            cmd::save::run(
                client,
                url,
                file,
                base,
                if_match.as_deref(),
                *method,
                (
                    *rounds,
                    cmd::save::Watch::from_flags(*watch, *no_watch)?,
                    !*no_lock,
                ),
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
        } => cmd::merge::run(
            [base, mine, theirs],
            output.as_deref(),
            *json,
            *prefer,
            id_key,
            display.as_deref(),
        ),
        Cmd::Watch {
            url,
            json,
            until_change,
            interval,
            feed,
        } => {
            let prefer = match feed {
                args::FeedArg::Auto => ifmatch_engine::live::Prefer::Best,
                args::FeedArg::Longpoll => ifmatch_engine::live::Prefer::Longpoll,
                args::FeedArg::Poll => ifmatch_engine::live::Prefer::Poll,
            };
            let opts = cmd::watch::options(interval.as_deref(), prefer)?;
            cmd::watch::run(client, url, *json, *until_change, opts).await
        }
        Cmd::ServeDemo {
            port,
            allow_unconditional,
            careless,
            token_env,
        } => cmd::serve_demo::run(*port, *allow_unconditional, *careless, token_env).await,
    }
}

/// The files a command reads or writes besides the trail (its input, `--base`, a merge's three
/// sides, `--etag-file`, `-o`, `--display`).
fn files_of(cmd: &Cmd) -> Vec<&std::path::Path> {
    let mut out: Vec<&std::path::Path> = vec![];
    match cmd {
        Cmd::Get { etag_file, .. } => out.extend(etag_file.as_deref()),
        Cmd::Put { file, .. } | Cmd::Patch { file, .. } | Cmd::Create { file, .. } => {
            out.extend(file.as_deref())
        }
        Cmd::Save { file, base, .. } => {
            out.extend(file.as_deref());
            out.push(base);
        }
        Cmd::Merge {
            base,
            mine,
            theirs,
            output,
            display,
            ..
        } => {
            out.extend([base.as_path(), mine.as_path(), theirs.as_path()]);
            out.extend(output.as_deref());
            out.extend(display.as_deref());
        }
        Cmd::Delete { .. }
        | Cmd::Edit { .. }
        | Cmd::Check { .. }
        | Cmd::ServeDemo { .. }
        | Cmd::Watch { .. } => {}
    }
    out
}

/// `--trail FILE` naming a file the command itself reads or writes would overwrite it when the
/// trail is written (the user's edit gone, kept only in the answer's JSON): refused before
/// anything is sent.
fn trail_is_not_a_file_of_the_command(cli: &Cli) -> Result<(), CliError> {
    let Some(t) = cli.trail.as_deref().filter(|t| *t != "-") else {
        return Ok(());
    };
    let same = |a: &std::path::Path, b: &std::path::Path| -> bool {
        // One file under two names (a link, `./x` and `x`): the same device and inode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            if let (Ok(x), Ok(y)) = (std::fs::metadata(a), std::fs::metadata(b)) {
                return x.dev() == y.dev() && x.ino() == y.ino();
            }
        }
        let abs = |p: &std::path::Path| std::path::absolute(p).ok();
        abs(a).is_some() && abs(a) == abs(b)
    };
    let trail = std::path::Path::new(t);
    match files_of(&cli.cmd).into_iter().find(|f| same(trail, f)) {
        Some(f) => Err(CliError::usage(format!(
            "--trail {t} is also a file this command uses ({}): writing the trail would \
             overwrite it. Nothing was sent; give the trail another file.",
            f.display()
        ))),
        None => Ok(()),
    }
}
