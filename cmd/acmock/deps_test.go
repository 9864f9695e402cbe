package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoOpenAPILibraryLinked: the binary checks requests with the generated tables
// (generated/acspec) and links neither kin-openapi nor the JSON Schema library it brings, whose
// initialisation alone took several milliseconds of every start, nor the packages that exist for
// tests (the embedded specs, internal/speccheck, the tables' generator).
func TestNoOpenAPILibraryLinked(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{
			"github.com/getkin/kin-openapi/", "github.com/santhosh-tekuri/jsonschema",
			"github.com/acmock/acmock/generated/acapispec", "github.com/acmock/acmock/generated/acctlspec",
			"github.com/acmock/acmock/internal/speccheck", "github.com/acmock/acmock/internal/reqspecgen",
		} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("acmock links %s", dep)
			}
		}
	}
}
