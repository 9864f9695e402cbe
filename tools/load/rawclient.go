package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// conn is one keep-alive HTTP/1.1 connection that writes requests already encoded as bytes and
// reads responses with a minimal parser: the status line, Content-Length or chunked framing, the
// body. It costs far less CPU per request than net/http's client, so the server, not the load
// generator, is what a run measures.
type conn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	body []byte // the last response body, valid until the next call
}

func dial(addr string) (*conn, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &conn{addr: addr, c: c, r: bufio.NewReaderSize(c, 16<<10), body: make([]byte, 0, 4096)}, nil
}

func (k *conn) close() { _ = k.c.Close() }

// do writes one request and reads its response, returning the status code; the body is in k.body.
func (k *conn) do(req []byte) (int, error) {
	if err := k.c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return 0, err
	}
	if _, err := k.c.Write(req); err != nil {
		return 0, fmt.Errorf("write request: %w", err)
	}
	return k.readResponse()
}

var (
	headerContentLength    = []byte("content-length:")
	headerTransferEncoding = []byte("transfer-encoding:")
	chunked                = []byte("chunked")
)

func (k *conn) readResponse() (int, error) {
	line, err := k.r.ReadSlice('\n')
	if err != nil {
		return 0, fmt.Errorf("read status line: %w", err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, isChunked := -1, false
	for {
		line, err := k.r.ReadSlice('\n')
		if err != nil {
			return 0, fmt.Errorf("read header: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if hasPrefixFold(line, headerContentLength) {
			length, err = strconv.Atoi(string(bytes.TrimSpace(line[len(headerContentLength):])))
			if err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", line)
			}
		} else if hasPrefixFold(line, headerTransferEncoding) && bytes.Contains(bytes.ToLower(line), chunked) {
			isChunked = true
		}
	}
	k.body = k.body[:0]
	switch {
	case isChunked:
		return status, k.readChunked()
	case length >= 0:
		return status, k.readN(length)
	default:
		return 0, errors.New("response has neither Content-Length nor chunked framing")
	}
}

func (k *conn) readN(n int) error {
	if cap(k.body) < n {
		k.body = make([]byte, 0, n)
	}
	k.body = k.body[:n]
	_, err := io.ReadFull(k.r, k.body)
	return err
}

func (k *conn) readChunked() error {
	for {
		line, err := k.r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("read chunk size: %w", err)
		}
		size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 32)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			_, err := k.r.ReadSlice('\n') // the CRLF after the last chunk (no trailers are sent)
			return err
		}
		start := len(k.body)
		k.body = append(k.body, make([]byte, size)...)
		if _, err := io.ReadFull(k.r, k.body[start:]); err != nil {
			return err
		}
		if _, err := k.r.Discard(2); err != nil {
			return err
		}
	}
}

func hasPrefixFold(s, prefix []byte) bool {
	return len(s) >= len(prefix) && bytes.EqualFold(s[:len(prefix)], prefix)
}
