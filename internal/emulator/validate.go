package emulator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/gorilla/mux"
)

// validateRequest checks the request against the spec before the handler sees it: its query and
// body first for what the generated handlers would read differently (see body.go), then its
// parameters and body against the operation (see check.go), on the same bytes the handler then
// decodes. It runs after the signature check.
func (e *Emulator) validateRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(w, r)
		if info.pathErr != nil {
			writeError(w, r, info.pathErr)
			return
		}
		if apiErr := checkRequest(r, info.op, info, info.body, false); apiErr != nil {
			writeError(w, r, apiErr)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// checkRequest makes the checks of body.go on a request's query and body, then checks its
// parameters and body against the spec.
func checkRequest(r *http.Request, op *operation, path pathParams, body []byte, acceptForm bool) *apiError {
	if apiErr := checkQuery(r, op); apiErr != nil {
		return apiErr
	}
	issue, apiErr := checkJSONBody(r, op, body, acceptForm)
	if apiErr != nil {
		return apiErr
	}
	return checkSpec(r, op, path, body, issue)
}

// ResponseCheck checks a response of the API before it is sent (see Options.CheckResponse). It
// is given the request, the path template of the operation that answered, with the request's
// decoded path parameters, and the response.
type ResponseCheck func(r *http.Request, template string, pathParams map[string]string, status int, header http.Header, body []byte) error

// validateResponse, when Options.CheckResponse is set, holds each response of the API until it
// has been checked, and answers a 500 naming the mismatch instead. It sits outside the signature
// check and the request validation, so that their errors are checked too.
func (e *Emulator) validateResponse(next http.Handler) http.Handler {
	check := e.opts.CheckResponse
	if check == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(w, r)
		buf := &bufferedResponse{header: http.Header{}}
		next.ServeHTTP(buf, r)
		if buf.status == 0 {
			buf.status = http.StatusOK
		}
		params := map[string]string{}
		for _, name := range info.op.path.names {
			params[name], _ = info.pathParam(name)
		}
		if err := check(r, info.op.template, params, buf.status, buf.header, buf.body.Bytes()); err != nil {
			e.internalError(w, r, fmt.Errorf("response %d of %s breaks the spec: %w", buf.status, info.op.id, err))
			return
		}
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
	})
}

// bufferedResponse holds a response until it has been validated.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// validateControl decodes the control API's path parameters and checks the request against
// api/control.yaml, so its limits (min_count, status, ...) hold like the API's. A scenario's
// YAML body is left to the scenario loader, which says what is wrong with it line by line.
func (e *Emulator) validateControl(op *operation, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoOf(w, r)
		info.op = op // the journal names the registration links phones open
		raw := info.rawParams(op)
		vars := make(varsParams, len(raw))
		for i, name := range op.path.names {
			v, err := url.PathUnescape(raw[i])
			if err != nil || !utf8.ValidString(v) {
				writeError(w, r, pathParamError(name, raw[i], err, ""))
				return
			}
			vars[name] = v
		}
		r = mux.SetURLVars(r, map[string]string(vars))
		if apiErr := checkRequest(r, op, vars, info.body, true); apiErr != nil {
			writeError(w, r, apiErr)
			return
		}
		next.ServeHTTP(w, r)
	})
}
