package emulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestPutStateChecksWhatTheAPIChecks: a snapshot holding what no API call could have made (IDs
// longer than the API takes, a time out of bounds, a history the state machine cannot make) gets
// a 400 naming the field, and changes nothing.
func TestPutStateChecksWhatTheAPIChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, _, _, _ := e.login("alice") // pending, with an approval step and a timeout to come
	before := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw
	session := func(d map[string]any) map[string]any {
		for _, s := range d["sessions"].([]any) {
			if s := s.(map[string]any); s["token"] == token {
				return s
			}
		}
		t.Fatal("no session")
		return nil
	}
	change := func(status, at string) map[string]any {
		return map[string]any{"status": status, "at": at, "cause": "test"}
	}
	for _, tc := range []struct {
		name, field, message string
		edit                 func(map[string]any)
	}{
		{"a user ID longer than the API takes", "applications[0].users[0].id", "more than the 256", func(d map[string]any) {
			d["applications"].([]any)[0].(map[string]any)["users"].([]any)[0].(map[string]any)["id"] = strings.Repeat("u", 5000)
		}},
		{"an application ID longer than the API takes", "applications[0].id", "more than the 128", func(d map[string]any) {
			d["applications"].([]any)[0].(map[string]any)["id"] = strings.Repeat("a", 1000)
		}},
		{"a secret longer than the API takes", "applications[0].secret", "more than the 128", func(d map[string]any) {
			d["applications"].([]any)[0].(map[string]any)["secret"] = strings.Repeat("s", 129)
		}},
		{"a session token that cannot sign", "sessions[0].token", "a client ID cannot", func(d map[string]any) {
			session(d)["token"] = "a:b"
		}},
		{"a clock in year 1", "clock.now", "is not between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z", func(d map[string]any) {
			d["clock"].(map[string]any)["now"] = "0001-01-01T00:00:01Z"
		}},
		{"a history that goes back in time", "sessions[0].history[1].at", "before the change before it", func(d map[string]any) {
			s := session(d)
			s["history"] = []any{change("pending", "2026-01-01T00:00:00Z"), change("identifying", "2025-12-31T23:00:00Z")}
			s["status"] = "identifying"
		}},
		{"a history the state machine cannot make", "sessions[0].history[2].status", "cannot become pending", func(d map[string]any) {
			s := session(d)
			s["history"] = []any{change("pending", "2026-01-01T00:00:00Z"), change("active", "2026-01-01T00:00:01Z"), change("pending", "2026-01-01T00:00:02Z")}
		}},
		{"a history that does not start pending", "sessions[0].history[0].status", "a session starts pending", func(d map[string]any) {
			s := session(d)
			s["history"] = []any{change("active", "2026-01-01T00:00:00Z")}
			s["status"] = "active"
		}},
		{"a fired timeout on a pending session", "sessions[0].steps[1].done", "the timeout fired", func(d map[string]any) {
			steps := session(d)["steps"].([]any)
			steps[len(steps)-1].(map[string]any)["done"] = true
		}},
		{"an attempt the user's logins cannot count", "sessions[0].attempt", "has 1 logins", func(d map[string]any) {
			session(d)["attempt"] = 3
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(before), &doc); err != nil {
				t.Fatal(err)
			}
			tc.edit(doc)
			r := e.do(http.MethodPut, "/_acmock/state", "", "", doc)
			if r.status != http.StatusBadRequest || r.str("field") != tc.field || !strings.Contains(r.str("message"), tc.message) {
				t.Fatalf("got %d %s, want a 400 naming %s with %q", r.status, r.raw, tc.field, tc.message)
			}
			if now := e.do(http.MethodGet, "/_acmock/state", "", "", nil).raw; now != before {
				t.Fatal("a refused snapshot changed the state")
			}
		})
	}

	// The zero time is no time: a virtual clock keeps its own.
	var doc map[string]any
	_ = json.Unmarshal([]byte(before), &doc)
	doc["clock"].(map[string]any)["now"] = "0001-01-01T00:00:00Z"
	if r := e.do(http.MethodPut, "/_acmock/state", "", "", doc); r.status != http.StatusOK {
		t.Fatalf("a snapshot with no clock time: %d %s", r.status, r.raw)
	}
	if now := e.do(http.MethodGet, "/_acmock/clock", "", "", nil).str("now"); !strings.HasPrefix(now, "2026-01-01") {
		t.Errorf("a snapshot with no clock time moved the clock to %s", now)
	}
}
