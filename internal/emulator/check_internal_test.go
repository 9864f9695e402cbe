package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acmock/acmock/generated/acspec"
	"github.com/acmock/acmock/internal/reqspec"
	"github.com/acmock/acmock/internal/reqspecgen"
	"github.com/acmock/acmock/internal/speccheck"
)

// checkCase is one request of an operation, given as what the checks see: the decoded path
// parameters, the raw query, the Content-Type (absent when noType) and the body.
type checkCase struct {
	op          *operation
	path        map[string]string
	query       string
	contentType string
	noType      bool
	body        string
	acceptForm  bool
}

func (c checkCase) String() string {
	ct := strconv.Quote(c.contentType)
	if c.noType {
		ct = "none"
	}
	return fmt.Sprintf("%s %s path %v query %q content type %s body %q", c.op.method, c.op.template, c.path, c.query, ct, c.body)
}

func (c checkCase) request() *http.Request {
	r := &http.Request{Method: c.op.method, URL: &url.URL{Path: "/", RawQuery: c.query}, Header: http.Header{}, Body: http.NoBody}
	if !c.noType {
		r.Header.Set("Content-Type", c.contentType)
	}
	return r.WithContext(context.Background())
}

// verdict is what a check did with a request: the error it answered (nil: none), and the query
// and Content-Type the handler then reads (defaults and a form type are written into them).
type verdict struct {
	err         *apiError
	query       string
	contentType string
}

// both checks the case with the emulator's checker and with the oracle.
func (c checkCase) both(spec *speccheck.Spec) (got, want verdict) {
	r := c.request()
	var path pathParams = varsParams(maps.Clone(c.path))
	if !strings.HasPrefix(c.op.template, "/_acmock/") && !strings.HasPrefix(c.op.template, "/kw/") {
		// The API's path parameters come from the request's info, as identify decodes them.
		path = &requestInfo{op: c.op, app: c.path["application_id"], user: c.path["user_id"], session: c.path["session_token"]}
	}
	got.err = checkRequest(r, c.op, path, []byte(c.body), c.acceptForm)
	got.query, got.contentType = r.URL.RawQuery, r.Header.Get("Content-Type")
	r = c.request()
	want.err = oracleCheck(r, spec, c.op, maps.Clone(c.path), []byte(c.body), c.acceptForm)
	want.query, want.contentType = r.URL.RawQuery, r.Header.Get("Content-Type")
	return got, want
}

func sameVerdict(a, b verdict) bool {
	if (a.err == nil) != (b.err == nil) || a.query != b.query || a.contentType != b.contentType {
		return false
	}
	return a.err == nil || *a.err == *b.err
}

func (v verdict) String() string {
	s := fmt.Sprintf("query %q, Content-Type %q, ", v.query, v.contentType)
	if v.err == nil {
		return s + "accepted"
	}
	return s + fmt.Sprintf("%d %s field %q: %s", v.err.Status, v.err.Code, v.err.Field, v.err.Message)
}

// checkerDoc is a document the checker is held to kin-openapi on: its operations, indexed from
// its tables, and the document for kin-openapi.
type checkerDoc struct {
	ops  map[string]*operation
	spec *speccheck.Spec
}

// checkerDocs are acmock's two specs and testdata/checker/keywords.yaml.
func checkerDocs(tb testing.TB) (api, control, keywords checkerDoc) {
	tb.Helper()
	index := func(tables *reqspec.Document, spec *speccheck.Spec, err error) checkerDoc {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
		ops, err := loadOperations(tables)
		if err != nil {
			tb.Fatal(err)
		}
		return checkerDoc{ops, spec}
	}
	apiSpec, err := speccheck.API()
	api = index(&acspec.API, apiSpec, err)
	ctlSpec, err := speccheck.Control()
	control = index(&acspec.Control, ctlSpec, err)
	// The keywords document is converted here, as tools/genspec converts the specs.
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("testdata/checker/keywords.yaml")
	if err == nil {
		err = doc.Validate(loader.Context)
	}
	var tables *reqspec.Document
	if err == nil {
		tables, err = reqspecgen.NewConverter().Convert(doc, "keywords.yaml", "kw")
	}
	if err != nil {
		tb.Fatal(err)
	}
	keywords = index(tables, speccheck.NewSpec(doc), nil)
	return api, control, keywords
}

// TestCheckerAgreesWithKinOpenAPI: for every operation of both specs, requests that are valid
// and requests that break each constraint of their parameters and body, alone and together, get
// from the emulator's checker the verdict and the error body (status, code, field, message)
// that kin-openapi's validation gave them, and leave the same query (defaults) and Content-Type.
func TestCheckerAgreesWithKinOpenAPI(t *testing.T) {
	t.Parallel()
	api, control, _ := checkerDocs(t)
	reasons := map[string]bool{}
	cases := agreeOnAll(t, api, reasons) + agreeOnAll(t, control, reasons)
	t.Logf("%d requests, refused with %d different messages", cases, len(reasons))
	// Every kind of problem the two specs can meet was met.
	requireRefusals(t, reasons,
		"query parameter display_name: maximum string length is 256",
		"query parameter methods: value is not one of the allowed values",
		"query parameter limit: empty value is not allowed",
		"query parameter limit: value abc: an invalid integer: invalid syntax",
		"query parameter limit: number must be at least 1",
		"query parameter limit: number must be at most 1000",
		"query parameter live: value yes: an invalid boolean",
		"query parameter status: value is not one of the allowed values",
		"path parameter user_id: value is required but missing",
		"request body: value is required but missing",
		`request body: property "users" is missing`,
		"request body: value must be an object",
		"request body: value must be an array",
		"request body: value must be a string",
		"request body: minimum number of items is 1",
		"request body: maximum number of items is 1000",
		"request body: minimum string length is 1",
		"request body: maximum string length is 256",
		"request body: Value is not nullable",
		"request body: value is not one of the allowed values",
		"request body: cannot convert json.Number to float64",
		// The state snapshot (PUT /_acmock/state).
		`request body: property "zz" is unsupported`,
		`request body: string doesn't match the format "date-time"`,
	)
}

// TestCheckerAgreesOnEveryKeyword: the same on a document that uses every keyword the checker
// implements, most of which acmock's own specs do not use yet (additionalProperties: false,
// formats, exclusive bounds, property counts, numbers, enums of numbers and booleans, ...).
func TestCheckerAgreesOnEveryKeyword(t *testing.T) {
	t.Parallel()
	_, _, keywords := checkerDocs(t)
	reasons := map[string]bool{}
	t.Logf("%d requests", agreeOnAll(t, keywords, reasons))
	requireRefusals(t, reasons,
		`property "zz" is unsupported`,
		`string doesn't match the format "date-time" (string doesn't match pattern`,
		`string doesn't match the format "date-time" (parsing time`,
		`string doesn't match the format "date" (`,
		`integer doesn't match the format "int32" (value should be between -2147483648 and 2147483647)`,
		`integer doesn't match the format "int64" (value should be between`,
		"number must be more than",
		"number must be less than",
		"there must be at least 1 properties",
		"there must be at most 3 properties",
		"request body: value must be an integer",
		"request body: value must be a number",
		"request body: value must be a boolean",
		"query parameter ratio: value x: an invalid number: invalid syntax",
		"query parameter small: value 2147483648: an invalid integer: value out of range",
		"query parameter flags: path 1: value maybe: an invalid boolean: invalid syntax",
		"query parameter need: value is required but missing: value is required but missing",
	)
}

// requireRefusals fails the test for each of wants that no refusal's message holds.
func requireRefusals(t *testing.T, reasons map[string]bool, wants ...string) {
	t.Helper()
	for _, want := range wants {
		found := false
		for r := range reasons {
			found = found || strings.Contains(r, want)
		}
		if !found {
			t.Errorf("no request was refused with %q", want)
		}
	}
}

// agreeOnAll runs agreeOn on every operation of the document, in a fixed order, and returns how
// many requests it sent.
func agreeOnAll(t *testing.T, d checkerDoc, reasons map[string]bool) (cases int) {
	t.Helper()
	for _, key := range slices.Sorted(maps.Keys(d.ops)) {
		n, _ := agreeOn(t, d.spec, d.ops[key], reasons)
		cases += n
	}
	return cases
}

// agreeOn runs the cases of one operation, failing the test on each disagreement, and adds the
// messages of the refusals to reasons (as "query parameter x: reason", with the allowed values
// of an enum cut).
func agreeOn(t *testing.T, spec *speccheck.Spec, op *operation, reasons map[string]bool) (cases, refused int) {
	t.Helper()
	failures := 0
	for _, c := range casesFor(op) {
		got, want := c.both(spec)
		cases++
		if !sameVerdict(got, want) {
			if failures++; failures <= 10 {
				t.Errorf("%s:\n  checker:     %s\n  kin-openapi: %s", c, got, want)
			}
			continue
		}
		if want.err != nil {
			refused++
			msg, _, _ := strings.Cut(want.err.Message, " [")
			reasons[msg] = true
		}
	}
	if failures > 10 {
		t.Errorf("%s %s: %d more disagreements", op.method, op.template, failures-10)
	}
	return cases, refused
}

// casesFor makes the requests to check for op: a valid one, then each parameter and the body
// varied in turn from it, with every content type for the bodies.
func casesFor(op *operation) []checkCase {
	base := checkCase{op: op, path: map[string]string{}, contentType: "application/json"}
	var queryParts []string
	for _, p := range op.spec.Params {
		if p.In == "path" {
			base.path[p.Name] = validText(p.Schema)
		} else if p.Required {
			queryParts = append(queryParts, url.QueryEscape(p.Name)+"="+url.QueryEscape(validText(p.Schema)))
		}
	}
	base.query = strings.Join(queryParts, "&")
	if op.jsonBody != nil {
		base.body = validJSON(op.jsonBody)
	} else if op.jsonContent {
		base.body = "{}"
	}
	out := []checkCase{base}
	withForm := func(c checkCase) {
		out = append(out, c)
		if !strings.HasPrefix(op.template, "/management/") && !strings.HasPrefix(op.template, "/authentication/") {
			c.acceptForm = true
			out = append(out, c)
		}
	}

	for _, p := range op.spec.Params {
		others := func() string {
			var parts []string
			for _, q := range op.spec.Params {
				if q.In == "query" && q.Required && q.Name != p.Name {
					parts = append(parts, url.QueryEscape(q.Name)+"="+url.QueryEscape(validText(q.Schema)))
				}
			}
			return strings.Join(parts, "&")
		}()
		join := func(s string) string {
			if others == "" || s == "" {
				return others + s
			}
			return others + "&" + s
		}
		if p.In == "path" {
			for _, v := range textSamples(p.Schema) {
				c := base
				c.path = maps.Clone(base.path)
				c.path[p.Name] = v
				out = append(out, c)
			}
			c := base
			c.path = maps.Clone(base.path)
			delete(c.path, p.Name)
			out = append(out, c)
			continue
		}
		name := url.QueryEscape(p.Name)
		var queries []string
		queries = append(queries, "", name, name+"=", name+"=&"+name+"=", "other=1")
		for _, v := range paramSamples(p) {
			e := url.QueryEscape(v)
			queries = append(queries, name+"="+e, name+"=&"+name+"="+e, name+"="+e+"&"+name+"=zz", "a=1&"+name+"="+e)
		}
		for _, q := range queries {
			c := base
			c.query = join(q)
			out = append(out, c)
		}
		// Two parameters wrong at once: the first in the spec's order is reported.
		for _, q := range op.spec.Params {
			if q.In == "query" && q.Name != p.Name {
				c := base
				c.query = join(name + "=" + url.QueryEscape(badText(p.Schema)) + "&" + url.QueryEscape(q.Name) + "=" + url.QueryEscape(badText(q.Schema)))
				out = append(out, c)
			}
		}
	}

	if op.spec.Body != nil {
		bodies := []string{"", base.body, "null", "{", `{"a":1} x`}
		if op.jsonBody != nil {
			bodies = append(bodies, thin(jsonSamples(op.jsonBody, 3), maxBodies)...)
		}
		types := []string{"application/json", "application/json; charset=utf-8", " APPLICATION/JSON ", "text/plain", formType, "application/yaml", "application/jsonx", "application/*"}
		for i, b := range bodies {
			if i >= 6 {
				types = types[:1] // the other types were tried with the first bodies
			}
			for _, ct := range types {
				c := base
				c.body, c.contentType = b, ct
				withForm(c)
			}
			c := base
			c.body, c.noType = b, true
			withForm(c)
		}
		// A wrong body and a wrong parameter: the parameter is reported first.
		for _, p := range op.spec.Params {
			if p.In == "query" && op.jsonBody != nil {
				c := base
				c.query = url.QueryEscape(p.Name) + "=" + url.QueryEscape(badText(p.Schema))
				c.body = "[]"
				out = append(out, c)
			}
		}
	}
	return out
}

// maxBodies bounds the bodies tried per operation: a large nested schema (a state snapshot) has
// hundreds of thousands of samples, of which an even spread is kept (the fuzz target goes further).
const maxBodies = 3000

// thin keeps at most n of the samples, the first ones and then an even spread of the rest.
func thin(samples []string, n int) []string {
	if len(samples) <= n {
		return samples
	}
	out := slices.Clone(samples[:n/2])
	rest := samples[n/2:]
	for i := range n - n/2 {
		out = append(out, rest[i*len(rest)/(n-n/2)])
	}
	return out
}

// validText is a parameter value its schema accepts.
func validText(s *reqspec.Schema) string {
	switch s.Type {
	case "array":
		return validText(s.Items)
	case "integer", "number":
		return strconv.FormatFloat(validNumber(s), 'f', -1, 64)
	case "boolean":
		return "true"
	}
	if len(s.Enum) > 0 {
		return s.Enum[0].String
	}
	if s.Format != "" {
		return validDate(s.Format)
	}
	return strings.Repeat("a", int(max(s.MinLength, 1)))
}

func validDate(format string) string {
	if format == "date" {
		return "2026-01-31"
	}
	return "2026-01-31T12:00:00Z"
}

func validNumber(s *reqspec.Schema) float64 {
	if len(s.Enum) > 0 && s.Enum[0].Kind == reqspec.NumberValue {
		return s.Enum[0].Number
	}
	v := 1.0
	if s.HasMinimum && v <= s.Minimum {
		v = s.Minimum + 1
	}
	if s.HasMaximum && v >= s.Maximum {
		v = s.Maximum - 1
	}
	return v
}

// badText is a parameter value its schema refuses.
func badText(s *reqspec.Schema) string {
	switch s.Type {
	case "integer", "number", "boolean":
		return "x"
	case "array":
		return "x,y"
	}
	if s.HasMaxLength {
		return strings.Repeat("b", int(s.MaxLength)+1)
	}
	if len(s.Enum) > 0 {
		return "bogus"
	}
	return ""
}

// textSamples are texts around a schema's limits, for a parameter or a JSON string.
func textSamples(s *reqspec.Schema) []string {
	out := []string{"", "a", "é", "😀", "a b", "a,b", " ", "true", "12", "-3", "1.5"}
	for _, n := range []uint64{s.MinLength, s.MaxLength} {
		for _, m := range []uint64{n - 1, n, n + 1} {
			if m > 0 && m < 2000 {
				out = append(out, strings.Repeat("a", int(m)), strings.Repeat("é", int(m)), strings.Repeat("😀", int(m)))
			}
		}
	}
	for _, e := range s.Enum {
		if e.Kind == reqspec.StringValue {
			out = append(out, e.String, strings.ToUpper(e.String), e.String+" ")
		}
	}
	if s.Format != "" {
		out = append(out, "2026-01-31", "2026-01-31T12:00:00Z", "2026-02-30T12:00:00Z", "2026-02-30",
			"2026-01-31T12:00:00.123+01:00", "2026-01-31T24:00:00Z", "2026-13-01", "2026-01-31t12:00:00z", "x")
	}
	return out
}

// numberTexts are numbers around a schema's limits, written as JSON would.
func numberTexts(s *reqspec.Schema) []string {
	out := []string{"0", "1", "-1", "1.5", "-0", "1e3", "1E2", "1.0", "2147483647", "2147483648", "-2147483649",
		"9223372036854775807", "9223372036854775808", "-9223372036854775809", "1e19", "1e400", "-1e400", "1e-400"}
	for _, b := range []struct {
		has bool
		v   float64
	}{{s.HasMinimum, s.Minimum}, {s.HasMaximum, s.Maximum}} {
		if b.has {
			for _, d := range []float64{-1, -0.5, 0, 0.5, 1} {
				out = append(out, strconv.FormatFloat(b.v+d, 'f', -1, 64))
			}
		}
	}
	for _, e := range s.Enum {
		if e.Kind == reqspec.NumberValue {
			out = append(out, strconv.FormatFloat(e.Number, 'f', -1, 64), strconv.FormatFloat(e.Number+1, 'f', -1, 64))
		}
	}
	return out
}

// paramSamples are the texts to send as a query parameter.
func paramSamples(p reqspec.Param) []string {
	s := p.Schema
	items := s
	if s.Type == "array" {
		items = s.Items
	}
	var one []string
	switch items.Type {
	case "integer", "number":
		one = append(numberTexts(items), "abc", "+5", "0x10", "1_0", "NaN", "Inf", "1e", "")
	case "boolean":
		one = []string{"true", "false", "1", "0", "yes", "TRUE", "t", "maybe", ""}
	default:
		one = textSamples(items)
	}
	if s.Type != "array" {
		return one
	}
	out := slices.Clone(one)
	good := validText(items)
	for _, v := range one {
		out = append(out, good+","+v, v+","+good, v+","+v)
	}
	return append(out, ",", ",,", good+",", ","+good)
}

// validJSON is a JSON value its schema accepts.
func validJSON(s *reqspec.Schema) string {
	if s.Empty {
		return "1"
	}
	switch s.Type {
	case "object":
		var parts []string
		for _, p := range s.Properties {
			parts = append(parts, quote(p.Name)+":"+validJSON(p.Schema))
		}
		return "{" + strings.Join(parts, ",") + "}"
	case "array":
		n := max(int(s.MinItems), 1)
		item := "1"
		if s.Items != nil {
			item = validJSON(s.Items)
		}
		return "[" + strings.Repeat(item+",", n-1) + item + "]"
	case "integer", "number":
		return strconv.FormatFloat(validNumber(s), 'f', -1, 64)
	case "boolean":
		if len(s.Enum) > 0 {
			return strconv.FormatBool(s.Enum[0].Bool)
		}
		return "true"
	}
	return quote(validText(s))
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// jsonSamples are JSON values that test a schema: every kind of value, and values around each
// limit, inside objects and arrays down to depth.
func jsonSamples(s *reqspec.Schema, depth int) []string {
	out := []string{"null", "true", "false", "0", "1.5", "1e400", `""`, `"x"`, "[]", "{}", "[null]", `{"a":1}`}
	for _, t := range textSamples(s) {
		out = append(out, quote(t))
	}
	out = append(out, `"\u00e9"`, `"a\"b"`, `"\ud83d\ude00"`, `"\/"`)
	out = append(out, numberTexts(s)...)
	if s.Empty || depth == 0 {
		return out
	}
	switch s.Type {
	case "array":
		item := "1"
		var bad []string
		if s.Items != nil {
			item = validJSON(s.Items)
			bad = jsonSamples(s.Items, depth-1)
		}
		for _, n := range []uint64{s.MinItems - 1, s.MinItems, s.MinItems + 1, s.MaxItems - 1, s.MaxItems, s.MaxItems + 1} {
			if n > 0 && n <= 1001 {
				out = append(out, "["+strings.Repeat(item+",", int(n)-1)+item+"]")
			}
		}
		for i, b := range bad {
			out = append(out, "["+b+"]", "["+item+","+b+"]", "["+b+","+bad[(i+7)%len(bad)]+"]")
		}
	case "object":
		valid := map[string]string{}
		for _, p := range s.Properties {
			valid[p.Name] = validJSON(p.Schema)
		}
		object := func(m map[string]string, order []string) string {
			var parts []string
			for _, k := range order {
				if v, ok := m[k]; ok {
					parts = append(parts, quote(k)+":"+v)
				}
			}
			return "{" + strings.Join(parts, ",") + "}"
		}
		names := slices.Sorted(maps.Keys(valid))
		reversed := slices.Clone(names)
		slices.Reverse(reversed)
		out = append(out, object(valid, names), object(valid, reversed))
		for _, r := range s.Required {
			m := maps.Clone(valid)
			delete(m, r)
			out = append(out, object(m, names))
		}
		only := map[string]string{}
		for _, r := range s.Required {
			only[r] = valid[r]
		}
		out = append(out, object(only, names))
		many := maps.Clone(valid)
		for _, k := range []string{"k1", "k2", "k3", "k4"} {
			many[k] = `"v"`
		}
		out = append(out, object(many, slices.Sorted(maps.Keys(many))))
		for _, extra := range []string{"zz", "aa", "a b", "Zz"} {
			m := maps.Clone(valid)
			m[extra] = "1"
			order := append(slices.Clone(names), extra)
			out = append(out, object(m, order), object(m, append([]string{extra}, names...)))
		}
		for _, p := range s.Properties {
			for _, b := range jsonSamples(p.Schema, depth-1) {
				m := maps.Clone(valid)
				m[p.Name] = b
				out = append(out, object(m, names), object(m, reversed))
				// With a required property missing too, and with an unknown key.
				for _, r := range s.Required {
					if r != p.Name {
						delete(m, r)
						out = append(out, object(m, names))
						break
					}
				}
				m["zz"] = b
				out = append(out, object(m, append(slices.Clone(reversed), "zz")))
			}
		}
		// Two properties wrong at once, in both orders.
		if len(names) >= 2 {
			first, last := names[0], names[len(names)-1]
			for _, b := range []string{"null", "[]", "{}", `"x"`, "1.5"} {
				m := maps.Clone(valid)
				m[first], m[last] = b, "[1]"
				out = append(out, object(m, names), object(m, reversed))
			}
		}
		if s.AdditionalProperties != nil {
			for _, b := range jsonSamples(s.AdditionalProperties, depth-1) {
				out = append(out, `{"extra":`+b+`}`, `{"b":`+b+`,"a":`+b+`}`)
			}
		}
	}
	return out
}
