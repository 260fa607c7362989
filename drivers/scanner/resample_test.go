package scanner

import (
	"image"
	"image/color"
	"math"
	"testing"
)

func TestSpansCoverTheSource(t *testing.T) {
	tests := []struct{ n, m int }{{10, 10}, {10, 5}, {1654, 1241}, {2339, 1754}, {7, 3}, {3, 1}}
	for _, tc := range tests {
		sp := spans(tc.n, tc.m)
		used := make([]float64, tc.n) // how much of each source pixel is used
		for d, s := range sp {
			var sum float64
			for j, w := range s.w {
				sum += float64(w)
				used[s.start+j] += float64(w) * float64(tc.n) / float64(tc.m)
			}
			if math.Abs(sum-1) > 1e-5 {
				t.Errorf("%d→%d: weights of %d sum to %v", tc.n, tc.m, d, sum)
			}
		}
		for i, u := range used {
			if math.Abs(u-1) > 1e-4 {
				t.Errorf("%d→%d: source pixel %d used %.5f times, want 1", tc.n, tc.m, i, u)
			}
		}
	}
}

func TestDownscale(t *testing.T) {
	checker := image.NewGray(image.Rect(0, 0, 40, 40))
	for y := range 40 {
		for x := range 40 {
			if (x+y)%2 == 0 {
				checker.SetGray(x, y, color.Gray{255})
			}
		}
	}
	half := image.NewRGBA(image.Rect(0, 0, 30, 20)) // left red, right blue
	for y := range 20 {
		for x := range 30 {
			c := color.RGBA{200, 0, 0, 255}
			if x >= 15 {
				c = color.RGBA{0, 0, 200, 255}
			}
			half.SetRGBA(x, y, c)
		}
	}
	tests := []struct {
		name  string
		src   image.Image
		w, h  int
		grey  bool
		check func(t *testing.T, img image.Image)
	}{
		{"checkerboard averages to mid-grey", checker, 20, 20, true, func(t *testing.T, img image.Image) {
			for _, v := range img.(*image.Gray).Pix {
				if v < 127 || v > 128 {
					t.Fatalf("pixel %d, want 127 or 128", v)
				}
			}
		}},
		{"non-integer ratio keeps the mean", checker, 13, 13, true, func(t *testing.T, img image.Image) {
			var sum int
			g := img.(*image.Gray)
			for _, v := range g.Pix {
				sum += int(v)
			}
			if mean := float64(sum) / float64(len(g.Pix)); math.Abs(mean-127.5) > 2 {
				t.Fatalf("mean %.1f, want about 127.5", mean)
			}
		}},
		{"colour halves stay apart", half, 10, 5, false, func(t *testing.T, img image.Image) {
			m := img.(*image.RGBA)
			if c := m.RGBAAt(0, 2); c.R != 200 || c.B != 0 {
				t.Errorf("left %v", c)
			}
			if c := m.RGBAAt(9, 2); c.R != 0 || c.B != 200 {
				t.Errorf("right %v", c)
			}
		}},
		{"colour to grey uses luma", half, 10, 5, true, func(t *testing.T, img image.Image) {
			if v := img.(*image.Gray).GrayAt(0, 0).Y; v != 60 { // 0.299 × 200
				t.Errorf("grey of red %d, want 60", v)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := downscale(tc.src, tc.w, tc.h, tc.grey)
			if b := img.Bounds(); b.Dx() != tc.w || b.Dy() != tc.h {
				t.Fatalf("bounds %v", b)
			}
			tc.check(t, img)
		})
	}
}
