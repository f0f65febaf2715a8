//! Validated options built from the raw command line (`cli.rs`). Commands use these, never clap's structs.

use std::time::Duration;

use crate::cli::{ColorChoice, GlobalArgs, OutputFormat};
use crate::error::{Error, Result};

/// Parses a duration the way kubectl does: a plain number of seconds (`30`), or a Go duration
/// (`500ms`, `10s`, `1m30s`, `2h`). Zero means "no limit" to the caller.
pub fn parse_duration(flag: &str, text: &str) -> Result<Duration> {
    let bad = || {
        Error::usage(format!(
            "invalid value {text:?} for {flag}: expected a duration such as 30s, 5m or 1h30m (or a whole number of seconds)"
        ))
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total = Duration::ZERO;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let seconds = match unit {
            "ns" => value / 1e9,
            "us" | "µs" => value / 1e6,
            "ms" => value / 1e3,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            _ => return Err(bad()),
        };
        total += Duration::try_from_secs_f64(seconds).map_err(|_| bad())?;
    }
    Ok(total)
}

/// Where to look for DaemonSets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every namespace (`-A`).
    All,
    /// One namespace given with `-n`.
    Namespace(String),
    /// Nothing given: the kubeconfig context's namespace (or `default`).
    ContextDefault,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub scope: Scope,
    pub output: Option<OutputFormat>,
    pub selector: Option<String>,
    pub no_headers: bool,
    pub color: bool,
    pub request_timeout: Option<Duration>,
    pub connection: Connection,
}

/// How to reach the cluster, kubectl-style.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub kubeconfig: Option<std::path::PathBuf>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub as_user: Option<String>,
    pub as_group: Vec<String>,
    pub as_uid: Option<String>,
    pub insecure_skip_tls_verify: bool,
    pub request_timeout: Option<Duration>,
}

impl Options {
    pub fn from_args(g: &GlobalArgs) -> Result<Self> {
        if g.all_namespaces && g.namespace.is_some() {
            return Err(Error::usage(
                "-n/--namespace and -A/--all-namespaces cannot be used together; pick one",
            ));
        }
        let scope = match (&g.namespace, g.all_namespaces) {
            (_, true) => Scope::All,
            (Some(ns), false) => {
                if ns.is_empty() {
                    return Err(Error::usage("-n/--namespace needs a namespace name"));
                }
                Scope::Namespace(ns.clone())
            }
            (None, false) => Scope::ContextDefault,
        };
        // Durations and the selector were checked by clap (cli.rs) when the command line was read.
        let request_timeout = (!g.request_timeout.is_zero()).then_some(g.request_timeout);
        Ok(Options {
            scope,
            output: g.output,
            selector: g.selector.clone(),
            no_headers: g.no_headers,
            color: color_enabled(g.color),
            request_timeout,
            connection: Connection {
                kubeconfig: g.kubeconfig.clone(),
                context: g.context.clone(),
                cluster: g.cluster.clone(),
                user: g.user.clone(),
                as_user: g.as_user.clone(),
                as_group: g.as_group.clone(),
                as_uid: g.as_uid.clone(),
                insecure_skip_tls_verify: g.insecure_skip_tls_verify,
                request_timeout,
            },
        })
    }

    /// Errors unless the output format is one of `allowed` (None = the default table).
    pub fn require_output(&self, command: &str, allowed: &[Option<OutputFormat>]) -> Result<()> {
        if allowed.contains(&self.output) {
            return Ok(());
        }
        let names: Vec<&str> = allowed.iter().flatten().map(|f| output_name(*f)).collect();
        let got = self.output.map(output_name).unwrap_or("table");
        Err(Error::usage(format!(
            "`{command}` does not support -o {got}; it supports {}",
            if names.is_empty() {
                "only its default output".to_string()
            } else {
                names.join(", ")
            }
        )))
    }
}

pub fn output_name(f: OutputFormat) -> &'static str {
    match f {
        OutputFormat::Wide => "wide",
        OutputFormat::Json => "json",
        OutputFormat::Yaml => "yaml",
        OutputFormat::Name => "name",
    }
}

/// Color only on a terminal, and never when NO_COLOR is set (any non-empty value) or TERM=dumb,
/// unless `--color=always`.
pub fn color_enabled(choice: ColorChoice) -> bool {
    use std::io::IsTerminal;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            let dumb = std::env::var("TERM").is_ok_and(|t| t == "dumb");
            !no_color && !dumb && std::io::stdout().is_terminal()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_kubectl() {
        let cases = [
            ("0", 0.0),
            ("30", 30.0),
            ("30s", 30.0),
            ("500ms", 0.5),
            ("1m30s", 90.0),
            ("2h", 7200.0),
            ("1.5m", 90.0),
        ];
        for (text, secs) in cases {
            let d = parse_duration("--x", text).unwrap();
            assert!((d.as_secs_f64() - secs).abs() < 1e-9, "{text} -> {d:?}");
        }
        for bad in ["", "s", "5x", "-5s", "1m-2s", "abc", "1 m"] {
            let err = parse_duration("--timeout", bad).unwrap_err();
            assert_eq!(err.kind, crate::error::ErrorKind::Usage, "{bad}");
            assert!(err.message.contains("--timeout"), "{}", err.message);
        }
    }

    #[test]
    fn namespace_and_all_namespaces_conflict() {
        let g = GlobalArgs {
            namespace: Some("x".into()),
            all_namespaces: true,
            request_timeout: Duration::ZERO,
            ..Default::default()
        };
        assert!(Options::from_args(&g).is_err());
    }
}
