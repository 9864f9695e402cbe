package emulator

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/scenario"
)

// faultState counts the calls each fault of the loaded scenario matched and applied, and draws
// its probabilities from the scenario's seed. A reset starts it afresh, so a run is reproducible.
type faultState struct {
	mu      sync.Mutex
	faults  []scenario.Fault
	rng     *rand.Rand
	calls   map[faultCallKey]int
	order   []faultCallKey // the keys of calls, oldest first from next, for forgetting
	next    int
	applied []int
	// cancel is closed by stop (a reset or Close): delayed responses waiting on it give up.
	cancel   chan struct{}
	stopOnce sync.Once
}

// stop cancels the delayed responses of this state; calling it again does nothing.
func (s *faultState) stop() { s.stopOnce.Do(func() { close(s.cancel) }) }

type faultCallKey struct {
	fault int
	scope string
}

func newFaultState(sc *scenario.Scenario) *faultState {
	return &faultState{
		faults:  sc.Faults,
		rng:     rand.New(rand.NewPCG(sc.Seed, 0x6163_6d6f_636b)),
		calls:   map[faultCallKey]int{},
		applied: make([]int, len(sc.Faults)),
		cancel:  make(chan struct{}),
	}
}

// pick returns the fault that applies to this call, if any. Every fault that matches counts the
// call, so "the 3rd poll" means the 3rd matching poll whether or not other faults fired. scope is
// the call's counting scope (see callScope), "" when there is none: a fault that picks the Nth
// call then does not apply.
func (s *faultState) pick(info *requestInfo, scope string) *scenario.Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var chosen *scenario.Fault
	for i := range s.faults {
		f := &s.faults[i]
		if !f.Matches(info.op.id, info.app, info.user) {
			continue
		}
		if f.Call != 0 && (scope == "" || s.count(faultCallKey{fault: i, scope: scope}) != f.Call) || chosen != nil || (f.Times != 0 && s.applied[i] >= f.Times) {
			continue
		}
		if f.Probability != 0 && s.rng.Float64() >= f.Probability {
			continue
		}
		s.applied[i]++
		chosen = f
	}
	return chosen
}

// maxFaultScopes bounds the call counters kept for faults that pick the Nth call: one per fault and
// session, user or application. Past it the oldest counter is forgotten, so a fault could fire again
// in a scope not seen for that many others. A counter is made only for a session, user or
// application that exists, and its key is a copy of at most an application ID and a user ID (256
// bytes), so the counters take at most a few tens of megabytes.
const maxFaultScopes = 100_000

// callScope names what the Nth call of a fault counts in: the session for session calls, the user
// for user calls, the application otherwise. It is "" when that session, user or application does
// not exist: requests that name unknown ones (any number of them, each with what the client sent)
// make no counters. The key is a new string, not part of the request line.
func (e *Emulator) callScope(info *requestInfo) string {
	switch {
	case info.op.scope == scopeSession:
		if _, err := e.store.SessionKeys(info.session); err != nil {
			return ""
		}
		return "session " + info.session
	case info.user != "":
		if _, err := e.store.User(info.app, info.user); err != nil {
			return ""
		}
		return "user " + info.app + "/" + info.user
	default:
		if _, err := e.store.Application(info.app); err != nil {
			return ""
		}
		return "application " + info.app
	}
}

// countsCalls reports whether a fault that matches the call picks the Nth call, so that the
// call's scope must be looked up.
func (s *faultState) countsCalls(info *requestInfo) bool {
	for i := range s.faults {
		if f := &s.faults[i]; f.Call != 0 && f.Matches(info.op.id, info.app, info.user) {
			return true
		}
	}
	return false
}

// count counts a call in its scope and returns the count. The caller holds s.mu.
func (s *faultState) count(key faultCallKey) int {
	n, ok := s.calls[key]
	if !ok {
		if len(s.order) < maxFaultScopes {
			s.order = append(s.order, key)
		} else {
			delete(s.calls, s.order[s.next])
			s.order[s.next] = key
			s.next = (s.next + 1) % len(s.order)
		}
	}
	s.calls[key] = n + 1
	return n + 1
}

// injectFaults applies the scenario's faults before the call is validated or served, as a network
// or an overloaded service would.
func (e *Emulator) injectFaults(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.RLock()
		fs := e.faults
		e.mu.RUnlock()
		if len(fs.faults) == 0 {
			next.ServeHTTP(w, r)
			return
		}
		info := infoOf(w, r)
		scope := ""
		if fs.countsCalls(info) {
			scope = e.callScope(info)
		}
		f := fs.pick(info, scope)
		if f == nil {
			next.ServeHTTP(w, r)
			return
		}
		info.fault = f.Describe()
		if f.Latency > 0 {
			if info.conn != nil {
				info.conn.watchClient() // a client that goes away ends the wait
			}
			e.delayed.Add(1)
			defer e.delayed.Add(-1)
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-fs.cancel:
				t.Stop()
				info.fault += " (cancelled by reset)"
				panic(http.ErrAbortHandler)
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		info.faultAnswered = f.Drop || f.Status != 0 || f.Malformed
		switch {
		case f.Drop:
			// The headers go out, then the connection closes mid-body. Closing before any byte
			// would be invisible to Go clients, which silently resend an idempotent request when
			// a reused connection closes without an answer.
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "1024")
			w.WriteHeader(http.StatusOK)
			_ = http.NewResponseController(w).Flush()
			panic(http.ErrAbortHandler)
		case f.Status != 0:
			for k, v := range f.Headers {
				w.Header().Set(k, v)
			}
			if f.Body != "" {
				if w.Header().Get("Content-Type") == "" {
					w.Header().Set("Content-Type", "application/json")
				}
				w.WriteHeader(f.Status)
				_, _ = w.Write([]byte(f.Body))
				return
			}
			code := acapi.ErrorCodeInjectedFault
			if f.Status == http.StatusTooManyRequests {
				code = acapi.ErrorCodeRateLimited
			}
			writeError(w, r, errorf(f.Status, code, "", "%s (injected by scenario %s, fault %q)",
				http.StatusText(f.Status), e.Scenario().Name, f.Describe()))
		case f.Malformed:
			info.spoiled = true
			buf := &bufferedResponse{header: http.Header{}}
			next.ServeHTTP(buf, r)
			for k, v := range buf.header {
				w.Header()[k] = v
			}
			if buf.status == 0 {
				buf.status = http.StatusOK
			}
			body := bytes.TrimSpace(buf.body.Bytes())
			w.Header().Del("Content-Length")
			w.WriteHeader(buf.status)
			_, _ = w.Write(body[:len(body)/2])
		default:
			next.ServeHTTP(w, r)
		}
	})
}
