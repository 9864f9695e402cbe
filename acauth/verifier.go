package acauth

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Rejection codes, the "code" member of a 401 body. See the package
// documentation for when each is used.
const (
	CodeMissingHeader            = "missing_header"
	CodeBadScheme                = "bad_scheme"
	CodeBadHeader                = "bad_header"
	CodeBadNonce                 = "bad_nonce"
	CodeBadVersion               = "bad_version"
	CodeStaleTimestamp           = "stale_timestamp"
	CodeReplayedNonce            = "replayed_nonce"
	CodeUnknownClient            = "unknown_client"
	CodeSignatureMismatch        = "signature_mismatch"
	CodeWrongCredentialsForRoute = "wrong_credentials_for_route"
)

// DefaultMaxSkew is the default allowed difference between a request's
// timestamp and the verifier's clock.
const DefaultMaxSkew = 300 * time.Second

// Sentinel errors a SecretLookup wraps to explain why it returned no secret.
var (
	// ErrUnknownClient means the client ID is not known at all.
	ErrUnknownClient = errors.New("unknown client")
	// ErrWrongCredentialsForRoute means the client ID is known but its kind
	// of credentials may not call this route (e.g. session credentials on a
	// management route, or another session's logout).
	ErrWrongCredentialsForRoute = errors.New("wrong credentials for route")
)

// SecretLookup finds the secret for a client ID. It receives the request so
// that it can decide whether this client may use this route; it then
// returns an error wrapping ErrWrongCredentialsForRoute. An error wrapping
// ErrUnknownClient, any other error, or an empty secret rejects the request
// as unknown_client.
type SecretLookup interface {
	LookupSecret(r *http.Request, clientID string) (secret string, err error)
}

// SecretLookupFunc adapts a function to SecretLookup.
type SecretLookupFunc func(r *http.Request, clientID string) (string, error)

// LookupSecret calls f(r, clientID).
func (f SecretLookupFunc) LookupSecret(r *http.Request, clientID string) (string, error) {
	return f(r, clientID)
}

// Rejection explains why a request failed verification. It is an error and
// maps one to one onto the JSON body of the 401 response.
type Rejection struct {
	// Code is one of the Code* constants.
	Code string
	// Message is a human sentence saying what failed.
	Message string
	// Field is the name of the header at fault, if any.
	Field string
	// StringToSign is set only for signature_mismatch: the string the server
	// signed, so a client developer can diff it against theirs.
	StringToSign string
	// ClientID is the client ID the request claimed, if it got that far. It
	// is unverified and meant for logging only; it is not sent in the body.
	ClientID string
	// Err is the underlying cause, e.g. the lookup's error; not sent.
	Err error
}

// Error implements error.
func (r *Rejection) Error() string {
	return "acauth: " + r.Code + ": " + r.Message
}

// Unwrap returns the underlying cause so errors.Is sees lookup sentinels.
func (r *Rejection) Unwrap() error { return r.Err }

// ErrorBody is the project-wide JSON error model written for a rejection.
type ErrorBody struct {
	Status       bool   `json:"status"`
	Code         string `json:"code"`
	Message      string `json:"message"`
	Field        string `json:"field,omitempty"`
	StringToSign string `json:"string_to_sign,omitempty"`
}

// Body returns the JSON error body for the rejection.
func (r *Rejection) Body() ErrorBody {
	return ErrorBody{Code: r.Code, Message: r.Message, Field: r.Field, StringToSign: r.StringToSign}
}

// ErrorWriter writes the response for a rejected request.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, rej *Rejection)

// WriteRejection is the default ErrorWriter: a 401 with rej.Body() as JSON.
func WriteRejection(w http.ResponseWriter, _ *http.Request, rej *Rejection) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	// RFC 9110 requires a challenge on 401; it names the scheme to use.
	h.Set("WWW-Authenticate", Scheme)
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(rej.Body()) // the client is gone if this fails
}

// VerdictHook is told the outcome of every request the middleware checks:
// clientID is the verified client ID on success (rej nil), and "" when rej
// is non-nil (rej.ClientID holds the unverified claim).
type VerdictHook func(r *http.Request, clientID string, rej *Rejection)

// Verifier checks Authentication Protocol 1 headers on incoming requests.
// It is safe for concurrent use.
type Verifier struct {
	lookup      SecretLookup
	now         func() time.Time
	maxSkew     atomic.Int64 // time.Duration; atomic so it can change while serving
	replay      *replayCache
	writeError  ErrorWriter
	onVerdict   VerdictHook
	replaySize  int
	initialSkew time.Duration
}

// VerifierOption configures NewVerifier.
type VerifierOption func(*Verifier)

// WithClock sets the verifier's notion of wall time (default time.Now), so
// the emulator can shift it and tests can fix it.
func WithClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) { v.now = now }
}

// WithMaxSkew sets the initial allowed clock skew (default DefaultMaxSkew).
func WithMaxSkew(d time.Duration) VerifierOption {
	return func(v *Verifier) { v.initialSkew = d }
}

// WithReplayCacheSize sets the hard cap on remembered nonces (default
// DefaultReplayCacheSize). Values below 1 mean 1, and values above 2³⁰ (a
// cache of 40 GiB) mean 2³⁰.
func WithReplayCacheSize(n int) VerifierOption {
	return func(v *Verifier) { v.replaySize = n }
}

// WithErrorWriter replaces WriteRejection, e.g. to log before writing.
func WithErrorWriter(w ErrorWriter) VerifierOption {
	return func(v *Verifier) { v.writeError = w }
}

// WithVerdictHook sets a hook the middleware calls for every request.
func WithVerdictHook(h VerdictHook) VerifierOption {
	return func(v *Verifier) { v.onVerdict = h }
}

// NewVerifier returns a Verifier that gets secrets from lookup, which must
// not be nil.
func NewVerifier(lookup SecretLookup, opts ...VerifierOption) *Verifier {
	if lookup == nil {
		panic("acauth: NewVerifier with nil lookup")
	}
	v := &Verifier{
		lookup:      lookup,
		now:         time.Now,
		writeError:  WriteRejection,
		replaySize:  DefaultReplayCacheSize,
		initialSkew: DefaultMaxSkew,
	}
	for _, o := range opts {
		o(v)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.writeError == nil {
		v.writeError = WriteRejection
	}
	v.replay = newReplayCache(v.replaySize)
	v.SetMaxSkew(v.initialSkew)
	return v
}

// SetMaxSkew changes the allowed clock skew; safe to call while serving.
// Negative values mean zero. Whole seconds count, as timestamps are seconds.
func (v *Verifier) SetMaxSkew(d time.Duration) {
	if d < 0 {
		d = 0
	}
	v.maxSkew.Store(int64(d))
}

// MaxSkew returns the allowed clock skew.
func (v *Verifier) MaxSkew() time.Duration {
	return time.Duration(v.maxSkew.Load())
}

// ReplayCacheLen returns how many nonces are remembered, for monitoring
// and for tests that the cache stays bounded.
func (v *Verifier) ReplayCacheLen() int {
	return v.replay.len()
}

// Middleware returns a handler that verifies each request, passes verified
// ones to next with the client ID in the context (see ClientIDFromContext),
// and answers the others with the error writer.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clientID, rej := v.Verify(r)
		if v.onVerdict != nil {
			v.onVerdict(r, clientID, rej)
		}
		if rej != nil {
			v.writeError(w, r, rej)
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithClientID(r.Context(), clientID)))
	})
}

// Verify checks r and returns the verified client ID, or a Rejection. A
// request that verifies has its nonce recorded, so verifying the same
// request twice rejects the second time as replayed_nonce.
//
// The timestamp and version headers are read under any of the six
// HeaderFamily spellings, without regard to case; several headers may carry
// the timestamp (or the version) only if they agree. A rejection's Field
// names the header as the client's family spells it.
func (v *Verifier) Verify(r *http.Request) (clientID string, rej *Rejection) {
	var hs protocolHeaders
	hs.scan(r.Header)
	return v.verify(r, &hs)
}

// VerifyAndName is Verify that also returns what HeadersUsed would say of the request, from the
// same pass over its headers: for a server that logs which header family each request used.
func (v *Verifier) VerifyAndName(r *http.Request) (clientID string, used []string, rej *Rejection) {
	var hs protocolHeaders
	hs.scan(r.Header)
	clientID, rej = v.verify(r, &hs)
	return clientID, hs.used(), rej
}

func (v *Verifier) verify(r *http.Request, hs *protocolHeaders) (clientID string, rej *Rejection) {
	switch {
	case hs.auth.n == 0:
		return "", &Rejection{Code: CodeMissingHeader, Field: HeaderAuthentication,
			Message: "missing header " + HeaderAuthentication}
	case hs.auth.n > 1:
		return "", &Rejection{Code: CodeBadHeader, Field: HeaderAuthentication,
			Message: "header " + HeaderAuthentication + " is sent more than once"}
	}
	clientID, nonce, sig, err := ParseAuthentication(hs.auth.first)
	if err != nil {
		return "", parseRejection(err)
	}
	claim := func(rej *Rejection) (string, *Rejection) {
		rej.ClientID = clientID
		return "", rej
	}

	tsText, tsName, rej := hs.pick(timestampHeader)
	if rej != nil {
		return claim(rej)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return claim(&Rejection{Code: CodeBadHeader, Field: tsName,
			Message: "timestamp must be Unix time in whole seconds, in decimal", Err: err})
	}
	version, versionName, rej := hs.pick(versionHeader)
	if rej != nil {
		return claim(rej)
	}
	if version != Version {
		return claim(&Rejection{Code: CodeBadVersion, Field: versionName,
			Message: "authentication version must be 1"})
	}

	nowSec := v.now().Unix()
	skewSec := int64(v.MaxSkew() / time.Second)
	// nowSec±skewSec cannot overflow for any real clock, unlike nowSec-ts.
	if ts < nowSec-skewSec || ts > nowSec+skewSec {
		return claim(&Rejection{Code: CodeStaleTimestamp, Field: tsName,
			Message: "timestamp is " + strconv.FormatInt(ts, 10) + " but server time is " +
				strconv.FormatInt(nowSec, 10) + "; allowed skew is " + strconv.FormatInt(skewSec, 10) + " seconds"})
	}

	secret, err := v.lookup.LookupSecret(r, clientID)
	switch {
	case errors.Is(err, ErrWrongCredentialsForRoute):
		return claim(&Rejection{Code: CodeWrongCredentialsForRoute, Field: HeaderAuthentication,
			Message: "these credentials may not be used for this route", Err: err})
	case err != nil:
		return claim(&Rejection{Code: CodeUnknownClient, Field: HeaderAuthentication,
			Message: "unknown client ID", Err: err})
	case secret == "":
		return claim(&Rejection{Code: CodeUnknownClient, Field: HeaderAuthentication,
			Message: "unknown client ID"})
	}

	// The URI is signed in its two parts, so that it is joined (and allocated) only for the
	// string_to_sign of a mismatch.
	host, target := incomingURI(r)
	want := signRaw(secret, nonce, host, target, tsText)
	// Comparing raw bytes rather than base64 text means a signature that
	// is not 16 bytes of base64 simply does not match.
	if !signatureMatches(sig, want) {
		return claim(&Rejection{Code: CodeSignatureMismatch, Field: HeaderAuthentication,
			Message:      "signature does not match the string the server signed (string_to_sign: nonce + URI + the timestamp from " + tsName + ")",
			StringToSign: nonce + host + target + tsText}) // StringToSign(nonce, IncomingURI(r), tsText)
	}

	// Recording only now means unauthenticated requests cannot fill the cache.
	if v.replay.checkAndAdd(clientID, nonce, ts, nowSec, skewSec) {
		return claim(&Rejection{Code: CodeReplayedNonce, Field: HeaderAuthentication,
			Message: "nonce was already used by this client; use a fresh random nonce per request"})
	}
	return clientID, nil
}

// signatureMatches decodes sig into a fixed buffer (no allocation) and
// compares it with want in constant time. Decoding is strict: the padding
// bits of the last character must be zero, so each signature has exactly one
// accepted spelling, as the real service's comparison of strings would have.
func signatureMatches(sig string, want [signatureSize]byte) bool {
	if len(sig) != base64.StdEncoding.EncodedLen(signatureSize) {
		return false
	}
	var got [signatureSize + 2]byte // DecodedLen(24) is 18
	n, err := base64.StdEncoding.Strict().Decode(got[:], []byte(sig))
	return err == nil && hmac.Equal(got[:n], want[:])
}

func parseRejection(err error) *Rejection {
	rej := &Rejection{Field: HeaderAuthentication, Err: err}
	switch {
	case errors.Is(err, ErrBadScheme):
		rej.Code, rej.Message = CodeBadScheme, `authentication scheme must be "hmac"`
	case errors.Is(err, ErrBadNonce):
		rej.Code, rej.Message = CodeBadNonce, "nonce must be 1 to "+strconv.Itoa(MaxNonceLen)+
			" characters of printable ASCII other than ':'"
		var ne *nonceError
		if errors.As(err, &ne) {
			rej.Message += "; this one " + ne.reason
		}
	default:
		rej.Code, rej.Message = CodeBadHeader, "Authentication header must be: hmac {client_id}:{nonce}:{signature}"
	}
	return rej
}

type clientIDKey struct{}

// ContextWithClientID returns ctx carrying a verified client ID. The
// middleware uses it; handlers under test can use it to skip signing.
func ContextWithClientID(ctx context.Context, clientID string) context.Context {
	return context.WithValue(ctx, clientIDKey{}, clientID)
}

// ClientIDFromContext returns the client ID the middleware verified.
func ClientIDFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(clientIDKey{}).(string)
	return id, ok
}
