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

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/acmock/acmock/generated/acapi"
)

// The checks in this file close the gap between what kin-openapi validates and what the
// generated handlers then decode. kin-openapi decodes a JSON body into a map, with exact keys;
// the handlers decode the same bytes into structs with encoding/json, which also binds a key
// that differs only in case ("Users" for "users"), keeps the last of two equal keys, stops after
// the first JSON value and turns invalid UTF-8 into U+FFFD. A body that any of these would read
// differently is refused here, so that the body a handler acts on is exactly the one validated.

// jsonBodySchema returns the schema of the operation's JSON request body, and whether the
// operation takes a JSON body at all.
func jsonBodySchema(op *operation) (*openapi3.Schema, bool) {
	if op.op.RequestBody == nil || op.op.RequestBody.Value == nil {
		return nil, false
	}
	mt := op.op.RequestBody.Value.Content.Get("application/json")
	if mt == nil {
		return nil, false
	}
	if mt.Schema == nil {
		return nil, true
	}
	return mt.Schema.Value, true
}

// mediaType is the Content-Type's media type in lower case (without parameters), or "" when
// there is none.
func mediaType(r *http.Request) string {
	mt, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

const formType = "application/x-www-form-urlencoded"

// checkJSONBody checks a JSON request body before the spec validation sees it. acceptForm lets
// a JSON body sent with curl's default form type through (the control API does, for curl -d):
// the Content-Type is then rewritten, so that validation and handler read it as JSON.
func checkJSONBody(r *http.Request, op *operation, body []byte, acceptForm bool) *apiError {
	schema, isJSON := jsonBodySchema(op)
	if !isJSON || len(body) == 0 {
		return nil
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
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "Content-Type", "%s", msg)
	}
	if !json.Valid(body) {
		return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "body",
			"the request body is not one valid JSON value (a syntax error, or data after it)")
	}
	w := jsonWalker{data: body}
	w.value(schema)
	return w.err
}

// jsonWalker walks a body that json.Valid accepted, with the schema that describes each part,
// and stops at the first problem. It keeps the path to where it is (keys and indexes) and spells
// it as a field ("users.0") only for the error.
type jsonWalker struct {
	data []byte
	pos  int
	path []string
	err  *apiError
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

func (w *jsonWalker) value(schema *openapi3.Schema) {
	w.space()
	if w.err != nil || w.pos >= len(w.data) {
		return
	}
	switch w.data[w.pos] {
	case '{':
		w.object(schema)
	case '[':
		w.array(schema)
	case '"':
		w.str(false)
	default: // a number, true, false or null
		for w.pos < len(w.data) && !strings.ContainsRune(",]} \t\r\n", rune(w.data[w.pos])) {
			w.pos++
		}
	}
}

// smallObject is how many keys an object may have before repeated keys are found with a map
// rather than by comparing each key with the ones before.
const smallObject = 16

func (w *jsonWalker) object(schema *openapi3.Schema) {
	w.pos++ // {
	var keys []string
	var seen map[string]bool
	for w.err == nil {
		w.space()
		if w.data[w.pos] == '}' {
			w.pos++
			return
		}
		if w.data[w.pos] == ',' {
			w.pos++
			w.space()
		}
		key := w.str(true)
		if w.err != nil {
			return
		}
		w.path = append(w.path, key)
		switch {
		case seen != nil && seen[key], seen == nil && slices.Contains(keys, key):
			w.fail("key %q appears twice; send each key once", clip.Input(key))
			return
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
		var child *openapi3.Schema
		if schema != nil {
			if p := schema.Properties[key]; p != nil {
				child = p.Value
			} else {
				for name := range schema.Properties {
					if strings.EqualFold(name, key) {
						w.fail("key %q is not %q: keys are case-sensitive", clip.Input(key), name)
						return
					}
				}
				if ap := schema.AdditionalProperties.Schema; ap != nil {
					child = ap.Value
				}
			}
		}
		w.space()
		w.pos++ // :
		w.value(child)
		w.path = w.path[:len(w.path)-1]
	}
}

func (w *jsonWalker) array(schema *openapi3.Schema) {
	w.pos++ // [
	var items *openapi3.Schema
	if schema != nil && schema.Items != nil {
		items = schema.Items.Value
	}
	w.path = append(w.path, "")
	for i := 0; w.err == nil; i++ {
		w.space()
		switch w.data[w.pos] {
		case ']':
			w.pos++
			w.path = w.path[:len(w.path)-1]
			return
		case ',':
			w.pos++
		}
		w.path[len(w.path)-1] = strconv.Itoa(i)
		w.value(items)
	}
}

// str reads the string at the current position and, for a key, returns it decoded. Raw bytes that are not UTF-8, and \u escapes that are half of a UTF-16
// surrogate pair, are refused: encoding/json would turn both into U+FFFD, so that different
// inputs became the same string.
func (w *jsonWalker) str(isKey bool) string {
	start := w.pos
	escaped := false
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
			if !isKey {
				return ""
			}
			if !escaped {
				return string(w.data[start+1 : w.pos-1])
			}
			var s string
			_ = json.Unmarshal(w.data[start:w.pos], &s) // valid: checked above
			return s
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
	return ""
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
	declared := map[string]bool{}
	for _, params := range []openapi3.Parameters{op.item.Parameters, op.op.Parameters} {
		for _, p := range params {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				declared[p.Value.Name] = true
			}
		}
	}
	if len(declared) == 0 {
		return nil
	}
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		for _, piece := range strings.Split(pair, ";") {
			rawName, rawValue, _ := strings.Cut(piece, "=")
			name, err := url.QueryUnescape(rawName)
			if err != nil || !declared[name] {
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
