// Package assets embeds the files the kiosk ships with: the CJK font, printer
// profiles, the sample service catalog and its holiday calendar. Each kind of
// asset has its own file and accessor so that a newcomer can find where a
// file is read from.
package assets

import _ "embed"

// CJKFont is Droid Sans Fallback (Apache-2.0, from Debian's
// fonts-droid-fallback): one .ttf face covering GB2312 and most of GB18030's
// common characters. Fyne's theme cannot use a .ttc collection, so this single
// face is used by the UI theme and by the receipt and printer renderers.
//
//go:embed fonts/DroidSansFallbackFull.ttf
var CJKFont []byte
