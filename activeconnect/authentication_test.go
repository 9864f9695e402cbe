package activeconnect_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
)

func TestAuthenticateUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.auth()
	ctx := context.Background()

	s, err := a.AuthenticateUser(ctx, "alice")
	if err != nil {
		t.Fatalf("AuthenticateUser: %v", err)
	}
	if s.Status != activeconnect.StatusPending || !s.InProgress() || s.Failed() || s.Active() || !s.Started() {
		t.Fatalf("new session: %+v", s)
	}
	if !strings.HasPrefix(s.StatusURL, e.srv.URL()+"/authentication/session_status/") || !strings.HasPrefix(s.LogoutURL, e.srv.URL()+"/authentication/logout/") ||
		s.Token == "" || s.Secret == "" || s.FailureReason != "" {
		t.Fatalf("session fields: %+v", s)
	}
	// Like the official client, an empty methods parameter lets the service choose.
	if got := e.requests()[0]; got != "/authentication/authenticate_user/"+demoApp+"/alice?methods=" {
		t.Errorf("sent %s", got)
	}

	s, err = a.AuthenticateUser(ctx, "alice", activeconnect.MethodAcceptance, activeconnect.MethodFacial)
	if err != nil || s.Status != activeconnect.StatusPending {
		t.Fatalf("with methods: %+v, %v", s, err)
	}
	sessions := e.srv.Sessions("alice")
	if sess := sessions[len(sessions)-1]; sess.Token != s.Token || len(sess.Methods) != 2 || sess.Methods[0] != "acceptance" || sess.Methods[1] != "facial" {
		t.Fatalf("methods did not arrive: %+v", sess)
	}

	before := len(e.requests())
	if _, err := a.AuthenticateUser(ctx, "alice", "retina"); err == nil || !strings.Contains(err.Error(), `unknown authentication method "retina"`) {
		t.Errorf("unknown method: %v", err)
	}
	if _, err := a.AuthenticateUser(ctx, ""); err == nil || !strings.Contains(err.Error(), "user ID is empty") {
		t.Errorf("empty user: %v", err)
	}
	if len(e.requests()) != before {
		t.Error("bad input reached the server")
	}
}

func TestAuthenticateUserThatCannotStart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		user   string
		reason activeconnect.FailureReason
	}{
		{"carol", activeconnect.ReasonNoMobileDevice},
		{"nobody", activeconnect.ReasonUnknownUser},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			s, err := e.auth().AuthenticateUser(context.Background(), tt.user)
			if err != nil {
				t.Fatalf("a session that did not start is not an error: %v", err)
			}
			if s.Status != activeconnect.StatusFailed || s.FailureReason != tt.reason || !s.Failed() || s.InProgress() || s.Started() {
				t.Fatalf("got %+v, want failed with %s", s, tt.reason)
			}
			if err := s.Wait(context.Background(), time.Second); err != nil {
				t.Fatalf("Wait on a decided session: %v", err)
			}
			if _, err := s.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "did not start ("+string(tt.reason)+")") {
				t.Errorf("Refresh: %v", err)
			}
			if err := s.Destroy(context.Background()); err == nil || !strings.Contains(err.Error(), "did not start") {
				t.Errorf("Destroy: %v", err)
			}
		})
	}
}

func TestRefreshAndDestroy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s, err := e.auth().AuthenticateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Refresh(ctx); err != nil || got != activeconnect.StatusPending {
		t.Fatalf("at 0s: %v, %v", got, err)
	}
	e.srv.Advance(2 * time.Second)
	if got, err := s.Refresh(ctx); err != nil || got != activeconnect.StatusActive || !s.Active() {
		t.Fatalf("at 2s: %v, %v", got, err)
	}
	if err := s.Destroy(ctx); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if s.Status != activeconnect.StatusClosed || s.Active() || s.Failed() || s.InProgress() {
		t.Fatalf("after Destroy: %+v", s)
	}
	if got, err := s.Refresh(ctx); err != nil || got != activeconnect.StatusClosed {
		t.Fatalf("the service after logout: %v, %v", got, err)
	}
	if err := s.Destroy(ctx); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
	// The official client's logout: no body, JSON content type, signed with the session's
	// credentials (the emulator refuses anything else).
	if j := e.srv.Requests(acmocktest.Filter{Operation: "logout"}); len(j) != 2 || j[0].HMAC != "ok" || j[0].Status != 200 {
		t.Fatalf("journal: %+v", j)
	}

	// Wrong session credentials give a typed 401.
	forged := *s
	forged.Secret = "not the secret"
	if _, err := forged.Refresh(ctx); !activeconnect.IsUnauthorized(err) || !strings.HasPrefix(err.Error(), "get session status: HTTP 401 signature_mismatch") {
		t.Fatalf("forged secret: %v", err)
	}
	// A session of a deleted user is gone: 404.
	if err := e.management().DeleteUser(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx); !activeconnect.IsNotFound(err) {
		t.Fatalf("deleted session: %v", err)
	}
}

func TestSessionURLsAreChecked(t *testing.T) {
	t.Parallel()
	s := &activeconnect.Session{Status: activeconnect.StatusPending, Token: "t", Secret: "s", StatusURL: "/relative", LogoutURL: "ftp://x/lo"}
	if _, err := s.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), `status_url "/relative" is not an absolute http or https URL`) {
		t.Errorf("Refresh: %v", err)
	}
	if err := s.Destroy(context.Background()); err == nil || !strings.Contains(err.Error(), "logout_url") {
		t.Errorf("Destroy: %v", err)
	}
	empty := &activeconnect.Session{Status: activeconnect.StatusPending}
	if _, err := empty.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "incomplete JSON") {
		t.Errorf("empty session: %v", err)
	}
}

func TestWithClockSignsWithThatClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	late := func() time.Time { return time.Now().Add(-time.Hour) }
	_, err := e.management(activeconnect.WithClock(late)).HasRegisteredMobileDevice(context.Background(), "alice")
	var apiErr *activeconnect.APIError
	if !activeconnect.IsUnauthorized(err) || !asAPIError(err, &apiErr) || apiErr.Code != "stale_timestamp" {
		t.Fatalf("an hour-old timestamp: %v", err)
	}
	// Sessions inherit the clock too.
	s, err := e.auth().AuthenticateUser(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	e.auth(activeconnect.WithClock(late)).Attach(s)
	if _, err := s.Refresh(context.Background()); !asAPIError(err, &apiErr) || apiErr.Code != "stale_timestamp" {
		t.Fatalf("attached session: %v", err)
	}
}

// TestDestroyKeepsAFinalStatus: logging out of a session that already ended changes nothing, on
// the service or in the Session.
func TestDestroyKeepsAFinalStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	s, err := e.auth().AuthenticateUser(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(ctx, time.Second, activeconnect.WithSleep(e.sleeper().sleep)); err != nil || s.Status != activeconnect.StatusCancelled {
		t.Fatalf("Wait: %v, %s", err, s.Status)
	}
	if err := s.Destroy(ctx); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if s.Status != activeconnect.StatusCancelled {
		t.Fatalf("after Destroy of a cancelled session: %s, want cancelled", s.Status)
	}
	if got, err := s.Refresh(ctx); err != nil || got != activeconnect.StatusCancelled {
		t.Fatalf("the service after logout: %v, %v", got, err)
	}
	// An unknown status stays unknown: Destroy cannot tell whether the session was live.
	unknown := &activeconnect.Session{Token: s.Token, Secret: s.Secret, StatusURL: s.StatusURL, LogoutURL: s.LogoutURL}
	e.auth().Attach(unknown)
	if err := unknown.Destroy(ctx); err != nil || unknown.Status != "" {
		t.Fatalf("Destroy with an unknown status: %v, %q", err, unknown.Status)
	}
}

// TestWithHeaderFamily: every call, a session's status and logout included, sends the timestamp
// and version under the family's names, and the emulator accepts them.
func TestWithHeaderFamily(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var mu sync.Mutex
	var sent []string
	e.setIntercept(func(_ http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		if !strings.HasPrefix(r.URL.Path, "/_acmock/") {
			sent = append(sent, strings.Join(acauth.HeadersUsed(r.Header), ","))
		}
		return false
	})
	iampass := activeconnect.WithHeaderFamily(acauth.FamilyIAMPASS)
	ctx := context.Background()
	if res, err := e.management(iampass).HasRegisteredMobileDevice(ctx, "alice"); err != nil || res != activeconnect.ResultHasMobileDevice {
		t.Fatalf("has device: %v %v", res, err)
	}
	a := e.auth(iampass)
	s, err := a.AuthenticateUser(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refresh(ctx); err != nil {
		t.Fatalf("refresh: %v", err)
	}
	// A session read back from JSON signs with the family of the options it was parsed with.
	data, _ := s.PythonJSON()
	sonik, err := activeconnect.ParseSession(data, append(e.srv.ClientOptions(), activeconnect.WithHeaderFamily(acauth.FamilySonikpass))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := sonik.Destroy(ctx); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	i, sk := "X-IAMPASS-Authentiaction-Timestamp,X-IAMPASS-Authentiaction-Version", "X-Sonikpass-Authentication-Timestamp,X-Sonikpass-Authentication-Version"
	if want := []string{i, i, i, sk}; !slices.Equal(sent, want) {
		t.Errorf("headers sent:\n%q\nwant\n%q", sent, want)
	}
	if _, err := activeconnect.NewManagementAPI(demoApp, demoSecret, activeconnect.WithHeaderFamily("iampass")); err == nil || !strings.Contains(err.Error(), "ParseHeaderFamily") {
		t.Errorf("an unknown family: %v", err)
	}
}
