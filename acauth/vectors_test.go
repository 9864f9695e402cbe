package acauth_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acauth"
)

// vector is one entry of testdata/vectors.json.
type vector struct {
	Name           string `json:"name"`
	Source         string `json:"source"` // published, published-inputs or acmock (see the file's description)
	Note           string `json:"note"`   // what a published-inputs document gives
	ClientID       string `json:"client_id"`
	Secret         string `json:"secret"`
	Nonce          string `json:"nonce"`
	URL            string `json:"url"`
	Host           string `json:"host"`    // optional Host override
	Headers        string `json:"headers"` // optional header family; default Activeconnect
	Timestamp      string `json:"timestamp"`
	StringToSign   string `json:"string_to_sign"`
	Authentication string `json:"authentication"`
}

func loadVectors(t testing.TB) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Description string   `json:"description"`
		Vectors     []vector `json:"vectors"`
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("decode vectors.json: %v", err)
	}
	if len(file.Vectors) < 2 {
		t.Fatalf("only %d vectors", len(file.Vectors))
	}
	for _, v := range file.Vectors {
		if !strings.Contains(file.Description, "source="+v.Source+":") || (v.Source == "published-inputs") != (v.Note != "") {
			t.Fatalf("vector %q: source %q is not described, or a note is missing or out of place", v.Name, v.Source)
		}
	}
	return file.Vectors
}

// uri is the signed URI, recovered from the hand-written string_to_sign.
func (v vector) uri() string {
	return strings.TrimSuffix(strings.TrimPrefix(v.StringToSign, v.Nonce), v.Timestamp)
}

// signature is the last part of the expected Authentication header.
func (v vector) signature() string {
	return v.Authentication[strings.LastIndex(v.Authentication, ":")+1:]
}

func (v vector) unix(t testing.TB) time.Time {
	t.Helper()
	var sec int64
	if _, err := fmt.Sscan(v.Timestamp, &sec); err != nil {
		t.Fatal(err)
	}
	return time.Unix(sec, 0)
}

// family is the vector's header family.
func (v vector) family() acauth.HeaderFamily {
	if v.Headers == "" {
		return acauth.FamilyActiveconnect
	}
	return acauth.HeaderFamily(v.Headers)
}

// signer signs with the vector's credentials, clock, nonce text and header family.
func (v vector) signer(t testing.TB) *acauth.Signer {
	t.Helper()
	now := v.unix(t)
	if !v.family().Valid() {
		t.Fatalf("vector %s: unknown header family %q", v.Name, v.Headers)
	}
	return &acauth.Signer{
		ClientID:    v.ClientID,
		Secret:      v.Secret,
		Now:         func() time.Time { return now },
		FormatNonce: func(uint64) string { return v.Nonce },
		Headers:     acauth.HeaderFamily(v.Headers),
	}
}

func TestVectorsLowLevel(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			if got := acauth.StringToSign(v.Nonce, v.uri(), v.Timestamp); got != v.StringToSign {
				t.Errorf("StringToSign = %q, want %q", got, v.StringToSign)
			}
			if got := acauth.Sign(v.Secret, v.Nonce, v.uri(), v.Timestamp); got != v.signature() {
				t.Errorf("Sign = %q, want %q", got, v.signature())
			}
			id, nonce, sig, err := acauth.ParseAuthentication(v.Authentication)
			if err != nil || id != v.ClientID || nonce != v.Nonce || sig != v.signature() {
				t.Errorf("ParseAuthentication = %q, %q, %q, %v", id, nonce, sig, err)
			}
		})
	}
}

// TestVectorsSignRequest checks the signer derives the vector's URI from
// the URL alone (scheme stripped, encoding kept, Host override honoured).
func TestVectorsSignRequest(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, v.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = v.Host
			if err := v.signer(t).SignRequest(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get(acauth.HeaderAuthentication); got != v.Authentication {
				t.Errorf("Authentication = %q, want %q", got, v.Authentication)
			}
			if got := req.Header.Get(v.family().Timestamp()); got != v.Timestamp {
				t.Errorf("%s = %q, want %q", v.family().Timestamp(), got, v.Timestamp)
			}
			if got := req.Header.Get(v.family().Version()); got != "1" {
				t.Errorf("%s = %q, want 1", v.family().Version(), got)
			}
			if got, want := acauth.HeadersUsed(req.Header), []string{v.family().Timestamp(), v.family().Version()}; !slices.Equal(got, want) {
				t.Errorf("headers sent %q, want only %q", got, want)
			}
		})
	}
}

// pathAndQuery returns the raw request target of a URL string, untouched
// by url.Parse so that the test cannot normalise what it sends.
func pathAndQuery(rawURL string) string {
	_, rest, _ := strings.Cut(rawURL, "://")
	if i := strings.Index(rest, "/"); i >= 0 {
		return rest[i:]
	}
	return "/"
}

// TestVectorsRoundTrip sends each vector through a real server on
// 127.0.0.1 with the vector's host as the Host header. It proves that what
// the signer RoundTripper signs is exactly what the server sees and
// verifies, byte for byte, including the fixed expected signature.
func TestVectorsRoundTrip(t *testing.T) {
	t.Parallel()
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			host := v.Host
			if host == "" {
				_, rest, _ := strings.Cut(v.URL, "://")
				host, _, _ = strings.Cut(rest, "/")
			}
			now := v.unix(t)
			verifier := acauth.NewVerifier(
				acauth.SecretLookupFunc(func(_ *http.Request, id string) (string, error) {
					if id != v.ClientID {
						return "", acauth.ErrUnknownClient
					}
					return v.Secret, nil
				}),
				acauth.WithClock(func() time.Time { return now }),
			)
			srv := httptest.NewServer(verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, _ := acauth.ClientIDFromContext(r.Context())
				fmt.Fprintf(w, "%s\n%s\n%s\n%s", id, r.Header.Get(acauth.HeaderAuthentication), acauth.IncomingURI(r),
					strings.Join(acauth.HeadersUsed(r.Header), ","))
			})))
			t.Cleanup(srv.Close)

			client := &http.Client{Transport: v.signer(t).RoundTripper(srv.Client().Transport)}
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+pathAndQuery(v.URL), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = host
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			want := v.ClientID + "\n" + v.Authentication + "\n" + v.uri() + "\n" + v.family().Timestamp() + "," + v.family().Version()
			if string(body) != want {
				t.Errorf("server saw\n%s\nwant\n%s", body, want)
			}
			if req.Header.Get(acauth.HeaderAuthentication) != "" {
				t.Error("RoundTripper modified the caller's request")
			}
		})
	}
}

// TestRoundTripRealHost repeats the round trip without a Host override and
// with random nonces and the real clock, as a client would in production.
func TestRoundTripRealHost(t *testing.T) {
	t.Parallel()
	const id, secret = "ABCD", "SXB33FAUZUDCA6USWNZNES9YRUBKI6N1"
	verifier := acauth.NewVerifier(acauth.SecretLookupFunc(func(_ *http.Request, got string) (string, error) {
		if got != id {
			return "", fmt.Errorf("client %q: %w", got, acauth.ErrUnknownClient)
		}
		return secret, nil
	}))
	srv := httptest.NewServer(verifier.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, acauth.IncomingURI(r))
	})))
	t.Cleanup(srv.Close)
	client := &http.Client{Transport: acauth.NewSigner(id, secret).RoundTripper(srv.Client().Transport)}

	targets := []string{
		"/management/has_registered_mobile_device/ABCD/MY+USER+1",
		"/management/users/ABCD/a%2Fb?user=MY+USER+1&x=a%2fb%20c",
		"/management/users/ABCD/%7Euser?",
		"/session/status/ABCD?a=1&a=2&b",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			resp, err := client.Post(srv.URL+target, "application/json", strings.NewReader(`{"x":1}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if want := strings.TrimPrefix(srv.URL, "http://") + target; string(body) != want {
				t.Errorf("server signed %q, want %q", body, want)
			}
		})
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestRoundTripperClosesBodyOnSignError(t *testing.T) {
	t.Parallel()
	boom := errors.New("no entropy")
	s := &acauth.Signer{ClientID: "ABCD", Secret: "s", Nonce: func() (uint64, error) { return 0, boom }}
	body := &closeRecorder{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/x", body)
	_, err := s.RoundTripper(nil).RoundTrip(req)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	if !body.closed {
		t.Error("body not closed")
	}
}

func TestSignRequestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		signer acauth.Signer
		url    string
		host   string
	}{
		{name: "empty client id", signer: acauth.Signer{Secret: "s"}, url: "http://h/x"},
		{name: "colon in client id", signer: acauth.Signer{ClientID: "a:b", Secret: "s"}, url: "http://h/x"},
		{name: "empty secret", signer: acauth.Signer{ClientID: "a"}, url: "http://h/x"},
		{name: "no host", signer: acauth.Signer{ClientID: "a", Secret: "s"}, url: "/x"},
		{name: "non-ascii host", signer: acauth.Signer{ClientID: "a", Secret: "s"}, url: "http://h/x", host: "bücher.example"},
		{name: "unknown header family", signer: acauth.Signer{ClientID: "a", Secret: "s", Headers: "X-Activeconnect-Auth"}, url: "http://h/x"},
		{name: "nonce formatted with a colon", signer: acauth.Signer{ClientID: "a", Secret: "s", FormatNonce: func(n uint64) string { return "1:2" }}, url: "http://h/x"},
		{name: "nonce formatted empty", signer: acauth.Signer{ClientID: "a", Secret: "s", FormatNonce: func(uint64) string { return "" }}, url: "http://h/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			if err := tt.signer.SignRequest(t.Context(), req); err == nil {
				t.Error("SignRequest succeeded, want error")
			}
		})
	}
}

// TestSignRequestReplacesOtherFamilies: timestamp and version headers of any family left on a
// request by a caller are removed, so that they cannot contradict the ones the signer sends.
func TestSignRequestReplacesOtherFamilies(t *testing.T) {
	t.Parallel()
	for _, send := range acauth.HeaderFamilies() {
		t.Run(string(send), func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, "http://h/x", nil)
			for _, f := range acauth.HeaderFamilies() {
				req.Header.Set(f.Timestamp(), "1")
				req.Header.Set(f.Version(), "9")
			}
			s := acauth.NewSigner("a", "s")
			s.Headers = send
			if err := s.SignRequest(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			if got, want := acauth.HeadersUsed(req.Header), []string{send.Timestamp(), send.Version()}; !slices.Equal(got, want) {
				t.Errorf("headers after signing %q, want %q", got, want)
			}
			if req.Header.Get(send.Version()) != "1" || req.Header.Get(send.Timestamp()) == "1" {
				t.Errorf("the signer's own headers were not set: %v", req.Header)
			}
		})
	}
}

// TestSignRequestRemovesLeftoversInAnyCase: a hand-built header map may hold protocol headers
// under keys that are not in canonical form. The verifier reads them whatever their case, so the
// signer removes them whatever their case too; otherwise a leftover would repeat or contradict
// the signer's own headers and its own request would fail.
func TestSignRequestRemovesLeftoversInAnyCase(t *testing.T) {
	t.Parallel()
	for _, send := range acauth.HeaderFamilies() {
		t.Run(string(send), func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/management/add_users/a", nil)
			req.Header = http.Header{
				"x-iampass-authentiaction-timestamp":        {"1"},
				"X-SONIKPASS-AUTHENTICATION-VERSION":        {"9"},
				strings.ToLower(send.Timestamp()):           {"2"}, // the signer's own family, in lower case
				strings.ToUpper(send.Version()):             {"3"},
				"authentication":                            {"hmac a:1:stale"},
				"X-Activeconnect-Authentiaction-Timestamp ": {"kept: not a protocol header (trailing space)"},
				"X-Other": {"kept"},
			}
			s := &acauth.Signer{ClientID: "a", Secret: "s", Headers: send, Now: func() time.Time { return testNow }}
			if err := s.SignRequest(t.Context(), req); err != nil {
				t.Fatal(err)
			}
			if got, want := acauth.HeadersUsed(req.Header), []string{send.Timestamp(), send.Version()}; !slices.Equal(got, want) {
				t.Errorf("headers after signing %q, want %q", got, want)
			}
			if len(req.Header) != 5 || req.Header.Get("X-Other") != "kept" {
				t.Errorf("signing removed or kept the wrong headers: %v", req.Header)
			}
			v := acauth.NewVerifier(acauth.SecretLookupFunc(func(*http.Request, string) (string, error) { return "s", nil }),
				acauth.WithClock(func() time.Time { return testNow }))
			if _, rej := v.Verify(req); rej != nil {
				t.Errorf("the signed request does not verify: %v", rej)
			}
		})
	}
}

func TestOutgoingURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url, host, opaque, want string
	}{
		{name: "plain", url: "http://h:1/a?b=c", want: "h:1/a?b=c"},
		{name: "host override", url: "http://h:1/a", host: "other", want: "other/a"},
		{name: "ipv6 zone dropped like net/http", url: "http://[fe80::1%25eth0]:8080/a", want: "[fe80::1]:8080/a"},
		{name: "empty path", url: "http://h", want: "h/"},
		{name: "opaque path", url: "http://h/ignored", opaque: "/raw%2Fpath", want: "h/raw%2Fpath"},
		{name: "opaque absolute", url: "http://h/ignored", opaque: "//h/x", want: "h/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tt.host
			if tt.opaque != "" {
				req.URL.Opaque = tt.opaque
			}
			got, err := acauth.OutgoingURI(req)
			if err != nil || got != tt.want {
				t.Errorf("OutgoingURI = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestIncomingURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target, host, want string
	}{
		{name: "origin form", target: "/a/MY+USER?x=a%2Fb", host: "h:8080", want: "h:8080/a/MY+USER?x=a%2Fb"},
		{name: "absolute form", target: "http://h:8080/a%2fb?", host: "ignored", want: "h:8080/a%2fb?"},
		{name: "ipv6", target: "/a", host: "[::1]:8080", want: "[::1]:8080/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if !strings.Contains(tt.target, "://") {
				r.Host = tt.host
			}
			if got := acauth.IncomingURI(r); got != tt.want {
				t.Errorf("IncomingURI = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("in-process request without RequestURI", func(t *testing.T) {
		t.Parallel()
		r, _ := http.NewRequest(http.MethodGet, "http://h/a%2Fb?q=+", nil)
		if got, want := acauth.IncomingURI(r), "h/a%2Fb?q=+"; got != want {
			t.Errorf("IncomingURI = %q, want %q", got, want)
		}
	})
}
