package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/acmock/acmock/acauth"
	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/scenario"
)

// The environment variables behind the global flags, and the defaults that make acclient talk to
// a freshly started acmock.
const (
	envBaseURL     = "ACTIVECONNECT_BASE_URL"
	envAppID       = "ACTIVECONNECT_APP_ID"
	envAppSecret   = "ACTIVECONNECT_APP_SECRET"
	envHTTPTimeout = "ACTIVECONNECT_HTTP_TIMEOUT"
	envAuthHeaders = "ACTIVECONNECT_AUTH_HEADERS"

	defaultBaseURL = "http://127.0.0.1:8080"
	// defaultHTTPTimeout bounds each request, so that a server that accepts the connection and
	// never answers cannot hang acclient.
	defaultHTTPTimeout = 30 * time.Second
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	baseURL     string
	appID       string
	appSecret   string
	output      string
	httpTimeout optionalDuration
	authHeaders headerFamilyFlag

	client *http.Client
}

// flags registers every global flag. Commands that work on a saved session take the application
// flags too, so that a shell alias or a script that always passes them keeps working, but ignore
// them (see appFlags).
func (g *globalOptions) flags(fs *flag.FlagSet) {
	g.appFlags(fs)
	g.commonFlags(fs)
}

// appFlags are the flags that say which service and application to talk to.
func (g *globalOptions) appFlags(fs *flag.FlagSet) {
	fs.StringVar(&g.baseURL, "base-url", "", "the service ["+envBaseURL+"] (default "+defaultBaseURL+", acmock)")
	fs.StringVar(&g.appID, "app-id", "", "the application ID ["+envAppID+"] (default acmock's demo application)")
	fs.StringVar(&g.appSecret, "app-secret", "", "the application secret ["+envAppSecret+"] (default the demo application's)")
}

// commonFlags are the flags that matter to every command.
func (g *globalOptions) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&g.output, "output", "text", "text for people, json for scripts (sessions in the Python client's JSON)")
	fs.Var(&g.httpTimeout, "http-timeout", "give up on a request unanswered after this long; 0 waits forever ["+
		envHTTPTimeout+"] (default "+defaultHTTPTimeout.String()+")")
	fs.Var(&g.authHeaders, "auth-headers", "name the timestamp and version headers as activeconnect (Python client), "+
		"iampass or sonikpass (iOS SDK) clients do, or use a prefix such as X-IAMPASS-Authentication ["+
		envAuthHeaders+"] (default activeconnect)")
}

// headerFamilyFlag is --auth-headers: a header family, and whether it was given.
type headerFamilyFlag struct {
	family acauth.HeaderFamily
	set    bool
}

func (h *headerFamilyFlag) String() string {
	if h == nil || !h.set {
		return ""
	}
	return string(h.family)
}

func (h *headerFamilyFlag) Set(v string) error {
	f, err := acauth.ParseHeaderFamily(v)
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "unknown header family "+strconv.Quote(v)+": "))
	}
	h.family, h.set = f, true
	return nil
}

// optionalDuration is a duration flag that knows whether it was given, so that the environment
// can fill it in when it was not.
type optionalDuration struct {
	d   time.Duration
	set bool
}

func (o *optionalDuration) String() string {
	if o == nil || !o.set {
		return ""
	}
	return o.d.String()
}

func (o *optionalDuration) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return errors.New("parse error")
	}
	o.d, o.set = d, true
	return nil
}

// resolve fills in what the flags left out from the environment, then the defaults, and checks
// the result. Without app (for the commands that work on a saved session, which carries its own
// URLs and credentials) the service and application flags and variables are ignored.
func (g *globalOptions) resolve(env *Env, app bool) error {
	if g.output != "text" && g.output != "json" {
		return usageErrorf("--output must be text or json, not %q", g.output)
	}
	if !g.httpTimeout.set {
		g.httpTimeout.d = defaultHTTPTimeout
		if e, ok := env.LookupEnv(envHTTPTimeout); ok && e != "" {
			d, err := time.ParseDuration(e)
			if err != nil {
				return usageErrorf("%s=%q is not a duration such as 30s or 2m", envHTTPTimeout, e)
			}
			g.httpTimeout.d = d
		}
	}
	if g.httpTimeout.d < 0 {
		return usageErrorf("--http-timeout must not be negative (0 waits forever), not %s", g.httpTimeout.d)
	}
	if e, ok := env.LookupEnv(envAuthHeaders); ok && e != "" && !g.authHeaders.set {
		f, err := acauth.ParseHeaderFamily(e)
		if err != nil {
			return usageErrorf("%s=%q: %v", envAuthHeaders, e, err)
		}
		g.authHeaders.family = f
	}
	if !app {
		return nil
	}
	fromEnv := func(v *string, name, def string) {
		if *v != "" {
			return
		}
		if e, ok := env.LookupEnv(name); ok && e != "" {
			*v = e
			return
		}
		*v = def
	}
	secretGiven := g.appSecret != ""
	if !secretGiven {
		if e, ok := env.LookupEnv(envAppSecret); ok && e != "" {
			secretGiven = true
		}
	}
	fromEnv(&g.baseURL, envBaseURL, defaultBaseURL)
	fromEnv(&g.appID, envAppID, scenario.DemoApplicationID)
	fromEnv(&g.appSecret, envAppSecret, scenario.DemoApplicationSecret)
	if g.appID != scenario.DemoApplicationID && !secretGiven {
		return usageErrorf("application %s needs its secret: pass --app-secret or set %s", g.appID, envAppSecret)
	}
	u, err := url.Parse(g.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("--base-url %q is not an http or https URL such as %s (set it or %s)", g.baseURL, defaultBaseURL, envBaseURL)
	}
	return nil
}

func (g *globalOptions) json() bool { return g.output == "json" }

// clientOptions are the options of every API and session: the HTTP client and the header family.
func (g *globalOptions) clientOptions() []activeconnect.Option {
	return []activeconnect.Option{activeconnect.WithHTTPClient(g.httpClient()), activeconnect.WithHeaderFamily(g.authHeaders.family)}
}

// httpClient is the client of every request: net/http's default transport, with --http-timeout.
func (g *globalOptions) httpClient() *http.Client {
	if g.client == nil {
		g.client = &http.Client{Timeout: g.httpTimeout.d}
	}
	return g.client
}

func (g *globalOptions) management() (*activeconnect.ManagementAPI, error) {
	m, err := activeconnect.NewManagementAPI(g.appID, g.appSecret, append(g.clientOptions(), activeconnect.WithBaseURL(g.baseURL))...)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return m, nil
}

func (g *globalOptions) authentication() (*activeconnect.AuthenticationAPI, error) {
	a, err := activeconnect.NewAuthenticationAPI(g.appID, g.appSecret, append(g.clientOptions(), activeconnect.WithBaseURL(g.baseURL))...)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return a, nil
}

// waitFlags are the flags of the commands that can wait for a session to be decided.
type waitFlags struct {
	wait     bool
	interval time.Duration
	timeout  time.Duration
}

func (w *waitFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&w.wait, "wait", false, "poll until the phone has decided, showing the status as it changes")
	fs.DurationVar(&w.interval, "interval", 2*time.Second, "time between polls with --wait")
	fs.DurationVar(&w.timeout, "timeout", 5*time.Minute, "give up waiting after this long; 0 waits as long as the session lives")
}

func (w *waitFlags) check(cmd string) error {
	if w.interval <= 0 {
		return usageErrorf("%s: --interval must be positive, not %s", cmd, w.interval)
	}
	if w.timeout < 0 {
		return usageErrorf("%s: --timeout must not be negative", cmd)
	}
	return nil
}

// methodsFlag collects authentication methods from "--methods a,b" and repeated flags.
type methodsFlag []activeconnect.AuthenticationMethod

func (m *methodsFlag) String() string {
	names := make([]string, len(*m))
	for i, x := range *m {
		names[i] = string(x)
	}
	return strings.Join(names, ",")
}

func (m *methodsFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		method := activeconnect.AuthenticationMethod(strings.TrimSpace(part))
		if !method.Valid() {
			return fmt.Errorf("unknown method %q: use acceptance, device or facial", part)
		}
		*m = append(*m, method)
	}
	return nil
}

// writeJSON prints v as one line of JSON, without escaping "&", "<" and ">".
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// show prints a user ID as it is when that is unambiguous, else quoted.
func show(id string) string {
	if id == "" || strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) || r == '"' }) >= 0 {
		return strconv.Quote(id)
	}
	return id
}

// shellWord quotes s for a POSIX shell when it holds anything but letters, digits and
// @%+=:,./_- so that a suggested command can be pasted as it is.
func shellWord(s string) string {
	safe := func(r rune) bool {
		return unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@%+=:,./_-", r)
	}
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !safe(r) }) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// suggest spells an acclient command line for a user ID, ready to paste: quoted for the shell,
// after "--" when it starts with "-" (so that it is not taken for a flag), and USER when the ID is
// not known.
func suggest(cmd, user string) string {
	switch {
	case user == "":
		return "acclient " + cmd + " USER"
	case strings.HasPrefix(user, "-"):
		return "acclient " + cmd + " -- " + shellWord(user)
	}
	return "acclient " + cmd + " " + shellWord(user)
}

// describe says what a status means, for people.
func describe(s activeconnect.SessionStatus) string {
	switch s {
	case activeconnect.StatusPending:
		return "pending (waiting for the phone)"
	case activeconnect.StatusIdentifying:
		return "identifying (the phone is checking the user)"
	case activeconnect.StatusActive:
		return "active (authenticated)"
	case activeconnect.StatusWalkaway:
		return "walkaway (the phone is no longer near)"
	case activeconnect.StatusTimeout:
		return "timeout (nobody answered on the phone in time)"
	case activeconnect.StatusCancelled:
		return "cancelled (declined on the phone)"
	case activeconnect.StatusFailed:
		return "failed"
	case activeconnect.StatusClosed:
		return "closed (logged out)"
	case "":
		return "unknown"
	}
	return string(s)
}
