package activeconnect

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
)

// ManagementResult is the outcome of AddUser and HasRegisteredMobileDevice, named after the Python
// client's ManagementAPIResult. Its zero value is ResultFailed, which goes with a non-nil error.
type ManagementResult int

// The values of ManagementResult.
const (
	// ResultFailed: the call failed; the error says why.
	ResultFailed ManagementResult = iota
	// ResultSuccess: AddUser created the user.
	ResultSuccess
	// ResultUserExists: AddUser found the user already there.
	ResultUserExists
	// ResultHasMobileDevice: the user has a registered phone.
	ResultHasMobileDevice
	// ResultNoMobileDevice: the user has no registered phone (never registered, or reported lost).
	ResultNoMobileDevice
)

// String returns the Python client's name of the result, such as "user_exists".
func (r ManagementResult) String() string {
	switch r {
	case ResultFailed:
		return "failed"
	case ResultSuccess:
		return "success"
	case ResultUserExists:
		return "user_exists"
	case ResultHasMobileDevice:
		return "has_mobile_device"
	case ResultNoMobileDevice:
		return "no_mobile_device"
	}
	return fmt.Sprintf("ManagementResult(%d)", int(r))
}

// ManagementAPI registers an application's users and their phones. Create it with
// NewManagementAPI; it is safe for concurrent use.
type ManagementAPI struct {
	appID  string
	conn   *conn
	signer *acauth.Signer
}

// NewManagementAPI returns a ManagementAPI for the application appID with secret appSecret,
// talking to DefaultBaseURL unless an option says otherwise.
func NewManagementAPI(appID, appSecret string, opts ...Option) (*ManagementAPI, error) {
	c, err := newConn(opts)
	if err != nil {
		return nil, fmt.Errorf("new management API: %w", err)
	}
	s, err := c.newSigner(appID, appSecret)
	if err != nil {
		return nil, fmt.Errorf("new management API: %w", err)
	}
	return &ManagementAPI{appID: appID, conn: c, signer: s}, nil
}

// ApplicationID returns the application the API manages.
func (m *ManagementAPI) ApplicationID() string { return m.appID }

// AddUsers registers users with the application and reports which were created and which already
// existed. Adding a user twice is harmless.
func (m *ManagementAPI) AddUsers(ctx context.Context, users []string) (created, existing []string, err error) {
	if err := checkUserList(users); err != nil {
		return nil, nil, fmt.Errorf("add users: %w", err)
	}
	req, err := acapi.NewAddUsersRequest(m.conn.server, m.appID, acapi.UsersRequest{Users: users})
	if err != nil {
		return nil, nil, fmt.Errorf("add users: %w", err)
	}
	var out acapi.AddUsersResult
	if err := m.conn.send(ctx, req, m.signer, &out); err != nil {
		return nil, nil, fmt.Errorf("add users: %w", err)
	}
	return nonNil(out.Users.Created), nonNil(out.Users.Existing), nil
}

// AddUser registers one user and returns ResultSuccess when it was created or ResultUserExists
// when it was already there; on failure it returns ResultFailed and the error.
func (m *ManagementAPI) AddUser(ctx context.Context, userID string) (ManagementResult, error) {
	if err := checkUserID(userID); err != nil {
		return ResultFailed, fmt.Errorf("add user: %w", err)
	}
	created, existing, err := m.AddUsers(ctx, []string{userID})
	if err != nil {
		return ResultFailed, fmt.Errorf("add user %q: %w", userID, err)
	}
	switch {
	case slices.Contains(created, userID):
		return ResultSuccess, nil
	case slices.Contains(existing, userID):
		return ResultUserExists, nil
	}
	return ResultFailed, fmt.Errorf("add user %q: the service listed it neither as created nor as existing (created %q, existing %q)",
		userID, created, existing)
}

// DeleteUsers removes users with their phones and sessions. IDs the application does not have are
// ignored, so deleting twice is harmless.
func (m *ManagementAPI) DeleteUsers(ctx context.Context, users []string) error {
	if err := checkUserList(users); err != nil {
		return fmt.Errorf("delete users: %w", err)
	}
	req, err := acapi.NewDeleteUsersRequest(m.conn.server, m.appID, acapi.UsersRequest{Users: users})
	if err != nil {
		return fmt.Errorf("delete users: %w", err)
	}
	var out acapi.StatusResponse
	if err := m.conn.send(ctx, req, m.signer, &out); err != nil {
		return fmt.Errorf("delete users: %w", err)
	}
	return nil
}

// DeleteUser removes one user; see DeleteUsers.
func (m *ManagementAPI) DeleteUser(ctx context.Context, userID string) error {
	if err := checkUserID(userID); err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if err := m.DeleteUsers(ctx, []string{userID}); err != nil {
		return fmt.Errorf("delete user %q: %w", userID, err)
	}
	return nil
}

// GetRegistrationLink returns a link that registers a phone for the user when the Activeconnect
// mobile app opens it. displayName is how the app describes the user ("alice@myapp"); empty
// leaves it out.
func (m *ManagementAPI) GetRegistrationLink(ctx context.Context, userID, displayName string) (string, error) {
	if err := checkUserID(userID); err != nil {
		return "", fmt.Errorf("get registration link: %w", err)
	}
	var params *acapi.GetDeviceRegistrationLinkParams
	if displayName != "" {
		params = &acapi.GetDeviceRegistrationLinkParams{DisplayName: &displayName}
	}
	req, err := acapi.NewGetDeviceRegistrationLinkRequest(m.conn.server, m.appID, userPlaceholder, params)
	if err == nil {
		err = setUserSegment(req.URL, userID)
	}
	if err != nil {
		return "", fmt.Errorf("get registration link for %q: %w", userID, err)
	}
	var out acapi.RegistrationLinkResponse
	if err := m.conn.send(ctx, req, m.signer, &out); err != nil {
		return "", fmt.Errorf("get registration link for %q: %w", userID, err)
	}
	if out.RegisterUrl == "" {
		return "", fmt.Errorf("get registration link for %q: the answer has no register_url", userID)
	}
	return out.RegisterUrl, nil
}

// RegistrationSMS is what SendRegistrationSMS texts.
type RegistrationSMS struct {
	// PhoneNumber is the number to text, in E.164 form ("+15555550100"). Required.
	PhoneNumber string
	// DisplayName is how the mobile app describes the user; empty leaves it out.
	DisplayName string
	// Message is the text before the link; empty lets the service use its default greeting.
	Message string
}

// SendRegistrationSMS texts a registration link for the user to a phone number. The service
// refuses (409, device_already_registered) when the user already has a phone: report it lost
// first.
func (m *ManagementAPI) SendRegistrationSMS(ctx context.Context, userID string, sms RegistrationSMS) error {
	if err := checkUserID(userID); err != nil {
		return fmt.Errorf("send registration SMS: %w", err)
	}
	if sms.PhoneNumber == "" {
		return fmt.Errorf("send registration SMS to %q: the phone number is empty (use E.164, such as +15555550100)", userID)
	}
	body := acapi.SendRegistrationSmsRequest{PhoneNumber: sms.PhoneNumber}
	if sms.DisplayName != "" {
		body.DisplayName = &sms.DisplayName
	}
	if sms.Message != "" {
		body.Message = &sms.Message
	}
	req, err := acapi.NewSendRegistrationSmsRequest(m.conn.server, m.appID, userPlaceholder, body)
	if err == nil {
		err = setUserSegment(req.URL, userID)
	}
	if err != nil {
		return fmt.Errorf("send registration SMS to %q: %w", userID, err)
	}
	var out acapi.StatusResponse
	if err := m.conn.send(ctx, req, m.signer, &out); err != nil {
		return fmt.Errorf("send registration SMS to %q: %w", userID, err)
	}
	return nil
}

// HasRegisteredMobileDevice returns ResultHasMobileDevice or ResultNoMobileDevice; on failure it
// returns ResultFailed and the error (an unknown user is a 404, see IsNotFound).
func (m *ManagementAPI) HasRegisteredMobileDevice(ctx context.Context, userID string) (ManagementResult, error) {
	if err := checkUserID(userID); err != nil {
		return ResultFailed, fmt.Errorf("has registered mobile device: %w", err)
	}
	req, err := acapi.NewHasRegisteredMobileDeviceRequest(m.conn.server, m.appID, userPlaceholder)
	if err == nil {
		err = setUserSegment(req.URL, userID)
	}
	if err != nil {
		return ResultFailed, fmt.Errorf("has registered mobile device %q: %w", userID, err)
	}
	var out acapi.DeviceRegisteredResponse
	if err := m.conn.send(ctx, req, m.signer, &out); err != nil {
		return ResultFailed, fmt.Errorf("has registered mobile device %q: %w", userID, err)
	}
	if out.DeviceRegistered {
		return ResultHasMobileDevice, nil
	}
	return ResultNoMobileDevice, nil
}

// LostUserMobileDevice disables the user's phone, so that it can no longer approve logins, and
// returns a new registration link. It works for a user without a phone too.
func (m *ManagementAPI) LostUserMobileDevice(ctx context.Context, userID string) (string, error) {
	if err := checkUserID(userID); err != nil {
		return "", fmt.Errorf("lost mobile device: %w", err)
	}
	req, err := acapi.NewLostUserMobileDeviceRequest(m.conn.server, m.appID, userPlaceholder)
	if err == nil {
		err = setUserSegment(req.URL, userID)
	}
	if err != nil {
		return "", fmt.Errorf("lost mobile device of %q: %w", userID, err)
	}
	var out acapi.RegistrationLinkResponse
	if err := m.conn.send(ctx, req, m.signer, &out); err != nil {
		return "", fmt.Errorf("lost mobile device of %q: %w", userID, err)
	}
	if out.RegisterUrl == "" {
		return "", fmt.Errorf("lost mobile device of %q: the answer has no register_url", userID)
	}
	return out.RegisterUrl, nil
}

func checkUserList(users []string) error {
	if len(users) == 0 {
		return errors.New("no user IDs given")
	}
	for i, u := range users {
		if u == "" {
			return fmt.Errorf("user ID %d of %d is empty", i+1, len(users))
		}
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
