package acauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signer adds Authentication Protocol 1 headers to outgoing requests.
// Use application ID and secret for management and authenticate calls, and
// session_token (as ClientID) and session_secret for session status and
// logout. A Signer is safe for concurrent use if Now and Nonce are.
type Signer struct {
	// ClientID is the application ID or session token.
	ClientID string
	// Secret is the application secret or session secret.
	Secret string
	// Now returns the time to put in the timestamp header; nil means time.Now.
	// Tests and the emulator inject a fixed or shifted clock here.
	Now func() time.Time
	// Nonce returns a fresh nonce; nil means crypto/rand. It must never
	// repeat within the server's skew window or requests are rejected as
	// replays.
	Nonce func() (uint64, error)
	// FormatNonce writes the nonce as it is sent and signed; nil means
	// decimal without padding, as the official Python client writes it.
	// FormatNonceHex writes it as the mobile SDK does. The result must pass
	// CheckNonce.
	FormatNonce func(uint64) string
	// Headers is the family of timestamp and version header names to send;
	// "" means FamilyActiveconnect, what the official Python client sends.
	// Another family tests a server against that lineage's clients.
	Headers HeaderFamily
}

// FormatNonceHex writes a nonce as 16 upper-case hex digits, zero-padded
// (printf's %016llX), as the Activeconnect iOS SDK does.
func FormatNonceHex(n uint64) string {
	const digits = "0123456789ABCDEF"
	var b [16]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = digits[n&0xF]
		n >>= 4
	}
	return string(b[:])
}

// NewSigner returns a Signer using the real clock and crypto/rand nonces.
func NewSigner(clientID, secret string) *Signer {
	return &Signer{ClientID: clientID, Secret: secret}
}

// SignRequest sets the Authentication, timestamp and version headers on req
// in place. Its signature matches oapi-codegen's RequestEditorFn, so
// signer.SignRequest can be passed to WithRequestEditorFn. Because it signs
// req.URL and req.Host as they are now, call it after anything else that
// changes them; when redirects are possible prefer RoundTripper, which signs
// every hop.
func (s *Signer) SignRequest(_ context.Context, req *http.Request) error {
	if s.ClientID == "" || strings.ContainsAny(s.ClientID, ": \t") {
		return fmt.Errorf("acauth: client ID %q is empty or contains ':' or whitespace", s.ClientID)
	}
	if s.Secret == "" {
		return errors.New("acauth: empty secret")
	}
	family := FamilyActiveconnect
	if s.Headers != "" {
		family = s.Headers
	}
	fi := family.index()
	if fi < 0 {
		return fmt.Errorf("acauth: unknown header family %q", s.Headers)
	}
	host, target, err := outgoingURI(req)
	if err != nil {
		return err
	}
	n, err := s.nonce()
	if err != nil {
		return fmt.Errorf("acauth: nonce: %w", err)
	}
	// The nonce and the timestamp are written on the stack, and the two header values that
	// hold them built in one string, so that signing allocates that string and the header
	// slices only.
	var nonceBuf, tsBuf [20]byte
	nonce := string(strconv.AppendUint(nonceBuf[:0], n, 10))
	if s.FormatNonce != nil {
		nonce = s.FormatNonce(n)
		if err := CheckNonce(nonce); err != nil {
			return fmt.Errorf("acauth: FormatNonce(%d): %w", n, err)
		}
	}
	ts := string(strconv.AppendInt(tsBuf[:0], s.now().Unix(), 10))
	raw := signRaw(s.Secret, nonce, host, target, ts)
	var sig [signatureBase64Size]byte
	base64.StdEncoding.Encode(sig[:], raw[:])
	// values is FormatAuthentication(s.ClientID, nonce, sig) followed by ts.
	var values strings.Builder
	values.Grow(len(Scheme) + 1 + len(s.ClientID) + 1 + len(nonce) + 1 + len(sig) + len(ts))
	values.WriteString(Scheme + " ")
	values.WriteString(s.ClientID)
	values.WriteByte(':')
	values.WriteString(nonce)
	values.WriteByte(':')
	values.Write(sig[:])
	values.WriteString(ts)
	both := values.String()
	auth, ts := both[:len(both)-len(ts)], both[len(both)-len(ts):]

	if req.Header == nil {
		req.Header = make(http.Header)
	}
	// An Authentication, timestamp or version header left by a caller, of
	// any family and under a key in any letter case (a hand-built map need
	// not be canonical), would repeat or contradict ours: the verifier reads
	// them all, as HTTP compares names without regard to case.
	for key := range req.Header {
		if which, _ := matchHeader(key); which >= 0 {
			delete(req.Header, key)
		}
	}
	// One array holds the three values, each header's slice capped at its own, as net/http's
	// header parser does.
	vals := []string{auth, ts, Version}
	req.Header[HeaderAuthentication] = vals[0:1:1]
	req.Header[canonical[fi][0]] = vals[1:2:2]
	req.Header[canonical[fi][1]] = vals[2:3:3]
	return nil
}

// RoundTripper returns an http.RoundTripper that signs a clone of each
// request and passes it to base (http.DefaultTransport when nil). The clone
// keeps the caller's request unmodified, as the RoundTripper contract
// requires, and redirects are signed afresh for their new URL.
func (s *Signer) RoundTripper(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &signingTransport{signer: s, base: base}
}

type signingTransport struct {
	signer *Signer
	base   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	clone := req.Clone(req.Context())
	if err := t.signer.SignRequest(req.Context(), clone); err != nil {
		// RoundTrip must close the body even when it fails.
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return t.base.RoundTrip(clone)
}

func (s *Signer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Signer) nonce() (uint64, error) {
	if s.Nonce != nil {
		return s.Nonce()
	}
	return RandomNonce()
}

// RandomNonce returns a uniformly random uint64 from crypto/rand; it is the
// default nonce source. 64 random bits make a repeat within a skew window
// negligible.
func RandomNonce() (uint64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("read random: %w", err)
	}
	return binary.BigEndian.Uint64(b[:]), nil
}
