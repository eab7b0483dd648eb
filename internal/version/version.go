// Package version says which build a binary is: set at link time
// (-ldflags "-X …/internal/version.version=1.2.0 -X …/internal/version.commit=abc123"),
// else read from the Go toolchain's build information.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

var (
	version = "dev"
	commit  = ""
)

// Info is a build's identity.
type Info struct {
	Version, Commit, GoVersion string
}

// Get returns this binary's build.
var Get = sync.OnceValue(read)

func read() Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && i.Commit == "" {
				i.Commit = s.Value
			}
			if s.Key == "vcs.modified" && s.Value == "true" && i.Commit != "" && commit == "" {
				i.Commit += "-dirty"
			}
		}
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}

// String is the line --version prints.
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, %s)", i.Version, i.Commit, i.GoVersion)
}

// Requested reports whether a command line asks for the build: its first
// argument is --version (or -version). ("migrate version" is the schema's.)
func Requested(args []string) bool {
	return len(args) > 0 && (args[0] == "--version" || args[0] == "-version")
}
