package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// scaleRow is the login flow measured against an acmock that already holds some state.
type scaleRow struct {
	name string
	goal string
	m    measurement
	err  error // the run failed
}

// measureScale starts a fresh acmock for each size, fills it through the API, then measures the
// login flow at 32 connections. The empty emulator is measured first and last, and the others are
// compared to the mean of the two (see emptyRate), so that the machine's drift over the minute
// the rows take does not read as a cost of the state.
func measureScale(c config) ([]scaleRow, error) {
	sizes := []struct {
		name            string
		users, sessions int
	}{
		{"scale: login flow, empty emulator", 0, 0},
		{"scale: login flow with 1k users", 1_000, 0},
		{"scale: login flow with 1M users", 1_000_000, 0},
		{"scale: login flow with 1k sessions", 0, 1_000},
		{"scale: login flow with 100k sessions", 0, 100_000},
		{"scale: login flow, empty emulator again", 0, 0},
	}
	var rows []scaleRow
	for _, size := range sizes {
		goal := "at least 0.9x of empty"
		empty := size.users == 0 && size.sessions == 0
		if empty {
			goal = ""
		}
		m, err := measureAtScale(c, size.users, size.sessions)
		if err != nil && empty {
			return nil, fmt.Errorf("%s: %w", size.name, err)
		}
		// A size acmock cannot serve (requests time out) is a result too: the row says so.
		rows = append(rows, scaleRow{name: size.name, goal: goal, m: m, err: err})
	}
	return rows, nil
}

func measureAtScale(c config, users, sessions int) (measurement, error) {
	srv, err := startServer("acmock", c.acmock, "--addr", "ADDR")
	if err != nil {
		return measurement{}, err
	}
	defer srv.stop()
	if err := addUsers(srv, "u", users); err != nil {
		return measurement{}, err
	}
	if err := startSessions(srv, sessions); err != nil {
		return measurement{}, err
	}
	p := authPool(srv.addr, "alice", c.presign/8)
	return measure(srv, 32, c.duration/2, flow(p, newNonces()), p)
}

// addUsers creates n users named prefix0000000... in batches that fit the body limit.
func addUsers(srv *server, prefix string, n int) error {
	k, err := dial(srv.addr)
	if err != nil {
		return err
	}
	defer k.close()
	nonce := newNonces()
	const batch = 1000 // the most add_users takes at once
	for from := 0; from < n; from += batch {
		var b strings.Builder
		b.WriteString(`{"users":[`)
		for i := from; i < min(n, from+batch); i++ {
			if i > from {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"%s%07d"`, prefix, i)
		}
		b.WriteString("]}")
		req := encode(nil, "POST", srv.addr, "/management/add_users/"+appID, appID, appSecret, nonce.take(), time.Now().Unix(), b.String())
		var lat []time.Duration
		if err := call(k, req, 201, &lat); err != nil {
			return fmt.Errorf("add users: %w", err)
		}
	}
	return nil
}

// startSessions starts n login sessions spread over n/100 users, each given a phone through its
// registration link, so that no per-user bound decides how many stay live.
func startSessions(srv *server, n int) error {
	if n == 0 {
		return nil
	}
	users := max(1, n/100)
	if err := addUsers(srv, "s", users); err != nil {
		return err
	}
	k, err := dial(srv.addr)
	if err != nil {
		return err
	}
	defer k.close()
	nonce := newNonces()
	var lat []time.Duration
	for i := range users {
		user := fmt.Sprintf("s%07d", i)
		req := encode(nil, "GET", srv.addr, "/management/device_registration_link/"+appID+"/"+user, appID, appSecret, nonce.take(), time.Now().Unix(), "")
		if err := call(k, req, 200, &lat); err != nil {
			return fmt.Errorf("registration link: %w", err)
		}
		var link struct {
			URL string `json:"register_url"`
		}
		if err := json.Unmarshal(k.body, &link); err != nil {
			return fmt.Errorf("decode registration link: %w", err)
		}
		host, uri, ok := splitURL(link.URL)
		if !ok || host != srv.addr {
			return fmt.Errorf("unusable registration link %q", link.URL)
		}
		open := []byte("GET " + uri + " HTTP/1.1\r\nHost: " + host + "\r\nAccept: application/json\r\n\r\n")
		if err := call(k, open, 200, &lat); err != nil {
			return fmt.Errorf("open registration link: %w", err)
		}
	}
	// Start the sessions on a few connections at once.
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	const workers = 8
	for w := range workers {
		wg.Go(func() {
			k, err := dial(srv.addr)
			if err == nil {
				defer k.close()
			}
			var lat []time.Duration
			for i := w; i < n && err == nil; i += workers {
				user := "s" + fmt.Sprintf("%07d", i%users)
				uri := "/authentication/authenticate_user/" + appID + "/" + user + "?methods="
				req := encode(nil, "POST", srv.addr, uri, appID, appSecret, nonce.take(), time.Now().Unix(), "{}")
				err = call(k, req, 202, &lat)
			}
			if err != nil {
				mu.Lock()
				first = fmt.Errorf("start session: %w", err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// emptyRate is the rate the rows are compared to: the mean of the empty emulator's two runs.
func emptyRate(rows []scaleRow) float64 {
	return (rows[0].m.unitsPerS() + rows[len(rows)-1].m.unitsPerS()) / 2
}
