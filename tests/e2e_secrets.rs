//! Credentials never reach the output: a ServiceAccount's bearer token, the token an exec
//! credential plugin prints, and a client key (inline and as a file) do not appear in stdout or
//! stderr of any read command, at any verbosity, nor on the error paths (forbidden, unauthorized,
//! unreachable). And TLS is verified unless --insecure-skip-tls-verify is given.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{Finished, KubectlDs, TestEnv, create_rolled_out, daemonset, kubectl_ds};

/// kubectl-ds with only this kubeconfig: no colour, each request bounded at 20 s, and killed
/// (failing the test) if it runs for 90 s.
fn kubectl_ds_with(kubeconfig: &Path) -> KubectlDs {
    kubectl_ds()
        .kubeconfig(kubeconfig)
        .env("NO_COLOR", "1")
        .arg("--request-timeout=20s")
        .timeout(Duration::from_secs(90))
}

/// A value of the test cluster's kubeconfig (`server`, `certificate-authority`, ...).
fn kubeconfig_value(key: &str) -> String {
    let text = std::fs::read_to_string(&support::cluster().kubeconfig).expect("read kubeconfig");
    text.lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in the test kubeconfig"))
        .to_string()
}

/// A kubeconfig for the test cluster (or `server`) with the given `user:` body (YAML, indented 4).
fn kubeconfig(dir: &Path, file: &str, server: Option<&str>, cluster_extra: &str, user: &str) -> PathBuf {
    let server = server
        .map(str::to_string)
        .unwrap_or_else(|| kubeconfig_value("server"));
    let ca = kubeconfig_value("certificate-authority");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    \
         certificate-authority: {ca}\n{cluster_extra}contexts:\n- name: c\n  context:\n    cluster: c\n    \
         user: u\n    namespace: default\ncurrent-context: c\nusers:\n- name: u\n  user:\n{user}"
    );
    let path = dir.join(file);
    std::fs::write(&path, text).expect("write kubeconfig");
    path
}

fn kubectl(env: &TestEnv, args: &[&str]) -> String {
    let out = env.cluster.kubectl().args(args).output().expect("kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The pieces of a secret that must not appear: the whole, each JWT segment, and each line of
/// a PEM body (any one of them would be a partial leak).
fn fragments(secret: &str) -> Vec<String> {
    let mut parts = vec![secret.to_string()];
    parts.extend(secret.split('.').filter(|p| p.len() >= 16).map(str::to_string));
    parts.extend(
        secret
            .lines()
            .map(str::trim)
            .filter(|l| l.len() >= 16 && !l.starts_with("-----"))
            .map(str::to_string),
    );
    parts
}

fn assert_no_secret(run: &Finished, secrets: &[(&str, String)], what: &str) {
    for (name, secret) in secrets {
        for fragment in fragments(secret) {
            assert!(
                !run.stdout.contains(&fragment) && !run.stderr.contains(&fragment),
                "{what}: the {name} (or a piece of it) is in the output:\n{run}"
            );
        }
    }
}

/// The read commands, at every verbosity.
fn read_commands(ns: &str) -> Vec<Vec<String>> {
    let reads: [&[&str]; 6] = [
        &["status", "-A"],
        &["status", "agent", "-n", ns],
        &["status", "agent", "-n", ns, "-o", "json"],
        &["why-not", "sec-a", "--explain"],
        &["history", "agent", "-n", ns],
        &["snapshot", "-A"],
    ];
    let mut all = Vec::new();
    for verbosity in ["-v", "-vv", "-vvv"] {
        for r in reads {
            let mut args: Vec<String> = r.iter().map(|s| s.to_string()).collect();
            args.push(verbosity.to_string());
            all.push(args);
        }
    }
    all
}

fn check_reads(kubeconfig: &Path, ns: &str, secrets: &[(&str, String)], what: &str) {
    for args in read_commands(ns) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = kubectl_ds_with(kubeconfig).args(&args).run();
        assert!(matches!(run.code, Some(0 | 1)), "{what} {args:?}: {run}");
        assert!(!run.stdout.is_empty(), "{what} {args:?}: {run}");
        assert_no_secret(&run, secrets, &format!("{what} {args:?}"));
    }
}

#[tokio::test]
async fn tokens_exec_output_and_client_keys_never_appear_in_output_or_logs() {
    let env = TestEnv::new("secrets").await;
    create_rolled_out(&env, &["sec-a"], daemonset("agent")).await;
    let dir = tempfile::tempdir().unwrap();
    let ns = env.ns.as_str();

    // A ServiceAccount that may read what kubectl-ds reads, and nothing else.
    let role = format!("kds-secrets-reader-{ns}");
    kubectl(&env, &["create", "serviceaccount", "reader", "-n", ns]);
    kubectl(
        &env,
        &[
            "create",
            "clusterrole",
            &role,
            "--verb=get,list,watch",
            "--resource=nodes,daemonsets.apps,pods,controllerrevisions.apps,events",
        ],
    );
    kubectl(
        &env,
        &[
            "create",
            "clusterrolebinding",
            &role,
            &format!("--clusterrole={role}"),
            &format!("--serviceaccount={ns}:reader"),
        ],
    );
    // Two tokens from the TokenRequest API: one for the kubeconfig, one for the exec plugin.
    let token = kubectl(&env, &["create", "token", "reader", "-n", ns, "--duration=1h"]);
    let exec_token = kubectl(&env, &["create", "token", "reader", "-n", ns, "--duration=1h"]);
    assert_ne!(token, exec_token);
    assert!(token.len() > 100, "not a JWT: {token}");

    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let unreachable = format!("https://127.0.0.1:{closed_port}");

    // (a) a bearer token in the kubeconfig.
    let token_user = format!("    token: {token}\n");
    let a = kubeconfig(dir.path(), "token.yaml", None, "", &token_user);
    let secrets = [("ServiceAccount token", token.clone())];
    check_reads(&a, ns, &secrets, "token");
    // Forbidden: the role cannot patch.
    let forbidden = kubectl_ds_with(&a)
        .args(["pause", "agent", "-n", ns, "-vvv"])
        .run();
    assert_eq!(forbidden.code, Some(3), "{forbidden}");
    assert!(forbidden.stderr.contains("forbidden"), "{forbidden}");
    assert!(
        forbidden
            .stderr
            .contains(&format!("system:serviceaccount:{ns}:reader")),
        "{forbidden}"
    );
    assert_no_secret(&forbidden, &secrets, "token, forbidden");
    // Unreachable, with the same token.
    let a_down = kubeconfig(dir.path(), "token-down.yaml", Some(&unreachable), "", &token_user);
    let down = kubectl_ds_with(&a_down).args(["status", "-A", "-vvv"]).run();
    assert_eq!(down.code, Some(3), "{down}");
    assert!(down.stderr.contains("cannot reach the server"), "{down}");
    assert_no_secret(&down, &secrets, "token, unreachable");
    // Unauthorized: a token the server does not accept (a real one, its signature tampered with
    // in the middle: the last character of a JWT can carry bits a decoder ignores).
    let middle = token.rfind('.').unwrap() + (token.len() - token.rfind('.').unwrap()) / 2;
    let swap = if &token[middle..=middle] == "A" { "B" } else { "A" };
    let bad_token = format!("{}{swap}{}", &token[..middle], &token[middle + 1..]);
    assert_ne!(bad_token, token);
    let a_bad = kubeconfig(
        dir.path(),
        "token-bad.yaml",
        None,
        "",
        &format!("    token: {bad_token}\n"),
    );
    let unauthorized = kubectl_ds_with(&a_bad).args(["status", "-A", "-vvv"]).run();
    assert_eq!(unauthorized.code, Some(3), "{unauthorized}");
    assert!(unauthorized.stderr.contains("unauthorized"), "{unauthorized}");
    assert_no_secret(&unauthorized, &[("rejected token", bad_token)], "bad token");

    // (b) an exec credential plugin printing an ExecCredential with a token.
    let plugin = dir.path().join("credential-plugin.sh");
    std::fs::write(
        &plugin,
        format!(
            "#!/bin/sh\ncat <<'EOF'\n{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\
             \"status\":{{\"token\":\"{exec_token}\"}}}}\nEOF\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let exec_user = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      \
         interactiveMode: Never\n",
        plugin.display()
    );
    let b = kubeconfig(dir.path(), "exec.yaml", None, "", &exec_user);
    let secrets = [("exec plugin token", exec_token.clone())];
    check_reads(&b, ns, &secrets, "exec");
    let forbidden = kubectl_ds_with(&b)
        .args(["restart", "agent", "-n", ns, "-vvv"])
        .run();
    assert_eq!(forbidden.code, Some(3), "{forbidden}");
    assert!(forbidden.stderr.contains("forbidden"), "{forbidden}");
    assert_no_secret(&forbidden, &secrets, "exec, forbidden");
    let b_down = kubeconfig(dir.path(), "exec-down.yaml", Some(&unreachable), "", &exec_user);
    let down = kubectl_ds_with(&b_down).args(["why-not", "sec-a", "-vvv"]).run();
    assert_eq!(down.code, Some(3), "{down}");
    assert_no_secret(&down, &secrets, "exec, unreachable");

    // (c) the cluster's client certificate, its key inline (base64) and as a file.
    let pki = env.cluster.dir.join("pki");
    let key_pem = std::fs::read_to_string(pki.join("admin.key")).unwrap();
    let cert_pem = std::fs::read_to_string(pki.join("admin.crt")).unwrap();
    let b64 = |s: &str| {
        let out = Command::new("base64")
            .arg("-w0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(s.as_bytes())?;
                c.wait_with_output()
            })
            .expect("base64");
        String::from_utf8(out.stdout).unwrap()
    };
    let key_b64 = b64(&key_pem);
    let inline_user = format!(
        "    client-certificate-data: {}\n    client-key-data: {key_b64}\n",
        b64(&cert_pem)
    );
    let c = kubeconfig(dir.path(), "cert.yaml", None, "", &inline_user);
    let secrets = [
        ("client key (PEM)", key_pem.clone()),
        ("client key (base64)", key_b64.clone()),
    ];
    check_reads(&c, ns, &secrets, "client certificate");
    let forbidden = kubectl_ds_with(&c)
        .args(["status", "-A", "--as", "nobody", "-vvv"])
        .run();
    assert_eq!(forbidden.code, Some(3), "{forbidden}");
    assert!(forbidden.stderr.contains("forbidden"), "{forbidden}");
    assert_no_secret(&forbidden, &secrets, "client certificate, forbidden");
    let c_down = kubeconfig(dir.path(), "cert-down.yaml", Some(&unreachable), "", &inline_user);
    let down = kubectl_ds_with(&c_down)
        .args(["history", "agent", "-n", ns, "-vvv"])
        .run();
    assert_eq!(down.code, Some(3), "{down}");
    assert_no_secret(&down, &secrets, "client certificate, unreachable");
    // The key as a file: its path may be named, its content never.
    let file_user = format!(
        "    client-certificate: {}\n    client-key: {}\n",
        pki.join("admin.crt").display(),
        pki.join("admin.key").display()
    );
    let c_file = kubeconfig(dir.path(), "cert-file.yaml", Some(&unreachable), "", &file_user);
    let down = kubectl_ds_with(&c_file).args(["status", "-A", "-vvv"]).run();
    assert_eq!(down.code, Some(3), "{down}");
    assert_no_secret(
        &down,
        &[("client key file", key_pem)],
        "client key file, unreachable",
    );
}

#[tokio::test]
async fn tls_is_verified_unless_insecure_skip_tls_verify_is_given() {
    let env = TestEnv::new("secrets-tls").await;
    env.create_daemonset(daemonset("agent")).await;
    let dir = tempfile::tempdir().unwrap();
    // A CA that did not sign the apiserver's certificate.
    let other_ca = dir.path().join("other-ca.crt");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=not-the-cluster-ca",
        ])
        .arg("-keyout")
        .arg(dir.path().join("other-ca.key"))
        .arg("-out")
        .arg(&other_ca)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    let pki = env.cluster.dir.join("pki");
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    \
         certificate-authority: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n\
         current-context: c\nusers:\n- name: u\n  user:\n    client-certificate: {}\n    client-key: {}\n",
        kubeconfig_value("server"),
        other_ca.display(),
        pki.join("admin.crt").display(),
        pki.join("admin.key").display()
    );
    let wrong_ca = dir.path().join("wrong-ca.yaml");
    std::fs::write(&wrong_ca, text).unwrap();

    let refused = kubectl_ds_with(&wrong_ca)
        .args(["status", "agent", "-n", &env.ns])
        .run();
    eprintln!("with a CA that did not sign the server's certificate: {refused}");
    assert_eq!(refused.code, Some(3), "{refused}");
    assert!(refused.stdout.is_empty(), "{refused}");
    assert!(
        refused.stderr.contains("TLS with the server at") && refused.stderr.contains("UnknownIssuer"),
        "the error says it is about the certificate: {refused}"
    );
    assert!(
        refused.stderr.contains("certificate-authority") && !refused.stderr.contains("cluster is up"),
        "the hint points at the CA: {refused}"
    );
    assert!(refused.stderr.contains(&kubeconfig_value("server")), "{refused}");

    let insecure = kubectl_ds_with(&wrong_ca)
        .args(["status", "agent", "-n", &env.ns, "--insecure-skip-tls-verify"])
        .run();
    assert!(matches!(insecure.code, Some(0 | 1)), "{insecure}");
    assert!(insecure.stdout.contains("agent"), "{insecure}");
}

/// An exec credential plugin that hangs, fails or prints something that is not an
/// ExecCredential: each ends the command in bounded time with exit 3 and a message naming the
/// plugin's command, and nothing it printed on stdout (where credentials go) reaches the output,
/// at any verbosity.
#[tokio::test]
async fn misbehaving_exec_plugins_end_in_bounded_time_naming_the_plugin_and_nothing_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "kds-exec-secret-4f1c9a7e2b8d6035a1c4e9f7b2d8a6c3";
    let plugins = [
        // (name, script, what the message says)
        (
            "hangs",
            "#!/bin/sh\nsleep 30\n".to_string(),
            "did not answer within 3s",
        ),
        (
            "fails",
            format!(
                "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{secret}\"}}}}'\necho 'error: your login expired' >&2\nexit 1\n"
            ),
            "failed (exit status: 1)",
        ),
        (
            "malformed",
            format!(
                "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"status\":{{\"token\":{secret}'\n"
            ),
            "printed something that is not an ExecCredential",
        ),
    ];
    for (name, script, says) in plugins {
        let plugin = dir.path().join(format!("plugin-{name}.sh"));
        std::fs::write(&plugin, script).unwrap();
        std::fs::set_permissions(&plugin, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        let user = format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      \
             args: [\"--password={secret}\"]\n      env: [{{name: PLUGIN_SECRET, value: \"{secret}\"}}]\n      \
             interactiveMode: Never\n",
            plugin.display()
        );
        let config = kubeconfig(dir.path(), &format!("{name}.yaml"), None, "", &user);
        for verbosity in ["-v", "-vvv"] {
            let run = kubectl_ds()
                .kubeconfig(&config)
                .env("NO_COLOR", "1")
                .args(["status", "-A", "--request-timeout=3s", verbosity])
                .timeout(Duration::from_secs(60))
                .run();
            assert_eq!(run.code, Some(3), "{name}: {run}");
            assert!(
                run.elapsed < Duration::from_secs(20),
                "{name}: a bounded wait: {run}"
            );
            assert!(
                run.stderr
                    .contains(&format!("exec credential plugin `{}`", plugin.display()))
                    && run.stderr.contains(says),
                "{name}: {run}"
            );
            assert_no_secret(
                &run,
                &[("plugin's output, arguments or environment", secret.to_string())],
                name,
            );
        }
    }
}
