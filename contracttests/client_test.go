package contracttests

import (
	"context"
	"errors"
	"testing"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/generated/acapi"
)

// TestActiveconnectClient runs the Go client library (package activeconnect, the Python client's
// API) through the validating transport, for user IDs that its encoding must carry.
func TestActiveconnectClient(t *testing.T) {
	tg := newTarget(t, stillTo("register phones by opening their links and make the phones act"))
	opts := []activeconnect.Option{activeconnect.WithBaseURL(tg.baseURL), activeconnect.WithHTTPClient(tg.client),
		activeconnect.WithHeaderFamily(signing.family)}
	mgmt, err := activeconnect.NewManagementAPI(tg.appID, tg.appSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := activeconnect.NewAuthenticationAPI(tg.appID, tg.appSecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		user    string
		methods []activeconnect.AuthenticationMethod
		phone   acapi.SessionStatus // what the phone does
		active  bool
		failed  bool
	}{
		{"plain ID approved", "alice", nil, acapi.SessionStatusActive, true, false},
		{"spaces and plus denied", "MY USER+1", []activeconnect.AuthenticationMethod{activeconnect.MethodAcceptance}, acapi.SessionStatusCancelled, false, true},
		{"slash, percent and non-ASCII approved", "élève/100%", []activeconnect.AuthenticationMethod{activeconnect.MethodFacial, activeconnect.MethodDevice}, acapi.SessionStatusActive, true, false},
		{"quotes time out", `"o'neil"`, nil, acapi.SessionStatusTimeout, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			ctx := context.Background()
			user := tg.user(tc.user)
			res, err := mgmt.AddUser(ctx, user)
			if err != nil || res != activeconnect.ResultSuccess {
				t.Fatalf("AddUser: %v %v", res, err)
			}
			tg.mu.Lock()
			tg.added = append(tg.added, user)
			tg.mu.Unlock()
			if res, err := mgmt.HasRegisteredMobileDevice(ctx, user); err != nil || res != activeconnect.ResultNoMobileDevice {
				t.Fatalf("HasRegisteredMobileDevice before the link: %v %v", res, err)
			}
			link, err := mgmt.GetRegistrationLink(ctx, user, tc.user+"@myapp")
			if err != nil {
				t.Fatal(err)
			}
			tg.openLink(t, link)
			if res, err := mgmt.HasRegisteredMobileDevice(ctx, user); err != nil || res != activeconnect.ResultHasMobileDevice {
				t.Fatalf("HasRegisteredMobileDevice after the link: %v %v", res, err)
			}
			s, err := auth.AuthenticateUser(ctx, user, tc.methods...)
			if err != nil || !s.Started() || !s.InProgress() {
				t.Fatalf("AuthenticateUser: %+v %v", s, err)
			}
			tg.setStatus(t, s.Token, tc.phone)
			if _, err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if s.Active() != tc.active || s.Failed() != tc.failed || string(s.Status) != string(tc.phone) {
				t.Fatalf("after the phone made it %s: status %s, active %v, failed %v", tc.phone, s.Status, s.Active(), s.Failed())
			}
			if err := s.Destroy(ctx); err != nil {
				t.Fatal(err)
			}
			if err := mgmt.DeleteUser(ctx, user); err != nil {
				t.Fatal(err)
			}
			_, err = mgmt.HasRegisteredMobileDevice(ctx, user)
			var apiErr *activeconnect.APIError
			if !errors.As(err, &apiErr) || !activeconnect.IsNotFound(err) {
				t.Fatalf("a deleted user is not found: %v", err)
			}
		})
	}
}
