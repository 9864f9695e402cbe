package activeconnect

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"3", 3 * time.Second},
		{" 10 ", 10 * time.Second},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{"999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	var got []time.Duration
	for failures := 1; failures <= 7; failures++ {
		got = append(got, backoff(time.Second, failures, 10*time.Second))
	}
	want := []time.Duration{1, 2, 4, 8, 10, 10, 10}
	for i := range want {
		if got[i] != want[i]*time.Second {
			t.Fatalf("backoff = %v, want %v seconds", got, want)
		}
	}
	// A cap below the interval never shortens the interval.
	if d := backoff(5*time.Second, 3, time.Second); d != 5*time.Second {
		t.Fatalf("backoff under a low cap = %v", d)
	}
}

func TestSetUserSegment(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"a b":     "/p/app/a+b",
		"a+b":     "/p/app/a%2Bb",
		"a/b":     "/p/app/a%2Fb",
		"%zz":     "/p/app/%25zz",
		"é":       "/p/app/%C3%A9",
		"..":      "/p/app/%2E%2E",
		"a b?c=d": "/p/app/a+b%3Fc%3Dd",
	}
	for id, want := range tests {
		u, err := url.Parse("http://h/p/app/" + userPlaceholder + "?q=1")
		if err != nil {
			t.Fatal(err)
		}
		if err := setUserSegment(u, id); err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if got := u.RequestURI(); got != want+"?q=1" {
			t.Errorf("%q: RequestURI %q, want %q", id, got, want+"?q=1")
		}
	}
}

func TestSetUserSegmentNeedsThePlaceholder(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("http://h/p/app/alice")
	if err := setUserSegment(u, "bob"); err == nil {
		t.Fatal("replaced a segment that was not the placeholder")
	}
}

// TestDefaultHTTPClientHasATimeout: without WithHTTPClient, requests cannot hang forever.
func TestDefaultHTTPClientHasATimeout(t *testing.T) {
	t.Parallel()
	c, err := newConn(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.http.Timeout != DefaultTimeout || DefaultTimeout != 30*time.Second {
		t.Fatalf("default client timeout %v, want %v", c.http.Timeout, DefaultTimeout)
	}
	if defaultConn.http.Timeout != DefaultTimeout {
		t.Fatalf("sessions decoded with encoding/json use a client with timeout %v", defaultConn.http.Timeout)
	}
	custom := &http.Client{}
	if c, _ := newConn([]Option{WithHTTPClient(custom)}); c.http != custom {
		t.Fatal("WithHTTPClient was not used")
	}
}
