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

// saveClock records the time of a virtual clock, after whatever moved it.
func (e *Emulator) saveClock() error {
	if _, ok := e.clock.(*clock.Virtual); !ok {
		return nil
	}
	return e.store.SetClockTime(e.clock.Now())
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
// times; a virtual clock is set to the snapshot's time.
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
	if v, ok := e.clock.(*clock.Virtual); ok {
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
