//! The command line as clap sees it: flags and arguments, nothing else.
//! `options.rs` turns these into validated options the commands use.

use clap::{Args, Parser, Subcommand, ValueEnum};

/// What kubectl-ds prints in its usage lines when its binary is named `kubectl-…` (see
/// `display_name` in lib.rs).
pub const DISPLAY_NAME: &str = "kubectl ds";

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-ds",
    bin_name = DISPLAY_NAME,
    version,
    about = "DaemonSet operations for kubectl: why a node has no pod, per-node coverage, rollouts",
    long_about = "DaemonSet operations for kubectl.\n\n\
        kubectl ds explains, for any node and any DaemonSet, whether the DaemonSet's pod is there \
        and exactly which rule keeps it off, evaluated the way the DaemonSet controller does. It \
        also shows per-node coverage, follows rollouts, and rolls back, pauses, resumes and \
        restarts DaemonSets with writes that never overwrite someone else's change.",
    after_help = "Exit codes: 0 fine, 1 the command worked and found a problem, 2 usage error, \
        3 could not do the work (unreachable, forbidden, not found, bad snapshot).",
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand accepts, after the subcommand as kubectl users type them.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Namespace to look in (default: the kubeconfig context's namespace)
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Look in every namespace
    #[arg(short = 'A', long, global = true)]
    pub all_namespaces: bool,
    /// The kubeconfig context to use
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Path to the kubeconfig file to use (that file only; no merging with $KUBECONFIG)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// The kubeconfig cluster to use
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// The kubeconfig user to use
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Username to impersonate for the operation
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation (repeatable)
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// UID to impersonate for the operation
    #[arg(long = "as-uid", global = true, value_name = "UID")]
    pub as_uid: Option<String>,
    /// How long to wait for a single request to the server (e.g. 5s, 1m; 0 = no limit)
    #[arg(long, global = true, value_name = "DURATION", default_value = "0", value_parser = duration_arg)]
    pub request_timeout: std::time::Duration,
    /// Do not verify the server's certificate (insecure)
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Output format: wide, json, yaml or name (default: a table)
    #[arg(short = 'o', long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<OutputFormat>,
    /// Label selector to filter DaemonSets (e.g. app=agent,tier!=test)
    #[arg(short = 'l', long, global = true, value_name = "SELECTOR", value_parser = selector_arg)]
    pub selector: Option<String>,
    /// Do not print table headers
    #[arg(long, global = true)]
    pub no_headers: bool,
    /// When to color output (NO_COLOR in the environment means never, unless --color=always)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Print debug logs to stderr (-v, -vv, -vvv); credentials are never logged
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Wide,
    Json,
    Yaml,
    Name,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// DaemonSet health; with a name, per-node coverage grouped by verdict and reason
    Status(StatusArgs),
    /// Every DaemonSet against one node: is its pod there, and if not, exactly why
    #[command(name = "why-not-scheduled", visible_alias = "why-not")]
    WhyNot(WhyNotArgs),
    /// Rollout operations
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Revisions of a DaemonSet (ControllerRevisions), one template, or a diff of two
    History(HistoryArgs),
    /// Roll a DaemonSet back to an earlier revision
    Undo(UndoArgs),
    /// Pause a DaemonSet's rollout (switches it to OnDelete and records the strategy)
    Pause(NameArgs),
    /// Resume a paused DaemonSet's rollout (restores the recorded update strategy)
    Resume(NameArgs),
    /// Restart every pod of a DaemonSet (as kubectl rollout restart)
    Restart(NameArgs),
    /// Save what the analysis needs from the cluster to a file, for --snapshot
    Snapshot(SnapshotArgs),
    /// Completion candidates for kubectl's plugin completion (kubectl_complete-ds)
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The DaemonSet to show per-node coverage for
    pub daemonset: Option<String>,
    /// Read cluster state from a snapshot file or folder instead of the cluster (- for stdin)
    #[arg(long, value_name = "FILE", value_parser = snapshot_arg)]
    pub snapshot: Option<crate::snapshot::Source>,
}

#[derive(Debug, Args)]
pub struct WhyNotArgs {
    /// The node to check
    pub node: String,
    /// Only this DaemonSet
    pub daemonset: Option<String>,
    /// Show every rule evaluated, including the tolerations the controller adds (like -o wide)
    #[arg(long)]
    pub explain: bool,
    /// Read cluster state from a snapshot file or folder instead of the cluster (- for stdin)
    #[arg(long, value_name = "FILE", value_parser = snapshot_arg)]
    pub snapshot: Option<crate::snapshot::Source>,
}

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Follow a rollout live until it finishes, stalls or times out
    Watch(WatchArgs),
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The DaemonSet to watch
    pub daemonset: String,
    /// Give up after this long (e.g. 10m; 0 = never)
    #[arg(long, default_value = "0", value_name = "DURATION", value_parser = duration_arg)]
    pub timeout: std::time::Duration,
    /// Fail when the rollout makes no progress for this long
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = duration_arg)]
    pub progress_deadline: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The DaemonSet
    pub daemonset: String,
    /// Print the pod template of this revision
    #[arg(long, value_name = "N", conflicts_with = "diff", allow_negative_numbers = true,
          value_parser = revision_number)]
    pub revision: Option<i64>,
    /// Diff two revisions field by field (B defaults to the current one)
    #[arg(long, num_args = 1..=2, value_names = ["A", "B"])]
    pub diff: Vec<i64>,
}

#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The DaemonSet
    pub daemonset: String,
    /// The revision to roll back to (default: the one before the newest)
    // A negative revision is refused as a usage error when the command line is read, before the
    // kubeconfig is read or a connection made (kubectl refuses it only after reading the history).
    #[arg(long, default_value_t = 0, value_name = "N", allow_negative_numbers = true,
          value_parser = revision_number)]
    pub to_revision: i64,
    /// Show what would change without changing anything
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct NameArgs {
    /// The DaemonSet
    pub daemonset: String,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {}

#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words typed so far after `kubectl ds`, the last one being completed
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

/// A revision number as `rollout undo --to-revision` and `history --revision` take it: 0 or more.
fn revision_number(text: &str) -> Result<i64, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if n >= 0 => Ok(n),
        Ok(_) => Err("a revision number is 0 or more (the numbers `kubectl ds history` lists; 0 means the previous one)".into()),
        Err(_) => Err("expected a whole number such as 3".into()),
    }
}

/// A duration as kubectl takes it (`30`, `30s`, `1m30s`), read when the command line is.
fn duration_arg(text: &str) -> Result<std::time::Duration, String> {
    crate::options::parse_duration("", text).map_err(|_| {
        "expected a duration such as 30s, 5m or 1h30m (or a whole number of seconds)".to_string()
    })
}

/// Where a snapshot is read from: `-` is standard input, anything else a path (whether it can be
/// read is told when it is read).
fn snapshot_arg(text: &str) -> Result<crate::snapshot::Source, String> {
    if text.is_empty() {
        return Err("expected a snapshot file, a folder, or - for standard input".to_string());
    }
    Ok(crate::snapshot::parse_source(text))
}

/// A label selector, checked when the command line is read; kept as typed for list requests.
fn selector_arg(text: &str) -> Result<String, String> {
    crate::selector::Selector::parse(text)
        .map(|_| text.to_string())
        .map_err(|e| e.message)
}
