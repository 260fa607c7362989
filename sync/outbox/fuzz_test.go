package outbox

import (
	"bytes"
	"testing"
)

// FuzzOpenRow feeds arbitrary bytes to the sealed-column decoder, as a
// damaged or tampered database would: it must never panic and never
// accept bytes that were not sealed under the key for that row.
func FuzzOpenRow(f *testing.F) {
	k, err := newKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		f.Fatal(err)
	}
	plain := []byte(`{"applicant":{"name":"测试"}}`)
	good, err := k.sealRow(plain, "row-1")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "row-1")
	f.Add(good, "row-2")
	f.Add(good[:12], "row-1")
	f.Add([]byte{}, "")
	f.Fuzz(func(t *testing.T, sealed []byte, aad string) {
		p, err := k.openRow(sealed, aad)
		if err != nil {
			return
		}
		// Fuzz workers are separate processes, each sealing its own seed
		// with a fresh nonce, so compare what it decrypts to, not bytes.
		if !bytes.Equal(p, plain) || aad != "row-1" {
			t.Fatalf("forged row accepted: %q", p)
		}
	})
}
