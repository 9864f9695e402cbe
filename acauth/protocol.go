package acauth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Header names and fixed values of Authentication Protocol 1. The header
// constants are in canonical MIME form so they can index http.Header
// directly. They name the Activeconnect family; see HeaderFamily for all six
// spellings of the timestamp and version headers the verifier accepts.
const (
	// HeaderAuthentication carries "hmac {client_id}:{nonce}:{signature}".
	// It is deliberately not the standard Authorization header.
	HeaderAuthentication = "Authentication"
	// HeaderTimestamp carries the Unix time in seconds, in decimal. It is
	// FamilyActiveconnect.Timestamp().
	HeaderTimestamp = "X-Activeconnect-Authentication-Timestamp"
	// HeaderVersion carries the protocol version, always Version.
	HeaderVersion = "X-Activeconnect-Authentication-Version"
	// HeaderTimestampMisspelled is the spelling used by the published
	// documentation (FamilyActiveconnectAuthentiaction.Timestamp()); the
	// verifier accepts it so clients written from the documentation work.
	HeaderTimestampMisspelled = "X-Activeconnect-Authentiaction-Timestamp"
	// HeaderVersionMisspelled is the documentation's spelling of HeaderVersion.
	HeaderVersionMisspelled = "X-Activeconnect-Authentiaction-Version"

	// Scheme is the Authentication header scheme.
	Scheme = "hmac"
	// Version is the only protocol version this package speaks.
	Version = "1"
)

// Sentinel errors returned (wrapped) by ParseAuthentication.
var (
	// ErrBadScheme means the Authentication scheme is not "hmac".
	ErrBadScheme = errors.New("authentication scheme is not hmac")
	// ErrBadHeader means the header is syntactically malformed.
	ErrBadHeader = errors.New("malformed authentication header")
	// ErrBadNonce means the nonce is not one the protocol allows (see CheckNonce).
	ErrBadNonce = errors.New("bad nonce")
)

// MaxNonceLen is the longest nonce, in bytes, that CheckNonce and the
// verifier accept. It leaves room for every nonce a client of the service is
// known to send (20 decimal digits, 16 hex digits) and for a hex SHA-256.
const MaxNonceLen = 64

// nonceError says what is wrong with a nonce; it matches ErrBadNonce.
type nonceError struct{ reason string }

func (e *nonceError) Error() string        { return "nonce " + e.reason }
func (e *nonceError) Is(target error) bool { return target == ErrBadNonce }

// CheckNonce reports whether s may be a nonce. A nonce is an opaque token:
// 1 to MaxNonceLen bytes of printable ASCII (space to '~') other than ':'.
// Clients of the service's lineage send a decimal uint64 (the official
// client: "9223372036854775807") or 16 upper-case hex digits (the mobile SDK:
// "7FFFFFFFFFFFFFFF"); both are tokens like any other, so "007" and "7" are
// two different nonces. The error wraps ErrBadNonce.
func CheckNonce(s string) error {
	if s == "" {
		return &nonceError{"is empty"}
	}
	if len(s) > MaxNonceLen {
		return &nonceError{fmt.Sprintf("is %d bytes long", len(s))}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			return &nonceError{fmt.Sprintf("has ':' at position %d", i+1)}
		case c < ' ' || c > '~':
			return &nonceError{fmt.Sprintf("has byte 0x%02X at position %d", c, i+1)}
		}
	}
	return nil
}

// tokenSize and signatureSize are the truncation lengths ("-128") of the
// SHA-256 token and the HMAC.
const (
	tokenSize     = 16
	signatureSize = 16
	// signatureBase64Size is the length of a signature in padded base64.
	signatureBase64Size = (signatureSize + 2) / 3 * 4
)

// StringToSign returns the message that is HMACed: nonce + uri + timestamp,
// where uri is the request URI without its scheme (host[:port]/path?query as
// sent).
func StringToSign(nonce, uri, timestamp string) string {
	return nonce + uri + timestamp
}

// Sign returns the base64 signature of a request: the first 16 bytes of
// HMAC-SHA-256 keyed with the token SHA-256(nonce+secret)[:16] over
// StringToSign(nonce, uri, timestamp), in standard padded base64.
func Sign(secret, nonce, uri, timestamp string) string {
	raw := signRaw(secret, nonce, uri, "", timestamp)
	return base64.StdEncoding.EncodeToString(raw[:])
}

// signRaw returns the truncated HMAC bytes of the request whose URI is uri+uri2 (the verifier
// passes the host and the request target apart, so as not to join them); Verify compares these
// raw bytes so that base64 formatting cannot affect the constant-time comparison.
// HMAC-SHA256 (RFC 2104, H(K^opad || H(K^ipad || m))) is written out over
// buffers on the stack, so that signing allocates nothing for the URIs of
// real requests; crypto/hmac.New allocates two hashes and their pads.
func signRaw(secret, nonce, uri, uri2, timestamp string) [signatureSize]byte {
	var tokenBuf [128]byte
	token := sha256.Sum256(append(append(tokenBuf[:0], nonce...), secret...))

	// The key (16 bytes) is shorter than the block: it is used as it is, padded with zeros.
	var innerBuf [sha256.BlockSize + 512]byte // a longer message spills to the heap
	inner := append(innerBuf[:0], ipad[:]...)
	xorKey(inner, &token)
	inner = append(append(append(append(inner, nonce...), uri...), uri2...), timestamp...)
	innerSum := sha256.Sum256(inner)
	var outerBuf [sha256.BlockSize + sha256.Size]byte
	outer := append(outerBuf[:0], opad[:]...)
	xorKey(outer, &token)
	outerSum := sha256.Sum256(append(outer, innerSum[:]...))
	var out [signatureSize]byte
	copy(out[:], outerSum[:])
	return out
}

// ipad and opad are HMAC's inner and outer pads of a key of zeros, into which xorKey puts a key.
var ipad, opad = func() (i, o [sha256.BlockSize]byte) {
	for k := range i {
		i[k], o[k] = 0x36, 0x5c
	}
	return i, o
}()

// xorKey XORs the HMAC key, the first tokenSize bytes of the token, into the start of a pad.
func xorKey(pad []byte, token *[sha256.Size]byte) {
	for i := 0; i < tokenSize; i += 8 {
		binary.LittleEndian.PutUint64(pad[i:], binary.LittleEndian.Uint64(pad[i:])^binary.LittleEndian.Uint64(token[i:]))
	}
}

// FormatAuthentication returns the Authentication header value
// "hmac {clientID}:{nonce}:{signature}".
func FormatAuthentication(clientID, nonce, signature string) string {
	return Scheme + " " + clientID + ":" + nonce + ":" + signature
}

// ParseAuthentication splits an Authentication header value of the form
// "hmac {client_id}:{nonce}:{signature}". The scheme is matched
// case-insensitively and surrounding whitespace is ignored, as HTTP allows.
// It also checks the nonce with CheckNonce, because a nonce that cannot be
// one is a malformed header, not a signature problem. Errors wrap
// ErrBadScheme, ErrBadHeader or ErrBadNonce.
//
// Neither a client ID nor a base64 signature can hold ':', so credentials
// with more than two colons still split unambiguously: the client ID ends at
// the first, the signature starts after the last, and what lies between is a
// nonce holding ':', refused with ErrBadNonce (not ErrBadHeader) so that the
// error says what is wrong.
func ParseAuthentication(header string) (clientID, nonce, signature string, err error) {
	header = strings.TrimSpace(header)
	// HTTP allows a tab as well as a space after the scheme.
	scheme, creds, found := header, "", false
	if i := strings.IndexAny(header, " \t"); i >= 0 {
		scheme, creds, found = header[:i], header[i+1:], true
	}
	if !strings.EqualFold(scheme, Scheme) {
		return "", "", "", fmt.Errorf("scheme %q: %w", truncate(scheme, 32), ErrBadScheme)
	}
	if !found {
		return "", "", "", fmt.Errorf("no credentials after scheme: %w", ErrBadHeader)
	}
	creds = strings.TrimSpace(creds)
	first, last := strings.IndexByte(creds, ':'), strings.LastIndexByte(creds, ':')
	if first < 0 || first == last {
		return "", "", "", fmt.Errorf("credentials are not client_id:nonce:signature: %w", ErrBadHeader)
	}
	clientID, nonce, signature = creds[:first], creds[first+1:last], creds[last+1:]
	if clientID == "" || signature == "" {
		return "", "", "", fmt.Errorf("empty client_id or signature: %w", ErrBadHeader)
	}
	if err := CheckNonce(nonce); err != nil {
		var ne *nonceError
		if errors.As(err, &ne) && strings.Contains(nonce, ":") && len(nonce) <= MaxNonceLen {
			err = &nonceError{ne.reason + " (the nonce is everything between the first and the last ':' of client_id:nonce:signature)"}
		}
		return "", "", "", err
	}
	return clientID, nonce, signature, nil
}

// ParseNonce parses a nonce in canonical decimal form, rejecting signs,
// leading zeros and values above 2^64-1.
//
// Deprecated: nonces are opaque tokens (see CheckNonce) and the verifier no
// longer requires this form; ParseNonce remains for callers that do.
func ParseNonce(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("nonce %q: %w", truncate(s, 32), ErrBadNonce)
	}
	return n, nil
}

// truncate bounds attacker-controlled text echoed in error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
