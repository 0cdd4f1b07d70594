package player

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	saved := [3]string{Version, Commit, BuildDate}
	t.Cleanup(func() { Version, Commit, BuildDate = saved[0], saved[1], saved[2] })

	tests := []struct {
		name                   string
		version, commit, built string
		wantSecond             string // prefix of the second line
	}{
		{"stamped", "1.4.0", "7197ac6", "2026-11-29T21:36:28Z", "commit 7197ac6, built 2026-11-29T21:36:28Z, go"},
		{"plain go build", "0.1.0-dev", "", "", "commit unknown, built unknown, go"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			Version, Commit, BuildDate = tt.version, tt.commit, tt.built
			lines := strings.Split(VersionText(), "\n")
			// The launcher reads the first line as the version's
			// directory name: nothing else may be on it.
			if len(lines) != 3 || lines[2] != "" {
				t.Fatalf("VersionText() = %q, want two lines ending in a newline", VersionText())
			}
			if lines[0] != tt.version {
				t.Errorf("first line %q, want %q", lines[0], tt.version)
			}
			if !strings.HasPrefix(lines[1], tt.wantSecond) {
				t.Errorf("second line %q, want it to start with %q", lines[1], tt.wantSecond)
			}
			if want := " " + runtime.GOOS + "/" + runtime.GOARCH; !strings.Contains(lines[1], want) {
				t.Errorf("second line %q does not name the platform (%q)", lines[1], want)
			}
		})
	}
}
