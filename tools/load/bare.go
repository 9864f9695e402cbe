package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
)

// The bodies acmock answers for the requests of the load, byte for byte, so the bare handler
// writes the same amount.
const (
	deviceBody = `{"device_registered":true,"status":true}` + "\n"
	statusBody = `{"authentication_status":{"authenticated":false,"session_status":"pending"}}` + "\n"
	logoutBody = `{"status":true}` + "\n"
	bareToken  = "c4bcba4971503c09500355b825eb8a6f"
	bareSecret = "KPSY6FQI77QF5140441YYCE847TYHZFZ"
)

// serveBare is the baseline: net/http's server and mux answering the same JSON as acmock, with
// no validation, signature check, state or log.
func serveBare(addr string) {
	base := "http://" + addr
	authBody := fmt.Sprintf(`{"authentication_status":{"authenticated":true,"logout_url":"%s/authentication/logout/%s",`+
		`"session_secret":"%s","session_status":"pending","session_token":"%s","status_url":"%s/authentication/session_status/%s"}}`+"\n",
		base, bareToken, bareSecret, bareToken, base, bareToken)
	answer := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /management/has_registered_mobile_device/{app}/{user}", answer(http.StatusOK, deviceBody))
	mux.HandleFunc("POST /authentication/authenticate_user/{app}/{user}", answer(http.StatusAccepted, authBody))
	mux.HandleFunc("GET /authentication/session_status/{token}", answer(http.StatusOK, statusBody))
	mux.HandleFunc("POST /authentication/logout/{token}", answer(http.StatusOK, logoutBody))
	mux.HandleFunc("GET /_acmock/health", answer(http.StatusOK, `{"status":"ok"}`+"\n"))
	// Exit on Ctrl-C or SIGTERM even when started with SIGINT ignored, as a shell starts a
	// command put in the background (&): Go keeps an ignored SIGINT ignored unless asked for it.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		os.Exit(0)
	}()
	if err := http.ListenAndServe(addr, mux); err != nil {
		fmt.Fprintln(os.Stderr, "load: bare server:", err)
		os.Exit(1)
	}
}
