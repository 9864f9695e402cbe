package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/acmock/acmock/activeconnect"
)

// Exit codes. authenticate --wait exits 0 only when the session became active; every other way it
// can end has its own code, so scripts can tell a declined login from a broken network.
const (
	ExitOK             = 0   // done; for authenticate --wait, the user is authenticated
	ExitError          = 1   // the service refused the request for another reason (see the message)
	ExitUsage          = 2   // bad flags or arguments, or a session file that is not a session
	ExitDenied         = 3   // the user declined the login on the phone (cancelled)
	ExitTimedOut       = 4   // nobody answered on the phone in time (timeout), or --timeout passed
	ExitFailed         = 5   // the session failed or ended without a login (failed, closed, walkaway)
	ExitNoPhone        = 6   // the user has no registered phone (NO_MOBILE_DEVICE; device check)
	ExitBadCredentials = 7   // the service rejected the signature (401): wrong app ID, secret or clock
	ExitUnreachable    = 8   // no answer from the service: connection failed, or it kept failing (429, 5xx)
	ExitNotFound       = 9   // unknown application, user or session (404, UNKNOWN_USER)
	ExitInterrupted    = 130 // interrupted (Ctrl-C)
)

const exitCodeTable = `Exit codes:
  0    done; for --wait, the session is active (the user is authenticated)
  1    the service refused the request for another reason (the message says why)
  2    usage: bad flags or arguments, or a --session-file that is not a session
  3    denied: the user declined the login on the phone (cancelled)
  4    timed out: nobody answered on the phone in time (timeout), or --timeout passed
  5    failed: the session failed or ended without a login (failed, closed, walkaway)
  6    no phone: the user has no registered phone (also device check)
  7    bad credentials: the service rejected the signature (HTTP 401)
  8    unreachable: no answer from the service, or it kept failing (HTTP 429, 5xx)
  9    not found: unknown application, user or session (HTTP 404)
  130  interrupted
`

// usageError is a command line that does not make sense.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// outcomeError is a session that ended, or never started, without authenticating the user.
type outcomeError struct {
	user    string // for people: the user ID as show prints it, or "the user" when unknown
	id      string // the user ID, for suggested commands; empty when unknown
	session *activeconnect.Session
}

func (e *outcomeError) Error() string {
	s := e.session
	switch {
	case s.FailureReason == activeconnect.ReasonNoMobileDevice:
		return fmt.Sprintf("%s has no registered phone; register one with: %s", e.user, suggest("device link", e.id))
	case s.FailureReason == activeconnect.ReasonUnknownUser:
		return fmt.Sprintf("the application has no user %s; add it with: %s", e.user, suggest("users add", e.id))
	case s.FailureReason != "":
		return fmt.Sprintf("the login for %s did not start (%s)", e.user, s.FailureReason)
	case s.Status == activeconnect.StatusCancelled:
		return fmt.Sprintf("%s declined the login on the phone (cancelled)", e.user)
	case s.Status == activeconnect.StatusTimeout:
		return fmt.Sprintf("nobody answered the login for %s on the phone in time (timeout); try again", e.user)
	case s.Status == activeconnect.StatusWalkaway:
		return fmt.Sprintf("the phone of %s is no longer near (walkaway); log in again", e.user)
	}
	return fmt.Sprintf("the login for %s ended without authenticating (%s)", e.user, s.Status)
}

// userError names the user ID a command worked on, so that the hint for its error can suggest a
// command for that user.
type userError struct {
	user string
	err  error
}

func (e *userError) Error() string { return e.err.Error() }
func (e *userError) Unwrap() error { return e.err }

// forUser attaches user to err (nil stays nil).
func forUser(user string, err error) error {
	if err == nil {
		return nil
	}
	return &userError{user: user, err: err}
}

// noPhoneError is device check's answer "no phone", already printed on stdout.
type noPhoneError struct{ user string }

func (e *noPhoneError) Error() string { return e.user + " has no registered phone" }

// waitTimeoutError is --timeout passing before the phone decided.
type waitTimeoutError struct {
	after  time.Duration
	status activeconnect.SessionStatus
	resume string // how to look again later
}

func (e *waitTimeoutError) Error() string {
	msg := fmt.Sprintf("gave up waiting after %s; the session is still %s", e.after, e.status)
	if e.resume != "" {
		msg += "; check it later with: " + e.resume
	}
	return msg
}

// exitCode is the one place that maps what happened to the exit code.
func exitCode(err error) int {
	var (
		usage    *usageError
		outcome  *outcomeError
		noPhone  *noPhoneError
		waitTime *waitTimeoutError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &outcome):
		s := outcome.session
		switch {
		case s.FailureReason == activeconnect.ReasonNoMobileDevice:
			return ExitNoPhone
		case s.FailureReason == activeconnect.ReasonUnknownUser:
			return ExitNotFound
		case s.Status == activeconnect.StatusCancelled:
			return ExitDenied
		case s.Status == activeconnect.StatusTimeout:
			return ExitTimedOut
		}
		return ExitFailed
	case errors.As(err, &noPhone):
		return ExitNoPhone
	case errors.As(err, &waitTime):
		return ExitTimedOut
	case errors.Is(err, context.Canceled):
		return ExitInterrupted
	case activeconnect.IsUnauthorized(err):
		return ExitBadCredentials
	case activeconnect.IsNotFound(err):
		return ExitNotFound
	case activeconnect.IsTemporary(err), noAnswer(err):
		return ExitUnreachable
	}
	return ExitError
}

// noAnswer reports whether a request got no (complete) answer: net/http's *url.Error, which the
// activeconnect package also uses for a connection that broke mid-answer.
func noAnswer(err error) bool {
	var urlErr *url.Error
	return errors.As(err, &urlErr)
}

// report prints err on one line with what to do about it. Answers already printed on stdout
// (device check's "no phone") are not repeated. cmd is the command that ran, or nil.
func report(w io.Writer, err error, cmd *command) {
	var noPhone *noPhoneError
	if err == nil || errors.As(err, &noPhone) {
		return
	}
	if errors.Is(err, context.Canceled) {
		// Whatever was under way when the signal came, nothing went wrong with it.
		fmt.Fprintln(w, "acclient: interrupted")
		return
	}
	msg := err.Error()
	h, replacesAdvice := hint(err, cmd)
	var apiErr *activeconnect.APIError
	if replacesAdvice && errors.As(err, &apiErr) {
		// The service's message may end with its own advice ("; add it with add_users first"):
		// the hint says the same as an acclient command, so say it once. A clause with a quote
		// in it is part of a quoted user ID ("a; b"), not advice.
		if i := strings.LastIndex(apiErr.Message, "; "); i > 0 && !strings.Contains(apiErr.Message[i:], `"`) {
			msg = strings.Replace(msg, apiErr.Message, apiErr.Message[:i], 1)
		}
	}
	if h != "" {
		msg += "; " + h
	}
	fmt.Fprintf(w, "acclient: %s\n", strings.Join(strings.Fields(msg), " "))
}

// hint says what to do about an error the service or the network returned. replacesAdvice is
// true when the hint does what the service's own advice says, which report then leaves out.
func hint(err error, cmd *command) (h string, replacesAdvice bool) {
	var user string
	var ue *userError
	if errors.As(err, &ue) {
		user = ue.user
	}
	sessionCmd := cmd != nil && cmd.sessionFile
	var apiErr *activeconnect.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == "stale_timestamp":
			return "check this computer's clock", false
		case apiErr.Code == "wrong_credentials_for_route":
			return "these credentials may not sign this request: check --app-id and the session file", false
		case apiErr.StatusCode == 401 && sessionCmd:
			return "the session file's token and secret were refused: start a new session with acclient authenticate", false
		case apiErr.StatusCode == 401:
			return "check --app-id and --app-secret (or " + envAppID + " and " + envAppSecret + ")", false
		case apiErr.Code == "unknown_application":
			return "check --app-id (or " + envAppID + ")", false
		case apiErr.Code == "unknown_user":
			return "add it with: " + suggest("users add", user), true
		case apiErr.Code == "unknown_session":
			return "the session is gone (its user was deleted, or the server restarted): start a new one with acclient authenticate", false
		case apiErr.Code == "device_already_registered":
			return "report the phone lost first with: " + suggest("device lost", user), true
		case apiErr.Field == "phone_number":
			return "use E.164 form, e.g. +15555550100", false
		case apiErr.Temporary():
			return "the service is overloaded or failing; try again later", false
		}
		return "", false
	}
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &certErr) && sessionCmd:
		return "the server's certificate does not verify: the session file names that server", false
	case errors.As(err, &certErr):
		return "the server's certificate does not verify: check --base-url (" + envBaseURL + ")", false
	case activeconnect.IsRequestTimeout(err) && sessionCmd:
		return "the service did not answer in time: is it running there? (the session file names it) or raise --http-timeout (" + envHTTPTimeout + ")", false
	case activeconnect.IsRequestTimeout(err):
		return "the service did not answer in time: is it running there? check --base-url (" + envBaseURL + "), or raise --http-timeout (" + envHTTPTimeout + ")", false
	case noAnswer(err) && sessionCmd:
		return "is the service running there? the session file names the service that started the session", false
	case noAnswer(err):
		return "is the service running there? start acmock, or set --base-url (" + envBaseURL + ")", false
	}
	return "", false
}
