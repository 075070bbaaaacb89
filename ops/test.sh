#!/usr/bin/env bash
# The whole test suite, from a fresh machine: formatting, lints, unit, conformance and integration
# tests (the real server on loopback ports, the real binary for restart and kill -9).
# Reuses a cargo target directory outside the clone so a second run builds almost nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnbox/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

echo "== system packages the tests use (promtool, Prometheus, Python venv, Chromium and ChromeDriver, Redis, zbarimg, Node.js)"
NEED=""
{ command -v promtool >/dev/null && command -v prometheus >/dev/null; } || NEED="prometheus"
python3 -c 'import ensurepip' 2>/dev/null || NEED="$NEED python3-venv"
# The pages' tests drive Debian's Chromium through its ChromeDriver.
{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || NEED="$NEED chromium chromium-driver"
# The several-nodes tests start real Redis servers (standalone and a Cluster) on free ports.
{ command -v redis-server >/dev/null && command -v redis-cli >/dev/null; } || NEED="$NEED redis-server"
# The TLS Redis test makes its certificates with the openssl command.
command -v openssl >/dev/null || NEED="$NEED openssl"
# The generated TypeScript client is built and run with Node.js and npm.
{ command -v node >/dev/null && command -v npm >/dev/null; } || NEED="$NEED nodejs npm"
# The pages' test reads the QR code the page draws back with zbarimg.
command -v zbarimg >/dev/null || NEED="$NEED zbar-tools"
if [ -n "$NEED" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086 # one word per package
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $NEED >/dev/null
fi

echo "== S3-compatible server the tests start (s3s-fs)"
TOOLS="${BURNBOX_TOOLS:-$HOME/.cache/burnbox/tools}"
if [ ! -x "$TOOLS/bin/s3s-fs" ]; then
  CARGO_TARGET_DIR="$TOOLS/build" cargo install s3s-fs@0.14.1 --locked --features binary --root "$TOOLS" --quiet
fi
export BURNBOX_S3S_FS="$TOOLS/bin/s3s-fs"

# The OpenAPI freshness test rewrites the committed documents when this is set: never here.
unset BURNBOX_UPDATE_OPENAPI

echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
TEST_LOG=$(mktemp)
trap 'rm -f "$TEST_LOG"' EXIT
cargo test --all-targets --locked 2>&1 | tee "$TEST_LOG"

echo "== OpenAPI documents validate"
VENV="${BURNBOX_VENV:-$HOME/.cache/burnbox/venv}"
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check openapi-spec-validator==0.9.0
"$VENV/bin/openapi-spec-validator" openapi/burnbox.json openapi/burnbox.yaml

echo "== generated clients (Python and TypeScript) against the real server"
"$VENV/bin/pip" install --quiet --disable-pip-version-check \
  openapi-python-client==0.29.1 ruff==0.17.6 mypy==1.19.1
npm_config_cache="$HOME/.cache/burnbox/npm" tests/clients/run.sh "$CARGO_TARGET_DIR/debug/burnbox" "$VENV"

echo "== API fuzzing against the real server (schemathesis, every check and phase)"
# schemathesis runs on Python 3.12 or later: 3.11's ast module fails on deep stacks ("AST
# constructor recursion depth mismatch") inside the generator. pyenv's or the system's.
FUZZ_PYTHON=""
for candidate in python3.13 $(ls -d "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV) python3; do
  if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    FUZZ_PYTHON=$candidate
    break
  fi
done
if [ -z "$FUZZ_PYTHON" ]; then
  # A fresh Debian has 3.11 only: uv brings a standalone 3.13 into the cache directory.
  "$VENV/bin/pip" install --quiet --disable-pip-version-check uv==0.9.18
  UV_PYTHON_INSTALL_DIR="$HOME/.cache/burnbox/python" "$VENV/bin/uv" python install 3.13
  FUZZ_PYTHON=$(UV_PYTHON_INSTALL_DIR="$HOME/.cache/burnbox/python" "$VENV/bin/uv" python find 3.13)
fi
FUZZ_VENV="${BURNBOX_FUZZ_VENV:-$HOME/.cache/burnbox/fuzz-venv}"
[ -x "$FUZZ_VENV/bin/pip" ] || "$FUZZ_PYTHON" -m venv "$FUZZ_VENV"
"$FUZZ_VENV/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
tests/fuzz/run.sh "$CARGO_TARGET_DIR/debug/burnbox" "$FUZZ_VENV/bin/schemathesis"

# One closing line for the whole run: every cargo test, plus the clients and fuzzing stages as one
# each.
read -r PASSED FAILED < <(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$TEST_LOG")
echo "summary: $((PASSED + 2)) passed, $FAILED failed"
