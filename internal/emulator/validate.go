package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gorilla/mux"

	"github.com/acmock/acmock/generated/acapi"
)

// scope says whose credentials sign an operation.
type scope int

const (
	scopeApplication scope = iota // management and authenticate: the application's
	scopeSession                  // status and logout: the session's own
)

// operation is one operation of the spec, found by the route gorilla/mux matched.
type operation struct {
	id       string
	method   string
	template string
	item     *openapi3.PathItem
	op       *openapi3.Operation
	scope    scope
	path     pathTemplate
	// route is what kin-openapi needs to validate a request of the operation, built once: the
	// router's lookup is skipped, as gorilla/mux has already found the operation.
	route *routers.Route
	// lengths, when not nil, is everything the spec checks on a request of the operation (see
	// compileLengthChecks); kin-openapi is then asked only about a request that fails them.
	lengths []lengthCheck
}

func (o *operation) matches(escapedPath string) bool { return o.path.match(escapedPath, nil) }

// loadOperations decodes an embedded spec (the document this binary was generated from) and
// indexes its operations. Security requirements are dropped from this copy: signatures are checked
// by the HMAC layer, which knows the protocol, and the control token by its own middleware;
// kin-openapi would only see a header's presence.
func loadOperations(specJSON func() ([]byte, error)) (*openapi3.T, map[string]*operation, error) {
	spec, err := decodeSpec(specJSON)
	if err != nil {
		return nil, nil, fmt.Errorf("load embedded spec: %w", err)
	}
	spec.Servers = nil
	spec.Security = nil
	ops := map[string]*operation{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			sc := scopeApplication
			if op.Security != nil && len(*op.Security) > 0 && (*op.Security)[0]["sessionHmac"] != nil {
				sc = scopeSession
			}
			op.Security = &openapi3.SecurityRequirements{}
			tmpl, err := compileTemplate(path)
			if err != nil {
				return nil, nil, fmt.Errorf("load embedded spec: %w", err)
			}
			ops[method+" "+path] = &operation{
				id: lowerFirst(op.OperationID), method: method, template: path,
				item: item, op: op, scope: sc, path: tmpl,
				route: &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op},
			}
			ops[method+" "+path].lengths = compileLengthChecks(item, op)
		}
	}
	return spec, ops, nil
}

// decodeSpec reads the embedded spec, which the generator stores as JSON, with encoding/json, and
// resolves its references. kin-openapi's loader would parse the same bytes as YAML first, which
// takes most of the start-up time.
func decodeSpec(specJSON func() ([]byte, error)) (*openapi3.T, error) {
	data, err := specJSON()
	if err != nil {
		return nil, err
	}
	var spec openapi3.T
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, err
	}
	if err := openapi3.NewLoader().ResolveRefsIn(&spec, nil); err != nil {
		return nil, err
	}
	return &spec, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

var validationOptions = &openapi3filter.Options{
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// validateRequest checks the request against the spec before the handler sees it: its query and
// body first for what kin-openapi would miss (see body.go), then everything with kin-openapi, on
// the same bytes the handler then decodes. It runs after the signature check.
func (e *Emulator) validateRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		if info.pathErr != nil {
			writeError(w, r, info.pathErr)
			return
		}
		if apiErr := checkRequest(r, info.op, info.body, false); apiErr != nil {
			writeError(w, r, apiErr)
			return
		}
		if !info.op.passesLengthChecks(info) {
			if err := openapi3filter.ValidateRequest(r.Context(), e.validationInput(r, info)); err != nil {
				writeError(w, r, requestValidationError(err))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// checkRequest makes the checks of body.go on a request's query and body.
func checkRequest(r *http.Request, op *operation, body []byte, acceptForm bool) *apiError {
	if apiErr := checkQuery(r, op); apiErr != nil {
		return apiErr
	}
	return checkJSONBody(r, op, body, acceptForm)
}

// validationInput is what kin-openapi needs to check a request of the API, or its response.
func (e *Emulator) validationInput(r *http.Request, info *requestInfo) *openapi3filter.RequestValidationInput {
	params := map[string]string{}
	for name := range mux.Vars(r) {
		switch name {
		case "application_id":
			params[name] = info.app
		case "user_id":
			params[name] = info.user
		case "session_token":
			params[name] = info.session
		}
	}
	return &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route:      info.op.route,
		Options:    validationOptions,
	}
}

// validateResponse, when Options.ValidateResponses is set, holds each response of the API until it
// has been checked against the spec, and answers a 500 naming the mismatch instead. It sits outside
// the signature check and the request validation, so that their errors are checked too.
func (e *Emulator) validateResponse(next http.Handler) http.Handler {
	if !e.opts.ValidateResponses {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		buf := &bufferedResponse{header: http.Header{}}
		next.ServeHTTP(buf, r)
		if buf.status == 0 {
			buf.status = http.StatusOK
		}
		err := openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: e.validationInput(r, info),
			Status:                 buf.status,
			Header:                 buf.header,
			Body:                   io.NopCloser(bytes.NewReader(buf.body.Bytes())),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true},
		})
		if err != nil {
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

// requestValidationError turns kin-openapi's error into a 400 naming the field and the problem.
func requestValidationError(err error) *apiError {
	var reqErr *openapi3filter.RequestError
	if !errors.As(err, &reqErr) {
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "", "%v", err)
	}
	reason := reqErr.Reason
	var schemaErr *openapi3.SchemaError
	if errors.As(reqErr.Err, &schemaErr) {
		reason = schemaErr.Reason
	} else if reqErr.Err != nil {
		if reason != "" {
			reason += ": "
		}
		reason += reqErr.Err.Error()
	}
	switch {
	case reqErr.Parameter != nil:
		p := reqErr.Parameter
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, p.Name, "%s parameter %s: %s", p.In, p.Name, reason)
	case reqErr.RequestBody != nil:
		field := "body"
		if schemaErr != nil {
			if ptr := schemaErr.JSONPointer(); len(ptr) > 0 {
				field = strings.Join(ptr, ".")
			} else if m := missingProperty.FindStringSubmatch(schemaErr.Reason); m != nil {
				field = m[1]
			}
		}
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, field, "request body: %s", reason)
	default:
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "", "%s", reqErr.Error())
	}
}

var missingProperty = regexp.MustCompile(`property "([^"]+)" is missing`)

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
// api/control.yaml, so its limits (min_count, status, ...) hold like the API's.
func (e *Emulator) validateControl(op *operation, next http.Handler) http.Handler {
	opts := validationOptions
	if op.id == "putScenario" || op.id == "validateScenario" { // YAML, checked by the scenario loader
		opts = &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: true}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		if info != nil {
			info.op = op // the journal names the registration links phones open
		}
		vars := mux.Vars(r)
		for name, raw := range vars {
			v, err := url.PathUnescape(raw)
			if err != nil || !utf8.ValidString(v) {
				writeError(w, r, pathParamError(name, raw, err, ""))
				return
			}
			vars[name] = v
		}
		var body []byte
		if info != nil {
			body = info.body
		}
		if apiErr := checkRequest(r, op, body, true); apiErr != nil {
			writeError(w, r, apiErr)
			return
		}
		input := &openapi3filter.RequestValidationInput{Request: r, PathParams: vars, Route: op.route, Options: opts}
		if err := openapi3filter.ValidateRequest(r.Context(), input); err != nil {
			writeError(w, r, requestValidationError(err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// lengthCheck is a path parameter whose schema asks only for a string of some length.
type lengthCheck struct {
	name     string
	min, max int // max < 0: no maximum
}

// compileLengthChecks prepares, once, the validation of an operation whose request the spec
// constrains only by the length of its path parameters (a status poll, a logout, a device check:
// no body, no query, headers or cookies, string schemas with at most minLength and maxLength).
// For those, kin-openapi's ValidateRequest decodes each parameter and walks its schema to count
// its characters; the compiled check counts them directly. It returns nil for any other
// operation, which kin-openapi validates in full.
func compileLengthChecks(item *openapi3.PathItem, op *openapi3.Operation) []lengthCheck {
	if op.RequestBody != nil {
		return nil
	}
	var checks []lengthCheck
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, ref := range params {
			p := ref.Value
			if p == nil || p.In != openapi3.ParameterInPath || p.Content != nil || (p.Style != "" && p.Style != openapi3.SerializationSimple) ||
				p.Schema == nil || p.Schema.Value == nil {
				return nil
			}
			c, ok := stringLengths(p.Schema.Value)
			if !ok {
				return nil
			}
			c.name = p.Name
			checks = append(checks, c)
		}
	}
	if checks == nil {
		return nil
	}
	return checks
}

// stringLengths reads a schema that says "a string" and at most how short or long: any other
// keyword (pattern, enum, format, composition, nullable...) makes it one for kin-openapi.
func stringLengths(s *openapi3.Schema) (lengthCheck, bool) {
	raw, err := json.Marshal(s)
	if err != nil {
		return lengthCheck{}, false
	}
	var keywords map[string]any
	if err := json.Unmarshal(raw, &keywords); err != nil {
		return lengthCheck{}, false
	}
	for k := range keywords {
		switch k {
		case "type", "minLength", "maxLength", "description", "example", "title":
		default:
			return lengthCheck{}, false
		}
	}
	if s.Type == nil || !s.Type.Is(openapi3.TypeString) {
		return lengthCheck{}, false
	}
	c := lengthCheck{min: int(s.MinLength), max: -1}
	if s.MaxLength != nil {
		c.max = int(*s.MaxLength)
	}
	return c, true
}

// passesLengthChecks reports whether the operation's compiled checks hold for the request's
// decoded path parameters; false also when the operation has none, or a value is not known.
func (o *operation) passesLengthChecks(info *requestInfo) bool {
	if o.lengths == nil {
		return false
	}
	for _, c := range o.lengths {
		var v string
		switch c.name {
		case "application_id":
			v = info.app
		case "user_id":
			v = info.user
		case "session_token":
			v = info.session
		default:
			return false
		}
		// kin-openapi counts characters (runes), as JSON Schema does.
		n := utf8.RuneCountInString(v)
		if n < c.min || (c.max >= 0 && n > c.max) {
			return false
		}
	}
	return true
}
