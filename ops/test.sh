#!/usr/bin/env bash
# The whole test suite, from a fresh machine: formatting, lints, unit, conformance and integration
# tests (the real server on loopback ports, the real binary for restart and kill -9).
# Reuses a cargo target directory outside the clone so a second run builds almost nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnbox/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --all-targets --locked -- -D warnings
echo "== tests"
cargo test --all-targets --locked

echo "== OpenAPI documents validate"
VENV="${BURNBOX_VENV:-$HOME/.cache/burnbox/venv}"
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check openapi-spec-validator==0.9.0
"$VENV/bin/openapi-spec-validator" openapi/burnbox.json openapi/burnbox.yaml
