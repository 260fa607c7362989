// Package s3test starts a real S3 server for tests: Versity's gateway
// (versitygw) with its posix backend in a temporary directory, on a
// loopback port. build/setup builds the gateway from the tools module in
// build/tools into $HOME/.cache/onedoor-tools/bin (or $ONEDOOR_TOOLS_BIN).
//
// Without the binary the tests that need it are skipped, except in CI (CI
// or ONEDOOR_REQUIRE_PG=1 set), where a missing gateway fails them.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ErrNoGateway means versitygw was not found.
var ErrNoGateway = errors.New("versitygw not found: build/setup builds it into $HOME/.cache/onedoor-tools/bin")

// Credentials of the gateway's root user in tests.
const (
	AccessKey = "onedoortest"
	SecretKey = "onedoortestsecret"
)

// Required reports whether a missing gateway must fail the tests.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("ONEDOOR_REQUIRE_PG") == "1"
}

// Binary finds versitygw: $VERSITYGW, the tools cache, then PATH.
func Binary() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p, nil
	}
	var dirs []string
	if d := os.Getenv("ONEDOOR_TOOLS_BIN"); d != "" {
		dirs = append(dirs, d)
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, ".cache", "onedoor-tools", "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", ErrNoGateway
}

// Server is a running gateway.
type Server struct {
	Dir  string // the posix backend's root: one directory per bucket
	Addr string // 127.0.0.1:port
	bin  string
	cmd  *exec.Cmd
	done chan struct{}
	seq  atomic.Int64
}

// Start starts a gateway over a new directory under dir ("" = a new
// temporary directory, removed by Stop).
func Start(ctx context.Context, dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if dir == "" {
		if s.Dir, err = os.MkdirTemp("", "onedoor-s3-"); err != nil {
			return nil, fmt.Errorf("s3test: %w", err)
		}
	} else {
		s.Dir = dir
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("s3test: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("s3test: %w", err)
	}
	s.Addr = ln.Addr().String()
	ln.Close()
	if err := s.Restart(ctx); err != nil {
		if dir == "" {
			os.RemoveAll(s.Dir)
		}
		return nil, err
	}
	return s, nil
}

// URL is the s3:// URL of bucket on this server, with credentials.
func (s *Server) URL(bucket string) string {
	return fmt.Sprintf("s3://%s:%s@%s/%s", AccessKey, SecretKey, s.Addr, bucket)
}

// Restart starts the gateway again on the same address and directory
// after Kill.
func (s *Server) Restart(ctx context.Context) error {
	// --keep-alive: without it the gateway closes every connection after
	// one request, so each request to the bucket also paid a TCP
	// connection's setup and teardown on both sides (as a real S3 service
	// does not make a client do).
	cmd := exec.Command(s.bin, "--access", AccessKey, "--secret", SecretKey, "--port", s.Addr, "--keep-alive", "--quiet", "posix", s.Dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	log, err := os.OpenFile(filepath.Join(os.TempDir(), "onedoor-versitygw-"+strconv.Itoa(os.Getpid())+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err == nil {
		cmd.Stdout, cmd.Stderr = log, log
		defer log.Close()
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("s3test: start versitygw: %w", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("s3test: versitygw exited at start (port %s taken?)", s.Addr)
		case <-ctx.Done():
			s.Kill()
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Kill()
			return errors.New("s3test: versitygw did not listen within 20 s")
		}
	}
}

// Kill stops the gateway at once (SIGKILL), keeping its directory.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Stop kills the gateway and removes its directory.
func (s *Server) Stop() error {
	s.Kill()
	return os.RemoveAll(s.Dir)
}

// Main starts a gateway for a test binary, runs its tests and stops it:
// use it from TestMain. *srv stays nil when the gateway is absent and not
// Required, so Server.Bucket skips.
func Main(m *testing.M, srv **Server) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	s, err := Start(ctx, "")
	cancel()
	switch {
	case errors.Is(err, ErrNoGateway) && !Required():
		fmt.Fprintln(os.Stderr, "s3test: skipping object-store tests:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, "s3test:", err)
		return 1
	default:
		*srv = s
		defer s.Stop()
	}
	return m.Run()
}

// Bucket returns the s3:// URL of a new bucket name for t (the store
// creates it), or skips t when s is nil.
func (s *Server) Bucket(t testing.TB) string {
	t.Helper()
	if s == nil {
		t.Skip(ErrNoGateway.Error())
	}
	return s.URL(fmt.Sprintf("t%d-%d", os.Getpid(), s.seq.Add(1)))
}
