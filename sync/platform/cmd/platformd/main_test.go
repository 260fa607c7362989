package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"onedoor/sync/api"
	"onedoor/sync/platform"
)

func runCmd(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAdminCommands(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		out   string // substring of stdout
	}{
		{"usage", "", []string{"frobnicate"}, exitUsage, ""},
		{"kiosk add needs id", "", []string{"kiosk", "add", "--data", dir}, exitUsage, ""},
		{"kiosk add", "", []string{"kiosk", "add", "--data", dir, "--id", "DG-0001"}, exitOK, ""},
		{"kiosk add twice", "", []string{"kiosk", "add", "--data", dir, "--id", "DG-0001"}, exitFailure, ""},
		{"kiosk id with spaces", "", []string{"kiosk", "add", "--data", dir, "--id", "a b"}, exitFailure, ""},
		{"staff add", "correct horse\n", []string{"staff", "add", "--data", dir, "--user", "clerk"}, exitOK, "staff clerk added"},
		{"staff add short password", "short\n", []string{"staff", "add", "--data", dir, "--user", "clerk2"}, exitFailure, ""},
		{"staff add no stdin", "", []string{"staff", "add", "--data", dir, "--user", "clerk3"}, exitUsage, ""},
		{"staff add twice", "correct horse\n", []string{"staff", "add", "--data", dir, "--user", "clerk"}, exitFailure, ""},
		{"export empty", "", []string{"export", "--data", dir}, exitOK, ""},
		{"export missing dir", "", []string{"export", "--data", filepath.Join(dir, "nope")}, exitFailure, ""},
		{"serve without data", "", []string{"serve"}, exitUsage, ""},
		{"serve half tls", "", []string{"--data", dir, "--tls-cert", "x"}, exitUsage, ""},
		{"serve bad catalog", "", []string{"--data", dir, "--catalog", filepath.Join(dir, "missing.json")}, exitFailure, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tc.stdin, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d out %q err %q, want exit %d", code, out, errOut, tc.code)
			}
			if code != exitOK && errOut == "" {
				t.Fatal("failure without a message on stderr")
			}
		})
	}
}

// startServe runs `platformd serve` in-process on a free port and returns
// its base URL.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), strings.NewReader(""), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("serve exited %d", code)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed nothing: %v", err)
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(strings.TrimPrefix(line, "platformd: listening on "))
}

func TestServeSubmitExport(t *testing.T) {
	dir := t.TempDir()
	code, tok, _ := runCmd(t, "", "kiosk", "add", "--data", dir, "--id", "DG-0001", "--token")
	tok = strings.TrimSpace(tok)
	if code != exitOK || len(tok) != 64 {
		t.Fatalf("kiosk add = %d %q", code, tok)
	}
	os.WriteFile(filepath.Join(dir, "catalog.json"), []byte(`{"items":[]}`), 0o600)
	base := startServe(t, "--data", dir)

	sub := api.SubmissionRequest{UUID: uuid.NewString(), Receipt: "DG-0001-20260101-0001", KioskID: "DG-0001", ItemID: "hukou-move",
		ItemVersion: "1", CreatedAt: time.Now().UTC(), Applicant: api.ApplicantData{Name: "测试人", IDNumber: "441900199001011231"}}
	body, _ := json.Marshal(sub)
	req, _ := http.NewRequest("POST", base+api.PathSubmissions, bytes.NewReader(body))
	req.Header.Set(api.HeaderIdempotencyKey, sub.UUID)
	nonce, _ := api.NewNonce()
	api.Sign(req, "DG-0001", tok, api.BodySHA256(body), time.Now(), nonce)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sr api.SubmissionResponse
	json.NewDecoder(res.Body).Decode(&sr)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || !strings.HasPrefix(sr.CaseNumber, "DG-") {
		t.Fatalf("submit = %d %+v", res.StatusCode, sr)
	}

	// export reads the same database while serve runs (WAL allows it).
	code, out, errOut := runCmd(t, "", "export", "--data", dir)
	var row platform.ExportRow
	if code != exitOK || json.Unmarshal([]byte(out), &row) != nil {
		t.Fatalf("export = %d %q %q", code, out, errOut)
	}
	if row.UUID != sub.UUID || row.Receipt != sub.Receipt || row.CaseNumber != sr.CaseNumber || row.ItemID != "hukou-move" || row.Blobs == nil {
		t.Fatalf("export row = %+v", row)
	}
	if strings.Contains(out, "441900199001011231") {
		t.Fatal("export leaks the ID number")
	}
}

func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "platformd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(c)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key, pool := selfSigned(t, t.TempDir())
	base := startServe(t, "--data", dir, "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(base, "https://") {
		t.Fatalf("base = %s", base)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := c.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz over TLS = %d", res.StatusCode)
	}
	// Session cookies are Secure when serving TLS.
	res, err = c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if sc := res.Header.Get("Set-Cookie"); !strings.Contains(sc, "Secure") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Strict") {
		t.Fatalf("login cookie = %q", sc)
	}
}
