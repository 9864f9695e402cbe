package scenario_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acapispec"
	"github.com/acmock/acmock/internal/scenario"
)

// header is prepended to cases that need an application; keep its line count in mind: it is 4.
const header = `applications:
  - id: app
    secret: S
    users:
`

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want string // the first problem, as printed
	}{
		{"unknown top-level key", "name: x\ntimout: 5s\n",
			`f.yaml:2:1: unknown key "timout" in the scenario; expected one of name, description, timeout, seed, applications, defaults, faults, expect`},
		{"unknown user key", header + "      - id: alice\n        phon: true\n",
			`f.yaml:6:9: unknown key "phon" in a user; expected one of id, phone, login, logins`},
		{"wrong type for timeout", "timeout: [5s]\n",
			`f.yaml:1:10: timeout must be a duration such as 500ms, 2s or 1m30s, not a list`},
		{"bad duration", header + "      - id: a\n        phone: true\n        login:\n          - {after: soon, status: active}\n",
			`f.yaml:8:21: after must be a duration such as 500ms, 2s or 1m30s, not "soon"`},
		{"unknown status", header + "      - id: a\n        phone: true\n        login:\n          - {after: 1s, status: approved}\n",
			`f.yaml:8:33: unknown status "approved"; use identifying, active, walkaway, timeout, cancelled, failed or closed`},
		{"steps out of order", header + "      - id: a\n        phone: true\n        login:\n          - {after: 3s, status: identifying}\n          - {after: 2s, status: active}\n",
			`f.yaml:9:21: steps must be in time order: 2s is not after the previous step at 3s`},
		{"impossible transition", header + "      - id: a\n        phone: true\n        login:\n          - {after: 1s, status: walkaway}\n",
			`f.yaml:8:33: a session cannot go from pending to walkaway`},
		{"step after a final status", header + "      - id: a\n        phone: true\n        login:\n          - {after: 1s, status: cancelled}\n          - {after: 2s, status: active}\n",
			`f.yaml:9:33: the session already ended cancelled; nothing can follow it`},
		{"back to pending", header + "      - id: a\n        phone: true\n        login:\n          - {after: 1s, status: pending}\n",
			`f.yaml:8:33: a session starts pending; a step cannot go back to pending`},
		{"step after the timeout", "timeout: 10s\n" + header + "      - id: a\n        phone: true\n        login:\n          - {after: 30s, status: active}\n",
			`f.yaml:9:21: the step at 30s comes after the session has timed out (timeout 10s); raise timeout or move the step earlier`},
		{"login without phone", header + "      - id: a\n        login: []\n",
			`f.yaml:5:13: user "a" has a login timeline but no phone; add phone: true`},
		{"duplicate user", header + "      - id: a\n      - id: a\n",
			`f.yaml:6:13: user "a" is listed twice in this application`},
		{"repeated key", "name: a\nname: b\n",
			`f.yaml:2:1: key "name" appears twice in the scenario`},
		{"unknown method", header + "      - id: a\n        phone: {methods: [retina]}\n",
			`f.yaml:6:27: unknown authentication method "retina"; use acceptance, device or facial`},
		{"fault without operation", "faults:\n  - drop: true\n",
			`f.yaml:2:5: a fault needs an operation (one of addUsers, deleteUsers, getDeviceRegistrationLink, sendRegistrationSms, hasRegisteredMobileDevice, lostUserMobileDevice, authenticateUser, getSessionStatus, logout)`},
		{"unknown operation", "faults:\n  - operation: getStatus\n    drop: true\n",
			`f.yaml:2:16: unknown operation "getStatus"; use one of addUsers, deleteUsers, getDeviceRegistrationLink, sendRegistrationSms, hasRegisteredMobileDevice, lostUserMobileDevice, authenticateUser, getSessionStatus, logout`},
		{"probability out of range", "faults:\n  - operation: logout\n    drop: true\n    probability: 1.5\n",
			`f.yaml:4:18: probability must be a number above 0 and at most 1, not "1.5"`},
		{"two effects", "faults:\n  - operation: logout\n    drop: true\n    malformed: true\n",
			`f.yaml:2:5: a fault does one of respond, drop or malformed, not several`},
		{"status out of range", "faults:\n  - operation: logout\n    respond: {status: 999}\n",
			`f.yaml:3:23: status must be a whole number from 200 to 599, not "999"`},
		{"expectation without check", header + "      - id: a\nexpect:\n  - user: a\n",
			`f.yaml:7:5: an expectation needs something to check: statuses, final, reason, responses or min_latency`},
		{"expectation on unknown application", header + "      - id: a\nexpect:\n  - {application: other, user: a, final: active}\n",
			`f.yaml:7:5: expectation for user "a" names application "other", which the scenario does not list`},
		{"syntax: unclosed flow sequence", "name: x\nexpect: [1, 2\nseed: 3\n",
			`f.yaml:3:5: YAML syntax: did not find expected ',' or ']' (in the flow sequence opened at line 2, column 9)`},
		{"syntax: bracket left open on the last line", "name: x\nexpect: [\n",
			`f.yaml:3:1: YAML syntax: did not find expected node content (in the flow sequence opened at line 2, column 9)`},
		{"syntax: brace left open at the end, no newline", "name: 'it''s [x'\n# a [comment\nexpect: [{a: \"[\", b: ",
			`f.yaml:4:1: YAML syntax: did not find expected node content (in the flow mapping opened at line 3, column 10)`},
		{"syntax: bracket left open, CR line ends", "name: x\r\nseed: 1\rexpect: [\r",
			`f.yaml:4:1: YAML syntax: did not find expected node content (in the flow sequence opened at line 3, column 9)`},
		{"syntax: bad indentation", "applications:\n  - id: x\n - id: y\n",
			`f.yaml:3:2: YAML syntax: did not find expected key`},
		{"syntax: tab", "name: x\n\tseed: 1\n",
			`f.yaml:2:1: YAML syntax: a tab indents this line; indent with spaces`},
		{"empty file", "# only a comment\n",
			`f.yaml:1:1: the file holds no scenario; a scenario needs at least an application (see scenarios/README.md)`},
		{"no application", "name: lonely\n",
			`f.yaml:1:1: a scenario needs at least one application: clients have nothing to sign requests with otherwise`},
		{"syntax: tab in a nested block", header + "      - id: a\n\t  phone: true\n",
			`f.yaml:6:1: YAML syntax: a tab indents this line; indent with spaces`},
		{"syntax: indentation inside a list", header + "      - id: a\n     - id: b\n",
			`f.yaml:6:6: YAML syntax: did not find expected key`},
		{"second document", header + "      - id: a\n---\nname: b\n",
			`f.yaml:6:1: a scenario file holds one YAML document; this second one (after ---) would be ignored`},
		{"defaults with login and logins", header + "      - id: a\ndefaults:\n  login: []\n  logins: [[]]\n",
			`f.yaml:8:3: take login or logins, not both`},
		{"user id too long", header + "      - id: " + strings.Repeat("x", 257) + "\n",
			`f.yaml:5:13: a user's id is at most 256 bytes (the API's limit), not 257`},
		{"application id too long", "applications:\n  - id: " + strings.Repeat("a", 129) + "\n    secret: s\n",
			`f.yaml:2:9: an application's id is at most 128 characters (the control API's limit), not 129`},
		{"application secret too long", "applications:\n  - id: a\n    secret: " + strings.Repeat("s", 129) + "\n",
			`f.yaml:3:13: an application's secret is at most 128 characters (the control API's limit), not 129`},
		{"success status without a body", "faults:\n  - operation: logout\n    respond: {status: 204}\n",
			`f.yaml:3:14: status 204 needs a body: without one acmock answers only 429 and 5xx, the injected errors api/openapi.yaml documents for every operation`},
		{"latency too long", "faults:\n  - operation: logout\n    latency: 2m\n",
			`f.yaml:3:14: latency must be between 0s and 1m0s, not 2m`},
		{"invalid phone gives one problem", header + "      - id: a\n        phone: \"yes\"\n        login: []\n",
			`f.yaml:6:16: phone must be a mapping with keys methods, not "yes"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := scenario.Parse("f.yaml", []byte(tt.yaml))
			var problems scenario.Problems
			if !errors.As(err, &problems) {
				t.Fatalf("want Problems, got %v", err)
			}
			if got := problems[0].Error(); got != tt.want {
				t.Fatalf("first problem:\n got %s\nwant %s\n(all: %v)", got, tt.want, err)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := scenario.Parse("f.yaml", []byte("nme: x\ntimeout: forever\nseed: -1\napplications: []\n"))
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 4 {
		t.Fatalf("want four problems, one per line; got:\n%v", err)
	}
}

func TestLoadFileWrapsReadErrors(t *testing.T) {
	t.Parallel()
	_, err := scenario.LoadFile(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "load scenario") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseFullScenario(t *testing.T) {
	t.Parallel()
	sc, err := scenario.Parse("full.yaml", []byte(`
name: full
timeout: 45s
seed: 7
applications:
  - id: app
    secret: S
    users:
      - id: grace
        phone: {methods: [acceptance, facial]}
        logins:
          - [{after: 2s, status: cancelled}]
          - [{after: 1s, status: identifying}, {after: 3s, status: active}]
      - id: carol
defaults:
  login: []
faults:
  - operation: getSessionStatus
    user: grace
    call: 3
    times: 2
    probability: 0.5
    latency: 10ms
    respond: {status: 503, headers: {Retry-After: "1"}, body: '{"oops": true}'}
expect:
  - {user: grace, login: 2, statuses: [pending, identifying, active]}
  - {user: grace, operation: getSessionStatus, responses: [503, dropped]}
`))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "full" || sc.Timeout != 45*time.Second || sc.Seed != 7 {
		t.Fatalf("header fields: %+v", sc)
	}
	grace := sc.Applications[0].Users[0]
	if len(grace.Phone.Methods) != 2 || grace.Phone.Methods[1] != acapi.AuthenticationMethodFacial {
		t.Fatalf("phone: %+v", grace.Phone)
	}
	b := sc.BehaviourFor("app", "grace")
	if b.Timeline(0)[0].Status != acapi.SessionStatusCancelled || b.Timeline(5)[1].Status != acapi.SessionStatusActive {
		t.Fatalf("attempts: %+v", b)
	}
	if sc.Applications[0].Users[1].Phone != nil {
		t.Fatal("carol has no phone")
	}
	if d := sc.BehaviourFor("app", "zoe"); len(d.Attempts) != 1 || len(d.Timeline(0)) != 0 {
		t.Fatalf("defaults: %+v", d)
	}
	f := sc.Faults[0]
	if f.Call != 3 || f.Times != 2 || f.Probability != 0.5 || f.Latency != 10*time.Millisecond || f.Status != 503 ||
		f.Headers["Retry-After"] != "1" || f.Body != `{"oops": true}` {
		t.Fatalf("fault: %+v", f)
	}
	if x := sc.Expect[1]; x.Responses[0] != "503" || x.Responses[1] != "dropped" || x.Login != 1 {
		t.Fatalf("expectation: %+v", x)
	}
}

func TestDefaultIsTheDemo(t *testing.T) {
	t.Parallel()
	sc := scenario.Default()
	app := sc.Applications[0]
	if app.ID != scenario.DemoApplicationID || app.Secret != scenario.DemoApplicationSecret {
		t.Fatalf("demo credentials: %+v", app)
	}
	for user, want := range map[string]acapi.SessionStatus{"alice": acapi.SessionStatusActive, "bob": acapi.SessionStatusCancelled, "someone": acapi.SessionStatusActive} {
		steps := sc.BehaviourFor(app.ID, user).Timeline(0)
		if len(steps) != 1 || steps[0].After != 2*time.Second || steps[0].Status != want {
			t.Errorf("%s: %+v", user, steps)
		}
	}
	if app.Users[2].ID != "carol" || app.Users[2].Phone != nil {
		t.Errorf("carol: %+v", app.Users[2])
	}
}

// TestOperationsAreTheSpecs keeps the operation names that faults accept equal to the spec's.
func TestOperationsAreTheSpecs(t *testing.T) {
	t.Parallel()
	spec, err := acapispec.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, item := range spec.Paths.Map() {
		for _, op := range item.Operations() {
			ids = append(ids, strings.ToLower(op.OperationID[:1])+op.OperationID[1:])
		}
	}
	if len(ids) != len(scenario.Operations) {
		t.Fatalf("spec has %v, scenarios accept %v", ids, scenario.Operations)
	}
	for _, id := range ids {
		if !slices.Contains(scenario.Operations, id) {
			t.Errorf("spec operation %s is missing from scenario.Operations", id)
		}
	}
}

// TestProblemsQuoteAtMost128Bytes: a problem names the key or value at fault, cut to 128 bytes,
// so a 1 MB key gives a problem of a few hundred bytes, not one (and an answer) of 2 MB.
func TestProblemsQuoteAtMost128Bytes(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("k", 1_000_000)
	for _, data := range []string{
		"name: x\n" + key + ": 1\n",
		"name: x\ntimeout: " + key + "\napplications: [{id: a, secret: s}]\n",
		"name: x\napplications: [{id: a, secret: s, users: [{id: u, phone: {methods: [" + key + "]}}]}]\n",
		"name: x\napplications: [{id: a, secret: s}]\nfaults: [{operation: " + key + ", drop: true}]\n",
	} {
		_, err := scenario.Parse("big.yaml", []byte(data))
		var problems scenario.Problems
		if !errors.As(err, &problems) {
			t.Fatalf("want problems, got %v", err)
		}
		for _, p := range problems {
			if len(p.Msg) > 512 || strings.Contains(p.Msg, strings.Repeat("k", 129)) {
				t.Errorf("a %d-byte problem: %.200s", len(p.Msg), p.Msg)
			}
		}
		if !strings.Contains(problems.Error(), "…(1000000 bytes)") {
			t.Errorf("no problem says the input was cut: %.300s", problems.Error())
		}
	}
}
