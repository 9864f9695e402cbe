package console_test

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acmock/acmock/acmocktest"
)

const tinyScenario = `name: tiny
description: zed, whose phone denies at once
applications:
  - id: 5ca1ab1e000000000000000000000001
    secret: ACMOCKDEMOSECRET0000000000000001
    users: [{id: zed, phone: true, login: [{after: 1s, status: cancelled}]}]
`

// TestABadScenarioShowsItsProblemAtLineAndColumn: pasted YAML with a mistake is refused by
// Validate and by Load with the problem at line:col (which puts the cursor there), the loaded
// scenario staying; an uploaded good one validates and loads; Reset forgets what happened since.
func TestABadScenarioShowsItsProblemAtLineAndColumn(t *testing.T) {
	t.Parallel()
	srv := acmocktest.Run(t)
	tb := openConsole(t, srv.URL(), "#scenario")
	view := find("region", "Scenario")
	tb.waitText(view, "The demo application with alice (approves)")

	tb.fill(find("textbox", "Scenario YAML", in("region", "Scenario")), "name: x\ntimeout: soon\napplications: [{id: a, secret: s}]\n")
	want := `2:10: timeout must be a duration such as 500ms, 2s or 1m30s, not "soon"`
	problems := find("region", "Problems", in("region", "Scenario"))
	for _, button := range []string{"Validate", "Load"} {
		tb.click(find("button", button, in("region", "Scenario")))
		tb.waitText(problems, want)
	}
	tb.screenshot("scenario")
	if name := scenarioName(t, srv); name != "default" {
		t.Fatalf("a bad scenario replaced the loaded one with %s", name)
	}
	tb.click(find("button", "2:10", problems))
	tb.waitEval(`document.getElementById('scenario-yaml').selectionStart === "name: x\n".length + 9 &&
		document.activeElement.id === 'scenario-yaml'`, "the cursor at line 2, column 10 of the editor")

	// Several problems are listed in the order of the file.
	tb.fill(find("textbox", "Scenario YAML", in("region", "Scenario")), "nme: x\napplications:\n  - id: a\n    users: [{id: u, phone: maybe}]\n")
	tb.click(find("button", "Validate", in("region", "Scenario")))
	tb.waitEval(`document.querySelectorAll('#scenario-problems li').length > 2`, "several problems")
	places := eval[[]string](tb, `[...document.querySelectorAll('#scenario-problems li button')].map((b) => b.textContent)`)
	if !slices.IsSortedFunc(places, func(a, b string) int {
		var al, ac, bl, bc int
		fmt.Sscanf(a, "%d:%d", &al, &ac)
		fmt.Sscanf(b, "%d:%d", &bl, &bc)
		return cmp.Or(cmp.Compare(al, bl), cmp.Compare(ac, bc))
	}) {
		t.Errorf("the problems are listed at %q, not in the order of the file", places)
	}

	file := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(file, []byte(tinyScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	tb.do(chromedp.SetUploadFiles("Upload YAML", []string{file}, find("button", "Upload YAML", in("region", "Scenario")).option()))
	tb.waitText(find("status", "Notice"), "Scenario tiny is valid: 1 application, 0 faults, 0 expectations")
	tb.click(find("button", "Load", in("region", "Scenario")))
	tb.waitText(find("status", "Notice"), "Loaded scenario tiny")
	tb.waitText(view, "zed, whose phone denies at once")
	tb.waitText(find("banner", ""), "tiny")
	if name := scenarioName(t, srv); name != "tiny" {
		t.Fatalf("after Load the emulator runs %s", name)
	}

	login(t, srv.Authentication(), "zed")
	tb.click(find("button", "Reset", in("region", "Scenario")))
	tb.waitText(find("status", "Notice"), "Reset to the initial state of scenario tiny")
	if s := srv.Sessions("zed"); len(s) != 0 {
		t.Fatalf("after Reset zed has %d sessions", len(s))
	}
}

func scenarioName(t *testing.T, srv *acmocktest.Server) string {
	t.Helper()
	h, err := ctlClient(t, srv).GetHealthWithResponse(context.Background())
	if err != nil || h.JSON200 == nil {
		t.Fatalf("health: %v", err)
	}
	return h.JSON200.Scenario
}
