//! One file per command. Each takes its parsed arguments and the client, does its job, and
//! returns its exit code or a `CliError`; none of them exits the process.

pub mod check;
pub mod create;
pub mod delete;
pub mod edit;
pub mod get;
pub mod merge;
pub mod patch;
pub mod put;
pub mod save;
pub mod serve_demo;
pub mod watch;
