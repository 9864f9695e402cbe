package reqspecgen

import (
	"reflect"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acmock/acmock/generated/acspec"
	"github.com/acmock/acmock/internal/reqspec"
)

func load(t *testing.T, file string) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestTablesMatchTheSpecs guards against stale tables: generated/acspec is what converting the
// documents on disk gives.
func TestTablesMatchTheSpecs(t *testing.T) {
	t.Parallel()
	c := NewConverter()
	for _, tc := range []struct {
		file, name string
		want       *reqspec.Document
	}{
		{"../../api/openapi.yaml", "api/openapi.yaml", &acspec.API},
		{"../../api/control.yaml", "api/control.yaml", &acspec.Control},
	} {
		got, err := c.Convert(load(t, tc.file), tc.name, "x")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("generated/acspec differs from converting %s: run `make generate`", tc.file)
		}
	}
	// A few facts the emulator relies on.
	ops := map[string]reqspec.Operation{}
	for _, op := range acspec.API.Operations {
		ops[op.ID] = op
	}
	if len(ops) != 9 || !ops["getSessionStatus"].SessionSigned || !ops["logout"].SessionSigned || ops["addUsers"].SessionSigned {
		t.Errorf("API operations: %+v", ops)
	}
	users := ops["addUsers"].Body.Content[0].Schema
	if !users.Property("users").HasMaxItems || users.Property("users").MaxItems != 1000 || users.Property("users").Items.MaxLength != 256 {
		t.Errorf("add_users schema: %+v", users)
	}
}

// TestUnsupportedKeywordsFail: a schema keyword, parameter or body the emulator's checker does
// not implement stops the generation with an error saying what and where, rather than being left
// unchecked.
func TestUnsupportedKeywordsFail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, params, body, schemas, want string
	}{
		{name: "pattern", body: "{type: string, pattern: '^a'}", want: "x_body: schema keyword pattern not supported"},
		{name: "allOf", body: "{allOf: [{type: string}]}", want: "schema keyword allOf not supported"},
		{name: "oneOf in a property", body: "{type: object, properties: {a: {oneOf: [{type: string}, {type: integer}]}}}", want: "x_body_a: schema keyword oneOf not supported"},
		{name: "uniqueItems", body: "{type: array, uniqueItems: true, items: {type: string}}", want: "schema keyword uniqueItems not supported"},
		{name: "multipleOf", body: "{type: integer, multipleOf: 2}", want: "schema keyword multipleOf not supported"},
		{name: "not", body: "{not: {type: string}}", want: "schema keyword not not supported"},
		{name: "default in a body", body: "{type: object, properties: {a: {type: string, default: b}}}", want: "x_body_a: a default in a request body is not supported"},
		{name: "readOnly", body: "{type: object, properties: {a: {type: string, readOnly: true}}}", want: "property a: readOnly and writeOnly are not supported"},
		{name: "a validated format", body: "{type: string, format: byte}", want: `format "byte" is validated by kin-openapi but not by the emulator's request checker`},
		{name: "a format on the wrong type", body: "{type: integer, format: date}", want: `format "date" on a schema of type "integer" is not supported`},
		{name: "an enum of objects", body: "{type: object, enum: [{a: 1}]}", want: "only strings, numbers and booleans are supported"},
		{name: "recursion", body: "{$ref: '#/components/schemas/Node'}", schemas: "Node: {type: object, properties: {next: {$ref: '#/components/schemas/Node'}}}", want: "recursive schemas are not supported"},
		{name: "JSON and YAML", body: "{type: string}\n          application/yaml:\n            schema: {type: string}", want: "a body that is JSON or something else is not supported"},
		{name: "a header parameter", params: "[{name: X-A, in: header, schema: {type: string}}]", want: "parameter X-A: parameters in header are not supported"},
		{name: "a deepObject", params: "[{name: a, in: query, style: deepObject, schema: {type: object}}]", want: `query parameter style "deepObject" is not supported`},
		{name: "an object in the query", params: "[{name: a, in: query, schema: {type: object}}]", want: `a query parameter of type "object" is not supported`},
		{name: "content", params: "[{name: a, in: query, content: {application/json: {schema: {type: string}}}}]", want: "a parameter described by content is not supported"},
		{name: "a default that fails", params: "[{name: a, in: query, schema: {type: integer, minimum: 5, default: 1}}]", want: "the default 1 does not satisfy the parameter's schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			params := tc.params
			if params == "" {
				params = "[]"
			}
			body := ""
			if tc.body != "" {
				body = "\n      requestBody:\n        content:\n          application/json:\n            schema: " + tc.body
			}
			schemas := "{}"
			if tc.schemas != "" {
				schemas = "\n    " + tc.schemas
			}
			src := "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    post:\n      operationId: x\n      parameters: " + params +
				body + "\n      responses:\n        '200': {description: ok}\ncomponents:\n  schemas: " + schemas + "\n"
			loader := openapi3.NewLoader()
			doc, err := loader.LoadFromData([]byte(src))
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			_, err = NewConverter().Convert(doc, "t.yaml", "t")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "POST /x: ") {
				t.Errorf("error %q does not say which operation", err)
			}
		})
	}
}

// TestSourceIsTheTables: the Go source written for a document declares the tables Convert
// returned (checked on the generated package, which is that source compiled).
func TestSourceIsTheTables(t *testing.T) {
	t.Parallel()
	c := NewConverter()
	api, err := c.Convert(load(t, "../../api/openapi.yaml"), "api/openapi.yaml", "api")
	if err != nil {
		t.Fatal(err)
	}
	src, err := c.Source("acspec", []Named{{Var: "API", Doc: api, From: "api/openapi.yaml"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"package acspec\n",
		`import "github.com/acmock/acmock/internal/reqspec"`,
		"var API = reqspec.Document{",
		`{ID: "addUsers", Method: "POST", Path: "/management/add_users/{application_id}", Params: []reqspec.Param{`,
		"\tapiUserId ",
		`= reqspec.Schema{Type: "string", TypeReason: "value must be a string", MinLength: 1, MaxLength: 256, HasMaxLength: true}`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("the source lacks %q", want)
		}
	}
}
