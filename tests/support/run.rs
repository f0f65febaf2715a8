//! The one way the tests run the kubectl-ds binary: a builder for its command line and
//! environment, a running child whose output can be read while it runs, and what it printed
//! when it ended (with a `Display` that shows all of it, for assertion messages).
//!
//! ```ignore
//! let run = kubectl_ds().kubeconfig(&path).args(["status", "-A"]).timeout(RUN_LIMIT).run();
//! assert_eq!(run.code, Some(0), "{run}");
//! ```

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a run may take unless the test says otherwise: far above anything a command under
/// test does on a loaded machine, so that only a hang reaches it (and fails, instead of hanging).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the output of an ended child may take to arrive (its pipes close when it exits,
/// unless something it started still holds them).
const OUTPUT_GRACE: Duration = Duration::from_secs(10);

/// The kubectl-ds binary with only PATH and HOME from the test's environment, so that a
/// developer's KUBECONFIG, NO_COLOR or RUST_LOG never changes what a test sees.
pub fn kubectl_ds() -> KubectlDs {
    let mut env = BTreeMap::new();
    for key in ["PATH", "HOME"] {
        env.insert(OsString::from(key), std::env::var_os(key).unwrap_or_default());
    }
    KubectlDs {
        args: Vec::new(),
        env,
        stdin: None,
        timeout: DEFAULT_TIMEOUT,
    }
}

/// A kubectl-ds command to run; see [`kubectl_ds`].
#[derive(Clone)]
pub struct KubectlDs {
    args: Vec<OsString>,
    env: BTreeMap<OsString, OsString>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
}

impl KubectlDs {
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable (a later value for the same name replaces an earlier one).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .insert(key.as_ref().to_owned(), value.as_ref().to_owned());
        self
    }

    /// The kubeconfig to use (as `KUBECONFIG`).
    pub fn kubeconfig(self, path: impl AsRef<Path>) -> Self {
        self.env("KUBECONFIG", path.as_ref())
    }

    /// What the command reads on stdin (otherwise it reads nothing: stdin is /dev/null).
    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// How long [`Running::finish`] waits before it kills the command and fails the test.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts the command; its stdout and stderr are read as it prints them.
    pub fn start(self) -> Running {
        let command = self.to_string();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
            .env_clear()
            .envs(&self.env)
            .args(&self.args)
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command}: {e}"));
        let started = Instant::now();
        if let (Some(input), Some(mut pipe)) = (self.stdin, child.stdin.take()) {
            // On a thread: a command that prints before it has read everything must not block us.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            });
        }
        let stdout = Stream::read(child.stdout.take().expect("piped stdout"));
        let stderr = Stream::read(child.stderr.take().expect("piped stderr"));
        Running {
            command,
            child,
            started,
            timeout: self.timeout,
            stdout,
            stderr,
            ended: None,
        }
    }

    /// Runs the command to its end (killed, failing the test, after the timeout).
    pub fn run(self) -> Finished {
        self.start().finish()
    }

    /// Runs the command, for assertions in assert_cmd's style (`.code(3).stderr(...)`).
    pub fn assert(self) -> assert_cmd::assert::Assert {
        self.run().assert()
    }
}

/// The command line as a user would type it (arguments with spaces quoted); no environment.
impl fmt::Display for KubectlDs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("kubectl-ds")?;
        for arg in &self.args {
            let arg = arg.to_string_lossy();
            if arg.is_empty() || arg.contains(char::is_whitespace) {
                write!(f, " {arg:?}")?;
            } else {
                write!(f, " {arg}")?;
            }
        }
        Ok(())
    }
}

/// A started kubectl-ds. Dropping it kills the process if it still runs.
pub struct Running {
    command: String,
    child: Child,
    started: Instant,
    timeout: Duration,
    stdout: Stream,
    stderr: Stream,
    ended: Option<Ended>,
}

struct Ended {
    status: ExitStatus,
    elapsed: Duration,
    peak_rss: u64,
}

impl Running {
    /// Everything printed on stdout so far.
    pub fn stdout(&mut self) -> &str {
        self.stdout.so_far()
    }

    /// Everything printed on stderr so far.
    pub fn stderr(&mut self) -> &str {
        self.stderr.so_far()
    }

    pub fn is_running(&mut self) -> bool {
        self.reap(false);
        self.ended.is_none()
    }

    /// Waits for the command to end; after the timeout, kills it and fails the test with what
    /// it printed.
    pub fn finish(mut self) -> Finished {
        let deadline = self.started + self.timeout;
        while self.is_running() {
            if Instant::now() > deadline {
                let timeout = self.timeout;
                let killed = self.kill();
                panic!("still running after {timeout:?}, so it was killed: {killed}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.collect()
    }

    /// Sends a signal (`libc::SIGINT`, `libc::SIGTERM`, ...) to the command, if it still runs.
    pub fn signal(&mut self, signal: i32) {
        if self.is_running() {
            // SAFETY: kill(2) on the pid of our own child, which has not been reaped.
            unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        }
    }

    /// Kills the command now (if it still runs) and returns what it printed.
    pub fn kill(mut self) -> Finished {
        if self.ended.is_none() {
            let _ = self.child.kill();
            self.reap(true);
        }
        self.collect()
    }

    fn collect(mut self) -> Finished {
        let ended = self.ended.as_ref().expect("collect after the command ended");
        let (status, elapsed, peak_rss) = (ended.status, ended.elapsed, ended.peak_rss);
        let until = Instant::now() + OUTPUT_GRACE;
        Finished {
            command: std::mem::take(&mut self.command),
            code: status.code(),
            stdout: self.stdout.all(until),
            stderr: self.stderr.all(until),
            elapsed,
            peak_rss,
            status,
        }
    }

    /// Reaps the child if it has ended (waiting for that when `block`), with its resource usage:
    /// wait4, which std's `Child::wait` does not offer.
    fn reap(&mut self, block: bool) {
        if self.ended.is_some() {
            return;
        }
        let pid = self.child.id() as libc::pid_t;
        let flags = if block { 0 } else { libc::WNOHANG };
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        let reaped = loop {
            // SAFETY: pid is this Running's own child, which only this function reaps (once:
            // `ended` is set below); status and usage point to live locals.
            let reaped = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
            if reaped == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break reaped;
        };
        if reaped == 0 {
            return;
        }
        assert_eq!(
            reaped,
            pid,
            "wait4 for {}: {}",
            self.command,
            std::io::Error::last_os_error()
        );
        self.ended = Some(Ended {
            status: ExitStatus::from_raw(status),
            elapsed: self.started.elapsed(),
            peak_rss: usage.ru_maxrss as u64 * 1024,
        });
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.ended.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One output stream of the child, read on a thread (so that the child never blocks on a full
/// pipe) and handed over a line at a time.
struct Stream {
    lines: mpsc::Receiver<String>,
    text: String,
}

impl Stream {
    fn read(pipe: impl Read + Send + 'static) -> Stream {
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            let mut pipe = BufReader::new(pipe);
            let mut line = Vec::new();
            while pipe.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                if tx.send(String::from_utf8_lossy(&line).into_owned()).is_err() {
                    break;
                }
                line.clear();
            }
        });
        Stream {
            lines,
            text: String::new(),
        }
    }

    fn so_far(&mut self) -> &str {
        while let Ok(line) = self.lines.try_recv() {
            self.text.push_str(&line);
        }
        &self.text
    }

    /// Everything, once the pipe is closed or `until` has passed.
    fn all(&mut self, until: Instant) -> String {
        while let Ok(line) = self
            .lines
            .recv_timeout(until.saturating_duration_since(Instant::now()))
        {
            self.text.push_str(&line);
        }
        std::mem::take(&mut self.text)
    }
}

/// What an ended kubectl-ds printed, and how it ended.
pub struct Finished {
    /// The command line, for messages.
    pub command: String,
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// Peak resident set size, in bytes.
    pub peak_rss: u64,
    status: ExitStatus,
}

impl Finished {
    /// Stdout as JSON; fails the test with everything the command printed when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self}"))
    }

    /// For assertions in assert_cmd's style (`.success().stdout("...")`).
    pub fn assert(&self) -> assert_cmd::assert::Assert {
        assert_cmd::assert::Assert::new(std::process::Output {
            status: self.status,
            stdout: self.stdout.clone().into_bytes(),
            stderr: self.stderr.clone().into_bytes(),
        })
        .append_context("command", self.command.clone())
    }
}

impl fmt::Display for Finished {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} after {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.command, self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}
