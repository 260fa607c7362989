package city

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCityHasECertsAndSupervision: a platform on PostgreSQL and a bucket
// serves what the embedded default does beyond intake: the e-certificate
// query (issue 13; refused without a kiosk's signature, not absent) with
// its keys beside the shared data key, and the supervision pages (issue
// 14; the residents' phone page answers).
func TestCityHasECertsAndSupervision(t *testing.T) {
	r := newRig(t, 2)
	for i, u := range r.urls {
		resp, err := http.Post(u+"/api/v1/ecerts/query", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("instance %d: e-certificate query unsigned = %d, want 401 (404: no e-certificates)", i, resp.StatusCode)
		}
		resp, err = http.Get(u + "/m/DG-0001-20260101-0001")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("instance %d: phone page = %d, want 200 (404: no supervision)", i, resp.StatusCode)
		}
	}
	// Both instances read one holder key (keyed hashes must agree).
	if _, err := os.Stat(filepath.Join(r.keyDir, "ecert", "holder.key")); err != nil {
		t.Errorf("holder key beside the data key: %v", err)
	}
}
