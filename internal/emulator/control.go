package emulator

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/acmock/acmock/generated/acapi"
	"github.com/acmock/acmock/internal/store"
)

// controlRoutes serves the emulator's own endpoints under /_acmock/.
func (e *Emulator) controlRoutes(r *mux.Router) {
	r.HandleFunc("/health", e.health).Methods(http.MethodGet)
	r.HandleFunc("/register/{code}", e.register).Methods(http.MethodGet)
}

func (e *Emulator) health(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "scenario": e.Scenario().Name})
}

var registeredPage = template.Must(template.New("registered").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Phone registered · acmock</title></head>
<body>
<h1>Phone registered</h1>
<p>acmock registered a phone for user <strong>{{.UserID}}</strong> of application <code>{{.AppID}}</code>{{if .DisplayName}} ({{.DisplayName}}){{end}}.</p>
<p>Logins for this user now reach the emulated phone, which follows the loaded scenario.</p>
</body></html>
`))

// register is where registration links point: opening one registers a phone, as the mobile app
// would when it opens the link.
func (e *Emulator) register(w http.ResponseWriter, r *http.Request) {
	code := mux.Vars(r)["code"]
	info := infoFrom(r.Context())
	link, err := e.store.UseLink(code, e.clock.Now())
	info.app, info.user = link.AppID, link.UserID
	switch {
	case errors.Is(err, store.ErrLinkUsed):
		writeError(w, r, errorf(http.StatusConflict, acapi.ErrorCodeDeviceAlreadyRegistered, "code",
			"registration link %s was already used; ask for a new one", code))
		return
	case err != nil:
		writeError(w, r, errorf(http.StatusNotFound, acapi.ErrorCodeNotFound, "code",
			"no registration link %s (links die when their user is deleted or the emulator resets)", code))
		return
	}
	if r.Header.Get("Accept") == "application/json" {
		writeJSON(w, http.StatusOK, map[string]any{"status": true, "application_id": link.AppID, "user_id": link.UserID})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = registeredPage.Execute(w, link) // the browser went away
}
