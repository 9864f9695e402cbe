package activeconnect_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
)

// The examples run acmock in-process with acmocktest. Here Wait moves acmock's virtual clock
// instead of sleeping; against a real acmock or the real service, leave WithSleep out.
func ExampleSession_Wait() {
	acmock, err := acmocktest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer acmock.Close()
	ctx := context.Background()

	auth, err := activeconnect.NewAuthenticationAPI(acmocktest.DemoApplicationID, acmocktest.DemoApplicationSecret,
		activeconnect.WithBaseURL(acmock.URL()))
	if err != nil {
		log.Fatal(err)
	}
	session, err := auth.AuthenticateUser(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("started:", session.Status)
	advance := func(_ context.Context, d time.Duration) error {
		acmock.Advance(d) // instead of sleeping
		return nil
	}
	err = session.Wait(ctx, 2*time.Second,
		activeconnect.OnStatusChange(func(s activeconnect.SessionStatus) { fmt.Println("now:", s) }),
		activeconnect.WithSleep(advance))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("authenticated:", session.Active())
	if err := session.Destroy(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after logout:", session.Status)
	// Output:
	// started: pending
	// now: active
	// authenticated: true
	// after logout: closed
}

func ExampleAuthenticationAPI_AuthenticateUser_noPhone() {
	acmock, err := acmocktest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer acmock.Close()

	auth, err := activeconnect.NewAuthenticationAPI(acmocktest.DemoApplicationID, acmocktest.DemoApplicationSecret,
		activeconnect.WithBaseURL(acmock.URL()))
	if err != nil {
		log.Fatal(err)
	}
	session, err := auth.AuthenticateUser(context.Background(), "carol")
	if err != nil {
		log.Fatal(err)
	}
	if session.Failed() {
		fmt.Println("not started:", session.FailureReason)
	}
	// Output:
	// not started: NO_MOBILE_DEVICE
}

func ExampleManagementAPI_AddUsers() {
	acmock, err := acmocktest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer acmock.Close()

	m, err := activeconnect.NewManagementAPI(acmocktest.DemoApplicationID, acmocktest.DemoApplicationSecret,
		activeconnect.WithBaseURL(acmock.URL()))
	if err != nil {
		log.Fatal(err)
	}
	created, existing, err := m.AddUsers(context.Background(), []string{"MY USER 1", "alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("created:", created)
	fmt.Println("existing:", existing)
	// Output:
	// created: [MY USER 1]
	// existing: [alice]
}

func ExampleAPIError() {
	acmock, err := acmocktest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer acmock.Close()

	m, err := activeconnect.NewManagementAPI(acmocktest.DemoApplicationID, acmocktest.DemoApplicationSecret,
		activeconnect.WithBaseURL(acmock.URL()))
	if err != nil {
		log.Fatal(err)
	}
	_, err = m.HasRegisteredMobileDevice(context.Background(), "dave")
	var apiErr *activeconnect.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Field)
	}
	fmt.Println("not found:", activeconnect.IsNotFound(err))
	// Output:
	// 404 unknown_user user_id
	// not found: true
}

func ExampleSession_MarshalJSON() {
	s := activeconnect.Session{Status: activeconnect.StatusPending, Token: "t", Secret: "s",
		StatusURL: "http://x/st", LogoutURL: "http://x/lo"}
	data, err := json.Marshal(s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(data))
	// Output:
	// {"status_url":"http://x/st","session_status":"pending","session_secret":"s","failure_reason":null,"session_token":"t","logout_url":"http://x/lo"}
}

func ExampleSession_PythonJSON() {
	s := activeconnect.Session{Status: activeconnect.StatusPending, Token: "t", Secret: "s",
		StatusURL: "http://x/st", LogoutURL: "http://x/lo"}
	data, err := s.PythonJSON() // the bytes of the Python client's Session.Schema().dumps(session)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(data))
	// Output:
	// {"status_url": "http://x/st", "session_status": "pending", "session_secret": "s", "failure_reason": null, "session_token": "t", "logout_url": "http://x/lo"}
}
