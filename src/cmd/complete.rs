//! `kubectl ds __complete WORDS…`: candidates for kubectl's plugin completion.
//!
//! kubectl (1.26 and later) runs `kubectl_complete-ds` with the words typed after `kubectl ds`,
//! the last one being the word to complete (empty when starting a new one), and reads one candidate
//! per line (a tab starts an optional description) and a final `:<directive>` line, a Cobra
//! `ShellCompDirective`. The words are read against clap's definition of the CLI, so subcommands,
//! flags and flag values never drift from `--help`. Cluster lookups are bounded by a short timeout
//! and silent on any error: a failed lookup prints no candidates, never an error, because whatever
//! is written to stderr lands in the middle of the user's prompt.

use std::io::Write;
use std::time::Duration;

use clap::{Arg, ArgAction, CommandFactory, ValueHint};
use k8s_openapi::api::core::v1::{Namespace, Node};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use kube::config::Kubeconfig;

use crate::Outcome;
use crate::cli::{Cli, CompleteArgs};
use crate::client::{Cluster, Request, connect};
use crate::engine::history;
use crate::error::Result;
use crate::fetch::{self, DsScope};
use crate::options::{Options, Scope};

/// How long all cluster lookups of one completion may take together.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);

/// Cobra's `ShellCompDirective` values (github.com/spf13/cobra, completions.go).
pub mod directive {
    /// The shell may complete file names.
    pub const DEFAULT: u8 = 0;
    /// Only the printed candidates; no file names.
    pub const NO_FILE_COMP: u8 = 4;
}

/// One candidate and the one-line description shells that show descriptions (zsh, fish) print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    pub help: String,
}

/// What kind of word is being completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// Candidates known without asking anyone: subcommands, flags, a flag's possible values.
    Fixed(Vec<Candidate>),
    DaemonSets,
    Nodes,
    Namespaces,
    /// Revision numbers of this DaemonSet's ControllerRevisions.
    Revisions {
        daemonset: String,
    },
    /// Names from the kubeconfig (contexts, clusters or users).
    Kubeconfig(KubeconfigNames),
    /// A file name: left to the shell.
    Files,
    Nothing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KubeconfigNames {
    Contexts,
    Clusters,
    Users,
}

/// The word being completed, read in the light of the words before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub want: Want,
    /// What the candidates must start with.
    pub prefix: String,
    /// Written before every candidate: the `--output=` of `--output=js`, the `-o` of `-ojs`.
    pub lead: String,
    /// Flag values among the words, by clap argument id (`""` for flags without a value).
    pub given: Vec<(String, String)>,
}

impl Completion {
    fn given(&self, id: &str) -> Option<&str> {
        self.given
            .iter()
            .rev()
            .find(|(k, _)| k == id)
            .map(|(_, v)| v.as_str())
    }
    fn given_all(&self, id: &str) -> Vec<String> {
        self.given
            .iter()
            .filter(|(k, _)| k == id)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

pub async fn run(opts: &Options, args: &CompleteArgs) -> Result<Outcome> {
    let mut cli = Cli::command();
    cli.build();
    let completion = analyze(&cli, &args.words);
    let (candidates, directive) = tokio::time::timeout(LOOKUP_TIMEOUT, candidates(opts, &completion))
        .await
        .unwrap_or((Vec::new(), directive::NO_FILE_COMP));
    let mut out = String::new();
    for c in candidates
        .iter()
        .filter(|c| c.value.starts_with(&completion.prefix))
    {
        out.push_str(&completion.lead);
        out.push_str(&c.value);
        if !c.help.is_empty() {
            out.push('\t');
            out.push_str(&c.help);
        }
        out.push('\n');
    }
    out.push_str(&format!(":{directive}\n"));
    // A closed stdout means nobody wants the candidates; nothing to report.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(Outcome::Fine)
}

/// Reads `words` (everything after `kubectl ds`, the last being completed) against the CLI
/// definition `root`, which must have been built (`Command::build`) so that global flags are
/// known to every subcommand. Mirrors how clap parses: a flag's values are taken greedily up to
/// its maximum unless the next word looks like a flag.
pub fn analyze(root: &clap::Command, words: &[String]) -> Completion {
    let (current, done) = match words.split_last() {
        Some((current, done)) => (current.as_str(), done),
        None => ("", &[][..]),
    };
    let mut cmd = root;
    let mut positionals: Vec<&str> = Vec::new();
    let mut given: Vec<(String, String)> = Vec::new();
    let mut pending: Option<(&Arg, usize)> = None;
    let mut only_positionals = false;
    let nothing = |given: Vec<(String, String)>| Completion {
        want: Want::Nothing,
        prefix: String::new(),
        lead: String::new(),
        given,
    };

    for word in done {
        let word = word.as_str();
        if let Some((arg, taken)) = pending.take()
            && accepts_value(arg, taken, word)
        {
            given.push((arg.get_id().to_string(), word.to_string()));
            if taken + 1 < value_bounds(arg).1 {
                pending = Some((arg, taken + 1));
            }
            continue;
        }
        if only_positionals || !word.starts_with('-') || word == "-" {
            if positionals.is_empty() && cmd.has_subcommands() {
                match find_subcommand(cmd, word) {
                    Some(sub) => cmd = sub,
                    None => return nothing(given),
                }
            } else {
                positionals.push(word);
            }
            continue;
        }
        if word == "--" {
            only_positionals = true;
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            if let Some(arg) = find_long(cmd, name) {
                match (takes_values(arg), value) {
                    (true, Some(v)) => given.push((arg.get_id().to_string(), v.to_string())),
                    (true, None) => pending = Some((arg, 0)),
                    (false, _) => given.push((arg.get_id().to_string(), String::new())),
                }
            }
            continue;
        }
        // A cluster of short flags (-vA), the last of which may take a value (-n x, -nx, -n=x).
        let shorts = &word[1..];
        for (i, c) in shorts.char_indices() {
            let Some(arg) = find_short(cmd, c) else { break };
            if takes_values(arg) {
                let rest = &shorts[i + c.len_utf8()..];
                let rest = rest.strip_prefix('=').unwrap_or(rest);
                if rest.is_empty() {
                    pending = Some((arg, 0));
                } else {
                    given.push((arg.get_id().to_string(), rest.to_string()));
                }
                break;
            }
            given.push((arg.get_id().to_string(), String::new()));
        }
    }

    let first_positional = positionals.first().map(|s| s.to_string());
    let mut completion = Completion {
        want: Want::Nothing,
        prefix: current.to_string(),
        lead: String::new(),
        given,
    };
    if let Some((arg, taken)) = pending
        && accepts_value(arg, taken, current)
    {
        completion.want = value_want(cmd, arg, first_positional);
        return completion;
    }
    if !only_positionals && current.starts_with('-') {
        if let Some((name, value)) = current.strip_prefix("--").and_then(|l| l.split_once('='))
            && let Some(arg) = find_long(cmd, name).filter(|a| takes_values(a))
        {
            completion.want = value_want(cmd, arg, first_positional);
            completion.lead = format!("--{name}=");
            completion.prefix = value.to_string();
            return completion;
        }
        if !current.starts_with("--")
            && let Some(c) = current.chars().nth(1)
            && let Some(arg) = find_short(cmd, c).filter(|a| takes_values(a))
            && current.len() > 2
        {
            let rest = &current[1 + c.len_utf8()..];
            completion.want = value_want(cmd, arg, first_positional);
            completion.lead = format!("-{c}");
            completion.prefix = rest.strip_prefix('=').unwrap_or(rest).to_string();
            if rest.starts_with('=') {
                completion.lead.push('=');
            }
            return completion;
        }
        completion.want = Want::Fixed(flags(cmd, &completion.given));
        return completion;
    }
    if positionals.is_empty() && cmd.has_subcommands() {
        completion.want = Want::Fixed(subcommands(cmd));
        return completion;
    }
    let slot = cmd
        .get_positionals()
        .filter(|a| !a.is_hide_set())
        .nth(positionals.len());
    completion.want = match slot.map(|a| a.get_id().as_str()) {
        Some("daemonset") => Want::DaemonSets,
        Some("node") => Want::Nodes,
        _ => Want::Nothing,
    };
    completion
}

/// What the value of `arg` can be.
fn value_want(cmd: &clap::Command, arg: &Arg, first_positional: Option<String>) -> Want {
    let possible: Vec<Candidate> = arg
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| Candidate {
            value: v.get_name().to_string(),
            help: v.get_help().map(one_line).unwrap_or_default(),
        })
        .collect();
    if !possible.is_empty() {
        return Want::Fixed(possible);
    }
    let names_daemonset = cmd
        .get_positionals()
        .next()
        .is_some_and(|a| a.get_id() == "daemonset");
    match arg.get_id().as_str() {
        "namespace" => Want::Namespaces,
        "context" => Want::Kubeconfig(KubeconfigNames::Contexts),
        "cluster" => Want::Kubeconfig(KubeconfigNames::Clusters),
        "user" => Want::Kubeconfig(KubeconfigNames::Users),
        "kubeconfig" | "snapshot" => Want::Files,
        "revision" | "to_revision" | "diff" if names_daemonset => match first_positional {
            Some(daemonset) => Want::Revisions { daemonset },
            None => Want::Nothing,
        },
        _ if matches!(
            arg.get_value_hint(),
            ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath
        ) =>
        {
            Want::Files
        }
        _ => Want::Nothing,
    }
}

fn subcommands(cmd: &clap::Command) -> Vec<Candidate> {
    let mut out = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let help = sub.get_about().map(one_line).unwrap_or_default();
        out.push(Candidate {
            value: sub.get_name().to_string(),
            help: help.clone(),
        });
        for alias in sub.get_visible_aliases() {
            out.push(Candidate {
                value: alias.to_string(),
                help: help.clone(),
            });
        }
    }
    out
}

/// The flags of `cmd`, long and short forms, leaving out those already given once that cannot be
/// given twice.
fn flags(cmd: &clap::Command, given: &[(String, String)]) -> Vec<Candidate> {
    let mut out = Vec::new();
    for arg in cmd
        .get_arguments()
        .filter(|a| !a.is_positional() && !a.is_hide_set())
    {
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if !repeatable && given.iter().any(|(id, _)| id == arg.get_id().as_str()) {
            continue;
        }
        let help = arg.get_help().map(one_line).unwrap_or_default();
        if let Some(long) = arg.get_long() {
            out.push(Candidate {
                value: format!("--{long}"),
                help: help.clone(),
            });
        }
        if let Some(short) = arg.get_short() {
            out.push(Candidate {
                value: format!("-{short}"),
                help,
            });
        }
    }
    out
}

fn find_subcommand<'a>(cmd: &'a clap::Command, word: &str) -> Option<&'a clap::Command> {
    cmd.get_subcommands()
        .find(|s| s.get_name() == word || s.get_all_aliases().any(|a| a == word))
}

fn find_long<'a>(cmd: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|all| all.contains(&name)))
}

fn find_short(cmd: &clap::Command, c: char) -> Option<&Arg> {
    cmd.get_arguments()
        .find(|a| !a.is_positional() && a.get_short() == Some(c))
}

fn takes_values(arg: &Arg) -> bool {
    arg.get_action().takes_values() && value_bounds(arg).1 > 0
}

/// The least and most values one occurrence of `arg` takes.
fn value_bounds(arg: &Arg) -> (usize, usize) {
    arg.get_num_args()
        .map(|r| (r.min_values(), r.max_values()))
        .unwrap_or((1, 1))
}

/// Whether `word` becomes the next value of `arg`, which already has `taken` values: required
/// values are taken whatever they look like; optional ones only when they do not look like a flag.
fn accepts_value(arg: &Arg, taken: usize, word: &str) -> bool {
    let (min, max) = value_bounds(arg);
    taken < min || (taken < max && !word.starts_with('-'))
}

fn one_line(text: &clap::builder::StyledStr) -> String {
    text.to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .replace('\t', " ")
        .trim()
        .to_string()
}

/// The candidates for `completion` and the directive to print after them. Lookups that fail
/// give no candidates.
async fn candidates(opts: &Options, completion: &Completion) -> (Vec<Candidate>, u8) {
    let names = |mut names: Vec<String>| {
        names.sort();
        names.dedup();
        names
            .into_iter()
            .map(|value| Candidate {
                value,
                help: String::new(),
            })
            .collect::<Vec<_>>()
    };
    let found = match &completion.want {
        Want::Fixed(c) => c.clone(),
        Want::Files => return (Vec::new(), directive::DEFAULT),
        Want::Nothing => Vec::new(),
        Want::Kubeconfig(which) => names(kubeconfig_names(opts, completion, *which)),
        Want::DaemonSets => match lookup_cluster(opts, completion).await {
            Some((cluster, ns)) => fetch::list_daemonsets(&cluster, &DsScope::Namespace(ns), None)
                .await
                .map(|l| names(l.iter().map(|d| d.name_any()).collect()))
                .unwrap_or_default(),
            None => Vec::new(),
        },
        Want::Nodes => match lookup_cluster(opts, completion).await {
            Some((cluster, _)) => list_names::<Node>(&cluster, "nodes")
                .await
                .map(names)
                .unwrap_or_default(),
            None => Vec::new(),
        },
        Want::Namespaces => match lookup_cluster(opts, completion).await {
            Some((cluster, _)) => list_names::<Namespace>(&cluster, "namespaces")
                .await
                .map(names)
                .unwrap_or_default(),
            None => Vec::new(),
        },
        Want::Revisions { daemonset } => match lookup_cluster(opts, completion).await {
            Some((cluster, ns)) => revisions(&cluster, &ns, daemonset).await.unwrap_or_default(),
            None => Vec::new(),
        },
    };
    (found, directive::NO_FILE_COMP)
}

/// Connects with the connection flags among the words (over those clap already read), and picks
/// the namespace: `-n` among the words, else the one given before them, else the context's.
async fn lookup_cluster(opts: &Options, completion: &Completion) -> Option<(Cluster, String)> {
    let mut conn = opts.connection.clone();
    let text = |id: &str| completion.given(id).map(str::to_string);
    if let Some(path) = text("kubeconfig") {
        conn.kubeconfig = Some(path.into());
    }
    conn.context = text("context").or(conn.context);
    conn.cluster = text("cluster").or(conn.cluster);
    conn.user = text("user").or(conn.user);
    conn.as_user = text("as_user").or(conn.as_user);
    conn.as_uid = text("as_uid").or(conn.as_uid);
    conn.as_group.extend(completion.given_all("as_group"));
    conn.insecure_skip_tls_verify |= completion.given("insecure_skip_tls_verify").is_some();
    conn.request_timeout = Some(LOOKUP_TIMEOUT);
    let cluster = connect(&conn).await.ok()?;
    let namespace = match (completion.given("namespace"), &opts.scope) {
        (Some(ns), _) if !ns.is_empty() => ns.to_string(),
        (_, Scope::Namespace(ns)) => ns.clone(),
        _ => cluster.default_namespace.clone(),
    };
    Some((cluster, namespace))
}

async fn list_names<K>(cluster: &Cluster, resource: &str) -> Result<Vec<String>>
where
    K: kube::Resource<Scope = k8s_openapi::ClusterResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let api: Api<K> = Api::all(cluster.client.clone());
    let req = Request {
        verb: "list",
        resource,
        namespace: None,
    };
    let items = fetch::list_all(cluster, &api, &ListParams::default(), req).await?;
    Ok(items.iter().map(|o| o.name_any()).collect())
}

/// Revision numbers, newest first, each described by its images; the current one says so.
async fn revisions(cluster: &Cluster, namespace: &str, daemonset: &str) -> Result<Vec<Candidate>> {
    let ds = fetch::get_daemonset(cluster, namespace, daemonset).await?;
    let revisions = history::revisions(&fetch::daemonset_revisions(cluster, &ds).await?);
    let current = history::daemonset_template(&ds)
        .and_then(|t| history::current_revision(t, &revisions))
        .map(|r| r.revision);
    Ok(revisions
        .iter()
        .rev()
        .map(|r| {
            let mut help = r.images().join(", ");
            if Some(r.revision) == current {
                help.push_str(" (current)");
            }
            Candidate {
                value: r.revision.to_string(),
                help: help.trim().to_string(),
            }
        })
        .collect())
}

fn kubeconfig_names(opts: &Options, completion: &Completion, which: KubeconfigNames) -> Vec<String> {
    let path = completion
        .given("kubeconfig")
        .map(std::path::PathBuf::from)
        .or_else(|| opts.connection.kubeconfig.clone());
    let kubeconfig = match path {
        Some(path) => Kubeconfig::read_from(path),
        None => Kubeconfig::read(),
    };
    let Ok(kc) = kubeconfig else {
        return Vec::new();
    };
    match which {
        KubeconfigNames::Contexts => kc.contexts.into_iter().map(|c| c.name).collect(),
        KubeconfigNames::Clusters => kc.clusters.into_iter().map(|c| c.name).collect(),
        KubeconfigNames::Users => kc.auth_infos.into_iter().map(|u| u.name).collect(),
    }
}

#[cfg(test)]
mod tests;
