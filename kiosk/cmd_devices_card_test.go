package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"onedoor/drivers/sim"
)

// startReader runs the ID-card simulator on a pty and returns its path.
func startReader(t *testing.T, baud int) (*sim.IDCard, string) {
	t.Helper()
	link := filepath.Join(t.TempDir(), "idcard")
	pt, err := sim.OpenPTY(link)
	if err != nil {
		t.Fatal(err)
	}
	s := sim.NewIDCard(sim.IDCardConfig{Baud: baud, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Serve(ctx, pt); close(done) }()
	t.Cleanup(func() { cancel(); <-done; pt.Close() })
	return s, link
}

func TestDevicesCard(t *testing.T) {
	s, link := startReader(t, 115200)
	slow, slowLink := startReader(t, 9600)
	slow.Place("elder")
	tests := []struct {
		name     string
		place    string
		args     []string
		code     int
		contains []string
		absent   []string
	}{
		{name: "json masked", place: "resident", args: []string{"--port", link, "--baud", "115200", "--json", "--wait", "5s"},
			code: exitOK, contains: []string{`"type":"resident"`, `"name":"王晓梅"`, `"sex":"女"`, `"nation":"汉"`,
				`"birth_date":"19900612"`, `"id_number":"4403**********0240"`, `"authority":"深圳市公安局南山分局"`,
				`"valid_from":"20200301"`, `"valid_to":"20400301"`, `"expired":false`},
			absent: []string{"440305199006120240"}},
		{name: "unmask", place: "resident", args: []string{"--port", link, "--baud", "115200", "--json", "--unmask"},
			code: exitOK, contains: []string{`"id_number":"440305199006120240"`}},
		{name: "type-specific fields", place: "hkmotw", args: []string{"--port", link, "--json"},
			code: exitOK, contains: []string{`"type":"hk_mo_tw"`, `"permit_number":"H87654321"`, `"issue_count":"01"`}},
		{name: "text output", place: "foreign2017", args: []string{"--port", link, "--baud", "115200"},
			code: exitOK, contains: []string{"SAMPLE JOHN TESTER", "USA1*******3456", "2017"}},
		{name: "expired still prints", place: "expired", args: []string{"--port", link, "--json"},
			code: exitOK, contains: []string{`"expired":true`}},
		{name: "baud discovered", args: []string{"--port", slowLink, "--json"},
			code: exitOK, contains: []string{`"valid_to":"长期"`, `"nation":"维吾尔"`}},
		{name: "no card", args: []string{"--port", link, "--baud", "115200", "--wait", "400ms"}, code: exitTimeout},
		{name: "invalid number", place: "badnumber", args: []string{"--port", link, "--json"}, code: exitDevice, absent: []string{"赵错号"}},
		{name: "missing port", args: []string{"--port", filepath.Join(t.TempDir(), "none"), "--baud", "9600"}, code: exitDevice},
		{name: "no port flag", args: []string{"--json"}, code: exitUsage},
		{name: "bad flag", args: []string{"--port", link, "--nonsense"}, code: exitUsage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.Remove()
			if tc.place != "" {
				s.Place(tc.place)
			}
			var out, errb bytes.Buffer
			code := run(context.Background(), append([]string{"devices", "card"}, tc.args...), &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tc.code, out.String(), errb.String())
			}
			for _, c := range tc.contains {
				if !strings.Contains(out.String(), c) {
					t.Errorf("stdout lacks %s:\n%s", c, out.String())
				}
			}
			for _, c := range tc.absent {
				if strings.Contains(out.String()+errb.String(), c) {
					t.Errorf("output shows %s", c)
				}
			}
			if tc.code == exitOK && strings.Contains(strings.Join(tc.args, " "), "--json") {
				var m map[string]any
				if err := json.Unmarshal(out.Bytes(), &m); err != nil {
					t.Fatalf("not one JSON object: %v", err)
				}
			}
		})
	}
}

func TestDevicesProbeListTrace(t *testing.T) {
	_, link := startReader(t, 38400)
	silent, err := sim.OpenPTY(filepath.Join(t.TempDir(), "silent"))
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"devices", "probe", link, silent.SlavePath}, &out, &errb)
	if code != exitOK || !strings.Contains(out.String(), "idcard  38400") || !strings.Contains(out.String(), "no device answered") {
		t.Fatalf("probe exit %d:\n%s%s", code, out.String(), errb.String())
	}

	out.Reset()
	code = run(context.Background(), []string{"devices", "probe", silent.SlavePath}, &out, &errb)
	if code != exitDevice {
		t.Fatalf("probe of a silent port: exit %d", code)
	}

	out.Reset()
	code = run(context.Background(), []string{"devices", "list", "--extra", link, "--extra", "/nonexistent/x"}, &out, &errb)
	if code != exitOK || !strings.Contains(out.String(), link+" -> /dev/pts/") || !strings.Contains(out.String(), "/nonexistent/x  (absent)") {
		t.Fatalf("list exit %d:\n%s", code, out.String())
	}

	out.Reset()
	code = run(context.Background(), []string{"devices", "trace", "--port", link, "--baud", "38400", "--send", "AAAAAA9669000311FFED", "--for", "500ms"}, &out, &errb)
	if code != exitOK || !strings.Contains(out.String(), "> 10 bytes") || !strings.Contains(out.String(), "aa aa aa 96 69 00 04 00  00 90 94") {
		t.Fatalf("trace exit %d:\n%s%s", code, out.String(), errb.String())
	}
	code = run(context.Background(), []string{"devices", "trace", "--port", link, "--send", "zz"}, &out, &errb)
	if code != exitUsage {
		t.Fatalf("bad hex: exit %d", code)
	}
}
