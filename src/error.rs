//! Error kinds and the exit codes they map to. Every error names what went wrong and what to do.

use std::fmt;
use std::process::ExitCode;

/// Exit codes, documented in the README ("Exit codes").
pub mod exit {
    /// The command worked and what was asked about is fine.
    pub const OK: u8 = 0;
    /// The command worked and found that what was asked about is not fine
    /// (a failed or stuck rollout, a DaemonSet pod that is not running where it should).
    pub const NOT_FINE: u8 = 1;
    /// The command line is wrong: unknown flag, bad flag value, missing argument.
    pub const USAGE: u8 = 2;
    /// The command could not do its work: cluster unreachable, forbidden, object not found,
    /// malformed snapshot, a write refused because someone else changed the object.
    pub const RUNTIME: u8 = 3;
    /// Interrupted with Ctrl-C (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: u8 = 130;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Usage,
    NotFound,
    Forbidden,
    Unauthorized,
    Unreachable,
    Timeout,
    Conflict,
    InvalidInput,
    Api,
    Unsupported,
    /// stdout was closed (e.g. `| head`): not an error for the user.
    BrokenPipe,
    Io,
    /// Ctrl-C during a long-running command (`rollout watch`).
    Interrupted,
}

impl ErrorKind {
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorKind::Usage => exit::USAGE,
            ErrorKind::BrokenPipe => exit::OK,
            ErrorKind::Interrupted => exit::INTERRUPTED,
            _ => exit::RUNTIME,
        }
    }
}

/// An error for the user: one message plus an optional hint saying what to do.
#[derive(Debug)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
        }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.exit_code())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n{hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::new(ErrorKind::BrokenPipe, "broken pipe")
        } else {
            Error::new(ErrorKind::Io, format!("writing output: {e}"))
        }
    }
}
