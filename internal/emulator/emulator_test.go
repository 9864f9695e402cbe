package emulator_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/internal/emulator"
	"github.com/acmock/acmock/internal/scenario"
)

func TestAddUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"alice", "dave", "erin", "dave"}})
	if r.status != http.StatusCreated || r.field("status") != true {
		t.Fatalf("add users: %d %s", r.status, r.raw)
	}
	if got := r.field("users", "created"); len(got.([]any)) != 2 {
		t.Errorf("created = %v, want dave and erin", got)
	}
	if got := r.field("users", "existing").([]any); len(got) != 1 || got[0] != "alice" {
		t.Errorf("existing = %v, want [alice]", got)
	}

	tests := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"missing users", map[string]any{}, 400, "invalid_request", "users"},
		{"users not a list", map[string]any{"users": "alice"}, 400, "invalid_request", "users"},
		{"user not a string", map[string]any{"users": []any{1}}, 400, "invalid_request", "users.0"},
		{"empty list", map[string]any{"users": []string{}}, 400, "invalid_request", "users"},
		{"not JSON", "{users:", 400, "invalid_request", "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expectError(t, e.app(http.MethodPost, "/management/add_users/"+demoApp, tt.body), tt.status, tt.code, tt.field)
		})
	}
	t.Run("unknown application", func(t *testing.T) {
		r := e.do(http.MethodPost, "/management/add_users/0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", "x", map[string]any{"users": []string{"a"}})
		expectError(t, r, 404, "unknown_application", "application_id")
	})
	users, _ := e.emu.Store().Users(demoApp)
	if len(users) != 5 {
		t.Errorf("after failed calls the application has %d users, want 5 (nothing lost or added)", len(users))
	}
}

func TestDeleteUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, secret, statusURL, _ := e.login("alice")
	r := e.app(http.MethodPost, "/management/delete_users/"+demoApp, map[string]any{"users": []string{"alice", "nobody"}})
	if r.status != http.StatusOK || r.field("status") != true {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	expectError(t, e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil), 404, "unknown_user", "user_id")
	expectError(t, e.do(http.MethodGet, statusURL, token, secret, nil), 404, "unknown_session", "session_token")
	if got := e.app(http.MethodPost, "/management/delete_users/"+demoApp, map[string]any{"users": []string{"alice"}}); got.status != 200 {
		t.Fatalf("deleting twice: %d", got.status)
	}
}

func TestRegistrationLinkRegistersAPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": []string{"dave"}})
	if r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "dave"), nil); r.field("device_registered") != false {
		t.Fatalf("new user already has a phone: %s", r.raw)
	}
	r := e.app(http.MethodGet, userPath("/management/device_registration_link", "dave")+"?display_name=dave%40myapp", nil)
	link := r.str("register_url")
	if r.status != 200 || !strings.HasPrefix(link, e.srv.URL+"/_acmock/register/") {
		t.Fatalf("link: %d %s (want a link back to %s)", r.status, r.raw, e.srv.URL)
	}
	page := e.do(http.MethodGet, link, "", "", nil)
	if page.status != 200 || !strings.Contains(page.raw, "dave") || !strings.Contains(page.raw, "dave@myapp") {
		t.Fatalf("registration page: %d %s", page.status, page.raw)
	}
	if r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "dave"), nil); r.field("device_registered") != true {
		t.Fatalf("after opening the link: %s", r.raw)
	}
	expectError(t, e.do(http.MethodGet, link, "", "", nil), 409, "link_used", "code")
	expectError(t, e.do(http.MethodGet, e.srv.URL+"/_acmock/register/nope", "", "", nil), 404, "unknown_link", "code")
	expectError(t, e.app(http.MethodGet, userPath("/management/device_registration_link", "nobody"), nil), 404, "unknown_user", "user_id")

	// A registered user can log in and the default behaviour approves after 2 s.
	token, secret, statusURL, _ := e.login("dave")
	e.clock.Advance(2 * time.Second)
	if got := e.status(token, secret, statusURL); got != "active" {
		t.Fatalf("dave after 2s: %s", got)
	}
}

func TestSendRegistrationSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := userPath("/management/send_registration_sms", "carol")
	r := e.app(http.MethodPost, path, map[string]any{"phone_number": "+15555550100", "message": "Join My App"})
	if r.status != 200 || r.field("status") != true {
		t.Fatalf("sms: %d %s", r.status, r.raw)
	}
	out := e.emu.Store().Outbox()
	if len(out) != 1 || out[0].PhoneNumber != "+15555550100" || !strings.HasPrefix(out[0].Body, "Join My App http://") ||
		!strings.HasSuffix(out[0].Body, out[0].Link) {
		t.Fatalf("outbox = %+v", out)
	}
	// A number that is not E.164 is the documented failure shape, with a reason that says what is
	// wrong with it, so that the official client can show it.
	for bad, want := range map[string]string{
		"5555550100":        `phone_number "5555550100" does not start with +`,
		"+1 555 555":        `phone_number "+1 555 555" holds ' ' at position 3`,
		"+0123456789":       `phone_number "+0123456789" starts with 0 after the +`,
		"+1234":             `phone_number "+1234" has 4 digits; E.164 numbers have 8 to 15`,
		"+1234567890123456": `has 16 digits`,
		"call me":           `does not start with +`,
		"":                  `phone_number is empty`,
		"+1555555010é":      `holds 'é' at position 12`,
		"+1(555)5550100":    `holds '(' at position 3`,
		"+15555550100\n":    `holds '\n' at position 13`,
	} {
		r := e.app(http.MethodPost, path, map[string]any{"phone_number": bad})
		if r.status != http.StatusOK || r.field("status") != false || !strings.Contains(r.str("reason"), want) || !strings.Contains(r.str("reason"), "+15555550100") {
			t.Errorf("phone number %q: %d %s, want 200 status false with a reason holding %q and an example", bad, r.status, r.raw, want)
		}
	}
	// The user is looked up first, as on the other user calls: an unknown user is a 404 and a
	// user with a phone a 409, whatever the number.
	for _, number := range []string{"+15555550100", "555-0100"} {
		expectError(t, e.app(http.MethodPost, userPath("/management/send_registration_sms", "nobody"), map[string]any{"phone_number": number}), 404, "unknown_user", "user_id")
		expectError(t, e.app(http.MethodPost, userPath("/management/send_registration_sms", "alice"), map[string]any{"phone_number": number}), 409, "device_already_registered", "user_id")
	}
	expectError(t, e.app(http.MethodPost, path, map[string]any{"message": "x"}), 400, "invalid_request", "phone_number")
	expectError(t, e.app(http.MethodPost, userPath("/management/send_registration_sms", "alice"), map[string]any{"phone_number": "+15555550100"}), 409, "device_already_registered", "user_id")
	if n := len(e.emu.Store().Outbox()); n != 1 {
		t.Fatalf("rejected messages reached the outbox: %d messages", n)
	}
	// The SMS link registers the phone like any other.
	if page := e.do(http.MethodGet, out[0].Link, "", "", nil); page.status != 200 {
		t.Fatalf("sms link: %d", page.status)
	}
}

func TestLostDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.app(http.MethodGet, userPath("/management/lost_user_mobile_device", "alice"), nil)
	if r.status != 200 || !strings.Contains(r.str("register_url"), "/_acmock/register/") {
		t.Fatalf("lost: %d %s", r.status, r.raw)
	}
	if r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil); r.field("device_registered") != false {
		t.Fatalf("lost phone still registered: %s", r.raw)
	}
	a := e.app(http.MethodPost, userPath("/authentication/authenticate_user", "alice"), map[string]any{})
	if a.status != 200 || a.str("authentication_status", "reason") != "NO_MOBILE_DEVICE" {
		t.Fatalf("login with lost phone: %d %s", a.status, a.raw)
	}
	if page := e.do(http.MethodGet, r.str("register_url"), "", "", nil); page.status != 200 {
		t.Fatalf("new link: %d", page.status)
	}
	e.login("alice")
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	t.Run("unknown user", func(t *testing.T) {
		r := e.app(http.MethodPost, userPath("/authentication/authenticate_user", "nobody"), map[string]any{})
		if r.status != 200 || r.field("authentication_status", "authenticated") != false || r.str("authentication_status", "reason") != "UNKNOWN_USER" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("no phone", func(t *testing.T) {
		r := e.app(http.MethodPost, userPath("/authentication/authenticate_user", "carol"), map[string]any{})
		if r.status != 200 || r.str("authentication_status", "reason") != "NO_MOBILE_DEVICE" || r.str("authentication_status", "session_status") != "failed" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("unknown application", func(t *testing.T) {
		r := e.do(http.MethodPost, "/authentication/authenticate_user/ffffffffffffffffffffffffffffffff/alice", "ffffffffffffffffffffffffffffffff", "x", map[string]any{})
		expectError(t, r, 404, "unknown_application", "application_id")
	})
	t.Run("methods given twice", func(t *testing.T) {
		r := e.app(http.MethodPost, userPath("/authentication/authenticate_user", "alice")+"?methods=device&methods=facial", map[string]any{})
		expectError(t, r, 400, "invalid_request", "methods")
	})
	t.Run("unknown method", func(t *testing.T) {
		r := e.app(http.MethodPost, userPath("/authentication/authenticate_user", "alice")+"?methods=acceptance,retina", map[string]any{})
		expectError(t, r, 400, "invalid_request", "methods")
	})
	for _, query := range []string{"", "?methods=", "?methods=acceptance,facial", "?methods=device"} {
		t.Run("methods "+query, func(t *testing.T) {
			r := e.app(http.MethodPost, userPath("/authentication/authenticate_user", "alice")+query, map[string]any{})
			if r.status != http.StatusAccepted || r.str("authentication_status", "session_status") != "pending" {
				t.Fatalf("%d %s", r.status, r.raw)
			}
		})
	}
	t.Run("no body", func(t *testing.T) {
		r := e.app(http.MethodPost, userPath("/authentication/authenticate_user", "alice"), nil)
		if r.status != http.StatusAccepted {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
}

func TestSessionLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, secret, statusURL, logoutURL := e.login("alice")
	if !strings.HasPrefix(statusURL, e.srv.URL+"/authentication/session_status/") || !strings.HasPrefix(logoutURL, e.srv.URL+"/authentication/logout/") {
		t.Fatalf("URLs must be absolute and point at the emulator: %s %s", statusURL, logoutURL)
	}
	if got := e.status(token, secret, statusURL); got != "pending" {
		t.Fatalf("at 0s: %s", got)
	}
	e.clock.Advance(1999 * time.Millisecond)
	if got := e.status(token, secret, statusURL); got != "pending" {
		t.Fatalf("at 1.999s: %s", got)
	}
	e.clock.Advance(time.Millisecond)
	r := e.do(http.MethodGet, statusURL, token, secret, nil)
	if r.str("authentication_status", "session_status") != "active" || r.field("authentication_status", "authenticated") != true {
		t.Fatalf("at 2s: %s", r.raw)
	}
	// The official client's logout: no body, JSON content type.
	lo := e.do(http.MethodPost, logoutURL, token, secret, nil, func(req *http.Request) { req.Header.Set("Content-Type", "application/json") })
	if lo.status != 200 || lo.field("status") != true {
		t.Fatalf("logout: %d %s", lo.status, lo.raw)
	}
	r = e.do(http.MethodGet, statusURL, token, secret, nil)
	if r.str("authentication_status", "session_status") != "closed" || r.field("authentication_status", "authenticated") != false {
		t.Fatalf("after logout: %s", r.raw)
	}
	if lo := e.do(http.MethodPost, logoutURL, token, secret, nil); lo.status != 200 {
		t.Fatalf("second logout: %d %s", lo.status, lo.raw)
	}
}

func TestDenyAndTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, secret, statusURL, _ := e.login("bob")
	e.clock.Advance(2 * time.Second)
	if got := e.status(token, secret, statusURL); got != "cancelled" {
		t.Fatalf("bob after 2s: %s", got)
	}

	silent := scenario.Default()
	silent.Defaults = scenario.Behaviour{}
	silent.Applications[0].Users[0].Behaviour = nil
	if err := e.emu.LoadScenario(silent); err != nil {
		t.Fatal(err)
	}
	token, secret, statusURL, _ = e.login("alice")
	e.clock.Advance(59 * time.Second)
	if got := e.status(token, secret, statusURL); got != "pending" {
		t.Fatalf("silent phone at 59s: %s", got)
	}
	e.clock.Advance(time.Second)
	if got := e.status(token, secret, statusURL); got != "timeout" {
		t.Fatalf("silent phone at 60s: %s", got)
	}
}

func TestLogoutBeforeDecisionStopsTheTimeline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, secret, statusURL, logoutURL := e.login("alice")
	if lo := e.do(http.MethodPost, logoutURL, token, secret, nil); lo.status != 200 {
		t.Fatalf("logout: %d", lo.status)
	}
	e.clock.Advance(time.Minute)
	if got := e.status(token, secret, statusURL); got != "closed" {
		t.Fatalf("a closed session came back as %s", got)
	}
}

func TestSessionCredentialsAreIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tokA, secA, statusA, logoutA := e.login("alice")
	tokB, secB, statusB, _ := e.login("alice")
	expectError(t, e.do(http.MethodGet, statusB, tokA, secA, nil), 401, "wrong_credentials_for_route", "Authentication")
	expectError(t, e.do(http.MethodPost, logoutA, tokB, secB, nil), 401, "wrong_credentials_for_route", "Authentication")
	expectError(t, e.do(http.MethodGet, statusA, demoApp, demoSecret, nil), 401, "wrong_credentials_for_route", "Authentication")
	expectError(t, e.do(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), tokA, secA, nil), 401, "wrong_credentials_for_route", "Authentication")
	expectError(t, e.do(http.MethodGet, statusA, tokA, secB, nil), 401, "signature_mismatch", "Authentication")
	if got := e.status(tokA, secA, statusA); got != "pending" {
		t.Fatalf("session A after the attempts: %s", got)
	}
	expectError(t, e.do(http.MethodGet, e.srv.URL+"/authentication/session_status/nosuchsession", "nosuchsession", "x", nil), 404, "unknown_session", "session_token")
}

func TestMultipleApplicationsAreIsolated(t *testing.T) {
	t.Parallel()
	sc := scenario.Default()
	sc.Applications = append(sc.Applications, scenario.Application{
		ID: "0000000000000000000000000000beef", Secret: "OTHERSECRET00000000000000000000B",
		Users: []scenario.User{{ID: "alice"}},
	})
	e := newEnv(t, func(o *emulator.Options) { o.Scenario = sc })
	other := "0000000000000000000000000000beef"
	r := e.do(http.MethodGet, "/management/has_registered_mobile_device/"+other+"/alice", other, "OTHERSECRET00000000000000000000B", nil)
	if r.status != 200 || r.field("device_registered") != false {
		t.Fatalf("the other application's alice: %d %s", r.status, r.raw)
	}
	if r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), nil); r.field("device_registered") != true {
		t.Fatalf("the demo alice: %s", r.raw)
	}
	expectError(t, e.do(http.MethodGet, "/management/has_registered_mobile_device/"+other+"/alice", demoApp, demoSecret, nil), 401, "wrong_credentials_for_route", "Authentication")
}

// TestUserIDsRoundTrip sends IDs encoded like Python's quote_plus and checks each reaches the
// same user that a JSON body created.
func TestUserIDsRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ids := []string{"MY USER 1", "a+b", "a/b", "100%", "ünïcødé 用户", "quote\"d", "x%2By", "plus + and space"}
	r := e.app(http.MethodPost, "/management/add_users/"+demoApp, map[string]any{"users": ids})
	if r.status != 201 {
		t.Fatalf("add: %d %s", r.status, r.raw)
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			link := e.app(http.MethodGet, userPath("/management/device_registration_link", id), nil)
			if link.status != 200 {
				t.Fatalf("link: %d %s", link.status, link.raw)
			}
			e.do(http.MethodGet, link.str("register_url"), "", "", nil)
			u, err := e.emu.Store().User(demoApp, id)
			if err != nil || !u.HasDevice() {
				t.Fatalf("user %q after registering: %+v %v", id, u, err)
			}
			if r := e.app(http.MethodGet, userPath("/management/has_registered_mobile_device", id), nil); r.field("device_registered") != true {
				t.Fatalf("has device: %s", r.raw)
			}
		})
	}
	// The official client's encoding of "MY USER 1".
	if r := e.app(http.MethodGet, "/management/has_registered_mobile_device/"+demoApp+"/MY+USER+1", nil); r.status != 200 {
		t.Fatalf("MY+USER+1: %d %s", r.status, r.raw)
	}
	// Go's client refuses to send a malformed escape, so this request goes over a raw connection;
	// net/http itself refuses it before the emulator sees it (see TestRejectionsBeforeTheRouter).
	raw := e.raw("GET /management/has_registered_mobile_device/" + demoApp + "/bad%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(raw, "HTTP/1.1 400") {
		t.Fatalf("malformed escape: %s", raw)
	}
}

func TestSignatureChecks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := userPath("/management/has_registered_mobile_device", "alice")
	expectError(t, e.do(http.MethodGet, path, "", "", nil), 401, "missing_header", "Authentication")
	expectError(t, e.do(http.MethodGet, path, demoApp, "WRONGSECRET", nil), 401, "signature_mismatch", "Authentication")

	r := e.do(http.MethodGet, path, demoApp, "WRONGSECRET", nil)
	if !strings.Contains(r.str("string_to_sign"), strings.TrimPrefix(e.srv.URL, "http://")+path) || strings.Contains(r.raw, demoSecret) {
		t.Fatalf("mismatch body must show the signed string and never the secret: %s", r.raw)
	}
	// The documented misspelling of the timestamp and version headers is accepted.
	misspelled := e.do(http.MethodGet, path, demoApp, demoSecret, nil, func(req *http.Request) {
		for _, h := range []string{"Timestamp", "Version"} {
			v := req.Header.Get("X-Activeconnect-Authentication-" + h)
			req.Header.Del("X-Activeconnect-Authentication-" + h)
			req.Header.Set("X-Activeconnect-Authentiaction-"+h, v)
		}
	})
	if misspelled.status != 200 {
		t.Fatalf("misspelled headers: %d %s", misspelled.status, misspelled.raw)
	}
	stale := e.do(http.MethodGet, path, demoApp, demoSecret, nil, func(req *http.Request) {
		s := acauth.NewSigner(demoApp, demoSecret)
		s.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
		_ = s.SignRequest(req.Context(), req)
	})
	expectError(t, stale, 401, "stale_timestamp", "X-Activeconnect-Authentication-Timestamp")
	// An IAMPASS client is answered in its own header names.
	staleIAMPASS := e.do(http.MethodGet, path, demoApp, demoSecret, nil, func(req *http.Request) {
		s := acauth.NewSigner(demoApp, demoSecret)
		s.Headers = acauth.FamilyIAMPASS
		s.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
		_ = s.SignRequest(req.Context(), req)
	})
	expectError(t, staleIAMPASS, 401, "stale_timestamp", "X-IAMPASS-Authentiaction-Timestamp")

	// A shifted wall clock makes the same request stale, and a wider window accepts it again.
	e.emu.SetWallClockShift(time.Hour)
	expectError(t, e.app(http.MethodGet, path, nil), 401, "stale_timestamp", "X-Activeconnect-Authentication-Timestamp")
	e.emu.Verifier().SetMaxSkew(2 * time.Hour)
	if r := e.app(http.MethodGet, path, nil); r.status != 200 {
		t.Fatalf("with a 2h window: %d %s", r.status, r.raw)
	}
}

func TestAuthOff(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.AuthOff = true })
	r := e.do(http.MethodGet, userPath("/management/has_registered_mobile_device", "alice"), "", "", nil)
	if r.status != 200 {
		t.Fatalf("unsigned request with auth off: %d %s", r.status, r.raw)
	}
	if j := e.emu.Journal().List(journalFilter("hasRegisteredMobileDevice")); len(j) != 1 || j[0].HMAC != "off" {
		t.Fatalf("journal = %+v", j)
	}
}

func TestRequestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) { o.MaxBodyBytes = 1024 })
	big := map[string]any{"users": []string{strings.Repeat("x", 2000)}}
	expectError(t, e.app(http.MethodPost, "/management/add_users/"+demoApp, big), 413, "body_too_large", "")
	r := e.app(http.MethodGet, "/management/add_users/"+demoApp, nil)
	expectError(t, r, 405, "method_not_allowed", "")
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q, want POST", r.header.Get("Allow"))
	}
	expectError(t, e.app(http.MethodGet, "/management/nothing/"+demoApp, nil), 404, "not_found", "")
	wrongType := e.app(http.MethodPost, "/management/add_users/"+demoApp, nil)
	expectError(t, wrongType, 400, "invalid_request", "body")
	if users, _ := e.emu.Store().Users(demoApp); len(users) != 3 {
		t.Fatalf("bad requests changed the users: %d", len(users))
	}
}

func TestResetCancelsPendingSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.login("alice")
	if err := e.emu.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := e.clock.Pending(); n != 0 {
		t.Fatalf("%d timers survived the reset", n)
	}
	if s := e.emu.Store().Sessions(nil); len(s) != 0 {
		t.Fatalf("%d sessions survived the reset", len(s))
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	r := e.do(http.MethodGet, "/_acmock/health", "", "", nil)
	if r.status != 200 || r.str("status") != "ok" {
		t.Fatalf("health: %d %s", r.status, r.raw)
	}
}

func TestLostPhoneApprovesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	token, secret, statusURL, _ := e.login("alice")
	if r := e.app(http.MethodGet, userPath("/management/lost_user_mobile_device", "alice"), nil); r.status != 200 {
		t.Fatalf("lost: %d %s", r.status, r.raw)
	}
	e.clock.Advance(2 * time.Second) // when alice's phone would have approved
	if got := e.status(token, secret, statusURL); got != "failed" {
		t.Fatalf("a login waiting for a lost phone ended %s, want failed", got)
	}
}

func TestMoreRequestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	unknownApp := "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name   string
		method string
		path   string
		client string
		body   any
		status int
		code   string
		field  string
	}{
		{"delete users of an unknown application", http.MethodPost, "/management/delete_users/" + unknownApp, unknownApp, map[string]any{"users": []string{"a"}}, 404, "unknown_application", "application_id"},
		{"lost phone of an unknown user", http.MethodGet, userPath("/management/lost_user_mobile_device", "nobody"), demoApp, nil, 404, "unknown_user", "user_id"},
		{"has device of an unknown user", http.MethodGet, userPath("/management/has_registered_mobile_device", "nobody"), demoApp, nil, 404, "unknown_user", "user_id"},
		{"sms to an unknown user", http.MethodPost, userPath("/management/send_registration_sms", "nobody"), demoApp, map[string]any{"phone_number": "+15555550100"}, 404, "unknown_user", "user_id"},
		{"logout of an unknown session", http.MethodPost, "/authentication/logout/nosuchsession", "nosuchsession", nil, 404, "unknown_session", "session_token"},
		{"trailing data after the JSON body", http.MethodPost, "/management/add_users/" + demoApp, demoApp, `{"users":["a"]} {"x":1}`, 400, "invalid_request", "body"},
		{"a double slash", http.MethodGet, "/management//has_registered_mobile_device/" + demoApp + "/alice", demoApp, nil, 404, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := demoSecret
			if tt.client != demoApp {
				secret = "x"
			}
			expectError(t, e.do(tt.method, tt.path, tt.client, secret, tt.body), tt.status, tt.code, tt.field)
		})
	}
	if users, _ := e.emu.Store().Users(demoApp); len(users) != 3 {
		t.Fatalf("the bad requests changed the users: %d", len(users))
	}
}
