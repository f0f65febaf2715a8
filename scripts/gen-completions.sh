#!/usr/bin/env bash
# Regenerates the shell completion scripts in completions/ from the CLI definition (clap_complete).
# tests/completions.rs fails whenever the committed scripts differ from what the CLI generates;
# run this after changing a flag or a subcommand, and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
KUBECTL_DS_BLESS=1 cargo test --locked --test completions completion_scripts_match_the_cli -- --exact
git status --short completions/
