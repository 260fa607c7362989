// Command mkicon draws the OneDoor app icon (assets/icons/onedoor.png): an
// open door on the red of government service halls, with 一门通 below it in
// the embedded CJK font. It is committed as a PNG; rerun this only to
// change it:
//
//	go run ./build/deploy/mkicon -o assets/icons/onedoor.png
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"onedoor/assets"
)

func main() {
	out := flag.String("o", "assets/icons/onedoor.png", "output PNG")
	size := flag.Int("size", 512, "width and height in pixels")
	flag.Parse()
	if err := draw1(*out, *size); err != nil {
		fmt.Fprintln(os.Stderr, "mkicon:", err)
		os.Exit(1)
	}
}

func draw1(path string, n int) error {
	red := color.RGBA{0xb7, 0x1c, 0x1c, 0xff}
	gold := color.RGBA{0xff, 0xd5, 0x4f, 0xff}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	// Rounded square: corners of radius n/8 left transparent.
	r := n / 8
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			cx, cy := min(max(x, r), n-1-r), min(max(y, r), n-1-r)
			if dx, dy := x-cx, y-cy; dx*dx+dy*dy <= r*r {
				img.Set(x, y, red)
			}
		}
	}
	// Door frame (white) and an open leaf (gold), upper two thirds.
	fill := func(x0, y0, x1, y1 int, c color.Color) {
		draw.Draw(img, image.Rect(x0*n/100, y0*n/100, x1*n/100, y1*n/100), image.NewUniform(c), image.Point{}, draw.Src)
	}
	fill(30, 12, 70, 62, white)
	fill(35, 17, 65, 62, red)
	for x := 35 * n / 100; x < 52*n/100; x++ { // the leaf, drawn in perspective
		t := float64(x-35*n/100) / float64(17*n/100)
		top := int((17 + 6*t) * float64(n) / 100)
		bot := int((62 - 4*t) * float64(n) / 100)
		for y := top; y < bot; y++ {
			img.Set(x, y, gold)
		}
	}
	fill(47, 38, 49, 42, red) // handle
	f, err := opentype.Parse(assets.CJKFont)
	if err != nil {
		return err
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(n) * 0.16, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return err
	}
	defer face.Close()
	text := "一门通"
	d := &font.Drawer{Dst: img, Src: image.NewUniform(white), Face: face}
	w := d.MeasureString(text)
	d.Dot = fixed.Point26_6{X: (fixed.I(n) - w) / 2, Y: fixed.I(n * 86 / 100)}
	d.DrawString(text)
	fo, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(fo, img); err != nil {
		fo.Close()
		return err
	}
	return fo.Close()
}
