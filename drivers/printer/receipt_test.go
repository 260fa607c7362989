package printer

import (
	"errors"
	"strings"
	"testing"

	"onedoor/drivers/escpos"
	"onedoor/drivers/sim"
	"onedoor/pii"
)

func TestMask(t *testing.T) {
	tests := []struct{ fn, in, want string }{
		{"id", "44190219900101123X", "4419**********123X"},
		{"id", "4419**********123X", "4419**********123X"}, // already masked stays so
		{"id", " 110101199003070011 ", "1101**********0011"},
		{"id", "12345678", "********"},
		{"id", "", ""},
		{"name", "张小明", "张*明"},
		{"name", "欧阳小明", "欧**明"},
		{"name", "李四", "李*"},
		{"name", "王", "*"},
		{"name", "张*明", "张*明"},
		{"name", "", ""},
	}
	for _, tc := range tests {
		got := pii.MaskName(tc.in)
		if tc.fn == "id" {
			got = pii.MaskID(tc.in)
		}
		if got != tc.want {
			t.Errorf("mask %s %q = %q, want %q", tc.fn, tc.in, got, tc.want)
		}
	}
}

func TestReceiptNeedsNumberAndItem(t *testing.T) {
	prof, _ := escpos.LoadProfile("")
	for _, r := range []Receipt{{Item: "x"}, {Number: "x"}, {Number: " ", Item: "x"}} {
		if _, err := r.Job(prof, nil); !errors.Is(err, ErrIncomplete) {
			t.Errorf("%+v: want ErrIncomplete, got %v", r, err)
		}
	}
}

// Every printed line of the receipt fits the paper, so the printer never
// wraps a line on its own, on 58 and 80 mm alike; and the full name and ID
// number never reach the printer.
func TestReceiptFitsPaper(t *testing.T) {
	rc := SampleReceipt()
	rc.Item = "因户籍迁移、婚姻状况变更等原因需要申请居民身份证换领补领及相关户籍信息变更登记（含集体户口）"
	rc.Footer = "本回执仅作受理凭证。Receipt only; keep it to track your application at https://zw.example.gov.cn/track"
	for _, name := range []string{"generic-80", "generic-58", "generic-80-noqr", "epson-tm-t88iii"} {
		t.Run(name, func(t *testing.T) {
			prof, err := escpos.LoadProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			job, err := rc.Job(prof, nil)
			if err != nil {
				t.Fatal(err)
			}
			w := 1
			width, lines := 0, 0
			check := func() {
				if width > prof.PaperWidthDots {
					t.Errorf("line %d is %d dots on %d-dot paper", lines, width, prof.PaperWidthDots)
				}
				width = 0
				lines++
			}
			text := []rune{}
			dec := sim.NewPOSDecoder(prof.Chinese != escpos.ChineseNone, prof.FourByteFont)
			dec.Feed(job.Bytes(), func(op sim.POSOp) {
				switch op.Kind {
				case sim.OpSize:
					w = op.W
				case sim.OpChar:
					width += escpos.HalfCellWidth * escpos.RuneColumns(op.Rune) * w
					text = append(text, op.Rune)
				case sim.OpPrint:
					check()
				case sim.OpRaster:
					width = op.W * 8
					check()
				}
			})
			if lines < 15 {
				t.Errorf("only %d lines", lines)
			}
			for _, secret := range []string{"张小明", "44190219900101123X"} {
				if containsRunes(text, secret) {
					t.Errorf("%q sent to the printer", secret)
				}
			}
		})
	}
}

func containsRunes(hay []rune, needle string) bool {
	n := []rune(needle)
	for i := 0; i+len(n) <= len(hay); i++ {
		if string(hay[i:i+len(n)]) == needle {
			return true
		}
	}
	return false
}

// TestReceiptAgentAndPromise: a 代办 receipt is marked and names the agent
// (masked), every written promise is printed in full, and in English mode
// the labels are English; nothing personal is printed unmasked.
func TestReceiptAgentAndPromise(t *testing.T) {
	promise := "本人承诺在本市有合法稳定住所，所填信息真实有效；如有不实，愿意承担相应法律责任，并同意撤销所办事项。"
	promiseEN := "I promise that I have a lawful and stable home in this city and that what I gave is true; if it is not, I accept the legal consequences and the cancellation of this application."
	for _, tc := range []struct {
		name    string
		english bool
		text    string
		want    []string
	}{
		{"zh", false, promise, []string{"【代办】", "代办人", "告知承诺", "李*伯"}},
		{"en", true, promiseEN, []string{"[Appliedforbyanagent代办]", "Agent:", "Writtenpromises", "Receiptno.:", "李*伯"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := SampleReceipt()
			rc.ApplicantName, rc.IDNumber = "李老伯", "441900194001011234"
			rc.AgentName, rc.AgentIDNumber = "张小明", "44190219900101123X"
			rc.English = tc.english
			if tc.english {
				rc.Title, rc.Footer = "", "Keep this receipt to check progress."
			}
			rc.Promises = []Promise{{Material: "住所证明", Text: tc.text}}
			prof, err := escpos.LoadProfile("generic-58")
			if err != nil {
				t.Fatal(err)
			}
			job, err := rc.Job(prof, nil)
			if err != nil {
				t.Fatal(err)
			}
			var text []rune
			dec := sim.NewPOSDecoder(prof.Chinese != escpos.ChineseNone, prof.FourByteFont)
			dec.Feed(job.Bytes(), func(op sim.POSOp) {
				if op.Kind == sim.OpChar && op.Rune != ' ' {
					text = append(text, op.Rune)
				}
			})
			for _, w := range append(tc.want, strings.ReplaceAll(tc.text, " ", "")) {
				if !containsRunes(text, w) {
					t.Errorf("receipt lacks %q:\n%s", w, string(text))
				}
			}
			for _, secret := range []string{"张小明", "44190219900101123X", "李老伯", "441900194001011234"} {
				if containsRunes(text, secret) {
					t.Errorf("%q sent to the printer", secret)
				}
			}
			if tc.english && containsRunes(text, "回执编号") {
				t.Error("English receipt has Chinese labels")
			}
		})
	}
}
