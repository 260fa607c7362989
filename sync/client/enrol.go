package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"onedoor/sync/api"
)

// ed25519Prefix marks a kiosk credential that is an Ed25519 private key.
const ed25519Prefix = api.AlgEd25519 + ":"

// ParseCredential turns a kiosk's stored credential into a signer: a
// legacy token signs with HMAC, "ed25519:<64 hex digits of seed>" or
// "sm2:<64 hex digits of the private key>" with the kiosk's own key.
func ParseCredential(cred string) (api.Signer, error) {
	if sg, ok, err := parseSM2(cred); ok {
		return sg, err
	}
	seedHex, ok := strings.CutPrefix(cred, ed25519Prefix)
	if !ok {
		if cred == "" {
			return nil, errors.New("client: no credential")
		}
		return api.HMACSigner(cred), nil
	}
	seed, err := hex.DecodeString(seedHex)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("client: malformed ed25519 credential")
	}
	return api.Ed25519Signer{Key: ed25519.NewKeyFromSeed(seed)}, nil
}

// Enrol makes a new Ed25519 key pair for the kiosk, registers its public
// key with the platform against the one-time code from `platformd kiosk
// add`, and returns the credential to keep in the kiosk's config (secret:
// it holds the private key). The platform never sees the private key. A
// lost answer can be retried with the same credential (EnrolWith).
func Enrol(ctx context.Context, baseURL, kioskID, code string, hc *http.Client) (string, *api.EnrolResponse, error) {
	return EnrolAlgorithm(ctx, baseURL, kioskID, code, api.AlgEd25519, hc)
}

// EnrolAlgorithm is Enrol with a key of the given algorithm: api.AlgEd25519
// (the default) or api.AlgSM2 where 国密 algorithms are required.
func EnrolAlgorithm(ctx context.Context, baseURL, kioskID, code, alg string, hc *http.Client) (string, *api.EnrolResponse, error) {
	var cred string
	switch alg {
	case api.AlgEd25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return "", nil, fmt.Errorf("enrol: key: %w", err)
		}
		cred = ed25519Prefix + hex.EncodeToString(priv.Seed())
	case api.AlgSM2:
		var err error
		if cred, err = newSM2Credential(); err != nil {
			return "", nil, err
		}
	default:
		return "", nil, fmt.Errorf("enrol: unknown algorithm %q", alg)
	}
	resp, err := EnrolWith(ctx, baseURL, kioskID, code, cred, hc)
	return cred, resp, err
}

// EnrolWith registers the key of an existing credential (see Enrol).
func EnrolWith(ctx context.Context, baseURL, kioskID, code, cred string, hc *http.Client) (*api.EnrolResponse, error) {
	sg, err := ParseCredential(cred)
	if err != nil {
		return nil, err
	}
	kp, ok := sg.(interface {
		api.Signer
		PublicKeyHex() string
	})
	if !ok {
		return nil, errors.New("enrol: the credential is not a key pair")
	}
	body, err := json.Marshal(api.EnrolRequest{KioskID: kioskID, Code: api.NormalizeEnrolCode(code), Algorithm: kp.Algorithm(), PublicKey: kp.PublicKeyHex()})
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+api.PathEnrol, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	nonce, err := api.NewNonce()
	if err != nil {
		return nil, err
	}
	if err := api.SignWith(req, kioskID, kp, api.BodySHA256(body), time.Now(), nonce); err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	if res.StatusCode != http.StatusCreated {
		var e api.ErrorResponse
		json.Unmarshal(b, &e)
		kind := ErrUnavailable
		switch {
		case res.StatusCode == http.StatusUnauthorized:
			kind = ErrUnauthorized
		case res.StatusCode == http.StatusConflict:
			kind = ErrConflict
		case res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != http.StatusTooManyRequests:
			kind = ErrRejected
		}
		return nil, &APIError{Status: res.StatusCode, Code: e.Code, Message: e.Message, Offset: -1, kind: kind}
	}
	var out api.EnrolResponse
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("enrol: answer: %w", err)
	}
	return &out, nil
}
