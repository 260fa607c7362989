package techui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"

	"onedoor/kiosk/ui"
	"onedoor/sync/engine"
	"onedoor/sync/outbox"
)

// loadStats reads the queue in the background; the page redraws when the
// answer is in.
func (m *Mode) loadStats() {
	if m.d.Queue == nil || m.statsLoading {
		m.redraw()
		return
	}
	m.statsLoading = true
	m.run(func(ctx context.Context) func() {
		st, err := m.d.Queue.Stats(ctx)
		return func() {
			m.statsLoading = false
			m.stats, m.statsErr = &st, err
			if err != nil {
				m.stats = nil
			}
			if m.state == opened && m.page == PageQueue {
				m.redraw()
			}
		}
	})
}

func (m *Mode) engineState(s engine.State) string {
	switch s {
	case engine.StateIdle, engine.StateSending, engine.StateOffline, engine.StateStopped:
		return m.tr.T("tech.queue.engine_" + string(s))
	case engine.StateAuthError:
		return m.tr.T("tech.queue.engine_auth")
	}
	return string(s)
}

func (m *Mode) queuePageView() fyne.CanvasObject {
	var lines []fyne.CanvasObject
	if m.statsErr != nil {
		lines = append(lines, ui.Para(m.tr.T("tech.failed", m.statsErr.Error())))
	}
	st := m.stats
	if m.d.Queue == nil {
		lines = append(lines, ui.Para(m.tr.T("tech.queue.no_queue")))
	}
	if st != nil {
		lines = append(lines, ui.Subheading(m.tr.T("tech.queue.counts", st.Counts[outbox.StatePending], st.Counts[outbox.StateSending],
			st.Counts[outbox.StateSent], st.Counts[outbox.StateRejected])))
		if st.Queued > 0 && !st.OldestQueued.IsZero() {
			lines = append(lines, ui.Para(m.tr.T("tech.queue.oldest", fmtDuration(m.d.Now().Sub(st.OldestQueued)))))
		} else {
			lines = append(lines, ui.Para(m.tr.T("tech.queue.oldest_none")))
		}
		lines = append(lines, ui.Para(m.tr.T("tech.queue.disk", fmtBytes(st.FreeDiskBytes))))
	}
	if m.d.Syncer == nil {
		lines = append(lines, ui.Para(m.tr.T("tech.queue.no_engine")))
	} else {
		p := m.d.Syncer.Progress()
		lines = append(lines, ui.Para(m.tr.T("tech.queue.engine", m.engineState(p.State), p.ItemsLeft, fmtBytes(p.BytesLeft))))
		if p.Current != "" {
			lines = append(lines, ui.Para(m.tr.T("tech.queue.current", p.Current, fmtBytes(p.CurrentSent))))
		}
		if p.LastSync.IsZero() {
			lines = append(lines, ui.Para(m.tr.T("tech.queue.last_sync_never")))
		} else {
			lines = append(lines, ui.Para(m.tr.T("tech.queue.last_sync", p.LastSync.Local().Format("2006-01-02 15:04:05"))))
		}
		if p.LastError != "" {
			lines = append(lines, ui.Para(m.tr.T("tech.queue.last_error", maskLine(p.LastError))))
		}
	}
	syncNow := ui.NewStyledButton(m.tr.T("tech.queue.sync_now"), ui.StylePrimary, m.syncNow)
	syncNow.Disabled = m.d.Syncer == nil || m.busy > 0
	retryAll := ui.NewButton(m.tr.T("tech.queue.retry_all"), m.retryAll)
	retryAll.Disabled = st == nil || len(st.Failed) == 0 || m.busy > 0
	refresh := ui.NewButton(m.tr.T("tech.refresh"), m.loadStats)
	lines = append(lines, container.NewHBox(syncNow, retryAll, refresh))

	title := ui.Subheading(m.tr.T("tech.queue.failed_title"))
	var list fyne.CanvasObject = ui.Para(m.tr.T("tech.queue.failed_none"))
	if st != nil && len(st.Failed) > 0 {
		var items []fyne.CanvasObject
		for _, f := range st.Failed {
			text := m.tr.T("tech.queue.item", f.Receipt, m.tr.T("tech.queue.state_"+f.State), f.Attempts, maskLine(f.Reason))
			retry := ui.NewButton(m.tr.T("tech.queue.retry")+"\n"+f.Receipt, func() { m.retry([]outbox.Failure{f}) })
			retry.Disabled = m.busy > 0
			items = append(items, container.NewBorder(nil, nil, nil, retry, ui.Para(text)))
		}
		pl := ui.NewPagedList(m.tr, items, 5, 1, m.queuePage)
		pl.OnPage = func(n int) { m.queuePage = n }
		list = pl
	}
	return container.NewBorder(container.NewVBox(lines...), nil, nil, nil, container.NewBorder(title, nil, nil, nil, list))
}

// syncNow makes every submission waiting out a backoff due, then wakes the
// engine, as `onedoor sync now` does.
func (m *Mode) syncNow() {
	if m.d.Syncer == nil || m.busy > 0 {
		return
	}
	m.run(func(ctx context.Context) func() {
		var due []string
		var err error
		if m.d.Queue != nil {
			due, err = m.d.Queue.DueNow(ctx, m.d.Now())
		}
		m.d.Syncer.Nudge()
		return func() {
			m.audit(EventRetry, fmt.Sprintf("sync now, %d made due", len(due)))
			if err != nil {
				m.say(m.tr.T("tech.failed", err.Error()), true)
			} else {
				m.say(m.tr.T("tech.queue.sync_started", len(due)), false)
			}
			m.loadStats()
		}
	})
}

func (m *Mode) retryAll() {
	if m.stats != nil {
		m.retry(m.stats.Failed)
	}
}

// retry puts rejected submissions back in the queue and wakes the engine;
// pending ones that failed are already queued, so waking the engine is
// their retry.
func (m *Mode) retry(items []outbox.Failure) {
	if m.d.Queue == nil || m.busy > 0 {
		return
	}
	m.run(func(ctx context.Context) func() {
		n := 0
		var firstErr error
		for _, f := range items {
			if f.State != outbox.StateRejected {
				n++
				continue
			}
			if err := m.d.Queue.Requeue(ctx, f.UUID); err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			n++
		}
		if m.d.Syncer != nil {
			m.d.Syncer.Nudge()
		}
		return func() {
			m.audit(EventRetry, fmt.Sprintf("requeued %d of %d", n, len(items)))
			if firstErr != nil {
				m.say(m.tr.T("tech.failed", firstErr.Error()), true)
			} else {
				m.say(m.tr.T("tech.queue.retried", n), false)
			}
			m.loadStats()
		}
	})
}
