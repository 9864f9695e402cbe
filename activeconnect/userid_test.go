package activeconnect_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
)

// awkwardIDs are user IDs that a naive path encoding gets wrong.
var awkwardIDs = []string{
	"MY USER 1", "a+b", "a/b", "100%", "x%2By", `quote"d`, "it's", "ünïcødé 用户", "plus + and space",
	"semi;colon", "q?uery#frag", "tilde~dash-dot.under_", ".", "..", "../admin",
}

func TestEscapeUserID(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"MY USER 1":   "MY+USER+1", // the official client's example
		"a+b":         "a%2Bb",
		"a/b":         "a%2Fb",
		"100%":        "100%25",
		`quote"d`:     "quote%22d",
		"ünï":         "%C3%BCn%C3%AF",
		"tilde~-._":   "tilde~-._",
		".":           "%2E",
		"..":          "%2E%2E",
		"...":         "...",
		"q?uery#frag": "q%3Fuery%23frag",
	}
	for id, want := range tests {
		if got := activeconnect.EscapeUserID(id); got != want {
			t.Errorf("EscapeUserID(%q) = %q, want %q", id, got, want)
		}
		// The service decodes the segment like Python's unquote_plus.
		if back, err := url.QueryUnescape(activeconnect.EscapeUserID(id)); err != nil || back != id {
			t.Errorf("QueryUnescape(EscapeUserID(%q)) = %q, %v", id, back, err)
		}
	}
}

// TestUserIDsReachTheService sends awkward IDs through every user-scoped call and checks that each
// reaches the very user that a JSON body created, with the path encoded like quote_plus.
func TestUserIDsReachTheService(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.management()
	a := e.auth()
	ctx := context.Background()
	created, _, err := m.AddUsers(ctx, awkwardIDs)
	if err != nil || len(created) != len(awkwardIDs) {
		t.Fatalf("AddUsers: %q, %v", created, err)
	}
	for _, id := range awkwardIDs {
		t.Run(id, func(t *testing.T) {
			link, err := m.GetRegistrationLink(ctx, id, "name "+id)
			if err != nil {
				t.Fatalf("GetRegistrationLink: %v", err)
			}
			e.openLink(link)
			if got, err := m.HasRegisteredMobileDevice(ctx, id); err != nil || got != activeconnect.ResultHasMobileDevice {
				t.Fatalf("HasRegisteredMobileDevice: %v, %v", got, err)
			}
			s, err := a.AuthenticateUser(ctx, id)
			if err != nil || !s.Started() {
				t.Fatalf("AuthenticateUser: %+v, %v", s, err)
			}
			if !slices.ContainsFunc(e.srv.Sessions(id), func(sess acmocktest.Session) bool { return sess.Token == s.Token }) {
				t.Fatalf("the session does not belong to %q: %+v", id, e.srv.Sessions(""))
			}
			if _, err := m.LostUserMobileDevice(ctx, id); err != nil {
				t.Fatalf("LostUserMobileDevice: %v", err)
			}
			if err := m.SendRegistrationSMS(ctx, id, activeconnect.RegistrationSMS{PhoneNumber: "+15555550100"}); err != nil {
				t.Fatalf("SendRegistrationSMS: %v", err)
			}
			if err := m.DeleteUser(ctx, id); err != nil {
				t.Fatalf("DeleteUser: %v", err)
			}
			if _, err := m.HasRegisteredMobileDevice(ctx, id); !activeconnect.IsNotFound(err) {
				t.Fatalf("after delete: %v", err)
			}
		})
	}
	// What went on the wire: the user segment is quote_plus-encoded.
	escaped := activeconnect.EscapeUserID("MY USER 1")
	if !slices.ContainsFunc(e.requests(), func(uri string) bool {
		return uri == "/management/has_registered_mobile_device/"+demoApp+"/"+escaped
	}) || escaped != "MY+USER+1" {
		t.Errorf("no request for MY+USER+1 among %q", e.requests())
	}
	for _, uri := range e.requests() {
		if strings.Contains(uri, "%20") && strings.HasPrefix(uri, "/management/has_") {
			t.Errorf("a space travelled as %%20: %s", uri)
		}
	}
}
