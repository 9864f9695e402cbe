#!/usr/bin/env bash
# run-against-binary.sh: build acmock, start it as a separate process on a free 127.0.0.1 port
# with a virtual clock, wait (bounded) until GET /_acmock/health answers 200, run the contract
# tests against it (ACMOCK_BASE_URL) and stop it, whatever happens. Extra arguments go to
# `go test`, e.g. -v or -run TestScenarios. Used by `make contract-binary`.
#
# Sourced (`source run-against-binary.sh`), it only defines its functions, for its own test
# (script_test.go).
set -euo pipefail

# fail reports why the run stops, with what acmock printed, and exits 1.
fail() {
	echo "run-against-binary: $*" >&2
	if [[ -n ${work:-} ]]; then
		echo "--- acmock stdout" >&2
		cat "$work/stdout" >&2 2>/dev/null || true
		echo "--- acmock stderr" >&2
		cat "$work/stderr" >&2 2>/dev/null || true
	fi
	exit 1
}

# wait_for_address LOG PID TIMEOUT prints the base URL that acmock (process PID) announces in
# the banner it writes to LOG ("health: http://127.0.0.1:PORT/_acmock/health"), waiting up to
# TIMEOUT seconds. LOG may not exist yet: the shell creates it in the background process, which
# may not have run yet when this starts.
wait_for_address() {
	local log=$1 pid=$2 deadline=$((SECONDS + $3)) base=""
	while [[ -z $base ]]; do
		kill -0 "$pid" 2>/dev/null || fail "acmock exited before it printed its address"
		((SECONDS < deadline)) || fail "acmock printed no address within $3s"
		if [[ -f $log ]]; then
			base=$(sed -n 's#^health: \(http://127\.0\.0\.1:[0-9]*\)/_acmock/health$#\1#p' "$log")
		fi
		[[ -n $base ]] || sleep 0.05
	done
	echo "$base"
}

# wait_for_health BASE PID TIMEOUT waits until GET BASE/_acmock/health answers 200.
wait_for_health() {
	local base=$1 pid=$2 deadline=$((SECONDS + $3))
	until [[ $(curl -s -o /dev/null -w '%{http_code}' "$base/_acmock/health") == 200 ]]; do
		kill -0 "$pid" 2>/dev/null || fail "acmock exited before GET $base/_acmock/health answered 200"
		((SECONDS < deadline)) || fail "GET $base/_acmock/health did not answer 200 within $3s"
		sleep 0.05
	done
}

main() {
	cd "$(dirname "$0")/.."
	local go=${GO:-go} timeout=${STARTUP_TIMEOUT:-20} # seconds
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

	"$go" build -o "$work/acmock" ./cmd/acmock

	# Port 0: the kernel picks a free port, and acmock prints the address it got in its banner,
	# so no other process can take it meanwhile. The logs exist before acmock starts.
	: >"$work/stdout"
	: >"$work/stderr"
	"$work/acmock" --addr 127.0.0.1:0 --clock virtual --log-level warn >>"$work/stdout" 2>>"$work/stderr" &
	pid=$!

	local base
	base=$(wait_for_address "$work/stdout" "$pid" "$timeout")
	wait_for_health "$base" "$pid" "$timeout"
	echo "run-against-binary: acmock (pid $pid) serves $base with a virtual clock"

	ACMOCK_BASE_URL=$base "$go" test -race -count=1 "$@" ./contracttests/...
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
	main "$@"
fi
