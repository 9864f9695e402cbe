package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/generated/acctlserver"
	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// The control operations below were added for the console; like the rest of the control API they
// serve the CLI and tests as well.

func (c control) GetApplicationCredentials(_ context.Context, req acctlserver.GetApplicationCredentialsRequestObject) (acctlserver.GetApplicationCredentialsResponseObject, error) {
	app, err := c.e.store.Application(req.ApplicationId)
	switch {
	case errors.Is(err, store.ErrApplicationNotFound):
		return acctlserver.GetApplicationCredentials404JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("unknown_application", "application_id", "no application %s", clip.Input(req.ApplicationId)))}, nil
	case err != nil:
		return nil, err
	}
	return acctlserver.GetApplicationCredentials200JSONResponse{Id: app.ID, Secret: app.Secret}, nil
}

func (c control) LosePhone(ctx context.Context, req acctlserver.LosePhoneRequestObject) (acctlserver.LosePhoneResponseObject, error) {
	link, err := c.e.store.LoseDevice(req.ApplicationId, req.UserId, c.e.clock.Now())
	switch {
	case errors.Is(err, store.ErrApplicationNotFound):
		return acctlserver.LosePhone404JSONResponse(ctlError("unknown_application", "application_id", "no application %s", clip.Input(req.ApplicationId))), nil
	case errors.Is(err, store.ErrUserNotFound):
		return acctlserver.LosePhone404JSONResponse(ctlError("unknown_user", "user_id", "application %s has no user %q", clip.Input(req.ApplicationId), clip.Input(req.UserId))), nil
	case err != nil:
		return nil, err
	}
	return acctlserver.LosePhone200JSONResponse(linkState(ctx, c.e, link)), nil
}

func linkState(ctx context.Context, e *Emulator, l store.Link) acctl.LinkState {
	ls := acctl.LinkState{Url: e.linkURL(ctx, l.Code), Code: l.Code, CreatedAt: l.CreatedAt}
	if l.DisplayName != "" {
		ls.DisplayName = &l.DisplayName
	}
	if !l.UsedAt.IsZero() {
		ls.UsedAt = &l.UsedAt
	}
	return ls
}

func (c control) ListApplications(context.Context, acctlserver.ListApplicationsRequestObject) (acctlserver.ListApplicationsResponseObject, error) {
	out := acctlserver.ListApplications200JSONResponse{Applications: []acctl.ApplicationRef{}}
	for _, app := range c.e.store.Applications() {
		out.Applications = append(out.Applications, acctl.ApplicationRef{Id: app.ID})
	}
	return out, nil
}

func (c control) GetTimeline(_ context.Context, req acctlserver.GetTimelineRequestObject) (acctlserver.GetTimelineResponseObject, error) {
	limit := 100
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	now := c.e.clock.Now()
	out := acctlserver.GetTimeline200JSONResponse{Mode: acctl.TimelineMode(c.e.clockMode()), Now: now, Steps: []acctl.TimelineStep{}}
	only := ""
	if req.Params.Session != nil {
		only = *req.Params.Session
	}
	steps, total := c.e.pendingSteps(only, limit)
	out.Total = total
	for _, st := range steps {
		out.Steps = append(out.Steps, acctl.TimelineStep{
			Due: st.due, InMs: max(0, st.due.Sub(now).Milliseconds()), Application: st.app, User: st.user,
			Session: st.session, SessionStatus: acctl.SessionStatus(st.now), Status: acctl.SessionStatus(st.status),
			Cause: acctl.TimelineStepCause(st.cause),
		})
	}
	return out, nil
}

// pendingStep is a step of a plan that is still to fire, with its session.
type pendingStep struct {
	due                time.Time
	app, user, session string
	now, status        acapi.SessionStatus
	cause              string
	timeout            bool
}

// pendingSteps lists the soonest limit steps still to fire that can change their session now
// (then in the order they fire), and how many steps are waiting in all. Steps of a session that
// ended (or that a reset forgot) are left out, and so is the timeout of a login the phone
// answered: firing them changes nothing. The steps come from the timeline, which keeps them in
// order as plans are made and steps fire or are cancelled, so the cost follows limit, not the
// number of sessions with plans. With only set, the steps are those of that session alone.
func (e *Emulator) pendingSteps(only string, limit int) (out []pendingStep, total int) {
	if only != "" {
		return e.sessionSteps(only, limit)
	}
	// A step settle has not yet cancelled (its session changed a moment ago) is skipped; should
	// skips make the page short, look again further.
	for want := limit; ; want *= 2 {
		e.plansMu.Lock()
		waiting := e.timeline.Len()
		var found []pendingStep
		e.timeline.Ascend(func(s *plannedStep) bool {
			found = append(found, pendingStep{due: s.due, app: s.plan.app, user: s.plan.user, session: s.plan.token,
				status: s.status, timeout: s.timeout})
			return len(found) < want
		})
		e.plansMu.Unlock()
		out, total = out[:0], waiting
		for _, st := range found {
			status, err := e.store.SessionStatus(st.session)
			if err != nil || !store.Live(status) || (st.timeout && !timesOut(status)) {
				total--
				continue
			}
			st.now, st.cause = status, "scenario"
			if st.timeout {
				st.cause = "timeout"
			}
			if len(out) < limit {
				out = append(out, st)
			}
		}
		if len(out) == limit || len(found) < want {
			return out, total
		}
	}
}

// sessionSteps is pendingSteps for one session: its plan's steps are already in the order they
// fire.
func (e *Emulator) sessionSteps(token string, limit int) (out []pendingStep, total int) {
	var found []pendingStep
	e.plansMu.Lock()
	if p := e.plans[token]; p != nil {
		for _, s := range p.steps {
			if !s.done {
				found = append(found, pendingStep{due: s.due, app: p.app, user: p.user, session: token, status: s.status, timeout: s.timeout})
			}
		}
	}
	e.plansMu.Unlock()
	if len(found) == 0 {
		return nil, 0
	}
	status, err := e.store.SessionStatus(token)
	if err != nil || !store.Live(status) {
		return nil, 0
	}
	for _, st := range found {
		if st.timeout && !timesOut(status) {
			continue
		}
		total++
		st.now, st.cause = status, "scenario"
		if st.timeout {
			st.cause = "timeout"
		}
		if len(out) < limit {
			out = append(out, st)
		}
	}
	return out, total
}

func (c control) ValidateScenario(ctx context.Context, req acctlserver.ValidateScenarioRequestObject) (acctlserver.ValidateScenarioResponseObject, error) {
	sc, problems, err := parseScenarioBody(ctx, req.Body)
	if problems != nil {
		return acctlserver.ValidateScenario400JSONResponse(*problems), nil
	}
	if errors.Is(err, errShuttingDown) {
		return acctlserver.ValidateScenario503JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(shuttingDown())}, nil
	}
	if err != nil {
		return nil, err
	}
	// What loading it would refuse, in the same words (see LoadScenario).
	if problems, ok := scenarioProblems(scenario.CheckLimits(sc, c.e.store.Limits())); ok {
		return acctlserver.ValidateScenario400JSONResponse(problems), nil
	}
	return acctlserver.ValidateScenario200JSONResponse(scenarioInfo(sc)), nil
}

// errShuttingDown is parseScenarioBody's error when the request's context ended first.
var errShuttingDown = errors.New("the emulator is shutting down")

func shuttingDown() acctl.Error {
	return ctlError("shutting_down", "", "the emulator is shutting down; the scenario was not loaded")
}

// parseScenarioBody reads a scenario sent to the control API. A scenario that does not load gives
// its problems as the 400 body; other errors are the emulator's. The body is judged off the
// request's goroutine, and errShuttingDown answers at once when the request's context ends (a
// shutdown cancels every request's), so a shutdown never waits for it; judging is one pass over
// the body anyway.
func parseScenarioBody(ctx context.Context, body io.Reader) (*scenario.Scenario, *acctl.ScenarioProblems, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, nil, fmt.Errorf("read scenario: %w", err)
	}
	type parsed struct {
		sc  *scenario.Scenario
		err error
	}
	done := make(chan parsed, 1)
	go func() {
		sc, err := scenario.Parse("scenario.yaml", data)
		done <- parsed{sc, err}
	}()
	var res parsed
	select {
	case res = <-done:
	case <-ctx.Done():
		return nil, nil, errShuttingDown
	}
	if problems, ok := scenarioProblems(res.err); ok {
		return nil, &problems, nil
	}
	return res.sc, nil, res.err
}

// scenarioProblems turns the problems of a scenario that does not load into the control API's
// 400 body, and reports whether err was such problems. It lists the first scenario.MaxListed and
// counts the others: a 1 MiB file can have tens of thousands.
func scenarioProblems(err error) (acctl.ScenarioProblems, bool) {
	var problems scenario.Problems
	if !errors.As(err, &problems) {
		return acctl.ScenarioProblems{}, false
	}
	listed := problems[:min(len(problems), scenario.MaxListed)]
	out := acctl.ScenarioProblems{Code: "invalid_scenario", Problems: make([]acctl.Problem, len(listed)),
		Message: fmt.Sprintf("the scenario has %d problems; the loaded scenario stays", len(problems))}
	switch more := len(problems) - len(listed); {
	case len(problems) == 1:
		out.Message = "the scenario has 1 problem; the loaded scenario stays"
	case more > 0:
		out.More = &more
		out.Message = fmt.Sprintf("the scenario has %d problems; the first %d are listed; the loaded scenario stays", len(problems), len(listed))
	}
	for i, p := range listed {
		out.Problems[i] = acctl.Problem{Line: p.Line, Column: p.Column, Message: p.Msg, Text: p.Error()}
	}
	return out, true
}
