// Package demoplatform runs the reference platform (sync/platform) in-process
// on a loopback port, behind a fault proxy (sync/faultproxy) whose link demo
// mode can cut. Only the demo build links it: `onedoor` built with the `demo`
// tag (./build/demo) and the kiosk's tests; the production binary contains
// neither the platform nor the proxy.
package demoplatform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"onedoor/assets"
	"onedoor/internal/atomicfile"
	"onedoor/sync/faultproxy"
	"onedoor/sync/platform"
	"onedoor/sync/platform/local"
	"onedoor/sync/platform/supervise"
)

// Platform is a running demo platform.
type Platform struct {
	*local.Platform
	// Addr is the platform's own address (back office), bypassing the
	// proxy.
	Addr  string
	Proxy *faultproxy.Proxy

	token string
	srv   *http.Server
	done  chan error
}

// SupervisorUser is the demo's supervisor login (城市监督, whole city); it
// has the staff login's password.
const SupervisorUser = "jiandu"

// Start opens the platform's data under dir, enrols kioskID, adds the staff
// login and starts serving.
func Start(ctx context.Context, dir, kioskID, staffUser, staffPassword string, log *slog.Logger) (_ *Platform, err error) {
	if log == nil {
		log = slog.Default()
	}
	p := &Platform{done: make(chan error, 1)}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if err := seedAgencyKeys(dir); err != nil {
		log.Warn("demo agency keys not made", "err", err)
	}
	p.Platform, err = local.Open(ctx, dir, platform.Config{
		CasePrefix: "DG", Catalog: assets.SampleCatalog, Logger: log.With("part", "platform"),
	})
	if err != nil {
		return nil, fmt.Errorf("platform: %w", err)
	}
	if err := seedECerts(ctx, dir, p.Platform); err != nil {
		log.Warn("demo e-certificates not seeded", "err", err)
	}
	if p.token, err = demoKiosk(ctx, p.Platform, dir, kioskID); err != nil {
		return nil, err
	}
	// The sample catalog's town, so the dashboard groups the demo's
	// cases under it rather than "(未设置)".
	if err := p.Store.SetKioskTown(ctx, kioskID, "示例镇"); err != nil {
		return nil, fmt.Errorf("platform kiosk town: %w", err)
	}
	// On a kept demo directory (--demo-dir) the logins exist already,
	// with the same passwords.
	if err := p.AddStaff(ctx, staffUser, staffPassword); err != nil && !errors.Is(err, platform.ErrExists) {
		return nil, fmt.Errorf("platform staff: %w", err)
	}
	// The first login has no role and decides cases; a second one shows
	// the supervision side (dashboard, overdue cases, follow-up of bad
	// ratings), which the first may not open.
	if err := p.AddStaff(ctx, SupervisorUser, staffPassword); err != nil && !errors.Is(err, platform.ErrExists) {
		return nil, fmt.Errorf("platform staff: %w", err)
	}
	if err := p.Store.SetStaffRole(ctx, supervise.Account{User: SupervisorUser, Name: "监督（演示）", Role: supervise.RoleSupervisor, SetBy: "demo", SetAt: time.Now()}); err != nil {
		return nil, fmt.Errorf("platform staff role: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("platform listener: %w", err)
	}
	p.Addr = ln.Addr().String()
	p.srv = &http.Server{Handler: p.Server, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		err := p.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		p.done <- err
	}()
	if p.Proxy, err = faultproxy.New(p.Addr, log.With("part", "link")); err != nil {
		return nil, fmt.Errorf("link proxy: %w", err)
	}
	return p, nil
}

// demoKiosk enrols kioskID and keeps its token in dir, or on a kept demo
// directory (build/demo --demo-dir) reads the token the first run kept:
// the platform stores only the token's hash, and enrolling again failed
// with "already exists", so a kept demo did not start twice.
func demoKiosk(ctx context.Context, p *local.Platform, dir, kioskID string) (string, error) {
	path := filepath.Join(dir, "demo-kiosk.token")
	tok, err := p.AddKiosk(ctx, kioskID)
	switch {
	case err == nil:
		if err := atomicfile.Write(path, []byte(tok+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("demo kiosk token: %w", err)
		}
		return tok, nil
	case errors.Is(err, platform.ErrExists):
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return "", fmt.Errorf("demo kiosk %s is enrolled but its token is gone (%w); remove %s (the demo platform's data) to start it afresh", kioskID, rerr, dir)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return "", fmt.Errorf("platform kiosk: %w", err)
}

// URL is where the kiosk reaches the platform: through the proxy.
func (p *Platform) URL() string { return p.Proxy.URL() }

// Token is the enrolled kiosk's token.
func (p *Platform) Token() string { return p.token }

// SupervisorUser is the supervisor login (see the constant).
func (p *Platform) SupervisorUser() string { return SupervisorUser }

// BackOfficeURL is where staff log in to decide cases.
func (p *Platform) BackOfficeURL() string { return "http://" + p.Addr + "/" }

// SetNetwork takes the link between kiosk and platform down or up.
func (p *Platform) SetNetwork(up bool) { p.Proxy.SetDown(!up) }

// Close stops serving and closes the platform's data.
func (p *Platform) Close() error {
	var errs []error
	if p.srv != nil {
		p.srv.Close()
		errs = append(errs, <-p.done)
	}
	if p.Proxy != nil {
		p.Proxy.Close()
	}
	if p.Platform != nil {
		errs = append(errs, p.Platform.Close())
	}
	return errors.Join(errs...)
}
