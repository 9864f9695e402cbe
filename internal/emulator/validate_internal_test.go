package emulator

import (
	"context"
	"encoding/json"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/acmock/acmock/generated/acapiserver"
	"github.com/acmock/acmock/generated/acctlserver"
)

// TestCompiledLengthChecks: the operations whose requests only the length of their path
// parameters constrains get compiled checks, and those checks accept exactly what kin-openapi
// accepts, for values around the limits.
func TestCompiledLengthChecks(t *testing.T) {
	t.Parallel()
	_, ops, err := loadOperations(acapiserver.GetSpecJSON)
	if err != nil {
		t.Fatal(err)
	}
	var compiled []string
	for _, op := range ops {
		if op.lengths != nil {
			compiled = append(compiled, op.id)
		}
	}
	slices.Sort(compiled)
	if want := []string{"getSessionStatus", "hasRegisteredMobileDevice", "logout", "lostUserMobileDevice"}; !slices.Equal(compiled, want) {
		t.Errorf("compiled checks for %v, want %v", compiled, want)
	}

	// A schema with limits of its own, to compare with kin-openapi around them.
	op := ops["GET /management/has_registered_mobile_device/{application_id}/{user_id}"]
	strict := *op.op.Parameters[1].Value
	schema := *strict.Schema.Value
	schema.MinLength, schema.MaxLength = 2, openapi3.Ptr(uint64(3))
	strict.Schema = openapi3.NewSchemaRef("", &schema)
	opCopy := *op.op
	opCopy.Parameters = openapi3.Parameters{op.op.Parameters[0], &openapi3.ParameterRef{Value: &strict}}
	checks := compileLengthChecks(op.item, &opCopy)
	if len(checks) != 2 || checks[1].min != 2 || checks[1].max != 3 {
		t.Fatalf("checks %+v", checks)
	}
	route := *op.route
	route.Operation = &opCopy
	test := &operation{lengths: checks, route: &route}
	for _, user := range []string{"a", "ab", "abc", "abcd", "é", "éé", "ééé", "éééé"} {
		info := &requestInfo{app: "app", user: user}
		req := httptest.NewRequest("GET", "/management/has_registered_mobile_device/app/x", nil)
		kinErr := openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
			Request: req, PathParams: map[string]string{"application_id": "app", "user_id": user},
			Route: test.route, Options: validationOptions,
		})
		if got := test.passesLengthChecks(info); got != (kinErr == nil) {
			t.Errorf("user %q: compiled check %v, kin-openapi %v", user, got, kinErr)
		}
	}

	for _, s := range []*openapi3.Schema{
		{Type: &openapi3.Types{"string"}, Pattern: "^a"},
		{Type: &openapi3.Types{"string"}, Enum: []any{"a"}},
		{Type: &openapi3.Types{"string"}, Format: "uuid"},
		{Type: &openapi3.Types{"integer"}},
	} {
		if _, ok := stringLengths(s); ok {
			t.Errorf("schema %+v compiled as a length check", s)
		}
	}
	if c, ok := stringLengths(&openapi3.Schema{Type: &openapi3.Types{"string"}, MinLength: 1, Description: strings.Repeat("d", 3)}); !ok || c.min != 1 || c.max != -1 {
		t.Errorf("plain string schema: %+v %v", c, ok)
	}
}

// TestDecodeSpecAsTheLoader: the embedded specs decoded with encoding/json are the documents
// kin-openapi's loader reads from the same bytes.
func TestDecodeSpecAsTheLoader(t *testing.T) {
	t.Parallel()
	for name, pair := range map[string]struct {
		json   func() ([]byte, error)
		loader func() (*openapi3.T, error)
	}{
		"api":     {acapiserver.GetSpecJSON, acapiserver.GetSpec},
		"control": {acctlserver.GetSpecJSON, acctlserver.GetSpec},
	} {
		got, err := decodeSpec(pair.json)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := pair.loader()
		if err != nil {
			t.Fatal(err)
		}
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s: the decoded spec differs from the loader's", name)
		}
		if err := got.Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(got.Paths.Map()) == 0 || got.Paths.Map()[slices.Sorted(maps.Keys(want.Paths.Map()))[0]].Operations() == nil {
			t.Errorf("%s: no paths", name)
		}
	}
}
