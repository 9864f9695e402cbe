package emulator

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRequestsTakeTheirConnectionsSlot: behind a server that gives connections their slot, each
// request of a keep-alive connection is named through the slot, which the request before it gave
// back, and gets no context of its own; behind one that does not, each gets a context of its own.
func TestRequestsTakeTheirConnectionsSlot(t *testing.T) {
	for _, withSlot := range []bool{true, false} {
		e, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		type seen struct {
			own  bool // the record's request had a context other than the caller's
			info bool // the record was found from the context
		}
		got := make(chan seen, 1)
		var outer context.Context
		inner := e.observe(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got <- seen{own: r.Context() != outer, info: infoFrom(r.Context()) != nil}
		}))
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			outer = r.Context()
			inner.ServeHTTP(w, r)
		}))
		if withSlot {
			srv.Config.ConnContext = e.ConnContext
		}
		srv.Start()
		for i := range 3 {
			res, err := srv.Client().Get(srv.URL + "/_acmock/health")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if s := <-got; !s.info || s.own == withSlot {
				t.Errorf("with the slot %v, request %d: record found %v, context of its own %v", withSlot, i, s.info, s.own)
			}
		}
		srv.Close()
		e.Close()
	}
}
