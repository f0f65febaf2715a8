//! kubectl-ds: DaemonSet operations for kubectl.
//!
//! Data flows one way: flags (`cli`, `options`) → client (`client`) → fetch (`fetch`) →
//! snapshot (`snapshot`) → evaluate (`engine`, pure) → render (`render`). Each subcommand in `cmd`
//! wires those steps together and decides nothing itself.

pub mod analysis;
pub mod cli;
pub mod client;
pub mod cmd;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod options;
pub mod render;
pub mod selector;
pub mod snapshot;
pub mod suggest;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::Cli;
use crate::error::{Error, ErrorKind};

/// What a command found, once it ran to the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// What was asked about is fine.
    Fine,
    /// The command worked and found a problem (exit code 1).
    NotFine,
}

impl Outcome {
    pub fn fine_if(fine: bool) -> Outcome {
        if fine { Outcome::Fine } else { Outcome::NotFine }
    }
}

/// Parses the command line, runs the command and returns the process exit code.
pub fn main_with_args(args: Vec<std::ffi::OsString>) -> ExitCode {
    let mut command = Cli::command();
    command = command.bin_name(display_name(args.first()));
    let cli = match command
        .try_get_matches_from_mut(args)
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                error::exit::USAGE
            } else {
                error::exit::OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_logging(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return report(&Error::new(
                ErrorKind::Io,
                format!("cannot start the async runtime: {e}"),
            ));
        }
    };
    let result = runtime.block_on(cmd::run(cli));
    // A blocking task may still run (an exec credential plugin given up on): do not wait for it.
    runtime.shutdown_background();
    match result {
        Ok(Outcome::Fine) => ExitCode::from(error::exit::OK),
        Ok(Outcome::NotFine) => ExitCode::from(error::exit::NOT_FINE),
        Err(e) => report(&e),
    }
}

fn report(e: &Error) -> ExitCode {
    if e.kind != ErrorKind::BrokenPipe {
        eprintln!("error: {e}");
    }
    e.exit_code()
}

/// The name usage lines show. kubectl execs a plugin in its own place (no parent to tell by), so
/// as krew's guide says, a binary named `kubectl-…` is a plugin and shows `kubectl ds`; a binary
/// renamed to anything else shows that name.
fn display_name(argv0: Option<&std::ffi::OsString>) -> String {
    let name = argv0
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubectl-ds".to_string());
    if name.starts_with("kubectl-") {
        cli::DISPLAY_NAME.to_string()
    } else {
        name
    }
}

/// `-v` turns on debug logs for this tool; `-vvv` adds the client library's. Headers and bodies are
/// never logged, so credentials cannot leak through logs.
fn init_logging(verbosity: u8) {
    let filter = match verbosity {
        // Failed requests surface as our own errors, with context; the client's own logs would
        // repeat them (a watch retrying through an apiserver restart logs every attempt).
        0 => "warn,kube_client=off,kube_runtime=off",
        1 => "kubectl_ds=info,warn",
        2 => "kubectl_ds=debug,warn",
        _ => "kubectl_ds=trace,kube_client=debug,kube_runtime=debug,warn",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
