package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"onedoor/sync/platform/city"
	"onedoor/sync/platform/supervise"
)

// staffRole gives a staff account its role and scope (issue 14):
//
//	platformd staff role --data DIR --user U --role clerk|approver|supervisor|admin [--town T] [--name N]
//
// The first administrator is made this way; after that administrators
// manage roles in the back office (/office/accounts).
func staffRole(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("staff role", flag.ContinueOnError)
	st := storageFlags(fs)
	user := fs.String("user", "", "user name (an existing account)")
	role := fs.String("role", "", "clerk (窗口受理), approver (审批), supervisor (监督) or admin (管理员)")
	town := fs.String("town", "", "the town the account is limited to; empty for the whole city")
	name := fs.String("name", "", "display name")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *user == "" || !supervise.Role(*role).Valid() {
		fmt.Fprintln(stderr, "platformd staff role: --user and --role clerk|approver|supervisor|admin are required")
		return exitUsage
	}
	if !st.check("staff role", stderr) {
		return exitUsage
	}
	p, err := city.OpenStore(ctx, st.options())
	if err != nil {
		fmt.Fprintf(stderr, "platformd staff role: %v\n", err)
		return exitFailure
	}
	defer p.Close()
	sv, ok := p.Store.(supervise.Store)
	if !ok {
		fmt.Fprintln(stderr, "platformd staff role: this store keeps no roles")
		return exitFailure
	}
	if err := sv.SetStaffRole(ctx, supervise.Account{User: *user, Name: *name, Role: supervise.Role(*role), Town: *town, SetBy: "platformd", SetAt: time.Now()}); err != nil {
		fmt.Fprintf(stderr, "platformd staff role: %v\n", err)
		return exitFailure
	}
	scope := *town
	if scope == "" {
		scope = "the whole city"
	}
	fmt.Fprintf(stdout, "staff %s is %s for %s\n", *user, *role, scope)
	return exitOK
}

// kioskTown places a kiosk in a town, for statistics and staff scopes:
//
//	platformd kiosk town --data DIR --kiosk ID --town T
func kioskTown(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kiosk town", flag.ContinueOnError)
	st := storageFlags(fs)
	kiosk := fs.String("kiosk", "", "kiosk id")
	town := fs.String("town", "", "town (empty removes the kiosk from its town)")
	if code, ok := parse(fs, args, stderr); !ok {
		return code
	}
	if *kiosk == "" {
		fmt.Fprintln(stderr, "platformd kiosk town: --kiosk is required")
		return exitUsage
	}
	if !st.check("kiosk town", stderr) {
		return exitUsage
	}
	p, err := city.OpenStore(ctx, st.options())
	if err != nil {
		fmt.Fprintf(stderr, "platformd kiosk town: %v\n", err)
		return exitFailure
	}
	defer p.Close()
	sv, ok := p.Store.(supervise.Store)
	if !ok {
		fmt.Fprintln(stderr, "platformd kiosk town: this store keeps no towns")
		return exitFailure
	}
	if err := sv.SetKioskTown(ctx, *kiosk, *town); err != nil {
		fmt.Fprintf(stderr, "platformd kiosk town: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "kiosk %s in %q\n", *kiosk, *town)
	return exitOK
}
