//! One error type for every command: the sentence for stderr and the exit code that goes with it
//! (the README's exit-code table). Commands return it; only `main` prints it and exits.

use ifmatch_engine::outcome::exit;

/// A command that could not do its job, in words, with its exit code.
#[derive(Debug)]
pub struct CliError {
    /// The process exit code (`ifmatch_engine::outcome::exit`, or `merge`'s own).
    pub code: i32,
    /// One sentence: what happened and what to do.
    pub message: String,
}

impl CliError {
    /// An error with an explicit exit code.
    pub fn new(code: i32, message: impl Into<String>) -> CliError {
        CliError {
            code,
            message: message.into(),
        }
    }

    /// Bad local input (an unreadable file, invalid JSON): nothing was sent.
    pub fn local(message: impl Into<String>) -> CliError {
        CliError::new(exit::LOCAL_ERROR, message)
    }

    /// A flag's value does not make sense.
    pub fn usage(message: impl Into<String>) -> CliError {
        CliError::new(exit::USAGE, message)
    }

    /// Writing the command's own output failed (a full disk, a closed pipe, /dev/full): the
    /// result did not reach the reader, so this is never success.
    pub fn output(e: std::io::Error) -> CliError {
        CliError::local(format!("the output could not be written: {e}"))
    }
}

/// What a command ends with: its exit code (outcomes print their own sentence), or an error.
pub type Exit = Result<i32, CliError>;
