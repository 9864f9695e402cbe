package reqlog

import (
	"log/slog"
	"testing"
	"time"
)

// FuzzRequestLineMatchesSlog checks, for any texts, numbers, times, zones and levels, that a
// Logger writes the bytes slog's TextHandler or JSONHandler writes for the same record.
func FuzzRequestLineMatchesSlog(f *testing.F) {
	for i, s := range hostile {
		f.Add(s, hostile[(i+1)%len(hostile)], "HasRegisteredMobileDevice", "app", "alice", "ok",
			hostile[(i+2)%len(hostile)], "X-Activeconnect-Version", uint8(i%3), "", "", "",
			200, int64(testDurations[i%len(testDurations)]), int64(1700000000), int64(123456789), int32(0), int8(0),
			i%2 == 0, "auth", "OFF: unsigned requests accepted")
	}
	f.Add("GET", "/x", "", "", "", "", "", "", uint8(0), "invalid_request", "a \"quoted\"\n message", "drop",
		503, int64(-1), int64(-62135596800), int64(-1), int32(-12600), int8(8), false, "", "")
	f.Fuzz(func(t *testing.T, method, path, op, app, user, hmac, h1, h2 string, nh uint8, errCode, message, fault string,
		status int, dur, sec, nsec int64, zone int32, level int8, json bool, withKey, withValue string) {
		line := &Line{
			Time:  time.Unix(sec, nsec).In(time.FixedZone("", int(zone%(48*3600)))),
			Level: slog.Level(level), Method: method, Path: path, Operation: op, Application: app, User: user,
			Status: status, Duration: time.Duration(dur), HMAC: hmac,
			AuthHeaders: []string{h1, h2}[:nh%3], Error: errCode, Message: message, Fault: fault,
		}
		format := Text
		if json {
			format = JSON
		}
		var with []string
		if withKey != "" {
			with = []string{withKey, withValue}
		}
		if line.Level < allLevels { // filtering is TestLevelFilteringMatchesSlog's
			line.Level = allLevels
		}
		checkSame(t, format, allLevels, with, line)
	})
}
