package app

import (
	"strings"
	"testing"
	"time"

	"onedoor/kiosk/catalog"
	"onedoor/kiosk/flow"
	"onedoor/kiosk/ui/uitest"
	"onedoor/pii"
)

// The principal a 代办 agent types: fictional, 86 or older for any date
// this code will run on, hukou in Dongguan by the number's region code.
const (
	principalName = "李明"
	principalID   = "441900194001011239"
)

// typeHan types pinyin on the keypad and picks han among the candidates,
// paging through them as a resident would.
func (r *rig) typeHan(pinyin string, han rune) {
	r.t.Helper()
	r.typeKeys(pinyin)
	for range 20 {
		if b := uitest.FindButton(r.win.Content(), string(han)); b != nil {
			r.res.TapButton(b)
			r.q.drain()
			return
		}
		r.tap(">")
	}
	r.t.Fatalf("%c not among the candidates of %q", han, pinyin)
}

// TestAgentPathRecordsBothPeople: on the 代办 path the agent's card is read
// and the principal's name and number typed; both people are on the review
// screen, on the receipt screen and the printed receipt (marked 代办), in
// the outbox's stored submission as the platform received it, and the
// hukou and age rules are judged on the principal, not the agent.
func TestAgentPathRecordsBothPeople(t *testing.T) {
	r := newRig(t)
	r.startPensionCert()
	r.waitStep(flow.StepIdentify)
	r.tap("为他人代办")
	if err := r.demo.Card.Place("resident"); err != nil { // the agent's own card
		t.Fatal(err)
	}
	r.settle("agent's card read", 20*time.Second, func() bool { return r.state().AgentRead && !r.app.Busy() })
	contains(t, "principal form", r.screen(), "代办人：王*梅")
	r.tapField("principal_name")
	r.typeHan("li", '李')
	r.typeHan("ming", '明')
	r.tapField("principal_id")
	r.typeKeys(principalID)
	r.tap("确定")
	r.waitStep(flow.StepEligibility)
	r.tap("我符合以上条件")
	r.waitStep(flow.StepForm)
	r.typeKeys(phone)
	r.tap("下一步")
	r.waitStep(flow.StepMaterials)
	r.tap("下一步")
	r.waitStep(flow.StepReview)
	review := uitest.JoinedAll(r.win.Content())
	contains(t, "review", review, pii.MaskName(principalName), pii.MaskID(principalID), "代办人", pii.MaskName(residentName), residentMasked)
	r.tapContaining("我已阅读")
	r.tap("确认提交")
	r.waitStep(flow.StepReceipt)
	receipt := r.state().Receipt.Number
	r.settle("receipt printed", 20*time.Second, func() bool { return r.state().Printed })
	contains(t, "receipt screen", r.screen(), pii.MaskName(principalName), "代办人", pii.MaskName(residentName))
	page, ok := r.demo.LastReceipt()
	if !ok {
		t.Fatal("nothing printed")
	}
	contains(t, "printed receipt", page.Text, "代办", pii.MaskName(principalName), pii.MaskID(principalID), pii.MaskName(residentName), residentMasked)
	for _, full := range []string{principalID, residentID, residentName} {
		if strings.Contains(page.Text, full) || strings.Contains(review, full) {
			t.Errorf("%q unmasked on the receipt or the review screen", full)
		}
	}

	// The outbox committed both people, and the platform received it.
	sub, ok := r.stored.submission(receipt)
	if !ok {
		t.Fatal("the outbox committed no submission under the receipt number")
	}
	if sub.Applicant.IDNumber != principalID || sub.Applicant.Name != principalName {
		t.Errorf("stored applicant %s %s, want the principal", pii.MaskName(sub.Applicant.Name), pii.MaskID(sub.Applicant.IDNumber))
	}
	if sub.Agent == nil || sub.Agent.IDNumber != residentID || sub.Agent.Name != residentName {
		t.Errorf("stored agent present %v, want the card holder", sub.Agent != nil)
	}
	if rec, err := r.stack.Store.Lookup(t.Context(), receipt); err != nil || rec.MaskedName != pii.MaskName(principalName) {
		t.Errorf("outbox record %+v (%v), want the principal's masked name", rec, err)
	}
	r.waitExported(receipt)
}

// TestIneligibleStopped: for each kind of rule, a resident whose card fails
// it is stopped right after the card read, before typing anything, with
// the failing condition named, what the kiosk found, and where to go.
func TestIneligibleStopped(t *testing.T) {
	tests := []struct {
		name, theme, item, card string
		// tune adapts the sample catalog for rule kinds its items do not
		// use with the simulator's cards.
		tune      func(r *rig, c *catalog.Catalog)
		condition string // the failing condition's text
		found     string // what the kiosk found
		goTo      string // where to go instead
	}{
		{name: "age", theme: "养老与助残", item: "高龄老人津贴申领", card: "resident",
			condition: "不符合：年满80周岁", found: "您现在", goTo: "居委会"},
		{name: "hukou by card address", theme: "生育与家庭", item: "独生子女父母计划生育奖励申请", card: "elder",
			condition: "不符合：本市（东莞市）户籍", found: "身份证住址不在本市", goTo: "户籍所在地"},
		{name: "hukou by ID region code", theme: "生育与家庭", item: "独生子女父母计划生育奖励申请", card: "elder",
			tune: func(r *rig, c *catalog.Catalog) {
				rule := findRule(r.t, c, "fm-one-child-award", catalog.RuleHukou)
				rule.Source, rule.Region, rule.AddressPrefix = catalog.SourceIDNumber, "4419", ""
			},
			condition: "不符合：本市（东莞市）户籍", found: "身份证号码的地区码不是本市的", goTo: "户籍所在地"},
		{name: "card validity", theme: "养老与助残", item: "困难残疾人生活补贴和重度残疾人护理补贴申请", card: "resident",
			tune: func(r *rig, c *catalog.Catalog) {
				// The card must stay valid 30 days beyond its real end
				// (2040-03-01), counted from the rig's clock.
				end := time.Date(2040, 3, 1, 0, 0, 0, 0, time.UTC)
				findRule(r.t, c, "ed-disability-subsidy", catalog.RuleCardValid).Days = int(end.Sub(r.clock.Now()).Hours()/24) + 30
			},
			condition: "不符合：身份证在有效期内", found: "身份证有效期至 2040-03-01", goTo: "请到"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRigWith(t, func(r *rig, _ *Settings) {
				if tc.tune != nil {
					tc.tune(r, r.cat)
				}
			})
			r.tap("我要办事")
			r.tap(tc.theme)
			r.tap(tc.item)
			r.tap("开始办理")
			r.waitStep(flow.StepIdentify)
			if err := r.demo.Card.Place(tc.card); err != nil {
				t.Fatal(err)
			}
			r.waitStep(flow.StepEligibility)
			st := r.state()
			if !st.Ineligible {
				t.Fatalf("not stopped: %+v", st.Eligibility)
			}
			screen := uitest.JoinedAll(r.win.Content())
			contains(t, "eligibility screen", screen, tc.condition, tc.found, tc.goTo, "不能在本机申请")
			if b := uitest.FindButton(r.win.Content(), "下一步"); b != nil {
				t.Error("a forward button is offered past a failed condition")
			}
			if b := uitest.FindButton(r.win.Content(), "我符合以上条件"); b != nil {
				t.Error("conditions can be confirmed past a failed one")
			}
			if n := len(uitest.Fields(r.win.Content())); n != 0 {
				t.Errorf("%d input boxes before the conditions are met", n)
			}
			if r.res.Count.Typed != 0 {
				t.Errorf("%d characters typed before being stopped", r.res.Count.Typed)
			}
		})
	}
}

func findRule(t *testing.T, c *catalog.Catalog, item string, kind catalog.RuleKind) *catalog.Rule {
	t.Helper()
	for i := range c.Items {
		if c.Items[i].ID != item {
			continue
		}
		for j := range c.Items[i].Eligibility {
			if c.Items[i].Eligibility[j].Kind == kind {
				return &c.Items[i].Eligibility[j]
			}
		}
	}
	t.Fatalf("%s has no %s rule", item, kind)
	return nil
}

// TestPrinterWarningBeforeApplying: with the printer out of paper, the
// item's guide says so before the application starts, and what happens
// instead; with paper it says nothing.
func TestPrinterWarningBeforeApplying(t *testing.T) {
	r := newRig(t)
	open := func() string {
		r.tap("我要办事")
		r.tap("城乡居民养老保险待遇领取资格认证")
		r.waitStep(flow.StepGuide)
		return r.screen()
	}
	if s := open(); strings.Contains(s, "打印机暂时不能打印") {
		t.Fatalf("warning with paper in the printer:\n%s", s)
	}
	r.tap("返回")
	r.tap("返回")
	r.demo.Printer.SetPaperLeft(0)
	s := open()
	contains(t, "guide with the printer out of paper", s, "打印机暂时不能打印（缺纸）", "记下屏幕上的办件编号")
	if uitest.FindButton(r.win.Content(), "开始办理") == nil {
		t.Error("the application cannot start without a printer; it should, with the number on screen")
	}
}
