package contracttests

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acctl"
)

// TestManagementOperations walks every management operation, and authenticate's answers for
// users who cannot log in, through the generated client: the success answer of each, in the
// order an application would call them.
func TestManagementOperations(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	alice, bob := tg.user("alice"), tg.user("bob")
	var firstLink string

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"addUsers creates", func(t *testing.T) { tg.addUsers(t, alice) }},
		{"addUsers reports existing users", func(t *testing.T) {
			res, err := tg.api.AddUsersWithResponse(ctx, tg.appID, acapi.UsersRequest{Users: []string{alice, bob}})
			if err != nil || res.JSON201 == nil {
				t.Fatalf("add users: %v %v", err, res)
			}
			tg.mu.Lock()
			tg.added = append(tg.added, bob)
			tg.mu.Unlock()
			if got := res.JSON201; !got.Status || !slices.Equal(got.Users.Created, []string{bob}) || !slices.Equal(got.Users.Existing, []string{alice}) {
				t.Fatalf("want created [%s] existing [%s], got %+v", bob, alice, got)
			}
		}},
		{"getDeviceRegistrationLink", func(t *testing.T) {
			res, err := tg.api.GetDeviceRegistrationLinkWithResponse(ctx, tg.appID, alice, nil)
			if err != nil || res.JSON200 == nil {
				t.Fatalf("link: %v %v", err, res)
			}
			firstLink = res.JSON200.RegisterUrl
			if u, err := url.Parse(firstLink); err != nil || !u.IsAbs() || !res.JSON200.Status {
				t.Fatalf("register_url %q must be an absolute URL with status true", firstLink)
			}
		}},
		{"getDeviceRegistrationLink with a display name", func(t *testing.T) {
			name := "alice@myapp"
			res, err := tg.api.GetDeviceRegistrationLinkWithResponse(ctx, tg.appID, alice, &acapi.GetDeviceRegistrationLinkParams{DisplayName: &name})
			if err != nil || res.JSON200 == nil {
				t.Fatalf("link: %v %v", err, res)
			}
			if res.JSON200.RegisterUrl == firstLink {
				t.Errorf("two links for two requests are the same: %s", firstLink)
			}
		}},
		{"hasRegisteredMobileDevice without a phone", func(t *testing.T) {
			res, err := tg.api.HasRegisteredMobileDeviceWithResponse(ctx, tg.appID, alice)
			if err != nil || res.JSON200 == nil {
				t.Fatalf("has device: %v %v", err, res)
			}
			if !res.JSON200.Status || res.JSON200.DeviceRegistered {
				t.Fatalf("a new user has no phone: %+v", res.JSON200)
			}
		}},
		{"lostUserMobileDevice without a phone hands out a link", func(t *testing.T) {
			res, err := tg.api.LostUserMobileDeviceWithResponse(ctx, tg.appID, alice)
			if err != nil || res.JSON200 == nil {
				t.Fatalf("lost device: %v %v", err, res)
			}
			if !res.JSON200.Status || res.JSON200.RegisterUrl == "" {
				t.Fatalf("want a link: %+v", res.JSON200)
			}
		}},
		{"authenticateUser without a phone does not start", func(t *testing.T) {
			empty := []acapi.AuthenticationMethod{}
			res, err := tg.api.AuthenticateUserWithResponse(ctx, tg.appID, alice, &acapi.AuthenticateUserParams{Methods: &empty}, acapi.AuthenticateRequest{})
			if err != nil || res.JSON200 == nil {
				t.Fatalf("authenticate: %v %v", err, res)
			}
			st := res.JSON200.AuthenticationStatus
			if st.Authenticated || st.Reason == nil || *st.Reason != acapi.AuthenticationFailureReasonNOMOBILEDEVICE {
				t.Fatalf("want authenticated false with reason NO_MOBILE_DEVICE: %s", res.Body)
			}
		}},
		{"authenticateUser for an unknown user does not start", func(t *testing.T) {
			res, err := tg.api.AuthenticateUserWithResponse(ctx, tg.appID, tg.user("nobody"), nil, acapi.AuthenticateRequest{})
			if err != nil || res.JSON200 == nil {
				t.Fatalf("authenticate: %v %v", err, res)
			}
			st := res.JSON200.AuthenticationStatus
			if st.Authenticated || st.SessionStatus != acapi.SessionStatusFailed || st.Reason == nil || *st.Reason != acapi.AuthenticationFailureReasonUNKNOWNUSER {
				t.Fatalf("want authenticated false with reason UNKNOWN_USER (acmock's choice, see NOTES): %s", res.Body)
			}
		}},
		{"deleteUsers", func(t *testing.T) {
			res, err := tg.api.DeleteUsersWithResponse(ctx, tg.appID, acapi.UsersRequest{Users: []string{alice, bob}})
			if err != nil || res.JSON200 == nil || !res.JSON200.Status {
				t.Fatalf("delete: %v %v", err, res)
			}
		}},
		{"deleteUsers twice is harmless", func(t *testing.T) {
			res, err := tg.api.DeleteUsersWithResponse(ctx, tg.appID, acapi.UsersRequest{Users: []string{alice}})
			if err != nil || res.JSON200 == nil || !res.JSON200.Status {
				t.Fatalf("delete again: %v %v", err, res)
			}
		}},
		{"a deleted user is unknown", func(t *testing.T) {
			res, err := tg.api.HasRegisteredMobileDeviceWithResponse(ctx, tg.appID, alice)
			if err != nil || res.JSON404 == nil || res.JSON404.Code != acapi.ErrorCodeUnknownUser {
				t.Fatalf("want 404 unknown_user: %v %v", err, res)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			return // the later steps build on this one
		}
	}
}

// TestRegistrationSms sends registration SMS with and without a message and checks what the
// outbox holds; the link in it registers the phone.
func TestRegistrationSms(t *testing.T) {
	tg := newTarget(t, acmockTo("keep the SMS in an outbox instead of texting a phone"))
	ctx := context.Background()
	message := "Register for My App"
	tests := []struct {
		name     string
		body     string
		wantText string
	}{
		{"message and display name", `{"phone_number": "+15555550100", "display_name": "alice@myapp", "message": "` + message + `"}`, message},
		{"phone number only", `{"phone_number": "+15555550101"}`, ""},
		{"message null", `{"phone_number": "+15555550102", "message": null}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			user := tg.user("sms")
			tg.addUsers(t, user)
			res, err := tg.api.SendRegistrationSmsWithBodyWithResponse(ctx, tg.appID, user, "application/json", strings.NewReader(tc.body))
			if err != nil || res.JSON200 == nil || !res.JSON200.Status {
				t.Fatalf("send sms: %v %v", err, res)
			}
			outbox, err := tg.ctl.ListSmsWithResponse(ctx)
			if err != nil || outbox.JSON200 == nil {
				t.Fatalf("outbox: %v %v", err, outbox)
			}
			var sms *acctl.Sms
			for i, m := range outbox.JSON200.Messages {
				if m.User == user {
					sms = &outbox.JSON200.Messages[i]
				}
			}
			if sms == nil {
				t.Fatalf("no SMS for %s in the outbox", user)
			}
			var req acapi.SendRegistrationSmsRequest
			_ = json.Unmarshal([]byte(tc.body), &req)
			if sms.PhoneNumber != req.PhoneNumber || !strings.Contains(sms.Body, sms.Link) || !strings.Contains(sms.Body, tc.wantText) {
				t.Fatalf("SMS %+v: want the number %s and a body holding %q and the link", sms, req.PhoneNumber, tc.wantText)
			}
			tg.openLink(t, sms.Link)
			has, err := tg.api.HasRegisteredMobileDeviceWithResponse(ctx, tg.appID, user)
			if err != nil || has.JSON200 == nil || !has.JSON200.DeviceRegistered {
				t.Fatalf("the SMS link did not register a phone: %v %v", err, has)
			}
		})
	}
}

// TestRegistrationSmsBadNumber texts numbers that are not E.164: the real service documents its
// failures as 200 {"status": false, "reason": "..."}, so the official client shows the reason.
// Nothing reaches the outbox (checked where the server has one).
func TestRegistrationSmsBadNumber(t *testing.T) {
	tg := newTarget(t)
	ctx := context.Background()
	user := tg.user("sms-bad")
	tg.addUsers(t, user)
	for _, number := range []string{"555-0100", "+1 555 555 0100", "+1234", "+0123456789", ""} {
		t.Run(number, func(t *testing.T) {
			tg.parallel(t)
			res, err := tg.api.SendRegistrationSmsWithResponse(ctx, tg.appID, user, acapi.SendRegistrationSmsRequest{PhoneNumber: number})
			if err != nil || res.JSON200 == nil || res.JSON200.Status || res.JSON200.Reason == nil || *res.JSON200.Reason == "" {
				t.Fatalf("want 200 status false with a reason: %v %s", err, res.Body)
			}
			if !strings.Contains(*res.JSON200.Reason, "E.164") {
				t.Errorf("the reason should say the form a number takes: %s", *res.JSON200.Reason)
			}
		})
	}
	// The user is looked up before the number is judged (the spec's order).
	res, err := tg.api.SendRegistrationSmsWithResponse(ctx, tg.appID, tg.user("sms-nobody"), acapi.SendRegistrationSmsRequest{PhoneNumber: "555-0100"})
	if err != nil || res.StatusCode() != http.StatusNotFound {
		t.Errorf("an unknown user with a bad number: want 404, got %v %s", err, res.Body)
	}
	if tg.ctl == nil {
		return
	}
	outbox, err := tg.ctl.ListSmsWithResponse(ctx)
	if err != nil || outbox.JSON200 == nil {
		t.Fatalf("outbox: %v %v", err, outbox)
	}
	for _, m := range outbox.JSON200.Messages {
		if m.User == user {
			t.Errorf("a refused SMS reached the outbox: %+v", m)
		}
	}
}

// TestLoginLifecycle starts a login per path the phone can take, makes the phone act through the
// control API and polls the status URL after each step; then logs out the way the official client
// does.
func TestLoginLifecycle(t *testing.T) {
	tg := newTarget(t, stillTo("register a phone by opening its link and make the phone act"))
	live := func(s acapi.SessionStatus) bool {
		return slices.Contains([]acapi.SessionStatus{"pending", "identifying", "active", "walkaway"}, s)
	}
	tests := []struct {
		name    string
		methods string
		steps   []acapi.SessionStatus
	}{
		{"approve", "", []acapi.SessionStatus{"active"}},
		{"deny", "acceptance", []acapi.SessionStatus{"cancelled"}},
		{"identify then approve", "acceptance,facial", []acapi.SessionStatus{"identifying", "active"}},
		{"walk away and come back", "device", []acapi.SessionStatus{"active", "walkaway", "active"}},
		{"walk away for good", "", []acapi.SessionStatus{"active", "walkaway", "timeout"}},
		{"fail", "facial", []acapi.SessionStatus{"identifying", "failed"}},
		{"closed from the phone", "", []acapi.SessionStatus{"active", "closed"}},
		{"time out", "", []acapi.SessionStatus{"timeout"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg.parallel(t)
			user := tg.user(strings.ReplaceAll(tc.name, " ", "-"))
			tg.addUsers(t, user)
			tg.registerPhone(t, user)
			res, err := tg.api.HasRegisteredMobileDeviceWithResponse(context.Background(), tg.appID, user)
			if err != nil || res.JSON200 == nil || !res.JSON200.DeviceRegistered {
				t.Fatalf("the link did not register a phone: %v %v", err, res)
			}
			r := tg.do(t, call{method: http.MethodPost, url: tg.userURL("/authentication/authenticate_user", user) + "?methods=" + tc.methods,
				body: []byte("{}"), signer: tg.signer()})
			var started acapi.AuthenticateResponse
			if r.status != http.StatusAccepted || json.Unmarshal(r.raw, &started) != nil || started.AuthenticationStatus.SessionToken == nil {
				t.Fatalf("authenticate: %s", r)
			}
			st := started.AuthenticationStatus
			s := session{user: user, token: *st.SessionToken, secret: *st.SessionSecret, statusURL: *st.StatusUrl, logoutURL: *st.LogoutUrl}
			if got := tg.status(t, s); got.SessionStatus != acapi.SessionStatusPending || got.Authenticated {
				t.Fatalf("a new session is pending and not authenticated, got %+v", got)
			}
			last := acapi.SessionStatusPending
			for _, step := range tc.steps {
				tg.setStatus(t, s.token, step)
				if got := tg.status(t, s); got.SessionStatus != step {
					t.Fatalf("after the phone made the session %s, the status URL says %s", step, got.SessionStatus)
				}
				last = step
			}
			tg.logout(t, s)
			want := last
			if live(last) {
				want = acapi.SessionStatusClosed
			}
			if got := tg.status(t, s); got.SessionStatus != want {
				t.Fatalf("after logout from %s the status is %s, want %s", last, got.SessionStatus, want)
			}
			tg.logout(t, s) // closing a session that is over is harmless
		})
	}
}

// TestLostDevice reports a registered phone lost: the user cannot log in until a new link
// registers a phone again.
func TestLostDevice(t *testing.T) {
	tg := newTarget(t, acmockTo("register a phone by opening its link"))
	ctx := context.Background()
	user := tg.user("lost")
	tg.addUsers(t, user)
	tg.registerPhone(t, user)
	lost, err := tg.api.LostUserMobileDeviceWithResponse(ctx, tg.appID, user)
	if err != nil || lost.JSON200 == nil {
		t.Fatalf("lost device: %v %v", err, lost)
	}
	has, err := tg.api.HasRegisteredMobileDeviceWithResponse(ctx, tg.appID, user)
	if err != nil || has.JSON200 == nil || has.JSON200.DeviceRegistered {
		t.Fatalf("a lost phone is not a registered phone: %v %v", err, has)
	}
	auth, err := tg.api.AuthenticateUserWithResponse(ctx, tg.appID, user, nil, acapi.AuthenticateRequest{})
	if err != nil || auth.JSON200 == nil || auth.JSON200.AuthenticationStatus.Reason == nil || *auth.JSON200.AuthenticationStatus.Reason != acapi.AuthenticationFailureReasonNOMOBILEDEVICE {
		t.Fatalf("a user whose phone is lost cannot log in: %v %v", err, auth)
	}
	tg.openLink(t, lost.JSON200.RegisterUrl)
	tg.authenticate(t, user)
}
