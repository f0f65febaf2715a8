//! What `undo` rolls back to and the write that does it (kubectl's `DaemonSetRollbacker`,
//! semantics §7.3).

use super::*;

/// Why a requested revision cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Revision numbers start at 1; the user typed a negative one.
    Negative { requested: i64, existing: Vec<i64> },
    /// No revision has that number.
    Unknown { requested: i64, existing: Vec<i64> },
    /// `undo` without `--to-revision` and fewer than two revisions.
    NothingToRollBackTo { existing: Vec<i64> },
}

fn list(existing: &[i64]) -> String {
    let numbers: Vec<String> = existing.iter().map(i64::to_string).collect();
    numbers.join(", ")
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let have = |existing: &[i64]| match existing {
            [] => "it has no revisions yet".to_string(),
            [one] => format!("its only revision is {one}"),
            many => format!("its revisions are {}", list(many)),
        };
        match self {
            TargetError::Negative { requested, existing } => write!(
                f,
                "revision {requested} is not a revision number (they start at 1); {}",
                have(existing)
            ),
            TargetError::Unknown { requested, existing } => {
                write!(f, "there is no revision {requested}; {}", have(existing))
            }
            TargetError::NothingToRollBackTo { existing } => {
                write!(f, "there is nothing to roll back to: {}", have(existing))
            }
        }
    }
}

fn numbers(revisions: &[Revision]) -> Vec<i64> {
    revisions.iter().map(|r| r.revision).collect()
}

/// The revision numbered `n` (for `history --revision`, `--diff` and `undo --to-revision`).
pub fn find_revision(revisions: &[Revision], n: i64) -> Result<&Revision, TargetError> {
    if n < 0 {
        return Err(TargetError::Negative {
            requested: n,
            existing: numbers(revisions),
        });
    }
    revisions
        .iter()
        .find(|r| r.revision == n)
        .ok_or_else(|| TargetError::Unknown {
            requested: n,
            existing: numbers(revisions),
        })
}

/// What `undo --to-revision N` rolls back to: with 0, the second-highest revision, which is not
/// necessarily the one before the current (mirrors `findHistory`, kubectl rollback.go).
pub fn undo_target(revisions: &[Revision], to_revision: i64) -> Result<&Revision, TargetError> {
    if to_revision != 0 {
        return find_revision(revisions, to_revision);
    }
    // `revisions` is ascending with unique numbers.
    match revisions {
        [.., second, _] => Ok(second),
        _ => Err(TargetError::NothingToRollBackTo {
            existing: numbers(revisions),
        }),
    }
}

/// What `undo` will do.
#[derive(Debug, Clone, PartialEq)]
pub enum UndoPlan {
    /// The template already is the target's; nothing to send.
    AlreadyMatches,
    /// Send the target's data; these are the template changes it makes.
    Rollback { changes: Vec<Change> },
}

pub fn plan_undo(template: &PodTemplateSpec, target: &Revision) -> Result<UndoPlan, BadRevision> {
    let target_template = target.template()?;
    if matches(template, &target.data) {
        return Ok(UndoPlan::AlreadyMatches);
    }
    let changes = diff_templates(&template_value(template), &target_template);
    Ok(UndoPlan::Rollback { changes })
}

/// The undo PATCH (strategic merge): exactly the revision's data, which replaces the whole
/// template (§7.3), plus the resourceVersion it was computed against, so the server refuses it
/// with 409 Conflict if the DaemonSet changed in between.
pub fn undo_patch(target: &Revision, resource_version: &str) -> Result<Value, BadRevision> {
    if !target.data.is_object() {
        return Err(BadRevision {
            revision: target.revision,
            name: target.name.clone(),
            why: "its data is not a JSON object".into(),
        });
    }
    Ok(with_resource_version(target.data.clone(), resource_version))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    /// (case, revisions, --to-revision, the revision picked or the error)
    type UndoCase<'a> = (&'a str, &'a [Revision], i64, Result<i64, TargetError>);

    #[test]
    fn kubectl_undo_target_selection() {
        let revs = [rev(1, "a:1"), rev(2, "a:2"), rev(5, "a:5")];
        let two = [rev(1, "a:1"), rev(2, "a:2")];
        let one = [rev(1, "a:1")];
        let cases: Vec<UndoCase> = vec![
            ("0 picks the second-highest", &revs, 0, Ok(2)),
            ("0 with two picks the lower", &two, 0, Ok(1)),
            ("explicit", &revs, 1, Ok(1)),
            ("explicit current", &revs, 5, Ok(5)),
            (
                "unknown",
                &revs,
                3,
                Err(TargetError::Unknown {
                    requested: 3,
                    existing: vec![1, 2, 5],
                }),
            ),
            (
                "negative",
                &revs,
                -1,
                Err(TargetError::Negative {
                    requested: -1,
                    existing: vec![1, 2, 5],
                }),
            ),
            (
                "single revision",
                &one,
                0,
                Err(TargetError::NothingToRollBackTo { existing: vec![1] }),
            ),
            (
                "no revisions",
                &[],
                0,
                Err(TargetError::NothingToRollBackTo { existing: vec![] }),
            ),
        ];
        for (name, revs, n, want) in cases {
            assert_eq!(undo_target(revs, n).map(|r| r.revision), want, "{name}");
        }
    }

    #[test]
    fn kubectl_target_error_texts() {
        let cases = [
            (
                TargetError::Unknown {
                    requested: 7,
                    existing: vec![1, 2],
                },
                "there is no revision 7; its revisions are 1, 2",
            ),
            (
                TargetError::Negative {
                    requested: -1,
                    existing: vec![3],
                },
                "revision -1 is not a revision number (they start at 1); its only revision is 3",
            ),
            (
                TargetError::NothingToRollBackTo { existing: vec![1] },
                "there is nothing to roll back to: its only revision is 1",
            ),
            (
                TargetError::NothingToRollBackTo { existing: vec![] },
                "there is nothing to roll back to: it has no revisions yet",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn kubectl_undo_skips_when_the_template_already_matches_and_names_the_real_revision() {
        let revs = [rev(1, "a:1"), rev(2, "a:2")];
        let target = undo_target(&revs, 2).unwrap();
        assert_eq!(plan_undo(&template("a:2"), target), Ok(UndoPlan::AlreadyMatches));
        assert_eq!(
            target.revision, 2,
            "the message names revision 2, not kubectl's `revision 0`"
        );
        let target = undo_target(&revs, 0).unwrap();
        assert_eq!(
            plan_undo(&template("a:2"), target),
            Ok(UndoPlan::Rollback {
                changes: vec![Change::Changed {
                    path: "/spec/containers/0/image".into(),
                    old: json!("a:2"),
                    new: json!("a:1")
                }]
            })
        );
    }

    #[test]
    fn kubectl_undo_patch_body_is_the_revision_data_plus_the_resource_version() {
        let r = rev(1, "a:1");
        let body = undo_patch(&r, "42").unwrap();
        let mut want = go_data("a:1");
        want["metadata"] = json!({"resourceVersion": "42"});
        assert_eq!(body, want);
        let mut broken = r.clone();
        broken.data = json!("x");
        assert!(undo_patch(&broken, "42").is_err());
    }

    #[test]
    fn unreadable_revision_data_is_reported_not_guessed() {
        let mut r = rev(1, "a:1");
        r.data = json!({"spec": {"template": {"spec": {"containers": "not a list"}}}});
        let err = r.template().unwrap_err();
        assert!(
            err.to_string()
                .contains("revision 1 (ControllerRevision agent-1)"),
            "{err}"
        );
        assert!(matches!(plan_undo(&template("a:1"), &r), Err(BadRevision { .. })));
    }
}
