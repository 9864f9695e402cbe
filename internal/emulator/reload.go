package emulator

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/acmock/acmock/generated/acctl"
	"github.com/acmock/acmock/internal/scenario"
	"github.com/acmock/acmock/internal/store"
)

// ReloadStatus is the outcome of the last ReloadFile.
type ReloadStatus struct {
	At   time.Time
	File string
	// Err is nil when the file was loaded; otherwise the scenario before it is still in use.
	// Problems of the file's content are scenario.Problems, with file:line:col.
	Err error
}

// ReloadFile reads a scenario file again and, when it is good, applies it with ApplyScenario; a
// file with problems changes nothing. Either way the outcome is logged (every problem on a line of
// its own, file:line:col) and reported by LastReload, the health endpoint and GET /_acmock/scenario.
// It is what --watch and SIGHUP call.
func (e *Emulator) ReloadFile(path string) error {
	e.reloadMu.Lock() // SIGHUP and --watch may both ask at once: one outcome at a time
	defer e.reloadMu.Unlock()
	sc, err := scenario.LoadFile(path)
	if err == nil {
		err = e.ApplyScenario(sc)
	}
	e.mu.Lock()
	e.reload = &ReloadStatus{At: time.Now(), File: path, Err: err}
	e.mu.Unlock()
	e.controlChanges.Bump() // the console shows the outcome
	var problems scenario.Problems
	switch {
	case errors.As(err, &problems):
		e.log.Error("scenario file has problems: the scenario loaded before it stays", "file", path, "problems", len(problems))
		for _, p := range problems {
			e.log.Error("scenario problem", "at", fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Column), "problem", p.Msg)
		}
	case err != nil:
		e.log.Error("scenario file not reloaded: the scenario loaded before it stays", "file", path, "err", err)
	default:
		e.log.Info("scenario reloaded", "file", path, "scenario", sc.Name)
	}
	return err
}

// LastReload returns the outcome of the last ReloadFile, nil before the first.
func (e *Emulator) LastReload() *ReloadStatus {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.reload
}

// ApplyScenario makes sc the scenario without resetting anything created or changed at run time.
// It keeps every application, user, phone (registered or lost), registration link, session with
// its history and pending steps, SMS, the journal, the clock and the skew settings. It adds the
// applications of sc that do not exist yet and, to every application of sc, the users sc lists
// that it does not have (with the phone sc gives them), except those deleted at run time while
// the scenario listed them: a deletion is something the application did, and stays. Such a user
// is forgotten as deleted once sc no longer lists them, so a later scenario that lists them
// again adds them. From then on sc decides what phones do in logins that start later, how long
// they wait before timing out, and which faults apply (their call counters start afresh). A user
// or application that sc no longer lists stays; an application's secret stays what it is
// (POST /_acmock/reset starts over from sc).
//
// It is all or nothing: the additions are checked whole (the limits) and made as one change, and
// sc replaces the scenario only once they are made, so a scenario the store refuses changes
// nothing.
func (e *Emulator) ApplyScenario(sc *scenario.Scenario) error {
	e.applyMu.Lock()
	defer e.applyMu.Unlock()
	deleted := e.store.Deleted()
	if err := e.checkApply(sc, deleted); err != nil {
		return fmt.Errorf("apply scenario %s: %w", sc.Name, overLimit{err})
	}
	for _, app := range sc.Applications {
		if kept, err := e.store.Application(app.ID); err == nil && kept.Secret != app.Secret {
			e.log.Warn("the scenario gives an application another secret: the one in the state stays (POST /_acmock/reset applies the file's)",
				"application", app.ID)
		}
	}
	if _, _, err := e.store.AddMissing(seedOf(sc.Applications, deleted), e.clock.Now()); err != nil {
		return fmt.Errorf("apply scenario %s: %w", sc.Name, err)
	}
	for appID, ids := range deleted {
		unlisted := slices.DeleteFunc(ids, func(id string) bool { return sc.Lists(appID, id) })
		if len(unlisted) == 0 {
			continue
		}
		if err := e.store.ForgetDeleted(appID, unlisted); err != nil {
			return fmt.Errorf("apply scenario %s: %w", sc.Name, err)
		}
	}
	e.mu.Lock()
	e.scenario = sc
	if e.faults != nil {
		e.faults.stop()
	}
	e.faults = newFaultState(sc)
	e.mu.Unlock()
	return nil
}

// checkApply refuses, before anything changes, a scenario whose applications and users would take
// the store past its limits once added to what it holds, users deleted at run time left out as
// seedMissing leaves them (scenario.Problems, nil when it fits).
func (e *Emulator) checkApply(sc *scenario.Scenario, deleted map[string][]string) error {
	if err := scenario.CheckLimits(sc, e.store.Limits()); err != nil {
		return err
	}
	newApps, newUsers := 0, 0
	for _, app := range sc.Applications {
		if _, err := e.store.Application(app.ID); err != nil {
			newApps++
			newUsers += len(app.Users)
			continue
		}
		for _, u := range app.Users {
			if _, gone := slices.BinarySearch(deleted[app.ID], u.ID); gone {
				continue // deleted at run time: not added back
			}
			if _, err := e.store.User(app.ID, u.ID); err != nil {
				newUsers++
			}
		}
	}
	l := e.store.Limits()
	var problems scenario.Problems
	at := func(format string, args ...any) {
		problems = append(problems, scenario.Problem{File: sc.File, Line: 1, Column: 1, Msg: fmt.Sprintf(format, args...)})
	}
	if held := len(e.store.Applications()); held+newApps > l.MaxApplications {
		at("applying the scenario would add %s to the %d the emulator holds, and it holds at most %d (a fixed bound, see api/control.yaml, Bounds); limit reached",
			things(newApps, "application"), held, l.MaxApplications)
	}
	if held := e.store.UserCount(); held+newUsers > l.MaxUsers {
		at("applying the scenario would add %s to the %d the emulator holds, and it holds at most %d (set by --max-users or ACMOCK_MAX_USERS); limit reached",
			things(newUsers, "user"), held, l.MaxUsers)
	}
	if problems == nil {
		return nil
	}
	return problems
}

// seedOf is what the store needs of a scenario's applications to add them, leaving out the users
// deleted at run time (deleted, by application, sorted; nil for none).
func seedOf(apps []scenario.Application, deleted map[string][]string) []store.SeedApplication {
	out := make([]store.SeedApplication, len(apps))
	for i, app := range apps {
		out[i] = store.SeedApplication{ID: app.ID, Secret: app.Secret, Users: make([]store.SeedUser, 0, len(app.Users))}
		for _, u := range app.Users {
			if _, gone := slices.BinarySearch(deleted[app.ID], u.ID); gone {
				continue
			}
			su := store.SeedUser{ID: u.ID}
			if u.Phone != nil {
				su.Phone = &store.SeedPhone{Methods: u.Phone.Methods}
			}
			out[i].Users = append(out[i].Users, su)
		}
	}
	return out
}

// reloadInfo is the last reload as the control API reports it.
func reloadInfo(r *ReloadStatus) *acctl.ReloadStatus {
	if r == nil {
		return nil
	}
	out := &acctl.ReloadStatus{Ok: r.Err == nil, At: r.At, File: r.File, Problems: []acctl.Problem{}}
	if r.Err == nil {
		return out
	}
	var problems scenario.Problems
	if errors.As(r.Err, &problems) {
		for _, p := range problems {
			out.Problems = append(out.Problems, acctl.Problem{Line: p.Line, Column: p.Column, Message: p.Msg, Text: p.Error()})
		}
		return out
	}
	msg := r.Err.Error()
	out.Error = &msg
	return out
}
