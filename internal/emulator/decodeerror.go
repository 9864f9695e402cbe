package emulator

import (
	"cmp"
	"encoding/json"
	"errors"
	"net/http"
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
	if errors.As(err, &ute) {
		if num, isNumber := strings.CutPrefix(ute.Value, "number "); isNumber {
			field := cmp.Or(numberPath(requestBody(r), num, ute.Offset), ute.Field, "body")
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

// numberPath finds, in a body that passed the checks, the number literal num that the decoder
// stopped at (encoding/json reports the offset of the literal's end, or of the byte after it) and
// returns its path ("a.b.1"), or "" if there is none. The checks' own walk finds it.
func numberPath(body []byte, num string, end int64) string {
	w := jsonWalker{data: body, text: string(body), number: num, numberEnd: int(end)}
	w.path = w.pathBuf[:0]
	w.value(nil, false)
	return w.numberField
}
