package contracttests

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/acmock/acmock/generated/acapi"
)

// userIDCount is how many generated user IDs TestUserIDRoundTrip plays.
const userIDCount = 200

// defaultUserIDSeed seeds the generator unless ACMOCK_CONTRACT_SEED says otherwise; a failure
// prints the seed, so a run can be repeated.
const defaultUserIDSeed = 20261128

// edgeUserIDs are the IDs every run plays, before the generated ones.
var edgeUserIDs = []string{
	" ", "+", "%", "/", "\\", `"`, "'", "&", "?", "#", "=", ";", ",", ":", "@", "~", "*",
	"a b", "a+b", "a%2Bb", "a%2Fb", "a/b", "a//b", "/a", "a/", "100%", "%%", "%zz", "%2", "%20",
	`"quoted"`, "'single'", "it's", `back\slash`, "a?b=c&d", "a#b", "..a", "a..", ".a.", "...",
	" leading", "trailing ", "  ", "+ +", "tab\there", "line\nbreak", "nul\x00byte", "del\x7f",
	"élève", "e\u0301le\u0300ve", "straße", "İstanbul", "ıi", "中文用户", "日本語", "한국어", "العربية", "עברית",
	"😀", "👩‍👩‍👧", "🏳️‍🌈", "\u00a0nbsp", "zero\u200bwidth", "\ufeffbom", "Ω≈ç√",
	strings.Repeat("x", 256), strings.Repeat("é", 256), strings.Repeat("😀", 256), strings.Repeat("%", 256), strings.Repeat("+", 256),
}

// idPieces are what generated IDs are made of: ASCII, every character that means something in a
// URL, quotes, whitespace and non-ASCII of every width.
var idPieces = []string{
	"a", "b", "z", "A", "Q", "0", "7", "-", "_", ".", "~",
	" ", "+", "/", "%", "%2F", "%20", "%2B", "?", "#", "&", "=", ";", ",", ":", "@", "!", "$", "(", ")", "*", "[", "]",
	`"`, "'", "`", "\\", "|", "^", "{", "}", "<", ">", "\t",
	"é", "ß", "ü", "Ø", "ñ", "中", "文", "日", "й", "Ω", "ı", "\u00a0", "\u200b", "\u0301", "😀", "🚀", "👍🏽",
}

// generateUserIDs returns n distinct user IDs of 1 to 256 characters from a seeded generator. The
// IDs "." and ".." are left out: servers and proxies remove them from paths as dot segments
// (NOTES 7).
func generateUserIDs(seed uint64, n int) []string {
	rng := rand.New(rand.NewPCG(seed, 0x7573_6572_6964))
	seen := map[string]bool{".": true, "..": true}
	var out []string
	add := func(id string) {
		if !seen[id] && id != "" && utf8.RuneCountInString(id) <= 256 {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range edgeUserIDs {
		add(id)
	}
	for len(out) < n {
		parts := 1 + rng.IntN(12)
		if rng.IntN(10) == 0 {
			parts = 60 + rng.IntN(60)
		}
		var b strings.Builder
		for range parts {
			b.WriteString(idPieces[rng.IntN(len(idPieces))])
		}
		id := []rune(b.String())
		add(string(id[:min(len(id), 256)]))
	}
	return out[:n]
}

func userIDSeed(t *testing.T) uint64 {
	if s := os.Getenv("ACMOCK_CONTRACT_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ACMOCK_CONTRACT_SEED=%q: %v", s, err)
		}
		return seed
	}
	return defaultUserIDSeed
}

// TestUserIDRoundTrip plays the life of a user for 200 user IDs holding spaces, "+", "/", "%",
// quotes, control characters and non-ASCII, encoded in paths like the official client (quote_plus):
// add, check the phone, register it through a link, log in, approve, log out, delete. Each ID must
// come back byte for byte wherever the service hands it back.
func TestUserIDRoundTrip(t *testing.T) {
	tg := newTarget(t)
	seed := userIDSeed(t)
	ids := generateUserIDs(seed, userIDCount)
	if len(ids) != userIDCount {
		t.Fatalf("generated %d IDs, want %d", len(ids), userIDCount)
	}
	acmock := tg.cfg.control
	for i, id := range ids {
		if tg.cfg.remote {
			// A shared server may hold IDs from other runs: make these unique, within 256 characters.
			r := []rune(tg.prefix + id)
			id = string(r[:min(len(r), 256)])
		}
		t.Run(fmt.Sprintf("id-%03d", i), func(t *testing.T) {
			tg.parallel(t)
			defer func() {
				if t.Failed() {
					t.Logf("user ID %q (%d of seed %d; ACMOCK_CONTRACT_SEED=%d repeats the run)", id, i, seed, seed)
				}
			}()
			tg.addUsers(t, id)
			device := tg.userURL("/management/has_registered_mobile_device", id)
			hasPhone := func(want bool) {
				t.Helper()
				r := tg.do(t, call{method: http.MethodGet, url: device, signer: tg.signer()})
				var out acapi.DeviceRegisteredResponse
				if r.status != http.StatusOK || json.Unmarshal(r.raw, &out) != nil || out.DeviceRegistered != want {
					t.Fatalf("has_registered_mobile_device: want device_registered %v, got %s", want, r)
				}
			}
			hasPhone(false)
			if acmock {
				// The ID also travels as the display name, in the query string.
				r := tg.do(t, call{method: http.MethodGet, signer: tg.signer(),
					url: tg.userURL("/management/device_registration_link", id) + "?display_name=" + url.QueryEscape(id)})
				var link acapi.RegistrationLinkResponse
				if r.status != http.StatusOK || json.Unmarshal(r.raw, &link) != nil {
					t.Fatalf("registration link: %s", r)
				}
				reg := tg.do(t, call{method: http.MethodGet, url: link.RegisterUrl, edit: func(r *http.Request) { r.Header.Set("Accept", "application/json") }})
				var registered struct {
					UserID string `json:"user_id"`
				}
				if reg.status != http.StatusOK || json.Unmarshal(reg.raw, &registered) != nil || registered.UserID != id {
					t.Fatalf("opening the link registered %q, want %q: %s", registered.UserID, id, reg)
				}
				hasPhone(true)
				s := tg.authenticate(t, id)
				if ss := tg.setStatus(t, s.token, acapi.SessionStatusActive); ss.User != id || ss.Application != tg.appID {
					t.Fatalf("the control API shows session %s as %q's of %s, want %q's", s.token, ss.User, ss.Application, id)
				}
				if got := tg.status(t, s); got.SessionStatus != acapi.SessionStatusActive || !got.Authenticated {
					t.Fatalf("after approval: %+v", got)
				}
				tg.logout(t, s)
			} else {
				r := tg.do(t, call{method: http.MethodPost, url: tg.userURL("/authentication/authenticate_user", id) + "?methods=", body: []byte("{}"), signer: tg.signer()})
				if r.status != http.StatusOK || !strings.Contains(string(r.raw), "NO_MOBILE_DEVICE") {
					t.Fatalf("authenticate without a phone: %s", r)
				}
			}
			res, err := tg.api.DeleteUsersWithResponse(context.Background(), tg.appID, acapi.UsersRequest{Users: []string{id}})
			if err != nil || res.JSON200 == nil {
				t.Fatalf("delete: %v %v", err, res)
			}
			r := tg.do(t, call{method: http.MethodGet, url: device, signer: tg.signer()})
			expectError(t, r, http.StatusNotFound, acapi.ErrorCodeUnknownUser, "user_id")
		})
	}
}

// TestUserIDGeneratorIsSeeded keeps the property test reproducible: one seed, one list.
func TestUserIDGeneratorIsSeeded(t *testing.T) {
	t.Parallel()
	a, b, c := generateUserIDs(1, 300), generateUserIDs(1, 300), generateUserIDs(2, 300)
	if strings.Join(a, "\x01") != strings.Join(b, "\x01") {
		t.Fatal("the same seed gave two lists")
	}
	if strings.Join(a, "\x01") == strings.Join(c, "\x01") {
		t.Fatal("two seeds gave the same list")
	}
	var spaces, plus, slash, percent, quote, nonASCII int
	for _, id := range a {
		for _, probe := range []struct {
			n   *int
			has bool
		}{
			{&spaces, strings.Contains(id, " ")}, {&plus, strings.Contains(id, "+")}, {&slash, strings.Contains(id, "/")},
			{&percent, strings.Contains(id, "%")}, {&quote, strings.ContainsAny(id, `"'`)}, {&nonASCII, strings.ContainsFunc(id, func(r rune) bool { return r > 127 })},
		} {
			if probe.has {
				*probe.n++
			}
		}
	}
	for name, n := range map[string]int{"space": spaces, "+": plus, "/": slash, "%": percent, "quote": quote, "non-ASCII": nonASCII} {
		if n < 20 {
			t.Errorf("only %d of 300 IDs hold a %s", n, name)
		}
	}
}
