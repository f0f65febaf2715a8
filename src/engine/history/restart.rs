//! The write of `restart` (kubectl's `objectrestarter`, semantics §7.4).

use super::*;

/// RFC 3339 at second precision in UTC, the restartedAt format (kubectl uses the local offset;
/// UTC reads the same everywhere).
pub fn restarted_at_text(now: Timestamp) -> String {
    now.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The template already carries this very restartedAt value: the restart would change nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartedThisSecond {
    pub at: String,
}

/// The restart write (JSON merge patch): set the template's restartedAt annotation, conditionally.
pub fn restart_patch(
    template: &PodTemplateSpec,
    now: Timestamp,
    resource_version: &str,
) -> Result<Value, RestartedThisSecond> {
    let at = restarted_at_text(now);
    let existing = template
        .metadata
        .as_ref()
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(RESTARTED_AT_ANNOTATION));
    if existing == Some(&at) {
        return Err(RestartedThisSecond { at });
    }
    let body = json!({"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: at}}}}});
    Ok(with_resource_version(body, resource_version))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn restart_patch_sets_restarted_at_and_refuses_the_same_second() {
        let now: Timestamp = "2025-03-04T05:06:07.891Z".parse().unwrap();
        assert_eq!(restarted_at_text(now), "2025-03-04T05:06:07Z");
        let body = restart_patch(&template("a:1"), now, "42").unwrap();
        assert_eq!(
            body,
            json!({"metadata": {"resourceVersion": "42"},
                   "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: "2025-03-04T05:06:07Z"}}}}})
        );
        let mut restarted = template("a:1");
        restarted.metadata.get_or_insert_default().annotations = Some(
            [(
                RESTARTED_AT_ANNOTATION.to_string(),
                "2025-03-04T05:06:07Z".to_string(),
            )]
            .into(),
        );
        assert_eq!(
            restart_patch(&restarted, now, "42"),
            Err(RestartedThisSecond {
                at: "2025-03-04T05:06:07Z".into()
            })
        );
        let later: Timestamp = "2025-03-04T05:06:08Z".parse().unwrap();
        assert!(restart_patch(&restarted, later, "42").is_ok());
    }
}
