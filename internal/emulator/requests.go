package emulator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/acmock/acmock/internal/clip"
	"github.com/acmock/acmock/internal/journal"
)

// ErrUnknownOperation is returned for a journal filter that names no operation the journal records.
var ErrUnknownOperation = errors.New("unknown operation")

// journalledOps are the operations whose requests the journal records: every operation of
// api/openapi.yaml, and the registration link a phone opens.
func journalledOps(api, ctl map[string]*operation) []*operation {
	var out []*operation
	for _, op := range api {
		out = append(out, op)
	}
	for _, op := range ctl {
		if op.id == "openRegistrationLink" {
			out = append(out, op)
		}
	}
	return out
}

// opNames maps every name a filter may use to the operationId the journal records: the
// operationId itself and the name the operation's URL uses (authenticate_user, session_status,
// register), which is what users see in logs and in the official client's paths.
type opNames struct {
	byName map[string]string
	ids    []string // sorted
	urls   []string // sorted
}

func newOpNames(ops []*operation) opNames {
	n := opNames{byName: map[string]string{}}
	for _, op := range ops {
		n.byName[op.id] = op.id
		n.ids = append(n.ids, op.id)
		if u := urlName(op.template); u != "" && u != op.id {
			n.byName[u] = op.id
			n.urls = append(n.urls, u)
		}
	}
	slices.Sort(n.ids)
	slices.Sort(n.urls)
	return n
}

// urlName is the last fixed segment of a path template: /authentication/authenticate_user/{a}/{u}
// gives authenticate_user.
func urlName(template string) string {
	segs := strings.Split(strings.Trim(template, "/"), "/")
	for i := len(segs) - 1; i >= 0; i-- {
		if !strings.HasPrefix(segs[i], "{") {
			return segs[i]
		}
	}
	return ""
}

func (n opNames) resolve(name string) (string, error) {
	if id, ok := n.byName[name]; ok {
		return id, nil
	}
	return "", fmt.Errorf("%w %q: use an operationId (%s) or the name in its URL (%s)",
		ErrUnknownOperation, clip.Input(name), strings.Join(n.ids, ", "), strings.Join(n.urls, ", "))
}

// OperationID returns the operationId the journal records for name, which is an operationId of
// api/openapi.yaml (or openRegistrationLink) or the name in the operation's URL
// (authenticate_user, session_status, register). An unknown name is ErrUnknownOperation, with a
// message that lists the valid ones: a typo in a filter must not read as "no such request".
func (e *Emulator) OperationID(name string) (string, error) { return e.opNames.resolve(name) }

// checkFilter resolves the filter's operation name; the filter returned is the one to match with.
func (e *Emulator) checkFilter(f journal.Filter) (journal.Filter, error) {
	f.Method = strings.ToUpper(f.Method) // clients send methods in capitals
	if f.Operation == "" {
		return f, nil
	}
	id, err := e.OperationID(f.Operation)
	if err != nil {
		return f, err
	}
	f.Operation = id
	return f, nil
}

// Requests returns the journal's entries that match f, oldest first, after checking f's operation
// name (see OperationID).
func (e *Emulator) Requests(f journal.Filter) ([]journal.Entry, error) {
	f, err := e.checkFilter(f)
	if err != nil {
		return nil, err
	}
	return e.journal.List(f), nil
}

// WaitRequests waits until at least n entries match f, or ctx ends (then with ctx's error), after
// checking f's operation name; a bad filter fails at once instead of waiting for nothing.
func (e *Emulator) WaitRequests(ctx context.Context, f journal.Filter, n int) ([]journal.Entry, error) {
	f, err := e.checkFilter(f)
	if err != nil {
		return nil, err
	}
	return e.journal.Wait(ctx, f, n)
}
