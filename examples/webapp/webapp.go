// Package webapp is a small web application that logs its users in with Activeconnect: a login
// form, a login that waits for the user's phone by polling with its own sleeps, and an account
// page that checks on every view that the phone is still near. Its tests show how to test such an
// application with acmocktest and nothing else: no session tokens, no clock to move.
//
//	app, err := webapp.New(webapp.Config{Auth: auth, Management: mgmt})
//	http.ListenAndServe("127.0.0.1:8000", app)
package webapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/acmock/acmock/activeconnect"
)

// Config is what the application needs.
type Config struct {
	// Auth starts logins; Management hands out the registration link of a user without a phone.
	Auth       *activeconnect.AuthenticationAPI
	Management *activeconnect.ManagementAPI
	// PollInterval is the pause between two polls while a login waits for the phone (default 1s).
	PollInterval time.Duration
	// MaxWait is how long, in real time, a login may wait for the phone before the page gives up
	// (default 2 minutes; the service's own timeout usually comes first).
	MaxWait time.Duration
	// Logger receives a line per login (default: discard).
	Logger *slog.Logger
}

// App serves the pages. Create it with New.
type App struct {
	cfg Config
	mux *http.ServeMux

	mu sync.Mutex
	// logins are by cookie value, kept in memory until the browser logs out or the account page
	// finds the session ended; a real application keeps them in its session store, with an expiry.
	logins map[string]*login
}

// login is a user logged in through this application.
type login struct {
	mu      sync.Mutex // an activeconnect.Session is not safe for concurrent use
	user    string
	session *activeconnect.Session
}

// CookieName is the cookie that carries a browser's login.
const CookieName = "webapp_login"

// New builds the application.
func New(cfg Config) (*App, error) {
	if cfg.Auth == nil || cfg.Management == nil {
		return nil, errors.New("webapp: Config needs Auth and Management")
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = 2 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{cfg: cfg, mux: http.NewServeMux(), logins: map[string]*login{}}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("POST /login", a.login)
	a.mux.HandleFunc("GET /account", a.account)
	a.mux.HandleFunc("POST /logout", a.logout)
	return a, nil
}

// ServeHTTP serves the pages.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>webapp</title></head>
<body>
<p>{{.Message}}</p>
{{if .Link}}<p><a href="{{.Link}}">Register your phone</a></p>{{end}}
{{if .Form}}<form method="post" action="/login"><label>User <input name="user"></label> <button>Log in</button></form>{{end}}
{{if .LoggedIn}}<form method="post" action="/logout"><button>Log out</button></form>{{end}}
</body></html>
`))

type view struct {
	Message  string
	Link     string
	Form     bool
	LoggedIn bool
}

func render(w http.ResponseWriter, status int, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = page.Execute(w, v)
}

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	render(w, http.StatusOK, view{Message: "Log in with your phone.", Form: true})
}

// login starts a login and waits, polling every PollInterval, until the phone has decided.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	user := r.PostFormValue("user")
	if user == "" {
		render(w, http.StatusBadRequest, view{Message: "Say who you are.", Form: true})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.cfg.MaxWait)
	defer cancel()
	session, err := a.cfg.Auth.AuthenticateUser(ctx, user)
	if err != nil {
		a.unavailable(w, user, err)
		return
	}
	switch session.FailureReason {
	case activeconnect.ReasonNoMobileDevice:
		link, err := a.cfg.Management.GetRegistrationLink(ctx, user, user)
		if err != nil {
			a.unavailable(w, user, err)
			return
		}
		render(w, http.StatusConflict, view{Message: fmt.Sprintf("%s has no phone registered yet: open the link on your phone, then log in again.", user), Link: link, Form: true})
		return
	case activeconnect.ReasonUnknownUser:
		render(w, http.StatusNotFound, view{Message: fmt.Sprintf("There is no user %s.", user), Form: true})
		return
	}
	for session.InProgress() {
		select {
		case <-ctx.Done():
			render(w, http.StatusGatewayTimeout, view{Message: "Still waiting for your phone; try again.", Form: true})
			return
		case <-time.After(a.cfg.PollInterval):
		}
		if _, err := session.Refresh(ctx); err != nil && !activeconnect.IsTemporary(err) {
			a.unavailable(w, user, err)
			return
		}
	}
	a.cfg.Logger.Info("login", "user", user, "status", session.Status)
	switch session.Status {
	case activeconnect.StatusActive:
		id := newID()
		a.mu.Lock()
		a.logins[id] = &login{user: user, session: session}
		a.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/account", http.StatusSeeOther)
	case activeconnect.StatusCancelled:
		render(w, http.StatusForbidden, view{Message: "You declined the login on your phone.", Form: true})
	case activeconnect.StatusTimeout:
		render(w, http.StatusUnauthorized, view{Message: "Your phone did not answer in time; try again.", Form: true})
	default:
		render(w, http.StatusUnauthorized, view{Message: fmt.Sprintf("The login did not succeed (%s).", session.Status), Form: true})
	}
}

func (a *App) unavailable(w http.ResponseWriter, user string, err error) {
	a.cfg.Logger.Error("login service", "user", user, "err", err)
	render(w, http.StatusBadGateway, view{Message: "The login service is unavailable; try again later.", Form: true})
}

// current returns the browser's login, if it has one.
func (a *App) current(r *http.Request) (string, *login) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return c.Value, a.logins[c.Value]
}

func (a *App) forget(w http.ResponseWriter, id string) {
	a.mu.Lock()
	delete(a.logins, id)
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Path: "/", MaxAge: -1})
}

// account checks the session on every view: the service ends sessions remotely (the phone walked
// away, the user logged out from the phone).
func (a *App) account(w http.ResponseWriter, r *http.Request) {
	id, l := a.current(r)
	if l == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	l.mu.Lock()
	status, err := l.session.Refresh(r.Context())
	l.mu.Unlock()
	switch {
	case err != nil:
		a.unavailable(w, l.user, err)
	case status == activeconnect.StatusActive:
		render(w, http.StatusOK, view{Message: fmt.Sprintf("Welcome, %s.", l.user), LoggedIn: true})
	case status == activeconnect.StatusWalkaway:
		render(w, http.StatusLocked, view{Message: "Your phone is away from this computer: bring it back to continue.", LoggedIn: true})
	default:
		a.forget(w, id)
		render(w, http.StatusUnauthorized, view{Message: "You were logged out.", Form: true})
	}
}

func (a *App) logout(w http.ResponseWriter, r *http.Request) {
	id, l := a.current(r)
	if l != nil {
		l.mu.Lock()
		err := l.session.Destroy(r.Context())
		l.mu.Unlock()
		if err != nil {
			a.cfg.Logger.Error("logout", "user", l.user, "err", err)
		}
		a.forget(w, id)
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}
