package acauth_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/acmock/acmock/acauth"
)

func TestParseAuthentication(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header           string
		wantID, wantN, wantSig string
		wantErr                error
	}{
		{name: "doc vector", header: "hmac ABCD:9223372036854775807:LzhljO/bzFUGSTUMwyDHzw==", wantID: "ABCD", wantN: "9223372036854775807", wantSig: "LzhljO/bzFUGSTUMwyDHzw=="},
		{name: "upper case, tab, padding", header: " HMAC\tid:0:sig ", wantID: "id", wantN: "0", wantSig: "sig"},
		{name: "max nonce", header: "hmac id:18446744073709551615:s", wantID: "id", wantN: "18446744073709551615", wantSig: "s"},
		{name: "empty", header: "", wantErr: acauth.ErrBadScheme},
		{name: "authorization style", header: "Basic dXNlcjpwYXNz", wantErr: acauth.ErrBadScheme},
		{name: "scheme glued to credentials", header: "hmacid:1:s", wantErr: acauth.ErrBadScheme},
		{name: "scheme only", header: "hmac ", wantErr: acauth.ErrBadHeader},
		{name: "two parts", header: "hmac id:1", wantErr: acauth.ErrBadHeader},
		// A client ID cannot hold ':' and a signature is base64, so extra colons belong to the nonce.
		{name: "four parts: a nonce holding ':'", header: "hmac id:1:s:x", wantErr: acauth.ErrBadNonce},
		{name: "five parts", header: "hmac id:a:b:c:sig", wantErr: acauth.ErrBadNonce},
		{name: "only colons after the client ID", header: "hmac id:::", wantErr: acauth.ErrBadHeader},
		{name: "empty signature", header: "hmac id:1:", wantErr: acauth.ErrBadHeader},
		{name: "empty client id", header: "hmac :1:s", wantErr: acauth.ErrBadHeader},
		// Nonces are opaque tokens: any printable ASCII but ':', 1 to MaxNonceLen bytes.
		{name: "mobile SDK hex nonce", header: "hmac id:7FFFFFFFFFFFFFFF:s", wantID: "id", wantN: "7FFFFFFFFFFFFFFF", wantSig: "s"},
		{name: "0x hex nonce", header: "hmac id:0x10:s", wantID: "id", wantN: "0x10", wantSig: "s"},
		{name: "plus sign nonce", header: "hmac id:+1:s", wantID: "id", wantN: "+1", wantSig: "s"},
		{name: "padded nonce", header: "hmac id:01:s", wantID: "id", wantN: "01", wantSig: "s"},
		{name: "nonce beyond 64 bits", header: "hmac id:18446744073709551616:s", wantID: "id", wantN: "18446744073709551616", wantSig: "s"},
		{name: "uuid nonce", header: "hmac id:1b4e28ba-2fa1-11d2-883f-0016d3cca427:s", wantID: "id", wantN: "1b4e28ba-2fa1-11d2-883f-0016d3cca427", wantSig: "s"},
		{name: "nonce with inner spaces", header: "hmac id:a b:s", wantID: "id", wantN: "a b", wantSig: "s"},
		{name: "longest nonce", header: "hmac id:" + strings.Repeat("~", acauth.MaxNonceLen) + ":s", wantID: "id", wantN: strings.Repeat("~", acauth.MaxNonceLen), wantSig: "s"},
		{name: "empty nonce", header: "hmac id::s", wantErr: acauth.ErrBadNonce},
		{name: "nonce too long", header: "hmac id:" + strings.Repeat("1", acauth.MaxNonceLen+1) + ":s", wantErr: acauth.ErrBadNonce},
		{name: "nonce with a tab", header: "hmac id:1\t2:s", wantErr: acauth.ErrBadNonce},
		{name: "nonce with DEL", header: "hmac id:1\x7f:s", wantErr: acauth.ErrBadNonce},
		{name: "nonce with UTF-8", header: "hmac id:n\u00f6nce:s", wantErr: acauth.ErrBadNonce},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, n, sig, err := acauth.ParseAuthentication(tt.header)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if id != tt.wantID || n != tt.wantN || sig != tt.wantSig {
				t.Errorf("got %q %q %q, want %q %q %q", id, n, sig, tt.wantID, tt.wantN, tt.wantSig)
			}
		})
	}
}

func TestCheckNonce(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"0", "9223372036854775807", "18446744073709551615", "007", "7FFFFFFFFFFFFFFF", " ", "!~", strings.Repeat("z", acauth.MaxNonceLen)} {
		if err := acauth.CheckNonce(ok); err != nil {
			t.Errorf("CheckNonce(%q) = %v, want nil", ok, err)
		}
	}
	for bad, want := range map[string]string{
		"": "nonce is empty",
		strings.Repeat("1", acauth.MaxNonceLen+1): "nonce is 65 bytes long",
		"12:34":  "nonce has ':' at position 3",
		"1\x00":  "nonce has byte 0x00 at position 2",
		"\t1":    "nonce has byte 0x09 at position 1",
		"\u00e9": "nonce has byte 0xC3 at position 1",
	} {
		err := acauth.CheckNonce(bad)
		if !errors.Is(err, acauth.ErrBadNonce) || err.Error() != want {
			t.Errorf("CheckNonce(%q) = %v, want %q wrapping ErrBadNonce", bad, err, want)
		}
	}
}

func TestFormatNonceHex(t *testing.T) {
	t.Parallel()
	for n, want := range map[uint64]string{
		0: "0000000000000000", 123456789: "00000000075BCD15",
		9223372036854775807: "7FFFFFFFFFFFFFFF", 1<<64 - 1: "FFFFFFFFFFFFFFFF",
	} {
		if got := acauth.FormatNonceHex(n); got != want {
			t.Errorf("FormatNonceHex(%d) = %q, want %q", n, got, want)
		}
	}
}
