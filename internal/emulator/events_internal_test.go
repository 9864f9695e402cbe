package emulator

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/internal/clock"
)

// Not parallel: it changes the stream's pacing, which the parallel tests only use after it ends.
func TestEventStreamCoalescesBurstsAndKeepsAlive(t *testing.T) {
	interval, keepAlive := eventInterval, eventKeepAlive
	eventInterval, eventKeepAlive = 300*time.Millisecond, 100*time.Millisecond
	defer func() { eventInterval, eventKeepAlive = interval, keepAlive }()

	e, err := New(Options{Clock: clock.NewVirtual(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/_acmock/events", nil)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	lines := bufio.NewScanner(res.Body)
	next := func() string {
		t.Helper()
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, "data: ") || strings.HasPrefix(l, ": ") {
				return l
			}
		}
		t.Fatalf("the stream ended: %v", lines.Err())
		return ""
	}
	if first := next(); !strings.HasPrefix(first, `data: {"control":0,"journal":0,"store":`) {
		t.Fatalf("first event %q", first)
	}
	v0, _ := e.store.Changes()
	for i := 0; i < 50; i++ { // a burst, within one interval
		_, _, _ = e.store.AddUsers("5ca1ab1e000000000000000000000001", []string{"u"})
	}
	var got string
	for got = next(); strings.HasPrefix(got, ": "); got = next() {
	} // keep-alives may come first
	want := `"store":` + strconv.FormatUint(v0+50, 10) + `}`
	if !strings.HasSuffix(got, want) {
		t.Fatalf("after a burst of 50 writes the next event is %q, want one event ending %s", got, want)
	}
	if ka := next(); ka != ": keep-alive" {
		t.Fatalf("an idle stream sent %q, want a keep-alive comment", ka)
	}
}
