package emulator

import (
	"regexp"
	"strings"
	"testing"
)

// TestPathTemplateMatchesLikeMux: the compiled templates accept exactly the paths gorilla/mux's
// regular expression for the template ("[^/]+" per parameter) accepts, with the same values.
func TestPathTemplateMatchesLikeMux(t *testing.T) {
	t.Parallel()
	templates := []string{
		"/management/add_users/{application_id}",
		"/management/has_registered_mobile_device/{application_id}/{user_id}",
		"/authentication/session_status/{session_token}",
		"/_acmock/applications/{application_id}/reset",
		"/_acmock/health",
	}
	paths := []string{
		"/management/add_users/app", "/management/add_users/app/", "/management/add_users/",
		"/management/add_users", "/management/add_users/a%2Fb", "/management/add_users/a/b",
		"/management/has_registered_mobile_device/app/alice", "/management/has_registered_mobile_device/app/a+b",
		"/management/has_registered_mobile_device/app/", "/management/has_registered_mobile_device//alice",
		"/management/has_registered_mobile_device/app/alice/x", "//management/add_users/app",
		"/authentication/session_status/tok", "/authentication/session_status/tok?x", "/authentication/session_status",
		"/_acmock/applications/app/reset", "/_acmock/applications//reset", "/_acmock/applications/app/reset/",
		"/_acmock/health", "/_acmock/health/", "/_acmock/healthz", "", "/",
	}
	param := regexp.MustCompile(`\\\{[^}]+\\\}`)
	for _, tmpl := range templates {
		pt, err := compileTemplate(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile("^" + param.ReplaceAllString(regexp.QuoteMeta(tmpl), `([^/]+)`) + "$")
		for _, p := range paths {
			vars := make([]string, len(pt.names))
			got := pt.match(p, vars)
			m := re.FindStringSubmatch(p)
			if got != (m != nil) {
				t.Errorf("%s on %q: match %v, mux's expression %v", tmpl, p, got, m != nil)
				continue
			}
			for i, name := range pt.names {
				if m != nil && vars[i] != m[i+1] {
					t.Errorf("%s on %q: %s = %q, want %q", tmpl, p, name, vars[i], m[i+1])
				}
			}
		}
	}
	for _, bad := range []string{"management/x", "/a/{b", "/a/x{b}", "/a/{}"} {
		if _, err := compileTemplate(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("template %q: %v", bad, err)
		}
	}
}
