package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acmock/acmock/generated/acapispec"
)

// loadSpec loads api/openapi.yaml from disk, the way any OpenAPI tool would.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("openapi.yaml")
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	return doc
}

func TestSpecValidates(t *testing.T) {
	doc := loadSpec(t)
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml does not validate: %v", err)
	}
}

// TestEmbeddedSpecMatchesFile guards against a stale generated package: the emulator validates
// against the embedded copy, so it must be the document on disk.
func TestEmbeddedSpecMatchesFile(t *testing.T) {
	embedded, err := acapispec.GetSwagger()
	if err != nil {
		t.Fatalf("decode embedded spec: %v", err)
	}
	onDisk := loadSpec(t)
	// oapi-codegen capitalises operation IDs in the copy it embeds; nothing else may differ.
	for _, doc := range []*openapi3.T{embedded, onDisk} {
		for _, item := range doc.Paths.Map() {
			for _, op := range item.Operations() {
				op.OperationID = strings.ToLower(op.OperationID[:1]) + op.OperationID[1:]
			}
		}
	}
	want, err := json.Marshal(onDisk)
	if err != nil {
		t.Fatalf("marshal openapi.yaml: %v", err)
	}
	got, err := json.Marshal(embedded)
	if err != nil {
		t.Fatalf("marshal embedded spec: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the spec embedded in generated/acapispec differs from api/openapi.yaml: run `make generate`")
	}
}

func TestDocumentedOperations(t *testing.T) {
	doc := loadSpec(t)
	tests := []struct {
		operationID    string
		method         string
		path           string
		success        []string
		security       string
		requiredBody   []string // required properties of the JSON request body, nil when no body is required
		requiredParams []string
	}{
		{"addUsers", http.MethodPost, "/management/add_users/{application_id}", []string{"201"}, "applicationHmac", []string{"users"}, []string{"application_id"}},
		{"deleteUsers", http.MethodPost, "/management/delete_users/{application_id}", []string{"200"}, "applicationHmac", []string{"users"}, []string{"application_id"}},
		{"getDeviceRegistrationLink", http.MethodGet, "/management/device_registration_link/{application_id}/{user_id}", []string{"200"}, "applicationHmac", nil, []string{"application_id", "user_id"}},
		{"sendRegistrationSms", http.MethodPost, "/management/send_registration_sms/{application_id}/{user_id}", []string{"200"}, "applicationHmac", []string{"phone_number"}, []string{"application_id", "user_id"}},
		{"hasRegisteredMobileDevice", http.MethodGet, "/management/has_registered_mobile_device/{application_id}/{user_id}", []string{"200"}, "applicationHmac", nil, []string{"application_id", "user_id"}},
		{"lostUserMobileDevice", http.MethodGet, "/management/lost_user_mobile_device/{application_id}/{user_id}", []string{"200"}, "applicationHmac", nil, []string{"application_id", "user_id"}},
		{"authenticateUser", http.MethodPost, "/authentication/authenticate_user/{application_id}/{user_id}", []string{"200", "202"}, "applicationHmac", nil, []string{"application_id", "user_id"}},
		{"getSessionStatus", http.MethodGet, "/authentication/session_status/{session_token}", []string{"200"}, "sessionHmac", nil, []string{"session_token"}},
		{"logout", http.MethodPost, "/authentication/logout/{session_token}", []string{"200"}, "sessionHmac", nil, []string{"session_token"}},
	}

	count := 0
	for _, item := range doc.Paths.Map() {
		count += len(item.Operations())
	}
	if count != len(tests) {
		t.Errorf("spec has %d operations, want %d", count, len(tests))
	}

	for _, tt := range tests {
		t.Run(tt.operationID, func(t *testing.T) {
			item := doc.Paths.Value(tt.path)
			if item == nil {
				t.Fatalf("path %s is missing", tt.path)
			}
			op := item.GetOperation(tt.method)
			if op == nil {
				t.Fatalf("%s %s is missing", tt.method, tt.path)
			}
			if op.OperationID != tt.operationID {
				t.Errorf("operationId = %q, want %q", op.OperationID, tt.operationID)
			}
			if op.Summary == "" || op.Description == "" {
				t.Errorf("%s needs a summary and a description", tt.operationID)
			}
			for _, code := range tt.success {
				if op.Responses.Value(code) == nil {
					t.Errorf("success response %s is missing", code)
				}
			}
			for code := range op.Responses.Map() {
				if code[0] != '2' && !slices.Contains([]string{"400", "401", "404", "405", "409", "413", "429", "5XX"}, code) {
					t.Errorf("undocumented error class %s", code)
				}
				if code[0] == '2' && !slices.Contains(tt.success, code) && tt.operationID != "addUsers" {
					t.Errorf("unexpected success response %s", code)
				}
			}
			for _, code := range []string{"400", "401", "404", "5XX"} {
				ref := op.Responses.Value(code)
				if ref == nil {
					t.Errorf("error response %s is missing", code)
					continue
				}
				schema := ref.Value.Content.Get("application/json").Schema.Value
				if !slices.Contains(schema.Required, "code") || !slices.Contains(schema.Required, "message") {
					t.Errorf("error response %s must require code and message", code)
				}
			}

			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			if len(security) != 1 || len(security[0]) != 1 || security[0][tt.security] == nil {
				t.Errorf("security = %v, want %s", security, tt.security)
			}

			var required []string
			for _, p := range op.Parameters {
				if p.Value.Required {
					required = append(required, p.Value.Name)
				}
			}
			if !slices.Equal(required, tt.requiredParams) {
				t.Errorf("required parameters = %v, want %v", required, tt.requiredParams)
			}

			if tt.requiredBody == nil {
				if op.RequestBody != nil && op.RequestBody.Value.Required {
					t.Errorf("request body must be optional")
				}
				return
			}
			if op.RequestBody == nil || !op.RequestBody.Value.Required {
				t.Fatalf("request body must be required")
			}
			schema := op.RequestBody.Value.Content.Get("application/json").Schema.Value
			if !slices.Equal(schema.Required, tt.requiredBody) {
				t.Errorf("required body fields = %v, want %v", schema.Required, tt.requiredBody)
			}
		})
	}
}

func TestEnums(t *testing.T) {
	doc := loadSpec(t)
	tests := []struct {
		schema string
		want   []any
	}{
		{"SessionStatus", []any{"pending", "identifying", "active", "walkaway", "timeout", "cancelled", "failed", "closed"}},
		{"AuthenticationMethod", []any{"acceptance", "device", "facial"}},
		{"AuthenticationFailureReason", []any{"NO_MOBILE_DEVICE", "UNKNOWN_USER"}},
	}
	for _, tt := range tests {
		ref := doc.Components.Schemas[tt.schema]
		if ref == nil {
			t.Errorf("schema %s is missing", tt.schema)
			continue
		}
		if !slices.Equal(ref.Value.Enum, tt.want) {
			t.Errorf("%s enum = %v, want %v", tt.schema, ref.Value.Enum, tt.want)
		}
	}
}

// TestSchemasHaveExamples keeps the spec useful as documentation: every named schema shows a value.
func TestSchemasHaveExamples(t *testing.T) {
	doc := loadSpec(t)
	for name, ref := range doc.Components.Schemas {
		if ref.Value.Example == nil {
			t.Errorf("schema %s has no example", name)
		}
	}
}

func TestControlSpecValidates(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("control.yaml")
	if err != nil {
		t.Fatalf("load control.yaml: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("control.yaml does not validate: %v", err)
	}
	for path, item := range doc.Paths.Map() {
		if !strings.HasPrefix(path, "/_acmock/") {
			t.Errorf("control path %s is outside /_acmock/", path)
		}
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s needs an operationId and a summary", method, path)
			}
		}
	}
}

// TestServers: the document lists acmock's default address and both hosts of the real service,
// the Activeconnect one and the IAMPASS one, each with a description.
func TestServers(t *testing.T) {
	doc := loadSpec(t)
	want := []string{"http://127.0.0.1:8080", "https://activeapi.ninja", "https://main.iam-api.com"}
	var got []string
	for _, s := range doc.Servers {
		got = append(got, s.URL)
		if strings.TrimSpace(s.Description) == "" {
			t.Errorf("server %s has no description", s.URL)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("servers %q, want %q", got, want)
	}
}
