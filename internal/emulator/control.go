package emulator

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"github.com/acmock/acmock/internal/clip"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/generated/acctlserver"
	"github.com/acmock/acmock/generated/acspec"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/journal"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// control implements the control API of api/control.yaml on top of the emulator.
type control struct{ e *Emulator }

var _ acctlserver.StrictServerInterface = control{}

// maxJournalWait caps how long GET /_acmock/requests?min_count= holds an answer.
const maxJournalWait = 60 * time.Second

// controlRoutes serves the control API under /_acmock/.
func (e *Emulator) controlRoutes(r *mux.Router) error {
	badRequest := func(w http.ResponseWriter, r *http.Request, err error) {
		writeError(w, r, decodeError(r, err))
	}
	strict := acctlserver.NewStrictHandlerWithOptions(control{e}, nil, acctlserver.StrictHTTPServerOptions{
		RequestErrorHandlerFunc:  badRequest,
		ResponseErrorHandlerFunc: e.internalError,
	})
	r.NotFoundHandler = http.HandlerFunc(e.notFound)
	r.MethodNotAllowedHandler = http.HandlerFunc(e.notFound)
	routes := acctlserver.Handlers(strict, acctlserver.GorillaServerOptions{ErrorHandlerFunc: badRequest})
	return addRoutes(r, &acspec.Control, e.ctlOps, routes, func(op *operation, h http.Handler) http.Handler {
		return e.checkSite(e.requireControlToken(e.validateControl(op, e.countControlChanges(h))))
	})
}

// requireControlToken checks the bearer token when one is configured. The health check and the
// registration links stay open: the first is for readiness probes, the second stands for a phone.
func (e *Emulator) requireControlToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := e.opts.ControlToken
		path := r.URL.Path
		if token == "" || path == "/_acmock/health" || strings.HasPrefix(path, "/_acmock/register/") {
			next.ServeHTTP(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="acmock control"`)
			message := "this emulator requires its control token: send Authorization: Bearer <token> (see --control-token)"
			if ok {
				message = "the control token sent in Authorization: Bearer is not this emulator's (see --control-token)"
			}
			writeJSON(w, http.StatusUnauthorized, acctl.Error{Code: "control_token", Field: ptr("Authorization"), Message: message})
			return
		}
		next.ServeHTTP(w, r)
	})
}

func ptr[T any](v T) *T { return &v }

func ctlError(code, field, format string, args ...any) acctl.Error {
	e := acctl.Error{Code: code, Message: clip.String(fmt.Sprintf(format, args...), maxMessage)}
	if field != "" {
		field = clip.Input(field)
		e.Field = &field
	}
	return e
}

func (c control) GetHealth(context.Context, acctlserver.GetHealthRequestObject) (acctlserver.GetHealthResponseObject, error) {
	h := acctlserver.GetHealth200JSONResponse{Status: acctl.HealthStatusOk, Scenario: c.e.Scenario().Name,
		Clock: acctl.HealthClock(c.e.clockMode()), Storage: acctl.HealthStorageMemory, Reload: reloadInfo(c.e.LastReload())}
	if dir := c.e.DataDir(); dir != "" {
		h.Storage, h.DataDir = acctl.HealthStorageDisk, &dir
	}
	return h, nil
}

func (e *Emulator) clockMode() string { return clock.Mode(e.clock) }

func (c control) Reset(context.Context, acctlserver.ResetRequestObject) (acctlserver.ResetResponseObject, error) {
	if err := c.e.Reset(); err != nil {
		return nil, err
	}
	return acctlserver.Reset200JSONResponse{Status: true}, nil
}

func (c control) CreateApplication(_ context.Context, req acctlserver.CreateApplicationRequestObject) (acctlserver.CreateApplicationResponseObject, error) {
	var id, secret string
	if req.Body.Id != nil {
		id = *req.Body.Id
	}
	if req.Body.Secret != nil {
		secret = *req.Body.Secret
	}
	app, err := c.e.store.CreateApplication(id, secret)
	if errors.Is(err, store.ErrApplicationExists) {
		return acctlserver.CreateApplication409JSONResponse(ctlError("application_exists", "id", "application %s already exists", clip.Input(id))), nil
	}
	if errors.Is(err, store.ErrLimitReached) {
		return acctlserver.CreateApplication409JSONResponse(ctlError("limit_reached", "",
			"%v (a fixed bound, see api/control.yaml, Bounds); reset the emulator or reuse an application", err)), nil
	}
	if err != nil {
		return nil, err
	}
	return acctlserver.CreateApplication201JSONResponse{Id: app.ID, Secret: app.Secret}, nil
}

func (c control) ResetApplication(_ context.Context, req acctlserver.ResetApplicationRequestObject) (acctlserver.ResetApplicationResponseObject, error) {
	err := c.e.ResetApplication(req.ApplicationId)
	if errors.Is(err, store.ErrApplicationNotFound) {
		return acctlserver.ResetApplication404JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("unknown_application", "application_id", "no application %s", clip.Input(req.ApplicationId)))}, nil
	}
	if err != nil {
		return nil, err
	}
	return acctlserver.ResetApplication200JSONResponse{Status: true}, nil
}

func (c control) GetScenario(context.Context, acctlserver.GetScenarioRequestObject) (acctlserver.GetScenarioResponseObject, error) {
	info := scenarioInfo(c.e.Scenario())
	info.Reload = reloadInfo(c.e.LastReload())
	return acctlserver.GetScenario200JSONResponse(info), nil
}

func (c control) PutScenario(ctx context.Context, req acctlserver.PutScenarioRequestObject) (acctlserver.PutScenarioResponseObject, error) {
	sc, problems, err := parseScenarioBody(ctx, req.Body)
	if problems != nil {
		return acctlserver.PutScenario400JSONResponse(*problems), nil
	}
	if errors.Is(err, errShuttingDown) {
		return acctlserver.PutScenario503JSONResponse(shuttingDown()), nil
	}
	if err != nil {
		return nil, err
	}
	err = c.e.LoadScenario(sc)
	if problems, ok := scenarioProblems(err); ok && errors.Is(err, store.ErrLimitReached) {
		return acctlserver.PutScenario400JSONResponse(problems), nil
	}
	if err != nil {
		return nil, err
	}
	return acctlserver.PutScenario200JSONResponse(scenarioInfo(sc)), nil
}

func scenarioInfo(sc *scenario.Scenario) acctl.ScenarioInfo {
	return acctl.ScenarioInfo{Name: sc.Name, Applications: len(sc.Applications), Faults: len(sc.Faults),
		Expectations: len(sc.Expect), Source: string(sc.Source), Description: nonEmpty(sc.Description), File: nonEmpty(sc.File)}
}

func (c control) clockState(fired int) acctl.Clock {
	out := acctl.Clock{Mode: acctl.ClockMode(c.e.clockMode()), Now: c.e.clock.Now(), Pending: c.e.timers.Len()}
	if fired >= 0 {
		out.Fired = &fired
	}
	return out
}

func (c control) GetClock(context.Context, acctlserver.GetClockRequestObject) (acctlserver.GetClockResponseObject, error) {
	return acctlserver.GetClock200JSONResponse(c.clockState(-1)), nil
}

func (c control) AdvanceClock(_ context.Context, req acctlserver.AdvanceClockRequestObject) (acctlserver.AdvanceClockResponseObject, error) {
	d, err := time.ParseDuration(req.Body.Duration)
	if err != nil || d < 0 {
		return acctlserver.AdvanceClock400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "duration",
			"duration must be a non-negative Go duration such as 90s or 1m30s, not %q", clip.Input(req.Body.Duration)))}, nil
	}
	v, ok := c.e.clock.(*clock.Virtual)
	if !ok {
		return acctlserver.AdvanceClock409JSONResponse(ctlError("clock_not_virtual", "",
			"the clock is real and cannot be advanced; start acmock with --clock virtual or --clock auto")), nil
	}
	fired, err := c.e.moveClock(v, func(now time.Time) time.Time { return now.Add(d) })
	if err != nil {
		return nil, err
	}
	return acctlserver.AdvanceClock200JSONResponse(c.clockState(fired)), nil
}

func (c control) wallClock() acctl.WallClock {
	return acctl.WallClock{Shift: c.e.WallClockShift().String(), MaxSkew: c.e.verifier.MaxSkew().String(), Now: c.e.wallNow()}
}

func (c control) GetWallClock(context.Context, acctlserver.GetWallClockRequestObject) (acctlserver.GetWallClockResponseObject, error) {
	return acctlserver.GetWallClock200JSONResponse(c.wallClock()), nil
}

func (c control) PutWallClock(_ context.Context, req acctlserver.PutWallClockRequestObject) (acctlserver.PutWallClockResponseObject, error) {
	var shift, skew time.Duration
	var err error
	if req.Body.Shift != nil {
		if shift, err = time.ParseDuration(*req.Body.Shift); err != nil {
			return acctlserver.PutWallClock400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "shift", "shift must be a Go duration such as -10m or 1h, not %q", clip.Input(*req.Body.Shift)))}, nil
		}
	}
	if req.Body.MaxSkew != nil {
		if skew, err = time.ParseDuration(*req.Body.MaxSkew); err != nil || skew < time.Second {
			return acctlserver.PutWallClock400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "max_skew", "max_skew must be a Go duration of at least 1s, not %q", clip.Input(*req.Body.MaxSkew)))}, nil
		}
	}
	var newShift, newSkew *time.Duration
	if req.Body.Shift != nil {
		newShift = &shift
	}
	if req.Body.MaxSkew != nil {
		newSkew = &skew
	}
	if err := c.e.setWallClock(newShift, newSkew); err != nil {
		return nil, err
	}
	return acctlserver.PutWallClock200JSONResponse(c.wallClock()), nil
}

// defaultPage is the number of items a list answers when the request sets no limit.
const defaultPage = 1000

// ListUsers answers one page of users: applications in ID order, each with its users in the order
// they were added, or with prefix in ID order, or the users named by user. A walk in the order
// users were added goes round the applications once for the users there were when it started,
// then again for those added during the previous round, and so on until a round finds none: users
// added while paging appear at the end, wherever their application sorts. Its cursor names the
// round, the application and the last user listed by Seq; a walk by prefix names the application
// and the last user by ID. limit counts users, and an
// application on the page with none of its users counts as one.
func (c control) ListUsers(ctx context.Context, req acctlserver.ListUsersRequestObject) (acctlserver.ListUsersResponseObject, error) {
	p := req.Params
	bad := func(field, format string, args ...any) (acctlserver.ListUsersResponseObject, error) {
		return acctlserver.ListUsers400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", field, format, args...))}, nil
	}
	apps := c.e.store.Applications()
	if p.Application != nil {
		app, err := c.e.store.Application(*p.Application)
		if err != nil {
			return acctlserver.ListUsers404JSONResponse(ctlError("unknown_application", "application", "no application %s", clip.Input(*p.Application))), nil
		}
		apps = []store.Application{app}
	}
	limit := defaultPage
	if p.Limit != nil {
		limit = *p.Limit
	}
	if p.User != nil {
		switch {
		case p.Cursor != nil:
			return bad("cursor", "cursor does not go with user: the page holds every user named")
		case p.Prefix != nil:
			return bad("prefix", "prefix does not go with user; use one or the other")
		}
		return c.namedUsers(ctx, apps, *p.User), nil
	}
	prefix := ""
	if p.Prefix != nil {
		prefix = *p.Prefix
	}
	cur := userCursor{upto: c.e.store.LastUserSeq()} // the first round: every user there is now
	first, afterSeq, afterID := 0, uint64(0), ""
	if p.Cursor != nil {
		var ok bool
		if prefix != "" {
			cur.app, afterID, ok = parseIDCursor(*p.Cursor)
		} else {
			cur, ok = parseUserCursor(*p.Cursor)
		}
		if !ok {
			with := ""
			if prefix != "" {
				with = " with the same prefix"
			}
			return bad("cursor", "cursor must be the next_cursor of a previous page of GET /_acmock/users%s", with)
		}
		first, _ = slices.BinarySearchFunc(apps, cur.app, func(a store.Application, id string) int { return strings.Compare(a.ID, id) })
		if first < len(apps) && apps[first].ID == cur.app {
			afterSeq = cur.after
		} else {
			afterID = ""
		}
	}
	out := acctlserver.ListUsers200JSONResponse{Applications: []acctl.ApplicationState{}}
	for i := first; i < len(apps); i++ {
		app := apps[i]
		var users []store.User
		var more bool
		var err error
		if prefix != "" {
			users, more, err = c.e.store.UsersByPrefix(app.ID, prefix, afterID, limit)
		} else {
			users, more, err = c.e.store.UsersBetween(app.ID, max(afterSeq, cur.from), cur.upto, limit)
		}
		afterSeq, afterID = 0, ""
		if err != nil {
			continue // deleted between the two calls
		}
		if len(users) == 0 && cur.from > 0 {
			continue // a later round lists only the applications that gained users
		}
		state := applicationState(ctx, c.e, app.ID, users)
		out.Applications = append(out.Applications, state)
		// An application listed without users takes a place of its own, so that a page holds
		// at most limit entries of either kind, however many applications have no users.
		limit -= max(len(users), 1)
		next := userCursor{from: cur.from, upto: cur.upto}
		switch {
		case more && prefix != "":
			out.NextCursor = ptr(idCursor(app.ID, users[len(users)-1].ID))
		case more:
			next.app, next.after = app.ID, users[len(users)-1].Seq
			out.NextCursor = ptr(next.String())
		case limit == 0 && i+1 < len(apps) && prefix != "":
			out.NextCursor = ptr(idCursor(apps[i+1].ID, ""))
		case limit == 0 && i+1 < len(apps):
			next.app = apps[i+1].ID
			out.NextCursor = ptr(next.String())
		default:
			continue
		}
		break
	}
	if out.NextCursor == nil && prefix == "" {
		// The round is over: another one follows for the users added since it started.
		if last := c.e.store.LastUserSeq(); last > cur.upto {
			out.NextCursor = ptr(userCursor{from: cur.upto, upto: last}.String())
		}
	}
	return out, nil
}

// namedUsers answers the users with these IDs, in each application, in the order given.
func (c control) namedUsers(ctx context.Context, apps []store.Application, ids []string) acctlserver.ListUsers200JSONResponse {
	out := acctlserver.ListUsers200JSONResponse{Applications: []acctl.ApplicationState{}}
	for _, app := range apps {
		users := []store.User{}
		seen := make(map[string]bool, len(ids))
		for _, id := range ids {
			if seen[id] {
				continue
			}
			seen[id] = true
			if u, err := c.e.store.User(app.ID, id); err == nil {
				users = append(users, u)
			}
		}
		out.Applications = append(out.Applications, applicationState(ctx, c.e, app.ID, users))
	}
	return out
}

func applicationState(ctx context.Context, e *Emulator, appID string, users []store.User) acctl.ApplicationState {
	count, _ := e.store.UserCountOf(appID) // 0 for an application deleted meanwhile
	state := acctl.ApplicationState{Id: appID, UserCount: max(count, len(users)), Users: make([]acctl.UserState, len(users))}
	for j, u := range users {
		state.Users[j] = userState(ctx, e, u)
	}
	return state
}

func userState(ctx context.Context, e *Emulator, u store.User) acctl.UserState {
	us := acctl.UserState{Id: u.ID, Logins: u.Logins, LiveSessions: u.LiveSessions, Links: make([]acctl.LinkState, 0, len(u.Links))}
	if u.Phone != nil {
		methods := make([]string, len(u.Phone.Methods))
		for i, m := range u.Phone.Methods {
			methods[i] = string(m)
		}
		us.Phone = &acctl.PhoneState{RegisteredAt: u.Phone.RegisteredAt, Lost: u.Phone.Lost, Methods: methods}
	}
	for _, l := range u.Links {
		us.Links = append(us.Links, linkState(ctx, e, l))
	}
	return us
}

// userCursor says where a walk of the users in the order they were added stopped: in the round
// for the users with a Seq above from and at most upto, in application app, after its user whose
// Seq is after (0: before its first). It reads "FROM.UPTO.APP.AFTER", APP in unpadded base64url.
type userCursor struct {
	from, upto uint64
	app        string
	after      uint64
}

func (c userCursor) String() string {
	return strconv.FormatUint(c.from, 10) + "." + strconv.FormatUint(c.upto, 10) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(c.app)) + "." + strconv.FormatUint(c.after, 10)
}

func parseUserCursor(cursor string) (c userCursor, ok bool) {
	parts := strings.Split(cursor, ".")
	if len(parts) != 4 {
		return c, false
	}
	var nums [3]uint64
	for i, p := range [3]string{parts[0], parts[1], parts[3]} {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return c, false
		}
		nums[i] = n
	}
	app, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || nums[0] > nums[1] {
		return c, false
	}
	return userCursor{from: nums[0], upto: nums[1], app: string(app), after: nums[2]}, true
}

// idCursor encodes where a page of users in ID order stopped: an application and the ID of its
// last user listed ("": before its first), as "APP~ID", each in unpadded base64url.
func idCursor(appID, lastID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(appID)) + "~" + base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

func parseIDCursor(cursor string) (appID, id string, ok bool) {
	app, rest, found := strings.Cut(cursor, "~")
	a, err := base64.RawURLEncoding.DecodeString(app)
	if !found || err != nil {
		return "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	return string(a), string(b), err == nil
}

func sessionState(s store.Session) acctl.Session {
	out := acctl.Session{Token: s.Token, Application: s.AppID, User: s.UserID, Status: acctl.SessionStatus(s.Status),
		Attempt: s.Attempt + 1, Methods: []string{}, History: []acctl.StatusChange{}, Allowed: []acctl.SessionStatus{}}
	for _, to := range store.Transitions(s.Status) {
		out.Allowed = append(out.Allowed, acctl.SessionStatus(to))
	}
	for _, m := range s.Methods {
		out.Methods = append(out.Methods, string(m))
	}
	for _, h := range s.History {
		out.History = append(out.History, acctl.StatusChange{Status: acctl.SessionStatus(h.Status), At: h.At, Cause: h.Cause})
	}
	return out
}

// ListSessions answers one page of sessions; the cursor is the Seq the page stopped at.
func (c control) ListSessions(_ context.Context, req acctlserver.ListSessionsRequestObject) (acctlserver.ListSessionsResponseObject, error) {
	p := req.Params
	bad := func(field, format string, args ...any) (acctlserver.ListSessionsResponseObject, error) {
		return acctlserver.ListSessions400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", field, format, args...))}, nil
	}
	if p.Status != nil && !p.Status.Valid() {
		return bad("status", "unknown status %q", clip.Input(string(*p.Status)))
	}
	if p.Order != nil && !p.Order.Valid() {
		return bad("order", "order must be oldest or newest, not %q", clip.Input(string(*p.Order)))
	}
	f := store.SessionFilter{Live: p.Live}
	for dst, src := range map[*string]*string{&f.AppID: p.Application, &f.UserID: p.User} {
		if src != nil {
			*dst = *src
		}
	}
	if p.Status != nil {
		f.Status = acapi.SessionStatus(*p.Status)
	}
	page := store.Page{Limit: defaultPage, Newest: p.Order != nil && *p.Order == acctl.ListSessionsParamsOrderNewest}
	if p.Limit != nil {
		page.Limit = *p.Limit
	}
	if p.Cursor != nil {
		seq, err := strconv.ParseUint(*p.Cursor, 10, 64)
		if err != nil || seq == 0 {
			return bad("cursor", "cursor must be the next_cursor of a previous page of GET /_acmock/sessions")
		}
		page.After, page.Before = seq, seq
	}
	sessions, next := c.e.store.SessionsPage(f, page)
	out := acctlserver.ListSessions200JSONResponse{Sessions: make([]acctl.Session, len(sessions))}
	for i, s := range sessions {
		out.Sessions[i] = sessionState(s)
	}
	if next != 0 {
		out.NextCursor = ptr(strconv.FormatUint(next, 10))
	}
	return out, nil
}

func (c control) SetSessionStatus(_ context.Context, req acctlserver.SetSessionStatusRequestObject) (acctlserver.SetSessionStatusResponseObject, error) {
	to := acapi.SessionStatus(req.Body.Status)
	s, err := c.e.SetSessionStatus(req.SessionToken, to)
	switch {
	case errors.Is(err, ErrInvalidStatus):
		return acctlserver.SetSessionStatus400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "status",
			"unknown status %q; use %s", clip.Input(string(req.Body.Status)), targetStatuses))}, nil
	case errors.Is(err, store.ErrSessionNotFound):
		return acctlserver.SetSessionStatus404JSONResponse(ctlError("unknown_session", "session_token", "no session %s%s", clip.Input(req.SessionToken), forgottenSession)), nil
	case errors.Is(err, store.ErrBadTransition):
		return acctlserver.SetSessionStatus409JSONResponse(ctlError("bad_transition", "status",
			"session %s is %s and cannot become %s", clip.Input(req.SessionToken), s.Status, to)), nil
	case err != nil:
		return nil, err
	}
	return acctlserver.SetSessionStatus200JSONResponse(sessionState(s)), nil
}

func (c control) SetUserStatus(_ context.Context, req acctlserver.SetUserStatusRequestObject) (acctlserver.SetUserStatusResponseObject, error) {
	to := acapi.SessionStatus(req.Body.Status)
	appID := ""
	if req.Params.Application != nil {
		appID = *req.Params.Application
		if _, err := c.e.store.Application(appID); err != nil {
			return acctlserver.SetUserStatus404JSONResponse(ctlError("unknown_application", "application", "no application %s", clip.Input(appID))), nil
		}
	}
	s, err := c.e.SetUserStatus(appID, req.UserId, to)
	var none *NoSessionError
	switch {
	case errors.Is(err, ErrInvalidStatus):
		return acctlserver.SetUserStatus400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "status",
			"unknown status %q; use %s", clip.Input(string(req.Body.Status)), targetStatuses))}, nil
	case errors.As(err, &none) && !none.Known:
		msg := none.Error()
		if appID != "" {
			msg = fmt.Sprintf("application %s has no user %q", clip.Input(appID), clip.Input(req.UserId))
		}
		return acctlserver.SetUserStatus404JSONResponse(ctlError("unknown_user", "user_id", "%s", msg)), nil
	case errors.As(err, &none) && none.Count == 0:
		return acctlserver.SetUserStatus409JSONResponse(ctlError("no_session", "user_id", "%s", none.Error())), nil
	case errors.As(err, &none):
		return acctlserver.SetUserStatus409JSONResponse(ctlError("bad_transition", "status", "%s", none.Error())), nil
	case err != nil:
		return nil, err
	}
	return acctlserver.SetUserStatus200JSONResponse(sessionState(s)), nil
}

func (c control) ListRequests(ctx context.Context, req acctlserver.ListRequestsRequestObject) (acctlserver.ListRequestsResponseObject, error) {
	p := req.Params
	f := journal.Filter{}
	for dst, src := range map[*string]*string{&f.Operation: p.Operation, &f.Application: p.Application, &f.User: p.User, &f.Session: p.Session, &f.Method: p.Method} {
		if src != nil {
			*dst = *src
		}
	}
	if p.Status != nil {
		f.Status = *p.Status
	}
	if p.Since != nil {
		f.Since = *p.Since
	}
	f, err := c.e.checkFilter(f)
	if err != nil {
		return acctlserver.ListRequests400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "operation", "%v", err))}, nil
	}
	if p.MinCount == nil && p.Timeout != nil {
		return acctlserver.ListRequests400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "timeout", "timeout only makes sense with min_count"))}, nil
	}
	if p.MinCount != nil && *p.MinCount > c.e.journal.Cap() {
		return acctlserver.ListRequests400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "min_count",
			"min_count %d can never be reached: the journal keeps the last %d requests (set by --journal-size or ACMOCK_JOURNAL_SIZE)", *p.MinCount, c.e.journal.Cap()))}, nil
	}
	limit := defaultPage
	if p.Limit != nil {
		limit = *p.Limit
	}
	var before uint64
	if p.Cursor != nil {
		seq, err := strconv.ParseUint(*p.Cursor, 10, 64)
		if err != nil || seq == 0 {
			return acctlserver.ListRequests400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "cursor",
				"cursor must be the next_cursor of a previous page of GET /_acmock/requests"))}, nil
		}
		before = seq
	}
	out := acctlserver.ListRequests200JSONResponse{}
	if p.MinCount != nil {
		wait := 5 * time.Second
		if p.Timeout != nil {
			d, err := time.ParseDuration(*p.Timeout)
			if err != nil || d < 0 || d > maxJournalWait {
				return acctlserver.ListRequests400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_request", "timeout",
					"timeout must be a Go duration from 0s to %v, not %q", maxJournalWait, clip.Input(*p.Timeout)))}, nil
			}
			wait = d
		}
		ctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		err := c.e.journal.WaitFor(ctx, f, *p.MinCount)
		if errors.Is(err, journal.ErrTooManyWaiters) {
			return acctlserver.ListRequests503JSONResponse(ctlError("busy", "min_count",
				"%v; try again when one ends, or read without min_count", err)), nil
		}
		out.TimedOut = err != nil
	}
	entries, next := c.e.journal.Page(f, before, limit)
	if next != 0 {
		out.NextCursor = ptr(strconv.FormatUint(next, 10))
	}
	out.Entries = make([]acctl.RequestEntry, len(entries))
	for i, en := range entries {
		out.Entries[i] = acctl.RequestEntry{
			Seq: en.Seq, Time: en.Time, Method: en.Method, Path: en.Path, Status: en.Status, Hmac: en.HMAC,
			LatencyMs: float64(en.Latency) / float64(time.Millisecond),
			Operation: nonEmpty(en.Operation), Application: nonEmpty(en.Application), User: nonEmpty(en.User),
			Session: nonEmpty(en.Session), Error: nonEmpty(en.Error), Fault: nonEmpty(en.Fault),
			Message: nonEmpty(en.Message), StringToSign: nonEmpty(en.StringToSign),
		}
		if len(en.AuthHeaders) > 0 {
			out.Entries[i].AuthHeaders = &en.AuthHeaders
		}
	}
	return out, nil
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func (c control) ClearRequests(context.Context, acctlserver.ClearRequestsRequestObject) (acctlserver.ClearRequestsResponseObject, error) {
	c.e.journal.Clear()
	return acctlserver.ClearRequests200JSONResponse{Status: true}, nil
}

// ListSms answers the outbox with the state of each message's link, read from its user (the
// outbox is bounded, and each user is read once).
func (c control) ListSms(context.Context, acctlserver.ListSmsRequestObject) (acctlserver.ListSmsResponseObject, error) {
	out := acctlserver.ListSms200JSONResponse{Messages: []acctl.Sms{}}
	type key struct{ app, user string }
	links := map[key][]store.Link{}
	for _, m := range c.e.store.Outbox() {
		k := key{m.AppID, m.UserID}
		have, ok := links[k]
		if !ok {
			if u, err := c.e.store.User(m.AppID, m.UserID); err == nil {
				have = u.Links
			}
			links[k] = have
		}
		sms := acctl.Sms{Application: m.AppID, User: m.UserID, PhoneNumber: m.PhoneNumber, Body: m.Body, Link: m.Link,
			Code: linkCode(m.Link), LinkStatus: acctl.SmsLinkStatusGone, SentAt: m.SentAt}
		for _, l := range have {
			if !strings.HasSuffix(m.Link, "/"+url.PathEscape(l.Code)) { // the link's URL ends with its code (linkURL)
				continue
			}
			sms.Code, sms.LinkStatus = l.Code, acctl.SmsLinkStatusUnused
			if !l.UsedAt.IsZero() {
				sms.LinkStatus, sms.UsedAt = acctl.SmsLinkStatusUsed, ptr(l.UsedAt)
			}
		}
		out.Messages = append(out.Messages, sms)
	}
	return out, nil
}

// linkCode is the code at the end of a registration link's URL (see linkURL).
func linkCode(link string) string {
	last := link[strings.LastIndex(link, "/")+1:]
	if code, err := url.PathUnescape(last); err == nil {
		return code
	}
	return last
}

// registeredPage is parsed when a browser first opens a link, not when the emulator starts.
var registeredPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("registered").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Phone registered · acmock</title></head>
<body>
<h1>Phone registered</h1>
<p>acmock registered a phone for user <strong>{{.UserID}}</strong> of application <code>{{.AppID}}</code>{{if .DisplayName}} ({{.DisplayName}}){{end}}.</p>
<p>Logins for this user now reach the emulated phone, which follows the loaded scenario.</p>
</body></html>
`))
})

// OpenRegistrationLink is where registration links point: opening one registers a phone, as the
// mobile app would when it opens the link.
func (c control) OpenRegistrationLink(ctx context.Context, req acctlserver.OpenRegistrationLinkRequestObject) (acctlserver.OpenRegistrationLinkResponseObject, error) {
	link, err := c.e.store.UseLink(req.Code, c.e.clock.Now())
	if info := infoFrom(ctx); info != nil {
		info.app, info.user = link.AppID, link.UserID
	}
	switch {
	case errors.Is(err, store.ErrStorage):
		return nil, err
	case errors.Is(err, store.ErrLinkUsed):
		return acctlserver.OpenRegistrationLink409JSONResponse(ctlError("link_used", "code",
			"registration link %s was already used; ask for a new one", clip.Input(req.Code))), nil
	case err != nil:
		return acctlserver.OpenRegistrationLink404JSONResponse(ctlError("unknown_link", "code",
			"no registration link %s; a link stops working when its user is deleted, when the emulator resets, and when the user gets %d newer ones (a user keeps its last %d)",
			clip.Input(req.Code), c.e.store.Limits().MaxLinksPerUser, c.e.store.Limits().MaxLinksPerUser)), nil
	}
	if acceptsJSON(ctx) {
		return acctlserver.OpenRegistrationLink200JSONResponse{Status: true, ApplicationId: link.AppID, UserId: link.UserID}, nil
	}
	var page bytes.Buffer
	if err := registeredPage().Execute(&page, link); err != nil {
		return nil, fmt.Errorf("render registration page: %w", err)
	}
	return acctlserver.OpenRegistrationLink200TexthtmlResponse{Body: &page, ContentLength: int64(page.Len())}, nil
}

func acceptsJSON(ctx context.Context) bool {
	info := infoFrom(ctx)
	return info != nil && strings.Contains(info.header.Get("Accept"), "application/json")
}
