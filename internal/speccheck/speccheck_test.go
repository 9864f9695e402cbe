package speccheck

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acmock/acmock/generated/acapispec"
	"github.com/acmock/acmock/generated/acctlspec"
)

// TestDecodeSpecAsTheLoader: the embedded specs decoded with encoding/json are the documents
// kin-openapi's loader reads from the same bytes.
func TestDecodeSpecAsTheLoader(t *testing.T) {
	t.Parallel()
	for name, pair := range map[string]struct {
		decoded func() (*Spec, error)
		loader  func() (*openapi3.T, error)
	}{
		"api":     {API, acapispec.GetSpec},
		"control": {Control, acctlspec.GetSpec},
	} {
		got, err := pair.decoded()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want, err := pair.loader()
		if err != nil {
			t.Fatal(err)
		}
		want.Servers, want.Security = nil, nil
		for _, item := range want.Paths.Map() {
			for _, op := range item.Operations() {
				op.Security = &openapi3.SecurityRequirements{}
			}
		}
		gotJSON, _ := json.Marshal(got.Doc)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s: the decoded spec differs from the loader's", name)
		}
		if err := got.Doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(got.routes) == 0 {
			t.Errorf("%s: no operations", name)
		}
	}
}

// TestResponseNamesTheMismatch: Response accepts an answer the spec documents and refuses one it
// does not, saying what differs.
func TestResponseNamesTheMismatch(t *testing.T) {
	t.Parallel()
	const tmpl = "/management/has_registered_mobile_device/{application_id}/{user_id}"
	req := httptest.NewRequest(http.MethodGet, "/management/has_registered_mobile_device/a/b", nil)
	params := map[string]string{"application_id": "a", "user_id": "b"}
	header := http.Header{"Content-Type": {"application/json"}}
	if err := Response(req, tmpl, params, 200, header, []byte(`{"status": true, "device_registered": false}`)); err != nil {
		t.Errorf("a documented answer: %v", err)
	}
	for _, tc := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"status": true}`, `property "device_registered" is missing`},
		{200, `{"status": "yes", "device_registered": false}`, "value must be a boolean"},
		{418, `{}`, "status is not supported"},
	} {
		err := Response(req, tmpl, params, tc.status, header, []byte(tc.body))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d %s: %v, want an error saying %q", tc.status, tc.body, err, tc.want)
		}
	}
}
