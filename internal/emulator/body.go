package emulator

import (
	"encoding/json"
	"fmt"
	"github.com/acmock/acmock/internal/clip"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/reqspec"
)

// The checks in this file close the gap between what the spec validation reads and what the
// generated handlers then decode. The validation reads a JSON body as JSON, with exact keys; the
// handlers decode the same bytes into structs with encoding/json, which also binds a key that
// differs only in case ("Users" for "users"), keeps the last of two equal keys, stops after the
// first JSON value and turns invalid UTF-8 into U+FFFD. A body that any of these would read
// differently is refused here, before any check against the spec, so that the body a handler
// acts on is exactly the one validated. The same walk over the body checks it against its
// schema (see check.go).

// mediaType is the Content-Type's media type in lower case (without parameters), or "" when
// there is none.
func mediaType(r *http.Request) string {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

const formType = "application/x-www-form-urlencoded"

// checkJSONBody checks a JSON request body before the spec validation sees it. acceptForm lets
// a JSON body sent with curl's default form type through (the control API does, for curl -d):
// the Content-Type is then rewritten, so that validation and handler read it as JSON. It also
// walks the body with its schema, and returns the first way the body breaks it (see checkBody),
// which is reported only after the parameters have been checked.
func checkJSONBody(r *http.Request, op *operation, body []byte, acceptForm bool) (*schemaIssue, *apiError) {
	if !op.jsonContent || len(body) == 0 {
		return nil, nil
	}
	mt := mediaType(r)
	if mt == formType && acceptForm && json.Valid(body) {
		r.Header.Set("Content-Type", "application/json")
		mt = "application/json"
	}
	if mt != "application/json" {
		got := r.Header.Get("Content-Type")
		msg := fmt.Sprintf("the request body must be sent with Content-Type: application/json, not %q", clip.Input(got))
		switch {
		case got == "":
			msg = "the request body must be sent with Content-Type: application/json; the request has no Content-Type"
		case mt == formType && acceptForm:
			msg = fmt.Sprintf("the body came as %s (what curl -d sends) and is not JSON either; send JSON, with -H 'Content-Type: application/json'", formType)
		case mt == formType:
			msg += "; curl -d sends that type: add -H 'Content-Type: application/json'"
		}
		return nil, errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "Content-Type", "%s", msg)
	}
	if !json.Valid(body) {
		return nil, errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "body",
			"the request body is not one valid JSON value (a syntax error, or data after it)")
	}
	w := jsonWalker{data: body, text: string(body)}
	w.path = w.pathBuf[:0]
	issue := w.value(op.jsonBody, op.jsonBody != nil)
	if w.err != nil {
		return nil, w.err
	}
	return issue, nil
}

// jsonWalker walks a body that json.Valid accepted, with the schema that describes each part,
// and stops at the first problem. It keeps the path to where it is (keys and indexes) and spells
// it as a field ("users.0") only for the error.
//
// On the way it checks each value against its schema the way kin-openapi's validator does, and
// returns the first problem in that validator's order (the properties of an object by name, the
// items of an array by index, an object's own keywords before its properties' and its required
// ones after). The walk itself does not stop at such a problem: what it refuses (see above) is
// reported before any of them.
type jsonWalker struct {
	data    []byte
	text    string // data as a string, so that keys and values are substrings of it
	pos     int
	path    []string
	pathBuf [8]string
	err     *apiError
	// number, when set, is a number literal to find (see numberPath): its text and the offset of
	// its end, or of the byte after it; numberField is then its path.
	number      string
	numberEnd   int
	numberField string
}

func (w *jsonWalker) field() string {
	if len(w.path) == 0 {
		return "body"
	}
	return strings.Join(w.path, ".")
}

func (w *jsonWalker) fail(format string, args ...any) {
	if w.err == nil {
		w.err = errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, w.field(), "request body: "+format, args...)
	}
}

// issue records a schema problem with the value at the current path (and key, if not empty).
func (w *jsonWalker) issue(reason, key string) *schemaIssue {
	path := make([]string, len(w.path), len(w.path)+1)
	copy(path, w.path)
	if key != "" {
		path = append(path, key)
	}
	return &schemaIssue{path: path, reason: reason}
}

func (w *jsonWalker) space() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\r', '\n':
			w.pos++
		default:
			return
		}
	}
}

// value walks one value. schema describes it (nil: nothing does); check says whether the value is
// checked against it, which it is not when kin-openapi would not reach it (inside an object whose
// type is wrong, say), though the walk still uses the schema to find case-variant keys.
func (w *jsonWalker) value(schema *reqspec.Schema, check bool) *schemaIssue {
	w.space()
	if w.err != nil || w.pos >= len(w.data) {
		return nil
	}
	check = check && schema != nil
	c := w.data[w.pos]
	if check && c != 'n' && schema.Empty {
		check = false // any value but null
	}
	switch c {
	case '{', '[':
		var pre string // a problem with the value itself, found before its contents
		if check {
			typ := "object"
			if c == '[' {
				typ = "array"
			}
			switch {
			case len(schema.Enum) > 0: // an enum lists no objects or arrays
				pre = schema.EnumReason
			case !permits(schema, typ):
				pre = schema.TypeReason
			}
		}
		var issue *schemaIssue
		if pre != "" {
			issue = w.issue(pre, "")
		}
		if c == '{' {
			inner := w.object(schema, check && pre == "")
			if issue == nil {
				issue = inner
			}
			return issue
		}
		inner := w.array(schema, check && pre == "")
		if issue == nil {
			issue = inner
		}
		return issue
	case '"':
		start := w.pos
		escaped := w.str(false)
		if !check || w.err != nil {
			return nil
		}
		text := w.text[start+1 : w.pos-1]
		if escaped {
			text = unquote(w.data[start:w.pos])
		}
		if len(schema.Enum) > 0 && !enumAllowsString(schema, text) {
			return w.issue(schema.EnumReason, "")
		}
		if reason := stringIssue(schema, text); reason != "" {
			return w.issue(reason, "")
		}
		return nil
	}
	// A number, true, false or null.
	start := w.pos
	for w.pos < len(w.data) && !strings.ContainsRune(",]} \t\r\n", rune(w.data[w.pos])) {
		w.pos++
	}
	if w.number != "" && w.numberField == "" && w.text[start:w.pos] == w.number && (w.pos == w.numberEnd || w.pos+1 == w.numberEnd) {
		w.numberField = w.field()
	}
	if !check {
		return nil
	}
	var reason string
	switch token := w.text[start:w.pos]; token {
	case "null":
		if !schema.Nullable {
			reason = reasonNotNullable
			if len(schema.Enum) > 0 && !schema.Empty {
				reason = schema.EnumReason
			}
		}
	case "true", "false":
		if len(schema.Enum) > 0 && !enumAllowsBool(schema, token == "true") {
			reason = schema.EnumReason
		} else {
			reason = boolIssue(schema)
		}
	default:
		f, err := strconv.ParseFloat(token, 64)
		switch {
		case len(schema.Enum) > 0 && (err != nil || !enumAllowsNumber(schema, f)):
			reason = schema.EnumReason
		case err != nil:
			reason = "cannot convert json.Number to float64"
		default:
			reason = numberIssue(schema, f)
		}
	}
	if reason != "" {
		return w.issue(reason, "")
	}
	return nil
}

// smallObject is how many keys an object may have before repeated keys are found with a map
// rather than by comparing each key with the ones before.
const smallObject = 16

func (w *jsonWalker) object(schema *reqspec.Schema, check bool) *schemaIssue {
	w.pos++ // {
	var keysBuf [smallObject]string
	keys := keysBuf[:0]
	var seen map[string]bool
	count := 0
	var first *schemaIssue // the problem under the smallest key
	firstKey := ""
	for w.err == nil {
		w.space()
		if w.data[w.pos] == '}' {
			w.pos++
			break
		}
		if w.data[w.pos] == ',' {
			w.pos++
			w.space()
		}
		key := w.key()
		if w.err != nil {
			return nil
		}
		count++
		w.path = append(w.path, key)
		switch {
		case seen != nil && seen[key], seen == nil && slices.Contains(keys, key):
			w.fail("key %q appears twice; send each key once", clip.Input(key))
			return nil
		case seen != nil:
			seen[key] = true
		case len(keys) < smallObject:
			keys = append(keys, key)
		default:
			seen = make(map[string]bool, 2*smallObject)
			for _, k := range keys {
				seen[k] = true
			}
			seen[key] = true
		}
		var child *reqspec.Schema
		var issue *schemaIssue
		if schema != nil {
			if p := schema.Property(key); p != nil {
				child = p
			} else {
				for _, p := range schema.Properties {
					if strings.EqualFold(p.Name, key) {
						w.fail("key %q is not %q: keys are case-sensitive", clip.Input(key), p.Name)
						return nil
					}
				}
				if ap := schema.AdditionalProperties; ap != nil {
					child = ap
				} else if check && schema.NoAdditionalProperties {
					w.path = w.path[:len(w.path)-1]
					issue = w.issue(fmt.Sprintf("property %q is unsupported", key), "")
					w.path = append(w.path, key)
				}
			}
		}
		w.space()
		w.pos++ // :
		if inner := w.value(child, check); issue == nil {
			issue = inner
		}
		if issue != nil && (first == nil || key < firstKey) {
			first, firstKey = issue, key
		}
		w.path = w.path[:len(w.path)-1]
	}
	if !check || w.err != nil {
		return nil
	}
	if schema.MinProperties != 0 && uint64(count) < schema.MinProperties {
		return w.issue(fmt.Sprintf("there must be at least %d properties", schema.MinProperties), "")
	}
	if schema.HasMaxProperties && uint64(count) > schema.MaxProperties {
		return w.issue(fmt.Sprintf("there must be at most %d properties", schema.MaxProperties), "")
	}
	if first != nil {
		return first
	}
	for _, k := range schema.Required {
		if !(seen[k] || seen == nil && slices.Contains(keys, k)) {
			return w.issue(fmt.Sprintf("property %q is missing", k), k)
		}
	}
	return nil
}

func (w *jsonWalker) array(schema *reqspec.Schema, check bool) *schemaIssue {
	w.pos++ // [
	var items *reqspec.Schema
	if schema != nil {
		items = schema.Items
	}
	var first *schemaIssue // the problem with the item of the smallest index
	n := 0
	w.path = append(w.path, "")
	for i := 0; w.err == nil; i++ {
		w.space()
		switch w.data[w.pos] {
		case ']':
			w.pos++
			w.path = w.path[:len(w.path)-1]
			if !check {
				return nil
			}
			if reason := countIssue(schema, n); reason != "" {
				return w.issue(reason, "")
			}
			return first
		case ',':
			w.pos++
		}
		w.path[len(w.path)-1] = strconv.Itoa(i)
		if issue := w.value(items, check); first == nil {
			first = issue
		}
		n++
	}
	return nil
}

// str reads the string at the current position, and reports whether it holds an escape. Raw
// bytes that are not UTF-8, and \u escapes that are half of a UTF-16 surrogate pair, are
// refused: encoding/json would turn both into U+FFFD, so that different inputs became the same
// string. For a key it returns the key decoded (see key).
func (w *jsonWalker) str(isKey bool) (escaped bool) {
	what := func() string {
		if isKey {
			if len(w.path) == 0 {
				return "a key"
			}
			return "a key in " + w.field()
		}
		return w.field()
	}
	w.pos++ // "
	for w.pos < len(w.data) && w.err == nil {
		c := w.data[w.pos]
		switch {
		case c == '"':
			w.pos++
			return escaped
		case c == '\\':
			escaped = true
			if w.data[w.pos+1] != 'u' {
				w.pos += 2
				continue
			}
			r := hex4(w.data[w.pos+2 : w.pos+6])
			w.pos += 6
			if !utf16.IsSurrogate(r) {
				continue
			}
			if r < 0xdc00 && w.pos+6 <= len(w.data) && w.data[w.pos] == '\\' && w.data[w.pos+1] == 'u' {
				if r2 := hex4(w.data[w.pos+2 : w.pos+6]); r2 >= 0xdc00 && r2 <= 0xdfff {
					w.pos += 6
					continue
				}
			}
			w.fail("%s holds \\u%04x, half of a UTF-16 surrogate pair, which is not a character", what(), r)
		case c < utf8.RuneSelf:
			w.pos++
		default:
			r, size := utf8.DecodeRune(w.data[w.pos:])
			if r == utf8.RuneError && size == 1 {
				w.fail("%s is not valid UTF-8 (byte 0x%02x at offset %d of the body); send text in UTF-8", what(), c, w.pos)
			}
			w.pos += size
		}
	}
	return escaped
}

// key reads the key at the current position and returns it decoded.
func (w *jsonWalker) key() string {
	start := w.pos
	escaped := w.str(true)
	if w.err != nil {
		return ""
	}
	if escaped {
		return unquote(w.data[start:w.pos])
	}
	return w.text[start+1 : w.pos-1]
}

// unquote decodes a JSON string that json.Valid accepted.
func unquote(quoted []byte) string {
	var s string
	_ = json.Unmarshal(quoted, &s)
	return s
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32) // valid: checked by json.Valid
	return rune(n)
}

// checkQuery refuses a query parameter of the operation that the generated code would read as
// something else than what the client sent: a pair that is not validly percent-encoded or uses
// ";" (net/url drops both silently), or text that is not UTF-8 once decoded. Parameters the
// operation does not have are ignored, by the handler as here.
func checkQuery(r *http.Request, op *operation) *apiError {
	if r.URL.RawQuery == "" {
		return nil
	}
	if len(op.query) == 0 {
		return nil
	}
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		for _, piece := range strings.Split(pair, ";") {
			rawName, rawValue, _ := strings.Cut(piece, "=")
			name, err := url.QueryUnescape(rawName)
			if err != nil || !slices.Contains(op.query, name) {
				continue
			}
			if strings.Contains(pair, ";") {
				return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, name,
					"query parameter %s: %q holds \";\"; separate query parameters with \"&\" and percent-encode \";\" as %%3B", name, clip.Input(pair))
			}
			value, err := url.QueryUnescape(rawValue)
			if err != nil {
				return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, name,
					"query parameter %s: %q is not validly percent-encoded", name, clip.Input(rawValue))
			}
			if !utf8.ValidString(value) {
				return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, name,
					"query parameter %s is not valid UTF-8 once percent-decoded (%q); encode text as UTF-8 before percent-encoding it", name, clip.Input(rawValue))
			}
		}
	}
	return nil
}

// badPathParam handles a path parameter of the API that does not decode to UTF-8 text, in the
// documented order of the checks: an application ID or session token that cannot name one is the
// 404 it would be anyway, answered now; any other parameter is a 400 kept in info.pathErr for
// after the signature check.
func badPathParam(info *requestInfo, name, raw string, decodeErr error, how string) *apiError {
	why := "is not valid UTF-8 once percent-decoded"
	if decodeErr != nil {
		why = "is not validly percent-encoded"
	}
	switch name {
	case "application_id":
		return errorf(http.StatusNotFound, acapi.ErrorCodeUnknownApplication, name,
			"no application %q: an application ID that %s cannot name one", clip.Input(raw), why)
	case "session_token":
		// The session's own secret signs the request, so there is nothing to check it with.
		return pathParamError(name, raw, decodeErr, how)
	}
	info.pathErr = pathParamError(name, raw, decodeErr, how)
	return nil
}

// pathParamError is the 400 for a path parameter that does not decode, or decodes to text that
// is not UTF-8.
func pathParamError(name, raw string, decodeErr error, how string) *apiError {
	if decodeErr != nil {
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, name,
			"path parameter %s %q is not validly percent-encoded%s", name, clip.Input(raw), how)
	}
	return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, name,
		"path parameter %s %q is not valid UTF-8 once percent-decoded; encode text as UTF-8 before percent-encoding it", name, clip.Input(raw))
}
