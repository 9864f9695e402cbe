package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
)

// apiError is the one error model of the emulator: a code from the spec's ErrorCode enum, the HTTP
// status that goes with it, a sentence for people and, when there is one, the field at fault.
type apiError struct {
	Status       int
	Code         acapi.ErrorCode
	Message      string
	Field        string
	StringToSign string
	// full is the sentence before the cut at maxMessage, for writeError's boundQuotes.
	full string
}

// errorf builds an error. What quotes client input passes it through clip.Input; as a last bound,
// the field is cut at clip.Quote bytes and the sentence at maxMessage, so an answer never grows
// with the request.
func errorf(status int, code acapi.ErrorCode, field, format string, args ...any) *apiError {
	msg := fmt.Sprintf(format, args...)
	e := &apiError{Status: status, Code: code, Field: clip.Input(field), Message: clip.String(msg, maxMessage)}
	if len(msg) > clip.Quote {
		e.full = msg
	}
	return e
}

// maxMessage bounds an error's sentence, in bytes.
const maxMessage = 1024

// body returns the JSON body of the error as the spec's Error schema.
func (e *apiError) body() acapi.Error {
	b := acapi.Error{Status: false, Code: e.Code, Message: e.Message}
	if e.Field != "" {
		b.Field = &e.Field
	}
	if e.StringToSign != "" {
		b.StringToSign = &e.StringToSign
	}
	return b
}

// writeError writes e as the response and records its code for the request log.
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.full != "" {
		e.Message = clip.String(boundQuotes(r, e.full), maxMessage)
	}
	if info := infoOf(w, r); info != nil {
		info.errCode = string(e.Code)
		if info.message == "" {
			info.message = e.Message
		}
		info.stringToSign = e.StringToSign
	}
	writeJSON(w, e.Status, e.body())
}

// boundQuotes cuts, in a message, every path segment and query value of r longer than
// clip.Quote down to what clip.Input makes of it. The emulator's own messages quote input through
// clip.Input already; this is for those a library words (kin-openapi, the generated parameter
// binding: `parsing "…": invalid syntax`), so that they too quote at most clip.Quote bytes of
// what the client sent. It looks only at messages long enough to hold such a quote.
func boundQuotes(r *http.Request, msg string) string {
	if len(msg) <= clip.Quote || r == nil || r.URL == nil {
		return msg
	}
	var long []string
	add := func(raw string, decode func(string) (string, error)) {
		for _, v := range []string{raw, decodeOr(raw, decode)} {
			if len(v) > clip.Quote {
				long = append(long, v)
				if q := strconv.Quote(v); q[1:len(q)-1] != v {
					long = append(long, q[1:len(q)-1]) // as %q writes it
				}
			}
		}
	}
	for _, seg := range strings.Split(r.URL.EscapedPath(), "/") {
		add(seg, url.PathUnescape)
	}
	for _, pair := range strings.FieldsFunc(r.URL.RawQuery, func(c rune) bool { return c == '&' || c == ';' }) {
		_, value, _ := strings.Cut(pair, "=")
		add(value, url.QueryUnescape)
	}
	slices.SortFunc(long, func(a, b string) int { return len(b) - len(a) }) // the longest first
	for _, v := range long {
		if strings.Contains(msg, v) {
			msg = strings.ReplaceAll(msg, v, clip.Input(v))
		}
	}
	return msg
}

func decodeOr(s string, decode func(string) (string, error)) string {
	if d, err := decode(s); err == nil {
		return d
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing left to tell it
}

// things counts things in English: "1 user", "2 users".
func things(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}
