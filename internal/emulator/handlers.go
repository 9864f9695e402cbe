package emulator

import (
	"context"
	"errors"
	"fmt"
	"github.com/acmock/acmock/internal/clip"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acapiserver"
	"github.com/acmock/acmock/internal/store"
)

// The handlers below implement acapiserver.StrictServerInterface. Requests reaching them have passed
// spec validation and signature checks.

// AddUsers creates users.
func (e *Emulator) AddUsers(_ context.Context, req acapiserver.AddUsersRequestObject) (acapiserver.AddUsersResponseObject, error) {
	created, existing, err := e.store.AddUsers(req.ApplicationId, req.Body.Users)
	if errors.Is(err, store.ErrLimitReached) {
		return acapiserver.AddUsers409JSONResponse{ConflictJSONResponse: acapiserver.ConflictJSONResponse(
			errorf(http.StatusConflict, acapi.ErrorCodeLimitReached, "users",
				"%v (the bound is set by --max-users or ACMOCK_MAX_USERS); delete users or reset the application first", err).body())}, nil
	}
	if err != nil {
		if errors.Is(err, store.ErrStorage) {
			return nil, err // a 500 that says so, never a 404
		}
		return acapiserver.AddUsers404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(unknownApp(req.ApplicationId))}, nil
	}
	return acapiserver.AddUsers201JSONResponse{Status: true, Users: acapi.UserLists{Created: created, Existing: existing}}, nil
}

// DeleteUsers removes users.
func (e *Emulator) DeleteUsers(_ context.Context, req acapiserver.DeleteUsersRequestObject) (acapiserver.DeleteUsersResponseObject, error) {
	// Users the scenario lists are remembered as deleted, so that a reload or a restart does not
	// add them back (scenarios/README.md#reloading).
	sc := e.Scenario()
	var listed []string
	for _, id := range req.Body.Users {
		if sc.Lists(req.ApplicationId, id) {
			listed = append(listed, id)
		}
	}
	if err := e.store.DeleteUsers(req.ApplicationId, req.Body.Users, listed...); err != nil {
		if errors.Is(err, store.ErrStorage) {
			return nil, err // a 500 that says so, never a 404
		}
		return acapiserver.DeleteUsers404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(unknownApp(req.ApplicationId))}, nil
	}
	return acapiserver.DeleteUsers200JSONResponse{Status: true}, nil
}

// GetDeviceRegistrationLink hands out a link that registers a phone when opened.
func (e *Emulator) GetDeviceRegistrationLink(ctx context.Context, req acapiserver.GetDeviceRegistrationLinkRequestObject) (acapiserver.GetDeviceRegistrationLinkResponseObject, error) {
	displayName := ""
	if req.Params.DisplayName != nil {
		// A copy: the query's value is part of the request line, which the link would keep.
		displayName = strings.Clone(*req.Params.DisplayName)
	}
	link, err := e.store.NewLink(req.ApplicationId, req.UserId, displayName, e.clock.Now())
	if err != nil {
		if errors.Is(err, store.ErrStorage) {
			return nil, err // a 500 that says so, never a 404
		}
		return acapiserver.GetDeviceRegistrationLink404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(notFound(err, req.ApplicationId, req.UserId))}, nil
	}
	return acapiserver.GetDeviceRegistrationLink200JSONResponse{Status: true, RegisterUrl: e.linkURL(ctx, link.Code)}, nil
}

// SendRegistrationSms stores a registration SMS in the outbox. An unknown user is a 404 and a
// user with a phone a 409, as on the other user calls; then a phone number that is not E.164 is
// the real service's documented failure: 200 with status false and a reason.
func (e *Emulator) SendRegistrationSms(ctx context.Context, req acapiserver.SendRegistrationSmsRequestObject) (acapiserver.SendRegistrationSmsResponseObject, error) {
	if u, err := e.store.User(req.ApplicationId, req.UserId); err != nil {
		return smsRefused(err, req), nil
	} else if u.HasDevice() {
		return smsRefused(store.ErrDeviceRegistered, req), nil
	}
	if reason := phoneNumberProblem(req.Body.PhoneNumber); reason != "" {
		if info := infoFrom(ctx); info != nil {
			info.message = reason
		}
		return acapiserver.SendRegistrationSms200JSONResponse{Status: false, Reason: &reason}, nil
	}
	message := "Register your phone for login: open"
	if req.Body.Message != nil && *req.Body.Message != "" {
		message = *req.Body.Message
	}
	displayName := ""
	if req.Body.DisplayName != nil {
		displayName = *req.Body.DisplayName
	}
	linkURL := func(code string) string { return e.linkURL(ctx, code) }
	// The store checks the user and the phone again, with the write.
	// The outbox keeps the IDs: copies, not parts of the request line.
	if _, err := e.store.SendSMS(strings.Clone(req.ApplicationId), strings.Clone(req.UserId), req.Body.PhoneNumber, displayName, message, linkURL, e.clock.Now()); err != nil {
		if errors.Is(err, store.ErrStorage) {
			return nil, err // a 500 that says so, never a 404
		}
		return smsRefused(err, req), nil
	}
	return acapiserver.SendRegistrationSms200JSONResponse{Status: true}, nil
}

// smsRefused is the answer for an SMS the store refuses: 409 for a user with a phone, else 404.
func smsRefused(err error, req acapiserver.SendRegistrationSmsRequestObject) acapiserver.SendRegistrationSmsResponseObject {
	if errors.Is(err, store.ErrDeviceRegistered) {
		return acapiserver.SendRegistrationSms409JSONResponse{ConflictJSONResponse: acapiserver.ConflictJSONResponse(
			errorf(http.StatusConflict, acapi.ErrorCodeDeviceAlreadyRegistered, "user_id",
				"user %q already has a registered phone; report it lost first (lost_user_mobile_device)", clip.Input(req.UserId)).body())}
	}
	return acapiserver.SendRegistrationSms404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(notFound(err, req.ApplicationId, req.UserId))}
}

// HasRegisteredMobileDevice tells whether the user has a usable phone.
func (e *Emulator) HasRegisteredMobileDevice(_ context.Context, req acapiserver.HasRegisteredMobileDeviceRequestObject) (acapiserver.HasRegisteredMobileDeviceResponseObject, error) {
	has, err := e.store.UserHasDevice(req.ApplicationId, req.UserId)
	if err != nil {
		return acapiserver.HasRegisteredMobileDevice404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(notFound(err, req.ApplicationId, req.UserId))}, nil
	}
	if has {
		return deviceAnswers[1], nil
	}
	return deviceAnswers[0], nil
}

// LostUserMobileDevice disables the phone and hands out a new link.
func (e *Emulator) LostUserMobileDevice(ctx context.Context, req acapiserver.LostUserMobileDeviceRequestObject) (acapiserver.LostUserMobileDeviceResponseObject, error) {
	link, err := e.store.LoseDevice(req.ApplicationId, req.UserId, e.clock.Now())
	if err != nil {
		if errors.Is(err, store.ErrStorage) {
			return nil, err // a 500 that says so, never a 404
		}
		return acapiserver.LostUserMobileDevice404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(notFound(err, req.ApplicationId, req.UserId))}, nil
	}
	return acapiserver.LostUserMobileDevice200JSONResponse{Status: true, RegisterUrl: e.linkURL(ctx, link.Code)}, nil
}

// AuthenticateUser starts a session and lets the scenario play the phone.
func (e *Emulator) AuthenticateUser(ctx context.Context, req acapiserver.AuthenticateUserRequestObject) (acapiserver.AuthenticateUserResponseObject, error) {
	var methods []acapi.AuthenticationMethod
	if req.Params.Methods != nil {
		for _, m := range *req.Params.Methods {
			if m != "" { // the official client's ?methods= binds as one empty item
				methods = append(methods, acapi.AuthenticationMethod(strings.Clone(string(m)))) // not the request line
			}
		}
	}
	notStarted := func(reason acapi.AuthenticationFailureReason) acapiserver.AuthenticateUserResponseObject {
		return acapiserver.AuthenticateUser200JSONResponse{AuthenticationStatus: acapi.AuthenticationStatus{
			Authenticated: false, SessionStatus: acapi.SessionStatusFailed, Reason: &reason,
		}}
	}
	sess, err := e.store.StartSession(req.ApplicationId, req.UserId, methods, e.clock.Now())
	switch {
	case errors.Is(err, store.ErrStorage):
		return nil, err
	case errors.Is(err, store.ErrUserNotFound):
		return notStarted(acapi.AuthenticationFailureReasonUNKNOWNUSER), nil
	case errors.Is(err, store.ErrNoDevice):
		return notStarted(acapi.AuthenticationFailureReasonNOMOBILEDEVICE), nil
	case err != nil:
		return acapiserver.AuthenticateUser404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(unknownApp(req.ApplicationId))}, nil
	}
	if info := infoFrom(ctx); info != nil {
		info.session = sess.Token
	}
	e.playPhone(sess)
	base := e.baseURL(ctx)
	statusURL := base + "/authentication/session_status/" + url.PathEscape(sess.Token)
	logoutURL := base + "/authentication/logout/" + url.PathEscape(sess.Token)
	return &startedAnswer{token: sess.Token, secret: sess.Secret, statusURL: statusURL, logoutURL: logoutURL, status: sess.Status}, nil
}

// GetSessionStatus reports a session's status; on the automatic clock the poll may first move
// time to the session's next step (timeline.go).
func (e *Emulator) GetSessionStatus(ctx context.Context, req acapiserver.GetSessionStatusRequestObject) (acapiserver.GetSessionStatusResponseObject, error) {
	status, err := e.pollStatus(ctx, req.SessionToken)
	if err != nil && !errors.Is(err, store.ErrSessionNotFound) {
		return nil, err // the data directory failed: a 500, not "no such session"
	}
	if err != nil {
		return acapiserver.GetSessionStatus404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(unknownSession(req.SessionToken))}, nil
	}
	if answer, ok := statusAnswers[status]; ok {
		return answer, nil
	}
	return statusBody(status), nil
}

// Logout closes a session; closing one that is already over changes nothing.
func (e *Emulator) Logout(_ context.Context, req acapiserver.LogoutRequestObject) (acapiserver.LogoutResponseObject, error) {
	_, err := e.store.Transition(req.SessionToken, acapi.SessionStatusClosed, e.clock.Now(), "logout")
	if errors.Is(err, store.ErrSessionNotFound) {
		return acapiserver.Logout404JSONResponse{NotFoundJSONResponse: acapiserver.NotFoundJSONResponse(unknownSession(req.SessionToken))}, nil
	}
	e.settle(req.SessionToken) // the timeline's later steps are cancelled
	return logoutAnswer, nil
}

func unknownApp(appID string) acapi.Error {
	return errorf(http.StatusNotFound, acapi.ErrorCodeUnknownApplication, "application_id", "no application %s", clip.Input(appID)).body()
}

func unknownSession(token string) acapi.Error {
	return errorf(http.StatusNotFound, acapi.ErrorCodeUnknownSession, "session_token", "no session %s%s", clip.Input(token), forgottenSession).body()
}

// forgottenSession ends the message for a session token acmock does not know: what makes a
// session it handed out unknown. A session past its lifetime is not one of them: it answers closed.
const forgottenSession = "; it was never handed out, or it was forgotten: its user was deleted, the emulator was reset or " +
	"restarted without --data, or it was past the sessions kept (the oldest go first past --max-sessions, ACMOCK_MAX_SESSIONS)"

// notFound maps a store lookup error of a user-scoped call to its 404 body.
func notFound(err error, appID, userID string) acapi.Error {
	if errors.Is(err, store.ErrUserNotFound) {
		return errorf(http.StatusNotFound, acapi.ErrorCodeUnknownUser, "user_id",
			"application %s has no user %q; add it with add_users first", clip.Input(appID), clip.Input(userID)).body()
	}
	return unknownApp(appID)
}

// baseURL is the base of the URLs handed out: Options.PublicURL, or else the Host the client
// used, so that the URLs it gets back are ones it can reach and sign as they are.
func (e *Emulator) baseURL(ctx context.Context) string {
	if e.opts.PublicURL != "" {
		return strings.TrimRight(e.opts.PublicURL, "/")
	}
	if info := infoFrom(ctx); info != nil && info.host != "" {
		return "http://" + info.host
	}
	// No Host (HTTP/1.0): the address the client reached, which is one it can reach again.
	if addr, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr); ok && addr != nil {
		return "http://" + addr.String()
	}
	return "http://127.0.0.1"
}

func (e *Emulator) linkURL(ctx context.Context, code string) string {
	return e.baseURL(ctx) + "/_acmock/register/" + url.PathEscape(code)
}

// phoneNumberProblem says what keeps number from being an E.164 number ("+", then 8 to 15 digits,
// the first not 0), or "" when it is one.
func phoneNumberProblem(number string) string {
	const form = "; give the number in E.164 form, such as +15555550100"
	digits, ok := strings.CutPrefix(number, "+")
	switch {
	case number == "":
		return "phone_number is empty" + form
	case !ok:
		return fmt.Sprintf("phone_number %q does not start with +", clip.Input(number)) + form
	}
	pos := 1 // the +
	for _, c := range digits {
		pos++
		if c < '0' || c > '9' {
			return fmt.Sprintf("phone_number %q holds %q at position %d; E.164 has only digits after the +, "+
				"without spaces, dashes, dots or brackets, such as +15555550100", clip.Input(number), c, pos)
		}
	}
	switch {
	case len(digits) < 8 || len(digits) > 15:
		return fmt.Sprintf("phone_number %q has %d digits; E.164 numbers have 8 to 15 after the +, such as +15555550100", clip.Input(number), len(digits))
	case digits[0] == '0':
		return fmt.Sprintf("phone_number %q starts with 0 after the +; a country code never does", clip.Input(number)) + form
	}
	return ""
}
