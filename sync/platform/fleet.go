package platform

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// FleetRules say when a kiosk needs someone's attention. Zero fields take
// the defaults below.
type FleetRules struct {
	// SilentAfter: no heartbeat for this long raises "silent". Kiosks send
	// one every 5 minutes, so the default of 20 minutes is three missed
	// beats plus slack for a slow village link.
	SilentAfter time.Duration
	// QueueMaxAge: the oldest undelivered submission may wait this long
	// (default 24 h, as on the kiosk: a village link is up once a day).
	QueueMaxAge time.Duration
	// MinFreeDisk: less free space on the kiosk's data disk raises
	// "disk" (default 500 MB: a few days of scans).
	MinFreeDisk int64
}

// Fleet defaults.
const (
	DefaultSilentAfter = 20 * time.Minute
	DefaultQueueMaxAge = 24 * time.Hour
	DefaultMinFreeDisk = 500 << 20
)

func (r FleetRules) withDefaults() FleetRules {
	if r.SilentAfter <= 0 {
		r.SilentAfter = DefaultSilentAfter
	}
	if r.QueueMaxAge <= 0 {
		r.QueueMaxAge = DefaultQueueMaxAge
	}
	if r.MinFreeDisk <= 0 {
		r.MinFreeDisk = DefaultMinFreeDisk
	}
	return r
}

// Alert kinds.
const (
	AlertSilent      = "silent"       // no heartbeat for longer than SilentAfter
	AlertNeverSeen   = "never_seen"   // registered, no heartbeat yet
	AlertPaperOut    = "paper_out"    // printer out of paper
	AlertPaperLow    = "paper_low"    // paper near end (warning)
	AlertQueueOld    = "queue_old"    // oldest queued submission older than QueueMaxAge
	AlertDiskLow     = "disk_low"     // free disk below MinFreeDisk
	AlertDeviceError = "device_error" // a device reports an error or is absent
)

// Alert is one reason to look at a kiosk.
type Alert struct {
	Kind    string
	Message string // Chinese, for back-office staff
	Warning bool   // worth knowing, not yet stopping service
}

// FleetRow is one kiosk on the fleet page.
type FleetRow struct {
	KioskInfo
	Alerts []Alert
	// SilentFor is how long since the last heartbeat (0 if never).
	SilentFor time.Duration
}

// AlertKinds lists the row's alert kinds, space-separated, for page markup
// and tests.
func (r FleetRow) AlertKinds() string {
	k := make([]string, len(r.Alerts))
	for i, a := range r.Alerts {
		k[i] = a.Kind
	}
	return strings.Join(k, " ")
}

// Fleet evaluates the rules on every kiosk's last heartbeat at now. Rows
// with alerts come first (most alerts first), then by kiosk ID.
func Fleet(kiosks []KioskInfo, now time.Time, rules FleetRules) []FleetRow {
	rules = rules.withDefaults()
	rows := make([]FleetRow, 0, len(kiosks))
	for _, k := range kiosks {
		row := FleetRow{KioskInfo: k}
		add := func(kind, msg string, warn bool) {
			row.Alerts = append(row.Alerts, Alert{Kind: kind, Message: msg, Warning: warn})
		}
		hb := k.Heartbeat
		if hb == nil || k.LastSeen.IsZero() {
			add(AlertNeverSeen, "尚未收到心跳（终端未开机或未配置平台地址）", false)
			rows = append(rows, row)
			continue
		}
		row.SilentFor = max(0, now.Sub(k.LastSeen))
		if row.SilentFor > rules.SilentAfter {
			add(AlertSilent, fmt.Sprintf("已失联 %s（超过 %s 无心跳）", fmtDur(row.SilentFor), fmtDur(rules.SilentAfter)), false)
		}
		printerState := hb.Devices["printer"]
		if hb.PaperOut || mentionsPaperOut(printerState) {
			add(AlertPaperOut, "打印机缺纸，无法打印回执", false)
		} else if hb.PaperNearEnd {
			add(AlertPaperLow, "打印纸即将用完", true)
		}
		if hb.QueueDepth > 0 && time.Duration(hb.OldestAgeSeconds)*time.Second > rules.QueueMaxAge {
			add(AlertQueueOld, fmt.Sprintf("%d 件待发送，最早的已等待 %s", hb.QueueDepth, fmtDur(time.Duration(hb.OldestAgeSeconds)*time.Second)), false)
		}
		if hb.FreeDiskBytes > 0 && hb.FreeDiskBytes < rules.MinFreeDisk {
			add(AlertDiskLow, fmt.Sprintf("磁盘剩余 %d MB", hb.FreeDiskBytes>>20), false)
		}
		devs := make([]string, 0, len(hb.Devices))
		for d := range hb.Devices {
			devs = append(devs, d)
		}
		sort.Strings(devs)
		for _, d := range devs {
			st := hb.Devices[d]
			if st == "ok" || (d == "printer" && mentionsPaperOut(st)) {
				continue
			}
			add(AlertDeviceError, fmt.Sprintf("设备 %s：%s", d, st), false)
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if len(rows[i].Alerts) != len(rows[j].Alerts) {
			return len(rows[i].Alerts) > len(rows[j].Alerts)
		}
		return rows[i].ID < rows[j].ID
	})
	return rows
}

func mentionsPaperOut(state string) bool {
	s := strings.ToLower(state)
	return strings.Contains(s, "out of paper") || strings.Contains(s, "paper out") || strings.Contains(s, "paper end")
}

// fmtDur writes a duration as staff read it: 3 天 2 小时, 25 分钟.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d 天 %d 小时", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%d 小时 %d 分钟", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%d 分钟", int(d.Minutes()))
	}
	return fmt.Sprintf("%d 秒", int(d.Seconds()))
}
