package emulator

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// flushCounter is a ResponseWriter that counts the flushes asked of it.
type flushCounter struct {
	*httptest.ResponseRecorder
	flushes int
}

func (f *flushCounter) Flush() { f.flushes++ }

// TestAnswerEarlyOnlySendsWholeAnswers: answerEarly flushes an answer only when its Content-Length
// is set and that many bytes were written, and no fault wrote it; a partial answer, one without a
// length, one a fault wrote, and no answer at all are left to net/http.
func TestAnswerEarlyOnlySendsWholeAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		length string // "" sets none
		body   string
		fault  bool
		want   int
	}{
		{"whole", "5", "hello", false, 1},
		{"partial", "10", "hello", false, 0},
		{"longer than its length", "3", "hello", false, 0},
		{"no length", "", "hello", false, 0},
		{"a length that is not a number", "five", "hello", false, 0},
		{"written by a fault", "5", "hello", true, 0},
		{"no body written", "0", "", false, 0},
	}
	for _, c := range cases {
		w := &flushCounter{ResponseRecorder: httptest.NewRecorder()}
		info := &requestInfo{faultAnswered: c.fault}
		rec := &statusRecorder{ResponseWriter: w, info: info}
		if c.length != "" {
			rec.Header().Set("Content-Length", c.length)
		}
		rec.WriteHeader(http.StatusOK)
		if c.body != "" {
			_, _ = rec.Write([]byte(c.body))
		}
		rec.answerEarly()
		if w.flushes != c.want {
			t.Errorf("%s: %d flushes, want %d", c.name, w.flushes, c.want)
		}
	}
}
