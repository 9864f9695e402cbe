package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acmock/acmock/acmocktest"
	"github.com/acmock/acmock/scenarios"
)

// TestEveryFileHasAName: the constants and the embedded files are the same set, so a new file
// cannot ship without a name (or a name without its file).
func TestEveryFileHasAName(t *testing.T) {
	t.Parallel()
	constants := []scenarios.Name{scenarios.Default, scenarios.ApproveAfterDelay, scenarios.Deny, scenarios.DenyThenApprove,
		scenarios.FlakyNetwork, scenarios.MultiApp, scenarios.NoDevice, scenarios.RemoteLogout, scenarios.SlowService,
		scenarios.Timeout, scenarios.Walkaway}
	slices.Sort(constants)
	if got := scenarios.Names(); !slices.Equal(got, constants) {
		t.Fatalf("Names() = %v, the constants are %v", got, constants)
	}
	for _, n := range constants {
		data, err := n.YAML()
		if err != nil || !strings.Contains(string(data), "name: "+string(n)) {
			t.Errorf("%s: %v (the file should name itself %s)", n, err, n)
		}
	}
}

func TestUnknownNameListsTheNames(t *testing.T) {
	t.Parallel()
	_, err := scenarios.Name("walk-away").YAML()
	if !errors.Is(err, scenarios.ErrUnknown) || !strings.HasSuffix(err.Error(), "; the shipped ones are approve-after-delay, default, deny, deny-then-approve, flaky-network, multi-app, no-device, remote-logout, slow-service, timeout, walkaway") {
		t.Fatalf("unknown name: %v", err)
	}
}

// A shipped scenario by name, from any module: bob's phone declines.
func ExampleName() {
	srv, err := acmocktest.Start(acmocktest.WithScenario(scenarios.Deny))
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	ctx := context.Background()
	session, _ := srv.Authentication().AuthenticateUser(ctx, "bob")
	_ = session.Wait(ctx, time.Millisecond)
	fmt.Println(session.Status)
	// Output: cancelled
}
