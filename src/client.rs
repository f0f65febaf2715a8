//! Connecting to the cluster the way kubectl does, and turning API failures into errors that say
//! what to do.

use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::error::{Error, ErrorKind, Result};
use crate::options::{Connection, Scope};

/// A connected client plus what it resolved: the default namespace and the server URL.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    pub default_namespace: String,
    pub server: String,
}

impl Cluster {
    /// The namespace a namespaced command works in (`None` = all namespaces).
    pub fn namespace<'a>(&'a self, scope: &'a Scope) -> Option<&'a str> {
        match scope {
            Scope::All => None,
            Scope::Namespace(ns) => Some(ns),
            Scope::ContextDefault => Some(&self.default_namespace),
        }
    }
}

/// Precedence as in kubectl: `--kubeconfig` (that file only) > `$KUBECONFIG` (merged) >
/// `~/.kube/config` > in-cluster service account.
pub async fn connect(c: &Connection) -> Result<Cluster> {
    let opts = KubeConfigOptions {
        context: c.context.clone(),
        cluster: c.cluster.clone(),
        user: c.user.clone(),
    };
    let explicit = c.context.is_some() || c.cluster.is_some() || c.user.is_some();
    let config = match (&c.kubeconfig, explicit) {
        (Some(path), _) => {
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| {
                Error::new(ErrorKind::InvalidInput, format!("cannot read kubeconfig {}: {}", path.display(), e))
                    .with_hint("check the path given with --kubeconfig")
            })?;
            Config::from_custom_kubeconfig(kubeconfig, &opts).await.map_err(config_error)?
        }
        (None, true) => Config::from_kubeconfig(&opts).await.map_err(config_error)?,
        (None, false) => Config::infer().await.map_err(|e| {
            Error::new(ErrorKind::InvalidInput, format!("no cluster configured: {e}")).with_hint(
                "point --kubeconfig or $KUBECONFIG at a kubeconfig, or run inside a cluster, or use --snapshot FILE",
            )
        })?,
    };
    build(config, c).await
}

fn config_error(e: kube::config::KubeconfigError) -> Error {
    Error::new(ErrorKind::InvalidInput, format!("invalid kubeconfig: {e}"))
        .with_hint("check --context/--cluster/--user against `kubectl config get-contexts`")
}

async fn build(mut config: Config, c: &Connection) -> Result<Cluster> {
    if let Some(user) = &c.as_user {
        config.auth_info.impersonate = Some(user.clone());
    }
    if !c.as_group.is_empty() {
        config.auth_info.impersonate_groups = Some(c.as_group.clone());
    }
    if let Some(uid) = &c.as_uid {
        config.auth_info.impersonate_uid = Some(uid.clone());
    }
    if c.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(t) = c.request_timeout {
        config.connect_timeout = Some(t);
        config.read_timeout = Some(t);
        config.write_timeout = Some(t);
    }
    let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let default_namespace = config.default_namespace.clone();
    let plugin = config.auth_info.exec.as_ref().and_then(|e| e.command.clone());
    let wait = c.request_timeout.unwrap_or(EXEC_PLUGIN_WAIT);
    // Building the client runs the kubeconfig's exec credential plugin, if it names one: on a
    // thread of its own, so that one that hangs is given up on after `wait`.
    let made = tokio::task::spawn_blocking(move || Client::try_from(config));
    let client = match tokio::time::timeout(wait, made).await {
        Err(_) => return Err(plugin_hangs(plugin.as_deref(), wait)),
        Ok(Err(e)) => {
            return Err(Error::new(
                ErrorKind::Io,
                format!("cannot build a client for {server}: {e}"),
            ));
        }
        Ok(Ok(made)) => made.map_err(|e| client_error(e, plugin.as_deref(), &server))?,
    };
    Ok(Cluster {
        client,
        default_namespace,
        server,
    })
}

/// How long the exec credential plugin of a kubeconfig may take when `--request-timeout` does not
/// say: enough for a login that asks for nothing, not forever for one that hangs.
pub const EXEC_PLUGIN_WAIT: Duration = Duration::from_secs(60);

/// The plugin named as the kubeconfig names it: the command only, never its arguments or
/// environment (they may carry secrets).
fn plugin_name(plugin: Option<&str>) -> String {
    format!("`{}`", plugin.unwrap_or("(no command)"))
}

fn plugin_hangs(plugin: Option<&str>, wait: Duration) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!(
            "the kubeconfig's exec credential plugin {} did not answer within {}s",
            plugin_name(plugin),
            wait.as_secs()
        ),
    )
    .with_hint("run the plugin yourself to see where it waits (a login prompt, a network call); give it longer with --request-timeout")
}

/// Why the client could not be built. An exec credential plugin's output is never shown: it is
/// where the plugin puts the credential, and kube's own message quotes it whole, with the
/// plugin's environment.
fn client_error(e: kube::Error, plugin: Option<&str>, server: &str) -> Error {
    use kube::client::AuthError;
    let kube::Error::Auth(auth) = &e else {
        return Error::new(
            ErrorKind::InvalidInput,
            format!("cannot build a client for {server}: {e}"),
        )
        .with_hint("check the kubeconfig's certificate and credential settings");
    };
    let plugin = plugin_name(plugin);
    match auth {
        AuthError::AuthExecStart(io) => Error::new(
            ErrorKind::Unauthorized,
            format!("cannot start the kubeconfig's exec credential plugin {plugin}: {io}"),
        )
        .with_hint("install it or fix its path in the kubeconfig (users[].user.exec.command)"),
        AuthError::AuthExecRun { out, .. } => Error::new(
            ErrorKind::Unauthorized,
            format!(
                "the kubeconfig's exec credential plugin {plugin} failed ({}); what it printed on stdout is not shown, as that is where a credential goes",
                out.status
            ),
        )
        .with_hint("run the plugin yourself to see why (an expired login is the usual reason), then try again"),
        AuthError::AuthExecParse(_) => Error::new(
            ErrorKind::Unauthorized,
            format!(
                "the kubeconfig's exec credential plugin {plugin} printed something that is not an ExecCredential (client.authentication.k8s.io); it is not shown, as it may hold a credential"
            ),
        )
        .with_hint("check the plugin's version against the kubeconfig's exec apiVersion, or run it yourself"),
        AuthError::MissingCommand => Error::new(
            ErrorKind::InvalidInput,
            "the kubeconfig's exec credential plugin has no command",
        )
        .with_hint("set users[].user.exec.command in the kubeconfig"),
        _ => Error::new(
            ErrorKind::Unauthorized,
            format!("cannot get credentials for {server}: {}", auth_summary(auth)),
        )
        .with_hint("check the kubeconfig's credential settings"),
    }
}

/// An auth error's own message, unless it may quote a plugin's output.
fn auth_summary(e: &kube::client::AuthError) -> String {
    let text = e.to_string();
    if text.contains("exec") {
        "the credential plugin failed".to_string()
    } else {
        text
    }
}

/// What a request was doing, for error messages: "list", "daemonsets", "in namespace x".
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub verb: &'a str,
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
}

impl<'a> Request<'a> {
    pub fn list(resource: &'a str, namespace: Option<&'a str>) -> Self {
        Request {
            verb: "list",
            resource,
            namespace,
        }
    }

    pub fn get(resource: &'a str, namespace: Option<&'a str>) -> Self {
        Request {
            verb: "get",
            resource,
            namespace,
        }
    }

    /// "listing pods in namespace x", as error messages name the request.
    pub fn describe(&self) -> String {
        match self.namespace {
            Some(ns) => format!("{} {} in namespace {ns}", self.verb_ing(), self.resource),
            None => format!("{} {}", self.verb_ing(), self.resource),
        }
    }
    fn verb_ing(&self) -> String {
        match self.verb {
            "get" => "getting".into(),
            "list" => "listing".into(),
            "watch" => "watching".into(),
            "patch" => "patching".into(),
            "update" => "updating".into(),
            v => format!("{v}ing"),
        }
    }
}

/// Maps a kube error to an error that names the request, the server and what to do.
pub fn api_error(server: &str, req: Request<'_>, err: kube::Error) -> Error {
    let what = req.describe();
    match err {
        kube::Error::Api(status) => {
            let code = status.code;
            let msg = if status.message.is_empty() {
                status.reason.clone()
            } else {
                status.message.clone()
            };
            match code {
                403 => {
                    let scope = match req.namespace {
                        Some(ns) => format!("in namespace {ns}"),
                        None => "cluster-wide".to_string(),
                    };
                    Error::new(ErrorKind::Forbidden, format!("{what}: forbidden: {msg}")).with_hint(format!(
                        "needs `{} {}` ({scope}); ask for the role in the README's RBAC section, or check with `kubectl auth can-i {} {}`",
                        req.verb, req.resource, req.verb, req.resource
                    ))
                }
                401 => Error::new(
                    ErrorKind::Unauthorized,
                    format!("{what}: unauthorized: the server at {server} rejected the credentials"),
                )
                .with_hint("log in again or refresh the kubeconfig's credentials"),
                404 => Error::new(ErrorKind::NotFound, format!("{what}: not found: {msg}")),
                409 => Error::new(ErrorKind::Conflict, format!("{what}: conflict: {msg}")),
                _ => Error::new(
                    ErrorKind::Api,
                    format!("{what}: the server at {server} answered {code}: {msg}"),
                ),
            }
        }
        other => {
            let detail = error_chain(&other);
            let timeout =
                detail.contains("timed out") || detail.contains("elapsed") || detail.contains("deadline");
            // rustls: "invalid peer certificate: UnknownIssuer", or the server's alert
            // "BadCertificate"/"CertificateRequired" when it refuses the client certificate.
            let certificate = detail.to_ascii_lowercase().contains("certificate");
            if certificate && !timeout {
                return Error::new(
                    ErrorKind::Unreachable,
                    format!("{what}: TLS with the server at {server} failed: {detail}"),
                )
                .with_hint(
                    "the server's certificate is not signed by the kubeconfig's certificate-authority, or the \
                     server refused the client certificate; check both in the kubeconfig \
                     (--insecure-skip-tls-verify skips the server check, insecurely)",
                );
            }
            let kind = if timeout {
                ErrorKind::Timeout
            } else {
                ErrorKind::Unreachable
            };
            let hint = if timeout {
                "the server did not answer in time; raise --request-timeout or check the server's health"
            } else {
                "check that the cluster is up and that the kubeconfig points at it (`kubectl cluster-info`)"
            };
            Error::new(
                kind,
                format!("{what}: cannot reach the server at {server}: {detail}"),
            )
            .with_hint(hint)
        }
    }
}

/// The error and its causes on one line, without repeating identical messages.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport_error(text: &str) -> Error {
        let req = Request {
            verb: "list",
            resource: "nodes",
            namespace: None,
        };
        api_error("https://k:6443", req, kube::Error::Service(text.into()))
    }

    /// Regression: a certificate the kubeconfig's CA did not sign was reported as "cannot reach
    /// the server" with the hint to check that the cluster is up.
    #[test]
    fn an_untrusted_certificate_says_tls_failed_not_unreachable() {
        let e = transport_error("client error (Connect): invalid peer certificate: UnknownIssuer");
        assert_eq!(e.kind, ErrorKind::Unreachable);
        assert!(
            e.message
                .starts_with("listing nodes: TLS with the server at https://k:6443 failed: "),
            "{e}"
        );
        assert!(
            e.hint.as_deref().unwrap().contains("certificate-authority"),
            "{e}"
        );
        assert!(!e.to_string().contains("cluster is up"), "{e}");

        let refused = transport_error("received fatal alert: CertificateRequired");
        assert!(refused.message.contains("TLS with the server"), "{refused}");
    }

    #[test]
    fn refused_connections_and_timeouts_keep_their_own_hints() {
        let e = transport_error("tcp connect error: Connection refused (os error 111)");
        assert_eq!(e.kind, ErrorKind::Unreachable);
        assert!(
            e.message.contains("cannot reach the server at https://k:6443"),
            "{e}"
        );
        assert!(e.hint.as_deref().unwrap().contains("cluster is up"), "{e}");

        let t = transport_error("client error (Connect): deadline has elapsed");
        assert_eq!(t.kind, ErrorKind::Timeout);
        assert!(t.hint.as_deref().unwrap().contains("--request-timeout"), "{t}");
    }
}
