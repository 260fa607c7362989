// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in
// a temporary directory, the server on a loopback port, one fresh database
// per test. It uses Debian's postgresql-15 binaries (build/setup installs
// them). initdb refuses to run as root, so when the tests run as uid 0 the
// cluster is created and run as the "postgres" user through runuser.
//
// Without the binaries the tests that need PostgreSQL are skipped, except in
// CI (CI or ONEDOOR_REQUIRE_PG=1 set), where a missing PostgreSQL fails them:
// the conformance suite must run against both stores there.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoPostgres means the PostgreSQL server binaries were not found.
var ErrNoPostgres = errors.New("PostgreSQL binaries (initdb, pg_ctl) not found; build/setup installs postgresql-15")

// Required reports whether a missing PostgreSQL must fail the tests rather
// than skip them: in CI (CI set) or when ONEDOOR_REQUIRE_PG=1.
func Required() bool {
	return os.Getenv("CI") != "" || os.Getenv("ONEDOOR_REQUIRE_PG") == "1"
}

// BinDir finds the directory holding initdb and pg_ctl: $PG_BINDIR, then
// Debian's /usr/lib/postgresql/<version>/bin (newest first from 15 on),
// then PATH.
func BinDir() (string, error) {
	if d := os.Getenv("PG_BINDIR"); d != "" {
		return d, nil
	}
	for _, v := range []string{"17", "16", "15"} {
		d := "/usr/lib/postgresql/" + v + "/bin"
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	return "", ErrNoPostgres
}

// Cluster is one running PostgreSQL server.
type Cluster struct {
	// Dir holds the data directory (Dir/data) and the server log (Dir/log).
	Dir  string
	Port int
	bin  string
	// runAs is the user the server runs as when we are root, else "".
	runAs string
	seq   atomic.Int64
}

// Options tune a cluster.
type Options struct {
	// Durable keeps fsync on (the chaos test restarts the server and must
	// not lose what it acknowledged); tests that never crash the server
	// run faster without it.
	Durable bool
	// Settings are extra postgresql.conf lines ("max_connections = 300").
	Settings []string
}

// Start creates and starts a cluster in a new temporary directory. Stop it
// when done; Stop also removes the directory.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		c.runAs = "postgres"
	}
	c.Dir, err = os.MkdirTemp("", "onedoor-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if err := c.chown(c.Dir); err != nil {
		os.RemoveAll(c.Dir)
		return nil, err
	}
	if err := c.run(ctx, "initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(c.Dir)
		return nil, err
	}
	conf := []string{
		"listen_addresses = '127.0.0.1'",
		"unix_socket_directories = ''",
		"max_connections = 200",
		"shared_buffers = 64MB",
		"log_min_messages = warning",
	}
	if !opts.Durable {
		conf = append(conf, "fsync = off", "synchronous_commit = off", "full_page_writes = off")
	}
	conf = append(conf, opts.Settings...)
	f, err := os.OpenFile(filepath.Join(c.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err == nil {
		_, err = f.WriteString("\n# onedoor pgtest\n" + strings.Join(conf, "\n") + "\n")
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		os.RemoveAll(c.Dir)
		return nil, fmt.Errorf("pgtest: postgresql.conf: %w", err)
	}
	// A port that was free a moment ago can be taken before the server
	// binds it (other test binaries start clusters too): try a few.
	for attempt := 0; ; attempt++ {
		if c.Port, err = freePort(); err != nil {
			break
		}
		if err = c.Restart(ctx); err == nil || attempt == 4 {
			break
		}
	}
	if err != nil {
		os.RemoveAll(c.Dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) data() string { return filepath.Join(c.Dir, "data") }

// Restart starts the server if it is stopped (after Stop with fast or
// immediate mode), waiting until it accepts connections.
func (c *Cluster) Restart(ctx context.Context) error {
	return c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.data(), "-l", filepath.Join(c.Dir, "log"),
		"-o", "-p "+strconv.Itoa(c.Port))
}

// Halt stops the server with pg_ctl's mode ("fast": roll back sessions and
// shut down cleanly; "immediate": like a crash) and keeps its data.
func (c *Cluster) Halt(ctx context.Context, mode string) error {
	return c.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", c.data())
}

// Stop stops the server and removes its directory.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.Halt(ctx, "immediate")
	if err != nil && !c.running() {
		err = nil // already stopped
	}
	return errors.Join(err, os.RemoveAll(c.Dir))
}

// PID is the process id of the running server (the postmaster, whose
// children are the backends), from its postmaster.pid.
func (c *Cluster) PID() (int, error) {
	b, err := os.ReadFile(filepath.Join(c.data(), "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0, fmt.Errorf("pgtest: postmaster.pid: %w", err)
	}
	return pid, nil
}

func (c *Cluster) running() bool {
	_, err := os.Stat(filepath.Join(c.data(), "postmaster.pid"))
	return err == nil
}

// URL is the connection string of database db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// CreateDB creates a new empty database and returns its connection string.
func (c *Cluster) CreateDB(ctx context.Context, prefix string) (string, error) {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("%s_%d_%d", sanitize(prefix), os.Getpid(), c.seq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("pgtest: create database %s: %w", name, err)
	}
	return c.URL(name), nil
}

// DB returns the connection string of a new database for t, or skips t when
// c is nil (no PostgreSQL here and not required; see Main).
func (c *Cluster) DB(t testing.TB) string {
	t.Helper()
	if c == nil {
		t.Skip(ErrNoPostgres.Error())
	}
	u, err := c.CreateDB(t.Context(), t.Name())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Main starts a cluster for a test binary, runs its tests and stops the
// cluster: use it from TestMain. *c stays nil when PostgreSQL is absent and
// not Required, so Cluster.DB skips; when Required the binary fails.
func Main(m *testing.M, c **Cluster, opts Options) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cl, err := Start(ctx, opts)
	cancel()
	switch {
	case errors.Is(err, ErrNoPostgres) && !Required():
		fmt.Fprintln(os.Stderr, "pgtest: skipping PostgreSQL tests:", err)
	case err != nil:
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	default:
		*c = cl
		defer cl.Stop()
	}
	return m.Run()
}

func (c *Cluster) run(ctx context.Context, tool string, args ...string) error {
	path := filepath.Join(c.bin, tool)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	// pg_ctl's server must not die with the test's process group on ^C
	// before Stop runs, nor hold the test's stdout open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if b, rerr := os.ReadFile(filepath.Join(c.Dir, "log")); rerr == nil && tool == "pg_ctl" {
			msg += "\n" + tail(string(b), 2000)
		}
		return fmt.Errorf("pgtest: %s %s: %w: %s", tool, strings.Join(args, " "), err, msg)
	}
	return nil
}

func (c *Cluster) chown(dir string) error {
	if c.runAs == "" {
		return nil
	}
	u, err := user.Lookup(c.runAs)
	if err != nil {
		return fmt.Errorf("pgtest: running as root needs the %q user (Debian's postgresql package makes it): %w", c.runAs, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
		if b.Len() >= 40 {
			break
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// Lazy starts a cluster the first time a test asks for one, for test
// binaries whose TestMain is taken by another server's Main (pgtest.Main
// cannot nest under s3test.Main). Stop it after m.Run.
type Lazy struct {
	Opts Options

	once sync.Once
	c    *Cluster
	err  error
}

// Get returns the cluster, starting it on first use; it skips t when
// PostgreSQL is absent and not Required, and fails t on any other error.
func (l *Lazy) Get(t testing.TB) *Cluster {
	t.Helper()
	l.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		l.c, l.err = Start(ctx, l.Opts)
	})
	if l.err != nil {
		if errors.Is(l.err, ErrNoPostgres) && !Required() {
			t.Skip(l.err)
		}
		t.Fatal(l.err)
	}
	return l.c
}

// Stop stops the cluster if it was started.
func (l *Lazy) Stop() {
	if l.c != nil {
		l.c.Stop()
	}
}
