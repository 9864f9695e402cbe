package emulator

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/speccheck"
)

// The oracle: how the emulator checked requests before it had its own checker, with kin-openapi's
// ValidateRequest after the checks of body.go, its error turned into a 400 by
// requestValidationError. The emulator's checker (check.go) must give every request the verdict
// and the error body this gives it.

// oracleCheck checks a request of op the old way. path holds its decoded path parameters; body
// is the whole body, which r.Body also reads.
func oracleCheck(r *http.Request, spec *speccheck.Spec, op *operation, path map[string]string, body []byte, acceptForm bool) *apiError {
	if apiErr := checkQuery(r, op); apiErr != nil {
		return apiErr
	}
	if _, apiErr := checkJSONBody(r, op, body, acceptForm); apiErr != nil {
		return apiErr
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	excludeBody := op.spec.Body != nil && !op.jsonContent // a scenario's YAML
	if err := spec.Request(r, op.template, path, excludeBody); err != nil {
		return requestValidationError(err)
	}
	return nil
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
