package emulator

import (
	"encoding/json"
	"fmt"
	"github.com/acmock/acmock/internal/clip"
	"net/http"

	"github.com/acmock/acmock/generated/acapi"
)

// apiError is the one error model of the emulator: a code from the spec's ErrorCode enum, the HTTP
// status that goes with it, a sentence for people and, when there is one, the field at fault.
type apiError struct {
	Status       int
	Code         acapi.ErrorCode
	Message      string
	Field        string
	StringToSign string
}

// errorf builds an error. What quotes client input passes it through clip.Input; as a last bound,
// the field is cut at clip.Quote bytes and the sentence at maxMessage, so an answer never grows
// with the request.
func errorf(status int, code acapi.ErrorCode, field, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Field: clip.Input(field), Message: clip.String(fmt.Sprintf(format, args...), maxMessage)}
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
	if info := infoFrom(r.Context()); info != nil {
		info.errCode = string(e.Code)
		if info.message == "" {
			info.message = e.Message
		}
		info.stringToSign = e.StringToSign
	}
	writeJSON(w, e.Status, e.body())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing left to tell it
}
