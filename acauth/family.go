package acauth

import (
	"fmt"
	"math/bits"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// HeaderFamily is the prefix shared by the timestamp and version header names of one lineage of
// clients: its headers are the prefix followed by "-Timestamp" and "-Version". The service was
// called Sonikpass, then Activeconnect, then IAMPASS, and its clients and documents spell the
// word "Authentication" two ways, so six families exist. The verifier accepts all of them; a
// Signer sends one (see Signer.Headers).
type HeaderFamily string

// The six header families. The plain name of each lineage is what its own clients send; the
// suffixed name is the other spelling.
const (
	// FamilyActiveconnect is what the official Python client (Activeconnect 0.0.8) sends, and
	// the Signer's default.
	FamilyActiveconnect HeaderFamily = "X-Activeconnect-Authentication"
	// FamilyActiveconnectAuthentiaction is the spelling of the published Activeconnect
	// documentation.
	FamilyActiveconnectAuthentiaction HeaderFamily = "X-Activeconnect-Authentiaction"
	// FamilyIAMPASS is the spelling of the IAMPASS documentation (misspelling kept), which the
	// IAMPASS Python package, the same client rebranded, is taken to send.
	FamilyIAMPASS HeaderFamily = "X-IAMPASS-Authentiaction"
	// FamilyIAMPASSAuthentication is the IAMPASS prefix spelled correctly.
	FamilyIAMPASSAuthentication HeaderFamily = "X-IAMPASS-Authentication"
	// FamilySonikpass is what the Activeconnect iOS SDK (2020) sends.
	FamilySonikpass HeaderFamily = "X-Sonikpass-Authentication"
	// FamilySonikpassAuthentiaction is the Sonikpass prefix with the documentation's misspelling.
	FamilySonikpassAuthentiaction HeaderFamily = "X-Sonikpass-Authentiaction"
)

// families is every family, in the order the verifier reports them: headers that disagree are
// listed in this order, and ties between their values are broken by it.
var families = [...]HeaderFamily{
	FamilyActiveconnect, FamilyActiveconnectAuthentiaction,
	FamilyIAMPASS, FamilyIAMPASSAuthentication,
	FamilySonikpass, FamilySonikpassAuthentiaction,
}

const numFamilies = len(families)

const (
	timestampSuffix = "-Timestamp"
	versionSuffix   = "-Version"
)

// The two headers of a family, as indexes into documented and canonical.
const (
	timestampHeader = 0
	versionHeader   = 1
)

var suffixes = [2]string{timestampSuffix, versionSuffix}

// documented holds each family's header names as the family spells them, and canonical the same
// names in canonical MIME form (the keys of an http.Header), so that neither signing nor
// verifying builds a name per request.
var documented, canonical = func() (d, c [numFamilies][2]string) {
	for i, f := range families {
		d[i] = [2]string{f.Timestamp(), f.Version()}
		c[i] = [2]string{textproto.CanonicalMIMEHeaderKey(d[i][0]), textproto.CanonicalMIMEHeaderKey(d[i][1])}
	}
	return d, c
}()

// HeaderFamilies returns the six families the verifier accepts.
func HeaderFamilies() []HeaderFamily { return families[:] }

// Timestamp returns the family's timestamp header name, e.g. X-IAMPASS-Authentiaction-Timestamp.
func (f HeaderFamily) Timestamp() string { return string(f) + timestampSuffix }

// Version returns the family's version header name, e.g. X-IAMPASS-Authentiaction-Version.
func (f HeaderFamily) Version() string { return string(f) + versionSuffix }

// Valid reports whether f is one of the six families.
func (f HeaderFamily) Valid() bool { return f.index() >= 0 }

func (f HeaderFamily) index() int {
	for i, g := range families {
		if f == g {
			return i
		}
	}
	return -1
}

// ParseHeaderFamily reads a family from a flag or setting, without regard to case: a lineage's
// name (activeconnect, iampass, sonikpass) picks what that lineage's clients send, and any of the
// six prefixes (X-IAMPASS-Authentication, ...) picks exactly that spelling.
func ParseHeaderFamily(s string) (HeaderFamily, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "activeconnect":
		return FamilyActiveconnect, nil
	case "iampass":
		return FamilyIAMPASS, nil
	case "sonikpass":
		return FamilySonikpass, nil
	}
	for _, f := range families {
		if strings.EqualFold(strings.TrimSpace(s), string(f)) {
			return f, nil
		}
	}
	names := make([]string, numFamilies)
	for i, f := range families {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown header family %q: use activeconnect, iampass, sonikpass or one of %s", truncate(s, 64), strings.Join(names, ", "))
}

// protocolHeaders is what one pass over a request's header map found: the Authentication
// values, and the timestamp and version values under each family. Names are compared without
// regard to ASCII case, as HTTP compares field names, so a key that is not in canonical form
// (a hand-built http.Header) is found as well as one that net/http canonicalised.
//
// Only the first value of a header and how many it has are kept: a header sent more than once
// is refused whatever its values, so the others are never read. Scanning therefore allocates
// nothing, even when two keys of a hand-built map name one header.
type protocolHeaders struct {
	auth headerValues
	// found[timestampHeader][i] holds the values of family i's timestamp header.
	found [2][numFamilies]headerValues
}

// headerValues is what a request carries under one header name: its first value and how many
// values it has in all (0 when the header is absent).
type headerValues struct {
	first string
	n     int
}

func (hv *headerValues) add(vals []string) {
	if hv.n == 0 && len(vals) > 0 {
		hv.first = vals[0]
	}
	hv.n += len(vals)
}

// scan fills p, which must be zero, from the header map h.
func (p *protocolHeaders) scan(h http.Header) {
	for key, vals := range h {
		switch which, i := matchHeader(key); which {
		case authenticationHeader:
			p.auth.add(vals)
		case timestampHeader, versionHeader:
			p.found[which][i].add(vals)
		}
	}
}

// authenticationHeader is what matchHeader returns for the Authentication header.
const authenticationHeader = 2

// headerCandidate is a protocol header name, in canonical form, that a key of its length may be.
type headerCandidate struct {
	name          string
	which, family int
}

// byLength lists the protocol header names by their length, so that matchHeader looks only at
// the few names a key could be; most keys of a request have a length no name has.
var byLength = func() (t [64][]headerCandidate) {
	t[len(HeaderAuthentication)] = append(t[len(HeaderAuthentication)], headerCandidate{HeaderAuthentication, authenticationHeader, -1})
	for i := range families {
		for which := range suffixes {
			n := canonical[i][which]
			t[len(n)] = append(t[len(n)], headerCandidate{n, which, i})
		}
	}
	return t
}()

// matchHeader tells which protocol header a header map key names, comparing without regard to
// ASCII case: timestampHeader or versionHeader with the index of the family, authenticationHeader,
// or -1 for any other header. A key in canonical form (what net/http makes of every name it
// reads) is matched exactly before any name is compared byte by byte.
func matchHeader(key string) (which, family int) {
	if len(key) >= len(byLength) {
		return -1, -1
	}
	cands := byLength[len(key)]
	for _, c := range cands {
		if key == c.name {
			return c.which, c.family
		}
	}
	for _, c := range cands {
		if asciiEqualFold(key, c.name) {
			return c.which, c.family
		}
	}
	return -1, -1
}

// names appends the documented names of the headers of kind which that p found.
func (p *protocolHeaders) names(out []string, which int) []string {
	for i, vals := range p.found[which] {
		if vals.n > 0 {
			out = append(out, documented[i][which])
		}
	}
	return out
}

// usedNames holds the answers of HeadersUsed for requests that carry at most one family's
// timestamp header and at most one family's version header, which is every request a client
// signs: usedNames[t+1][v+1] names timestamp family t and version family v, -1 meaning none.
// Sharing them means naming a request's headers allocates nothing, and that a journal of
// requests holds one copy of each answer rather than one per request.
var usedNames = func() (t [numFamilies + 1][numFamilies + 1][]string) {
	for ts := -1; ts < numFamilies; ts++ {
		for v := -1; v < numFamilies; v++ {
			var names []string
			if ts >= 0 {
				names = append(names, documented[ts][timestampHeader])
			}
			if v >= 0 {
				names = append(names, documented[v][versionHeader])
			}
			t[ts+1][v+1] = slices.Clip(names)
		}
	}
	return t
}()

// HeadersUsed returns the names of the timestamp and version headers h carries, timestamps
// first, each spelled as its family documents it (X-IAMPASS-Authentiaction-Timestamp, whatever
// case the client used). It tells a log reader which lineage of client sent a request; nil
// means none of the six families' headers is present. The slice may be shared with other
// callers that got the same answer, so it must not be modified (appending to it is safe).
func HeadersUsed(h http.Header) []string {
	// Only which headers are present matters here, not their values: bit i of present[which]
	// says family i carries the header of kind which.
	var present [2]uint
	for key, vals := range h {
		if which, i := matchHeader(key); which != authenticationHeader && which >= 0 && len(vals) > 0 {
			present[which] |= 1 << i
		}
	}
	return usedNamesFor(present)
}

// used is HeadersUsed of the request p was scanned from, without scanning it again.
func (p *protocolHeaders) used() []string {
	var present [2]uint
	for which := range present {
		for i := range numFamilies {
			if p.found[which][i].n > 0 {
				present[which] |= 1 << i
			}
		}
	}
	return usedNamesFor(present)
}

// usedNamesFor returns the documented names of the headers present says a request carries.
func usedNamesFor(present [2]uint) []string {
	if bits.OnesCount(present[timestampHeader]) <= 1 && bits.OnesCount(present[versionHeader]) <= 1 {
		// bits.Len gives the family's index plus one, and 0 for none.
		return usedNames[bits.Len(present[timestampHeader])][bits.Len(present[versionHeader])]
	}
	names := make([]string, 0, bits.OnesCount(present[timestampHeader])+bits.OnesCount(present[versionHeader]))
	for which := range present {
		for i := range numFamilies {
			if present[which]&(1<<i) != 0 {
				names = append(names, documented[i][which])
			}
		}
	}
	return names
}

// pick returns the one value that the headers of kind which (timestampHeader or
// versionHeader) agree on and the documented name of the first header that carries it, or the
// rejection for a missing, repeated or contradictory header. A missing header is named in the
// family of the first header of the other kind, if there is one.
func (p *protocolHeaders) pick(which int) (value, name string, rej *Rejection) {
	what := [2]string{"timestamp", "version"}[which]
	first := -1
	conflict := false
	for i, vals := range p.found[which] {
		switch {
		case vals.n == 0:
			continue
		case vals.n > 1:
			n := documented[i][which]
			return "", "", &Rejection{Code: CodeBadHeader, Field: n, Message: "header " + n + " is sent more than once"}
		case first < 0:
			first, value = i, vals.first
		case vals.first != value:
			conflict = true
		}
	}
	if first < 0 {
		missing := 0 // FamilyActiveconnect
		for i, vals := range p.found[1-which] {
			if vals.n > 0 {
				missing = i
				break
			}
		}
		n := documented[missing][which]
		return "", "", &Rejection{Code: CodeMissingHeader, Field: n, Message: "missing header " + n +
			" (the " + what + " header is also accepted under the X-Activeconnect-, X-IAMPASS- and X-Sonikpass- prefixes, spelled Authentication or Authentiaction)"}
	}
	if conflict {
		return "", "", p.conflict(which, what)
	}
	return value, documented[first][which], nil
}

// conflict explains headers of kind which that carry different values. The value most of them
// carry (on a tie, the value of the first in family order) is taken as the agreed one, and the
// field names the first header whose value differs from it: the odd one out.
func (p *protocolHeaders) conflict(which int, what string) *Rejection {
	vals := &p.found[which]
	agreed, most := "", 0
	for i := range vals {
		if vals[i].n == 0 {
			continue
		}
		n := 0
		for j := range vals {
			if vals[j].n > 0 && vals[j].first == vals[i].first {
				n++
			}
		}
		if n > most {
			agreed, most = vals[i].first, n
		}
	}
	odd, agreeing := -1, -1
	for i := range vals {
		switch {
		case vals[i].n == 0:
		case vals[i].first != agreed && odd < 0:
			odd = i
		case vals[i].first == agreed && agreeing < 0:
			agreeing = i
		}
	}
	names := p.names(nil, which)
	oddName, agreeingName := documented[odd][which], documented[agreeing][which]
	quote := func(s string) string { return strconv.Quote(truncate(s, 32)) }
	var msg string
	if len(names) == 2 {
		msg = "headers " + agreeingName + " and " + oddName + " carry different " + what + "s (" + quote(agreed) +
			" and " + quote(vals[odd].first) + "); send one of them, or the same value in both"
	} else {
		msg = strconv.Itoa(len(names)) + " headers carry the " + what + ", with different values: " + joinNames(names) +
			"; " + oddName + " has " + quote(vals[odd].first) + " where " + agreeingName + " has " + quote(agreed) +
			"; send one of them, or the same value in all"
	}
	return &Rejection{Code: CodeBadHeader, Field: oddName, Message: msg}
}

// joinNames writes "A and B" or "A, B and C".
func joinNames(n []string) string {
	if len(n) < 2 {
		return strings.Join(n, "")
	}
	return strings.Join(n[:len(n)-1], ", ") + " and " + n[len(n)-1]
}

// asciiEqualFold compares header names the way HTTP does: ASCII letters without regard to case,
// every other byte exactly (unlike strings.EqualFold, which folds Unicode too).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
