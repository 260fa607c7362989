package platform_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onedoor/sync/api"
)

// BenchmarkPageUploads: 8 kiosks upload distinct 64 KiB pages, each in one
// signed PATCH (the usual case), concurrently; reports pages per second.
func BenchmarkPageUploads(b *testing.B) {
	const kiosks = 8
	var names []string
	for k := range kiosks {
		names = append(names, fmt.Sprintf("B%d", k))
	}
	e := newEnv(b, b.TempDir(), names...)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for k := range kiosks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				page := bytes.Repeat([]byte(fmt.Sprintf("page %08d ", i)), 64<<10/14)
				hr := e.build(req{method: "PATCH", path: api.PathBlobs + shaHex(page), body: page, kiosk: names[k],
					header: map[string]string{"Content-Type": api.ContentTypeOffset, api.HeaderUploadOffset: "0", api.HeaderUploadLength: fmt.Sprint(len(page))}})
				res, err := http.DefaultClient.Do(hr)
				if err != nil || res.StatusCode != http.StatusNoContent {
					b.Errorf("upload %d: %v %v", i, res, err)
					return
				}
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pages/s")
}
