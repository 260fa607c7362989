package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
)

// reviewScreen shows what will be submitted and asks for consent.
type reviewScreen struct {
	k *Kiosk
}

func (sc *reviewScreen) draw(s flow.State) fyne.CanvasObject {
	k := sc.k
	var lines []fyne.CanvasObject
	add := func(label, value string) {
		l := widget.NewLabel(label + k.colon() + value)
		l.Wrapping = fyne.TextWrapWord
		lines = append(lines, l)
	}
	add(k.tr.T("review.item"), k.itemName(s.Item))
	if s.Applicant != nil {
		add(k.tr.T("review.applicant"), s.Applicant.MaskedName)
		add(k.tr.T("review.id_number"), s.Applicant.MaskedID)
	}
	for _, f := range s.Fields {
		if f.Field.Prefill == catalog.PrefillName || f.Field.Prefill == catalog.PrefillIDNumber {
			continue // shown masked above
		}
		v := reviewValue(f)
		for _, o := range f.Field.Options {
			if o.Value == v {
				v = k.tr.Pick(o.Label, o.LabelEN)
			}
		}
		if v == "" {
			// An empty line after "预产期：" reads as something missing;
			// only optional fields can be empty here.
			v = k.tr.T("review.not_filled")
		}
		add(k.tr.Pick(f.Field.Label, f.Field.LabelEN), v)
	}
	for _, m := range s.Materials {
		if !m.Satisfied() {
			continue
		}
		t := k.tr.T(flow.ProvisionKey(m.How))
		if m.How == flow.ProvidedScan {
			// "1 page scanned" says how; "Scanned 1 page scanned" did not
			// read.
			t = k.tr.T("materials.pages", len(m.Pages))
		}
		if m.How == flow.ProvidedECert && m.Cert != nil {
			t += " " + m.Cert.NumberMasked // which certificate (issue 13)
		}
		add(k.tr.Pick(m.Material.Name, m.Material.NameEN), t)
	}
	if s.Applicant != nil && s.Applicant.ByAgent {
		add(k.tr.T("review.agent"), s.Applicant.AgentMaskedName+" "+s.Applicant.AgentMaskedID)
	}
	consentStyle := StyleNormal
	mark := "☐ "
	if s.Consent {
		consentStyle, mark = StyleChosen, "☑ "
	}
	consent := NewStyledButton(mark+k.tr.T("review.consent"), consentStyle, func() {
		k.dispatch(flow.SetConsent{Agreed: !k.state.Consent})
	})
	// Consent only once the whole notice has been on screen.
	consent.Disabled = !s.NoticeShown
	bottom := consent
	var notice []fyne.CanvasObject
	notice = append(notice, subheading(k.tr.T("review.notice_title")))
	for _, p := range sc.notice(s) {
		notice = append(notice, para(p))
	}
	var body fyne.CanvasObject
	if s.ElderMode {
		// One column in elder mode: the notice closes the list.
		k.noticeList = k.paged("review", append(lines, notice...), 12, 1)
		body = k.noticeList
	} else {
		k.noticeList = k.paged("notice", notice, 12, 1)
		body = container.NewGridWithColumns(2, k.paged("review", lines, 12, 1), k.noticeList)
	}
	if !s.NoticeShown {
		return container.NewBorder(nil, container.NewVBox(para(k.tr.T("review.notice_more")), bottom), nil, nil, body)
	}
	return container.NewBorder(nil, bottom, nil, nil, body)
}

// notice is the personal-information notice, paragraph by paragraph,
// generated from the settings: what the kiosk keeps and for how long, who
// receives the data.
func (sc *reviewScreen) notice(s flow.State) []string {
	k := sc.k
	platform := k.opts.PlatformName
	if platform == "" {
		platform = k.tr.T("review.platform_default")
	}
	agency := ""
	if s.Item != nil {
		agency = k.agency(s.Item)
	}
	days := k.opts.RetentionDays
	if days <= 0 {
		days = DefaultRetentionDays
	}
	return []string{
		k.tr.T("review.notice_collect"),
		k.tr.T("review.notice_purpose", k.itemName(s.Item)),
		k.tr.T("review.notice_recipient", platform, agency),
		k.tr.T("review.notice_kiosk", days),
		k.tr.T("review.notice_rights"),
	}
}

// DefaultRetentionDays is the kiosk's retention when Options do not say
// (kiosk/config's default).
const DefaultRetentionDays = 7
