//! The one write kubectl-ds makes: a patch of a DaemonSet, conditional on the version that was
//! read, sent again at the new version when only the status moved on in between.

use k8s_openapi::api::apps::v1::DaemonSet;
use kube::ResourceExt;
use kube::api::Api;

use crate::client::{Cluster, Request, api_error};
use crate::error::{Error, ErrorKind, Result};

/// For the end-to-end tests only: milliseconds to wait after a write is computed and before it is
/// sent, so a test can change the object in between. Announced on stderr when used.
pub const TEST_PAUSE_BEFORE_WRITE: &str = "KUBECTL_DS_TEST_PAUSE_BEFORE_WRITE";

/// Patches the DaemonSet `read` only if it is still the version that was read. The patch body must
/// carry `read`'s `metadata.resourceVersion`; the server then applies all of it, or refuses it with
/// 409 Conflict and applies nothing. After a conflict the DaemonSet is read again: if only its
/// status moved on (the controller writes it all the time during a rollout), the same write is
/// sent again at the new version; any other change becomes an error naming both versions.
pub async fn patch_daemonset_if_unchanged(
    cluster: &Cluster,
    read: &DaemonSet,
    patch: &kube::api::Patch<serde_json::Value>,
) -> Result<DaemonSet> {
    use kube::api::{Patch, PatchParams};
    const ATTEMPTS: usize = 5;
    let ns = read.namespace().unwrap_or_default();
    let name = read.name_any();
    let read_version = read.resource_version().unwrap_or_default();
    let (body, strategic) = match patch {
        Patch::Merge(b) => (b, false),
        Patch::Strategic(b) => (b, true),
        _ => (&serde_json::Value::Null, false),
    };
    let carried = body.pointer("/metadata/resourceVersion").and_then(|v| v.as_str());
    if read_version.is_empty() || carried != Some(read_version.as_str()) {
        return Err(Error::new(
            ErrorKind::Api,
            format!("refusing to patch daemonset {name:?}: the write is not conditional on the version that was read"),
        )
        .with_hint("this is a bug in kubectl-ds; please report it"));
    }
    if let Some(ms) = std::env::var(TEST_PAUSE_BEFORE_WRITE)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        eprintln!("kubectl-ds: {TEST_PAUSE_BEFORE_WRITE}: waiting {ms} ms before writing");
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let api: Api<DaemonSet> = Api::namespaced(cluster.client.clone(), &ns);
    let params = PatchParams {
        field_manager: Some("kubectl-ds".into()),
        ..PatchParams::default()
    };
    let req = Request {
        verb: "patch",
        resource: "daemonsets",
        namespace: Some(&ns),
    };
    let mut body = body.clone();
    for attempt in 1..=ATTEMPTS {
        let patch = if strategic {
            Patch::Strategic(&body)
        } else {
            Patch::Merge(&body)
        };
        match api.patch(&name, &params, &patch).await {
            Ok(ds) => return Ok(ds),
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let get_req = Request::get("daemonsets", Some(&ns));
                let now = api
                    .get_opt(&name)
                    .await
                    .map_err(|e| api_error(&cluster.server, get_req, e))?;
                let now_version = match &now {
                    Some(now)
                        if attempt < ATTEMPTS && crate::engine::history::only_status_changed(read, now) =>
                    {
                        let version = now.resource_version().unwrap_or_default();
                        tracing::info!(
                            "daemonset {name:?}: only its status changed since it was read; writing again at \
                             resourceVersion {version}"
                        );
                        body = crate::engine::history::with_resource_version(body, &version);
                        continue;
                    }
                    Some(now) => format!("now {}", now.resource_version().unwrap_or_default()),
                    None => "now deleted".to_string(),
                };
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!(
                        "daemonset {name:?} in namespace {ns} changed since it was read (resourceVersion \
                         {read_version}, {now_version}); nothing was changed"
                    ),
                )
                .with_hint("run the command again"));
            }
            Err(e) => return Err(api_error(&cluster.server, req, e)),
        }
    }
    Err(Error::new(
        ErrorKind::Conflict,
        format!("daemonset {name:?} in namespace {ns} kept changing while it was being written; nothing was changed"),
    )
    .with_hint("run the command again"))
}
