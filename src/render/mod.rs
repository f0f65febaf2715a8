//! Rendering: a human table (comfy-table), machine output (`-o json|yaml`) and live progress.
//! Nothing here decides anything about Kubernetes; it only shows what the engine found.

pub mod machine;
pub mod progress;
pub mod table;
pub mod verdicts;
