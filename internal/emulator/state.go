package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/acmock/acmock/generated/acctlserver"
	"github.com/acmock/acmock/internal/clock"
	"github.com/acmock/acmock/internal/store"
)

// start brings the state to where the emulator begins: the scenario's initial state, a snapshot,
// or, from a data directory that holds state, that state with the scenario applied on top.
func (e *Emulator) start(opts Options, fresh bool) error {
	switch {
	case !fresh:
		e.mu.Lock()
		e.scenario = opts.Scenario
		e.faults = newFaultState(opts.Scenario)
		e.mu.Unlock()
		e.restoreSettings(e.store.Settings())
		if err := e.ApplyScenario(opts.Scenario); err != nil {
			return err
		}
		e.resumePlans()
		return nil
	case opts.Snapshot != nil:
		e.mu.Lock()
		e.scenario = opts.Scenario
		e.faults = newFaultState(opts.Scenario)
		e.mu.Unlock()
		return e.ImportState(opts.Snapshot)
	default:
		// The journal is new and empty: clearing it would only touch every page of its memory.
		if err := e.loadScenario(opts.Scenario, false); err != nil {
			return err
		}
		return e.saveSettings()
	}
}

// restoreSettings puts back the saved time of a virtual clock (whatever time the new clock started
// at) and the signature-check settings.
func (e *Emulator) restoreSettings(st store.Settings) {
	if v, ok := e.clock.(*clock.Virtual); ok && !st.ClockNow.IsZero() {
		v.Set(st.ClockNow)
	}
	e.SetWallClockShift(st.Shift)
	if st.MaxSkew >= time.Second {
		e.verifier.SetMaxSkew(st.MaxSkew)
	}
}

// saveSettings records the clock time and the signature-check settings in the store.
func (e *Emulator) saveSettings() error {
	shift, skew := e.WallClockShift(), e.verifier.MaxSkew()
	if err := e.store.SetWallClock(&shift, &skew); err != nil {
		return err
	}
	return e.saveClock()
}

// saveClock records the time of a virtual clock.
func (e *Emulator) saveClock() error {
	if _, ok := e.clock.(*clock.Virtual); !ok {
		return nil
	}
	return e.store.SetClockTime(e.clock.Now())
}

// moveClock moves the virtual clock forward to to(now), running what falls due, and returns how
// many steps ran. The new time is saved first: a clock that moved is never ahead of the disk, so
// nothing is recorded at a time a restart would put the clock behind, and a time the disk
// refuses is not shown. Moves are serialised (two advances of 5 s move it 10 s), so the time
// saved last is the clock's.
func (e *Emulator) moveClock(v *clock.Virtual, to func(now time.Time) time.Time) (int, error) {
	e.clockMu.Lock()
	defer e.clockMu.Unlock()
	t := to(v.Now())
	if t.After(v.Now()) {
		if err := e.store.SetClockTime(t); err != nil {
			return 0, err
		}
	}
	return v.AdvanceTo(t), nil
}

// setWallClock saves new signature-check settings, then puts them in force (a nil one stays).
func (e *Emulator) setWallClock(shift, skew *time.Duration) error {
	e.clockMu.Lock()
	defer e.clockMu.Unlock()
	if err := e.store.SetWallClock(shift, skew); err != nil {
		return err
	}
	if shift != nil {
		e.SetWallClockShift(*shift)
	}
	if skew != nil {
		e.verifier.SetMaxSkew(*skew)
	}
	return nil
}

// DataDir returns the data directory the state is kept in, "" when it is kept in memory.
func (e *Emulator) DataDir() string {
	dir, _ := e.store.Durable()
	return dir
}

// ExportState returns a snapshot of the state, with the clock's time and the signature settings
// as they are now.
func (e *Emulator) ExportState() *store.State {
	st := e.store.Export()
	st.Clock.Now = e.clock.Now()
	st.WallClock = store.WallClockState{Shift: e.WallClockShift().String(), MaxSkew: e.verifier.MaxSkew().String()}
	return st
}

// ImportState replaces the state with a snapshot: it is checked whole first, and a snapshot with
// a problem changes nothing (the error wraps store.ErrBadState). Nor does one that the data
// directory cannot take (store.ErrStorage): the state stays as it was, its pending steps too. The
// scenario, its faults and the journal stay; pending steps are scheduled again at their due
// times; a virtual clock is set to the snapshot's time (one with the zero time keeps its own).
func (e *Emulator) ImportState(st *store.State) error {
	if err := st.Check(e.store.Limits()); err != nil {
		return err
	}
	e.timers.StopAll()
	e.forgetPlans()
	if err := e.store.Import(st); err != nil {
		e.resumePlans() // the state it had, timelines included
		if errors.Is(err, store.ErrStorage) {
			return fmt.Errorf("the state was not changed: %w", err)
		}
		return err
	}
	settings := e.store.Settings()
	if v, ok := e.clock.(*clock.Virtual); ok && !settings.ClockNow.IsZero() {
		v.Set(settings.ClockNow)
	}
	e.SetWallClockShift(settings.Shift)
	e.verifier.SetMaxSkew(settings.MaxSkew)
	e.resumePlans()
	return nil
}

func (c control) GetState(context.Context, acctlserver.GetStateRequestObject) (acctlserver.GetStateResponseObject, error) {
	data, err := json.Marshal(c.e.ExportState())
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return stateJSON(data), nil
}

// stateJSON answers the snapshot as it is: the generated response type, a []byte, would be
// encoded as a base64 string.
type stateJSON []byte

func (s stateJSON) VisitGetStateResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(s)
	return err
}

func (c control) PutState(_ context.Context, req acctlserver.PutStateRequestObject) (acctlserver.PutStateResponseObject, error) {
	st, err := store.ParseState(*req.Body, c.e.store.Limits())
	if err == nil {
		err = c.e.ImportState(st)
	}
	if errors.Is(err, store.ErrBadState) {
		return acctlserver.PutState400JSONResponse{ErrorJSONResponse: acctlserver.ErrorJSONResponse(ctlError("invalid_state", stateField(err), "%v; nothing was changed", err))}, nil
	}
	if err != nil {
		return nil, err
	}
	apps, users, sessions, messages := st.Summary()
	return acctlserver.PutState200JSONResponse{Status: true, Applications: apps, Users: users, Sessions: sessions, Messages: messages}, nil
}

// stateField is the field a snapshot's problem names.
func stateField(err error) string {
	var se *store.StateError
	if errors.As(err, &se) {
		return se.Field
	}
	return ""
}
