package acauth_test

import (
	"errors"
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
		{name: "four parts", header: "hmac id:1:s:x", wantErr: acauth.ErrBadHeader},
		{name: "empty signature", header: "hmac id:1:", wantErr: acauth.ErrBadHeader},
		{name: "empty nonce", header: "hmac id::s", wantErr: acauth.ErrBadHeader},
		{name: "hex nonce", header: "hmac id:0x10:s", wantErr: acauth.ErrBadNonce},
		{name: "plus sign nonce", header: "hmac id:+1:s", wantErr: acauth.ErrBadNonce},
		{name: "padded nonce", header: "hmac id:01:s", wantErr: acauth.ErrBadNonce},
		{name: "overflowing nonce", header: "hmac id:18446744073709551616:s", wantErr: acauth.ErrBadNonce},
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
