package assets

import _ "embed"

// SampleCatalog is the sample service catalog for a fictional town in
// Dongguan (schema of kiosk/catalog). It is demonstration data: agencies,
// codes and phone numbers are invented, and the file says so in its
// "sample" and "notice" fields. A kiosk in service uses the catalog pulled
// from the platform and falls back to this one only in demo mode.
//
//go:embed catalog/sample-dongguan.json
var SampleCatalog []byte

// Holidays is the working-day calendar (public holidays and make-up working
// days) used for promised completion dates, in the format read by
// catalog.ParseCalendar. It covers the years it lists and no others.
//
//go:embed catalog/holidays.json
var Holidays []byte
