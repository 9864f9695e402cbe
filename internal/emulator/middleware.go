package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/reqlog"
)

// requestInfo collects what the layers of the handler learn about a request, for the request log
// and the journal. Layers fill it in as they go; observe reports it once the response is written.
type requestInfo struct {
	op      *operation
	path    string         // the escaped path, worked out once
	host    string         // the Host the client used, for URLs handed back
	header  http.Header    // the request's, for what only a few operations read (Accept)
	conn    *rejectingConn // the connection, when it holds net/http's background read (see backgroundRead)
	app     string
	user    string
	session string
	// secret is the secret of the application or the session the path names, found when the
	// route's credentials were looked for (identify finds a session's with its application and
	// user): the signature check uses it rather than looking them up again.
	secret string
	// status is the status of that session, read with its secret: a status poll that nothing
	// delayed answers it (see pollStatus).
	status  acapi.SessionStatus
	verdict string // "ok", "off", a rejection code, or "" when the signature was not checked
	errCode string
	message string
	fault   string
	body    []byte // the whole request body, read by limitBody
	// bodyReader, limited and cut are limitBody's, kept here to save their allocations.
	bodyReader bodyReader
	limited    io.LimitedReader
	cut        sync.WaitGroup
	// spoiled is set when a fault cuts the answer short: the client does not see what it says.
	spoiled bool
	// faultAnswered is set when a fault writes the answer (or spoils the handler's) rather than
	// only delaying it.
	faultAnswered bool
	// ownRequest is set when observe handed on a copy of the caller's request (there was no
	// connection slot to take), which later layers may change.
	ownRequest bool
	// at, when set, is the clock time the answer reflects, for a poll that moved the clock.
	at time.Time
	// stringToSign is what a signature_mismatch expected.
	stringToSign string

	// authHeaders names the timestamp and version headers the request carried, by family.
	authHeaders []string

	// pathErr is the 400 for a path parameter that does not decode, answered once the signature
	// has been checked.
	pathErr *apiError

	// raw holds the raw (escaped) values of the matched route's path parameters, in the order of
	// its template (see pathTemplate.matcher).
	raw [maxPathParams]string

	// rec is the response writer observe hands on, and match what the router found: kept here to
	// save their allocations.
	rec   statusRecorder
	match mux.RouteMatch
}

type infoKey struct{}

// infoFrom returns the requestInfo of the request ctx belongs to, or nil outside a request.
func infoFrom(ctx context.Context) *requestInfo {
	switch v := ctx.Value(infoKey{}).(type) {
	case *requestInfo:
		return v
	case *connSlot:
		return v.info.Load()
	}
	return nil
}

// infoOf is infoFrom(r.Context()) for a layer of the handler chain, which finds it without
// walking the context while w is the statusRecorder observe handed on (about 20 ns a lookup, and a
// request makes about ten).
func infoOf(w http.ResponseWriter, r *http.Request) *requestInfo {
	if rec, ok := w.(*statusRecorder); ok {
		return rec.info
	}
	return infoFrom(r.Context())
}

// connSlot holds the requestInfo of the request a connection is serving. An HTTP/1.1 connection
// serves one request at a time, so a slot in its context, which net/http makes once per connection,
// names the request without a context of its own: observe would otherwise copy each request
// (Request.WithContext, about 250 bytes) and add a context value, two allocations per request.
type connSlot struct {
	info atomic.Pointer[requestInfo]
	conn *rejectingConn // the connection, when it is one of Listener's and holds background reads
}

// ConnContext gives each connection a slot for the request it is serving; an http.Server serving
// the emulator sets it as its ConnContext. Without it (or when a handler wrapping the emulator
// serves two requests at once on one connection), each request gets a context of its own.
func (e *Emulator) ConnContext(ctx context.Context, c net.Conn) context.Context {
	rc, _ := c.(*rejectingConn)
	if rc != nil && e.opts.ServerHandler {
		rc.holdReads()
	} else {
		rc = nil
	}
	return context.WithValue(ctx, infoKey{}, &connSlot{conn: rc})
}

// statusRecorder remembers the status a handler wrote, and for an error answer the code and
// message its body names, when no layer recorded them (the handlers' typed error answers).
type statusRecorder struct {
	http.ResponseWriter
	status  int
	info    *requestInfo
	wrote   bool // the body has started
	written int  // bytes of body written
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	if !s.wrote {
		s.wrote = true
		if s.status >= 400 {
			s.info.noteErrorBody(b)
		}
	}
	n, err := s.ResponseWriter.Write(b)
	s.written += n
	return n, err
}

// answerEarly sends the answer now, rather than when the handler returns, if it is whole: its
// Content-Length is set and that many bytes were written (net/http would otherwise frame it
// chunked), and no fault wrote or spoiled it. The status, headers and body are the same (net/http
// writes the headers a handler set in sorted order, so Content-Length now comes before
// Content-Type); they only leave before the request's log line is made and before net/http's own
// work at the end of a request (ending its background read of the connection), so the client,
// which waits for them, waits less. Options.ServerHandler turns it on.
func (s *statusRecorder) answerEarly() {
	if !s.wrote || s.info.faultAnswered {
		return
	}
	f, ok := s.ResponseWriter.(http.Flusher)
	if !ok {
		return
	}
	if cl := s.ResponseWriter.Header()["Content-Length"]; len(cl) != 1 {
		return
	} else if n, err := strconv.Atoi(cl[0]); err != nil || n != s.written {
		return
	}
	f.Flush()
}

// noteErrorBody records the code and message of an error answer's JSON body (the API's and the
// control API's errors both carry them), for the journal and the request log, unless a layer
// recorded the error already or a fault wrote the answer.
func (info *requestInfo) noteErrorBody(body []byte) {
	if info.errCode != "" || info.faultAnswered {
		return
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) == nil && e.Code != "" {
		info.errCode, info.message = e.Code, e.Message
	}
}

// Unwrap lets http.ResponseController reach the connection (to drop it for a fault).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// observe is the outermost layer: it recovers from panics, then logs the request and adds it to the
// journal.
func (e *Emulator) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now() // latency is real time; the journal's timestamp is the emulator's clock
		at := start
		if _, isReal := e.clock.(clock.Real); !isReal {
			at = e.clock.Now()
		}
		info := infoPool.Get().(*requestInfo)
		info.path, info.host, info.header = r.URL.EscapedPath(), r.Host, r.Header
		slot, _ := r.Context().Value(infoKey{}).(*connSlot)
		if slot != nil && slot.conn != nil {
			// The connection holds net/http's background read off the socket (see
			// backgroundRead): an API call answers at once, unless a scenario's latency holds
			// it (which watches the client then); any other request may wait on the client.
			if strings.HasPrefix(info.path, "/_acmock/") {
				slot.conn.watchClient()
			} else {
				info.conn = slot.conn
			}
		}
		if slot == nil || !slot.info.CompareAndSwap(nil, info) {
			if info.conn != nil {
				info.conn.watchClient() // another request has the connection's slot
				info.conn = nil
			}
			slot = nil
			r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
			info.ownRequest = true
		}
		rec := &info.rec
		rec.ResponseWriter, rec.info = w, info
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					if info.fault == "" {
						info.fault = "dropped connection"
					}
					e.record(r, info, 0, start, at, false)
					if slot != nil {
						slot.info.Store(nil) // the connection is dropped; its slot is not reused
					}
					panic(p)
				}
				if rec.status == 0 {
					e.internalError(rec, r, fmt.Errorf("panic: %v", p))
				} else {
					e.log.Error("panic after the response started", "err", p)
				}
			}
			e.record(r, info, rec.status, start, at, e.opts.ServerHandler)
			if slot != nil {
				slot.info.Store(nil)
			}
			// The request is over and recorded: nothing refers to its info any more (the journal
			// and the log copy what they keep), so the next request takes it, cleared, so that the
			// pool holds no request's body or strings.
			*info = requestInfo{}
			infoPool.Put(info)
		}()
		next.ServeHTTP(rec, r)
	})
}

// infoPool holds the requestInfo of requests that are over: one is about 500 bytes, and every
// request needs one.
var infoPool = sync.Pool{New: func() any { return new(requestInfo) }}

// record adds the request to the journal, then, with early (Options.ServerHandler), sends its
// answer (see answerEarly), then logs it: a client that reads the journal once answered
// finds the request in it, and the log line, which no client waits for, is made after the answer
// has gone.
func (e *Emulator) record(r *http.Request, info *requestInfo, status int, start, at time.Time, early bool) {
	// One read of the monotonic clock (time.Now reads the wall clock too): the line's time is the
	// start's wall time plus the latency.
	latency := time.Since(start)
	end := start.Add(latency)
	if !info.at.IsZero() {
		at = info.at
	}
	opID := ""
	if info.op != nil {
		opID = info.op.id
	}
	// The journal is for what clients of the Activeconnect API (and phones) did; control calls
	// would drown it, and a wait on the journal would count itself.
	path := info.path
	if !strings.HasPrefix(path, "/_acmock/") || strings.HasPrefix(path, "/_acmock/register/") {
		e.journal.Add(journal.Entry{
			Time: at, Method: r.Method, Path: path, Operation: opID,
			Application: info.app, User: info.user, Session: info.session, Status: status,
			HMAC: info.verdict, Error: info.errCode, Fault: info.fault, Latency: latency,
			Message: info.message, StringToSign: info.stringToSign, AuthHeaders: info.authHeaders,
		})
	}
	if early {
		info.rec.answerEarly()
	}
	// A 5xx is a failure unless the scenario injected it on purpose: that is the emulator working
	// as asked, and is logged with the fault's name like any other request.
	level := slog.LevelInfo
	if status >= 500 && info.fault == "" {
		level = slog.LevelError
	}
	// What the line quotes of the request is cut as the journal cuts it (journal.MaxText bytes
	// each), so a 64 KiB path does not make a 64 KiB line.
	e.logRequest(r.Context(), &reqlog.Line{
		Time: end, Level: level, Method: logText(r.Method), Path: logText(path), Operation: opID,
		Application: logText(info.app), User: logText(info.user), Status: status, Duration: latency,
		HMAC: info.verdict, AuthHeaders: info.authHeaders, Error: info.errCode, Message: info.message,
		Fault: info.fault,
	})
}

// logText bounds what a log line quotes of the request, as the journal bounds its entries.
func logText(s string) string { return clip.String(s, journal.MaxText) }

// limitBody reads the body up front, refusing one larger than the limit with a 413, so that later
// layers (validation, handlers) see a complete body or none. What the body holds is checked only
// after the signature: a caller that is not authenticated learns nothing about its body.
func (e *Emulator) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := e.opts.MaxBodyBytes
		tooLarge := func() {
			w.Header().Set("Connection", "close")
			writeError(w, r, errorf(http.StatusRequestEntityTooLarge, acapi.ErrorCodeBodyTooLarge, "",
				"the request body is larger than %d bytes, the limit set by acmock's --max-body-bytes (ACMOCK_MAX_BODY_BYTES)", limit))
		}
		if r.ContentLength > limit {
			tooLarge()
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			info := infoOf(w, r)
			body, err := readBody(w, r, info, limit)
			if err != nil && errors.Is(context.Cause(r.Context()), ErrShuttingDown) {
				w.Header().Set("Connection", "close")
				writeError(w, r, errorf(http.StatusServiceUnavailable, acapi.ErrorCodeShuttingDown, "",
					"the emulator is shutting down and the request's body was still arriving; nothing was done"))
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				w.Header().Set("Connection", "close")
				writeError(w, r, errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "",
					"the request body stopped arriving: it was not complete within the server's read timeout; nothing was done"))
				return
			}
			if err != nil {
				writeError(w, r, errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "",
					"reading the request body failed: %v", err))
				return
			}
			if int64(len(body)) > limit {
				tooLarge()
				return
			}
			info.body = body
			info.bodyReader.Reset(body)
			// The later layers read the body again from a request of their own: the caller's is
			// left as net/http (or a handler in front of the emulator) gave it.
			if !info.ownRequest {
				r = r.WithContext(r.Context())
			}
			r.Body = &info.bodyReader
		}
		next.ServeHTTP(w, r)
	})
}

// readBody reads up to limit+1 bytes of the body. When the request's context ends first (a
// shutdown cancels every request's), the read is cut at once rather than left to the server's
// read timeout: a client sending its body a byte a second would otherwise hold a shutdown up.
func readBody(w http.ResponseWriter, r *http.Request, info *requestInfo, limit int64) ([]byte, error) {
	cut := &info.cut
	cut.Add(1)
	stop := context.AfterFunc(r.Context(), func() {
		defer cut.Done()
		_ = http.NewResponseController(w).SetReadDeadline(time.Now())
	})
	defer func() {
		if stop() {
			cut.Done() // the cut will not run
		}
		cut.Wait() // the cut started: let it end before the request's record can be reused
	}()
	info.limited = io.LimitedReader{R: r.Body, N: limit + 1}
	return io.ReadAll(&info.limited)
}

// bodyReader gives the handlers the body limitBody read.
type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// identify decodes the path parameters once, from the raw path (the router keeps it encoded
// so that %2F stays inside a segment): the user ID the way the official client encoded it
// (quote_plus: "+" is a space, "%2B" a plus), the others as plain path segments. The generated
// code then binds the decoded values as they are.
//
// It also finds the spec operation of the matched route, and for status and logout the
// application and user the session belongs to, so that faults, logs and the journal can name them.
func (e *Emulator) identify(op *operation, next http.Handler) http.Handler {
	names := op.path.names
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(w, r)
		info.op = op
		raw := info.rawParams(op)
		var decoded [maxPathParams]string
		for i, name := range names {
			// The user ID decodes the way the official client encoded it; the others are plain
			// path segments.
			decode, how, dst := url.PathUnescape, "", (*string)(nil)
			switch name {
			case "application_id":
				dst = &info.app
			case "session_token":
				dst = &info.session
			case "user_id":
				decode, how, dst = url.QueryUnescape, " (encode it like quote_plus)", &info.user
			default: // the API has no other path parameter
				decoded[i] = raw[i]
				continue
			}
			v, err := decode(raw[i])
			if err != nil || !utf8.ValidString(v) {
				if apiErr := badPathParam(info, name, raw[i], err, how); apiErr != nil {
					writeError(w, r, apiErr)
					return
				}
				v = raw[i] // the generated code binds it as it is; validateRequest answers pathErr
			} else {
				*dst = v
			}
			decoded[i] = v
		}
		if info.session != "" {
			if k, err := e.store.SessionKeys(info.session); err == nil {
				info.app, info.user, info.secret, info.status = k.AppID, k.UserID, k.Secret, k.Status
			}
		}
		if !op.direct {
			r = withVars(r, names, decoded[:len(names)])
		}
		next.ServeHTTP(w, r)
	})
}
