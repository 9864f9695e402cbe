package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/generated/acctlserver"
)

// Pacing of GET /_acmock/events: at most one change event per eventInterval (a burst of changes,
// such as a load test's requests, is one event), and a comment line every eventKeepAlive so idle
// connections are not cut by proxies and dead ones are noticed.
var (
	eventInterval  = 100 * time.Millisecond
	eventKeepAlive = 15 * time.Second
)

// versions reads the three change counters the console follows, with the channels that close at
// the next change of each.
func (e *Emulator) versions() (acctl.ChangeEvent, [3]<-chan struct{}) {
	var ev acctl.ChangeEvent
	var chs [3]<-chan struct{}
	ev.Store, chs[0] = e.store.Changes()
	ev.Journal, chs[1] = e.journal.Changed()
	ev.Control, chs[2] = e.controlChanges.Changed()
	return ev, chs
}

// countControlChanges bumps the control counter once a state-changing control call has been
// answered (advancing the clock, loading a scenario, clearing the journal...), so watchers re-read
// what only the control API changes. It runs after the call, so a watcher woken by it reads the
// new state.
func (e *Emulator) countControlChanges(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			e.controlChanges.Bump()
		}
	})
}

func (c control) StreamEvents(ctx context.Context, _ acctlserver.StreamEventsRequestObject) (acctlserver.StreamEventsResponseObject, error) {
	return eventStream{ctx: ctx, e: c.e}, nil
}

// eventStream writes server-sent events until the client goes away or the server shuts down
// (requests' contexts end when shutdown starts).
type eventStream struct {
	ctx context.Context
	e   *Emulator
}

func (s eventStream) VisitStreamEventsResponse(w http.ResponseWriter) error {
	rc := http.NewResponseController(w)
	// The server's write timeout is for ordinary answers; a stream lives as long as its reader.
	if err := rc.SetWriteDeadline(time.Time{}); err != nil && err != http.ErrNotSupported {
		return fmt.Errorf("event stream: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // reverse proxies: do not hold events back
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil {
		return nil // the client went away
	}

	keepAlive := time.NewTicker(eventKeepAlive)
	defer keepAlive.Stop()
	var sent acctl.ChangeEvent
	first := true
	for {
		ev, chs := s.e.versions()
		if first || ev != sent {
			data, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("event stream: %w", err)
			}
			if _, err := fmt.Fprintf(w, "event: change\nid: %d.%d.%d\ndata: %s\n\n", ev.Store, ev.Journal, ev.Control, data); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
			sent, first = ev, false
			// Coalesce what follows into the next event.
			select {
			case <-time.After(eventInterval):
			case <-s.ctx.Done():
				return nil
			}
			continue
		}
		select {
		case <-chs[0]:
		case <-chs[1]:
		case <-chs[2]:
		case <-keepAlive.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		case <-s.ctx.Done():
			return nil
		}
	}
}
