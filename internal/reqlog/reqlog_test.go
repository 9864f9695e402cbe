package reqlog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"
)

// slogLine is what slog's handler of the format writes for the line's record, with the level and
// the With attributes given: the bytes a Logger must write.
func slogLine(t testing.TB, format Format, level slog.Leveler, with []string, line *Line) (string, bool) {
	t.Helper()
	var buf bytes.Buffer
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(&buf, opts)
	if format == JSON {
		h = slog.NewJSONHandler(&buf, opts)
	}
	for i := 0; i+1 < len(with); i += 2 {
		h = h.WithAttrs([]slog.Attr{slog.String(with[i], with[i+1])})
	}
	if !h.Enabled(context.Background(), line.Level) {
		return "", false
	}
	if err := h.Handle(context.Background(), line.Record()); err != nil {
		t.Fatalf("slog: %v", err)
	}
	return buf.String(), true
}

// reqlogLine is what a Logger writes for the line.
func reqlogLine(t testing.TB, format Format, level slog.Leveler, with []string, line *Line) (string, bool) {
	t.Helper()
	var buf bytes.Buffer
	l := New(&buf, format, level)
	for i := 0; i+1 < len(with); i += 2 {
		l = l.With(with[i], with[i+1])
	}
	if !l.Enabled(line.Level) {
		return "", false
	}
	if err := l.Log(line); err != nil {
		t.Fatalf("Log: %v", err)
	}
	return buf.String(), true
}

func checkSame(t *testing.T, format Format, level slog.Leveler, with []string, line *Line) {
	t.Helper()
	want, wantOn := slogLine(t, format, level, with, line)
	got, gotOn := reqlogLine(t, format, level, with, line)
	if wantOn != gotOn {
		t.Fatalf("format %d, level %v, line level %v: enabled %v, slog says %v", format, level, line.Level, gotOn, wantOn)
	}
	if level == allLevels && !wantOn {
		t.Fatalf("slog dropped a line at %v with the minimum level %v", line.Level, level)
	}
	if got != want {
		t.Fatalf("format %d, with %q, line %+v:\n got  %q\n want %q", format, with, *line, got, want)
	}
}

// hostile are texts that exercise every rule of quoting and escaping in both formats.
var hostile = []string{
	"", " ", "plain", "/management/has_registered_mobile_device/app/alice", "a b", "a=b", "=", `"`, `a"b`,
	`\`, `a\b`, `\"`, "'", "new\nline", "cr\rlf", "tab\there", "\x00", "\x01\x1f", "\x7f", "\b\f",
	"<script>&amp;</script>", "é", "日本語", "emoji 😀", "\u00a0", "\u2028", "\u2029", "\u200b", "\ufeff",
	"\ufffd", "\xff", "\xc3", "a\xc3(b", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\u0085", "\u3000", "x\u0300",
	"[X-A X-B]", "{}", `{"json":true}`, "a,b", "%2F%20+", "😀"[:2], "ok", "signature_mismatch", "latency 2s",
	strings.Repeat("a", 2048) + "…(70000 bytes)", strings.Repeat("é", 1024) + "…(3000 bytes)",
	strings.Repeat(`"= `, 700), strings.Repeat("\x00\xff\n", 700),
}

var testTimes = []time.Time{
	{}, // no time: the handlers leave the key out
	time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC),
	time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
	time.Date(2024, 1, 2, 3, 4, 5, 1000000, time.FixedZone("X", -(3*3600+30*60))),
	time.Date(2024, 1, 2, 3, 4, 5, 120000000, time.FixedZone("Y", 5*3600+45*60+17)),
	time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
	time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
	time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
	time.Date(10000, 1, 1, 0, 0, 0, 500000, time.UTC),
	time.Now(), // with a monotonic reading, in the local zone
	time.Now().UTC(),
}

var testDurations = []time.Duration{
	0, 1, 999, time.Microsecond, 1500 * time.Nanosecond, 999999, time.Millisecond, 1234567, time.Second,
	61 * time.Second, time.Hour + 2*time.Minute + 3400*time.Millisecond, -1, -time.Hour, math.MaxInt64, math.MinInt64,
}

// allLevels is a minimum level below those of testLevels: every line is written.
const allLevels = slog.LevelDebug - 8

var testLevels = []slog.Level{slog.LevelInfo, slog.LevelError, slog.LevelDebug, slog.LevelWarn, slog.LevelInfo + 2, slog.LevelError + 4, slog.LevelDebug - 3}

// TestLineMatchesSlog writes lines with hostile texts, odd times and durations, every optional
// field present or not, in both formats, with and without With attributes, and checks them byte for
// byte against slog's handlers.
func TestLineMatchesSlog(t *testing.T) {
	withs := [][]string{nil, {"auth", "OFF: unsigned requests accepted"}, {"a", "1", "k=", "v\n"}}
	n := 0
	for _, format := range []Format{Text, JSON} {
		for i, s := range hostile {
			line := Line{
				Time: testTimes[i%len(testTimes)], Level: testLevels[i%len(testLevels)],
				Method: s, Path: hostile[(i+1)%len(hostile)], Operation: hostile[(i+2)%len(hostile)],
				Application: hostile[(i+3)%len(hostile)], User: hostile[(i+4)%len(hostile)],
				Status: []int{200, 0, 503, 599, -1, math.MaxInt}[i%6], Duration: testDurations[i%len(testDurations)],
				HMAC: hostile[(i+5)%len(hostile)],
			}
			for variant := range 8 {
				l := line
				if variant&1 != 0 {
					l.AuthHeaders = []string{s, hostile[(i+6)%len(hostile)]}[:1+i%2]
				}
				if variant&2 != 0 {
					l.Error, l.Message = s, hostile[(i+7)%len(hostile)]
					if l.Error == "" {
						l.Error = "invalid_request"
					}
				}
				if variant&4 != 0 {
					l.Fault = "latency " + s
				}
				for _, with := range withs {
					checkSame(t, format, allLevels, with, &l)
					n++
				}
			}
		}
		// Every time and duration on its own, on an ordinary line.
		for _, tm := range testTimes {
			for _, d := range testDurations {
				checkSame(t, format, allLevels, nil, &Line{Time: tm, Level: slog.LevelInfo, Method: "GET", Path: "/", Status: 200, Duration: d, HMAC: "ok"})
				n++
			}
		}
	}
	t.Logf("%d lines compared", n)
}

// TestLevelFilteringMatchesSlog checks that a Logger drops and keeps the levels the handler does,
// for the levels acmock's --log-level takes and an unset one.
func TestLevelFilteringMatchesSlog(t *testing.T) {
	for _, min := range []slog.Leveler{nil, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelError + 1} {
		for _, lv := range testLevels {
			for _, format := range []Format{Text, JSON} {
				checkSame(t, format, min, nil, &Line{Time: testTimes[1], Level: lv, Method: "GET", Path: "/x", Status: 500})
			}
		}
	}
	// A LevelVar is read on every line, as the handler reads it.
	var lv slog.LevelVar
	l := New(new(bytes.Buffer), Text, &lv)
	if !l.Enabled(slog.LevelInfo) {
		t.Fatal("INFO dropped at level INFO")
	}
	lv.Set(slog.LevelWarn)
	if l.Enabled(slog.LevelInfo) || !l.Enabled(slog.LevelError) {
		t.Fatal("after LevelVar.Set(WARN): INFO kept or ERROR dropped")
	}
}

// TestWithDoesNotChangeTheParent checks that With returns a new Logger and leaves its receiver's
// lines as they were, also when With is called twice on the same Logger.
func TestWithDoesNotChangeTheParent(t *testing.T) {
	var buf bytes.Buffer
	base := New(&buf, Text, nil)
	a := base.With("a", "1")
	b := a.With("b", "2")
	c := a.With("c", "3")
	line := &Line{Time: testTimes[1], Level: slog.LevelInfo, Method: "GET", Path: "/", Status: 200, HMAC: "ok"}
	for _, l := range []*Logger{base, a, b, c} {
		if err := l.Log(line); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{"msg=request method=", "msg=request a=1 method=", "msg=request a=1 b=2 method=", "msg=request a=1 c=3 method="}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("line %d = %q, want it to hold %q", i, got[i], want[i])
		}
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// TestLogReturnsTheWriterError checks that a failed write is reported, as the handler reports it.
func TestLogReturnsTheWriterError(t *testing.T) {
	err := New(failingWriter{}, JSON, nil).Log(&Line{Level: slog.LevelInfo})
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("Log = %v, want the writer's error", err)
	}
}

// TestOneWritePerLine checks that each line reaches the writer in one Write, so that a writer
// shared with slog's handler never interleaves lines.
func TestOneWritePerLine(t *testing.T) {
	w := &countingWriter{}
	l := New(w, Text, nil)
	long := &Line{Level: slog.LevelInfo, Path: strings.Repeat("\x00", 2048), Message: strings.Repeat("\"", 4096), Error: "x"}
	for range 3 {
		if err := l.Log(long); err != nil {
			t.Fatal(err)
		}
	}
	if w.writes != 3 || strings.Count(w.buf.String(), "\n") != 3 {
		t.Fatalf("%d writes, %d lines, want 3 of each", w.writes, strings.Count(w.buf.String(), "\n"))
	}
}

type countingWriter struct {
	buf    bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.buf.Write(p)
}

// TestTimesOfOneSecondMatchSlog: lines written one after another in the same second, the next
// second, another zone with the same second, and odd years, each as slog writes it: the date and
// zone one line takes from the line before are those of its own time.
func TestTimesOfOneSecondMatchSlog(t *testing.T) {
	base := time.Date(2026, 12, 1, 23, 59, 58, 0, time.UTC)
	east, west := time.FixedZone("", 5*3600+30*60), time.FixedZone("", -7*3600)
	var times []time.Time
	for _, at := range []time.Time{base, base.Add(999 * time.Millisecond), base.Add(time.Second),
		base.Add(1999999999 * time.Nanosecond), base.Add(2 * time.Second)} {
		times = append(times, at, at.Add(time.Millisecond), at.In(east), at.In(west), at.In(east).Add(time.Nanosecond), at.Local())
	}
	times = append(times, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 5e6, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 6e6, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 999e6, time.UTC), time.Unix(-1, 1e6).In(east))
	for _, at := range times {
		line := typicalLine
		line.Time = at
		checkSame(t, Text, slog.LevelInfo, nil, &line)
		checkSame(t, Text, slog.LevelInfo, nil, &line) // the second time from the cache
	}
}
