package main

import (
	"context"
	"fmt"
	"io"
)

// Placeholder until its issue lands: says so plainly and exits with a usage error.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "onedoor: this command is not built yet")
	return exitUsage
}
