use super::*;

fn complete(words: &[&str]) -> Completion {
    let mut cli = Cli::command();
    cli.build();
    let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    analyze(&cli, &words)
}

/// The candidates a user would see: fixed ones, filtered by the prefix as `run` filters them.
fn shown(c: &Completion) -> Vec<String> {
    match &c.want {
        Want::Fixed(cands) => cands
            .iter()
            .map(|cand| cand.value.clone())
            .filter(|v| v.starts_with(&c.prefix))
            .collect(),
        other => panic!("expected fixed candidates, got {other:?}"),
    }
}

#[test]
fn first_word_offers_every_visible_subcommand_and_alias() {
    let c = complete(&[""]);
    let subs = shown(&c);
    for expected in [
        "status",
        "why-not-scheduled",
        "why-not",
        "rollout",
        "history",
        "undo",
        "pause",
        "resume",
        "restart",
        "snapshot",
    ] {
        assert!(
            subs.contains(&expected.to_string()),
            "{expected} missing from {subs:?}"
        );
    }
    assert!(
        !subs.iter().any(|s| s.starts_with("__")),
        "hidden subcommand offered: {subs:?}"
    );
}

#[test]
fn a_partial_subcommand_is_completed_by_prefix() {
    assert_eq!(shown(&complete(&["re"])), ["resume", "restart"]);
    assert_eq!(shown(&complete(&["rollout", ""])), ["watch"]);
}

#[test]
fn the_daemonset_positional_of_every_single_daemonset_command_wants_daemonsets() {
    for cmd in [
        &["status", ""][..],
        &["history", ""],
        &["undo", ""],
        &["pause", ""],
        &["resume", ""],
        &["restart", ""],
        &["rollout", "watch", ""],
        &["why-not", "node-1", ""],
        &["why-not-scheduled", "node-1", ""],
    ] {
        assert_eq!(complete(cmd).want, Want::DaemonSets, "{cmd:?}");
    }
}

#[test]
fn why_not_first_positional_wants_nodes() {
    assert_eq!(complete(&["why-not", ""]).want, Want::Nodes);
    assert_eq!(complete(&["why-not", "--explain", "gpu"]).want, Want::Nodes);
    assert_eq!(complete(&["why-not", "gpu"]).prefix, "gpu");
}

#[test]
fn nothing_after_the_last_positional() {
    assert_eq!(complete(&["pause", "agent", ""]).want, Want::Nothing);
    assert_eq!(complete(&["why-not", "n", "ds", ""]).want, Want::Nothing);
    assert_eq!(complete(&["snapshot", ""]).want, Want::Nothing);
    assert_eq!(complete(&["no-such-command", ""]).want, Want::Nothing);
}

#[test]
fn namespace_is_read_from_every_spelling_of_the_flag() {
    for words in [
        &["status", "-n", "kube-system", ""][..],
        &["status", "--namespace", "kube-system", ""],
        &["status", "--namespace=kube-system", ""],
        &["status", "-nkube-system", ""],
        &["status", "-vn", "kube-system", ""],
        &["-n", "kube-system", "status", ""],
    ] {
        let c = complete(words);
        assert_eq!(c.want, Want::DaemonSets, "{words:?}");
        assert_eq!(c.given("namespace"), Some("kube-system"), "{words:?}");
    }
}

#[test]
fn flag_values_come_from_the_cli_definition() {
    assert_eq!(
        shown(&complete(&["status", "-o", ""])),
        ["wide", "json", "yaml", "name"]
    );
    assert_eq!(
        shown(&complete(&["status", "--color", ""])),
        ["auto", "always", "never"]
    );
    let c = complete(&["status", "--output=j"]);
    assert_eq!(
        (shown(&c), c.lead.as_str()),
        (vec!["json".to_string()], "--output=")
    );
    let c = complete(&["status", "-oy"]);
    assert_eq!((shown(&c), c.lead.as_str()), (vec!["yaml".to_string()], "-o"));
}

#[test]
fn namespace_context_and_file_flags() {
    assert_eq!(complete(&["status", "-n", ""]).want, Want::Namespaces);
    assert_eq!(
        complete(&["history", "--context", ""]).want,
        Want::Kubeconfig(KubeconfigNames::Contexts)
    );
    assert_eq!(complete(&["status", "--kubeconfig", ""]).want, Want::Files);
    assert_eq!(complete(&["status", "--snapshot", ""]).want, Want::Files);
    assert_eq!(complete(&["why-not", "n", "--snapshot", "ex"]).want, Want::Files);
}

#[test]
fn revision_flags_want_the_named_daemonsets_revisions() {
    let agent = Want::Revisions {
        daemonset: "agent".into(),
    };
    assert_eq!(complete(&["history", "agent", "--revision", ""]).want, agent);
    assert_eq!(complete(&["history", "agent", "--diff", ""]).want, agent);
    assert_eq!(complete(&["history", "agent", "--diff", "1", ""]).want, agent);
    assert_eq!(complete(&["undo", "agent", "--to-revision", ""]).want, agent);
    assert_eq!(complete(&["undo", "agent", "--to-revision=2"]).want, agent);
    // Two values is the most --diff takes; the next word is a positional, and history has one.
    assert_eq!(
        complete(&["history", "agent", "--diff", "1", "2", ""]).want,
        Want::Nothing
    );
    // No DaemonSet named yet: nothing to look up.
    assert_eq!(complete(&["history", "--revision", ""]).want, Want::Nothing);
}

#[test]
fn a_dash_lists_flags_of_the_subcommand_without_the_ones_already_given() {
    let flags = shown(&complete(&["status", "-"]));
    for f in ["-n", "--namespace", "--snapshot", "-o", "--output", "--help"] {
        assert!(flags.contains(&f.to_string()), "{f} missing from {flags:?}");
    }
    assert!(
        !flags.contains(&"--explain".to_string()),
        "why-not's flag offered for status"
    );
    let flags = shown(&complete(&["status", "-n", "x", "--"]));
    assert!(!flags.contains(&"--namespace".to_string()), "{flags:?}");
    assert!(flags.contains(&"--as-group".to_string()), "{flags:?}");
    assert!(flags.iter().all(|f| f.starts_with("--")), "{flags:?}");
    let flags = shown(&complete(&["why-not", "node", "--ex"]));
    assert_eq!(flags, ["--explain"]);
}

#[test]
fn after_a_double_dash_every_word_is_positional() {
    assert_eq!(complete(&["status", "--", "-"]).want, Want::DaemonSets);
}

#[test]
fn every_argument_id_read_here_exists_in_the_cli() {
    let mut cli = Cli::command();
    cli.build();
    let status = cli.find_subcommand("status").expect("status");
    let ids: Vec<String> = status.get_arguments().map(|a| a.get_id().to_string()).collect();
    for id in [
        "namespace",
        "context",
        "cluster",
        "user",
        "kubeconfig",
        "snapshot",
        "as_user",
        "as_group",
        "as_uid",
        "insecure_skip_tls_verify",
        "daemonset",
    ] {
        assert!(
            ids.contains(&id.to_string()),
            "status has no argument {id}: {ids:?}"
        );
    }
    let ids = |name: &str| -> Vec<String> {
        cli.find_subcommand(name)
            .expect(name)
            .get_arguments()
            .map(|a| a.get_id().to_string())
            .collect()
    };
    assert!(ids("history").contains(&"revision".to_string()));
    assert!(ids("history").contains(&"diff".to_string()));
    assert!(ids("undo").contains(&"to_revision".to_string()));
    assert!(ids("why-not-scheduled").contains(&"node".to_string()));
}
