//! Rendering: tables, machine output and live progress.
