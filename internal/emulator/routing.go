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
	if len(t.names) > maxPathParams {
		return t, fmt.Errorf("path template %q has more than %d parameters", template, maxPathParams)
	}
	return t, nil
}

// maxPathParams bounds the parameters of a path template: requestInfo holds their raw values in
// an array of this size, so that matching a route allocates nothing.
const maxPathParams = 4

// match reports whether the escaped path fits the template and, when raw is not nil, stores the
// parameters' raw (still escaped) values in it, in the order of names.
func (t *pathTemplate) match(path string, raw []string) bool {
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
			if raw != nil {
				raw[param] = part
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

// noVars is the RouteMatch.Vars of every route matched by a matcher: the path parameters are in
// requestInfo.raw, and the handlers that read mux.Vars get a map of their own (see withVars).
// Nothing writes to it.
var noVars = map[string]string{}

// matcher matches requests for one method on the template and keeps the path parameters' raw
// values in the request's requestInfo (which observe gives every request the router sees), so that
// the router runs no regular expression and allocates nothing.
func (t *pathTemplate) matcher(method string) mux.MatcherFunc {
	return func(r *http.Request, m *mux.RouteMatch) bool {
		if r.Method != method {
			return false
		}
		info := infoFrom(r.Context())
		if !t.match(info.path, info.raw[:]) {
			return false
		}
		m.Vars = noVars
		return true
	}
}

// rawParams gives the raw values of the matched route's path parameters, in the order of op's
// template.
func (info *requestInfo) rawParams(op *operation) []string { return info.raw[:len(op.path.names)] }

// withVars gives the request its decoded path parameters the way gorilla/mux would, for the
// generated handlers that read them with mux.Vars.
func withVars(r *http.Request, names, values []string) *http.Request {
	vars := make(map[string]string, len(names))
	for i, name := range names {
		vars[name] = values[i]
	}
	return mux.SetURLVars(r, vars)
}

// dispatch finds the request's route and serves it, as mux.Router.ServeHTTP does for a router
// that skips path cleaning and has handlers for paths and methods it does not know, but without
// the two copies of the request that ServeHTTP makes to carry the route and its variables in the
// context: the path parameters are in requestInfo, and withVars hands them to the generated
// handlers that read mux.Vars.
func (e *Emulator) dispatch(root *mux.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := &infoOf(w, r).match // kept in requestInfo: saves an allocation
		if root.Match(r, m) && m.Handler != nil {
			m.Handler.ServeHTTP(w, r)
			return
		}
		e.notFound(w, r)
	})
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
