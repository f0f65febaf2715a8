//! Shared pieces of the proptest fuzz tests: the run configuration, a watchdog that turns a hang
//! into a failure, and generators of strange JSON.
#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

/// Proptest's defaults (256 cases, or PROPTEST_CASES), with shrinking bounded in time.
pub fn config() -> Config {
    Config {
        max_shrink_time: 60_000,
        ..Config::default()
    }
}

/// Longer than any one input takes in a debug build on a busy machine, by far.
const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `f` on a thread with the stack a tokio worker has (2 MiB, where the commands run) and
/// fails if it panics or does not finish within [`DEADLINE`].
pub fn within_deadline<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn worker");
    match rx.recv_timeout(DEADLINE) {
        Ok(value) => {
            let _ = worker.join();
            value
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => panic!("the worker ended without an answer"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("no answer within {DEADLINE:?}: a hang"),
    }
}

/// Strings that matter to Kubernetes, and strange ones.
pub fn arb_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "", "a", "app", "kubernetes.io/hostname", "node-role.kubernetes.io/control-plane",
            "metadata.name", "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Equal",
            "NoSchedule", "NoExecute", "PreferNoSchedule", "True", "False", "Unknown", "Ready",
            "RollingUpdate", "OnDelete", "100m", "1e309", "-0", "99999999999999999999Ei", "1.5Gi",
            "0.000000001", "NaN", "∞", "ノード", "a\u{0}b", "\u{202e}evil", "😀", "  ",
        ])
        .prop_map(str::to_string),
        2 => "\\PC{0,24}",
        1 => any::<String>(),
    ]
}

/// Any JSON value, up to `depth` levels of arrays and objects.
pub fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        arb_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((arb_string(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// A block-style YAML rendering of a JSON value (strings double-quoted, JSON escapes are YAML's).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    emit(value, 0, &mut out);
    out
}

fn scalar(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn emit(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                out.push_str(&format!("{pad}{}:", scalar(&Value::String(k.clone()))));
                nested(v, indent, out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for v in items {
                out.push_str(&format!("{pad}-"));
                nested(v, indent, out);
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn nested(v: &Value, indent: usize, out: &mut String) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            emit(v, indent + 2, out);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            emit(v, indent + 2, out);
        }
        other => out.push_str(&format!(" {}\n", scalar(other))),
    }
}
