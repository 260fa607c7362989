package escpos_test

import (
	"fmt"

	"onedoor/drivers/escpos"
)

// A job for the default 80 mm profile: Chinese text goes out as GB18030,
// the QR natively; a profile without GS ( k would get a raster image.
func ExampleBuilder() {
	prof, err := escpos.LoadProfile("generic-80")
	if err != nil {
		panic(err)
	}
	job, err := escpos.NewBuilder(prof, nil).
		Init().
		Align(escpos.AlignCenter).Size(2, 2).Line("回执").
		Size(1, 1).Align(escpos.AlignLeft).
		Line("No. A1").
		Cut().
		Build()
	if err != nil {
		panic(err)
	}
	fmt.Printf("% X\n", job.Bytes())
	// Output:
	// 1B 40 1C 26 1B 61 01 1D 21 11 BB D8 D6 B4 0A 1D 21 00 1B 61 00 4E 6F 2E 20 41 31 0A 1D 56 42 00
}
