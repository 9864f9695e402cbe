#!/usr/bin/env bash
# run-against-binary.sh: build acmock, start it as a separate process on a free 127.0.0.1 port
# with a virtual clock, wait (bounded) until GET /_acmock/health answers 200, run the contract
# tests against it (ACMOCK_BASE_URL) and stop it, whatever happens. Extra arguments go to
# `go test`, e.g. -v or -run TestScenarios. Used by `make contract-binary`.
set -euo pipefail

cd "$(dirname "$0")/.."
GO=${GO:-go}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-20} # seconds

work=$(mktemp -d)
pid=""
cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$GO" build -o "$work/acmock" ./cmd/acmock

# Port 0: the kernel picks a free port, and acmock prints the address it got in its banner
# ("health: http://127.0.0.1:PORT/_acmock/health"), so no other process can take it meanwhile.
"$work/acmock" --addr 127.0.0.1:0 --clock virtual --log-level warn >"$work/stdout" 2>"$work/stderr" &
pid=$!

fail() {
	echo "run-against-binary: $*" >&2
	echo "--- acmock stdout" >&2
	cat "$work/stdout" >&2
	echo "--- acmock stderr" >&2
	cat "$work/stderr" >&2
	exit 1
}

deadline=$((SECONDS + STARTUP_TIMEOUT))
base=""
while [[ -z $base ]]; do
	kill -0 "$pid" 2>/dev/null || fail "acmock exited before it printed its address"
	((SECONDS < deadline)) || fail "acmock printed no address within ${STARTUP_TIMEOUT}s"
	base=$(sed -n 's#^health: \(http://127\.0\.0\.1:[0-9]*\)/_acmock/health$#\1#p' "$work/stdout")
	[[ -n $base ]] || sleep 0.05
done
until [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/_acmock/health") == 200 ]]; do
	kill -0 "$pid" 2>/dev/null || fail "acmock exited before GET $base/_acmock/health answered 200"
	((SECONDS < deadline)) || fail "GET $base/_acmock/health did not answer 200 within ${STARTUP_TIMEOUT}s"
	sleep 0.05
done
echo "run-against-binary: acmock (pid $pid) serves $base with a virtual clock"

ACMOCK_BASE_URL=$base "$GO" test -race -count=1 "$@" ./contracttests/...
