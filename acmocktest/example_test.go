package acmocktest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/acmock/acmock/acmocktest"
)

// A complete login against the emulator: add a user, register a phone through the link, start a
// login, approve it on the phone, poll until active, log out.
func Example() {
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

	_ = srv.Approve(session.Token) // the user taps "approve"
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

// The demo's alice approves 2 s after a login; the virtual clock gets there at once.
func ExampleServer_Advance() {
	srv, _ := acmocktest.Start()
	defer srv.Close()
	ctx := context.Background()

	session, _ := srv.Authentication().AuthenticateUser(ctx, "alice")
	srv.Advance(2 * time.Second)
	status, _ := session.Refresh(ctx)
	fmt.Println(status)

	polls := srv.Requests(acmocktest.Filter{Operation: "getSessionStatus", User: "alice"})
	fmt.Println(len(polls), polls[0].HMAC)
	// Output:
	// active
	// 1 ok
}
