package emulator

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/store"
)

// authenticate answers 404 for an unknown application or session (there is no secret to check a
// signature with), then verifies the signature with the credentials the route requires. The
// journal learns which header family the client used in every case.
func (e *Emulator) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(w, r)
		switch info.op.scope {
		case scopeApplication:
			app, err := e.store.Application(info.app)
			if err != nil {
				info.authHeaders = acauth.HeadersUsed(r.Header)
				writeError(w, r, errorf(http.StatusNotFound, acapi.ErrorCodeUnknownApplication, "application_id",
					"no application %s", clip.Input(info.app)))
				return
			}
			info.secret = app.Secret
		case scopeSession:
			if info.secret == "" { // identify did not find the session (a secret is never empty)
				info.authHeaders = acauth.HeadersUsed(r.Header)
				writeError(w, r, errorf(http.StatusNotFound, acapi.ErrorCodeUnknownSession, "session_token",
					"no session %s%s", clip.Input(info.session), forgottenSession))
				return
			}
		}
		if e.opts.AuthOff {
			info.authHeaders = acauth.HeadersUsed(r.Header)
			info.verdict = "off"
			next.ServeHTTP(w, r)
			return
		}
		// The verifier names the headers from its own pass over them.
		_, used, rej := e.verifier.VerifyAndName(r)
		info.authHeaders = used
		if rej != nil {
			info.verdict = rej.Code
			w.Header().Set("WWW-Authenticate", acauth.Scheme)
			writeError(w, r, &apiError{
				Status: http.StatusUnauthorized, Code: acapi.ErrorCode(rej.Code), Message: rejectionMessage(r, rej),
				Field: rej.Field, StringToSign: rej.StringToSign,
			})
			return
		}
		info.verdict = "ok"
		next.ServeHTTP(w, r)
	})
}

// rejectionMessage adds to a missing header what a newcomer needs: where the signing is described,
// that acmock can accept unsigned requests, and, when the request carries the usual Authorization
// header instead, that Activeconnect's is called Authentication.
func rejectionMessage(r *http.Request, rej *acauth.Rejection) string {
	if rej.Code != acauth.CodeMissingHeader {
		return rej.Message
	}
	msg := rej.Message
	if rej.Field == acauth.HeaderAuthentication && r.Header.Get("Authorization") != "" {
		msg += " (the request has an Authorization header: the Activeconnect API's header is called Authentication)"
	}
	return msg + `; sign requests as api/openapi.yaml describes under "Signing requests: Authentication Protocol 1", ` +
		"or start acmock with --auth off to accept unsigned requests"
}

// lookupSecret gives the verifier the secret of the one client allowed on this route: the
// application in the path for management and authenticate, the session itself for status and
// logout. authenticate, the verifier's only caller, found that secret before verifying (identify,
// for a session), or answered 404. Any other known credentials are the wrong ones for the route.
func (e *Emulator) lookupSecret(r *http.Request, clientID string) (string, error) {
	if info := infoFrom(r.Context()); info != nil && info.op != nil &&
		(info.op.scope == scopeApplication && clientID == info.app || info.op.scope == scopeSession && clientID == info.session) {
		return info.secret, nil
	}
	if _, err := e.store.Application(clientID); err == nil {
		return "", fmt.Errorf("application credentials %s may not sign this request: %w", clientID, acauth.ErrWrongCredentialsForRoute)
	}
	if _, err := e.store.SessionKeys(clientID); err == nil {
		return "", fmt.Errorf("session credentials %s may sign only that session's status and logout: %w", clientID, acauth.ErrWrongCredentialsForRoute)
	}
	return "", fmt.Errorf("client %s: %w", clientID, errors.Join(acauth.ErrUnknownClient, store.ErrApplicationNotFound))
}
