package emulator

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkCheckJSONBody measures the body checks alone (one JSON value, repeated and case-variant
// keys, UTF-8) on add_users with ten user IDs, to set against the whole request in
// BenchmarkSignedAddUsers.
func BenchmarkCheckJSONBody(b *testing.B) {
	e, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	op := e.ops["POST /management/add_users/{application_id}"]
	body := []byte(`{"users": ["alice", "bob", "carol", "dave", "erin", "MY USER 1", "ünïcødé", "a+b", "x/y", "frank"]}`)
	req := httptest.NewRequest("POST", "/management/add_users/x", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		if issue, apiErr := checkJSONBody(req, op, body, false); apiErr != nil || issue != nil {
			b.Fatal(apiErr, issue)
		}
	}
}
