package contracttests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/acmock/acmock/generated/acapispec"
	"github.com/acmock/acmock/generated/acctlspec"
)

// ControlPrefix is the path prefix of acmock's control API, which is checked against
// api/control.yaml instead of api/openapi.yaml.
const ControlPrefix = "/_acmock/"

// Violation is one way an exchange broke the spec.
type Violation struct {
	// Spec is the document the exchange was checked against: "openapi.yaml" or "control.yaml".
	Spec string
	// Operation is the operationId (lower camel case, as in the spec file), or "" when no
	// operation matches the request.
	Operation string
	// Method and Path (escaped, as sent) of the request.
	Method, Path string
	// Status is the response's status code, or 0 when the request broke the spec.
	Status int
	// Message says what is wrong, naming the parameter, header or body field at fault.
	Message string
}

// Error reads "hasRegisteredMobileDevice (GET /management/...): response 200 breaks
// openapi.yaml: body field device_registered: value must be a boolean".
func (v Violation) Error() string {
	op := v.Operation
	if op == "" {
		op = "no operation"
	}
	what := "request"
	if v.Status != 0 {
		what = fmt.Sprintf("response %d", v.Status)
	}
	return fmt.Sprintf("%s (%s %s): %s breaks %s: %s", op, v.Method, v.Path, what, v.Spec, v.Message)
}

// Validator is an http.RoundTripper that checks every request and every response against the
// spec before passing them on: requests to the Activeconnect API against api/openapi.yaml (the
// copy embedded in generated/acapispec), requests under /_acmock/ against api/control.yaml. Response
// status codes are checked too: a status the operation does not document is a violation.
//
// A Validator never changes an exchange and never fails one: it reports each violation to Report
// and lets the exchange go on, so that the test sees both the violation and what followed.
type Validator struct {
	// Base sends the requests (http.DefaultTransport when nil).
	Base http.RoundTripper
	// Report receives every violation that Excuse does not excuse. Tests pass t.Error.
	Report func(Violation)
	// Excuse, when set, may excuse a violation that the test provoked on purpose, such as a
	// scenario's malformed answer.
	Excuse func(Violation) bool
	// Observe, when set, is told the operation and status of every response that matched an
	// operation of api/openapi.yaml, so a suite can tell which responses it has seen.
	Observe func(operation string, status int)
}

var _ http.RoundTripper = (*Validator)(nil)

type breaksSpecKey struct{}

// BreaksSpec marks a request that a test sends against the spec on purpose (a missing body
// field, an unknown method) and says why. The Validator then reports the request if it does
// validate, because the test would not be testing what it says, and still checks the response.
func BreaksSpec(ctx context.Context, why string) context.Context {
	return context.WithValue(ctx, breaksSpecKey{}, why)
}

// RoundTrip implements http.RoundTripper.
func (v *Validator) RoundTrip(req *http.Request) (*http.Response, error) {
	base := v.Base
	if base == nil {
		base = http.DefaultTransport
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("contracttests: read request body: %w", err)
		}
	}
	ex := v.checkRequest(req, body)

	out := req.Clone(req.Context())
	setBody(out, body, req.Body != nil && req.Body != http.NoBody)
	res, err := base.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	data, readErr := io.ReadAll(res.Body)
	res.Body.Close()
	if readErr != nil {
		// The connection broke mid-answer (a scenario's dropped connection): nothing to check,
		// and the caller must see the same failure.
		res.Body = &brokenBody{r: bytes.NewReader(data), err: readErr}
		return res, nil
	}
	v.checkResponse(ex, res, data)
	res.Body = io.NopCloser(bytes.NewReader(data))
	return res, nil
}

func setBody(r *http.Request, body []byte, had bool) {
	if !had {
		r.Body = http.NoBody
		r.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
}

// brokenBody replays what was read of a body, then fails like the original read did.
type brokenBody struct {
	r   *bytes.Reader
	err error
}

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.r.Len() > 0 {
		return b.r.Read(p)
	}
	return 0, b.err
}

func (b *brokenBody) Close() error { return nil }

// exchange is what checking the request learnt, for checking the response.
type exchange struct {
	spec    *specIndex
	method  string
	path    string
	input   *openapi3filter.RequestValidationInput // nil when no operation matches
	opID    string
	noRoute bool // no operation has this path: the response is checked against Error
}

func (v *Validator) report(vi Violation) {
	if v.Excuse != nil && v.Excuse(vi) {
		return
	}
	if v.Report != nil {
		v.Report(vi)
	}
}

func (v *Validator) checkRequest(req *http.Request, body []byte) *exchange {
	specs, err := loadSpecs()
	if err != nil {
		v.report(Violation{Spec: "openapi.yaml", Method: req.Method, Path: req.URL.EscapedPath(), Message: err.Error()})
		return nil
	}
	spec := specs.api
	if strings.HasPrefix(req.URL.EscapedPath(), ControlPrefix) {
		spec = specs.ctl
	}
	why, meantToBreak := req.Context().Value(breaksSpecKey{}).(string)
	ex := &exchange{spec: spec, method: req.Method, path: req.URL.EscapedPath()}
	violation := func(op, msg string) Violation {
		return Violation{Spec: spec.name, Operation: op, Method: req.Method, Path: ex.path, Message: msg}
	}

	op, params, allowed, err := spec.find(req)
	switch {
	case err != nil:
		if !meantToBreak {
			v.report(violation("", err.Error()))
		}
		// The path has operations, but not with this method: the answer must be the 405 that
		// each of them documents.
		if len(allowed) > 0 {
			ex.opID = allowed[0].id
			ex.input = &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: allowed[0].route(spec), Options: requestOptions}
		} else {
			ex.noRoute = true
		}
		return ex
	}
	ex.opID = op.id

	check := req.Clone(req.Context())
	setBody(check, body, req.Body != nil && req.Body != http.NoBody)
	opts := requestOptions
	if mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type")); mt == "application/yaml" && spec.name == "control.yaml" {
		// control.yaml gives PUT /_acmock/scenario's YAML body the schema {type: string}, but
		// kin-openapi decodes a YAML body into the document it holds, which is never a string;
		// the emulator's own loader checks the scenario instead (README.md, NOTES 11).
		opts = yamlBodyOptions
	}
	input := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: op.route(spec), Options: opts}
	ex.input = input
	err = openapi3filter.ValidateRequest(req.Context(), input)
	switch {
	case err != nil && !meantToBreak:
		v.report(violation(op.id, describe(err)))
	case err == nil && meantToBreak:
		v.report(violation(op.id, fmt.Sprintf("the test meant this request to break the spec (%s), but it validates", why)))
	}
	return ex
}

func (v *Validator) checkResponse(ex *exchange, res *http.Response, data []byte) {
	if ex == nil {
		return
	}
	violation := func(msg string) Violation {
		return Violation{Spec: ex.spec.name, Operation: ex.opID, Method: ex.method, Path: ex.path, Status: res.StatusCode, Message: msg}
	}
	if ex.noRoute {
		// An unknown path has no operation; its answer must still be the spec's Error.
		if res.StatusCode < 400 {
			v.report(violation("no operation has this path, yet the answer is a success"))
			return
		}
		if err := ex.spec.checkError(res.Header, data); err != nil {
			v.report(violation(err.Error()))
		}
		return
	}
	if ex.spec == specs().api && v.Observe != nil {
		v.Observe(ex.opID, res.StatusCode)
	}
	switch res.StatusCode {
	case http.StatusMovedPermanently, http.StatusNotModified, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// kin-openapi never validates these statuses; the spec documents none of them.
		if ex.input.Route.Operation.Responses.Status(res.StatusCode) == nil {
			v.report(violation(fmt.Sprintf("status %d (Location %q) is not documented for this operation", res.StatusCode, res.Header.Get("Location"))))
		}
		return
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true}
	if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); mt != "" && openapi3filter.RegisteredBodyDecoder(mt) == nil {
		// kin-openapi has no decoder for this media type (the registration page's text/html):
		// check that the operation declares it for this status, then everything but the body.
		if ref := ex.input.Route.Operation.Responses.Status(res.StatusCode); ref != nil && ref.Value != nil && ref.Value.Content.Get(mt) == nil {
			v.report(violation(fmt.Sprintf("response Content-Type %q is not declared for status %d", mt, res.StatusCode)))
			return
		}
		opts.ExcludeResponseBody = true
	}
	err := openapi3filter.ValidateResponse(ex.input.Request.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: ex.input,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(data)),
		Options:                opts,
	})
	var resErr *openapi3filter.ResponseError
	switch {
	case errors.As(err, &resErr) && resErr.Reason == "status is not supported" && resErr.Err == nil:
		v.report(violation(fmt.Sprintf("status %d is not documented for this operation (status is not supported)", res.StatusCode)))
	case err != nil:
		v.report(violation(describe(err)))
	}
}

// requestOptions check security by the presence of the header each scheme names: the HMAC itself
// is the server's business (and the tests check its verdicts).
var requestOptions = &openapi3filter.Options{
	AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
		s := in.SecurityScheme
		h := in.RequestValidationInput.Request.Header
		switch {
		case s.Type == "apiKey" && s.In == "header" && h.Get(s.Name) == "":
			return fmt.Errorf("header %s is missing (security scheme %s)", s.Name, in.SecuritySchemeName)
		case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer") && !strings.HasPrefix(h.Get("Authorization"), "Bearer "):
			return fmt.Errorf("header Authorization: Bearer is missing (security scheme %s)", in.SecuritySchemeName)
		}
		return nil
	},
}

// yamlBodyOptions are requestOptions without the body check, for control.yaml's YAML bodies.
var yamlBodyOptions = &openapi3filter.Options{AuthenticationFunc: requestOptions.AuthenticationFunc, ExcludeRequestBody: true}

// describe turns kin-openapi's error into one line naming what is at fault (its own messages
// append the whole schema and value on further lines).
func describe(err error) string {
	var prefix string
	var reqErr *openapi3filter.RequestError
	var resErr *openapi3filter.ResponseError
	var secErr *openapi3filter.SecurityRequirementsError
	switch {
	case errors.As(err, &secErr):
		var parts []string
		for _, e := range secErr.Errors {
			parts = append(parts, e.Error())
		}
		return "security: " + strings.Join(parts, "; ")
	case errors.As(err, &reqErr):
		switch {
		case reqErr.Parameter != nil:
			prefix = fmt.Sprintf("%s parameter %s: ", reqErr.Parameter.In, reqErr.Parameter.Name)
		case reqErr.RequestBody != nil:
			prefix = "request body: "
		}
		if reqErr.Reason != "" && reqErr.Err != nil {
			prefix += reqErr.Reason + ": "
		} else if reqErr.Err == nil {
			return prefix + reqErr.Reason
		}
	case errors.As(err, &resErr):
		if resErr.Err == nil {
			return resErr.Reason
		}
		prefix = resErr.Reason + ": "
	}
	var schemaErr *openapi3.SchemaError
	if errors.As(err, &schemaErr) {
		field := strings.Join(schemaErr.JSONPointer(), ".")
		if field == "" {
			if m := missingProperty.FindStringSubmatch(schemaErr.Reason); m != nil {
				field = m[1]
			}
		}
		if field != "" {
			return fmt.Sprintf("%sfield %s: %s", prefix, field, schemaErr.Reason)
		}
		return prefix + schemaErr.Reason
	}
	inner := err
	if reqErr != nil && reqErr.Err != nil {
		inner = reqErr.Err
	} else if resErr != nil && resErr.Err != nil {
		inner = resErr.Err
	}
	msg, _, _ := strings.Cut(inner.Error(), "\n")
	return prefix + msg
}

var missingProperty = regexp.MustCompile(`property "([^"]+)" is missing`)

// specIndex is one spec document with a router over its paths.
type specIndex struct {
	name   string
	doc    *openapi3.T
	router routers.Router
	ops    []*specOp
	// decode turns a raw (escaped) path parameter into its value.
	decode func(name, raw string) (string, error)
}

type specOp struct {
	id       string
	method   string
	template string
	pattern  *regexp.Regexp
	params   []string
	item     *openapi3.PathItem
	op       *openapi3.Operation
}

func (o *specOp) route(s *specIndex) *routers.Route {
	return &routers.Route{Spec: s.doc, Path: o.template, PathItem: o.item, Method: o.method, Operation: o.op}
}

var templateParam = regexp.MustCompile(`\\\{([^}]+)\\\}`)

func newSpecIndex(name string, doc *openapi3.T, decode func(name, raw string) (string, error)) (*specIndex, error) {
	// The servers listed in the document (127.0.0.1:8080, the real service) would restrict the
	// router to those hosts; the tests talk to whatever server they were given.
	doc.Servers = nil
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: router: %w", name, err)
	}
	s := &specIndex{name: name, doc: doc, router: router, decode: decode}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			var params []string
			for _, m := range templateParam.FindAllStringSubmatch(regexp.QuoteMeta(path), -1) {
				params = append(params, m[1])
			}
			s.ops = append(s.ops, &specOp{
				id: lowerFirst(op.OperationID), method: method, template: path, params: params,
				pattern: regexp.MustCompile("^" + templateParam.ReplaceAllString(regexp.QuoteMeta(path), `([^/]+)`) + "$"),
				item:    item, op: op,
			})
		}
	}
	return s, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// find returns the operation of req with its decoded path parameters. When the path exists but
// not with this method it returns an error and the operations the path has.
//
// The kin-openapi gorilla/mux router matches on the escaped path, so a user ID holding %2F stays
// one segment; should it ever fail to match, the operation is found by matching the escaped path
// against the path templates directly (TestRouterKeepsEncodedSlash shows which one answers).
func (s *specIndex) find(req *http.Request) (*specOp, map[string]string, []*specOp, error) {
	escaped := req.URL.EscapedPath()
	var raw map[string]string
	var template string
	route, vars, err := s.router.FindRoute(req)
	if err == nil {
		raw, template = vars, route.Path
	}
	var matched []*specOp
	for _, op := range s.ops {
		if template != "" && op.template != template {
			continue
		}
		m := op.pattern.FindStringSubmatch(escaped)
		if m == nil && template == "" {
			continue
		}
		if raw == nil && m != nil {
			raw = map[string]string{}
			for i, name := range op.params {
				raw[name] = m[i+1]
			}
		}
		matched = append(matched, op)
	}
	params := map[string]string{}
	for name, value := range raw {
		decoded, err := s.decode(name, value)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("path parameter %s %q: %w", name, value, err)
		}
		params[name] = decoded
	}
	for _, op := range matched {
		if op.method == req.Method {
			return op, params, nil, nil
		}
	}
	if len(matched) > 0 {
		var methods []string
		for _, op := range matched {
			methods = append(methods, op.method)
		}
		return nil, params, matched, fmt.Errorf("method %s is not allowed on this path; the spec has %s", req.Method, strings.Join(methods, ", "))
	}
	return nil, nil, nil, fmt.Errorf("no path of %s matches %s", s.name, escaped)
}

// checkError checks an answer that has no operation (an unknown path) against the spec's Error.
func (s *specIndex) checkError(h http.Header, data []byte) error {
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt != "application/json" {
		return fmt.Errorf("the answer to an unknown path is %q, not the spec's Error as application/json", h.Get("Content-Type"))
	}
	ref := s.doc.Components.Schemas["Error"]
	if ref == nil || ref.Value == nil {
		return fmt.Errorf("%s has no Error schema", s.name)
	}
	var value any
	if err := json.Unmarshal(data, &value); err != nil {
		return fmt.Errorf("the answer is not JSON: %v", err)
	}
	if err := ref.Value.VisitJSON(value); err != nil {
		return fmt.Errorf("the answer is not the spec's Error: %s", describe(err))
	}
	return nil
}

type specSet struct {
	api, ctl *specIndex
}

// loadSpecs decodes the embedded specs once; the documents and routers are read-only afterwards,
// so every validator shares them.
var loadSpecs = sync.OnceValues(func() (*specSet, error) {
	apiDoc, err := acapispec.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("decode the spec embedded in generated/acapispec: %w", err)
	}
	ctlDoc, err := acctlspec.GetSwagger()
	if err != nil {
		return nil, fmt.Errorf("decode the spec embedded in generated/acctlspec: %w", err)
	}
	api, err := newSpecIndex("openapi.yaml", apiDoc, func(name, raw string) (string, error) {
		if name == "user_id" {
			// The official client encodes user IDs with quote_plus: "+" is a space.
			return url.QueryUnescape(raw)
		}
		return url.PathUnescape(raw)
	})
	if err != nil {
		return nil, err
	}
	ctl, err := newSpecIndex("control.yaml", ctlDoc, func(_, raw string) (string, error) { return url.PathUnescape(raw) })
	if err != nil {
		return nil, err
	}
	return &specSet{api: api, ctl: ctl}, nil
})

func specs() *specSet {
	s, _ := loadSpecs()
	if s == nil {
		return &specSet{}
	}
	return s
}

// Operations lists the operationIds of api/openapi.yaml with the status codes each documents
// ("5XX" for the range), for coverage checks.
func Operations() (map[string][]string, error) {
	s, err := loadSpecs()
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, op := range s.api.ops {
		out[op.id] = append(out[op.id], op.op.Responses.Keys()...)
	}
	return out, nil
}
