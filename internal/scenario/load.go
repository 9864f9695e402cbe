package scenario

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v4"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/store"
)

// Problem is one mistake in a scenario file, at the position of the offending key or value.
type Problem struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (p Problem) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Column, p.Msg)
}

// Problems is every mistake found in one file. Its message has one line per problem, for the first
// MaxListed, then one line saying how many more there are.
type Problems []Problem

// MaxListed is how many problems a message or an answer lists; a file can have tens of thousands.
const MaxListed = 100

// maxMessage bounds a problem's sentence, in bytes. What it quotes of the file is cut at
// clip.Quote bytes, so a problem is a few hundred bytes however long the key or value it names.
const maxMessage = 1024

func (ps Problems) Error() string {
	var b strings.Builder
	for i, p := range ps[:min(len(ps), MaxListed)] {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	if more := len(ps) - MaxListed; more > 0 {
		fmt.Fprintf(&b, "\n%s: %d more problems not listed", ps[0].File, more)
	}
	return b.String()
}

// LoadFile reads and checks a scenario file.
func LoadFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario %s: %w", path, err)
	}
	return Parse(path, data)
}

// Parse reads and checks a scenario. name is used in messages and as the default scenario name.
// The error, when not nil, is Problems.
func Parse(name string, data []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, Problems{syntaxProblem(name, data, err)}
	}
	d := &decoder{file: name}
	sc := &Scenario{File: name, Source: data, Timeout: DefaultTimeout}
	if len(doc.Content) == 0 {
		d.problems = append(d.problems, Problem{File: name, Line: 1, Column: 1,
			Msg: "the file holds no scenario; a scenario needs at least an application (see scenarios/README.md)"})
		return nil, d.problems
	}
	var second yaml.Node
	if err := dec.Decode(&second); err == nil {
		d.add(&second, "a scenario file holds one YAML document; this second one (after ---) would be ignored")
	} else if !errors.Is(err, io.EOF) {
		d.problems = append(d.problems, syntaxProblem(name, data, err))
	}
	d.scenario(doc.Content[0], sc)
	if sc.Name == "" {
		sc.Name = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	if len(d.problems) > 0 {
		// The checks across the scenario run last; the list reads in the order of the file, with
		// what is about the whole file (placed at its start) at the end.
		root := doc.Content[0]
		whole := func(p Problem) int {
			if p.Line == root.Line && p.Column == root.Column {
				return 1
			}
			return 0
		}
		slices.SortStableFunc(d.problems, func(a, b Problem) int {
			return cmp.Or(cmp.Compare(whole(a), whole(b)), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, d.problems
	}
	sc.index()
	return sc, nil
}

// syntaxProblem turns a YAML syntax error into a Problem at the exact line and column where the
// parser met what it could not accept. The parser reports that position itself (one pass over the
// file), so a syntax error costs no more to locate than the parse that found it.
func syntaxProblem(file string, data []byte, err error) Problem {
	var le *yaml.LoadError
	if !errors.As(err, &le) || le.Mark.Line < 1 {
		return Problem{File: file, Line: 1, Column: 1, Msg: clip.String("YAML syntax: "+err.Error(), maxMessage)}
	}
	line, col, msg := le.Mark.Line, max(le.Mark.Column, 1), le.Message
	switch {
	case strings.Contains(msg, "tab character") || strings.Contains(msg, "cannot start any token") && lineHasTab(data, le.Mark.Index):
		msg = "a tab indents this line; indent with spaces"
	case strings.HasPrefix(le.ContextMsg, "while parsing a flow") && le.ContextMark.Line > 0:
		// The bracket that was never closed is what the author has to find; say where it opened.
		what, at := strings.TrimPrefix(le.ContextMsg, "while parsing a "), le.ContextMark
		if what == "flow node" {
			// The parser names where it wanted an entry (at the end of the file, for a bracket
			// opened on the last line), not the bracket: find the one still open there.
			if b, bl, bc, ok := openBracket(data, le.Mark.Index); ok {
				what, at.Line, at.Column = map[byte]string{'[': "flow sequence", '{': "flow mapping"}[b], bl, bc
			}
		}
		msg = fmt.Sprintf("%s (in the %s opened at line %d, column %d)", msg, what, at.Line, at.Column)
	}
	return Problem{File: file, Line: line, Column: col, Msg: clip.String("YAML syntax: "+msg, maxMessage)}
}

// openBracket finds the innermost flow bracket ([ or {) still open at byte offset end, skipping
// quoted scalars and comments (a heuristic for the message only: block scalars are not
// parsed), and returns it with its line and column (from 1, in characters).
func openBracket(data []byte, end int) (bracket byte, line, col int, ok bool) {
	type open struct {
		b         byte
		line, col int
	}
	var stack []open
	line, col = 1, 0
	var quote byte
	comment := false
	prev := byte('\n')
	for i := 0; i < min(end, len(data)); i++ {
		c := data[i]
		if c&0xC0 != 0x80 { // a character starts here (not a UTF-8 continuation byte)
			col++
		}
		switch {
		case c == '\r' && i+1 < len(data) && data[i+1] == '\n':
			col-- // one line break with the \n after it
		case c == '\n' || c == '\r':
			line, col, comment, c = line+1, 0, false, '\n' // a quoted scalar may go on
		case comment:
		case quote == '"':
			if c == '\\' {
				i++ // the escaped character
				col++
			} else if c == '"' {
				quote = 0
			}
		case quote == '\'':
			if c == '\'' {
				if i+1 < len(data) && data[i+1] == '\'' {
					i++ // '' is a quote inside the scalar
					col++
				} else {
					quote = 0
				}
			}
		case c == '#' && (prev == ' ' || prev == '\t' || prev == '\n'):
			comment = true
		case (c == '"' || c == '\'') && (prev == ' ' || prev == '\t' || prev == '\n' || prev == '[' || prev == '{' || prev == ',' || prev == ':'):
			quote = c
		case (c == '[' || c == '{') && (len(stack) > 0 || prev == ' ' || prev == '\t' || prev == '\n'):
			// Outside brackets one opens only where a value starts (a plain scalar may hold one).
			stack = append(stack, open{c, line, col})
		case (c == ']' || c == '}') && len(stack) > 0:
			stack = stack[:len(stack)-1]
		}
		prev = c
	}
	if len(stack) == 0 {
		return 0, 0, 0, false
	}
	top := stack[len(stack)-1]
	return top.b, top.line, top.col, true
}

// lineHasTab reports whether the line holding byte offset i contains a tab.
func lineHasTab(data []byte, i int) bool {
	i = min(max(i, 0), len(data))
	start := bytes.LastIndexByte(data[:i], '\n') + 1
	end := bytes.IndexByte(data[i:], '\n')
	if end < 0 {
		end = len(data) - i
	}
	return bytes.IndexByte(data[start:i+end], '\t') >= 0
}

// decoder walks the YAML tree, so every problem can name its line and column.
type decoder struct {
	file     string
	problems Problems
	// badTimeout is set when the scenario's timeout is itself a problem: steps are then not
	// judged against a timeout nobody wrote.
	badTimeout bool
}

func (d *decoder) add(n *yaml.Node, format string, args ...any) {
	d.problems = append(d.problems, Problem{File: d.file, Line: n.Line, Column: n.Column, Msg: clip.String(fmt.Sprintf(format, args...), maxMessage)})
}

// mapping calls field for every key of a mapping node, rejecting unknown and repeated keys.
func (d *decoder) mapping(n *yaml.Node, what string, keys []string, field func(key string, k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		d.add(n, "%s must be a mapping with keys %s, not %s", what, strings.Join(keys, ", "), describe(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(keys, k.Value):
			d.add(k, "unknown key %q in %s; expected one of %s", clip.Input(k.Value), what, strings.Join(keys, ", "))
		case seen[k.Value]:
			d.add(k, "key %q appears twice in %s", clip.Input(k.Value), what)
		default:
			seen[k.Value] = true
			field(k.Value, k, v)
		}
	}
	return true
}

func (d *decoder) sequence(n *yaml.Node, what string, item func(i int, v *yaml.Node)) {
	if n.Kind != yaml.SequenceNode {
		d.add(n, "%s must be a list, not %s", what, describe(n))
		return
	}
	for i, v := range n.Content {
		item(i, v)
	}
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "empty"
	}
	return fmt.Sprintf("%q", clip.Input(n.Value))
}

func (d *decoder) str(n *yaml.Node, what string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.add(n, "%s must be a string, not %s", what, describe(n))
		return ""
	}
	return n.Value
}

func (d *decoder) nonEmpty(n *yaml.Node, what string) string {
	s := d.str(n, what)
	if s == "" && n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		d.add(n, "%s must not be empty", what)
	}
	return s
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		return n.Value == "true"
	}
	d.add(n, "%s must be true or false, not %s", what, describe(n))
	return false
}

func (d *decoder) integer(n *yaml.Node, what string, lo, hi int) int {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		v, err := strconv.Atoi(n.Value)
		if err == nil && v >= lo && v <= hi {
			return v
		}
	}
	d.add(n, "%s must be a whole number from %d to %d, not %s", what, lo, hi, describe(n))
	return 0
}

func (d *decoder) duration(n *yaml.Node, what string, max time.Duration) time.Duration {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		v, err := time.ParseDuration(n.Value)
		if err == nil && v >= 0 && v <= max {
			return v
		}
		if err == nil {
			d.add(n, "%s must be between 0s and %v, not %s", what, max, clip.Input(n.Value))
			return 0
		}
	}
	if _, err := strconv.ParseFloat(n.Value, 64); n.Kind == yaml.ScalarNode && err == nil {
		v := clip.Input(n.Value)
		d.add(n, "%s must be a duration with a unit, such as %ss or %sms, not the bare number %s", what, v, v, v)
		return 0
	}
	d.add(n, "%s must be a duration such as 500ms, 2s or 1m30s, not %s", what, describe(n))
	return 0
}

const maxTimeline = 24 * time.Hour

// maxUserID is the longest user ID api/openapi.yaml accepts.
const maxUserID = 256

// maxLatency keeps a delayed answer inside the server's 90 s write timeout.
const maxLatency = 60 * time.Second

func (d *decoder) scenario(n *yaml.Node, sc *Scenario) {
	var steps []*timelineRef
	var expectNodes, appNodes []*yaml.Node
	d.mapping(n, "the scenario", []string{"name", "description", "timeout", "seed", "applications", "defaults", "faults", "expect"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			sc.Name = d.nonEmpty(v, "name")
		case "description":
			sc.Description = d.str(v, "description")
		case "timeout":
			before := len(d.problems)
			sc.Timeout = d.duration(v, "timeout", maxTimeline)
			if len(d.problems) == before && sc.Timeout == 0 {
				d.add(v, "timeout must be longer than 0s")
			}
			if len(d.problems) > before {
				sc.Timeout, d.badTimeout = DefaultTimeout, true
			}
		case "seed":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
				seed, err := strconv.ParseUint(v.Value, 10, 64)
				if err == nil {
					sc.Seed = seed
					return
				}
			}
			d.add(v, "seed must be a whole number from 0 to %d, not %s", uint64(math.MaxUint64), describe(v))
		case "applications":
			d.sequence(v, "applications", func(_ int, an *yaml.Node) {
				sc.Applications = append(sc.Applications, d.application(an, &steps))
				appNodes = append(appNodes, an)
			})
		case "defaults":
			d.mapping(v, "defaults", []string{"login", "logins"}, func(key string, k, v *yaml.Node) {
				d.behaviour(key, k, v, &sc.Defaults, &steps)
			})
		case "faults":
			d.sequence(v, "faults", func(_ int, fn *yaml.Node) { sc.Faults = append(sc.Faults, d.fault(fn)) })
		case "expect":
			d.sequence(v, "expect", func(_ int, en *yaml.Node) {
				sc.Expect = append(sc.Expect, d.expectation(en))
				expectNodes = append(expectNodes, en)
			})
		}
	})
	d.crossCheck(sc, n, steps, appNodes, expectNodes)
}

// timelineRef remembers where a timeline was written, to check it against the timeout later.
type timelineRef struct {
	steps []Step
	nodes []*yaml.Node
}

func (d *decoder) application(n *yaml.Node, steps *[]*timelineRef) Application {
	var app Application
	var idNode *yaml.Node
	seen := map[string]bool{}
	ok := d.mapping(n, "an application", []string{"id", "secret", "users"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
			idNode = v
			app.ID = d.nonEmpty(v, "an application's id")
			if n := utf8.RuneCountInString(app.ID); n > store.AppIDLength {
				d.add(v, "an application's id is at most %d characters (the control API's limit), not %d", store.AppIDLength, n)
			}
		case "secret":
			app.Secret = d.nonEmpty(v, "an application's secret")
			if n := utf8.RuneCountInString(app.Secret); n > store.SecretLength {
				d.add(v, "an application's secret is at most %d characters (the control API's limit), not %d", store.SecretLength, n)
			}
		case "users":
			d.sequence(v, "users", func(_ int, un *yaml.Node) {
				u, at := d.user(un, steps)
				if u.ID != "" && seen[u.ID] {
					d.add(at, "user %q is listed twice in this application", clip.Input(u.ID))
				}
				seen[u.ID] = true
				app.Users = append(app.Users, u)
			})
		}
	})
	if ok && idNode == nil {
		d.add(n, "an application needs an id")
	}
	if ok && app.Secret == "" && idNode != nil {
		d.add(n, "application %q needs a secret", clip.Input(app.ID))
	}
	return app
}

func (d *decoder) user(n *yaml.Node, steps *[]*timelineRef) (User, *yaml.Node) {
	var u User
	var idNode *yaml.Node
	phoneOK := true
	ok := d.mapping(n, "a user", []string{"id", "phone", "login", "logins"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
			idNode = v
			u.ID = d.nonEmpty(v, "a user's id")
			if len(u.ID) > maxUserID {
				d.add(v, "a user's id is at most %d bytes (the API's limit), not %d", maxUserID, len(u.ID))
			}
		case "phone":
			before := len(d.problems)
			u.Phone = d.phone(v)
			phoneOK = len(d.problems) == before
		case "login", "logins":
			if u.Behaviour == nil {
				u.Behaviour = &Behaviour{}
			} else {
				d.add(k, "a user takes login or logins, not both")
				return
			}
			d.behaviour(key, k, v, u.Behaviour, steps)
		}
	})
	if ok && idNode == nil {
		d.add(n, "a user needs an id")
	}
	if idNode == nil {
		idNode = n
	}
	if u.Behaviour != nil && u.Phone == nil && ok && phoneOK {
		d.add(idNode, "user %q has a login timeline but no phone; add phone: true", clip.Input(u.ID))
	}
	return u, idNode
}

func (d *decoder) phone(n *yaml.Node) *Phone {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		if n.Value == "true" {
			return &Phone{}
		}
		return nil
	}
	p := &Phone{}
	if !d.mapping(n, "phone", []string{"methods"}, func(_ string, _, v *yaml.Node) {
		d.sequence(v, "methods", func(_ int, mn *yaml.Node) {
			m := acapi.AuthenticationMethod(d.str(mn, "a method"))
			if m != "" && !m.Valid() {
				d.add(mn, "unknown authentication method %q; use acceptance, device or facial", clip.Input(string(m)))
			}
			p.Methods = append(p.Methods, m)
		})
	}) {
		return nil
	}
	return p
}

// behaviour decodes login (one timeline for every login) or logins (one per attempt).
func (d *decoder) behaviour(key string, k, v *yaml.Node, b *Behaviour, steps *[]*timelineRef) {
	if key == "logins" {
		if len(b.Attempts) > 0 {
			d.add(k, "take login or logins, not both")
			return
		}
		d.sequence(v, "logins", func(_ int, tn *yaml.Node) {
			b.Attempts = append(b.Attempts, d.timeline(tn, steps))
		})
		if v.Kind == yaml.SequenceNode && len(v.Content) == 0 {
			d.add(v, "logins needs at least one timeline")
		}
		return
	}
	if len(b.Attempts) > 0 {
		d.add(k, "take login or logins, not both")
		return
	}
	b.Attempts = [][]Step{d.timeline(v, steps)}
}

// timeline decodes a list of steps and checks that each one is a change the real service can make
// from the status before it.
func (d *decoder) timeline(n *yaml.Node, steps *[]*timelineRef) []Step {
	ref := &timelineRef{steps: []Step{}}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		*steps = append(*steps, ref)
		return ref.steps // an empty timeline: the phone never answers
	}
	prev := acapi.SessionStatusPending
	var prevAfter time.Duration = -1
	d.sequence(n, "a login timeline", func(_ int, sn *yaml.Node) {
		var st Step
		var afterNode, statusNode *yaml.Node
		if !d.mapping(sn, "a step", []string{"after", "status"}, func(key string, k, v *yaml.Node) {
			switch key {
			case "after":
				afterNode = v
				st.After = d.duration(v, "after", maxTimeline)
			case "status":
				statusNode = v
				st.Status = acapi.SessionStatus(d.str(v, "status"))
			}
		}) {
			return
		}
		if afterNode == nil {
			d.add(sn, "a step needs after (when, counted from the login)")
			return
		}
		if statusNode == nil {
			d.add(sn, "a step needs status (what the session becomes)")
			return
		}
		switch {
		case !st.Status.Valid():
			d.add(statusNode, "unknown status %q; use identifying, active, walkaway, timeout, cancelled, failed or closed", clip.Input(string(st.Status)))
			return
		case st.Status == acapi.SessionStatusPending:
			d.add(statusNode, "a session starts pending; a step cannot go back to pending")
			return
		case st.After <= prevAfter:
			d.add(afterNode, "steps must be in time order: %v is not after the previous step at %v", st.After, prevAfter)
		case !store.CanTransition(prev, st.Status):
			if !store.Live(prev) {
				d.add(statusNode, "the session already ended %s; nothing can follow it", prev)
			} else {
				d.add(statusNode, "a session cannot go from %s to %s", prev, st.Status)
			}
		}
		prev, prevAfter = st.Status, st.After
		ref.steps = append(ref.steps, st)
		ref.nodes = append(ref.nodes, afterNode)
	})
	*steps = append(*steps, ref)
	return ref.steps
}

// Operations lists the operationIds of api/openapi.yaml that faults and expectations may name.
var Operations = []string{
	"addUsers", "deleteUsers", "getDeviceRegistrationLink", "sendRegistrationSms",
	"hasRegisteredMobileDevice", "lostUserMobileDevice", "authenticateUser", "getSessionStatus", "logout",
}

func (d *decoder) operation(n *yaml.Node) string {
	op := d.str(n, "operation")
	if op != "" && !slices.Contains(Operations, op) {
		d.add(n, "unknown operation %q; use one of %s", clip.Input(op), strings.Join(Operations, ", "))
	}
	return op
}

func (d *decoder) fault(n *yaml.Node) Fault {
	before := len(d.problems)
	var f Fault
	var opNode, respondNode *yaml.Node
	ok := d.mapping(n, "a fault", []string{"name", "operation", "application", "user", "call", "times", "probability", "latency", "respond", "drop", "malformed"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "name":
			f.Name = d.str(v, "name")
		case "operation":
			opNode = v
			f.Operation = d.operation(v)
		case "application":
			f.Application = d.nonEmpty(v, "application")
		case "user":
			f.User = d.nonEmpty(v, "user")
		case "call":
			f.Call = d.integer(v, "call", 1, 1_000_000)
		case "times":
			f.Times = d.integer(v, "times", 1, 1_000_000)
		case "probability":
			p, err := strconv.ParseFloat(v.Value, 64)
			if v.Kind != yaml.ScalarNode || (v.Tag != "!!float" && v.Tag != "!!int") || err != nil || p <= 0 || p > 1 {
				d.add(v, "probability must be a number above 0 and at most 1, not %s", describe(v))
			}
			f.Probability = p
		case "latency":
			f.Latency = d.duration(v, "latency", maxLatency)
		case "respond":
			respondNode = v
			d.mapping(v, "respond", []string{"status", "headers", "body"}, func(key string, k, v *yaml.Node) {
				switch key {
				case "status":
					f.Status = d.integer(v, "status", 200, 599)
				case "headers":
					f.Headers = d.headers(v)
				case "body":
					f.Body = d.str(v, "body")
				}
			})
			if v.Kind == yaml.MappingNode && !slices.ContainsFunc(v.Content, func(k *yaml.Node) bool { return k.Value == "status" }) {
				d.add(v, "respond needs a status")
			}
		case "drop":
			f.Drop = d.boolean(v, "drop")
		case "malformed":
			f.Malformed = d.boolean(v, "malformed")
		}
	})
	if !ok || len(d.problems) > before {
		return f // the problems already found explain this fault
	}
	if f.Status != 0 && f.Body == "" && f.Status != 429 && f.Status < 500 {
		d.add(respondNode, "status %d needs a body: without one acmock answers only 429 and 5xx, the injected errors api/openapi.yaml documents for every operation", f.Status)
	}
	if opNode == nil {
		d.add(n, "a fault needs an operation (one of %s)", strings.Join(Operations, ", "))
	}
	effects := 0
	for _, on := range []bool{respondNode != nil, f.Drop, f.Malformed} {
		if on {
			effects++
		}
	}
	switch {
	case effects > 1:
		d.add(n, "a fault does one of respond, drop or malformed, not several")
	case effects == 0 && f.Latency == 0:
		d.add(n, "a fault needs an effect: respond, drop, malformed or latency")
	}
	return f
}

// headers decodes a free-form mapping of header names to values.
func (d *decoder) headers(n *yaml.Node) map[string]string {
	if n.Kind != yaml.MappingNode {
		d.add(n, "headers must be a mapping of header names to values, not %s", describe(n))
		return nil
	}
	h := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !validHeaderName.MatchString(k.Value) {
			d.add(k, "%q is not a valid header name", clip.Input(k.Value))
		}
		h[k.Value] = d.str(v, "a header value")
	}
	return h
}

var validHeaderName = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")

func (d *decoder) expectation(n *yaml.Node) Expectation {
	x := Expectation{Login: 1}
	var userNode *yaml.Node
	var callsNode *yaml.Node
	ok := d.mapping(n, "an expectation", []string{"application", "user", "login", "reason", "statuses", "final", "operation", "responses", "calls", "min_latency"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "application":
			x.Application = d.nonEmpty(v, "application")
		case "user":
			userNode = v
			x.User = d.nonEmpty(v, "user")
		case "login":
			x.Login = d.integer(v, "login", 1, 100)
		case "reason":
			x.Reason = acapi.AuthenticationFailureReason(d.str(v, "reason"))
			if x.Reason != "" && !x.Reason.Valid() {
				d.add(v, "unknown reason %q; use NO_MOBILE_DEVICE or UNKNOWN_USER", clip.Input(string(x.Reason)))
			}
		case "statuses":
			d.sequence(v, "statuses", func(_ int, sn *yaml.Node) {
				s := acapi.SessionStatus(d.str(sn, "a status"))
				if s != "" && !s.Valid() {
					d.add(sn, "unknown status %q", clip.Input(string(s)))
				}
				x.Statuses = append(x.Statuses, s)
			})
		case "final":
			x.Final = acapi.SessionStatus(d.str(v, "final"))
			if x.Final != "" && !x.Final.Valid() {
				d.add(v, "unknown status %q", clip.Input(string(x.Final)))
			}
		case "operation":
			x.Operation = d.operation(v)
		case "calls":
			callsNode = v
			x.Calls = d.integer(v, "calls", 1, 1000)
		case "min_latency":
			x.MinLatency = d.duration(v, "min_latency", maxLatency)
		case "responses":
			d.sequence(v, "responses", func(_ int, rn *yaml.Node) {
				r := d.str(rn, "a response")
				if code, err := strconv.Atoi(r); (err != nil || code < 100 || code > 599) && r != "dropped" && r != "malformed" {
					d.add(rn, "a response is an HTTP status such as 503, or dropped, or malformed; not %q", clip.Input(r))
				}
				x.Responses = append(x.Responses, r)
			})
		}
	})
	if !ok {
		return x
	}
	if userNode == nil {
		d.add(n, "an expectation needs a user")
	}
	if x.Operation == "" && (len(x.Responses) > 0 || x.Calls > 0 || x.MinLatency > 0) {
		d.add(n, "responses, calls and min_latency are about an operation: add operation")
	}
	if x.Operation != "" && len(x.Responses) == 0 && x.MinLatency == 0 {
		d.add(n, "an expectation with an operation checks responses or min_latency")
	}
	if callsNode != nil && x.Operation != "" && !slices.Contains(CallableOperations, x.Operation) {
		d.add(callsNode, "calls can make %s, not %s", strings.Join(CallableOperations, ", "), clip.Input(x.Operation))
	}
	if x.Reason == "" && len(x.Statuses) == 0 && x.Final == "" && len(x.Responses) == 0 && x.MinLatency == 0 {
		d.add(n, "an expectation needs something to check: statuses, final, reason, responses or min_latency")
	}
	return x
}

// crossCheck finds what only the whole scenario shows: timelines that the timeout cuts short and
// expectations that name unknown applications.
func (d *decoder) crossCheck(sc *Scenario, n *yaml.Node, refs []*timelineRef, appNodes, expectNodes []*yaml.Node) {
	for _, ref := range refs {
		for i, st := range ref.steps {
			if !d.badTimeout && st.After >= sc.Timeout && (i == 0 || ref.steps[i-1].Status == acapi.SessionStatusPending || ref.steps[i-1].Status == acapi.SessionStatusIdentifying) {
				d.add(ref.nodes[i], "the step at %v comes after the session has timed out (timeout %v); raise timeout or move the step earlier", st.After, sc.Timeout)
				break
			}
		}
	}
	ids := map[string]bool{}
	for i, app := range sc.Applications {
		if ids[app.ID] && app.ID != "" {
			d.add(appNodes[i], "application %q is listed twice", clip.Input(app.ID))
		}
		ids[app.ID] = true
	}
	if len(sc.Applications) == 0 {
		d.add(n, "a scenario needs at least one application: clients have nothing to sign requests with otherwise")
	}
	for i := range sc.Expect {
		x := &sc.Expect[i]
		switch {
		case x.Application == "" && len(sc.Applications) > 1:
			d.add(expectNodes[i], "expectation for user %q must name its application: the scenario has %d", clip.Input(x.User), len(sc.Applications))
		case x.Application != "" && !ids[x.Application]:
			d.add(expectNodes[i], "expectation for user %q names application %q, which the scenario does not list", clip.Input(x.User), clip.Input(x.Application))
		}
	}
}
