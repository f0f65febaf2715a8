//! Offline snapshots: reads what kubectl wrote, from a file, a folder or standard input.
//!
//! Accepted: `kubectl get ... -o json` (a `List`, a typed list such as `NodeList`, or one object,
//! also several concatenated), the same in YAML (also `---`-separated documents), and the folder
//! `kubectl cluster-info dump --output-directory DIR` writes (or any folder of .json/.yaml files).
//! JSON and YAML are told apart by content, not by file extension.

mod bytes;
mod document;
mod field_path;
mod sieve;
mod skim;
mod walk;

use std::collections::HashSet;
use std::fmt;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use document::{Document, Objects};
use k8s_openapi::api::core::v1::{Event, Pod};
use sieve::{Outcome, Sieve};

use super::Snapshot;
use crate::engine::pods::{of_daemonsets, target_node};
use crate::error::{Error, ErrorKind, Result};

/// How to produce a snapshot kubectl-ds can read; ends most load errors.
const PRODUCE: &str =
    "produce a snapshot with `kubectl get nodes,ds,pods,controllerrevisions,events -A -o json > snap.json`";

/// Where a snapshot is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    /// A file, or a folder such as `kubectl cluster-info dump --output-directory` writes.
    Path(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdin => f.write_str(STDIN),
            Source::Path(path) => write!(f, "{}", path.display()),
        }
    }
}

const STDIN: &str = "standard input";

/// `-` is standard input; anything else a path.
pub fn parse_source(arg: &str) -> Source {
    if arg == "-" {
        Source::Stdin
    } else {
        Source::Path(PathBuf::from(arg))
    }
}

/// What a command reads from a snapshot. Given to [`load_for`], it lets the loader pass over what
/// the command cannot use, so that a snapshot of a big cluster loads fast and in little memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Every object (`kubectl ds snapshot`, `status` without a name).
    Everything,
    /// `why-not NODE`: the pods bound to the node or aimed at it, with every node, DaemonSet and
    /// ControllerRevision, and the DaemonSets' FailedCreate events.
    Node(String),
    /// `status DS`: the pods of the DaemonSets of that name (in that namespace, if given), and the
    /// pods bound to nodes where one of them is Pending (for the scheduler-level fit), with every
    /// node, DaemonSet and ControllerRevision, and the DaemonSets' FailedCreate events.
    DaemonSet { namespace: Option<String>, name: String },
}

impl Need {
    /// Drops what the command cannot use, and the fields nothing reads (`snapshot::unread`).
    /// [`load_for`] gives what [`load`] followed by this gives.
    pub fn retain(&self, snapshot: &mut Snapshot) {
        match self {
            Need::Everything => return,
            Need::Node(node) => snapshot.pods.retain(|p| target_node(p) == Some(node.as_str())),
            Need::DaemonSet { .. } => {
                let owners = self.daemonset_uids(snapshot);
                // An orphan may be adopted: the claim decides, by labels.
                let owned = |p: &Pod| of_daemonsets(p, |u| owners.contains(u));
                let pending = pending_nodes(snapshot.pods.iter().filter(|p| owned(p)));
                snapshot
                    .pods
                    .retain(|p| owned(p) || bound_to_any(node_name(p), &pending));
            }
        }
        snapshot.events.retain(is_failed_create);
        super::unread::clear(snapshot);
    }

    /// The uids of the DaemonSets `status DS` is about.
    fn daemonset_uids(&self, snapshot: &Snapshot) -> HashSet<String> {
        snapshot
            .daemonsets
            .iter()
            .filter(|d| self.names_daemonset(d.metadata.namespace.as_deref(), d.metadata.name.as_deref()))
            .filter_map(|d| d.metadata.uid.clone())
            .collect()
    }

    /// Whether a DaemonSet (or a pod's controller reference) named `name` in `namespace` is the one
    /// `status DS` is about.
    fn names_daemonset(&self, namespace: Option<&str>, name: Option<&str>) -> bool {
        match self {
            Need::DaemonSet {
                namespace: want_ns,
                name: want,
            } => name == Some(want.as_str()) && want_ns.as_deref().is_none_or(|ns| namespace == Some(ns)),
            _ => false,
        }
    }
}

/// The nodes where one of `pods` waits to be bound, owned (see `engine::pods::pending_nodes`).
fn pending_nodes<'a>(pods: impl Iterator<Item = &'a Pod>) -> HashSet<String> {
    crate::engine::pods::pending_nodes(pods)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

fn node_name(pod: &Pod) -> Option<&str> {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref())
}

fn bound_to_any(node_name: Option<&str>, nodes: &HashSet<String>) -> bool {
    node_name.is_some_and(|n| nodes.contains(n))
}

/// The only events the analysis reads (see `engine::verdict`).
fn is_failed_create(event: &Event) -> bool {
    is_failed_create_of(event.reason.as_deref(), event.involved_object.kind.as_deref())
}

fn is_failed_create_of(reason: Option<&str>, involved_kind: Option<&str>) -> bool {
    reason == Some("FailedCreate") && involved_kind == Some("DaemonSet")
}

/// Reads a snapshot from a file, a folder or standard input.
pub fn load(source: &Source) -> Result<Snapshot> {
    load_for(source, &Need::Everything)
}

/// Reads from a snapshot what a command needs (see [`Need`]): JSON Lists take the fast reader
/// (`walk`); anything it does not handle is read the thorough way (`document`), through the
/// command's sieve, then trimmed.
pub fn load_for(source: &Source, need: &Need) -> Result<Snapshot> {
    let origin = source.to_string();
    // Each input with the name its errors give.
    let mut inputs: Vec<(bytes::Bytes, String)> = Vec::new();
    match source {
        Source::Stdin => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(Error::invalid_input(
                    "the snapshot is to be read from standard input (`-`), but it is a terminal",
                )
                .with_hint(format!(
                    "pipe one in (`kubectl get nodes,ds,pods,controllerrevisions,events -A -o json | \
                     kubectl ds ... --snapshot -`), or {PRODUCE} and pass the file"
                )));
            }
            let mut bytes = Vec::new();
            stdin
                .lock()
                .read_to_end(&mut bytes)
                .map_err(|e| read_error(&origin, &e))?;
            inputs.push((bytes::Bytes::Read(bytes), origin.clone()));
        }
        Source::Path(path) => {
            let metadata = std::fs::metadata(path).map_err(|e| open_error(path, &e))?;
            let files = if metadata.is_dir() {
                snapshot_files(path)?
            } else {
                vec![path.clone()]
            };
            if files.is_empty() {
                return Err(no_snapshot_files(path));
            }
            for file in files {
                let bytes = bytes::Bytes::open(&file).map_err(|e| open_error(&file, &e))?;
                let name = if metadata.is_dir() {
                    file.display().to_string()
                } else {
                    origin.clone()
                };
                inputs.push((bytes, name));
            }
        }
    }
    let all: Vec<&bytes::Bytes> = inputs.iter().map(|(bytes, _)| bytes).collect();
    if let Some(snapshot) = walk::load(&all, need, &origin) {
        return Ok(snapshot);
    }
    let read = |objects: &mut Objects| {
        inputs
            .iter()
            .try_for_each(|(bytes, name)| read_text(bytes, name, objects))
    };
    thorough(read, need, &origin)
}

/// The thorough reading of every input (`read`), through the sieve of `need` (see `sieve`).
fn thorough(read: impl Fn(&mut Objects) -> Result<()>, need: &Need, origin: &str) -> Result<Snapshot> {
    let whole = || {
        let mut objects = Objects::default();
        read(&mut objects)?;
        let mut snapshot = finish(objects, origin)?;
        need.retain(&mut snapshot);
        Ok(snapshot)
    };
    let Some(sieve) = Sieve::new(need) else {
        return whole();
    };
    let mut objects = Objects::default();
    let (read_all, sieve) = sieve::sifting(sieve, || read(&mut objects));
    read_all?;
    let Some(sieve) = sieve else {
        return whole();
    };
    if objects.snapshot.nodes.is_empty() {
        // The error counts every object the input holds.
        return whole();
    }
    let (again, positions) = match sieve.outcome(&objects.snapshot) {
        Outcome::Done => (Vec::new(), Vec::new()),
        Outcome::Repeated => return whole(),
        Outcome::Again(positions) => {
            let mut more = Objects::default();
            let (read_all, _) = sieve::sifting(sieve.again(&positions), || read(&mut more));
            read_all?;
            (more.snapshot.pods, positions)
        }
    };
    let mut snapshot = finish(objects, origin)?;
    sieve.complete(&mut snapshot, again, &positions);
    need.retain(&mut snapshot);
    Ok(snapshot)
}

/// Reads a snapshot from text (JSON or YAML); `origin` names it in error messages.
pub fn load_str(text: &str, origin: &str) -> Result<Snapshot> {
    let mut objects = Objects::default();
    parse(text, origin, &mut objects)?;
    finish(objects, origin)
}

fn finish(objects: Objects, origin: &str) -> Result<Snapshot> {
    if objects.snapshot.nodes.is_empty() {
        return Err(no_nodes(&objects, origin));
    }
    tracing::debug!(
        "{origin}: {} nodes, {} DaemonSets, {} pods, {} ControllerRevisions, {} events; skipped {:?}",
        objects.snapshot.nodes.len(),
        objects.snapshot.daemonsets.len(),
        objects.snapshot.pods.len(),
        objects.snapshot.revisions.len(),
        objects.snapshot.events.len(),
        objects.skipped
    );
    let mut snapshot = objects.snapshot;
    snapshot.dedup();
    snapshot.taken_at = snapshot.newest_timestamp();
    Ok(snapshot)
}

fn no_nodes(objects: &Objects, origin: &str) -> Error {
    let s = &objects.snapshot;
    let message = if objects.kept() == 0 && objects.skipped_total() == 0 {
        format!("{origin} holds no Kubernetes objects")
    } else {
        let mut found = Vec::new();
        let mut count = |n: usize, one: &str, many: &str| {
            if n > 0 {
                found.push(format!("{n} {}", if n == 1 { one } else { many }));
            }
        };
        count(s.daemonsets.len(), "DaemonSet", "DaemonSets");
        count(s.pods.len(), "Pod", "Pods");
        count(s.revisions.len(), "ControllerRevision", "ControllerRevisions");
        count(s.events.len(), "Event", "Events");
        let skipped: Vec<&str> = objects.skipped.keys().map(String::as_str).collect();
        if !skipped.is_empty() {
            let n = objects.skipped_total();
            let kinds = skipped.iter().take(5).copied().collect::<Vec<_>>().join(", ");
            let more = if skipped.len() > 5 { ", ..." } else { "" };
            found.push(format!(
                "{n} other object{} ({kinds}{more})",
                if n == 1 { "" } else { "s" }
            ));
        }
        format!("{origin} has no Node objects (it has {})", found.join(", "))
    };
    Error::invalid_input(message).with_hint(format!(
        "the analysis needs the nodes to tell where DaemonSet pods should run; {PRODUCE}"
    ))
}

/// Decodes the bytes of one input and parses them. YAML is streamed (see [`bytes::Bytes::reader`]);
/// JSON the fast reader refused is read as text.
fn read_text(bytes: &bytes::Bytes, origin: &str, objects: &mut Objects) -> Result<()> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        return Err(
            Error::invalid_input(format!("{origin} is gzip-compressed")).with_hint(
                "decompress it first (`gunzip -k FILE`, or `gunzip -c FILE | kubectl ds ... --snapshot -`)",
            ),
        );
    }
    let body = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| !matches!(b, b'{' | b'[')) {
        return parse_yaml(|| bytes.reader(), origin, objects).map_err(|e| match utf8(bytes, origin) {
            Err(not_text) => not_text,
            Ok(_) => e,
        });
    }
    parse(utf8(bytes, origin)?, origin, objects)
}

fn utf8<'a>(bytes: &'a [u8], origin: &str) -> Result<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        Error::invalid_input(format!(
            "{origin} is not UTF-8 text (invalid byte at offset {at})"
        ))
        .with_hint(format!("a snapshot is JSON or YAML text; {PRODUCE}"))
    })
}

fn parse(text: &str, origin: &str, objects: &mut Objects) -> Result<()> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.trim_start().chars().next();
    let Some(first) = first else {
        return Err(Error::invalid_input(format!("{origin} is empty")).with_hint(PRODUCE));
    };
    if first == '{' || first == '[' {
        parse_json(text, origin, objects)
    } else {
        parse_yaml(|| text.as_bytes(), origin, objects)
    }
}

fn parse_json(text: &str, origin: &str, objects: &mut Objects) -> Result<()> {
    // The fast pass only tells that something is wrong; the detailed one says what and where,
    // and reads some input the fast one refuses (see `document`).
    let checkpoint = sieve::checkpoint();
    let found = match json_documents::<false>(text) {
        Ok(found) => found,
        Err(e) => {
            tracing::debug!("{origin}: fast pass failed ({e}), reading it again in detail");
            sieve::restore(checkpoint);
            json_documents::<true>(text).map_err(|e| json_error(origin, &e))?
        }
    };
    objects.append(found);
    Ok(())
}

/// A stream, so several concatenated outputs (`kubectl get nodes -o json; kubectl get ds ...`) work.
fn json_documents<const DETAILED: bool>(text: &str) -> std::result::Result<Objects, serde_json::Error> {
    let mut objects = Objects::default();
    for document in serde_json::Deserializer::from_str(text).into_iter::<Document<DETAILED>>() {
        objects.append(document?.0);
    }
    Ok(objects)
}

fn json_error(origin: &str, e: &serde_json::Error) -> Error {
    use serde_json::error::Category;
    // serde_json ends its message with the position; say it once, up front.
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let detail = full.strip_suffix(&suffix).unwrap_or(&full);
    let at = format!("{origin}, line {} column {}", e.line(), e.column());
    let (message, hint) = match e.classify() {
        Category::Syntax => (
            format!("{at}: not valid JSON: {detail}"),
            format!("fix or regenerate the file; {PRODUCE}"),
        ),
        Category::Eof => (
            format!("{at}: the JSON ends early ({detail}); the file looks truncated"),
            format!("regenerate it; {PRODUCE}"),
        ),
        Category::Data | Category::Io => (
            format!("{at}: {detail}"),
            format!("fix or regenerate the file; {PRODUCE}"),
        ),
    };
    Error::invalid_input(message).with_hint(hint)
}

/// Parses YAML documents, streamed from the readers `input` gives (one per pass).
fn parse_yaml<R: Read>(input: impl Fn() -> R, origin: &str, objects: &mut Objects) -> Result<()> {
    let checkpoint = sieve::checkpoint();
    let documents = match yaml_documents::<false>(input()) {
        Ok(documents) => documents,
        Err(e) => {
            tracing::debug!("{origin}: fast pass failed ({e}), reading it again in detail");
            sieve::restore(checkpoint);
            yaml_documents::<true>(input()).map_err(|e| yaml_error(origin, &e))?
        }
    };
    if documents.is_empty() {
        return Err(
            Error::invalid_input(format!("{origin} has no YAML documents, only comments or `---`"))
                .with_hint(PRODUCE),
        );
    }
    for found in documents {
        objects.append(found);
    }
    Ok(())
}

fn yaml_documents<const DETAILED: bool>(
    mut input: impl Read,
) -> std::result::Result<Vec<Objects>, serde_saphyr::Error> {
    // The default budget is sized for config files; a snapshot of a big cluster has millions of
    // nodes and events. Depth and alias limits stay at their defaults.
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: usize::MAX,
            max_nodes: usize::MAX,
            max_total_scalar_bytes: usize::MAX,
            max_documents: usize::MAX,
            max_reader_input_bytes: None,
        },
        with_snippet: false,
    };
    serde_saphyr::read_with_options::<_, Document<DETAILED>>(&mut input, options)
        .map(|document| document.map(|Document(objects)| objects))
        .collect()
}

fn yaml_error(origin: &str, e: &serde_saphyr::Error) -> Error {
    let rendered = e.render_with_formatter(&serde_saphyr::UserMessageFormatter);
    let message = match e.location() {
        // The rendered message ends with the position too; say it once, up front.
        Some(at) => {
            let suffix = format!(" at line {}, column {}", at.line(), at.column());
            let detail = rendered.strip_suffix(&suffix).unwrap_or(&rendered);
            format!("{origin}, line {} column {}: {detail}", at.line(), at.column())
        }
        None => format!("{origin}: {rendered}"),
    };
    Error::invalid_input(message).with_hint(format!("fix or regenerate the file; {PRODUCE}"))
}

/// The files of a `kubectl cluster-info dump --output-directory` folder that matter here.
const DUMP_FILES: [&str; 4] = ["daemonsets", "pods", "events", "controllerrevisions"];

fn no_snapshot_files(dir: &Path) -> Error {
    Error::invalid_input(format!(
        "{} has no snapshot files: expected the folder `kubectl cluster-info dump --output-directory` \
         writes (nodes.json, <namespace>/daemonsets.json, pods.json, events.json) or .json/.yaml files",
        dir.display()
    ))
    .with_hint(format!(
        "{PRODUCE}, or `kubectl cluster-info dump --all-namespaces --output-directory {}`",
        dir.display()
    ))
}

/// A cluster-info dump (it has `nodes.json` on top) gives `nodes.*` and, per namespace folder,
/// the [`DUMP_FILES`]; any other folder gives its .json/.yaml/.yml files and those one level down.
/// Sorted, so the result does not depend on the file system's order.
fn snapshot_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let top = entries(dir)?;
    let is_dump = top.iter().any(|p| p.is_file() && stem_is(p, "nodes"));
    let mut files = Vec::new();
    for path in &top {
        if path.is_file() {
            if has_snapshot_extension(path) && (!is_dump || stem_is(path, "nodes")) {
                files.push(path.clone());
            }
        } else if path.is_dir() {
            for inner in entries(path)? {
                let wanted = if is_dump {
                    DUMP_FILES.iter().any(|name| stem_is(&inner, name))
                } else {
                    true
                };
                if inner.is_file() && has_snapshot_extension(&inner) && wanted {
                    files.push(inner);
                }
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The folder's entries, without hidden ones.
fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = std::fs::read_dir(dir).map_err(|e| open_error(dir, &e))?;
    let mut paths = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| open_error(dir, &e))?;
        if !entry.file_name().to_string_lossy().starts_with('.') {
            paths.push(entry.path());
        }
    }
    Ok(paths)
}

fn has_snapshot_extension(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        ["json", "yaml", "yml"]
            .iter()
            .any(|known| e.eq_ignore_ascii_case(known))
    })
}

fn stem_is(path: &Path, name: &str) -> bool {
    has_snapshot_extension(path) && path.file_stem().is_some_and(|s| s == name)
}

fn open_error(path: &Path, e: &std::io::Error) -> Error {
    let shown = path.display();
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            Error::new(ErrorKind::NotFound, format!("snapshot {shown} does not exist")).with_hint(PRODUCE)
        }
        std::io::ErrorKind::PermissionDenied => Error::new(
            ErrorKind::Io,
            format!("cannot read snapshot {shown}: permission denied"),
        )
        .with_hint("check the file's permissions"),
        _ => read_error(&shown.to_string(), e),
    }
}

fn read_error(origin: &str, e: &std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("cannot read snapshot {origin}: {e}"))
}

#[cfg(test)]
mod tests;
