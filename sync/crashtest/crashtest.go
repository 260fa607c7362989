// Package crashtest kills the kiosk's sync side with SIGKILL at random
// moments and checks that nothing was lost or duplicated on the way to the
// platform.
//
// A child process (Child) opens the outbox, runs the sync engine, and keeps
// enqueueing fictional submissions, appending each receipt to a ledger file
// as soon as Submit returns (the moment a kiosk would print it). The parent
// (Run) starts the real reference platform on loopback behind a fault
// proxy, then starts and SIGKILLs children cycle after cycle, with a random
// link fault in each cycle, checks the outbox database's integrity after
// every kill, and finally drains the queue and compares:
//
//   - the outbox (the kiosk's record of every receipt it issued) with the
//     platform's export: the same submissions, each exactly once, same
//     UUIDs, same blob lists, every blob on the platform hashing to its name;
//   - the child's printed ledger with the export: every printed receipt
//     delivered. The outbox may hold a few more than the printed ledger (the
//     child died after Submit committed but before it wrote the line); those
//     are counted as unprinted and must be delivered too.
package crashtest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"onedoor/sync/client"
	"onedoor/sync/engine"
	"onedoor/sync/faultproxy"
	"onedoor/sync/outbox/devdata"
	"onedoor/sync/platform"
	"onedoor/sync/platform/blobdir"
	"onedoor/sync/platform/local"
	"onedoor/sync/platform/sqlitestore"
)

const kioskID = "KC01"

// ChildMain is the child process: parse flags from args and run until
// killed (or, with -drain, until the queue is empty).
func ChildMain(args []string) int {
	fl := flag.NewFlagSet("crash child", flag.ContinueOnError)
	data := fl.String("data", "", "outbox data directory")
	plat := fl.String("platform", "", "platform URL")
	tokenFile := fl.String("token-file", "", "kiosk token file")
	ledger := fl.String("ledger", "", "ledger file (receipts appended as issued)")
	seed := fl.Uint64("seed", 1, "random seed")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	ctx := context.Background()
	h, err := engine.OpenHeadless(ctx, fastOptions(*data, *plat, *tokenFile))
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	go h.Engine.Run(ctx)
	lf, err := os.OpenFile(*ledger, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 1
	}
	rng := rand.New(rand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))
	for i := 0; ; i++ {
		attach, pages := 1+rng.IntN(48<<10), 1+rng.IntN(2)
		if rng.IntN(10) == 0 {
			attach = 200<<10 + rng.IntN(200<<10) // now and then a real scan
		}
		sub := devdata.Submission(rng, int(*seed%1000)*1000+i, attach, pages)
		rc, err := h.Store.Submit(ctx, sub)
		if err != nil {
			fmt.Fprintln(os.Stderr, "crash child: submit:", err)
			return 1
		}
		// A plain write survives SIGKILL (it is in the kernel once
		// write returns); only the kiosk's own death can come between
		// Submit and this line.
		fmt.Fprintf(lf, "%s %s\n", rc.Number, rc.UUID)
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	}
}

// fastOptions tunes the engine for a test: short backoffs and probes so a
// child does real work in the few hundred milliseconds it lives.
func fastOptions(data, plat, tokenFile string) engine.HeadlessOptions {
	return engine.HeadlessOptions{
		DataDir: data, PlatformURL: plat, KioskID: kioskID, TokenFile: tokenFile, Version: "crashtest",
		Client: func(c *client.Config) {
			c.RetryWaitMin, c.RetryWaitMax, c.IdleTimeout = 5*time.Millisecond, 50*time.Millisecond, 2*time.Second
		},
		Engine: func(c *engine.Config) {
			c.RetryBase, c.RetryMax = 20*time.Millisecond, 200*time.Millisecond
			c.ProbeMin, c.ProbeMax = 10*time.Millisecond, 100*time.Millisecond
			c.PollInterval, c.HeartbeatInterval = 500*time.Millisecond, 2*time.Second
		},
	}
}

// Options configure Run.
type Options struct {
	Dir    string // working directory (temp)
	Cycles int
	Seed   uint64
	// Child returns the command that runs ChildMain with args.
	Child func(args ...string) *exec.Cmd
	// MinLife and MaxLife bound how long a child lives before SIGKILL.
	MinLife, MaxLife time.Duration
	Log              io.Writer // progress lines; may be nil
}

// Result is what Run found.
type Result struct {
	Cycles    int
	Issued    int // submissions in the kiosk's outbox
	Printed   int // receipts the child got to print (ledger lines)
	Unprinted int // committed in the outbox but killed before printing
	Exported  int // submissions in the platform's export
	// DeliveredByChildren is how many reached the platform while children
	// were being killed (the rest went in the final drain).
	DeliveredByChildren int
	Lost                []string
	Duplicates          []string
	Strangers           []string // on the platform, unknown to the kiosk
	Mismatches          []string // uuid or blob list differs, or a blob hashes wrong
	IntegrityFailures   int
	Faults              map[string]int // link fault chosen per cycle
	Elapsed             time.Duration
}

// OK reports whether the run found no loss, duplicate or corruption.
func (r Result) OK() bool {
	return len(r.Lost) == 0 && len(r.Duplicates) == 0 && len(r.Strangers) == 0 && len(r.Mismatches) == 0 &&
		r.IntegrityFailures == 0 && r.Exported == r.Issued
}

func (r Result) String() string {
	return fmt.Sprintf("cycles=%d issued=%d printed=%d unprinted=%d exported=%d delivered_by_children=%d lost=%d duplicates=%d strangers=%d mismatches=%d integrity_failures=%d faults=%v elapsed=%s",
		r.Cycles, r.Issued, r.Printed, r.Unprinted, r.Exported, r.DeliveredByChildren, len(r.Lost), len(r.Duplicates), len(r.Strangers), len(r.Mismatches),
		r.IntegrityFailures, r.Faults, r.Elapsed.Round(time.Millisecond))
}

// Run performs the kill cycles, drains, and compares.
func Run(ctx context.Context, o Options) (Result, error) {
	start := time.Now()
	res := Result{Faults: map[string]int{}}
	if o.MinLife <= 0 {
		o.MinLife = 30 * time.Millisecond
	}
	if o.MaxLife <= o.MinLife {
		o.MaxLife = o.MinLife + 500*time.Millisecond
	}
	logf := func(format string, a ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", a...)
		}
	}
	plat, err := startPlatform(filepath.Join(o.Dir, "platform"))
	if err != nil {
		return res, err
	}
	defer plat.stop()
	token := fmt.Sprintf("%064x", sha256.Sum256([]byte(fmt.Sprint("crash", o.Seed))))
	if err := plat.store.AddKiosk(ctx, kioskID, token, time.Now()); err != nil {
		return res, err
	}
	tokenFile := filepath.Join(o.Dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return res, err
	}
	px, err := faultproxy.New(plat.ln.Addr().String(), nil)
	if err != nil {
		return res, err
	}
	defer px.Close()
	data := filepath.Join(o.Dir, "kiosk")
	ledger := filepath.Join(o.Dir, "ledger")
	rng := rand.New(rand.NewPCG(o.Seed, 42))

	for c := 0; c < o.Cycles; c++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		px.ClearRules()
		px.SetDown(false)
		px.CutEvery(0)
		fault := []string{"none", "none", "down", "cut-64k", "503-burst", "lose-response"}[rng.IntN(6)]
		res.Faults[fault]++
		switch fault {
		case "down":
			px.SetDown(true)
		case "cut-64k":
			px.CutEvery(64 << 10)
		case "503-burst":
			px.Add(&faultproxy.Rule{Times: 3, Action: faultproxy.RespondWith(503, nil, "busy")})
		case "lose-response":
			px.Add(&faultproxy.Rule{Match: "POST /api/v1/submissions", Times: 2, Action: faultproxy.Action{Kind: faultproxy.LoseResponse}})
			// Small submissions go in batches (issue 15): lose those answers too.
			px.Add(&faultproxy.Rule{Match: "POST /api/v1/batch", Times: 2, Action: faultproxy.Action{Kind: faultproxy.LoseResponse}})
		}
		life := o.MinLife + time.Duration(rng.Int64N(int64(o.MaxLife-o.MinLife)))
		cmd := o.Child("-data", data, "-platform", px.URL(), "-token-file", tokenFile, "-ledger", ledger, "-seed", fmt.Sprint(o.Seed*100000+uint64(c)+1))
		cmd.Stdout, cmd.Stderr = o.Log, o.Log
		if err := cmd.Start(); err != nil {
			return res, fmt.Errorf("cycle %d: start child: %w", c, err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case <-time.After(life):
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		case err := <-exited:
			// A child must never stop by itself.
			return res, fmt.Errorf("cycle %d: child exited on its own: %v", c, err)
		}
		res.Cycles++
		if err := integrityCheck(filepath.Join(data, "onedoor.db")); err != nil {
			res.IntegrityFailures++
			logf("cycle %d: integrity: %v", c, err)
		}
		if (c+1)%50 == 0 {
			logf("cycle %d/%d done (%s)", c+1, o.Cycles, time.Since(start).Round(time.Second))
		}
	}

	plat.store.Export(ctx, func(platform.ExportRow) error { res.DeliveredByChildren++; return nil })
	// Heal the link and drain in this process, as a restarted kiosk would.
	px.ClearRules()
	px.SetDown(false)
	px.CutEvery(0)
	h, err := engine.OpenHeadless(ctx, fastOptions(data, px.URL(), tokenFile))
	if err != nil {
		return res, fmt.Errorf("drain: %w", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		d := h.Engine.Drain(ctx)
		if d.Left == 0 && d.Err == nil {
			break
		}
		if time.Now().After(deadline) {
			h.Close()
			return res, fmt.Errorf("drain: %d still queued after 2 minutes: %v", d.Left, d.Err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.Close()

	if err := compare(ctx, &res, filepath.Join(data, "onedoor.db"), ledger, plat); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func integrityCheck(dbPath string) error {
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		return nil // killed before the outbox was created
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: dbPath}).EscapedPath()+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var out string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&out); err != nil {
		return err
	}
	if out != "ok" {
		return errors.New(out)
	}
	return nil
}

type issued struct {
	uuid  string
	blobs []string
}

// outboxLedger reads the kiosk's own record of issued receipts.
func outboxLedger(dbPath string) (map[string]issued, error) {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: dbPath}).EscapedPath()+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT s.receipt, s.uuid, coalesce(a.sha256, '') FROM submissions s
		LEFT JOIN attachments a ON a.submission_uuid = s.uuid ORDER BY s.receipt, a.material_ord, a.page`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]issued{}
	for rows.Next() {
		var rc, id, sha string
		if err := rows.Scan(&rc, &id, &sha); err != nil {
			return nil, err
		}
		is := out[rc]
		is.uuid = id
		if sha != "" {
			is.blobs = append(is.blobs, sha)
		}
		out[rc] = is
	}
	return out, rows.Err()
}

func readLedger(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) == 2 {
			out[parts[0]] = parts[1]
		}
		// A line torn by the kill cannot be one the kiosk printed.
	}
	return out, sc.Err()
}

func compare(ctx context.Context, res *Result, dbPath, ledgerPath string, plat *platformProc) error {
	kiosk, err := outboxLedger(dbPath)
	if err != nil {
		return fmt.Errorf("read outbox: %w", err)
	}
	printed, err := readLedger(ledgerPath)
	if err != nil {
		return fmt.Errorf("read ledger: %w", err)
	}
	res.Issued, res.Printed = len(kiosk), len(printed)
	seen := map[string]int{}
	err = plat.store.Export(ctx, func(row platform.ExportRow) error {
		res.Exported++
		seen[row.Receipt]++
		is, ok := kiosk[row.Receipt]
		if !ok {
			res.Strangers = append(res.Strangers, row.Receipt)
			return nil
		}
		if row.UUID != is.uuid || strings.Join(row.Blobs, ",") != strings.Join(is.blobs, ",") {
			res.Mismatches = append(res.Mismatches, row.Receipt+": uuid or blob list differs")
		}
		for _, sha := range row.Blobs {
			if err := checkBlob(plat.blobs, sha); err != nil {
				res.Mismatches = append(res.Mismatches, row.Receipt+": "+err.Error())
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for rc, id := range printed {
		if is, ok := kiosk[rc]; !ok || is.uuid != id {
			res.Lost = append(res.Lost, rc+" (printed, not in the outbox)")
		}
	}
	for rc := range kiosk {
		switch seen[rc] {
		case 0:
			res.Lost = append(res.Lost, rc)
		case 1:
		default:
			res.Duplicates = append(res.Duplicates, rc)
		}
		if _, ok := printed[rc]; !ok {
			res.Unprinted++
		}
	}
	sort.Strings(res.Lost)
	sort.Strings(res.Duplicates)
	return nil
}

func checkBlob(d *blobdir.Dir, sha string) error {
	f, err := d.Open(context.Background(), sha)
	if err != nil {
		return fmt.Errorf("blob %.12s: %w", sha, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sha {
		return fmt.Errorf("blob %.12s hashes to %.12s", sha, got)
	}
	return nil
}

// platformProc is the reference platform on a loopback listener.
type platformProc struct {
	store *sqlitestore.Store
	blobs *blobdir.Dir
	srv   *http.Server
	ln    net.Listener
	done  chan struct{}
}

func startPlatform(dir string) (*platformProc, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	st, err := sqlitestore.Open(context.Background(), dir)
	if err != nil {
		return nil, err
	}
	// Pages are sealed under the platform's data key, kept beside the
	// database so a restarted platform reads what it wrote.
	dataKey, err := platform.LoadOrCreateDataKey(filepath.Join(dir, local.DataKeyFile))
	if err != nil {
		st.Close()
		return nil, err
	}
	blobs, err := local.OpenBlobs(filepath.Join(dir, "blobs"), dataKey)
	if err != nil {
		st.Close()
		return nil, err
	}
	h, err := platform.New(platform.Config{Store: st, Blobs: blobs, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		st.Close()
		blobs.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		blobs.Close()
		return nil, err
	}
	p := &platformProc{store: st, blobs: blobs, srv: &http.Server{Handler: h}, ln: ln, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.srv.Serve(ln)
	}()
	return p, nil
}

func (p *platformProc) stop() {
	p.srv.Close()
	<-p.done
	p.store.Close()
	p.blobs.Close()
}
