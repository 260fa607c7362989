// Command platformd runs the OneDoor reference platform: the sync API kiosks
// talk to, the back office for staff, and admin commands.
//
//	platformd [serve] --addr HOST:PORT --data DIR [--tls-cert F --tls-key F] [--catalog FILE] [--calendar FILE] [--case-prefix DG] [--partial-ttl 168h]
//	platformd kiosk add --data DIR --id ID      registers a kiosk, prints its one-time enrolment code
//	platformd kiosk rekey --data DIR --id ID    new enrolment code for an existing kiosk (token kiosks migrate so)
//	platformd staff add --data DIR --user U     back-office account; password on stdin
//	platformd export --data DIR                 every submission as JSON lines
//	platformd migrate --from sqlite:DIR --to postgres://… --blobs s3://…   move a platform to PostgreSQL and S3
//	platformd verify [--data DIR] [--db URL] [--blobs URL]                 re-hash every blob, report missing or damaged
//
// Every command takes --db postgres://… and --blobs s3://… instead of (or
// beside) --data DIR: the storage of a city's platform, shared by several
// instances behind a load balancer.
//
// Exit codes: 0 ok, 1 failure, 2 bad command line.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"onedoor/kiosk/catalog"
	"onedoor/sync/platform"
	"onedoor/sync/platform/city"
)

const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return serve(ctx, args, stdout, stderr)
	}
	switch {
	case args[0] == "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case args[0] == "kiosk" && len(args) > 1 && args[1] == "add":
		return kioskAdd(ctx, args[2:], false, stdout, stderr)
	case args[0] == "kiosk" && len(args) > 1 && args[1] == "rekey":
		return kioskAdd(ctx, args[2:], true, stdout, stderr)
	case args[0] == "staff" && len(args) > 1 && args[1] == "add":
		return staffAdd(ctx, args[2:], stdin, stdout, stderr)
	case args[0] == "staff" && len(args) > 1 && args[1] == "role":
		return staffRole(ctx, args[2:], stdout, stderr)
	case args[0] == "kiosk" && len(args) > 1 && args[1] == "town":
		return kioskTown(ctx, args[2:], stdout, stderr)
	case args[0] == "export":
		return export(ctx, args[1:], stdout, stderr)
	case args[0] == "migrate":
		return migrate(ctx, args[1:], stdout, stderr)
	case args[0] == "ecert":
		return ecertCmd(ctx, args[1:], stdout, stderr)
	case args[0] == "verify":
		return verify(ctx, args[1:], stdout, stderr)
	case args[0] == "help":
		usage(stdout)
		return exitOK
	}
	fmt.Fprintf(stderr, "platformd: unknown command %q\n", strings.Join(args, " "))
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  platformd [serve] --addr HOST:PORT --data DIR [--tls-cert F --tls-key F] [--catalog FILE] [--calendar FILE] [--case-prefix DG] [--partial-ttl 168h]
  platformd kiosk add --data DIR --id ID [--code-ttl 72h] [--token]
                                              register a kiosk; prints its one-time enrolment code
                                              (--token: a legacy shared token instead, for old kiosk software)
  platformd kiosk rekey --data DIR --id ID    new enrolment code for an existing kiosk (migrates a token kiosk)
  platformd staff add --data DIR --user U     back-office account; password read from stdin
  platformd staff role --data DIR --user U --role clerk|approver|supervisor|admin [--town T] [--name N]
  platformd kiosk town --data DIR --kiosk ID --town T
  platformd export --data DIR                 every submission as JSON lines
  platformd migrate --from sqlite:DIR --to postgres://… --blobs s3://…   move records and blobs
  platformd verify --data DIR | --db URL --blobs URL                     re-hash every blob
every command: --db postgres://USER@HOST:PORT/DB and --blobs s3://KEY:SECRET@HOST:PORT/BUCKET
select PostgreSQL and an S3 bucket (several instances share them) instead of DIR
`)
}

// flags parses a subcommand's flags; ok=false means the caller returns code.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "platformd: unexpected argument %q\n", fs.Arg(0))
		return exitUsage, false
	}
	return 0, true
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8480", "listen address HOST:PORT (port 0 picks a free one)")
	st := storageFlags(fs)
	data := st.data
	cert := fs.String("tls-cert", "", "TLS certificate file (PEM); serve HTTPS with --tls-key")
	key := fs.String("tls-key", "", "TLS private key file (PEM)")
	catalog := fs.String("catalog", "", "service catalog JSON served to kiosks (default DATA/catalog.json if present)")
	calendar := fs.String("calendar", "", "working-day (holiday) calendar JSON served to kiosks, in the kiosk's holidays.json format (default DATA/calendar.json if present)")
	prefix := fs.String("case-prefix", "DG", "case number prefix (DG gives DG-2026-000123)")
	partialTTL := fs.Duration("partial-ttl", 7*24*time.Hour, "remove blob uploads that have not grown for this long (0 keeps them)")
	silentAfter := fs.Duration("silent-after", platform.DefaultSilentAfter, "fleet alert: a kiosk without a heartbeat for this long is silent")
	queueMaxAge := fs.Duration("queue-max-age", platform.DefaultQueueMaxAge, "fleet alert: a kiosk's oldest queued submission may wait this long")
	minFreeMB := fs.Int64("min-free-disk-mb", platform.DefaultMinFreeDisk>>20, "fleet alert: less free disk on a kiosk than this (MB)")
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this address of its own, without a token (e.g. 127.0.0.1:9480)")
	metricsTokenFile := fs.String("metrics-token-file", "", "file holding a bearer token that lets /metrics through on --addr")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if !st.check("serve", stderr) {
		return exitUsage
	}
	if (*cert == "") != (*key == "") {
		fmt.Fprintln(stderr, "platformd serve: --tls-cert and --tls-key go together")
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	cat, err := loadDocument("catalog", *catalog, *data)
	if err != nil {
		fmt.Fprintf(stderr, "platformd serve: %v\n", err)
		return exitFailure
	}
	cal, err := loadDocument("calendar", *calendar, *data)
	if err != nil {
		fmt.Fprintf(stderr, "platformd serve: %v\n", err)
		return exitFailure
	}
	fleet := platform.FleetRules{SilentAfter: *silentAfter, QueueMaxAge: *queueMaxAge, MinFreeDisk: *minFreeMB << 20}
	var metricsToken string
	if *metricsTokenFile != "" {
		b, err := os.ReadFile(*metricsTokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "platformd serve: %v\n", err)
			return exitFailure
		}
		metricsToken = strings.TrimSpace(string(b))
	}
	p, err := city.Open(ctx, st.options(), platform.Config{Logger: logger, CasePrefix: *prefix, Catalog: cat, Calendar: cal, SecureCookies: *cert != "", Fleet: fleet, MetricsToken: metricsToken, Limits: platform.Limits{PartialTTL: *partialTTL}})
	if err != nil {
		fmt.Fprintf(stderr, "platformd serve: %v\n", err)
		return exitFailure
	}
	defer p.Close()
	go p.RunJobs(ctx, jobHolder(), *partialTTL, 24*time.Hour, logger.Info)
	go func() {
		if err := p.Server.WarmSupervision(ctx); err != nil {
			logger.Warn("supervision statistics not loaded at start", "err", err)
		}
	}()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "platformd serve: %v\n", err)
		return exitFailure
	}
	srv := platform.NewHTTPServer(p.Server, slog.NewLogLogger(logger.Handler(), slog.LevelWarn))
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			fmt.Fprintf(stderr, "platformd serve: metrics: %v\n", err)
			return exitFailure
		}
		msrv := platform.NewHTTPServer(p.Server.MetricsHandler(), slog.NewLogLogger(logger.Handler(), slog.LevelWarn))
		go msrv.Serve(mln)
		defer msrv.Close()
		fmt.Fprintf(stdout, "platformd: metrics on http://%s/metrics\n", mln.Addr())
	}
	scheme := "http"
	if *cert != "" {
		scheme = "https"
	}
	// Scripts and tests read this line to learn the port when --addr ends in :0.
	fmt.Fprintf(stdout, "platformd: listening on %s://%s\n", scheme, ln.Addr())
	errc := make(chan error, 1)
	go func() {
		if *cert != "" {
			errc <- srv.ServeTLS(ln, *cert, *key)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "platformd serve: %v\n", err)
		return exitFailure
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		fmt.Fprintf(stderr, "platformd serve: shutdown: %v\n", err)
		return exitFailure
	}
	return exitOK
}

// loadDocument reads a JSON document served to kiosks (name "catalog" or
// "calendar") from path, or from DATA/name.json when path is empty; nil
// when that default file does not exist.
func loadDocument(name, path, data string) ([]byte, error) {
	explicit := path != ""
	if !explicit {
		path = filepath.Join(data, name+".json")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("%s %s is not valid JSON", name, path)
	}
	// A calendar kiosks cannot parse would reach every kiosk and be
	// ignored there with a warning at each start: refuse it here, with
	// the parser the kiosks use.
	if name == "calendar" {
		if _, err := catalog.ParseCalendar(b); err != nil {
			return nil, fmt.Errorf("calendar %s: %w", path, err)
		}
	}
	return b, nil
}

// kioskAdd prints a one-time enrolment code: the kiosk makes its own key
// pair and registers the public key with it (onedoor enrol), so the
// platform never holds a secret that could act as the kiosk.
func kioskAdd(ctx context.Context, args []string, rekey bool, stdout, stderr io.Writer) int {
	name := "kiosk add"
	if rekey {
		name = "kiosk rekey"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	st := storageFlags(fs)
	id := fs.String("id", "", "kiosk id, e.g. DG-0001")
	ttl := fs.Duration("code-ttl", platform.DefaultEnrolCodeTTL, "how long the enrolment code works")
	legacy := false
	if !rekey {
		fs.BoolVar(&legacy, "token", false, "issue a legacy shared token instead (kiosk software without enrolment; stored in clear)")
	}
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *id == "" {
		fmt.Fprintf(stderr, "platformd %s: --id is required\n", name)
		return exitUsage
	}
	if !st.check(name, stderr) {
		return exitUsage
	}
	p, err := city.OpenStore(ctx, st.options())
	if err != nil {
		fmt.Fprintf(stderr, "platformd %s: %v\n", name, err)
		return exitFailure
	}
	defer p.Close()
	var out string
	if legacy {
		out, err = p.AddKiosk(ctx, *id)
	} else {
		out, err = p.AddEnrolment(ctx, *id, *ttl, rekey)
	}
	if err != nil {
		fmt.Fprintf(stderr, "platformd %s: %v\n", name, err)
		return exitFailure
	}
	fmt.Fprintln(stdout, out)
	return exitOK
}

func staffAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("staff add", flag.ContinueOnError)
	st := storageFlags(fs)
	user := fs.String("user", "", "user name")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *user == "" {
		fmt.Fprintln(stderr, "platformd staff add: --user is required")
		return exitUsage
	}
	if !st.check("staff add", stderr) {
		return exitUsage
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		fmt.Fprintln(stderr, "platformd staff add: give the password on stdin")
		return exitUsage
	}
	pw := strings.TrimRight(line, "\r\n")
	p, err := city.OpenStore(ctx, st.options())
	if err != nil {
		fmt.Fprintf(stderr, "platformd staff add: %v\n", err)
		return exitFailure
	}
	defer p.Close()
	if err := p.AddStaff(ctx, *user, pw); err != nil {
		fmt.Fprintf(stderr, "platformd staff add: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "staff %s added\n", *user)
	return exitOK
}

func export(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	st := storageFlags(fs)
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if !st.check("export", stderr) {
		return exitUsage
	}
	if dir := st.sqliteDir(); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "platform.db")); err != nil {
			fmt.Fprintf(stderr, "platformd export: no platform database in %s\n", dir)
			return exitFailure
		}
	}
	p, err := city.OpenStore(ctx, st.options())
	if err != nil {
		fmt.Fprintf(stderr, "platformd export: %v\n", err)
		return exitFailure
	}
	defer p.Close()
	w := bufio.NewWriter(stdout)
	enc := json.NewEncoder(w)
	if err := p.Store.Export(ctx, func(r platform.ExportRow) error { return enc.Encode(r) }); err != nil {
		fmt.Fprintf(stderr, "platformd export: %v\n", err)
		return exitFailure
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "platformd export: %v\n", err)
		return exitFailure
	}
	return exitOK
}
