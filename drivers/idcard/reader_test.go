package idcard_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"onedoor/drivers/idcard"
	"onedoor/drivers/serialport"
	"onedoor/drivers/sim"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type rig struct {
	sim  *sim.IDCard
	pty  *sim.PTY
	link string
	port *serialport.Port
	r    *idcard.Reader
}

// newRig starts the simulator on a fresh pty and opens the driver's side
// through tarm/serial at baud.
func newRig(t testing.TB, simBaud, hostBaud int) *rig {
	t.Helper()
	link := filepath.Join(t.TempDir(), "idcard")
	pt, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewIDCard(sim.IDCardConfig{Baud: simBaud, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, pt); close(done) }()
	p, err := serialport.Open(serialport.Config{Path: link, Baud: hostBaud})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Close()
		cancel()
		<-done
		pt.Close()
	})
	// Generous timeouts: the simulator shares two cores with the whole
	// test suite. Tests that expect a timeout make their own reader.
	return &rig{sim: s, pty: pt, link: link, port: p, r: idcard.NewReader(p, idcard.Options{Baud: hostBaud, Logger: quiet, TimeoutScale: 4})}
}

// expect maps a fictional card to the identity a correct driver decodes.
func expect(c sim.Card) idcard.Identity {
	id := idcard.Identity{
		Name: c.Name, SexCode: c.Sex, Sex: idcard.SexName(c.Sex), BirthDate: c.Birth,
		Address: c.Address, IDNumber: c.Number, Authority: c.Authority, ValidFrom: c.ValidFrom, ValidTo: c.ValidTo,
		PermitNumber: c.PermitNumber, IssueCount: c.IssueCount, EnglishName: c.EnglishName,
		Nationality: c.Nationality, CardVersion: c.CardVersion, AuthorityCode: c.AuthorityCode,
		RenewalCount: c.RenewalCount, OldNumberLink: c.OldNumberLink,
		PhotoWLT: c.Photo(),
	}
	id.Type = idcard.CardType(c.Type)
	if c.Type == "resident" {
		id.NationCode, id.Nation = c.Nation, idcard.NationName(c.Nation)
	}
	return id
}

func sameIdentity(t *testing.T, got, want idcard.Identity) {
	t.Helper()
	gp, wp := got.PhotoWLT, want.PhotoWLT
	got.PhotoWLT, want.PhotoWLT = nil, nil
	got.Fingerprint, want.Fingerprint = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded\n %+v\nwant\n %+v", got, want)
	}
	if !bytes.Equal(gp, wp) {
		t.Fatalf("photo differs from the card's WLT blob")
	}
}

// Every fictional card of every type decodes to exactly its fields.
func TestReadEveryCardType(t *testing.T) {
	rg := newRig(t, 115200, 115200)
	ctx := context.Background()
	for _, c := range sim.FictionalCards() {
		t.Run(c.Key, func(t *testing.T) {
			if err := rg.sim.Place(c.Key); err != nil {
				t.Fatal(err)
			}
			id, err := rg.r.ReadIdentity(ctx)
			switch c.Key {
			case "expired":
				if !errors.Is(err, idcard.ErrExpired) {
					t.Fatalf("err = %v, want ErrExpired", err)
				}
			case "badnumber":
				if !errors.Is(err, idcard.ErrInvalidID) || id.IDNumber != "" {
					t.Fatalf("err = %v, identity %+v; want ErrInvalidID and no identity", err, id)
				}
				return
			default:
				if err != nil {
					t.Fatal(err)
				}
			}
			sameIdentity(t, id, expect(c))
			// A read card stays "not found" until it leaves the reader.
			if err := rg.r.Find(ctx); !errors.Is(err, idcard.ErrNoCard) {
				t.Fatalf("find after read: %v, want ErrNoCard", err)
			}
		})
	}
}

func TestReadWithFingerprintAndAddress(t *testing.T) {
	rg := newRig(t, 115200, 115200)
	ctx := context.Background()
	cards := map[string]sim.Card{}
	for _, c := range sim.FictionalCards() {
		cards[c.Key] = c
	}
	tests := []struct {
		key     string
		fp      int
		address string
	}{
		{"resident", 1024, ""},
		{"elder", 0, cards["elder"].AdditionalAddress},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			rg.sim.Place(tc.key)
			if err := rg.r.Find(ctx); err != nil {
				t.Fatal(err)
			}
			if err := rg.r.Select(ctx); err != nil {
				t.Fatal(err)
			}
			id, err := rg.r.ReadCard(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			if len(id.Fingerprint) != tc.fp || (tc.fp > 0 && !bytes.Equal(id.Fingerprint, cards[tc.key].Fingerprints())) {
				t.Fatalf("fingerprint %d bytes", len(id.Fingerprint))
			}
			sameIdentity(t, id, expect(cards[tc.key]))
			addr, err := rg.r.AdditionalAddress(ctx)
			if err != nil || addr != tc.address {
				t.Fatalf("additional address %q, %v; want %q", addr, err, tc.address)
			}
		})
	}
}

func TestStatusSAMIDAndNoCard(t *testing.T) {
	rg := newRig(t, 115200, 115200)
	ctx := context.Background()
	if err := rg.r.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rg.r.Status(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := rg.r.SAMID(ctx)
	if err != nil || id != "05.01-20261125-0000000042-0123456789" {
		t.Fatalf("SAM ID %q, %v", id, err)
	}
	err = rg.r.Find(ctx)
	var se *idcard.StatusError
	if !errors.Is(err, idcard.ErrNoCard) || !errors.As(err, &se) || se.SW3 != 0x80 {
		t.Fatalf("find on empty reader: %v", err)
	}
	if err := rg.r.Select(ctx); !errors.Is(err, idcard.ErrSelectFailed) {
		t.Fatalf("select without card: %v", err)
	}
	if _, err := rg.r.ReadCard(ctx, false); !errors.Is(err, idcard.ErrReadFailed) {
		t.Fatalf("read without card: %v", err)
	}
}

// Every injected fault gives a typed error and never an identity.
func TestFaultsGiveTypedErrors(t *testing.T) {
	tests := []struct {
		fault string
		want  error
	}{
		{"checksum", idcard.ErrChecksum},
		{"drop", serialport.ErrTimeout},
		{"extra", idcard.ErrChecksum},
		{"silence", serialport.ErrTimeout},
		{"readfail", idcard.ErrReadFailed},
		{"pull", serialport.ErrTimeout},
		{"mute", serialport.ErrTimeout},
	}
	rg := newRig(t, 115200, 115200)
	rg.r = idcard.NewReader(rg.port, idcard.Options{Logger: quiet})
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.fault, func(t *testing.T) {
			defer rg.sim.Fault("none")
			rg.sim.Place("resident")
			if err := rg.sim.Fault(tc.fault); err != nil {
				t.Fatal(err)
			}
			id, err := rg.r.ReadIdentity(ctx)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if id.Name != "" || id.IDNumber != "" {
				t.Fatalf("fault %s still produced an identity", tc.fault)
			}
		})
	}
	// After the faults the reader works again.
	rg.sim.Place("resident")
	if _, err := rg.r.ReadIdentity(ctx); err != nil {
		t.Fatalf("read after faults: %v", err)
	}
}

func TestDiscoverAndSetBaud(t *testing.T) {
	rg := newRig(t, 9600, 115200)
	ctx := context.Background()
	// At the wrong rate the SAM does not answer.
	if err := rg.r.Status(ctx); !errors.Is(err, serialport.ErrTimeout) {
		t.Fatalf("status at wrong baud: %v", err)
	}
	p, baud, err := idcard.Discover(ctx, rg.link, nil)
	if err != nil || baud != 9600 {
		t.Fatalf("Discover = %d, %v", baud, err)
	}
	r := idcard.NewReader(p, idcard.Options{Baud: baud, Logger: quiet, TimeoutScale: 4})
	if err := r.SetBaud(ctx, 115200); err != nil {
		p.Close()
		t.Fatal(err)
	}
	p.Close()
	// The SAM switches once its answer (at the old rate) is out.
	for deadline := time.Now().Add(time.Second); rg.sim.Baud() != 115200; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("sim at %d after set baud", rg.sim.Baud())
		}
	}
	// termios belongs to the tty, not the handle: reopen at the new rate.
	p2, err := serialport.Open(serialport.Config{Path: rg.link, Baud: 115200})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	r2 := idcard.NewReader(p2, idcard.Options{Logger: quiet, TimeoutScale: 4})
	if err := r2.Status(ctx); err != nil {
		t.Fatalf("status at the new rate: %v", err)
	}
	if err := r2.SetBaud(ctx, 4800); err == nil {
		t.Fatal("4800 baud accepted")
	}
}

func TestDiscoverNoReader(t *testing.T) {
	pt, err := sim.OpenPTY("")
	if err != nil {
		t.Fatal(err)
	}
	defer pt.Close()
	_, _, err = idcard.Discover(context.Background(), pt.SlavePath, []int{115200, 9600})
	if !errors.Is(err, idcard.ErrNoReader) {
		t.Fatalf("err = %v", err)
	}
}

type fakeDecoder struct{ got []byte }

func (f *fakeDecoder) DecodeWLT(w []byte) (image.Image, error) {
	f.got = w
	return image.NewRGBA(image.Rect(0, 0, 102, 126)), nil
}

func TestPhotoGoesToThePluggedDecoder(t *testing.T) {
	id := idcard.Identity{PhotoWLT: bytes.Repeat([]byte{7}, 1024)}
	if _, err := id.Photo(nil); !errors.Is(err, idcard.ErrNoPhotoDecoder) {
		t.Fatalf("no decoder: %v", err)
	}
	d := &fakeDecoder{}
	img, err := id.Photo(d)
	if err != nil || img.Bounds().Dx() != 102 || !bytes.Equal(d.got, id.PhotoWLT) {
		t.Fatalf("decoder saw %d bytes, %v", len(d.got), err)
	}
}

// The port's byte trace must not keep a card's personal data unless asked.
func TestTraceWithholdsCardData(t *testing.T) {
	name := []byte{0x8B, 0x73, 0x53, 0x66, 0x85, 0x68} // 王晓梅 in UTF-16LE
	for _, keep := range []bool{false, true} {
		rg := newRig(t, 115200, 115200)
		r := idcard.NewReader(rg.port, idcard.Options{Logger: quiet, TraceCardData: keep, TimeoutScale: 4})
		rg.sim.Place("resident")
		if _, err := r.ReadIdentity(context.Background()); err != nil {
			t.Fatal(err)
		}
		var in []byte
		withheld := 0
		for _, rec := range rg.port.Trace().Records() {
			in = append(in, rec.Data...)
			withheld += rec.Withheld
		}
		if got := bytes.Contains(in, name); got != keep {
			t.Fatalf("TraceCardData %v: name in trace = %v", keep, got)
		}
		if keep == (withheld > 0) {
			t.Fatalf("TraceCardData %v: %d bytes withheld", keep, withheld)
		}
	}
}
