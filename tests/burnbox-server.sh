# Sourced by the scripts that test a running burnbox (tests/clients/run.sh, tests/fuzz/run.sh):
# a scratch directory removed on exit, and `start_burnbox BINARY [FLAGS...]`, which serves its
# data directory ($WORK/data) on a free loopback port and sets URL (the server is stopped on exit).

WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

start_burnbox() {
  local binary=$1
  shift
  "$binary" serve --listen 127.0.0.1:0 --data-dir "$WORK/data" "$@" \
    >"$WORK/stdout" 2>"$WORK/stderr" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$WORK/stdout" && break
    sleep 0.1
  done
  URL=$(sed -n 's/^burnbox listening on //p' "$WORK/stdout")
  [ -n "$URL" ] || { echo "burnbox did not start:"; cat "$WORK/stderr"; exit 1; }
}
