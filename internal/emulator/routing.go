package emulator

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/internal/reqspec"
)

// pathTemplate is an OpenAPI path template ("/management/add_users/{application_id}") compiled
// for matching without regular expressions: each parameter stands for one non-empty segment of
// the escaped path, as gorilla/mux's "[^/]+" does.
type pathTemplate struct {
	template string
	prefix   string   // the literal text before the first parameter
	segments []string // the segments after the leading "/": literal text, or "" for a parameter
	names    []string // the parameter names, in order
}

func compileTemplate(template string) (pathTemplate, error) {
	t := pathTemplate{template: template}
	if !strings.HasPrefix(template, "/") {
		return t, fmt.Errorf("path template %q does not start with /", template)
	}
	t.prefix, _, _ = strings.Cut(template, "{")
	for _, seg := range strings.Split(template[1:], "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name, ok = strings.CutSuffix(name, "}")
			if !ok || name == "" || strings.ContainsAny(name, "{}") {
				return t, fmt.Errorf("path template %q: a parameter must be a whole segment", template)
			}
			t.names = append(t.names, name)
			seg = ""
		} else if strings.ContainsAny(seg, "{}") {
			return t, fmt.Errorf("path template %q: a parameter must be a whole segment", template)
		}
		t.segments = append(t.segments, seg)
	}
	return t, nil
}

// match reports whether the escaped path fits the template and, when vars is not nil, stores the
// parameters' raw (still escaped) values in it.
func (t *pathTemplate) match(path string, vars map[string]string) bool {
	if !strings.HasPrefix(path, t.prefix) || path == "" || path[0] != '/' {
		return false
	}
	rest := path[1:]
	param := 0
	for i, seg := range t.segments {
		part, after, more := strings.Cut(rest, "/")
		if more == (i == len(t.segments)-1) {
			return false // more segments than the template has, or fewer
		}
		if seg == "" {
			if part == "" {
				return false
			}
			if vars != nil {
				vars[t.names[param]] = part
			}
			param++
		} else if part != seg {
			return false
		}
		rest = after
	}
	return true
}

// escapedPath is the request's escaped path, worked out once per request by observe.
func escapedPath(r *http.Request) string {
	if info := infoFrom(r.Context()); info != nil && info.path != "" {
		return info.path
	}
	return r.URL.EscapedPath()
}

// matcher matches requests for one method on the template, and gives gorilla/mux the path
// parameters, so that the router runs no regular expression.
func (t *pathTemplate) matcher(method string) mux.MatcherFunc {
	return func(r *http.Request, m *mux.RouteMatch) bool {
		if r.Method != method {
			return false
		}
		path := escapedPath(r)
		if !t.match(path, nil) {
			return false
		}
		m.Vars = make(map[string]string, len(t.names))
		t.match(path, m.Vars)
		return true
	}
}

// addRoutes adds to r a route for each operation of doc (in the document's order), to its
// generated handler in handlers (by "METHOD /path/template"), behind the chain that wrap builds
// for the operation. The route matches without a regular expression (see matcher).
func addRoutes(r *mux.Router, doc *reqspec.Document, ops map[string]*operation, handlers map[string]http.Handler, wrap func(*operation, http.Handler) http.Handler) error {
	for _, spec := range doc.Operations {
		key := spec.Method + " " + spec.Path
		h, op := handlers[key], ops[key]
		if h == nil || op == nil {
			return fmt.Errorf("no generated handler for the operation %s of %s: run make generate", key, doc.Name)
		}
		r.NewRoute().MatcherFunc(op.path.matcher(op.method)).Handler(wrap(op, h))
	}
	for key := range handlers {
		if ops[key] == nil {
			return fmt.Errorf("no operation of %s for the generated handler %s: run make generate", doc.Name, key)
		}
	}
	return nil
}
