//! The record `pause` leaves on a DaemonSet, the pause state every command reads from it, and the
//! writes of `pause` and `resume` (DaemonSets have no paused field; see README, "Pause").

use super::*;

/// What `kubectl ds pause` stores in [`PAUSE_ANNOTATION`]: the strategy it replaced and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PauseRecord {
    pub paused_at: Option<Timestamp>,
    /// `spec.updateStrategy` as it was, exactly (type and rollingUpdate values).
    pub update_strategy: Value,
}

impl PauseRecord {
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a record, refusing anything `resume` could not restore faithfully.
    pub fn decode(raw: &str) -> Result<PauseRecord, String> {
        let record: PauseRecord = serde_json::from_str(raw)
            .map_err(|e| format!("it is not valid JSON of the expected shape ({e})"))?;
        let strategy = record
            .update_strategy
            .as_object()
            .ok_or("updateStrategy is not an object")?;
        match strategy.get("type").and_then(Value::as_str) {
            Some(ROLLING_UPDATE | ON_DELETE) => {}
            Some(other) => {
                return Err(format!(
                    "updateStrategy.type {other:?} is neither RollingUpdate nor OnDelete"
                ));
            }
            None => return Err("updateStrategy.type is missing".into()),
        }
        match strategy.get("rollingUpdate") {
            None | Some(Value::Null) | Some(Value::Object(_)) => {}
            Some(_) => return Err("updateStrategy.rollingUpdate is not an object".into()),
        }
        if let Some(extra) = strategy.keys().find(|k| *k != "type" && *k != "rollingUpdate") {
            return Err(format!("updateStrategy has an unknown field {extra:?}"));
        }
        Ok(record)
    }
}

/// Where a DaemonSet stands as far as pause and resume are concerned.
#[derive(Debug, Clone, PartialEq)]
pub enum PauseState {
    /// Rolling out normally (or OnDelete with a leftover record of ours, see `Stale`).
    NotPaused { strategy: Value },
    /// Paused by `kubectl ds pause`: OnDelete plus a readable record.
    Paused { record: PauseRecord },
    /// OnDelete that `kubectl ds pause` did not set: there is no rollout to pause.
    OnDeleteNotOurs,
    /// Our record is there but the strategy is no longer OnDelete: someone changed it back
    /// by hand. The record is stale; the DaemonSet is not paused.
    Stale { strategy: Value },
    /// OnDelete with a record that cannot be read: what to restore is unknown.
    Malformed { raw: String, why: String },
}

/// `spec.updateStrategy` as JSON; absent means the API default, RollingUpdate.
pub fn update_strategy(ds: &DaemonSet) -> Value {
    ds.spec
        .as_ref()
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| serde_json::to_value(u).ok())
        .filter(|v| v.get("type").is_some())
        .unwrap_or_else(|| json!({"type": ROLLING_UPDATE}))
}

pub fn strategy_type(strategy: &Value) -> &str {
    strategy
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(ROLLING_UPDATE)
}

pub fn pause_state(ds: &DaemonSet) -> PauseState {
    let strategy = update_strategy(ds);
    let raw = ds
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(PAUSE_ANNOTATION));
    let on_delete = strategy_type(&strategy) == ON_DELETE;
    match (raw, on_delete) {
        (None, false) => PauseState::NotPaused { strategy },
        (None, true) => PauseState::OnDeleteNotOurs,
        (Some(_), false) => PauseState::Stale { strategy },
        (Some(raw), true) => match PauseRecord::decode(raw) {
            Ok(record) => PauseState::Paused { record },
            Err(why) => PauseState::Malformed {
                raw: raw.clone(),
                why,
            },
        },
    }
}

/// "RollingUpdate (maxUnavailable 1, maxSurge 0)", "OnDelete": the one home of the update
/// strategy in words, as status, pause, resume and the rollout watch all say it.
pub fn describe_strategy(strategy: &Value) -> String {
    let kind = strategy_type(strategy);
    // Under OnDelete the controller reads no rollingUpdate values: showing left-over ones would
    // suggest a budget that does not apply.
    let Some(ru) = strategy
        .get("rollingUpdate")
        .and_then(Value::as_object)
        .filter(|_| kind != ON_DELETE)
    else {
        return kind.to_string();
    };
    let show = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let parts: Vec<String> = ["maxUnavailable", "maxSurge"]
        .iter()
        .filter_map(|k| ru.get(*k).map(|v| format!("{k} {}", show(v))))
        .collect();
    if parts.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({})", parts.join(", "))
    }
}

/// The pause write (JSON merge patch): record the strategy and switch to OnDelete in one
/// conditional request.
pub fn pause_patch(strategy: &Value, paused_at: Timestamp, resource_version: &str) -> Value {
    let record = PauseRecord {
        paused_at: Some(Timestamp::from_second(paused_at.as_second()).unwrap_or(paused_at)),
        update_strategy: strategy.clone(),
    };
    let body = json!({
        "metadata": {"annotations": {PAUSE_ANNOTATION: record.encode()}},
        "spec": {"updateStrategy": {"type": ON_DELETE, "rollingUpdate": null}},
    });
    with_resource_version(body, resource_version)
}

/// The resume write (JSON merge patch): the recorded strategy exactly, and the record removed,
/// in one conditional request.
pub fn resume_patch(current: &Value, record: &PauseRecord, resource_version: &str) -> Value {
    let body = json!({
        "metadata": {"annotations": {PAUSE_ANNOTATION: null}},
        "spec": {"updateStrategy": merge_patch_between(current, &record.update_strategy)},
    });
    with_resource_version(body, resource_version)
}

/// Removes a stale record and nothing else (conditional, JSON merge patch).
pub fn drop_record_patch(resource_version: &str) -> Value {
    with_resource_version(
        json!({"metadata": {"annotations": {PAUSE_ANNOTATION: null}}}),
        resource_version,
    )
}

/// The JSON merge patch (RFC 7386) that turns `current` into `target`.
pub fn merge_patch_between(current: &Value, target: &Value) -> Value {
    match (current, target) {
        (Value::Object(c), Value::Object(t)) => {
            let mut patch = Map::new();
            for (k, tv) in t {
                match c.get(k) {
                    Some(cv) if cv == tv => {}
                    Some(cv) => {
                        patch.insert(k.clone(), merge_patch_between(cv, tv));
                    }
                    None => {
                        patch.insert(k.clone(), tv.clone());
                    }
                }
            }
            for k in c.keys().filter(|k| !t.contains_key(*k)) {
                patch.insert(k.clone(), Value::Null);
            }
            Value::Object(patch)
        }
        _ => target.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn pause_states() {
        let record = PauseRecord {
            paused_at: Some("2025-01-01T00:00:00Z".parse().unwrap()),
            update_strategy: rolling(),
        };
        let ours = json!({PAUSE_ANNOTATION: record.encode()});
        let cases = [
            (
                "rolling, no record",
                rolling(),
                json!({}),
                PauseState::NotPaused { strategy: rolling() },
            ),
            (
                "paused by us",
                json!({"type": "OnDelete"}),
                ours.clone(),
                PauseState::Paused {
                    record: record.clone(),
                },
            ),
            (
                "OnDelete set by its owner",
                json!({"type": "OnDelete"}),
                json!({}),
                PauseState::OnDeleteNotOurs,
            ),
            (
                "strategy changed back by hand",
                rolling(),
                ours,
                PauseState::Stale { strategy: rolling() },
            ),
            (
                "unreadable record",
                json!({"type": "OnDelete"}),
                json!({PAUSE_ANNOTATION: "{"}),
                PauseState::Malformed {
                    raw: "{".into(),
                    why: String::new(),
                },
            ),
        ];
        for (name, strategy, annotations, want) in cases {
            let got = pause_state(&daemonset("a:1", strategy, annotations));
            match (&got, &want) {
                (PauseState::Malformed { raw, why }, PauseState::Malformed { raw: want_raw, .. }) => {
                    assert_eq!(raw, want_raw, "{name}");
                    assert!(why.contains("not valid JSON"), "{name}: {why}");
                }
                _ => assert_eq!(got, want, "{name}"),
            }
        }
    }

    #[test]
    fn pause_record_round_trips_and_rejects_what_cannot_be_restored() {
        let record = PauseRecord {
            paused_at: Some("2025-01-01T00:00:00Z".parse().unwrap()),
            update_strategy: rolling(),
        };
        assert_eq!(PauseRecord::decode(&record.encode()), Ok(record));
        let bad = [
            ("not json", "not valid JSON"),
            (r#"{"pausedAt": null}"#, "not valid JSON"),
            (r#"{"updateStrategy": "RollingUpdate"}"#, "not an object"),
            (r#"{"updateStrategy": {}}"#, "type is missing"),
            (
                r#"{"updateStrategy": {"type": "Recreate"}}"#,
                "neither RollingUpdate nor OnDelete",
            ),
            (
                r#"{"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": 1}}"#,
                "rollingUpdate is not an object",
            ),
            (
                r#"{"updateStrategy": {"type": "RollingUpdate", "x": 1}}"#,
                "unknown field \"x\"",
            ),
            (
                r#"{"pausedAt": "yesterday", "updateStrategy": {"type": "OnDelete"}}"#,
                "not valid JSON",
            ),
        ];
        for (raw, why) in bad {
            let err = PauseRecord::decode(raw).unwrap_err();
            assert!(err.contains(why), "{raw}: {err}");
        }
    }

    #[test]
    fn pause_patch_records_the_strategy_and_switches_to_on_delete_conditionally() {
        let at: Timestamp = "2025-01-01T00:00:00.123Z".parse().unwrap();
        let body = pause_patch(&rolling(), at, "42");
        assert_eq!(body["metadata"]["resourceVersion"], "42");
        assert_eq!(
            body["spec"]["updateStrategy"],
            json!({"type": "OnDelete", "rollingUpdate": null})
        );
        let raw = body["metadata"]["annotations"][PAUSE_ANNOTATION]
            .as_str()
            .unwrap();
        let record = PauseRecord::decode(raw).unwrap();
        assert_eq!(record.update_strategy, rolling());
        assert_eq!(
            record.paused_at,
            Some("2025-01-01T00:00:00Z".parse().unwrap()),
            "second precision"
        );
    }

    #[test]
    fn resume_patch_restores_exactly_what_was_recorded() {
        let record = PauseRecord {
            paused_at: None,
            update_strategy: rolling(),
        };
        let current = json!({"type": "OnDelete"});
        let body = resume_patch(&current, &record, "43");
        assert_eq!(
            body["metadata"],
            json!({"resourceVersion": "43", "annotations": {PAUSE_ANNOTATION: null}})
        );
        let mut restored = current.clone();
        json_patch::merge(&mut restored, &body["spec"]["updateStrategy"]);
        assert_eq!(restored, rolling());
        // Anything added to the strategy while paused is removed again.
        let current = json!({"type": "OnDelete", "rollingUpdate": {"maxSurge": 1}});
        let mut restored = current.clone();
        json_patch::merge(
            &mut restored,
            &resume_patch(&current, &record, "1")["spec"]["updateStrategy"],
        );
        assert_eq!(restored, rolling());
    }

    #[test]
    fn merge_patch_between_turns_current_into_target() {
        let cases = [
            (
                json!({"a": 1, "b": {"c": 1, "d": 2}}),
                json!({"a": 1, "b": {"c": 2}, "e": 3}),
            ),
            (json!({"a": 1}), json!({})),
            (json!({}), json!({"a": {"b": 1}})),
            (json!({"a": {"b": 1}}), json!({"a": 5})),
        ];
        for (current, target) in cases {
            let mut doc = current.clone();
            json_patch::merge(&mut doc, &merge_patch_between(&current, &target));
            assert_eq!(doc, target, "{current} -> {target}");
        }
    }

    #[test]
    fn strategies_are_described_for_people() {
        assert_eq!(
            describe_strategy(&rolling()),
            "RollingUpdate (maxUnavailable 10%, maxSurge 0)"
        );
        assert_eq!(describe_strategy(&json!({"type": "OnDelete"})), "OnDelete");
        let left_over = json!({"type": "OnDelete", "rollingUpdate": {"maxUnavailable": 2, "maxSurge": 0}});
        assert_eq!(describe_strategy(&left_over), "OnDelete");
        let ds: DaemonSet =
            serde_json::from_value(json!({"metadata": {}, "spec": {"selector": {}, "template": {}}}))
                .unwrap();
        assert_eq!(
            update_strategy(&ds),
            json!({"type": "RollingUpdate"}),
            "absent means the API default"
        );
    }
}
