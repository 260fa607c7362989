package crashtest

import (
	"io"
	"sync"
)

// lockedWriter serialises writes from several child processes' pipes.
type lockedWriter struct {
	mu sync.Mutex
	b  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}
