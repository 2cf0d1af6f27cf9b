// Package vaulttest starts the real Vault core of test/vaultdev for tests,
// as httptest starts an HTTP server. Tests that use it are skipped unless
// $ENVWRAP_VAULTDEV names the fixture's binary.
package vaulttest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Skip is the message of a test skipped for want of the fixture.
const Skip = "set ENVWRAP_VAULTDEV to the Vault fixture's binary to run this test: " +
	"(cd test/vaultdev && go build -o /tmp/vaultdev .) && " +
	"ENVWRAP_VAULTDEV=/tmp/vaultdev go test -race -count=1 -run Vault ./..."

// Server is one running fixture.
type Server struct {
	Addr      string `json:"addr"`
	RootToken string `json:"root_token"`
	UnsealKey string `json:"unseal_key"` // hex, for PUT sys/unseal
	cmd       *exec.Cmd
}

// Start runs the fixture on 127.0.0.1 with a random port and stops it,
// by its PID, when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := os.Getenv("ENVWRAP_VAULTDEV")
	if bin == "" {
		t.Skip(Skip)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the Vault fixture %s: %v", bin, err)
	}
	s := &Server{cmd: cmd}
	t.Cleanup(s.Stop)
	line := make(chan []byte, 1)
	go func() {
		b, _ := bufio.NewReader(out).ReadBytes('\n')
		line <- b
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case b := <-line:
		if err := json.Unmarshal(b, s); err != nil || s.Addr == "" {
			t.Fatalf("the Vault fixture said %q: %v", b, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the Vault fixture was not ready within 30s")
	}
	return s
}

// Stop ends the fixture: SIGTERM, then SIGKILL after five seconds. It is
// safe to call twice.
func (s *Server) Stop() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		_ = s.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// Do sends a request with the root token and returns the decoded answer
// (nil for 204). body is sent as it is when it is a string, else as JSON.
func (s *Server) Do(t testing.TB, method, path string, body any) map[string]any {
	t.Helper()
	resp, err := s.DoToken(s.RootToken, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// DoToken is Do with another token, returning errors instead of failing.
func (s *Server) DoToken(token, method, path string, body any) (map[string]any, error) {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewReader([]byte(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.Addr+"/v1/"+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Vault-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, raw)
	}
	var out map[string]any
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&out); err != nil {
			return nil, err
		}
	}
	return out, nil
}
