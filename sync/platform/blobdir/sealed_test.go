package blobdir

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedoor/sync/platform/blobseal"
	"onedoor/sync/platform/blobtest"
)

// TestNoPlaintextOnDisk writes pages through every path a page takes into
// the folder (packed whole, a file of its own, a resumed upload finished,
// one still in progress) and finds none of their bytes in any file. On
// the code before sealing every one of them was found.
func TestNoPlaintextOnDisk(t *testing.T) {
	const marker = "440106199001011234-MARKER"
	root := t.TempDir()
	d, err := Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	packed, big, resumed, pending := blobtest.Page(64<<10, marker+"p"), blobtest.Page(packMax+1000, marker+"b"), blobtest.Page(100<<10, marker+"r"), blobtest.Page(90<<10, marker+"q")
	for _, b := range [][]byte{packed, big} {
		if n, err := d.Append(ctx, hexSHA(b), 0, int64(len(b)), hexSHA(b), bytes.NewReader(b)); n != int64(len(b)) || err != nil {
			t.Fatalf("append: %d %v", n, err)
		}
	}
	if n, err := d.Append(ctx, hexSHA(resumed), 0, int64(len(resumed)), "", bytes.NewReader(resumed[:7777])); n != 7777 || err != nil {
		t.Fatalf("first piece: %d %v", n, err)
	}
	if n, err := d.Append(ctx, hexSHA(resumed), 7777, int64(len(resumed)), "", bytes.NewReader(resumed[7777:])); n != int64(len(resumed)) || err != nil {
		t.Fatalf("rest: %d %v", n, err)
	}
	if n, err := d.Append(ctx, hexSHA(pending), 0, int64(len(pending)), "", bytes.NewReader(pending[:5000])); n != 5000 || err != nil {
		t.Fatalf("pending: %d %v", n, err)
	}
	if hits := blobtest.GrepFolder(t, root, marker); len(hits) > 0 {
		t.Fatalf("plaintext of a page on disk in %v", hits)
	}
	for _, b := range [][]byte{packed, big, resumed} {
		if got := readBlob(t, d, hexSHA(b)); !bytes.Equal(got, b) {
			t.Fatalf("blob %.12s reads back wrong", hexSHA(b))
		}
	}
	if off, _, _ := d.Offset(ctx, hexSHA(pending)); off != 5000 {
		t.Fatalf("pending offset %d", off)
	}
	d.Close()
	if hits := blobtest.GrepFolder(t, root, marker); len(hits) > 0 {
		t.Fatalf("plaintext of a page on disk after close in %v", hits)
	}
}

// writeLegacyFolder lays out a blob folder as the code before sealing
// wrote it: a pack file of "ODB1" records (no index: opening re-indexes
// it, as after a power cut), a plaintext file of its own, and a plaintext
// partial upload.
func writeLegacyFolder(t *testing.T, root string, packedBlobs [][]byte, file, partial []byte, partialLen int) {
	t.Helper()
	for _, dir := range []string{"packs", "partial", hexSHA(file)[:2]} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var pack []byte
	for _, b := range packedBlobs {
		var hdr [headerSize]byte
		binary.BigEndian.PutUint32(hdr[:4], recordMagic)
		binary.BigEndian.PutUint64(hdr[4:12], uint64(len(b)))
		sum := sha256.Sum256(b)
		copy(hdr[12:], sum[:])
		pack = append(append(pack, hdr[:]...), b...)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(root, "packs", packName(1)), pack, 0o600))
	must(os.WriteFile(filepath.Join(root, hexSHA(file)[:2], hexSHA(file)), file, 0o600))
	must(os.WriteFile(filepath.Join(root, "partial", hexSHA(partial)), partial[:partialLen], 0o600))
}

// TestLegacyFolder: a folder written before sealing upgrades in place. Its
// packed and own-file blobs read back (and seek), are walked with their
// sizes, and stay where they are; its partial upload is sealed when the
// folder opens and continues at the same offset; what is written
// afterwards is sealed, so only the old plaintext remains on disk.
func TestLegacyFolder(t *testing.T) {
	const marker = "LEGACY-PAGE-MARKER"
	root := t.TempDir()
	p1, p2 := blobtest.Page(3000, marker+"1"), blobtest.Page(70<<10, marker+"2")
	file := blobtest.Page(packMax+10, marker+"f")
	partial := blobtest.Page(80<<10, marker+"partial")
	writeLegacyFolder(t, root, [][]byte{p1, p2}, file, partial, 30000)

	d, err := Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
	blobtest.CheckReadable(t, d, [][]byte{p1, p2, file})
	// The partial upload was sealed at open, at the same offset.
	if _, err := os.Stat(filepath.Join(root, "partial", hexSHA(partial))); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("plaintext partial upload still there: %v", err)
	}
	if off, started, err := d.Offset(ctx, hexSHA(partial)); off != 30000 || !started || err != nil {
		t.Fatalf("partial offset after upgrade = %d %v %v", off, started, err)
	}
	if n, err := d.Append(ctx, hexSHA(partial), 30000, int64(len(partial)), "", bytes.NewReader(partial[30000:])); n != int64(len(partial)) || err != nil {
		t.Fatalf("resume after upgrade: %d %v", n, err)
	}
	if got := readBlob(t, d, hexSHA(partial)); !bytes.Equal(got, partial) {
		t.Fatal("resumed blob reads back wrong")
	}
	fresh := blobtest.Page(50<<10, marker+"new")
	if _, err := d.Append(ctx, hexSHA(fresh), 0, int64(len(fresh)), "", bytes.NewReader(fresh)); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{marker + "partial", marker + "new"} {
		if hits := blobtest.GrepFolder(t, root, m); len(hits) > 0 {
			t.Fatalf("%s in plaintext in %v", m, hits)
		}
	}
	// Only the old blobs are plaintext, where they always were.
	hits := blobtest.GrepFolder(t, root, marker)
	for _, h := range hits {
		if rel, _ := filepath.Rel(root, h); strings.HasPrefix(rel, sealedDir) {
			t.Fatalf("plaintext under %s: %s", sealedDir, h)
		}
	}
}

// TestKeyRequired: no key is an error, never a plaintext folder, and a
// folder sealed under one data key refuses another (a lost key file
// replaced by a fresh one) instead of mixing keys.
func TestKeyRequired(t *testing.T) {
	root := t.TempDir()
	if _, err := Open(root, nil); !errors.Is(err, blobseal.ErrNoKey) {
		t.Fatalf("Open without a key = %v, want ErrNoKey", err)
	}
	d, err := Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	b := blobtest.Page(1000, "x")
	if _, err := d.Append(t.Context(), hexSHA(b), 0, 1000, "", bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	d.Close()
	if _, err := Open(root, blobtest.KeyOf(t, 0x43)); !errors.Is(err, blobseal.ErrWrongKey) {
		t.Fatalf("Open with another key = %v, want ErrWrongKey", err)
	}
	d, err = Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatalf("reopen with the right key: %v", err)
	}
	d.Close()
}

// TestDamagedCiphertextFound: one byte changed in a sealed page (packed,
// or a file of its own) decrypts to bytes that no longer hash to the
// address, which is what verify checks.
func TestDamagedCiphertextFound(t *testing.T) {
	root := t.TempDir()
	d, err := Open(root, blobtest.TestKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := t.Context()
	small, big := blobtest.Page(4000, "small"), blobtest.Page(packMax+1, "big")
	for _, b := range [][]byte{small, big} {
		if _, err := d.Append(ctx, hexSHA(b), 0, int64(len(b)), "", bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	l, ok, err := d.packs.lookup(hexSHA(small))
	if !ok || err != nil {
		t.Fatalf("small page not packed: %v", err)
	}
	flip(t, filepath.Join(root, "packs", packName(l.pack)), l.off+blobseal.HeaderSize+1234)
	flip(t, d.path(hexSHA(big)), blobseal.HeaderSize+packMax-7)
	for _, b := range [][]byte{small, big} {
		if got := readBlob(t, d, hexSHA(b)); hexSHA(got) == hexSHA(b) || len(got) != len(b) {
			t.Fatalf("damage in %.12s not seen", hexSHA(b))
		}
	}
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x01
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}
