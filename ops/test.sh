#!/usr/bin/env bash
# The whole test suite, from a fresh machine: formatting, lints, unit, conformance and integration
# tests (the real server on loopback ports, the real binary for restart and kill -9).
# Reuses a cargo target directory outside the clone so a second run builds almost nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/burnbox/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
mkdir -p "$CARGO_TARGET_DIR"

echo "== system packages the tests use (promtool, Prometheus, Python venv, Chromium and ChromeDriver, Redis, zbarimg)"
NEED=""
{ command -v promtool >/dev/null && command -v prometheus >/dev/null; } || NEED="prometheus"
python3 -c 'import ensurepip' 2>/dev/null || NEED="$NEED python3-venv"
# The pages' tests drive Debian's Chromium through its ChromeDriver.
{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || NEED="$NEED chromium chromium-driver"
# The several-nodes tests start real Redis servers (standalone and a Cluster) on free ports.
{ command -v redis-server >/dev/null && command -v redis-cli >/dev/null; } || NEED="$NEED redis-server"
# The TLS Redis test makes its certificates with the openssl command.
command -v openssl >/dev/null || NEED="$NEED openssl"
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
cargo clippy --all-targets --locked -- -D warnings
echo "== tests"
TEST_LOG=$(mktemp)
cargo test --all-targets --locked 2>&1 | tee "$TEST_LOG"

echo "== OpenAPI documents validate"
VENV="${BURNBOX_VENV:-$HOME/.cache/burnbox/venv}"
[ -x "$VENV/bin/pip" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check openapi-spec-validator==0.9.0
"$VENV/bin/openapi-spec-validator" openapi/burnbox.json openapi/burnbox.yaml

echo "== API fuzzing against the real server (schemathesis)"
# Every operation of the committed spec, with generated valid and invalid inputs: no 5xx, and
# every status, content type, header and body as documented.
"$VENV/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
FUZZ_DIR=$(mktemp -d)
"$CARGO_TARGET_DIR/debug/burnbox" serve --listen 127.0.0.1:0 --no-rate-limits --data-dir "$FUZZ_DIR/data" \
  >"$FUZZ_DIR/stdout" 2>"$FUZZ_DIR/stderr" &
FUZZ_PID=$!
trap 'kill "$FUZZ_PID" 2>/dev/null || true; rm -rf "$FUZZ_DIR" "$TEST_LOG"' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" "$FUZZ_DIR/stdout" && break
  sleep 0.1
done
FUZZ_URL=$(sed -n 's/^burnbox listening on //p' "$FUZZ_DIR/stdout")
[ -n "$FUZZ_URL" ] || { echo "burnbox did not start:"; cat "$FUZZ_DIR/stderr"; exit 1; }
"$VENV/bin/schemathesis" run openapi/burnbox.json --url "$FUZZ_URL" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
  --max-examples "${BURNBOX_FUZZ_EXAMPLES:-50}" --seed "${BURNBOX_FUZZ_SEED:-1}"

# One closing line for the whole run: every cargo test, plus the fuzzing stage as one.
read -r PASSED FAILED < <(awk '/^test result:/ { p += $4; f += $6 } END { print p + 0, f + 0 }' "$TEST_LOG")
echo "summary: $((PASSED + 1)) passed, $FAILED failed"
