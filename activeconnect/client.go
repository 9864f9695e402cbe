package activeconnect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/acmock/acmock/acauth"
)

// DefaultBaseURL is the real Activeconnect service, used unless WithBaseURL says otherwise.
const DefaultBaseURL = "https://activeapi.ninja"

// DefaultTimeout bounds each request of an API or Session that was not given an HTTP client with
// WithHTTPClient: connecting, sending, waiting for the answer and reading it.
const DefaultTimeout = 30 * time.Second

// maxResponseBytes caps how much of a response is read; every answer of the API is small.
const maxResponseBytes = 1 << 20

// defaultHTTPClient is http.DefaultClient's transport with a timeout, so that a server that accepts
// a connection and never answers cannot hang a caller that passed a context without a deadline.
var defaultHTTPClient = &http.Client{Timeout: DefaultTimeout}

// Option configures a ManagementAPI or an AuthenticationAPI.
type Option func(*config)

type config struct {
	baseURL    string
	httpClient *http.Client
	now        func() time.Time
	logger     *slog.Logger
	headers    acauth.HeaderFamily
}

// WithBaseURL sends requests to baseURL instead of DefaultBaseURL, for example
// "http://127.0.0.1:8080" for a local acmock. It must be an absolute http or https URL; a path in it
// is kept as a prefix.
func WithBaseURL(baseURL string) Option {
	return func(c *config) { c.baseURL = baseURL }
}

// WithHTTPClient sends requests with client instead of the default, which is http.DefaultClient's
// transport with a Timeout of DefaultTimeout. Its timeout, transport and proxy settings apply to
// every call, including a session's status and logout calls. Give client a Timeout (or pass
// contexts with deadlines): a client without one, such as http.DefaultClient, waits forever for a
// server that accepts the connection and never answers.
func WithHTTPClient(client *http.Client) Option {
	return func(c *config) { c.httpClient = client }
}

// WithClock makes now the source of the timestamps that signatures carry (default time.Now). The
// service rejects timestamps more than a few minutes from its own clock, so this is for tests and
// for correcting a known skew.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}

// WithLogger logs one debug line per request (method, URL path, status, duration) to logger.
// Secrets and signatures are never logged. The default discards everything.
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) { c.logger = logger }
}

// WithHeaderFamily sends the signature's timestamp and version headers under family's names
// instead of the official Python client's (acauth.FamilyActiveconnect), for example
// acauth.FamilyIAMPASS to test a server of your own against IAMPASS clients. acmock and the real
// service accept all six families; acauth.ParseHeaderFamily reads one from a setting. A session's
// status and logout calls use it too.
func WithHeaderFamily(family acauth.HeaderFamily) Option {
	return func(c *config) { c.headers = family }
}

// conn is what an API value and the sessions it creates share: where requests go, how they are
// sent, which clock signs them and under which header names.
type conn struct {
	server  string // base URL with a trailing slash, as the generated request builders expect
	http    *http.Client
	now     func() time.Time
	log     *slog.Logger
	headers acauth.HeaderFamily
}

// defaultConn serves sessions that were decoded from JSON without an API to attach them to.
var defaultConn = &conn{server: DefaultBaseURL + "/", http: defaultHTTPClient, now: time.Now,
	log: slog.New(slog.DiscardHandler)}

func newConn(opts []Option) (*conn, error) {
	cfg := config{baseURL: DefaultBaseURL}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	u, err := url.Parse(cfg.baseURL)
	if err != nil {
		return nil, fmt.Errorf("base URL %q: %w", cfg.baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q must be an absolute http or https URL such as %s", cfg.baseURL, DefaultBaseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("base URL %q must not carry a query, fragment or user info", cfg.baseURL)
	}
	if cfg.headers != "" && !cfg.headers.Valid() {
		return nil, fmt.Errorf("header family %q is not one of acauth.HeaderFamilies (acauth.ParseHeaderFamily reads names such as iampass)", cfg.headers)
	}
	c := &conn{server: strings.TrimRight(u.String(), "/") + "/", http: cfg.httpClient, now: cfg.now, log: cfg.logger,
		headers: cfg.headers}
	if c.http == nil {
		c.http = defaultHTTPClient
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// newSigner checks application credentials up front, so that a typo fails at construction rather
// than on the first call.
func (c *conn) newSigner(clientID, secret string) (*acauth.Signer, error) {
	if clientID == "" {
		return nil, errors.New("application ID is empty")
	}
	if strings.ContainsAny(clientID, ": \t\r\n") {
		return nil, fmt.Errorf("application ID %q must not contain ':' or whitespace", clientID)
	}
	if secret == "" {
		return nil, errors.New("application secret is empty")
	}
	return c.signer(clientID, secret), nil
}

// signer signs with the connection's clock and header family.
func (c *conn) signer(clientID, secret string) *acauth.Signer {
	s := acauth.NewSigner(clientID, secret)
	s.Now, s.Headers = c.now, c.headers
	return s
}

// send signs req (after its URL is final, since the signature covers the URI as sent), sends it
// and decodes a successful JSON answer into out. A refusal becomes an *APIError, including the real
// service's 2xx answer {"status": false, "reason": "..."}; a request that got no complete answer
// returns a *url.Error.
func (c *conn) send(ctx context.Context, req *http.Request, signer *acauth.Signer, out any) error {
	req = req.WithContext(ctx)
	if err := signer.SignRequest(ctx, req); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	start := c.now()
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		// The connection broke mid-answer: report it like net/http reports a failed request.
		return &url.Error{Op: urlErrorOp(req.Method), URL: req.URL.String(), Err: err}
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "activeconnect request",
		slog.String("method", req.Method), slog.String("host", req.URL.Host),
		slog.String("path", req.URL.EscapedPath()), slog.Int("status", resp.StatusCode),
		slog.Duration("duration", c.now().Sub(start)))
	if len(body) > maxResponseBytes {
		return fmt.Errorf("%s answer is larger than %d bytes", resp.Status, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(resp, body, c.now())
	}
	var failure struct {
		Status *bool   `json:"status"`
		Reason *string `json:"reason"`
	}
	if json.Unmarshal(body, &failure) == nil && failure.Status != nil && !*failure.Status {
		e := &APIError{StatusCode: resp.StatusCode, Message: "the service answered status false without a reason"}
		if failure.Reason != nil && *failure.Reason != "" {
			e.Message = *failure.Reason
		}
		return e
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode %s answer %s: %w", resp.Status, snippet(body), err)
	}
	return nil
}

// urlErrorOp spells a method the way net/http does in a *url.Error ("Get", "Post").
func urlErrorOp(method string) string {
	if method == "" {
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}

// snippet quotes the start of a body for an error message.
func snippet(body []byte) string {
	const limit = 200
	body = bytes.TrimSpace(body)
	if len(body) > limit {
		return fmt.Sprintf("%q...", body[:limit])
	}
	return fmt.Sprintf("%q", body)
}

// EscapeUserID encodes a user ID for a URL path the way the official Python client does, with
// quote_plus: a space becomes "+", a "+" becomes "%2B" and a "/" becomes "%2F", so that the
// service, which decodes the segment the same way, sees the ID unchanged. The IDs "." and ".."
// are written "%2E" and "%2E%2E", which decode to the same IDs, because servers and proxies would
// otherwise remove them from the path as dot segments.
func EscapeUserID(userID string) string {
	switch userID {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.QueryEscape(userID)
}

// userPlaceholder is the user ID given to the generated request builders, whose own encoding
// cannot be used: url.PathEscape leaves "+" as it is (the service would read "a+b" as "a b"), and
// resolving the path against the base URL removes a user ID "." or "..". setUserSegment then puts
// the real ID in its place.
const userPlaceholder = "USER"

// setUserSegment replaces the placeholder user ID at the end of u's path with userID escaped by
// EscapeUserID. Path and RawPath are set together so that u.RequestURI(), which both the signer
// and the transport use, is the escaped form.
func setUserSegment(u *url.URL, userID string) error {
	esc := u.EscapedPath()
	prefix, ok := strings.CutSuffix(esc, "/"+userPlaceholder)
	if !ok {
		return fmt.Errorf("URL %s does not end with the user ID placeholder", u)
	}
	raw := prefix + "/" + EscapeUserID(userID)
	p, err := url.PathUnescape(raw)
	if err != nil {
		return fmt.Errorf("encode user ID %q: %w", userID, err)
	}
	u.Path, u.RawPath = p, raw
	return nil
}

// checkUserID rejects IDs the service cannot hold, before anything is sent.
func checkUserID(userID string) error {
	if userID == "" {
		return errors.New("user ID is empty")
	}
	return nil
}
