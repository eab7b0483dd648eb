// Package config reads settings from the environment and flags. Secrets can
// come from a file named by NAME_FILE (Docker and Kubernetes secrets), and
// are never echoed back.
package config

import (
	"fmt"
	"os"
	"strings"
)

// Secret reads a secret from the environment variable name, or from the file
// named by name_FILE. Setting both is an error, so a stale value cannot
// silently win. Trailing newlines of a file are dropped.
func Secret(name string) (string, error) {
	value, hasValue := os.LookupEnv(name)
	path, hasFile := os.LookupEnv(name + "_FILE")
	switch {
	case hasValue && hasFile && value != "" && path != "":
		return "", fmt.Errorf("both %s and %s_FILE are set; use one", name, name)
	case hasFile && path != "":
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return value, nil
}
