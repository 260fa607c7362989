//go:build !race

package ui_test

// raceBuild is false: the tour matrices run in full (see race_on_test.go).
const raceBuild = false
