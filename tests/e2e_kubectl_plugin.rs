//! kubectl ds as kubectl runs it: the real kubectl finds `kubectl-ds` on PATH and execs it, and
//! completes its arguments through `kubectl_complete-ds` (completions/), against the real control
//! plane.

mod support;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::ControllerRevision;
use kube::api::{Api, ListParams};
use serde_json::json;
use support::{NodeSpec, TestEnv, daemonset, merge, patch_daemonset, wait_rolled_out};

/// A folder on PATH with `kubectl-ds` (this build) and the completion helper, as a user who
/// installed the plugin has; plus a HOME of its own.
struct PluginPath {
    dir: tempfile::TempDir,
    path: OsString,
}

impl PluginPath {
    fn new(env: &TestEnv) -> PluginPath {
        let dir = tempfile::tempdir().expect("temp dir");
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).expect("bin dir");
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kubectl-ds"), bin.join("kubectl-ds"))
            .expect("link kubectl-ds");
        let helper = support::repo_root().join("completions/kubectl_complete-ds");
        std::fs::copy(&helper, bin.join("kubectl_complete-ds")).expect("copy kubectl_complete-ds");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        let path = std::env::join_paths([
            bin.as_path(),
            env.cluster.bin_dir.as_path(),
            Path::new("/usr/local/bin"),
            Path::new("/usr/bin"),
            Path::new("/bin"),
        ])
        .expect("PATH");
        PluginPath { dir, path }
    }

    /// The real kubectl, with only PATH, HOME and KUBECONFIG set (kubectl hands the environment
    /// to plugins; its own flags before the plugin name are not supported for plugins).
    fn kubectl(&self, env: &TestEnv, kubeconfig: &Path, args: &[&str]) -> Output {
        Command::new(env.cluster.bin_dir.join("kubectl"))
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", self.dir.path().join("home"))
            .env("KUBECONFIG", kubeconfig)
            .args(args)
            .output()
            .expect("run kubectl")
    }
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `kubectl __complete ds WORDS…`: the candidates (descriptions cut off) and the directive.
fn complete(plugin: &PluginPath, env: &TestEnv, kubeconfig: &Path, words: &[&str]) -> (Vec<String>, String) {
    let mut args = vec!["__complete", "ds"];
    args.extend_from_slice(words);
    let out = plugin.kubectl(env, kubeconfig, &args);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("error"),
        "kubectl {args:?} wrote to stderr:\n{stderr}"
    );
    let mut lines: Vec<&str> = stdout.lines().filter(|l| !l.is_empty()).collect();
    let directive = lines.pop().unwrap_or_default().to_string();
    assert!(
        directive.starts_with(':'),
        "no directive line from kubectl {args:?}:\n{stdout}"
    );
    let candidates = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap_or_default().to_string())
        .collect();
    (candidates, directive)
}

async fn two_nodes_and_an_agent(env: &TestEnv, prefix: &str) {
    env.create_node(NodeSpec::new(&format!("{prefix}-a"))).await;
    env.create_node(NodeSpec::new(&format!("{prefix}-b"))).await;
    env.create_daemonset(daemonset("agent")).await;
    env.create_daemonset(merge(
        daemonset("logger"),
        json!({"spec": {"template": {"spec": {"nodeSelector": {"kubernetes.io/hostname": format!("{prefix}-a")}}}}}),
    ))
    .await;
    wait_rolled_out(env, "agent", 2).await;
    wait_rolled_out(env, "logger", 1).await;
}

#[tokio::test]
async fn status_and_why_not_run_as_kubectl_subcommands() {
    let env = TestEnv::new("plugin-run").await;
    two_nodes_and_an_agent(&env, "plugin-run").await;
    let plugin = PluginPath::new(&env);
    let kubeconfig = &env.cluster.kubeconfig;

    let out = plugin.kubectl(&env, kubeconfig, &["ds", "status", "-n", &env.ns]);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "kubectl ds status:\n{stdout}\n{stderr}"
    );
    let row = |ds: &str| -> Vec<String> {
        stdout
            .lines()
            .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .find(|cols| cols.get(1).map(String::as_str) == Some(ds))
            .unwrap_or_else(|| panic!("no row for {ds}:\n{stdout}"))
    };
    assert_eq!(row("agent")[0], env.ns, "{stdout}");
    assert_eq!(row("agent")[2], "2", "agent's DESIRED:\n{stdout}");
    assert_eq!(row("logger")[2], "1", "logger's DESIRED:\n{stdout}");

    let out = plugin.kubectl(
        &env,
        kubeconfig,
        &["ds", "why-not", "plugin-run-b", "-n", &env.ns],
    );
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "kubectl ds why-not:\n{stdout}\n{stderr}"
    );
    let row = |ds: &str| -> String {
        stdout
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(ds))
            .unwrap_or_else(|| panic!("no row for {ds}:\n{stdout}"))
            .to_string()
    };
    assert!(row("agent").contains("running"), "{stdout}");
    assert!(row("logger").contains("not-eligible"), "{stdout}");
    assert!(
        row("logger").contains("nodeSelector"),
        "the reason names the rule:\n{stdout}"
    );
}

#[tokio::test]
async fn help_through_kubectl_names_the_command_kubectl_ds() {
    let env = TestEnv::new("plugin-help").await;
    let plugin = PluginPath::new(&env);
    for args in [&["ds", "--help"][..], &["ds", "status", "--help"]] {
        let out = plugin.kubectl(&env, &env.cluster.kubeconfig, args);
        let (stdout, stderr) = text(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "kubectl {args:?}:\n{stdout}\n{stderr}"
        );
        let usage = stdout
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .unwrap_or_else(|| panic!("no usage line:\n{stdout}"));
        assert!(
            usage.starts_with("Usage: kubectl ds"),
            "kubectl {args:?} printed {usage:?}; a kubectl plugin's usage names it as users type it"
        );
    }
    // A usage error still exits 2 and names the command the same way.
    let out = plugin.kubectl(&env, &env.cluster.kubeconfig, &["ds", "no-such-command"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("kubectl ds"), "{stderr}");
}

#[tokio::test]
async fn kubectl_completes_subcommands_flags_and_values_from_the_cli() {
    let env = TestEnv::new("plugin-words").await;
    let plugin = PluginPath::new(&env);
    let kc = env.cluster.kubeconfig.clone();

    let (subs, directive) = complete(&plugin, &env, &kc, &[""]);
    for s in [
        "status",
        "why-not-scheduled",
        "why-not",
        "rollout",
        "history",
        "undo",
        "snapshot",
    ] {
        assert!(subs.contains(&s.to_string()), "{s} missing from {subs:?}");
    }
    assert!(!subs.iter().any(|s| s.starts_with("__")), "{subs:?}");
    assert_eq!(directive, ":4");
    assert_eq!(complete(&plugin, &env, &kc, &["re"]).0, ["resume", "restart"]);
    assert_eq!(complete(&plugin, &env, &kc, &["rollout", ""]).0, ["watch"]);

    let (flags, _) = complete(&plugin, &env, &kc, &["history", "agent", "--"]);
    for f in ["--revision", "--diff", "--namespace", "--context"] {
        assert!(flags.contains(&f.to_string()), "{f} missing from {flags:?}");
    }
    let (outputs, directive) = complete(&plugin, &env, &kc, &["status", "-o", ""]);
    assert_eq!(
        (outputs, directive.as_str()),
        (
            vec!["wide".into(), "json".into(), "yaml".into(), "name".into()],
            ":4"
        )
    );
    assert_eq!(
        complete(&plugin, &env, &kc, &["status", "--color", "a"]).0,
        ["auto", "always"]
    );
    let (none, directive) = complete(&plugin, &env, &kc, &["status", "--kubeconfig", ""]);
    assert_eq!(
        (none.len(), directive.as_str()),
        (0, ":0"),
        "file names are left to the shell"
    );
    let (none, directive) = complete(&plugin, &env, &kc, &["why-not", "n", "--snapshot", ""]);
    assert_eq!((none.len(), directive.as_str()), (0, ":0"));
    let (contexts, _) = complete(&plugin, &env, &kc, &["status", "--context", ""]);
    assert_eq!(contexts, ["kubectl-ds-test"]);
}

#[tokio::test]
async fn kubectl_completes_daemonsets_nodes_namespaces_and_revisions_from_the_cluster() {
    let env = TestEnv::new("plugin-names").await;
    two_nodes_and_an_agent(&env, "plugin-names").await;
    patch_daemonset(
        &env,
        "agent",
        json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "registry.example/agent:2.0"}]}}}}),
    )
    .await;
    let revisions: Api<ControllerRevision> = Api::namespaced(env.client.clone(), &env.ns);
    support::wait_until("agent's second revision", Duration::from_secs(60), || async {
        revisions
            .list(&ListParams::default().labels("app=agent"))
            .await
            .map(|l| l.items.len() == 2)
            .unwrap_or(false)
    })
    .await;
    let plugin = PluginPath::new(&env);
    let kc = env.cluster.kubeconfig.clone();
    let ns = env.ns.as_str();

    for words in [
        &["status", "-n", ns, ""][..],
        &["status", "--namespace", ns, ""],
        &["pause", &format!("--namespace={ns}"), ""],
        &["history", "-n", ns, ""],
        &["undo", "-n", ns, ""],
        &["restart", "-n", ns, ""],
        &["resume", "-n", ns, ""],
        &["rollout", "watch", "-n", ns, ""],
        &["why-not", "plugin-names-a", "-n", ns, ""],
        &["why-not-scheduled", "-n", ns, "plugin-names-a", ""],
    ] {
        let (names, directive) = complete(&plugin, &env, &kc, words);
        assert_eq!(names, ["agent", "logger"], "kubectl __complete ds {words:?}");
        assert_eq!(directive, ":4");
    }
    assert_eq!(
        complete(&plugin, &env, &kc, &["status", "-n", ns, "lo"]).0,
        ["logger"]
    );

    let (nodes, _) = complete(&plugin, &env, &kc, &["why-not", "plugin-names-"]);
    assert_eq!(nodes, ["plugin-names-a", "plugin-names-b"]);
    let (nodes, _) = complete(&plugin, &env, &kc, &["why-not", "-n", ns, ""]);
    assert!(nodes.contains(&"plugin-names-b".to_string()), "{nodes:?}");

    let (namespaces, _) = complete(&plugin, &env, &kc, &["status", "-n", ""]);
    assert!(
        namespaces.contains(&env.ns) && namespaces.contains(&"kube-system".to_string()),
        "{namespaces:?}"
    );

    for words in [
        &["history", "agent", "-n", ns, "--revision", ""][..],
        &["history", "agent", "-n", ns, "--diff", ""],
        &["history", "agent", "-n", ns, "--diff", "1", ""],
        &["undo", "agent", "-n", ns, "--to-revision", ""],
    ] {
        let (revisions, directive) = complete(&plugin, &env, &kc, words);
        assert_eq!(revisions, ["2", "1"], "kubectl __complete ds {words:?}");
        assert_eq!(directive, ":4");
    }
    let out = plugin.kubectl(
        &env,
        &kc,
        &["__complete", "ds", "undo", "agent", "-n", ns, "--to-revision", ""],
    );
    let (stdout, _) = text(&out);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("2\t") && l.contains("agent:2.0") && l.contains("current")),
        "revisions are described by their images:\n{stdout}"
    );

    // Without -n, the namespace is the kubeconfig context's.
    let with_ns = context_namespace_kubeconfig(&env, plugin.dir.path());
    assert_eq!(
        complete(&plugin, &env, &with_ns, &["restart", ""]).0,
        ["agent", "logger"]
    );
    assert_eq!(
        complete(&plugin, &env, &kc, &["restart", ""]).0,
        Vec::<String>::new(),
        "default has none"
    );
}

#[tokio::test]
async fn completion_is_silent_and_quick_when_the_cluster_does_not_answer() {
    let env = TestEnv::new("plugin-silent").await;
    let plugin = PluginPath::new(&env);
    // A server that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = listener.local_addr().expect("addr").port();
    let text = std::fs::read_to_string(&env.cluster.kubeconfig).expect("kubeconfig");
    let server = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .expect("server line")
        .to_string();
    let silent = plugin.dir.path().join("silent.yaml");
    std::fs::write(
        &silent,
        text.replace(&server, &format!("https://127.0.0.1:{port}")),
    )
    .expect("write");
    let refused = plugin.dir.path().join("refused.yaml");
    std::fs::write(&refused, text.replace(&server, "https://127.0.0.1:1")).expect("write");
    let forbidden = env.cluster.user_kubeconfig("plugin-nobody", &[]);

    for kubeconfig in [&silent, &refused, &forbidden] {
        for words in [
            &["status", ""][..],
            &["why-not", ""],
            &["history", "agent", "--revision", ""],
        ] {
            let started = Instant::now();
            let (candidates, directive) = complete(&plugin, &env, kubeconfig, words);
            let took = started.elapsed();
            assert!(candidates.is_empty(), "{kubeconfig:?} {words:?}: {candidates:?}");
            assert_eq!(directive, ":4");
            assert!(
                took < Duration::from_secs(6),
                "{kubeconfig:?} {words:?} took {took:?}"
            );
        }
    }
    // Fixed candidates do not need the cluster.
    assert!(complete(&plugin, &env, &silent, &["st"]).0 == ["status"]);
    drop(listener);
}

/// A copy of the test kubeconfig whose context's namespace is the test's.
fn context_namespace_kubeconfig(env: &TestEnv, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(&env.cluster.kubeconfig).expect("kubeconfig");
    assert!(
        text.contains("    namespace: default\n"),
        "the test kubeconfig's context sets a namespace:\n{text}"
    );
    let path = dir.join("context-namespace.yaml");
    std::fs::write(
        &path,
        text.replace(
            "    namespace: default\n",
            &format!("    namespace: {}\n", env.ns),
        ),
    )
    .expect("write kubeconfig");
    path
}
