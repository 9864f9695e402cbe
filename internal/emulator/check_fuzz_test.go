package emulator

import (
	"maps"
	"slices"
	"testing"

	"github.com/acmock/acmock/internal/speccheck"
)

// fuzzOp is an operation to fuzz, with the document kin-openapi validates it against.
type fuzzOp struct {
	op   *operation
	spec *speccheck.Spec
}

// fuzzOps are the operations of both specs and of testdata/checker/keywords.yaml, in a fixed
// order.
func fuzzOps(f *testing.F) []fuzzOp {
	api, control, keywords := checkerDocs(f)
	var out []fuzzOp
	for _, d := range []checkerDoc{api, control, keywords} {
		for _, key := range slices.Sorted(maps.Keys(d.ops)) {
			out = append(out, fuzzOp{d.ops[key], d.spec})
		}
	}
	return out
}

// FuzzCheckerAgreesWithKinOpenAPI holds the emulator's request checker to kin-openapi on any
// request: an operation (which, modulo their number; the next bit sets acceptForm), the values
// of its first two path parameters, a raw query, a Content-Type (none when noType) and a body.
// The verdict, the error body, the query and the Content-Type left for the handler must be the
// same. The seeds are a sample of TestCheckerAgreesWithKinOpenAPI's requests. Run it with
//
//	go test -run '^$' -fuzz FuzzCheckerAgreesWithKinOpenAPI ./internal/emulator/
func FuzzCheckerAgreesWithKinOpenAPI(f *testing.F) {
	ops := fuzzOps(f)
	for i, o := range ops {
		for j, c := range casesFor(o.op) {
			if j%97 != 0 {
				continue
			}
			var p1, p2 string
			for k, name := range o.op.path.names {
				if k == 0 {
					p1 = c.path[name]
				} else if k == 1 {
					p2 = c.path[name]
				}
			}
			which := uint16(i)
			if c.acceptForm {
				which += uint16(len(ops))
			}
			f.Add(which, p1, p2, c.query, c.contentType, c.noType, []byte(c.body))
		}
	}
	f.Fuzz(func(t *testing.T, which uint16, p1, p2, query, contentType string, noType bool, body []byte) {
		o := ops[int(which)%len(ops)]
		c := checkCase{op: o.op, path: map[string]string{}, query: query, contentType: contentType, noType: noType,
			body: string(body), acceptForm: int(which)/len(ops)%2 == 1}
		for k, name := range o.op.path.names {
			c.path[name] = []string{p1, p2, p2}[min(k, 2)]
		}
		if got, want := c.both(o.spec); !sameVerdict(got, want) {
			t.Fatalf("%s:\n  checker:     %s\n  kin-openapi: %s", c, got, want)
		}
	})
}
