//go:build !linux

package cli

import (
	"errors"
	"os"
)

func createUnnamed(string) (*os.File, error) {
	return nil, errors.New("unnamed files are a Linux feature")
}

func linkUnnamed(*os.File, string) error { return errors.New("unnamed files are a Linux feature") }
