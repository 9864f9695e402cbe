// Package activeconnect is a Go client for the Activeconnect API: push-style multifactor login,
// where an application starts a login session and the user approves it on a registered phone.
// It has the same operations and meanings as the official Python client (ManagementAPI,
// AuthenticationAPI, Session), signs every request with Authentication Protocol 1 and encodes user
// IDs the way the service expects. It imports only the standard library, the generated client
// (generated/acapi) and the oapi-codegen runtime, so it adds no server code to a program.
//
//	auth, err := activeconnect.NewAuthenticationAPI(appID, appSecret)  // WithBaseURL for acmock
//	session, err := auth.AuthenticateUser(ctx, "alice")
//	err = session.Wait(ctx, 2*time.Second)                              // then session.Active()
//
// # Management
//
// [ManagementAPI] adds and deletes users, hands out the links that register a user's phone, texts
// them, tells whether a user has a phone and reports a phone lost.
//
// # Sessions
//
// [AuthenticationAPI.AuthenticateUser] returns a [Session]. A session that did not start (the user
// has no phone) comes back with status failed and a [FailureReason], as in the Python client; other
// problems are errors. [Session.Refresh] polls the session's status URL once, [Session.Wait] polls
// until the phone has decided, riding out transient failures, and [Session.Destroy] logs out. Status
// and logout calls go to the absolute URLs the service handed out, signed with the session's own
// token and secret.
//
// [Session.PythonJSON] writes exactly the bytes the Python client writes, and the Session's
// UnmarshalJSON reads them, so a Go service and a Python service can share a session stored in a
// cookie:
//
//	{"status_url": "...", "session_status": "pending", "session_secret": "...", "failure_reason": null, "session_token": "...", "logout_url": "..."}
//
// json.Marshal writes the same keys and values in encoding/json's compact form; see
// [Session.MarshalJSON].
//
// # Timeouts
//
// Unless [WithHTTPClient] gives another client, every request is bounded by [DefaultTimeout]
// (30 s). A client of your own should have a Timeout too, or every context passed should carry a
// deadline: http.DefaultClient waits forever for a server that accepts and never answers. A
// request the client's timeout ended counts as temporary ([IsTemporary], [IsRequestTimeout]), so
// [Session.Wait] polls again; the end of the caller's context ends the wait.
//
// # Errors
//
// A request the service refuses returns an [*APIError] carrying the HTTP status, the service's error
// code, its message and the field at fault; match it with errors.As or with [IsNotFound],
// [IsUnauthorized] and [IsTemporary]. A request that got no complete answer returns the
// *url.Error of net/http.
package activeconnect
