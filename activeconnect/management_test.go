package activeconnect_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/generated/acctl"
)

func TestAddUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.management()
	ctx := context.Background()

	created, existing, err := m.AddUsers(ctx, []string{"alice", "dave", "erin"})
	if err != nil {
		t.Fatalf("AddUsers: %v", err)
	}
	slices.Sort(created)
	if !slices.Equal(created, []string{"dave", "erin"}) || !slices.Equal(existing, []string{"alice"}) {
		t.Fatalf("created %q existing %q, want [dave erin] and [alice]", created, existing)
	}

	tests := []struct {
		name string
		user string
		want activeconnect.ManagementResult
	}{
		{"new user", "frank", activeconnect.ResultSuccess},
		{"same user again", "frank", activeconnect.ResultUserExists},
		{"scenario user", "bob", activeconnect.ResultUserExists},
	}
	for _, tt := range tests {
		got, err := m.AddUser(ctx, tt.user)
		if err != nil || got != tt.want {
			t.Errorf("%s: AddUser(%q) = %v, %v; want %v", tt.name, tt.user, got, err, tt.want)
		}
	}
	if got := activeconnect.ResultUserExists.String(); got != "user_exists" {
		t.Errorf("ResultUserExists.String() = %q, want the Python name user_exists", got)
	}

	before := len(e.requests())
	if _, _, err := m.AddUsers(ctx, nil); err == nil || !strings.Contains(err.Error(), "no user IDs") {
		t.Errorf("AddUsers(nil) = %v, want a no-user-IDs error", err)
	}
	if _, _, err := m.AddUsers(ctx, []string{"x", ""}); err == nil || !strings.Contains(err.Error(), "user ID 2 of 2 is empty") {
		t.Errorf("AddUsers with an empty ID = %v", err)
	}
	if r, err := m.AddUser(ctx, ""); r != activeconnect.ResultFailed || err == nil {
		t.Errorf("AddUser(\"\") = %v, %v", r, err)
	}
	if after := len(e.requests()); after != before {
		t.Errorf("bad input reached the server: %d requests", after-before)
	}
}

// TestAddUsersFailureShape checks the real service's failed add: 200 {"status": false, "reason"}.
func TestAddUsersFailureShape(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"status": false, "reason": "user limit reached"})
		return true
	})
	m := e.management()
	_, _, err := m.AddUsers(context.Background(), []string{"dave"})
	var apiErr *activeconnect.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 200 || apiErr.Message != "user limit reached" {
		t.Fatalf("AddUsers = %v, want an APIError with the reason", err)
	}
	if got, err := m.AddUser(context.Background(), "dave"); got != activeconnect.ResultFailed || err == nil {
		t.Fatalf("AddUser = %v, %v; want ResultFailed and an error", got, err)
	}
	if !strings.HasPrefix(err.Error(), "add users: HTTP 200: user limit reached") {
		t.Errorf("message = %q", err)
	}
}

func TestDeleteUsers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.management()
	ctx := context.Background()
	if err := m.DeleteUsers(ctx, []string{"alice", "nobody"}); err != nil {
		t.Fatalf("DeleteUsers: %v", err)
	}
	if _, err := m.HasRegisteredMobileDevice(ctx, "alice"); !activeconnect.IsNotFound(err) {
		t.Fatalf("alice after delete: %v, want not found", err)
	}
	if err := m.DeleteUser(ctx, "bob"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if err := m.DeleteUser(ctx, "bob"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if users := e.users(); len(users) != 1 || users[0].Id != "carol" {
		t.Fatalf("users left: %+v, want carol", users)
	}
	if err := m.DeleteUsers(ctx, []string{}); err == nil {
		t.Fatal("DeleteUsers of nothing succeeded")
	}
}

func TestRegistrationLinkRegistersAPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.management()
	ctx := context.Background()
	if _, err := m.AddUser(ctx, "dave"); err != nil {
		t.Fatal(err)
	}
	if got, err := m.HasRegisteredMobileDevice(ctx, "dave"); err != nil || got != activeconnect.ResultNoMobileDevice {
		t.Fatalf("new user: %v, %v", got, err)
	}
	link, err := m.GetRegistrationLink(ctx, "dave", "dave@my app")
	if err != nil {
		t.Fatalf("GetRegistrationLink: %v", err)
	}
	e.openLink(link)
	if got, err := m.HasRegisteredMobileDevice(ctx, "dave"); err != nil || got != activeconnect.ResultHasMobileDevice {
		t.Fatalf("after opening the link: %v, %v", got, err)
	}
	users := e.users()
	i := slices.IndexFunc(users, func(u acctl.UserState) bool { return u.Id == "dave" })
	if i < 0 || len(users[i].Links) != 1 || users[i].Links[0].DisplayName == nil || *users[i].Links[0].DisplayName != "dave@my app" {
		t.Fatalf("display name did not arrive: %+v", users)
	}
	// Without a display name the query string is left out.
	if _, err := m.GetRegistrationLink(ctx, "carol", ""); err != nil {
		t.Fatal(err)
	}
	reqs := e.requests()
	if last := reqs[len(reqs)-1]; strings.Contains(last, "?") {
		t.Errorf("empty display name sent a query: %s", last)
	}
	if _, err := m.GetRegistrationLink(ctx, "nobody", ""); !activeconnect.IsNotFound(err) {
		t.Errorf("link for an unknown user: %v", err)
	}
}

func TestSendRegistrationSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.management()
	ctx := context.Background()
	err := m.SendRegistrationSMS(ctx, "carol", activeconnect.RegistrationSMS{PhoneNumber: "+15555550100", DisplayName: "carol@myapp", Message: "Join My App"})
	if err != nil {
		t.Fatalf("SendRegistrationSMS: %v", err)
	}
	out := e.srv.Outbox()
	if len(out) != 1 || out[0].PhoneNumber != "+15555550100" || out[0].User != "carol" || !strings.HasPrefix(out[0].Body, "Join My App ") {
		t.Fatalf("outbox = %+v", out)
	}
	// Without a message the service's greeting is used.
	if err := m.SendRegistrationSMS(ctx, "carol", activeconnect.RegistrationSMS{PhoneNumber: "+15555550101"}); err != nil {
		t.Fatal(err)
	}

	var apiErr *activeconnect.APIError
	err = m.SendRegistrationSMS(ctx, "alice", activeconnect.RegistrationSMS{PhoneNumber: "+15555550100"})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict || apiErr.Code != "device_already_registered" {
		t.Fatalf("alice has a phone: %v, want 409 device_already_registered", err)
	}
	// The service's documented failure shape: 200 with status false and a reason.
	err = m.SendRegistrationSMS(ctx, "carol", activeconnect.RegistrationSMS{PhoneNumber: "555-0100"})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusOK || !strings.Contains(apiErr.Message, `phone_number "555-0100" does not start with +`) {
		t.Fatalf("bad number: %v, want 200 status false with the reason", err)
	}
	if !strings.Contains(err.Error(), `send registration SMS to "carol": HTTP 200: phone_number "555-0100"`) {
		t.Errorf("message lacks context: %v", err)
	}
	before := len(e.requests())
	if err := m.SendRegistrationSMS(ctx, "carol", activeconnect.RegistrationSMS{}); err == nil || !strings.Contains(err.Error(), "phone number is empty") {
		t.Errorf("no number: %v", err)
	}
	if len(e.requests()) != before {
		t.Error("a request without a phone number was sent")
	}
}

func TestHasRegisteredMobileDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.management()
	tests := []struct {
		user     string
		want     activeconnect.ManagementResult
		notFound bool
	}{
		{"alice", activeconnect.ResultHasMobileDevice, false},
		{"carol", activeconnect.ResultNoMobileDevice, false},
		{"nobody", activeconnect.ResultFailed, true},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, err := m.HasRegisteredMobileDevice(context.Background(), tt.user)
			if got != tt.want || activeconnect.IsNotFound(err) != tt.notFound || (err != nil) != tt.notFound {
				t.Fatalf("got %v, %v; want %v (not found: %v)", got, err, tt.want, tt.notFound)
			}
		})
	}
}

func TestLostUserMobileDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.management()
	ctx := context.Background()
	link, err := m.LostUserMobileDevice(ctx, "alice")
	if err != nil {
		t.Fatalf("LostUserMobileDevice: %v", err)
	}
	if got, _ := m.HasRegisteredMobileDevice(ctx, "alice"); got != activeconnect.ResultNoMobileDevice {
		t.Fatalf("lost phone still registered: %v", got)
	}
	s, err := e.auth().AuthenticateUser(ctx, "alice")
	if err != nil || s.FailureReason != activeconnect.ReasonNoMobileDevice {
		t.Fatalf("login with a lost phone: %+v, %v", s, err)
	}
	e.openLink(link)
	if got, _ := m.HasRegisteredMobileDevice(ctx, "alice"); got != activeconnect.ResultHasMobileDevice {
		t.Fatalf("after the new link: %v", got)
	}
	if _, err := m.LostUserMobileDevice(ctx, "nobody"); !activeconnect.IsNotFound(err) {
		t.Fatalf("unknown user: %v", err)
	}
}

func TestTypedErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const otherApp = "0123456789abcdef0123456789abcdef"

	unknownApp, err := activeconnect.NewManagementAPI(otherApp, "SECRET", activeconnect.WithBaseURL(e.srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	badSecret, err := activeconnect.NewAuthenticationAPI(demoApp, "WRONGSECRET", activeconnect.WithBaseURL(e.srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	unknownAppAuth, err := activeconnect.NewAuthenticationAPI(otherApp, "SECRET", activeconnect.WithBaseURL(e.srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	_, unknownAppAuthErr := unknownAppAuth.AuthenticateUser(ctx, "alice")
	_, _, unknownAppErr := unknownApp.AddUsers(ctx, []string{"x"})
	_, badSecretErr := badSecret.AuthenticateUser(ctx, "alice")
	_, unknownUserErr := e.management().HasRegisteredMobileDevice(ctx, "nobody")

	tests := []struct {
		name         string
		err          error
		status       int
		code, field  string
		prefix       string
		notFound     bool
		unauthorized bool
	}{
		{"unknown application (management)", unknownAppErr, 404, "unknown_application", "application_id", "add users: HTTP 404 unknown_application", true, false},
		{"unknown application (authenticate)", unknownAppAuthErr, 404, "unknown_application", "application_id", `authenticate "alice": HTTP 404`, true, false},
		{"bad secret", badSecretErr, 401, "signature_mismatch", "Authentication", `authenticate "alice": HTTP 401 signature_mismatch`, false, true},
		{"unknown user", unknownUserErr, 404, "unknown_user", "user_id", `has registered mobile device "nobody": HTTP 404 unknown_user`, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var apiErr *activeconnect.APIError
			if !errors.As(tt.err, &apiErr) {
				t.Fatalf("%v is not an *APIError", tt.err)
			}
			if apiErr.StatusCode != tt.status || apiErr.Code != tt.code || apiErr.Field != tt.field || apiErr.Message == "" {
				t.Fatalf("got %+v, want %d %s on %s", apiErr, tt.status, tt.code, tt.field)
			}
			if !strings.HasPrefix(tt.err.Error(), tt.prefix) {
				t.Errorf("message %q, want prefix %q", tt.err, tt.prefix)
			}
			if activeconnect.IsNotFound(tt.err) != tt.notFound || activeconnect.IsUnauthorized(tt.err) != tt.unauthorized {
				t.Errorf("IsNotFound=%v IsUnauthorized=%v", activeconnect.IsNotFound(tt.err), activeconnect.IsUnauthorized(tt.err))
			}
			if activeconnect.IsTemporary(tt.err) {
				t.Error("a 4xx counted as temporary")
			}
		})
	}
	var apiErr *activeconnect.APIError
	if errors.As(badSecretErr, &apiErr); !strings.Contains(apiErr.StringToSign, "/authentication/authenticate_user/"+demoApp+"/alice?methods=") {
		t.Errorf("signature_mismatch carries the server's string to sign: %q", apiErr.StringToSign)
	}
}

func TestNonJSONErrorAnswer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>bad gateway</html>"))
		return true
	})
	_, err := e.management().HasRegisteredMobileDevice(context.Background(), "alice")
	var apiErr *activeconnect.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 502 || apiErr.Code != "" || !strings.Contains(apiErr.Message, "Bad Gateway") ||
		!strings.Contains(apiErr.Message, "bad gateway</html>") || apiErr.RetryAfter.Seconds() != 7 {
		t.Fatalf("got %#v", apiErr)
	}
	if !activeconnect.IsTemporary(err) {
		t.Error("a 502 is temporary")
	}
}

func TestOptionsAndCredentialsAreChecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, app, secret string
		opts              []activeconnect.Option
		want              string
	}{
		{"empty app ID", "", "s", nil, "application ID is empty"},
		{"colon in app ID", "a:b", "s", nil, "must not contain ':'"},
		{"empty secret", "app", "", nil, "application secret is empty"},
		{"relative base URL", "app", "s", []activeconnect.Option{activeconnect.WithBaseURL("/api")}, "absolute http or https URL"},
		{"host without scheme", "app", "s", []activeconnect.Option{activeconnect.WithBaseURL("127.0.0.1:8080")}, "first path segment in URL cannot contain colon"},
		{"ftp base URL", "app", "s", []activeconnect.Option{activeconnect.WithBaseURL("ftp://x")}, "absolute http or https URL"},
		{"query in base URL", "app", "s", []activeconnect.Option{activeconnect.WithBaseURL("http://x/?a=b")}, "must not carry a query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := activeconnect.NewManagementAPI(tt.app, tt.secret, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewManagementAPI: %v, want %q", err, tt.want)
			}
			_, err = activeconnect.NewAuthenticationAPI(tt.app, tt.secret, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewAuthenticationAPI: %v, want %q", err, tt.want)
			}
		})
	}
	m, err := activeconnect.NewManagementAPI("app", "s")
	if err != nil || m.ApplicationID() != "app" {
		t.Fatalf("defaults: %v", err)
	}
}

// TestBaseURLWithPathPrefix checks that a base URL's path is kept in front of the API's paths.
func TestBaseURLWithPathPrefix(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.setIntercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/prefix/") {
			http.Error(w, "no prefix", http.StatusTeapot)
			return true
		}
		// The signature covers the prefix, so the emulator, which knows no prefix, would refuse;
		// seeing the request arrive with it is the point.
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status": true, "device_registered": true}`))
		return true
	})
	m := e.management(activeconnect.WithBaseURL(e.srv.URL() + "/prefix/"))
	if got, err := m.HasRegisteredMobileDevice(context.Background(), "a b"); err != nil || got != activeconnect.ResultHasMobileDevice {
		t.Fatalf("%v %v", got, err)
	}
	if got := e.requests()[0]; got != "/prefix/management/has_registered_mobile_device/"+demoApp+"/a+b" {
		t.Fatalf("sent %s", got)
	}
}

// TestUntrustedCertificateIsNotTemporary checks that a certificate that does not verify is
// reported as it is, and not retried as a network hiccup.
func TestUntrustedCertificateIsNotTemporary(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	m, err := activeconnect.NewManagementAPI(demoApp, demoSecret, activeconnect.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.HasRegisteredMobileDevice(context.Background(), "alice")
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &certErr) || activeconnect.IsTemporary(err) {
		t.Fatalf("got %v (temporary: %v)", err, activeconnect.IsTemporary(err))
	}
	// With a client that trusts it, the request goes through (and the stub answers 404).
	m, _ = activeconnect.NewManagementAPI(demoApp, demoSecret, activeconnect.WithBaseURL(srv.URL), activeconnect.WithHTTPClient(srv.Client()))
	if _, err := m.HasRegisteredMobileDevice(context.Background(), "alice"); !activeconnect.IsNotFound(err) {
		t.Fatalf("trusted: %v", err)
	}
}

// hangingServer accepts connections and never answers, like a stuck proxy.
func hangingServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestRequestTimeout: the HTTP client's own timeout ends a request to a server that never answers
// and counts as temporary (Wait retries it); the caller's deadline does not.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	base := hangingServer(t)
	m, err := activeconnect.NewManagementAPI(demoApp, demoSecret, activeconnect.WithBaseURL(base),
		activeconnect.WithHTTPClient(&http.Client{Timeout: 50 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.HasRegisteredMobileDevice(context.Background(), "alice")
	if !activeconnect.IsRequestTimeout(err) || !activeconnect.IsTemporary(err) || !strings.Contains(err.Error(), "Client.Timeout exceeded") {
		t.Fatalf("client timeout: %v (request timeout %v, temporary %v)", err, activeconnect.IsRequestTimeout(err), activeconnect.IsTemporary(err))
	}

	m, err = activeconnect.NewManagementAPI(demoApp, demoSecret, activeconnect.WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = m.HasRegisteredMobileDevice(ctx, "alice")
	if !errors.Is(err, context.DeadlineExceeded) || activeconnect.IsRequestTimeout(err) || activeconnect.IsTemporary(err) {
		t.Fatalf("caller's deadline: %v (request timeout %v, temporary %v)", err, activeconnect.IsRequestTimeout(err), activeconnect.IsTemporary(err))
	}
}
