package emulator

import (
	"fmt"

	"github.com/acmock/acmock/internal/reqspec"
)

// scope says whose credentials sign an operation.
type scope int

const (
	scopeApplication scope = iota // management and authenticate: the application's
	scopeSession                  // status and logout: the session's own
)

// operation is one operation of a spec, found by the route gorilla/mux matched.
type operation struct {
	id       string
	method   string
	template string
	spec     *reqspec.Operation
	scope    scope
	path     pathTemplate
	// jsonContent is set when the operation takes a JSON body, which checkJSONBody and checkBody
	// check against jsonBody (nil: no schema). A body of another type (a scenario's YAML) is left
	// to its handler.
	jsonContent bool
	jsonBody    *reqspec.Schema
	query       []string // the names of its query parameters
	// direct is set when the operation is served by a handler of StrictDirectHandlers, which
	// takes its path parameters and body from requestInfo rather than from mux.Vars and r.Body.
	direct bool
}

func (o *operation) matches(escapedPath string) bool { return o.path.match(escapedPath, nil) }

// loadOperations indexes the operations of a spec's generated tables by "METHOD /path/template".
func loadOperations(doc *reqspec.Document) (map[string]*operation, error) {
	ops := make(map[string]*operation, len(doc.Operations))
	for i := range doc.Operations {
		spec := &doc.Operations[i]
		tmpl, err := compileTemplate(spec.Path)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", doc.Name, err)
		}
		op := &operation{id: spec.ID, method: spec.Method, template: spec.Path, spec: spec, path: tmpl}
		if spec.SessionSigned {
			op.scope = scopeSession
		}
		if spec.Body != nil && len(spec.Body.Content) == 1 && spec.Body.Content[0].Type == "application/json" {
			op.jsonContent = true
			op.jsonBody = spec.Body.Content[0].Schema
		}
		for _, p := range spec.Params {
			if p.In == "query" {
				op.query = append(op.query, p.Name)
			}
		}
		ops[spec.Method+" "+spec.Path] = op
	}
	return ops, nil
}
