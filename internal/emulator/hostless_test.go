package emulator_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/acmock/acmock/internal/emulator"
)

// TestURLsForARequestWithoutHost checks the URLs handed to an HTTP/1.0 client that sends no Host:
// they point at the address the client connected to, not at a default port.
func TestURLsForARequestWithoutHost(t *testing.T) {
	e := newEnv(t, func(o *emulator.Options) { o.AuthOff = true })
	addr := e.srv.Listener.Addr().String()
	for _, c := range []struct{ method, path, field string }{
		{http.MethodPost, "/authentication/authenticate_user/" + demoApp + "/alice", "status_url"},
		{http.MethodGet, "/management/device_registration_link/" + demoApp + "/carol", "register_url"},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "%s %s HTTP/1.0\r\nContent-Length: 0\r\n\r\n", c.method, c.path)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(res.Body)
		conn.Close()
		var body map[string]any
		if err := json.Unmarshal(data, &body); err != nil {
			t.Fatalf("%s: %v: %s", c.path, err, data)
		}
		if st, ok := body["authentication_status"].(map[string]any); ok {
			body = st
		}
		got, _ := body[c.field].(string)
		if !strings.HasPrefix(got, "http://"+addr+"/") {
			t.Errorf("%s %s without Host: %s = %q, want a URL on http://%s", c.method, c.path, c.field, got, addr)
		}
	}
}
