package acauth_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/acmock/acmock/acauth"
)

func ExampleSign() {
	const nonce, uri, ts = "9223372036854775807", "activeconnect.activeapi.ninja/management/add_users/ABCD", "1234567890"
	sig := acauth.Sign("SXB33FAUZUDCA6USWNZNES9YRUBKI6N1", nonce, uri, ts)
	fmt.Println(acauth.FormatAuthentication("ABCD", nonce, sig))
	// Output: hmac ABCD:9223372036854775807:LzhljO/bzFUGSTUMwyDHzw==
}

// The same request to the IAMPASS host, as IAMPASS clients sign it: only the host differs in
// what is signed, and the timestamp and version travel under the IAMPASS header names.
func ExampleSigner_iampass() {
	signer := &acauth.Signer{
		ClientID: "ABCD", Secret: "SXB33FAUZUDCA6USWNZNES9YRUBKI6N1",
		Headers: acauth.FamilyIAMPASS,
		Now:     func() time.Time { return time.Unix(1234567890, 0) },
		Nonce:   func() (uint64, error) { return 9223372036854775807, nil },
	}
	req, _ := http.NewRequest(http.MethodPost, "https://main.iam-api.com/management/add_users/ABCD", nil)
	if err := signer.SignRequest(req.Context(), req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Header.Get(acauth.HeaderAuthentication))
	fmt.Println(acauth.HeadersUsed(req.Header))

	// The mobile SDK writes the same nonce as 16 hex digits: another nonce, another signature.
	signer.FormatNonce, signer.Headers = acauth.FormatNonceHex, acauth.FamilySonikpass
	if err := signer.SignRequest(req.Context(), req); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Header.Get(acauth.HeaderAuthentication))
	fmt.Println(acauth.HeadersUsed(req.Header))
	// Output:
	// hmac ABCD:9223372036854775807:F6qSmmKk/u/mP0GUNTMdhA==
	// [X-IAMPASS-Authentiaction-Timestamp X-IAMPASS-Authentiaction-Version]
	// hmac ABCD:7FFFFFFFFFFFFFFF:EFhETu7mkMHSmoaAjC8umg==
	// [X-Sonikpass-Authentication-Timestamp X-Sonikpass-Authentication-Version]
}

func ExampleVerifier_Middleware() {
	lookup := acauth.SecretLookupFunc(func(_ *http.Request, clientID string) (string, error) {
		if clientID == "ABCD" {
			return "SXB33FAUZUDCA6USWNZNES9YRUBKI6N1", nil
		}
		return "", acauth.ErrUnknownClient
	})
	verifier := acauth.NewVerifier(lookup)
	srv := httptest.NewServer(verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := acauth.ClientIDFromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", id)
	})))
	defer srv.Close()

	signer := acauth.NewSigner("ABCD", "SXB33FAUZUDCA6USWNZNES9YRUBKI6N1")
	signed := &http.Client{Transport: signer.RoundTripper(nil), Timeout: 5 * time.Second}
	for _, c := range []*http.Client{signed, http.DefaultClient} {
		resp, err := c.Get(srv.URL + "/management/add_users/ABCD")
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(body))
	}
	// Output:
	// 200 hello ABCD
	// 401 {"status":false,"code":"missing_header","message":"missing header Authentication","field":"Authentication"}
}
