package acmocktest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/activeconnect"
)

// login is application code, as it runs in production: start the login, then poll with its own
// sleeps until the phone has decided.
func login(ctx context.Context, auth *activeconnect.AuthenticationAPI, user string, every time.Duration) (activeconnect.SessionStatus, error) {
	s, err := auth.AuthenticateUser(ctx, user)
	if err != nil {
		return "", err
	}
	for s.InProgress() {
		time.Sleep(every)
		if _, err := s.Refresh(ctx); err != nil {
			return "", err
		}
	}
	return s.Status, nil
}

// Test the application's own code with the defaults: the demo's alice approves 2 s after a login
// and bob declines after 2 s, in scenario time. The application sleeps as in production; nobody
// moves the clock or needs a session token. In a test, start the server with acmocktest.Run(t).
func Example() {
	srv, err := acmocktest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()
	start := srv.Now()

	for _, user := range []string{"alice", "bob"} {
		status, err := login(ctx, srv.Authentication(), user, 10*time.Millisecond)
		fmt.Println(user, status, err)
	}
	fmt.Println("scenario time:", srv.Now().Sub(start))
	// Output:
	// alice active <nil>
	// bob cancelled <nil>
	// scenario time: 4s
}

// Play the phone from the test: add a user, register a phone through the link, start a login,
// approve it, log out.
func Example_phone() {
	srv, err := acmocktest.Start()
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()

	created, _, _ := srv.Management().AddUsers(ctx, []string{"dave"})
	link, _ := srv.Management().GetRegistrationLink(ctx, "dave", "dave@example")
	_ = srv.OpenLink(ctx, link) // what the mobile app does with the link

	session, _ := srv.Authentication().AuthenticateUser(ctx, "dave")
	fmt.Println(created, session.Status)

	_ = srv.Approve("dave") // the user taps "approve": dave's newest pending login
	status, _ := session.Refresh(ctx)
	fmt.Println(status, session.Active())

	_ = session.Destroy(ctx)
	status, _ = session.Refresh(ctx)
	fmt.Println(status)
	// Output:
	// [dave] pending
	// active true
	// closed
}

// On the manual clock time stands still until the test moves it.
func ExampleServer_Advance() {
	srv, _ := acmocktest.Start(acmocktest.WithManualClock())
	defer srv.Close()
	ctx := context.Background()

	session, _ := srv.Authentication().AuthenticateUser(ctx, "alice")
	before, _ := session.Refresh(ctx)
	again, _ := session.Refresh(ctx)
	srv.Advance(2 * time.Second) // alice approves after 2 s
	after, _ := session.Refresh(ctx)
	fmt.Println(before, again, after)

	polls := srv.Requests(acmocktest.Filter{Operation: "session_status", User: "alice"})
	fmt.Println(len(polls), polls[0].Operation, polls[0].HMAC)
	// Output:
	// pending pending active
	// 3 getSessionStatus ok
}

// Play the phone while the application polls: on the manual clock the application's polls see
// pending until the test acts. (On the default clock its second poll would already have moved
// dave's login to its next step: the scenario's default approval after 2 s.)
func ExampleWithManualClock() {
	srv, err := acmocktest.Start(acmocktest.WithManualClock())
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()
	_, _, _ = srv.Management().AddUsers(ctx, []string{"dave"})
	link, _ := srv.Management().GetRegistrationLink(ctx, "dave", "dave@example")
	_ = srv.OpenLink(ctx, link)

	done := make(chan activeconnect.SessionStatus)
	go func() {
		status, _ := login(ctx, srv.Authentication(), "dave", 5*time.Millisecond) // application code
		done <- status
	}()
	// Wait until the application has polled a few times, without sleeping.
	if _, err := srv.WaitRequests(ctx, acmocktest.Filter{Operation: "getSessionStatus", User: "dave"}, 3); err != nil {
		panic(err)
	}
	fmt.Println(srv.Approve("dave"))
	fmt.Println(<-done)
	// Output:
	// <nil>
	// active
}
