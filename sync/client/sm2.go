package client

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm2"

	"onedoor/sync/api"
)

// sm2Prefix marks a kiosk credential that is an SM2 private key (32 bytes
// in hex), for deployments where 国密 algorithms are required.
const sm2Prefix = api.AlgSM2 + ":"

// SM2Signer signs with an SM2 private key: SM3 over the default user id's
// ZA and the string to sign, the signature DER-encoded, in hex.
type SM2Signer struct{ Key *sm2.PrivateKey }

// Algorithm is api.AlgSM2.
func (s SM2Signer) Algorithm() string { return api.AlgSM2 }

// Sign signs the string to sign.
func (s SM2Signer) Sign(sts string) (string, error) {
	sig, err := sm2.SignASN1(rand.Reader, s.Key, []byte(sts), sm2.DefaultSM2SignerOpts)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	return hex.EncodeToString(sig), nil
}

// PublicKeyHex is the uncompressed public point 04||X||Y in hex, the
// form EnrolRequest.PublicKey takes for SM2.
func (s SM2Signer) PublicKeyHex() string {
	b := make([]byte, 65)
	b[0] = 4
	s.Key.X.FillBytes(b[1:33])
	s.Key.Y.FillBytes(b[33:])
	return hex.EncodeToString(b)
}

func newSM2Credential() (string, error) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("enrol: key: %w", err)
	}
	d := make([]byte, 32)
	k.D.FillBytes(d)
	return sm2Prefix + hex.EncodeToString(d), nil
}

func parseSM2(cred string) (api.Signer, bool, error) {
	dHex, ok := strings.CutPrefix(cred, sm2Prefix)
	if !ok {
		return nil, false, nil
	}
	d, err := hex.DecodeString(dHex)
	if err != nil || len(d) != 32 {
		return nil, true, errors.New("client: malformed sm2 credential")
	}
	k, err := sm2.NewPrivateKey(d)
	if err != nil {
		return nil, true, fmt.Errorf("client: sm2 credential: %w", err)
	}
	return SM2Signer{Key: k}, true, nil
}
