package activeconnect

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
)

// AuthenticationMethod is how the phone confirms a login.
type AuthenticationMethod string

// The authentication methods of the API.
const (
	MethodAcceptance AuthenticationMethod = "acceptance" // the user confirms on the phone
	MethodDevice     AuthenticationMethod = "device"     // the user unlocks the phone
	MethodFacial     AuthenticationMethod = "facial"     // face recognition
)

// Valid reports whether m is one of the methods the API defines.
func (m AuthenticationMethod) Valid() bool { return acapi.AuthenticationMethod(m).Valid() }

// AuthenticationAPI starts login sessions for an application's users. Create it with
// NewAuthenticationAPI; it is safe for concurrent use.
type AuthenticationAPI struct {
	appID  string
	conn   *conn
	signer *acauth.Signer
}

// NewAuthenticationAPI returns an AuthenticationAPI for the application appID with secret
// appSecret, talking to DefaultBaseURL unless an option says otherwise.
func NewAuthenticationAPI(appID, appSecret string, opts ...Option) (*AuthenticationAPI, error) {
	c, err := newConn(opts)
	if err != nil {
		return nil, fmt.Errorf("new authentication API: %w", err)
	}
	s, err := c.newSigner(appID, appSecret)
	if err != nil {
		return nil, fmt.Errorf("new authentication API: %w", err)
	}
	return &AuthenticationAPI{appID: appID, conn: c, signer: s}, nil
}

// ApplicationID returns the application the API authenticates for.
func (a *AuthenticationAPI) ApplicationID() string { return a.appID }

// AuthenticateUser asks the user's phone to approve a login, with the given methods or, when none
// are given, the ones the service chooses. When the session starts it is pending; follow it with
// Session.Wait or Session.Refresh. When it does not start, the session comes back with status
// failed and a FailureReason (ReasonNoMobileDevice: the user has no registered phone) and a nil
// error, as in the Python client; an error means the request itself failed.
func (a *AuthenticationAPI) AuthenticateUser(ctx context.Context, userID string, methods ...AuthenticationMethod) (*Session, error) {
	if err := checkUserID(userID); err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	names := make([]acapi.AuthenticationMethod, len(methods))
	for i, m := range methods {
		if !m.Valid() {
			return nil, fmt.Errorf("authenticate %q: unknown authentication method %q (use %s, %s or %s)",
				userID, m, MethodAcceptance, MethodDevice, MethodFacial)
		}
		names[i] = acapi.AuthenticationMethod(m)
	}
	req, err := acapi.NewAuthenticateUserRequest(a.conn.server, a.appID, userPlaceholder,
		&acapi.AuthenticateUserParams{Methods: &names}, acapi.AuthenticateRequest{})
	if err == nil {
		err = setUserSegment(req.URL, userID)
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate %q: %w", userID, err)
	}
	var out acapi.AuthenticateResponse
	if err := a.conn.send(ctx, req, a.signer, &out); err != nil {
		return nil, fmt.Errorf("authenticate %q: %w", userID, err)
	}
	st := out.AuthenticationStatus
	s := &Session{Status: SessionStatus(st.SessionStatus), conn: a.conn}
	if !st.Authenticated {
		if st.Reason != nil {
			s.FailureReason = FailureReason(*st.Reason)
		}
		if s.Status == "" || s.InProgress() || s.Active() {
			// A session that did not start is failed, whatever the answer's status field says.
			s.Status = StatusFailed
		}
		return s, nil
	}
	if !s.Status.Valid() {
		return nil, fmt.Errorf("authenticate %q: the service answered an unknown status %q", userID, st.SessionStatus)
	}
	s.Token, s.Secret = deref(st.SessionToken), deref(st.SessionSecret)
	s.StatusURL, s.LogoutURL = deref(st.StatusUrl), deref(st.LogoutUrl)
	if !s.Started() {
		return nil, fmt.Errorf("authenticate %q: the service started a session but left out its token, secret, status_url or logout_url", userID)
	}
	return s, nil
}

// LoadSession decodes a session stored as JSON (see Session.MarshalJSON) and attaches it to this
// API, so that its status and logout calls use the API's HTTP client, clock and logger.
func (a *AuthenticationAPI) LoadSession(data []byte) (*Session, error) {
	s := &Session{conn: a.conn}
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	return s, nil
}

// Attach makes s use this API's HTTP client, clock and logger, for a session decoded elsewhere.
func (a *AuthenticationAPI) Attach(s *Session) { s.conn = a.conn }
