//! A slow, silent or unreachable apiserver: `--request-timeout` bounds every command, and every
//! failure exits 3 with a message naming the server and saying what to do. The kubeconfigs are the
//! test cluster's own (its CA, its client certificate), with only the server changed.

mod support;

use std::io::ErrorKind as IoErrorKind;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use support::{Finished, TestEnv, daemonset, kubectl_ds};

/// How long any one run may take before the test gives up on it (and fails): far above every
/// timeout under test, so a loaded machine does not make the test flaky, and a hang still fails.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// The test cluster's kubeconfig with its server replaced (same CA, same client certificate).
fn kubeconfig_for(dir: &Path, server: &str) -> PathBuf {
    let original = std::fs::read_to_string(&support::cluster().kubeconfig).expect("read kubeconfig");
    let mut replaced = 0;
    let text: Vec<String> = original
        .lines()
        .map(|line| match line.split_once("server: ") {
            Some((indent, _)) => {
                replaced += 1;
                format!("{indent}server: {server}")
            }
            None => line.to_string(),
        })
        .collect();
    assert_eq!(replaced, 1, "the test kubeconfig has one server:\n{original}");
    let path = dir.join("kubeconfig.yaml");
    std::fs::write(&path, text.join("\n") + "\n").expect("write kubeconfig");
    path
}

/// The server URL of the test cluster's kubeconfig.
fn cluster_server() -> String {
    let text = std::fs::read_to_string(&support::cluster().kubeconfig).expect("read kubeconfig");
    text.lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .expect("server in kubeconfig")
        .to_string()
}

/// A TCP server that accepts connections and never sends a byte: the TLS handshake never starts.
struct Blackhole {
    port: u16,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Blackhole {
    fn start() -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("local addr").port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (accepted, stop) = (accepted.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut held: Vec<TcpStream> = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            accepted.fetch_add(1, Ordering::Relaxed);
                            held.push(stream);
                        }
                        Err(e) if e.kind() == IoErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(10))
                        }
                        Err(e) => panic!("accept: {e}"),
                    }
                }
            })
        };
        Blackhole {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A TLS server with the cluster's own certificate that completes the handshake, reads the
/// request and never answers it (`openssl s_server`, its stdin held open so it never replies).
struct SilentTls {
    port: u16,
    child: Child,
}

impl SilentTls {
    fn start(dir: &Path) -> SilentTls {
        let pki = support::cluster().dir.join("pki");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new("openssl")
            .args(["s_server", "-quiet", "-accept"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("-cert")
            .arg(pki.join("admin.crt"))
            .arg("-key")
            .arg(pki.join("admin.key"))
            .stdin(Stdio::piped())
            .stdout(std::fs::File::create(dir.join("s_server.out")).expect("s_server log"))
            .stderr(std::fs::File::create(dir.join("s_server.err")).expect("s_server log"))
            .spawn()
            .expect("start openssl s_server (openssl is installed by scripts/test.sh)");
        let mut server = SilentTls { port, child };
        let deadline = Instant::now() + Duration::from_secs(30);
        // A probe connection that closes at once only costs s_server a failed handshake.
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "openssl s_server exited ({status}): {}",
                    std::fs::read_to_string(dir.join("s_server.err")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "openssl s_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for SilentTls {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn assert_timed_out(run: &Finished, server: &str, at_least: Duration, what: &str) {
    assert_eq!(run.code, Some(3), "{what}: {run}");
    assert!(run.stdout.is_empty(), "{what}: {run}");
    assert!(
        run.stderr.contains(server),
        "{what}: the error names the server: {run}"
    );
    assert!(
        run.stderr
            .contains("the server did not answer in time; raise --request-timeout"),
        "{what}: the hint suggests --request-timeout: {run}"
    );
    assert_eq!(
        run.stderr.lines().filter(|l| l.starts_with("error: ")).count(),
        1,
        "{what}: one error: {run}"
    );
    assert!(
        run.elapsed >= at_least,
        "{what}: gave up before the timeout ({:?}): {run}",
        run.elapsed
    );
}

#[test]
fn a_server_that_accepts_and_never_answers_is_given_up_on_after_the_request_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let hole = Blackhole::start();
    let server = format!("https://127.0.0.1:{}", hole.port);
    let kubeconfig = kubeconfig_for(dir.path(), &server);
    // Every kind of first request: list, get node, get DaemonSet (read and write commands).
    let commands: [&[&str]; 5] = [
        &["status", "-A"],
        &["why-not", "node-a"],
        &["history", "agent", "-n", "default"],
        &["pause", "agent", "-n", "default"],
        &["snapshot", "-A"],
    ];
    for args in commands {
        let args: Vec<&str> = args.iter().copied().chain(["--request-timeout", "2s"]).collect();
        let before = hole.accepted.load(Ordering::Relaxed);
        let run = kubectl_ds()
            .kubeconfig(&kubeconfig)
            .args(&args)
            .timeout(RUN_LIMIT)
            .run();
        eprintln!(
            "{args:?} against a silent TCP server: exit {:?} after {:?}",
            run.code, run.elapsed
        );
        assert_timed_out(&run, &server, Duration::from_secs(2), &format!("{args:?}"));
        assert!(
            hole.accepted.load(Ordering::Relaxed) > before,
            "{args:?} never connected to the server"
        );
    }

    // Whole seconds and Go durations alike.
    let run = kubectl_ds()
        .kubeconfig(&kubeconfig)
        .args(["status", "-A", "--request-timeout=1"])
        .timeout(RUN_LIMIT)
        .run();
    eprintln!("--request-timeout=1: exit {:?} after {:?}", run.code, run.elapsed);
    assert_timed_out(&run, &server, Duration::from_secs(1), "--request-timeout=1");
}

#[test]
fn a_tls_server_that_reads_the_request_and_never_answers_is_given_up_on() {
    let dir = tempfile::tempdir().unwrap();
    let tls = SilentTls::start(dir.path());
    let server = format!("https://127.0.0.1:{}", tls.port);
    let kubeconfig = kubeconfig_for(dir.path(), &server);
    let run = kubectl_ds()
        .kubeconfig(&kubeconfig)
        .args(["status", "-A", "--request-timeout", "2s"])
        .timeout(RUN_LIMIT)
        .run();
    eprintln!(
        "status -A against a silent TLS server: exit {:?} after {:?}",
        run.code, run.elapsed
    );
    assert_timed_out(&run, &server, Duration::from_secs(2), "status -A");
    // The handshake was verified against the cluster CA and the request was sent.
    let received = std::fs::read_to_string(dir.path().join("s_server.out")).unwrap_or_default();
    assert!(
        received.contains("GET /apis/apps/v1/daemonsets"),
        "the server never got the request:\n{received}"
    );
}

#[test]
fn a_closed_port_fails_at_once_naming_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let server = format!("https://127.0.0.1:{port}");
    let kubeconfig = kubeconfig_for(dir.path(), &server);
    // With and without a timeout: a refused connection needs none.
    for extra in [&["--request-timeout", "30s"][..], &[]] {
        let args: Vec<&str> = ["status", "-A"]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        let run = kubectl_ds()
            .kubeconfig(&kubeconfig)
            .args(&args)
            .timeout(RUN_LIMIT)
            .run();
        eprintln!(
            "{args:?} against a closed port: exit {:?} after {:?}",
            run.code, run.elapsed
        );
        assert_eq!(run.code, Some(3), "{run}");
        assert!(
            run.stderr.contains(&format!(
                "listing daemonsets: cannot reach the server at {server}"
            )),
            "{run}"
        );
        assert!(run.stderr.contains("Connection refused"), "{run}");
        assert!(run.stderr.contains("check that the cluster is up"), "{run}");
        assert!(
            run.elapsed < Duration::from_secs(30),
            "a refused connection waited for the timeout: {run}"
        );
    }
}

/// Starts the apiserver again however the test ends, so later tests of this binary have one.
struct RestartApiserver;

impl Drop for RestartApiserver {
    fn drop(&mut self) {
        support::cluster().start("kube-apiserver");
    }
}

#[tokio::test]
async fn a_stopped_apiserver_is_reported_and_nothing_is_changed() {
    let env = TestEnv::new("faults-stopped").await;
    env.create_daemonset(daemonset("agent")).await;
    let before = env.daemonsets().get("agent").await.unwrap();
    let server = cluster_server();
    let kubeconfig = &env.cluster.kubeconfig;

    env.cluster.stop("kube-apiserver");
    let restart = RestartApiserver;
    let commands: [&[&str]; 4] = [
        &["status", "-A", "--request-timeout", "5s"],
        &["status", "agent", "-n", &env.ns],
        &["pause", "agent", "-n", &env.ns, "--request-timeout", "5s"],
        &["restart", "agent", "-n", &env.ns],
    ];
    for args in commands {
        let run = kubectl_ds()
            .kubeconfig(kubeconfig)
            .args(args)
            .timeout(RUN_LIMIT)
            .run();
        eprintln!(
            "{args:?} with the apiserver stopped: exit {:?} after {:?}",
            run.code, run.elapsed
        );
        assert_eq!(run.code, Some(3), "{args:?}: {run}");
        assert!(run.stdout.is_empty(), "{args:?}: {run}");
        assert!(
            run.stderr
                .contains(&format!("cannot reach the server at {server}")),
            "{args:?}: {run}"
        );
        assert!(
            run.stderr.contains("check that the cluster is up"),
            "{args:?}: {run}"
        );
    }
    drop(restart);

    let run = kubectl_ds()
        .kubeconfig(kubeconfig)
        .args(["status", "-n", &env.ns, "--request-timeout", "20s"])
        .timeout(RUN_LIMIT)
        .run();
    assert!(
        matches!(run.code, Some(0 | 1)),
        "after the apiserver is back: {run}"
    );
    assert!(run.stdout.contains("agent"), "{run}");
    let after = env.daemonsets().get("agent").await.unwrap();
    assert_eq!(
        after.metadata.generation, before.metadata.generation,
        "a failed write changed the spec"
    );
    assert_eq!(after.metadata.annotations, before.metadata.annotations);
}
