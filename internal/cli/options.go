package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/internal/scenario"
)

// The environment variables behind the global flags, and the defaults that make acclient talk to
// a freshly started acmock.
const (
	envBaseURL   = "ACTIVECONNECT_BASE_URL"
	envAppID     = "ACTIVECONNECT_APP_ID"
	envAppSecret = "ACTIVECONNECT_APP_SECRET"

	defaultBaseURL = "http://127.0.0.1:8080"
)

// globalOptions are the flags every command takes.
type globalOptions struct {
	baseURL   string
	appID     string
	appSecret string
	output    string
}

func (g *globalOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&g.baseURL, "base-url", "", "the service ["+envBaseURL+"] (default "+defaultBaseURL+", acmock)")
	fs.StringVar(&g.appID, "app-id", "", "the application ID ["+envAppID+"] (default acmock's demo application)")
	fs.StringVar(&g.appSecret, "app-secret", "", "the application secret ["+envAppSecret+"] (default the demo application's)")
	fs.StringVar(&g.output, "output", "text", "text for people, json for scripts (sessions in the Python client's JSON)")
}

// resolve fills in what the flags left out from the environment, then the defaults, and checks
// the result.
func (g *globalOptions) resolve(env *Env) error {
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
	if g.output != "text" && g.output != "json" {
		return usageErrorf("--output must be text or json, not %q", g.output)
	}
	u, err := url.Parse(g.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageErrorf("--base-url %q is not an http or https URL such as %s (set it or %s)", g.baseURL, defaultBaseURL, envBaseURL)
	}
	return nil
}

func (g *globalOptions) json() bool { return g.output == "json" }

func (g *globalOptions) management() (*activeconnect.ManagementAPI, error) {
	m, err := activeconnect.NewManagementAPI(g.appID, g.appSecret, activeconnect.WithBaseURL(g.baseURL))
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return m, nil
}

func (g *globalOptions) authentication() (*activeconnect.AuthenticationAPI, error) {
	a, err := activeconnect.NewAuthenticationAPI(g.appID, g.appSecret, activeconnect.WithBaseURL(g.baseURL))
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
