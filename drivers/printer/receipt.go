package printer

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"onedoor/drivers/escpos"
	"onedoor/pii"
)

// Receipt is what a resident takes home after submitting an application.
// Name and ID number may be given in full: the layout masks them, since the
// paper leaves the building.
type Receipt struct {
	Title  string // e.g. 受理回执
	Number string // receipt number, {kiosk}-{yyyymmdd}-{seq}
	// LookupCode is the receipt's lookup code as printed (XXXXX-XXXXX):
	// typed with the number at any kiosk, it proves the receipt is the
	// resident's. Printed in bold under the number.
	LookupCode    string
	Item          string // service item name
	ApplicantName string
	IDNumber      string
	Materials     []string // materials received
	Promised      time.Time
	TrackingURL   string // encoded in the QR code
	Site          string // service centre
	Time          time.Time
	Footer        string
	// AgentName and AgentIDNumber are the 代办 agent's, who applied for
	// the applicant; the receipt is then marked 代办. Masked like the
	// applicant's.
	AgentName     string
	AgentIDNumber string
	// Promises are the written promises (告知承诺) the applicant made
	// instead of materials, printed in full: the receipt is their copy.
	Promises []Promise
	// English prints the labels in English (the resident used the kiosk
	// in English); the caller gives values in English where it has them.
	English bool
}

// Promise is one 告知承诺: what it replaces and its whole text.
type Promise struct {
	Material string
	Text     string
}

// receiptLabels are a receipt's fixed words in one language.
type receiptLabels struct {
	title, agentMark, number, item, applicant, id, agent, agentID, materials,
	promises, promised, dateFormat, at, scan, code string
}

var (
	labelsZH = receiptLabels{title: "受理回执", agentMark: "【代办】", number: "回执编号：", item: "办理事项：",
		applicant: "申 请 人：", id: "证件号码：", agent: "代 办 人：", agentID: "代办人证件：", materials: "已收材料：",
		promises: "告知承诺（申请人已阅读并承诺）：", promised: "承诺办结：", dateFormat: "2006年01月02日", at: "受理时间：",
		scan: "微信或支付宝扫码查询办理进度", code: "查 询 码："}
	labelsEN = receiptLabels{title: "Application receipt 受理回执", agentMark: "[Applied for by an agent 代办]",
		number: "Receipt no.: ", item: "Service: ", applicant: "Applicant: ", id: "ID number: ", agent: "Agent: ",
		agentID: "Agent's ID: ", materials: "Materials received:", promises: "Written promises (read and accepted):",
		promised: "Due by: ", dateFormat: "2 Jan 2006", at: "Accepted: ", scan: "Scan to check progress",
		code: "Lookup code: "}
)

// ErrIncomplete is returned for a receipt missing what a resident needs to
// follow up: the number and the item.
var ErrIncomplete = errors.New("printer: receipt lacks number or item")

// Job lays the receipt out for profile p: a large centred title, labelled
// fields wrapped to the paper's columns with a hanging indent, the numbered
// materials, the tracking QR code and the footer, then a cut.
func (r Receipt) Job(p escpos.Profile, g *escpos.Glyphs) (escpos.Job, error) {
	if strings.TrimSpace(r.Number) == "" || strings.TrimSpace(r.Item) == "" {
		return escpos.Job{}, ErrIncomplete
	}
	cols := p.Columns
	lb := labelsZH
	if r.English {
		lb = labelsEN
	}
	b := escpos.NewBuilder(p, g)
	b.Init()
	title := r.Title
	if title == "" {
		title = lb.title
	}
	// Double size halves the columns; 58 mm paper fits 8 Chinese characters.
	b.Align(escpos.AlignCenter).Bold(true).Size(2, 2)
	for _, l := range escpos.Wrap(title, cols/2) {
		b.Line(l)
	}
	b.Size(1, 1).Bold(false)
	byAgent := strings.TrimSpace(r.AgentName) != "" || strings.TrimSpace(r.AgentIDNumber) != ""
	if byAgent {
		b.Bold(true).Line(lb.agentMark).Bold(false)
	}
	if r.Site != "" {
		for _, l := range escpos.Wrap(r.Site, cols) {
			b.Line(l)
		}
	}
	b.Align(escpos.AlignLeft).Line(escpos.Rule(cols))
	field := func(label, value string) {
		if strings.TrimSpace(value) == "" {
			return
		}
		for _, l := range escpos.Labelled(label, value, cols) {
			b.Line(l)
		}
	}
	b.Bold(true)
	field(lb.number, r.Number)
	field(lb.code, r.LookupCode)
	b.Bold(false)
	field(lb.item, r.Item)
	field(lb.applicant, pii.MaskName(r.ApplicantName))
	field(lb.id, pii.MaskID(r.IDNumber))
	if byAgent {
		field(lb.agent, pii.MaskName(r.AgentName))
		field(lb.agentID, pii.MaskID(r.AgentIDNumber))
	}
	if len(r.Materials) > 0 {
		b.Line(lb.materials)
		for i, m := range r.Materials {
			for _, l := range escpos.Labelled(fmt.Sprintf("  %d. ", i+1), m, cols) {
				b.Line(l)
			}
		}
	}
	if len(r.Promises) > 0 {
		b.Line(escpos.Rule(cols))
		b.Line(lb.promises)
		for _, pr := range r.Promises {
			b.Bold(true)
			for _, l := range escpos.Wrap(pr.Material, cols) {
				b.Line(l)
			}
			b.Bold(false)
			for _, l := range escpos.Wrap(pr.Text, cols) {
				b.Line(l)
			}
		}
		b.Line(escpos.Rule(cols))
	}
	if !r.Promised.IsZero() {
		field(lb.promised, r.Promised.Format(lb.dateFormat))
	}
	if !r.Time.IsZero() {
		field(lb.at, r.Time.Format("2006-01-02 15:04"))
	}
	b.Line(escpos.Rule(cols))
	if r.TrackingURL != "" {
		b.QR(r.TrackingURL, escpos.QRLevelM)
		b.Align(escpos.AlignCenter).Line(lb.scan)
		b.Align(escpos.AlignLeft)
	}
	if r.Footer != "" {
		for _, l := range escpos.Wrap(r.Footer, cols) {
			b.Line(l)
		}
	}
	b.Feed(1).Cut()
	return b.Build()
}

// SampleReceipt is the fictional receipt of `onedoor devices print-test`
// and of the tests; nobody real is named in it.
func SampleReceipt() Receipt {
	at := time.Date(2026, 11, 25, 14, 30, 0, 0, time.FixedZone("CST", 8*3600))
	return Receipt{
		Title:         "一门通 受理回执",
		Number:        "GZ0001-20261125-0042",
		LookupCode:    "7K3QD-M9XTA",
		Item:          "居民身份证换领（有效期满换证）及户籍信息变更登记",
		ApplicantName: "张小明",
		IDNumber:      "44190219900101123X",
		Materials:     []string{"居民身份证原件", "户口簿首页及本人页复印件", "近期免冠彩色照片（回执）"},
		Promised:      at.AddDate(0, 0, 15),
		TrackingURL:   "https://zw.example.gov.cn/track/GZ0001-20261125-0042",
		Site:          "示例市政务服务中心 · 一楼自助区",
		Time:          at,
		Footer:        "请妥善保管本回执，凭回执编号或扫码查询进度。咨询电话：12345",
	}
}
