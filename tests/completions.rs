//! Shell completion scripts and man pages are generated from the clap definition of the CLI.
//!
//! The scripts in `completions/` are committed; `completion_scripts_match_the_cli` fails when they
//! no longer match what the current CLI generates. Regenerate them with
//! `scripts/gen-completions.sh` (which runs this test with `KUBECTL_DS_BLESS=1`). The man pages
//! are not committed: the release script runs `man_pages_cover_every_command` with
//! `KUBECTL_DS_MAN_DIR=<folder>` to write them there.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::CommandFactory;
use clap_complete::{Generator, Shell};
use kubectl_ds::cli::Cli;

const BIN: &str = "kubectl-ds";
const SHELLS: [Shell; 4] = [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell];

fn completions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("completions")
}

/// The CLI as the scripts should see it. clap_complete does not leave out hidden subcommands, so
/// the root is rebuilt without them (the hidden `__complete` is for kubectl, not for people).
fn visible_cli() -> clap::Command {
    let full = Cli::command();
    assert_eq!(full.get_name(), BIN);
    let mut cmd = clap::Command::new(BIN)
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .disable_help_subcommand(true)
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    if let Some(about) = full.get_about() {
        cmd = cmd.about(about.clone());
    }
    cmd
}

fn generated(shell: Shell) -> (PathBuf, String) {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut visible_cli(), BIN, &mut buf);
    let path = completions_dir().join(shell.file_name(BIN));
    let mut script = String::from_utf8(buf).expect("completion scripts are UTF-8");
    if shell == Shell::Bash {
        // clap_complete 4.6 spells the bash state of a subcommand of a hyphenated binary two ways
        // (`kubectl__ds__subcmd__status` in the dispatch loop, `kubectl__subcmd__ds__subcmd__status`
        // in the case arms), so nothing past the subcommand completes (clap-rs/clap#6421).
        script = script.replace("kubectl__subcmd__ds__subcmd__", "kubectl__ds__subcmd__");
    }
    (path, script)
}

fn bless() -> bool {
    std::env::var_os("KUBECTL_DS_BLESS").is_some_and(|v| !v.is_empty() && v != "0")
}

#[test]
fn scripts_are_made_from_the_whole_visible_cli() {
    let full = Cli::command();
    let visible = visible_cli();
    let names = |c: &clap::Command| -> Vec<String> {
        c.get_subcommands()
            .filter(|s| !s.is_hide_set())
            .map(|s| s.get_name().to_string())
            .collect()
    };
    assert_eq!(names(&visible), names(&full));
    assert_eq!(
        visible.get_subcommands().count(),
        names(&full).len(),
        "hidden subcommands left in"
    );
    let ids =
        |c: &clap::Command| -> Vec<String> { c.get_arguments().map(|a| a.get_id().to_string()).collect() };
    assert_eq!(ids(&visible), ids(&full));
}

#[test]
fn completion_scripts_match_the_cli() {
    let mut stale = Vec::new();
    for shell in SHELLS {
        let (path, script) = generated(shell);
        if bless() {
            std::fs::write(&path, &script).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(committed) if committed == script => {}
            Ok(_) => stale.push(format!("{} differs from what the CLI generates", path.display())),
            Err(e) => stale.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        stale.is_empty(),
        "the completion scripts are out of date with the CLI:\n  {}\nregenerate them with scripts/gen-completions.sh and commit the result",
        stale.join("\n  ")
    );
}

/// The bash script, loaded into a real bash, completes subcommands, flags and flag values.
#[test]
fn bash_script_completes_subcommands_flags_and_values() {
    let script = completions_dir().join(Shell::Bash.file_name(BIN));
    let complete = |line: &[&str]| -> Vec<String> {
        let words = line
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let probe = format!(
            "source {script:?}\nCOMP_WORDS=({words})\nCOMP_CWORD={cword}\n\
             _kubectl__ds kubectl-ds '{cur}' '{prev}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            cword = line.len() - 1,
            cur = line[line.len() - 1],
            prev = line[line.len() - 2],
        );
        let out = Command::new("bash")
            .arg("--norc")
            .arg("-c")
            .arg(&probe)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "bash failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().to_string())
            .collect()
    };
    let subs = complete(&["kubectl-ds", ""]);
    for s in [
        "status",
        "why-not-scheduled",
        "why-not",
        "rollout",
        "history",
        "snapshot",
    ] {
        assert!(subs.contains(&s.to_string()), "{s} not offered: {subs:?}");
    }
    assert!(
        !subs.iter().any(|s| s == "__complete"),
        "hidden subcommand offered: {subs:?}"
    );
    let flags = complete(&["kubectl-ds", "history", "--"]);
    for f in ["--revision", "--diff", "--namespace", "--kubeconfig"] {
        assert!(flags.contains(&f.to_string()), "{f} not offered: {flags:?}");
    }
    let values = complete(&["kubectl-ds", "status", "-o", ""]);
    assert_eq!(values, ["wide", "json", "yaml", "name"]);
}

#[test]
fn kubectl_completion_helper_hands_every_word_to_the_hidden_subcommand() {
    let path = completions_dir().join("kubectl_complete-ds");
    let text = std::fs::read_to_string(&path).expect("completions/kubectl_complete-ds");
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["#!/bin/sh", "exec kubectl-ds __complete -- \"$@\""]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).expect("metadata").permissions().mode();
        assert!(mode & 0o111 != 0, "{} is not executable", path.display());
    }
}

#[test]
fn man_pages_cover_every_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    clap_mangen::generate_to(Cli::command(), dir.path()).expect("man pages render");
    let read =
        |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    let root = read("kubectl-ds.1");
    assert!(
        root.contains("kubectl ds"),
        "the synopsis names the command as users type it"
    );
    for flag in [
        "namespace",
        "all\\-namespaces",
        "kubeconfig",
        "context",
        "request\\-timeout",
    ] {
        assert!(
            root.contains(&format!("\\-\\-{flag}")),
            "--{flag} missing from kubectl-ds.1"
        );
    }
    for sub in [
        "status",
        "why-not-scheduled",
        "rollout",
        "rollout-watch",
        "history",
        "undo",
        "pause",
        "resume",
        "restart",
        "snapshot",
    ] {
        let page = read(&format!("kubectl-ds-{sub}.1"));
        assert!(
            page.contains(".SH SYNOPSIS"),
            "kubectl-ds-{sub}.1 has no synopsis"
        );
    }
    assert!(
        !dir.path().join("kubectl-ds-__complete.1").exists(),
        "the hidden completion subcommand has no man page"
    );
    let history = read("kubectl-ds-history.1");
    assert!(history.contains("\\-\\-revision") && history.contains("\\-\\-diff"));

    if let Some(out) = std::env::var_os("KUBECTL_DS_MAN_DIR") {
        std::fs::create_dir_all(&out).expect("create KUBECTL_DS_MAN_DIR");
        clap_mangen::generate_to(Cli::command(), &out).expect("write man pages");
    }
}
