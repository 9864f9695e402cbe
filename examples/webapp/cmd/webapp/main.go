// Command webapp serves the example application on 127.0.0.1:8000 against the Activeconnect API
// named by ACTIVECONNECT_BASE_URL, ACTIVECONNECT_APP_ID and ACTIVECONNECT_APP_SECRET (the lines
// acmock prints at start-up; by default acmock's demo on http://127.0.0.1:8080).
//
//	make run                      # in the repository root: acmock with the demo application
//	cd examples/webapp && go run ./cmd/webapp
package main

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/acmock/acmock/activeconnect"
	"github.com/acmock/acmock/examples/webapp"
)

func main() {
	if err := run(); err != nil {
		slog.Error("webapp", "err", err)
		os.Exit(1)
	}
}

func run() error {
	env := func(name, def string) string {
		if v, ok := os.LookupEnv(name); ok {
			return v
		}
		return def
	}
	base := env("ACTIVECONNECT_BASE_URL", "http://127.0.0.1:8080")
	id := env("ACTIVECONNECT_APP_ID", "5ca1ab1e000000000000000000000001")
	secret := env("ACTIVECONNECT_APP_SECRET", "ACMOCKDEMOSECRET0000000000000001")
	auth, err := activeconnect.NewAuthenticationAPI(id, secret, activeconnect.WithBaseURL(base))
	if err != nil {
		return err
	}
	mgmt, err := activeconnect.NewManagementAPI(id, secret, activeconnect.WithBaseURL(base))
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	app, err := webapp.New(webapp.Config{Auth: auth, Management: mgmt, Logger: log})
	if err != nil {
		return err
	}
	addr := env("WEBAPP_ADDR", "127.0.0.1:8000")
	log.Info("serving", "url", "http://"+addr, "activeconnect", base)
	srv := &http.Server{Addr: addr, Handler: app, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
