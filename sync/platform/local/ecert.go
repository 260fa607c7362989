package local

import (
	"path/filepath"
	"time"

	"onedoor/assets"
	"onedoor/sync/platform"
	"onedoor/sync/platform/ecert"
)

// ECertDir is the folder, in the data directory, of the reference
// e-certificate library's keys: agencies/CODE.pub (trusted agency keys),
// agencies/CODE.key (agencies the platform issues for, mode 0600) and
// holder.key (the secret of holders' keyed hashes, mode 0600).
const ECertDir = "ecert"

// OpenECerts opens the reference e-certificate library of data directory
// dir over st.
func OpenECerts(dir string, st platform.ECertStore, clock func() time.Time) (*ecert.Reference, error) {
	kr := ecert.Keyring{Dir: filepath.Join(dir, ECertDir, "agencies")}
	trust, err := kr.Trust()
	if err != nil {
		return nil, err
	}
	hk, err := ecert.LoadOrCreateHolderKey(filepath.Join(dir, ECertDir, "holder.key"))
	if err != nil {
		return nil, err
	}
	rd, err := ecert.NewRenderer(assets.CJKFont)
	if err != nil {
		return nil, err
	}
	return &ecert.Reference{Store: st, Trust: trust, Keyring: kr, Holder: hk, Renderer: rd, Clock: clock}, nil
}

// ECertConfig is the platform's connection to the reference library.
func ECertConfig(ref *ecert.Reference) *platform.ECertConfig {
	return &platform.ECertConfig{Library: ref, Issuer: ref, Log: ref.Store, AgencyKey: ref.AgencyKey}
}
