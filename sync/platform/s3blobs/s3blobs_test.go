package s3blobs

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"onedoor/sync/platform"
	"onedoor/sync/platform/blobtest"
	"onedoor/sync/platform/s3blobs/s3test"
)

var gw *s3test.Server

func TestMain(m *testing.M) {
	code := s3test.Main(m, &gw)
	pg.Stop()
	os.Exit(code)
}

func openURL(t testing.TB, url string) *Store {
	t.Helper()
	cfg, err := ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Key = blobtest.TestKey(t)
	s, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) platform.BlobStore { return openURL(t, gw.Bucket(t)) })
}

// TestResumeOnAnotherInstance: an upload begun through one Store (one
// platformd) continues through another on the same bucket.
func TestResumeOnAnotherInstance(t *testing.T) {
	url := gw.Bucket(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := context.Background()
	page := bytes.Repeat([]byte("scan"), 50000)
	sha := blobtest.HexSHA(page)
	if n, err := a.Append(ctx, sha, 0, int64(len(page)), "", &blobtest.FailingReader{R: bytes.NewReader(page), N: 70000}); n != 70000 || err == nil {
		t.Fatalf("cut upload = %d %v", n, err)
	}
	off, started, err := b.Offset(ctx, sha)
	if off != 70000 || !started || err != nil {
		t.Fatalf("other instance sees offset %d %v %v", off, started, err)
	}
	if n, err := b.Append(ctx, sha, off, int64(len(page)), "", bytes.NewReader(page[off:])); n != int64(len(page)) || err != nil {
		t.Fatalf("resume = %d %v", n, err)
	}
	if got := blobtest.Read(t, a, sha); !bytes.Equal(got, page) {
		t.Fatal("stored bytes differ")
	}
	// The pieces are gone once the blob is complete.
	if ps, _ := a.pieces(ctx, sha); len(ps) != 0 {
		t.Fatalf("%d pieces left", len(ps))
	}
}

func TestPurgePartials(t *testing.T) {
	s := openURL(t, gw.Bucket(t))
	ctx := context.Background()
	old := []byte("abandoned upload")
	if _, err := s.Append(ctx, blobtest.HexSHA(old), 0, 100, "", bytes.NewReader(old)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgePartials(ctx, time.Now().Add(-time.Hour)); n != 0 || err != nil {
		t.Fatalf("purged a fresh upload: %d %v", n, err)
	}
	if n, err := s.PurgePartials(ctx, time.Now().Add(time.Hour)); n != 1 || err != nil {
		t.Fatalf("purge = %d %v", n, err)
	}
	if _, started, _ := s.Offset(ctx, blobtest.HexSHA(old)); started {
		t.Fatal("purged upload still started")
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Config
		bad  bool
	}{
		{in: "s3://k:s@127.0.0.1:7070/scans", want: Config{Endpoint: "127.0.0.1:7070", Bucket: "scans", AccessKey: "k", SecretKey: "s"}},
		{in: "s3://h:9000/b/city/dg?secure=true&region=cn-south-1", want: Config{Endpoint: "h:9000", Bucket: "b", Prefix: "city/dg/", Secure: true, Region: "cn-south-1"}},
		{in: "s3://h:9000/", bad: true},
		{in: "http://h/b", bad: true},
	} {
		got, err := ParseURL(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && got != tc.want) {
			t.Errorf("ParseURL(%q) = %+v %v", tc.in, got, err)
		}
	}
}
