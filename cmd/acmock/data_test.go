package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDataDirOwnedByOneProcess: a second acmock on a data directory in use exits with a clear
// error, and a damaged store is reported (file, line, problem) and left as it is.
func TestDataDirOwnedByOneProcess(t *testing.T) {
	dir := t.TempDir()
	serveInProcess(t, "--data", dir)
	var stdout, stderr syncBuffer
	code := run([]string{"--addr", "127.0.0.1:0", "--data", dir}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "data directory "+dir+" is in use by another process") {
		t.Fatalf("second acmock: exit %d, %s", code, stderr.String())
	}
}

func TestDamagedDataDirIsReportedNotReplaced(t *testing.T) {
	dir := t.TempDir()
	damaged := "00000000 {\"op\":\"reset\"}\n00000000 {\"op\":\"reset\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "log.0"), []byte(damaged), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	code := run([]string{"--addr", "127.0.0.1:0", "--data", dir}, &stdout, &stderr, nil)
	if code != 1 || !strings.Contains(stderr.String(), "log.0: data directory is damaged: line 1: checksum mismatch") {
		t.Fatalf("damaged directory: exit %d, %s", code, stderr.String())
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "log.0")); string(data) != damaged {
		t.Error("the damaged log was changed")
	}
}
