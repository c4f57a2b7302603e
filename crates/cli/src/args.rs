//! The command line as clap parses it: global options and one variant per command. Checking
//! what the values mean (a validator that parses, a file that reads) is each command's job.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub const AFTER_HELP: &str = "\
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
  7 network error after the request was sent: a write may or may not have landed
  8 (check) the server does not refuse stale writes   9 (check) it could not be told
  10 the server acknowledged the write, but ifmatch could not confirm it holds it (the read
     after the write, or --watch's read, failed): written, not confirmed";

#[derive(Parser)]
#[command(
    name = "ifmatch",
    version,
    about = "Edit JSON resources behind HTTP APIs without losing anyone's update: every write is conditional.",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// Seconds before a request is given up.
    #[arg(long, global = true, default_value_t = 30)]
    pub timeout: u64,
    /// Write the redacted request trail as JSON to this file ("-" for stderr).
    #[arg(long, global = true, value_name = "FILE")]
    pub trail: Option<String>,
    /// Trust this PEM certificate (a self-signed server).
    #[arg(long, global = true, value_name = "PEM")]
    pub cacert: Option<PathBuf>,
    /// Also treat this status as "stale write" (e.g. 409 for CouchDB-style servers).
    #[arg(long = "conflict-status", global = true, value_name = "CODE")]
    pub conflict_status: Vec<u16>,
    /// How the server spells "version": generic (ETag / If-Match / 412), couchdb, kubernetes,
    /// grafana, elasticsearch, kinto, confluence, consul, none, or a JSON file describing a
    /// dialect (`ifmatch --dialect list` names what each does). IFMATCH_DIALECT (the desktop
    /// app's too) gives it from the environment.
    #[arg(
        long,
        global = true,
        value_name = "NAME|FILE",
        default_value = "generic",
        env = "IFMATCH_DIALECT"
    )]
    pub dialect: String,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand)]
pub enum Cmd {
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
        /// After saving, wait this many seconds, read the resource once more and check it still
        /// holds your change (exit 3, naming where, when another client wrote over it). By default
        /// 0.5 after every save not made under the server's write lock.
        #[arg(long, value_name = "SECS", conflicts_with = "no_watch")]
        watch: Option<f64>,
        /// Do not read the resource again after saving.
        #[arg(long = "no-watch")]
        no_watch: bool,
        /// Do not take the server's write lock, even where `ifmatch check` found one it
        /// enforces; the save is then confirmed by the watch.
        #[arg(long = "no-lock")]
        no_lock: bool,
    },
    /// Edit a resource in $VISUAL / $EDITOR and save it conditionally when the editor closes
    /// (kubectl edit for any JSON API): a concurrent change is merged in; colliding changes
    /// reopen the editor with each conflict marked; an invalid edit reopens with the error.
    Edit { url: String },
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
    /// Check whether the server really refuses stale writes (If-Match, If-None-Match: *), what
    /// kind of validator it gives, whether it applies PATCH; each finding with its evidence.
    ///
    /// Reads URL, then writes only a scratch resource beside it (created with If-None-Match: *,
    /// deleted afterwards). The verdict is remembered for URL's folder: writes to a server not
    /// found protected compare the resource before writing and read it back after. Exit 0 when
    /// protected, 8 when unprotected, 9 when it could not be told.
    Check {
        url: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Three-way merge of JSON files: BASE (the common ancestor), MINE, THEIRS.
    ///
    /// Writes the merged document (in THEIRS' layout, with MINE's line ends). Exit 0 when clean, 1 when conflicts
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
    /// Print each new version of a resource as the server changes it, until interrupted: a
    /// change stream where the server has one (Kubernetes watch, CouchDB changes, Consul
    /// blocking queries, server-sent events, a dialect's changes endpoint), else polling with
    /// If-None-Match. Only reads. How it watches, and anything worth knowing, goes to stderr.
    ///
    /// With --json, one line per version: {"version", "via": "initial" | "stream" | "poll",
    /// "bytes", "document"}; the first is the current version; "stream" means the server's
    /// change feed announced it, "poll" that a re-read found it; "bytes" are the body bytes
    /// received since the line before. Exit 0 when interrupted (SIGINT/SIGTERM) or, with
    /// --until-change, after the first change; the first read failing exits as `get` does.
    Watch {
        url: String,
        /// One JSON line per version, the current one first.
        #[arg(long)]
        json: bool,
        /// Exit 0 after the first change.
        #[arg(long)]
        until_change: bool,
        /// Poll (or ask a changes endpoint) every SECS seconds, 0.05 to 86400 (default: 10,
        /// backing off to 60 while nothing changes; a given interval is kept as it is).
        #[arg(long, value_name = "SECS", allow_hyphen_values = true)]
        interval: Option<String>,
        /// Which feed: the best the server offers, CouchDB's longpoll, or polling only.
        #[arg(long, value_enum, default_value = "auto")]
        feed: FeedArg,
    },
    /// Start the built-in demo server and print its URL; runs until interrupted.
    ServeDemo {
        /// Port on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Accept writes without a precondition (by default they get 428).
        #[arg(long)]
        allow_unconditional: bool,
        /// Behave like a server that does not protect: ignore If-Match / If-None-Match, and
        /// acknowledge PATCH without applying it (to see what ifmatch does there).
        #[arg(long)]
        careless: bool,
        /// Require this bearer token, read from the named environment variable.
        #[arg(long, value_name = "VAR")]
        token_env: Option<String>,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MethodArg {
    Put,
    MergePatch,
    JsonPatch,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FeedArg {
    Auto,
    Longpoll,
    Poll,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum PreferSide {
    Mine,
    Theirs,
}
