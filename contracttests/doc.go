// Package contracttests holds the contract tests of acmock: the generated client
// (generated/acapi), the emulator and the spec (api/openapi.yaml) must agree, and every shipped
// scenario must do what its file says. Every request the tests send and every response they get
// goes through a [Validator], an http.RoundTripper that checks the exchange against the spec
// embedded in generated/acapispec (and, for /_acmock/ calls, against api/control.yaml); a mismatch
// fails the test with the operation, the status and kin-openapi's message.
//
// # Where the suite runs
//
// By default each test starts its own emulator in-process, on 127.0.0.1 with a virtual clock:
//
//	go test -race -count=1 ./contracttests/...   # or: make contract
//
// The suite is written once and parameterised by base URL and credentials, so it can be pointed at
// another server:
//
//	ACMOCK_BASE_URL=http://127.0.0.1:8080 \
//	ACMOCK_APP_ID=5ca1ab1e000000000000000000000001 \
//	ACMOCK_APP_SECRET=ACMOCKDEMOSECRET0000000000000001 \
//	go test -count=1 ./contracttests/...
//
// ACMOCK_APP_ID and ACMOCK_APP_SECRET default to the demo credentials. What the suite can do
// against that server depends on what it serves:
//
//   - an acmock started separately (it answers GET /_acmock/health and GET /_acmock/clock): every
//     test, since they all talk HTTP, the control API included. Tests that change state every
//     test sees (load a scenario, reset, move the clock, shift the wall clock) run one at a time
//     before the others start, and put the server's scenario back afterwards; the others run in
//     parallel, each with users of its own. Tests that let time pass need `--clock virtual` and
//     are skipped, with a sentence saying so, when the clock is real. For an acmock started with
//     --control-token, set ACMOCK_CONTROL_TOKEN. `make contract-binary`
//     (contracttests/run-against-binary.sh) builds acmock, starts it on a free 127.0.0.1 port
//     with a virtual clock and runs the suite against it.
//   - any other server, such as the real Activeconnect service with the credentials of a real
//     account (ACMOCK_BASE_URL=https://activeapi.ninja): the tests that need acmock's control API
//     or its registration links (a phone registered by opening the link) are skipped, each with a
//     sentence saying why; the others show where the service and api/openapi.yaml disagree. They
//     add users whose IDs start with "ct-" and delete them again.
//
// The notes in README.md (NOTES) record what the public documentation of Activeconnect leaves
// unclear and what the emulator does about it, and the disagreements these tests found.
package contracttests
