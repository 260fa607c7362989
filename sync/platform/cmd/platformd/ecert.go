package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"onedoor/pii"
	"onedoor/sync/platform/ecert"
	"onedoor/sync/platform/local"
)

// Exit codes of `platformd ecert verify` beyond exitOK/exitFailure/exitUsage,
// one per reason a certificate fails.
const (
	exitSealMismatch  = 3
	exitUnknownAgency = 4
	exitExpired       = 5 // expired or not yet valid
)

const ecertUsage = `  platformd ecert keygen --data DIR --agency CODE [--name NAME]
                                              make an agency's SM2 seal key pair (DIR/ecert/agencies); prints its public record
  platformd ecert import --data DIR FILE      store a sealed certificate (an export file or certificate JSON; its agency key must be
                                              configured), or seal a draft ({"type_code","type_name","id_number","name","agency_code",
                                              "issued_on":"YYYY-MM-DD","valid_days","fields":[{"name","value"}]}) with the agency's key
  platformd ecert list --data DIR --holder-id ID
                                              the holder's certificates (ID numbers masked)
  platformd ecert export --data DIR NUMBER    one self-contained file (data, image, seal, agency key) on stdout
  platformd ecert verify --data DIR [--at YYYY-MM-DD] FILE
                                              exit 0 intact and valid; 3 seal mismatch (changed byte), 4 unknown agency key,
                                              5 expired or not yet valid, 1 malformed; the reason on stderr
`

func ecertCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, "usage:\n"+ecertUsage)
		return exitUsage
	}
	fs := flag.NewFlagSet("platformd ecert "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory")
	agency := fs.String("agency", "", "agency code (统一社会信用代码)")
	name := fs.String("name", "", "agency name")
	holder := fs.String("holder-id", "", "holder's ID number")
	at := fs.String("at", "", "verify as on this day (YYYY-MM-DD; default today)")
	if err := fs.Parse(args[1:]); err != nil {
		return exitUsage
	}
	if *data == "" {
		fmt.Fprintln(stderr, "platformd ecert: --data is required")
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "platformd ecert %s: %v\n", args[0], err)
		return exitFailure
	}
	kr := ecert.Keyring{Dir: filepath.Join(*data, local.ECertDir, "agencies")}
	if args[0] == "keygen" {
		if *agency == "" {
			fmt.Fprintln(stderr, "platformd ecert keygen: --agency is required")
			return exitUsage
		}
		if *name == "" {
			*name = *agency
		}
		k, err := kr.Generate(*agency, *name)
		if err != nil {
			return fail(err)
		}
		b, _ := json.MarshalIndent(k, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
		return exitOK
	}
	p, err := local.OpenStore(ctx, *data)
	if err != nil {
		return fail(err)
	}
	defer p.Close()
	ref, err := local.OpenECerts(*data, p.Store, nil)
	if err != nil {
		return fail(err)
	}
	switch args[0] {
	case "import":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "platformd ecert import: one FILE")
			return exitUsage
		}
		c, err := readImport(ctx, fs.Arg(0), ref)
		if err != nil {
			return fail(err)
		}
		if err := ref.Import(ctx, c); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "imported %s %s (%s, holder %s)\n", c.TypeName, c.Number, c.Agency.Name, c.Holder.IDMasked)
		return exitOK
	case "list":
		if *holder == "" {
			fmt.Fprintln(stderr, "platformd ecert list: --holder-id is required")
			return exitUsage
		}
		cs, err := ref.Query(ctx, *holder)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "holder %s: %d certificate(s)\n", pii.MaskID(*holder), len(cs))
		for _, c := range cs {
			state := "valid"
			if err := ref.Verify(ctx, c, time.Now()); err != nil {
				state = ecert.Reason(err)
			}
			until := c.ValidUntil
			if until == "" {
				until = "长期"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s..%s\t%s\t%s\n", c.Number, c.TypeName, c.Agency.Name, c.IssuedOn, c.ValidFrom, until, c.Holder.IDMasked, state)
		}
		return exitOK
	case "export":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "platformd ecert export: one NUMBER")
			return exitUsage
		}
		c, err := ref.Fetch(ctx, fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		k, ok := ref.AgencyKey(c)
		if !ok {
			return fail(fmt.Errorf("%s: its agency key %s/%s is not configured", c.Number, c.Agency.Code, c.Seal.KeyID))
		}
		b, err := ecert.MarshalExport(c, k)
		if err != nil {
			return fail(err)
		}
		stdout.Write(b)
		return exitOK
	case "verify":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "platformd ecert verify: one FILE")
			return exitUsage
		}
		day := time.Now()
		if *at != "" {
			if day, err = time.Parse(ecert.DateLayout, *at); err != nil {
				fmt.Fprintln(stderr, "platformd ecert verify: --at must be YYYY-MM-DD")
				return exitUsage
			}
			day = day.Add(4 * time.Hour) // that day in China too
		}
		b, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		e, err := ecert.VerifyExport(b, ref.Trust, day)
		if err != nil {
			fmt.Fprintf(stderr, "NOT VERIFIED (%s): %v\n", ecert.Reason(err), err)
			switch {
			case errors.Is(err, ecert.ErrBadSeal):
				return exitSealMismatch
			case errors.Is(err, ecert.ErrUnknownAgency):
				return exitUnknownAgency
			case errors.Is(err, ecert.ErrExpired), errors.Is(err, ecert.ErrNotYetValid):
				return exitExpired
			}
			return exitFailure
		}
		fmt.Fprintf(stdout, "verified: %s %s, sealed by %s (%s), valid on %s\n", e.Certificate.TypeName, e.Certificate.Number,
			e.Certificate.Agency.Name, e.Certificate.Agency.Code, day.Format(ecert.DateLayout))
		return exitOK
	}
	fmt.Fprintf(stderr, "platformd ecert: unknown command %q\nusage:\n%s", args[0], ecertUsage)
	return exitUsage
}

// draftFile is a certificate to seal on import.
type draftFile struct {
	TypeCode   string        `json:"type_code"`
	TypeName   string        `json:"type_name"`
	IDNumber   string        `json:"id_number"`
	Name       string        `json:"name"`
	AgencyCode string        `json:"agency_code"`
	Number     string        `json:"number"`
	IssuedOn   string        `json:"issued_on"`
	ValidDays  int           `json:"valid_days"`
	Fields     []ecert.Field `json:"fields"`
}

// readImport reads an export file, a sealed certificate, or a draft (which
// it seals with the agency's key from the keyring).
func readImport(ctx context.Context, path string, ref *ecert.Reference) (ecert.Certificate, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ecert.Certificate{}, err
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b, &probe); err != nil {
		return ecert.Certificate{}, fmt.Errorf("%s: %w", path, err)
	}
	switch {
	case probe["format"] != nil:
		e, err := ecert.ParseExport(b)
		return e.Certificate, err
	case probe["id_number"] != nil:
		var d draftFile
		if err := json.Unmarshal(b, &d); err != nil {
			return ecert.Certificate{}, fmt.Errorf("%s: %w", path, err)
		}
		issued, err := time.Parse(ecert.DateLayout, d.IssuedOn)
		if err != nil {
			return ecert.Certificate{}, fmt.Errorf("%s: issued_on must be YYYY-MM-DD", path)
		}
		if err := pii.ValidateIDNumber(d.IDNumber, issued); err != nil {
			return ecert.Certificate{}, fmt.Errorf("%s: id_number: %w", path, err)
		}
		s, err := ref.Keyring.Signer(d.AgencyCode)
		if err != nil {
			return ecert.Certificate{}, err
		}
		c, err := ecert.Build(ecert.Draft{TypeCode: d.TypeCode, TypeName: d.TypeName, IDNumber: d.IDNumber, Name: d.Name, Number: d.Number,
			Agency: ecert.Agency{Code: d.AgencyCode}, IssuedOn: issued.Add(4 * time.Hour), ValidDays: d.ValidDays, Fields: d.Fields}, ref.Holder, ref.Renderer)
		if err != nil {
			return c, err
		}
		return s.Seal(c)
	}
	var c ecert.Certificate
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
