package platform

import (
	"encoding/hex"

	"github.com/emmansun/gmsm/sm2"
)

// verifySM2 checks an SM2 signature (SM3 with the default user id, as GB/T
// 32918 and api.AlgSM2 specify; DER-encoded, in hex) of a kiosk whose
// public key is the uncompressed point 04||X||Y in hex, for deployments
// where 国密 algorithms are required.
func verifySM2(publicKeyHex, stringToSign, signatureHex string) bool {
	pubBytes, err := hex.DecodeString(publicKeyHex)
	if err != nil {
		return false
	}
	pub, err := sm2.NewPublicKey(pubBytes)
	if err != nil {
		return false
	}
	sig, err := hex.DecodeString(signatureHex)
	if err != nil {
		return false
	}
	return sm2.VerifyASN1WithSM2(pub, nil, []byte(stringToSign), sig)
}
