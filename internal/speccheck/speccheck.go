// Package speccheck checks requests and responses of the emulator against its embedded specs
// with kin-openapi, the independent implementation of OpenAPI that the tests hold the emulator to.
// It is for tests and for acmocktest: the acmock binary does not link it.
//
//	emu, _ := emulator.New(emulator.Options{CheckResponse: speccheck.Response})
//
// The emulator checks requests itself, with the tables tools/genspec generates; Request is the
// kin-openapi validation those checks must agree with.
package speccheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/acmock/acmock/generated/acapispec"
	"github.com/acmock/acmock/generated/acctlspec"
)

// Spec is one embedded document, indexed for validation.
type Spec struct {
	Doc    *openapi3.T
	routes map[string]*routers.Route // by "METHOD /path/template"
}

// API and Control are the embedded api/openapi.yaml and api/control.yaml, decoded once.
var (
	API     = sync.OnceValues(func() (*Spec, error) { return load(acapispec.GetSpecJSON) })
	Control = sync.OnceValues(func() (*Spec, error) { return load(acctlspec.GetSpecJSON) })
)

// load decodes an embedded spec and indexes its operations. Security requirements are dropped
// from this copy: the emulator checks signatures and the control token itself, and kin-openapi
// would only see a header's presence.
func load(specJSON func() ([]byte, error)) (*Spec, error) {
	data, err := specJSON()
	if err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	var doc openapi3.T
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	if err := openapi3.NewLoader().ResolveRefsIn(&doc, nil); err != nil {
		return nil, fmt.Errorf("load embedded spec: %w", err)
	}
	return NewSpec(&doc), nil
}

// NewSpec indexes a document for validation, without its security requirements (which it
// drops).
func NewSpec(doc *openapi3.T) *Spec {
	doc.Servers = nil
	doc.Security = nil
	s := &Spec{Doc: doc, routes: map[string]*routers.Route{}}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			op.Security = &openapi3.SecurityRequirements{}
			s.routes[method+" "+path] = &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
		}
	}
	return s
}

// Route returns the operation of the spec with this method and path template, or nil.
func (s *Spec) Route(method, template string) *routers.Route {
	return s.routes[method+" "+template]
}

// spec is the document that serves a path template.
func spec(template string) (*Spec, error) {
	if strings.HasPrefix(template, "/_acmock/") {
		return Control()
	}
	return API()
}

// Request validates a request of the operation with this path template with kin-openapi, given
// its decoded path parameters, and returns kin-openapi's error. excludeBody leaves the body out,
// as the emulator does for the bodies it does not check against the spec (YAML scenarios).
func Request(r *http.Request, template string, pathParams map[string]string, excludeBody bool) error {
	s, err := spec(template)
	if err != nil {
		return err
	}
	return s.Request(r, template, pathParams, excludeBody)
}

// Request is the package's Request on this document.
func (s *Spec) Request(r *http.Request, template string, pathParams map[string]string, excludeBody bool) error {
	route := s.Route(r.Method, template)
	if route == nil {
		return fmt.Errorf("no operation %s %s", r.Method, template)
	}
	return openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, ExcludeRequestBody: excludeBody},
	})
}

// Response checks a response of the API against the operation with this path template: its
// status is documented, and its headers and body are as documented. It is an
// emulator.ResponseCheck.
func Response(r *http.Request, template string, pathParams map[string]string, status int, header http.Header, body []byte) error {
	s, err := spec(template)
	if err != nil {
		return err
	}
	return s.Response(r, template, pathParams, status, header, body)
}

// Response is the package's Response on this document.
func (s *Spec) Response(r *http.Request, template string, pathParams map[string]string, status int, header http.Header, body []byte) error {
	route := s.Route(r.Method, template)
	if route == nil {
		return fmt.Errorf("no operation %s %s", r.Method, template)
	}
	return openapi3filter.ValidateResponse(r.Context(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: r, PathParams: pathParams, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
}
