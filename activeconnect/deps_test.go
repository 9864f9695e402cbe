package activeconnect_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"go/version"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const acmockModule = "github.com/acmock/acmock"

// clientPackages are what a program that calls Activeconnect or the acmock control API imports.
// Users link them into their own binaries, so they must carry nothing of the emulator.
var clientPackages = []string{
	"github.com/acmock/acmock/activeconnect",
	"github.com/acmock/acmock/acauth",
	"github.com/acmock/acmock/generated/acapi",
	"github.com/acmock/acmock/generated/acctl",
}

// serverModules are the modules the emulator needs and a client must not: a router, the OpenAPI
// loader and validator, a JSON Schema compiler (whose init alone costs milliseconds) and YAML.
var serverModules = []string{
	"github.com/gorilla/mux",
	"github.com/getkin/kin-openapi",
	"github.com/santhosh-tekuri/jsonschema",
	"gopkg.in/yaml",
	"go.yaml.in/yaml",
	"sigs.k8s.io/yaml",
	"github.com/goccy/go-yaml",
}

// goCommand returns the go command that runs this test, or skips when there is none.
func goCommand(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command on PATH to list dependencies with: %v", err)
	}
	return path
}

func goOutput(t *testing.T, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(goCommand(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// depsOf lists the non-standard packages in the import graph of pkgs (tests excluded), each with
// the module it belongs to.
func depsOf(t *testing.T, pkgs ...string) map[string]string {
	t.Helper()
	args := append([]string{"list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}} {{with .Module}}{{.Path}}{{end}}{{end}}"}, pkgs...)
	deps := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(goOutput(t, args...)))
	for sc.Scan() {
		if pkg, mod, ok := strings.Cut(sc.Text(), " "); ok {
			deps[pkg] = mod
		}
	}
	return deps
}

// TestClientPackagesImportNoServerModules keeps a program that only logs users in small and fast
// to start: the client packages may import the standard library, each other and the oapi-codegen
// runtime (with what it imports), nothing else, and never a server-side module.
func TestClientPackagesImportNoServerModules(t *testing.T) {
	runtimeDeps := depsOf(t, "github.com/oapi-codegen/runtime", "github.com/oapi-codegen/runtime/types")
	for _, pkg := range clientPackages {
		t.Run(strings.TrimPrefix(pkg, "github.com/acmock/acmock/"), func(t *testing.T) {
			deps := depsOf(t, pkg)
			byModule := map[string]string{} // other module -> the first of its packages pkg imports
			for _, dep := range slices.Sorted(maps.Keys(deps)) {
				mod := deps[dep]
				switch {
				case mod == acmockModule:
					if !slices.Contains(clientPackages, dep) {
						t.Errorf("%s imports %s, which is not a client package", pkg, dep)
					}
				case byModule[mod] == "":
					byModule[mod] = dep
				}
			}
			for _, mod := range slices.Sorted(maps.Keys(byModule)) {
				dep := byModule[mod]
				switch {
				case isServerModule(mod):
					t.Errorf("%s imports module %s (package %s), which only the emulator needs; `go mod why -m %s` shows the path", pkg, mod, dep, mod)
				case !hasModule(runtimeDeps, mod):
					t.Errorf("%s imports module %s (package %s): client packages import only the standard library, each other and the oapi-codegen runtime", pkg, mod, dep)
				}
			}
		})
	}
}

func isServerModule(mod string) bool {
	for _, server := range serverModules {
		if mod == server || strings.HasPrefix(mod, server+"/") || strings.HasPrefix(mod, server+".") {
			return true
		}
	}
	return false
}

func hasModule(deps map[string]string, mod string) bool {
	for _, m := range deps {
		if m == mod {
			return true
		}
	}
	return false
}

// TestGoDirectiveIsTheOldestNeeded keeps acmock from raising the go line of a user's module (and
// from making their toolchain download a newer patch release): go.mod asks for no newer Go than
// its dependencies already require, and the README names that same version. acmock's own code
// needs less (Go 1.25, for sync.WaitGroup.Go in tests); the oapi-codegen runtime sets the floor.
func TestGoDirectiveIsTheOldestNeeded(t *testing.T) {
	type module struct {
		Path      string
		Main      bool
		GoVersion string
		GoMod     string
	}
	var mods []module
	dec := json.NewDecoder(bytes.NewReader(goOutput(t, "list", "-m", "-json", "all")))
	for dec.More() {
		var m module
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("decode go list -m -json all: %v", err)
		}
		mods = append(mods, m)
	}
	var main, newest, newestBy, root string
	for _, m := range mods {
		switch {
		case m.Main:
			main, root = m.GoVersion, filepath.Dir(m.GoMod)
		case m.GoVersion != "" && version.Compare("go"+m.GoVersion, "go"+newest) > 0:
			newest, newestBy = m.GoVersion, m.Path
		}
	}
	if main == "" || newest == "" {
		t.Fatalf("go list -m all named no main module or no dependency with a go line (main %q, newest %q)", main, newest)
	}
	if main != newest {
		t.Errorf("go.mod says go %s, but the newest Go a dependency needs is %s (%s): a user's `go mod tidy` would raise their go line to %s for nothing; write go %s (or, if acmock's own code needs more, say why here)",
			main, newest, newestBy, main, newest)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatalf("read README: %v", err)
	}
	if want := fmt.Sprintf("Go %s or later", main); !bytes.Contains(readme, []byte(want)) {
		t.Errorf("README.md does not say %q, the version go.mod asks for", want)
	}
	// The modules under examples/ run in make test too: they must not ask for a newer Go.
	others, err := filepath.Glob(filepath.Join(root, "examples", "*", "go.mod"))
	if err != nil || len(others) == 0 {
		t.Fatalf("no go.mod under examples/ (%v)", err)
	}
	for _, path := range others {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := "\ngo " + main + "\n"; !bytes.Contains(data, []byte(want)) {
			t.Errorf("%s does not say go %s, as the root go.mod does", path, main)
		}
	}
}
