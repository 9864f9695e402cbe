package emulator

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/reqspec"
)

// This file checks a request's parameters and JSON body against its operation in the tables that
// tools/genspec writes from the specs (generated/acspec). The checks, their order and their
// messages are those of kin-openapi's request validation (openapi3filter.ValidateRequest, with
// the 400 that validation's error used to become), which the tests keep as the oracle: the first
// problem found, in the order kin-openapi would find it, is the one reported.

// pathParams gives a request's decoded path parameters by name.
type pathParams interface {
	pathParam(name string) (string, bool)
}

// pathParam gives the API's path parameters, decoded by identify.
func (info *requestInfo) pathParam(name string) (string, bool) {
	switch name {
	case "application_id":
		return info.app, true
	case "user_id":
		return info.user, true
	case "session_token":
		return info.session, true
	}
	return "", false
}

// varsParams gives the control API's path parameters, decoded by validateControl.
type varsParams map[string]string

func (v varsParams) pathParam(name string) (string, bool) {
	s, ok := v[name]
	return s, ok
}

// checkSpec checks the request's parameters, then its JSON body, against the operation.
// bodyIssue is what checkJSONBody found wrong in the body against its schema, if anything.
func checkSpec(r *http.Request, op *operation, path pathParams, body []byte, bodyIssue *schemaIssue) *apiError {
	q := queryCache{r: r}
	for i := range op.spec.Params {
		if apiErr := checkParam(r, &op.spec.Params[i], path, &q); apiErr != nil {
			return apiErr
		}
	}
	if op.jsonContent {
		return checkBody(r, op.spec.Body, body, bodyIssue)
	}
	return nil
}

// queryCache parses the query once, when a parameter first needs it, and keeps that parse even
// when a default is written into the query later, as kin-openapi does.
type queryCache struct {
	r      *http.Request
	values url.Values
	parsed bool
}

func (q *queryCache) get() url.Values {
	if !q.parsed {
		q.parsed = true
		if q.r.URL.RawQuery != "" {
			q.values = q.r.URL.Query()
		}
	}
	return q.values
}

const (
	reasonRequired = "value is required but missing"
	reasonEmpty    = "empty value is not allowed"
)

func paramError(p *reqspec.Param, reason string) *apiError {
	return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, p.Name, "%s parameter %s: %s", p.In, p.Name, reason)
}

// paramValue is a decoded parameter value: nothing (none), text, a number, a boolean or an
// array of those.
type paramValue struct {
	kind  valueKind
	text  string
	num   float64
	bool  bool
	items []paramValue
}

type valueKind uint8

const (
	noValue valueKind = iota
	textValue
	numValue
	boolValue
	arrayValue
)

// checkParam checks one parameter: it decodes it by its style and schema, gives an absent query
// parameter its default, and checks the value against the schema.
func checkParam(r *http.Request, p *reqspec.Param, path pathParams, q *queryCache) *apiError {
	var value paramValue
	var found bool
	var parseErr string
	switch p.In {
	case "path":
		raw, ok := path.pathParam(p.Name)
		if ok && raw != "" {
			found = true
			parseErr = parsePrimitive(raw, p.Schema, &value)
		}
	case "query":
		values, ok := q.get()[p.Name]
		found = ok
		if len(values) == 0 {
			break
		}
		if p.Schema.Type == "array" {
			if !p.Explode {
				if strings.Contains(values[0], ",") {
					values = strings.Split(values[0], ",")
				} else {
					values = values[:1]
				}
			}
			value, parseErr = parseArray(values, p.Schema.Items)
			break
		}
		// Of repeated pairs the first non-empty value counts.
		raw := values[0]
		if raw == "" {
			for _, v := range values[1:] {
				if v != "" {
					raw = v
					break
				}
			}
		}
		parseErr = parsePrimitive(raw, p.Schema, &value)
	}
	if parseErr != "" {
		return paramError(p, parseErr)
	}
	defaulted := false
	if value.kind == noValue && (!found || p.AllowEmptyValue) && p.Default != "" && p.In == "query" {
		// The generator made sure the default satisfies the schema.
		query := r.URL.Query()
		query.Del(p.Name)
		query.Add(p.Name, p.Default)
		r.URL.RawQuery = query.Encode()
		defaulted = true
	}
	if p.Required && !found {
		return paramError(p, reasonRequired+": "+reasonRequired)
	}
	if defaulted {
		return nil
	}
	switch {
	case value.kind == noValue:
		if !p.AllowEmptyValue && found {
			return paramError(p, reasonEmpty+": "+reasonEmpty)
		}
		return nil
	case value.kind == textValue && value.text == "" && p.AllowEmptyValue:
		return nil
	}
	if reason := valueIssue(p.Schema, &value); reason != "" {
		return paramError(p, reason)
	}
	return nil
}

// parsePrimitive reads a parameter's text into v as its schema's type: nothing for an empty value
// of a type other than string. It returns the reason the text cannot be read, or "".
func parsePrimitive(raw string, s *reqspec.Schema, v *paramValue) string {
	*v = paramValue{}
	if raw == "" && s.Type != "string" {
		return ""
	}
	switch s.Type {
	case "integer":
		bits := 64
		if s.Format == "int32" {
			bits = 32
		}
		n, err := strconv.ParseInt(raw, 10, bits)
		if err != nil {
			return invalidValue(raw, s, err.(*strconv.NumError).Err)
		}
		v.kind, v.num = numValue, float64(n)
	case "number":
		// strconv.ParseFloat also reads hexadecimal, underscores, infinities and NaN.
		if strings.ContainsFunc(raw, func(r rune) bool { return !strings.ContainsRune("+-.0123456789eE", r) }) {
			return invalidValue(raw, s, strconv.ErrSyntax)
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return invalidValue(raw, s, err.(*strconv.NumError).Err)
		}
		v.kind, v.num = numValue, f
	case "boolean":
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return invalidValue(raw, s, err.(*strconv.NumError).Err)
		}
		v.kind, v.bool = boolValue, b
	default:
		v.kind, v.text = textValue, raw
	}
	return ""
}

func invalidValue(raw string, s *reqspec.Schema, err error) string {
	return "value " + raw + ": an invalid " + s.Type + ": " + err.Error()
}

// parseArray reads the items of an array parameter: nothing when an item is an empty value of a
// type other than string, or when the only item is an empty string.
func parseArray(raw []string, items *reqspec.Schema) (paramValue, string) {
	out := make([]paramValue, len(raw))
	for i, v := range raw {
		if reason := parsePrimitive(v, items, &out[i]); reason != "" {
			return paramValue{}, "path " + strconv.Itoa(i) + ": " + reason
		}
		if out[i].kind == noValue {
			return paramValue{}, ""
		}
	}
	if len(out) == 0 || len(out) == 1 && out[0].kind == textValue && out[0].text == "" {
		return paramValue{}, ""
	}
	return paramValue{kind: arrayValue, items: out}, ""
}

// valueIssue checks a decoded parameter value (never nothing) against its schema and returns the
// reason it fails, or "".
func valueIssue(s *reqspec.Schema, v *paramValue) string {
	if s.Empty {
		return ""
	}
	if len(s.Enum) > 0 && !enumAllows(s, v) {
		return s.EnumReason
	}
	switch v.kind {
	case boolValue:
		return boolIssue(s)
	case numValue:
		return numberIssue(s, v.num)
	case textValue:
		return stringIssue(s, v.text)
	case arrayValue:
		if !permits(s, "array") {
			return s.TypeReason
		}
		if reason := countIssue(s, len(v.items)); reason != "" {
			return reason
		}
		if s.Items != nil {
			for i := range v.items {
				if reason := valueIssue(s.Items, &v.items[i]); reason != "" {
					return reason
				}
			}
		}
	}
	return ""
}

func enumAllows(s *reqspec.Schema, v *paramValue) bool {
	switch v.kind {
	case textValue:
		return enumAllowsString(s, v.text)
	case boolValue:
		return enumAllowsBool(s, v.bool)
	case numValue:
		return enumAllowsNumber(s, v.num)
	}
	return false
}

func enumAllowsString(s *reqspec.Schema, v string) bool {
	for _, e := range s.Enum {
		if e.Kind == reqspec.StringValue && e.String == v {
			return true
		}
	}
	return false
}

func enumAllowsBool(s *reqspec.Schema, v bool) bool {
	for _, e := range s.Enum {
		if e.Kind == reqspec.BoolValue && e.Bool == v {
			return true
		}
	}
	return false
}

func enumAllowsNumber(s *reqspec.Schema, v float64) bool {
	for _, e := range s.Enum {
		if e.Kind == reqspec.NumberValue && e.Number == v {
			return true
		}
	}
	return false
}

// permits reports whether the schema allows values of type t.
func permits(s *reqspec.Schema, t string) bool { return s.Type == "" || s.Type == t }

const reasonNotNullable = "Value is not nullable"

func boolIssue(s *reqspec.Schema) string {
	if !permits(s, "boolean") {
		return s.TypeReason
	}
	return ""
}

func numberIssue(s *reqspec.Schema, v float64) string {
	requireInteger := s.Type == "integer"
	if requireInteger {
		if v != math.Trunc(v) {
			return "value must be an integer"
		}
	} else if !permits(s, "integer") && !permits(s, "number") {
		return s.TypeReason
	}
	if requireInteger && s.Format != "" {
		if why := integerFormat(s.Format, v); why != "" {
			return fmt.Sprintf("integer doesn't match the format %q (%s)", s.Format, why)
		}
	}
	if s.ExclusiveMinimum && !(v > s.Minimum) {
		return fmt.Sprintf("number must be more than %g", s.Minimum)
	}
	if s.ExclusiveMaximum && !(v < s.Maximum) {
		return fmt.Sprintf("number must be less than %g", s.Maximum)
	}
	if s.HasMinimum && !(s.Minimum <= v) {
		return fmt.Sprintf("number must be at least %g", s.Minimum)
	}
	if s.HasMaximum && !(s.Maximum >= v) {
		return fmt.Sprintf("number must be at most %g", s.Maximum)
	}
	return ""
}

// integerFormat checks an integer against the range of its format, int32 or int64.
func integerFormat(format string, v float64) string {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if format == "int32" {
		lo, hi = math.MinInt32, math.MaxInt32
	}
	var n int64
	switch {
	case v == float64(math.MaxInt64): // 2^63: MaxInt64 rounds up to it
		n = math.MaxInt64
	case v >= float64(math.MinInt64) && v < float64(math.MaxInt64):
		n = int64(v)
	default:
		return fmt.Sprintf("value should be between %v and %v", int64(math.MinInt64), int64(math.MaxInt64))
	}
	if n < lo || n > hi {
		return fmt.Sprintf("value should be between %v and %v", lo, hi)
	}
	return ""
}

// stringIssue checks text against a string schema. Lengths are in characters.
func stringIssue(s *reqspec.Schema, text string) string {
	if !permits(s, "string") {
		return s.TypeReason
	}
	// A text has at most as many characters as bytes, and at least a quarter as many: the
	// characters are counted only when the bytes do not settle it.
	n := uint64(len(text))
	if s.MinLength != 0 && n/4 < s.MinLength && (n < s.MinLength || uint64(utf8.RuneCountInString(text)) < s.MinLength) {
		return fmt.Sprintf("minimum string length is %d", s.MinLength)
	}
	if s.HasMaxLength && n > s.MaxLength && uint64(utf8.RuneCountInString(text)) > s.MaxLength {
		return fmt.Sprintf("maximum string length is %d", s.MaxLength)
	}
	if s.Format != "" {
		if err := dateFormat(s.Format, text); err != nil {
			return fmt.Sprintf("string doesn't match the format %q (%v)", s.Format, err)
		}
	}
	return ""
}

func countIssue(s *reqspec.Schema, n int) string {
	if s.MinItems != 0 && uint64(n) < s.MinItems {
		return fmt.Sprintf("minimum number of items is %d", s.MinItems)
	}
	if s.HasMaxItems && uint64(n) > s.MaxItems {
		return fmt.Sprintf("maximum number of items is %d", s.MaxItems)
	}
	return ""
}

// The RFC 3339 patterns of the date and date-time formats, as kin-openapi checks them; the
// messages quote them.
const (
	dateOnlyPattern = `^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])$`
	dateTimePattern = `^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])T([0-1][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)([0-1][0-9]|2[0-3]):[0-5][0-9])$`
)

// The patterns are compiled when first needed, not when the emulator starts.
var (
	dateOnlyRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(dateOnlyPattern) })
	dateTimeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(dateTimePattern) })
)

// dateFormat checks text against the date or date-time format: the pattern, then that the month
// has the day.
func dateFormat(format, text string) error {
	var re *regexp.Regexp
	switch format {
	case "date":
		re = dateOnlyRE()
	case "date-time":
		re = dateTimeRE()
	default:
		return nil
	}
	if !re.MatchString(text) {
		return fmt.Errorf(`string doesn't match pattern "%s"`, re.String())
	}
	_, err := time.Parse(time.DateOnly, text[:len(time.DateOnly)])
	return err
}

// checkBody checks a JSON body's presence and media type, then reports what checkJSONBody found
// wrong with it against its schema.
func checkBody(r *http.Request, body *reqspec.Body, data []byte, issue *schemaIssue) *apiError {
	if len(data) == 0 {
		if body.Required {
			return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "body", "request body: %s", reasonRequired)
		}
		return nil
	}
	if len(body.Content) == 0 {
		return nil
	}
	ct := r.Header.Get("Content-Type")
	mt := lookupContent(body.Content, ct)
	if mt == nil {
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "body",
			"request body: header Content-Type has unexpected value %q", ct)
	}
	if mt.Schema == nil || issue == nil {
		return nil
	}
	return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, issue.field(), "request body: %s", issue.reason)
}

// lookupContent finds the media type a Content-Type selects: the whole value, then the value
// without parameters, then a wildcard, each in lower case.
func lookupContent(content []reqspec.MediaType, contentType string) *reqspec.MediaType {
	find := func(want string) *reqspec.MediaType {
		for i := range content {
			if content[i].Type == want {
				return &content[i]
			}
		}
		return nil
	}
	if contentType == "" {
		return find("*/*")
	}
	mime := strings.ToLower(strings.TrimSpace(contentType))
	if mt := find(mime); mt != nil {
		return mt
	}
	base, _, _ := strings.Cut(mime, ";")
	base = strings.TrimSpace(base)
	if mt := find(base); mt != nil {
		return mt
	}
	typ, _, ok := strings.Cut(base, "/")
	if !ok {
		return nil
	}
	if mt := find(typ + "/*"); mt != nil {
		return mt
	}
	return find("*/*")
}

// schemaIssue is the first way a JSON body breaks its schema, in kin-openapi's order.
type schemaIssue struct {
	path   []string // the keys and indexes to the value at fault
	reason string
}

// field names the value at fault as the 400 does: its path ("users.0"), else the property a
// reason says is missing, else "body".
func (i *schemaIssue) field() string {
	if len(i.path) > 0 {
		return strings.Join(i.path, ".")
	}
	if m := missingPropertyRE().FindStringSubmatch(i.reason); m != nil {
		return m[1]
	}
	return "body"
}

var missingPropertyRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`property "([^"]+)" is missing`) })
