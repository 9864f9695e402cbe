package reqspecgen

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acmock/acmock/generated/acspec"
	"github.com/acmock/acmock/internal/reqspec"
)

// TestDirectHandlersBindAsServerGen holds the direct handlers to the code oapi-codegen generated
// next to them: for each operation, the same runtime.BindQueryParameterWithOptions calls in the
// same order (style, explode, required, name, field, type and format), on the one parse of the
// query; a JSON body where the strict handler binds one, with io.EOF let through exactly when it
// lets it through; path parameters that the wrapper binds as plain strings; and nothing else read
// from the request (headers, cookies, a content type). An operation that direct refuses has no
// direct handler.
func TestDirectHandlersBindAsServerGen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pkg  string
		doc  *reqspec.Document
		want int // the operations with a direct handler
	}{
		{"acapiserver", &acspec.API, 9},
	} {
		read := func(file string) string {
			data, err := os.ReadFile("../../generated/" + tc.pkg + "/" + file)
			if err != nil {
				t.Fatal(err)
			}
			return string(data)
		}
		server, handlers := read("server.gen.go"), read("handlers.gen.go")
		n := 0
		for _, op := range tc.doc.Operations {
			key := op.Method + " " + op.Path
			handler := block(handlers, "\t\t"+quote(key)+": http.HandlerFunc(func(", "\n\t\t}),\n")
			if !direct(op) {
				if handler != "" {
					t.Errorf("%s %s: a direct handler for an operation direct refuses", tc.pkg, key)
				}
				continue
			}
			n++
			name := goName(op)
			wrapper := block(server, "func (siw *ServerInterfaceWrapper) "+name+"(", "\n}\n")
			strict := block(server, "func (sh *strictHandler) "+name+"(", "\n}\n")
			if handler == "" || wrapper == "" || strict == "" {
				t.Errorf("%s %s: direct handler, wrapper or strict handler not found", tc.pkg, key)
				continue
			}
			want := binds(strings.NewReplacer("r.URL.Query()", "query", "&params.", "&request.Params.").Replace(wrapper))
			if got := binds(handler); !slices.Equal(got, want) {
				t.Errorf("%s %s: the direct handler binds\n %q\nwhere the wrapper binds\n %q", tc.pkg, key, got, want)
			}
			if got := strings.Count(handler, "query := r.URL.Query()"); got != min(len(want), 1) {
				t.Errorf("%s %s: the query is parsed %d times", tc.pkg, key, got)
			}
			for _, p := range op.Params {
				if p.In == "path" && !strings.Contains(wrapper, `runtime.BindStyledParameterWithOptions("simple", "`+p.Name+`", mux.Vars(r)["`+p.Name+`"], &`) {
					t.Errorf("%s %s: the wrapper binds the path parameter %s in a way of its own", tc.pkg, key, p.Name)
				}
			}
			if c := len(anyBind.FindAllString(wrapper, -1)); c != len(op.Params) {
				t.Errorf("%s %s: the wrapper binds %d parameters, the operation has %d", tc.pkg, key, c, len(op.Params))
			}
			if strings.Count(wrapper, "ParamLocationPath") != strings.Count(wrapper, `ParamLocationPath, Explode: false, Required: true, Type: "string", Format: "", ValueIsUnescaped: true}`) {
				t.Errorf("%s %s: a path parameter the wrapper binds as something other than a string", tc.pkg, key)
			}
			for _, s := range []string{"r.Header", "r.Cookie", "ContentType", "r.Body", "io.ReadAll", "ParseForm", "MultipartReader"} {
				if strings.Contains(wrapper, s) || strings.Contains(strict, s) {
					t.Errorf("%s %s: the generated code reads %s, which the direct handler does not", tc.pkg, key, s)
				}
			}
			bodies := strings.Count(strict, "runtime.BindJSONBody(r, &body)")
			if bodies != strings.Count(handler, "directJSONBody(hooks.Body(r), &request.Body)") || bodies != btoi(op.Body != nil) {
				t.Errorf("%s %s: %d JSON bodies bound by the strict handler, the direct handler differs", tc.pkg, key, bodies)
			}
			if eof := "!errors.Is(err, io.EOF)"; strings.Contains(strict, eof) != strings.Contains(handler, eof) {
				t.Errorf("%s %s: the direct handler and the strict handler differ on an empty body", tc.pkg, key)
			}
			if msg := `fmt.Errorf("can't decode JSON body: %w", err)`; strings.Count(strict, msg) != strings.Count(handler, msg) {
				t.Errorf("%s %s: the direct handler and the strict handler report a body that does not decode differently", tc.pkg, key)
			}
		}
		if tc.want >= 0 && n != tc.want {
			t.Errorf("%s: %d operations with a direct handler, want %d", tc.pkg, n, tc.want)
		}
	}
}

// block returns the text of s from start to the first end after it, "" when start is not in s.
func block(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], end)
	if j < 0 {
		return ""
	}
	return s[i : i+j]
}

var (
	bindCall = regexp.MustCompile(`runtime\.BindQueryParameterWithOptions\([^\n]*\)`)
	anyBind  = regexp.MustCompile(`runtime\.Bind\w+WithOptions\(`)
)

// binds lists the query parameter binding calls in code, in order, without the error handling
// around them.
func binds(code string) []string { return bindCall.FindAllString(code, -1) }

func quote(s string) string { return `"` + s + `"` }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
