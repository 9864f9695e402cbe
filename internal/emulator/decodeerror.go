package emulator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
)

// decodeError is the 400 for an error of the generated code's request binding. A body passes the
// checks and still fails to decode when one of its numbers does not fit the Go value it goes into:
// 1e400 anywhere in an authenticate body (a map whose values are all decoded), or in a number
// field. encoding/json's text names no field, so the 400 names the number's path in the body.
// Anything else is answered with the error's own text.
func decodeError(r *http.Request, err error) *apiError {
	var ute *json.UnmarshalTypeError
	if num, isNumber := "", false; errors.As(err, &ute) {
		if num, isNumber = strings.CutPrefix(ute.Value, "number "); isNumber {
			field := numberPath(requestBody(r), num, ute.Offset)
			if field == "" {
				field = cmp.Or(ute.Field, "body")
			}
			return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, field,
				"request body: the number %s is out of range: it must fit in %s", clip.Input(num), goNumberType(ute))
		}
	}
	return errorf(http.StatusBadRequest, acapi.ErrorCodeInvalidRequest, "", "%v", err)
}

// goNumberType says what a number must fit in, for the Go type it was decoded into.
func goNumberType(ute *json.UnmarshalTypeError) string {
	t := ""
	if ute.Type != nil {
		t = ute.Type.String()
	}
	switch {
	case t == "float32":
		return "a 32-bit float (magnitude at most about 3.4e38)"
	case t == "" || t == "float64" || strings.HasPrefix(t, "map[") || strings.HasPrefix(t, "interface"):
		return "a 64-bit float (magnitude at most about 1.8e308)"
	default:
		return "a Go " + t
	}
}

// numberPath finds, in a body of valid JSON, the number literal num that the decoder stopped at
// (encoding/json reports the offset of the literal's end, or of the byte after it) and returns its
// path ("a.b.1"), or "" if there is none.
func numberPath(body []byte, num string, end int64) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type level struct {
		array   bool
		index   int    // in an array: the current element
		key     string // in an object: the current value's key
		inValue bool   // in an object: the key was read, its value comes next
	}
	var stack []level
	valueDone := func() {
		if n := len(stack); n > 0 && !stack[n-1].array {
			stack[n-1].inValue = false
		}
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		top := len(stack) - 1
		if top >= 0 && !stack[top].array && !stack[top].inValue {
			if key, ok := tok.(string); ok {
				stack[top].key, stack[top].inValue = key, true
				continue
			}
		}
		if tok == json.Delim('}') || tok == json.Delim(']') {
			stack = stack[:top]
			valueDone()
			continue
		}
		if top >= 0 && stack[top].array {
			stack[top].index++
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, level{})
			continue
		case json.Delim('['):
			stack = append(stack, level{array: true, index: -1})
			continue
		}
		if n, ok := tok.(json.Number); ok && string(n) == num && (dec.InputOffset() == end || dec.InputOffset()+1 == end) {
			parts := make([]string, len(stack))
			for i, l := range stack {
				parts[i] = l.key
				if l.array {
					parts[i] = strconv.Itoa(l.index)
				}
			}
			return cmp.Or(strings.Join(parts, "."), "body")
		}
		valueDone()
	}
}
