package reqlog

import (
	"strconv"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// appendText appends the line as slog.TextHandler writes its record, newline included.
func (l *Logger) appendText(b []byte, line *Line) []byte {
	if !line.Time.IsZero() {
		b = append(b, "time="...)
		b = appendTextTime(b, line.Time.Round(0))
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b = appendTextString(b, line.Level.String())
	b = append(b, " msg="+Message...)
	b = append(b, l.pre...)
	b = append(b, " method="...)
	b = appendTextString(b, line.Method)
	b = append(b, " path="...)
	b = appendTextString(b, line.Path)
	b = append(b, " operation="...)
	b = appendTextString(b, line.Operation)
	b = append(b, " application="...)
	b = appendTextString(b, line.Application)
	b = append(b, " user="...)
	b = appendTextString(b, line.User)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(line.Status), 10)
	b = append(b, " duration="...)
	b = append(b, line.Duration.String()...) // a duration is never quoted
	b = append(b, " hmac="...)
	b = appendTextString(b, line.HMAC)
	if len(line.AuthHeaders) > 0 {
		b = append(b, " auth_headers="...)
		b = appendTextHeaders(b, line.AuthHeaders)
	}
	if line.Error != "" {
		b = append(b, " error="...)
		b = appendTextString(b, line.Error)
		b = append(b, " message="...)
		b = appendTextString(b, line.Message)
	}
	if line.Fault != "" {
		b = append(b, " fault="...)
		b = appendTextString(b, line.Fault)
	}
	return append(b, '\n')
}

// appendJSON appends the line as slog.JSONHandler writes its record, newline included.
func (l *Logger) appendJSON(b []byte, line *Line) []byte {
	b = append(b, '{')
	if !line.Time.IsZero() {
		b = append(b, `"time":`...)
		b = appendJSONTime(b, line.Time.Round(0))
		b = append(b, ',')
	}
	b = append(b, `"level":`...)
	b = appendJSONString(b, line.Level.String())
	b = append(b, `,"msg":"`+Message+`"`...)
	b = append(b, l.pre...)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, line.Method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, line.Path)
	b = append(b, `,"operation":`...)
	b = appendJSONString(b, line.Operation)
	b = append(b, `,"application":`...)
	b = appendJSONString(b, line.Application)
	b = append(b, `,"user":`...)
	b = appendJSONString(b, line.User)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(line.Status), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(line.Duration), 10) // nanoseconds, as encoding/json writes a Duration
	b = append(b, `,"hmac":`...)
	b = appendJSONString(b, line.HMAC)
	if len(line.AuthHeaders) > 0 {
		b = append(b, `,"auth_headers":[`...)
		for i, h := range line.AuthHeaders {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendMarshalledString(b, h)
		}
		b = append(b, ']')
	}
	if line.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, line.Error)
		b = append(b, `,"message":`...)
		b = appendJSONString(b, line.Message)
	}
	if line.Fault != "" {
		b = append(b, `,"fault":`...)
		b = appendJSONString(b, line.Fault)
	}
	return append(b, "}\n"...)
}

// appendTextTime appends t as the text handler writes a record's time: RFC 3339 with exactly
// three digits of milliseconds (cut, not rounded). It formats the way slog does, with
// time.RFC3339Nano and a tenth of a millisecond added so that four digits always follow the point,
// then drops the fourth, so that it agrees with slog for every time, odd years included.
func appendTextTime(b []byte, t time.Time) []byte {
	_, offset := t.Zone()
	sec := t.Unix()
	if c := textSecondCache.Load(); c != nil && c.sec == sec && c.offset == offset {
		ms := t.Nanosecond() / int(time.Millisecond)
		b = append(b, c.prefix...)
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		return append(b, c.zone...)
	}
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b[:n+prefixLen], b[n+prefixLen+1:]...)
	if y := t.Year(); y >= 0 && y <= 9999 { // four digits: the seconds end where they always do
		text := string(b[n:])
		textSecondCache.Store(&textSecond{sec: sec, offset: offset,
			prefix: text[:len("2006-01-02T15:04:05")], zone: text[prefixLen:]})
	}
	return b
}

// textSecond is the text time of one second in one zone: what comes before the milliseconds and
// what comes after. A request line takes it from textSecondCache, which holds the last second
// written, rather than formatting the date and the zone again (about a third of the line's cost).
type textSecond struct {
	sec    int64 // Unix seconds
	offset int   // the zone's offset east of UTC, in seconds
	prefix string
	zone   string
}

var textSecondCache atomic.Pointer[textSecond]

// appendJSONTime appends t as the JSON handler writes a time: a quoted time.RFC3339Nano, after an
// error text for a year RFC 3339 cannot hold.
func appendJSONTime(b []byte, t time.Time) []byte {
	if y := t.Year(); y < 0 || y >= 10000 {
		b = append(b, `"!ERROR:time.Time year outside of range [0,9999]"`...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendTextHeaders appends the header names as the text handler writes the auth_headers value:
// "[X-A X-B]", quoted when that needs quoting (as soon as there are two names). The names are
// quoted one by one: they are joined by ASCII bytes, at which strconv.Quote's escaping of the whole
// and of its parts agree.
func appendTextHeaders(b []byte, h []string) []byte {
	quote := len(h) > 1
	for _, s := range h {
		quote = quote || hasSpecial(s)
	}
	if !quote {
		return appendHeaderList(b, h)
	}
	b = append(b, '"', '[')
	for i, s := range h {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendQuotedInner(b, s)
	}
	return append(b, ']', '"')
}

// appendQuotedInner appends strconv.Quote(s) without its quotes.
func appendQuotedInner(b []byte, s string) []byte {
	if quotesAsItIs(s) {
		return append(b, s...)
	}
	n := len(b)
	b = strconv.AppendQuote(b, s)
	return append(b[:n], b[n+1:len(b)-1]...)
}

// quotesAsItIs reports whether strconv.Quote(s) is s between quotes: s is printable ASCII without
// a quote or a backslash.
func quotesAsItIs(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// textSpecial marks the ASCII bytes that make the text handler quote a string: controls, space,
// '=' and '"' (a backslash alone does not).
var textSpecial = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c < ' ' || c == ' ' || c == '=' || c == '"'
	}
	return t
}()

// needsQuoting reports whether the text handler quotes s: when it is empty or hasSpecial.
func needsQuoting(s string) bool { return s == "" || hasSpecial(s) }

// hasSpecial reports whether s holds a byte of textSpecial, invalid UTF-8, U+FFFD, or a rune that
// is a space or not printable.
func hasSpecial(s string) bool {
	for i := 0; i < len(s); {
		if i+8 <= len(s) && textPlain8(load8(s, i)) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if textSpecial[c] {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// The texts of a request line are mostly plain ASCII, which is checked eight bytes at a time: x
// holds eight bytes of the text, and each test below is non-zero when at least one of them is of
// the kind named (the tests from "Bit Twiddling Hacks": exact about whether there is one, which is
// all that is asked of them).
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// load8 reads s[i:i+8] as a little-endian word (the compiler makes it one load).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// below is non-zero when a byte of x is below n (n at most 128).
func below(x uint64, n byte) uint64 { return (x - lsb*uint64(n)) &^ x & msb }

// has is non-zero when a byte of x is c.
func has(x uint64, c byte) uint64 { return below(x^(lsb*uint64(c)), 1) }

// textPlain8 reports whether the eight bytes are ASCII the text handler writes unquoted.
func textPlain8(x uint64) bool {
	return x&msb|below(x, ' '+1)|has(x, '"')|has(x, '=') == 0
}

// jsonPlain8 reports whether the eight bytes are ASCII a JSON string holds as they are (for the
// HTML-escaping marshal flavour, also without <, > and &).
func jsonPlain8(x uint64, marshal bool) bool {
	bad := x&msb | below(x, ' ') | has(x, '"') | has(x, '\\')
	if marshal {
		bad |= has(x, '<') | has(x, '>') | has(x, '&')
	}
	return bad == 0
}

// appendTextString appends s as the text handler writes a string: as it is, or quoted by
// strconv.Quote when needsQuoting says so.
func appendTextString(b []byte, s string) []byte {
	if !needsQuoting(s) {
		return append(b, s...)
	}
	if quotesAsItIs(s) { // "a b", "": what strconv.Quote writes, sooner
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return strconv.AppendQuote(b, s)
}

// appendJSONString appends s quoted as the JSON handler writes a string (its own escaping, not
// encoding/json's: no HTML escapes, and \b and \f as \u0008 and \u000c).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONEscaped(b, s, false)
	return append(b, '"')
}

// appendMarshalledString appends s as json.Marshal writes a string, which is how the JSON handler
// writes each name of auth_headers (a json.Marshaler): with <, > and & escaped too, and \b and \f
// short.
func appendMarshalledString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONEscaped(b, s, true)
	return append(b, '"')
}

// jsonSafe marks the ASCII bytes a JSON string holds as they are; htmlSafe is the same without
// <, > and &.
var jsonSafe, htmlSafe = func() (js, hs [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		js[c] = c >= ' ' && c != '"' && c != '\\'
		hs[c] = js[c] && c != '<' && c != '>' && c != '&'
	}
	return js, hs
}()

const hexDigits = "0123456789abcdef"

// appendJSONEscaped appends s escaped for a JSON string, without the quotes: invalid UTF-8 as
// \ufffd, U+2028 and U+2029 escaped. marshal selects encoding/json's escaping (HTML escapes,
// \b and \f) over the slog handler's.
func appendJSONEscaped(b []byte, s string, marshal bool) []byte {
	safe := &jsonSafe
	if marshal {
		safe = &htmlSafe
	}
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && jsonPlain8(load8(s, i), marshal) {
			i += 8
			continue
		}
		if c := s[i]; c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch {
			case c == '\\' || c == '"':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case marshal && c == '\b':
				b = append(b, '\\', 'b')
			case marshal && c == '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}
