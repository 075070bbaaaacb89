#!/usr/bin/env bash
# API fuzzing of the committed OpenAPI document against the real server (schemathesis, every
# check, every phase; tests/fuzz/schemathesis.toml says which expectations follow the seeds).
# Usage: tests/fuzz/run.sh BURNBOX_BINARY SCHEMATHESIS_BINARY
# BURNBOX_FUZZ_EXAMPLES (default 300) and BURNBOX_FUZZ_SEED (default 1) size and replay a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
BURNBOX=$1
SCHEMATHESIS=$2

# shellcheck source=tests/burnbox-server.sh
. tests/burnbox-server.sh

# An `api` account: the tier whose limits are the document's.
BURNBOX_FUZZ_API_KEY=$("$BURNBOX" account create fuzz@example.com --tier api --data-dir "$WORK/data" 2>/dev/null)
export BURNBOX_FUZZ_API_KEY

start_burnbox "$BURNBOX" --no-rate-limits

# Secrets that exist, for the operations that take a key (random keys only ever meet 404): one
# with unlimited views to view, reveal and read receipts of, and one to burn per burn operation.
create() {
  curl -sf -H "Authorization: Bearer $BURNBOX_FUZZ_API_KEY" -H 'Content-Type: application/json' \
    -d "{\"secret\": \"fuzzing fixture\", \"maxViews\": $1}" "$URL/api/secrets"
}
field() { python3 -c "import json, sys; print(json.load(sys.stdin)['metadata']['$1'])"; }
KEPT=$(create null)
BURNBOX_FUZZ_SECRET_KEY=$(field secretKey <<<"$KEPT")
BURNBOX_FUZZ_METADATA_KEY=$(field key <<<"$KEPT")
export BURNBOX_FUZZ_SECRET_KEY BURNBOX_FUZZ_METADATA_KEY
for name in NATIVE PRIVATE METADATA RECEIPT; do
  export "BURNBOX_FUZZ_BURN_${name}_KEY=$(create 1 | field key)"
done

"$SCHEMATHESIS" --config-file tests/fuzz/schemathesis.toml run openapi/burnbox.json --url "$URL" \
  --max-examples "${BURNBOX_FUZZ_EXAMPLES:-300}" --seed "${BURNBOX_FUZZ_SEED:-1}"
