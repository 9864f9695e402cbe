package emulator

import (
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/generated/acapiserver"
	"github.com/acmock/acmock/generated/acctlserver"
)

// generatedRoutes collects the routes that register adds to a gorilla/mux router, by
// "METHOD /path/template".
func generatedRoutes(register func(*mux.Router)) (map[string]http.Handler, error) {
	scratch := mux.NewRouter()
	register(scratch)
	out := map[string]http.Handler{}
	err := scratch.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			return fmt.Errorf("route %s: %w", tmpl, err)
		}
		for _, m := range methods {
			out[m+" "+tmpl] = route.GetHandler()
		}
		return nil
	})
	return out, err
}

// TestHandlersAreTheRegisteredOnes: the generated Handlers of each server package are, operation
// by operation, the handlers its HandlerWithOptions registers on a gorilla/mux router.
func TestHandlersAreTheRegisteredOnes(t *testing.T) {
	t.Parallel()
	for name, pair := range map[string]struct {
		handlers   map[string]http.Handler
		registered func(*mux.Router)
	}{
		"acapiserver": {acapiserver.Handlers(nil, acapiserver.GorillaServerOptions{}), func(r *mux.Router) {
			acapiserver.HandlerWithOptions(nil, acapiserver.GorillaServerOptions{BaseRouter: r})
		}},
		"acctlserver": {acctlserver.Handlers(nil, acctlserver.GorillaServerOptions{}), func(r *mux.Router) {
			acctlserver.HandlerWithOptions(nil, acctlserver.GorillaServerOptions{BaseRouter: r})
		}},
	} {
		want, err := generatedRoutes(pair.registered)
		if err != nil {
			t.Fatal(err)
		}
		if got, wantKeys := slices.Sorted(maps.Keys(pair.handlers)), slices.Sorted(maps.Keys(want)); !slices.Equal(got, wantKeys) {
			t.Errorf("%s: Handlers has %v, HandlerWithOptions registers %v", name, got, wantKeys)
			continue
		}
		for key, h := range want {
			// Both are method values of the wrapper's method for the operation: the same code.
			if got, want := reflect.ValueOf(pair.handlers[key]).Pointer(), reflect.ValueOf(h).Pointer(); got != want {
				t.Errorf("%s: %s: Handlers gives another handler than HandlerWithOptions", name, key)
			}
		}
	}
}
