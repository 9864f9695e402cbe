// Package reqlog writes the emulator's request log line, the record with the message "request"
// written once per request, without going through log/slog's generic handler: the line is
// appended field by field into a reused buffer and written with one Write.
//
// The bytes are those log/slog's TextHandler or JSONHandler writes for the same record (Line.Record)
// with HandlerOptions that set only the level (no AddSource, no ReplaceAttr): the same keys in the
// same order, the same time format, the same quoting and escaping. A Logger is built next to the
// slog.Logger that writes the other lines, from the same writer, format and level.
package reqlog

import (
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Format is how the line is written.
type Format int

const (
	// Text is slog.TextHandler's key=value format.
	Text Format = iota
	// JSON is slog.JSONHandler's one object a line.
	JSON
)

// Message is the record's message.
const Message = "request"

// Line is what the request log says of one request.
type Line struct {
	Time  time.Time
	Level slog.Level

	Method      string
	Path        string
	Operation   string
	Application string
	User        string
	Status      int
	Duration    time.Duration
	HMAC        string
	// AuthHeaders is written only when it names at least one header.
	AuthHeaders []string
	// Error and Message are written only when Error is set.
	Error   string
	Message string
	// Fault is written only when it is set.
	Fault string
}

// Record is the line as a slog record, for a slog.Handler: a Logger writes the bytes the
// TextHandler or JSONHandler writes for it.
func (l *Line) Record() slog.Record {
	rec := slog.NewRecord(l.Time, l.Level, Message, 0)
	rec.AddAttrs(
		slog.String("method", l.Method), slog.String("path", l.Path),
		slog.String("operation", l.Operation), slog.String("application", l.Application),
		slog.String("user", l.User), slog.Int("status", l.Status),
		slog.Duration("duration", l.Duration), slog.String("hmac", l.HMAC),
	)
	if len(l.AuthHeaders) > 0 {
		rec.AddAttrs(slog.Any("auth_headers", headerNames(l.AuthHeaders)))
	}
	if l.Error != "" {
		rec.AddAttrs(slog.String("error", l.Error), slog.String("message", l.Message))
	}
	if l.Fault != "" {
		rec.AddAttrs(slog.String("fault", l.Fault))
	}
	return rec
}

// headerNames is the record's auth_headers: the text log writes it as fmt writes a []string
// ("[X-A X-B]"), the JSON log as an array, without fmt's reflection.
type headerNames []string

func (h headerNames) MarshalText() ([]byte, error) {
	n := 2
	for _, s := range h {
		n += len(s) + 1
	}
	return appendHeaderList(make([]byte, 0, n), h), nil
}

func (h headerNames) MarshalJSON() ([]byte, error) { return json.Marshal([]string(h)) }

// appendHeaderList appends the names as the text log shows them, before quoting: "[X-A X-B]".
func appendHeaderList(b []byte, h []string) []byte {
	b = append(b, '[')
	for i, s := range h {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, s...)
	}
	return append(b, ']')
}

// Logger writes request lines to an io.Writer.
type Logger struct {
	w      io.Writer
	format Format
	level  slog.Leveler
	// pre is the attributes added by With, written as the handler writes attributes added by
	// slog.Logger.With: after the message, each preceded by its separator.
	pre []byte
}

// New returns a Logger writing lines of the format to w, those at level or above (nil means
// slog.LevelInfo, as for slog.HandlerOptions). Each line is one call of w.Write, which must be
// safe for concurrent use (as it must be for a slog handler shared by several loggers) and must
// not keep the slice it is given.
func New(w io.Writer, format Format, level slog.Leveler) *Logger {
	return &Logger{w: w, format: format, level: level}
}

// With returns a Logger that also writes the attribute key=value on every line, where
// slog.Logger.With(key, value) would have its handler write it. The key must not be empty.
func (l *Logger) With(key, value string) *Logger {
	n := *l
	n.pre = append([]byte(nil), l.pre...)
	if l.format == JSON {
		n.pre = append(n.pre, ',')
		n.pre = appendJSONString(n.pre, key)
		n.pre = append(n.pre, ':')
		n.pre = appendJSONString(n.pre, value)
	} else {
		n.pre = append(n.pre, ' ')
		n.pre = appendTextString(n.pre, key)
		n.pre = append(n.pre, '=')
		n.pre = appendTextString(n.pre, value)
	}
	return &n
}

// Enabled reports whether lines at level are written.
func (l *Logger) Enabled(level slog.Level) bool {
	minLevel := slog.LevelInfo
	if l.level != nil {
		minLevel = l.level.Level()
	}
	return level >= minLevel
}

// Log writes the line, whatever its level (check Enabled first), and returns the writer's error.
func (l *Logger) Log(line *Line) error {
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	if l.format == JSON {
		b = l.appendJSON(b, line)
	} else {
		b = l.appendText(b, line)
	}
	_, err := l.w.Write(b)
	if cap(b) <= maxPooledBuffer { // a line that quoted long texts does not keep its buffer
		*bp = b[:0]
		bufPool.Put(bp)
	}
	return err
}

// maxPooledBuffer is the largest buffer kept for the next line, as slog keeps its own.
const maxPooledBuffer = 16 << 10

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 1024)
	return &b
}}
