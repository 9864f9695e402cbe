package scenarios_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/scenarios"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatalf("schema.json does not compile: %v", err)
	}
	return sch
}

// instance turns YAML into the JSON value an editor's schema check sees.
func instance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func TestShippedScenariosMatchTheSchema(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	names, _ := fs.Glob(scenarios.FS, "*.yaml")
	for _, name := range names {
		data, _ := scenarios.FS.ReadFile(name)
		if err := sch.Validate(instance(t, data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSchemaRejectsMistakes(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	for _, bad := range []string{
		"timout: 5s\n",
		"timeout: soon\n",
		"applications: [{id: a}]\n",
		"applications: [{id: a, secret: s, users: [{id: u, phone: {methods: [retina]}}]}]\n",
		"defaults: {login: [{after: 1s, status: approved}]}\n",
		"faults: [{operation: getStatus, drop: true}]\n",
		"faults: [{operation: logout}]\n",
		"expect: [{user: a, responses: [lost]}]\n",
		"faults: [{operation: logout, drop: true, malformed: true}]\n",
		"expect: [{user: a, calls: 3, responses: [200]}]\n",
	} {
		if err := sch.Validate(instance(t, []byte(bad))); err == nil {
			t.Errorf("the schema accepts %q", bad)
		}
	}
}

// TestSchemaNamesTheSpecOperations keeps the schema, the loader and the spec in step.
func TestSchemaNamesTheSpecOperations(t *testing.T) {
	t.Parallel()
	data, _ := os.ReadFile("schema.json")
	var schema struct {
		Definitions struct {
			Operation struct {
				Enum []string `json:"enum"`
			} `json:"operation"`
		} `json:"definitions"`
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(schema.Definitions.Operation.Enum, scenario.Operations) {
		t.Fatalf("schema operations %v, loader operations %v", schema.Definitions.Operation.Enum, scenario.Operations)
	}
}
