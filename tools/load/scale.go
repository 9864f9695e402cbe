package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// scaleRow is the login flow measured against an acmock that already holds some state, and
// against an empty one in the same minutes.
type scaleRow struct {
	name  string
	goal  string
	m     measurement // the acmock holding the state
	empty measurement // its empty twin
	err   error       // the run failed
}

// measureScale starts, for each size, an acmock filled through the API with that state and an
// empty one beside it, then measures the login flow at 32 connections on both in alternating
// slices (see alternate): each row is compared with the empty acmock measured in the same
// minutes, so that the machine's drift does not read as a cost of the state. (Before, an empty
// acmock was measured first and last and each row compared with the mean of the two: the two
// empty runs alone differed by up to 27%.)
func measureScale(c config) ([]scaleRow, error) {
	sizes := []struct {
		name            string
		users, sessions int
	}{
		{"scale: login flow with 1k users", 1_000, 0},
		{"scale: login flow with 1M users", 1_000_000, 0},
		{"scale: login flow with 1k sessions", 0, 1_000},
		{"scale: login flow with 100k sessions", 0, 100_000},
	}
	var rows []scaleRow
	for _, size := range sizes {
		row := scaleRow{name: size.name, goal: "at least 0.9x of empty"}
		row.m, row.empty, row.err = measureAtScale(c, size.users, size.sessions)
		// A size acmock cannot serve (requests time out) is a result too: the row says so.
		rows = append(rows, row)
	}
	return rows, nil
}

func measureAtScale(c config, users, sessions int) (full, empty measurement, err error) {
	var srv [2]*server
	for i, name := range []string{"the filled acmock", "the empty acmock"} {
		if srv[i], err = startServer(name, c.acmock, "--addr", "ADDR"); err != nil {
			return full, empty, err
		}
		defer srv[i].stop()
	}
	if err := addUsers(srv[0], "u", users); err != nil {
		return full, empty, err
	}
	if err := startSessions(srv[0], sessions); err != nil {
		return full, empty, err
	}
	m, err := alternate(c.slices, srv, 32, c.duration, flowOn(c.presign/8), 0)
	return m[0], m[1], err
}

// approvalDelay is when the default scenario's phones approve a login (scenarios/default.yaml).
const approvalDelay = 2 * time.Second

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
// registration link, so that no per-user bound decides how many stay live. It returns once the
// default scenario's phones have approved them (2 s after each login), so that what is measured
// next is holding the sessions rather than approving them (100,000 approvals within a scale row
// cost it a third of its CPU per flow).
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
	if first == nil {
		time.Sleep(approvalDelay + time.Second)
	}
	return first
}
