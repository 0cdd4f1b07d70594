package web

import (
	"io/fs"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

// catalogueKey matches a key of a message catalogue: a quoted dotted name
// followed by a colon, at the start of an entry.
var catalogueKey = regexp.MustCompile(`(?:^\s*|[{,]\s*)'([A-Za-z][\w.-]*)'\s*:`)

// usedKey matches a literal key handed to t, L or label lookups, and the
// data-i18n attributes of the static page.
var usedKey = regexp.MustCompile(`\b(?:t|L|has)\('([A-Za-z][\w.-]*)'|data-i18n="([A-Za-z][\w.-]*)"`)

func catalogueKeys(t *testing.T, name string) map[string]bool {
	t.Helper()
	b, err := fs.ReadFile(staticFS, "static/"+name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	keys := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "//") {
			continue
		}
		for _, m := range catalogueKey.FindAllStringSubmatch(line, -1) {
			if keys[m[1]] {
				t.Errorf("%s: key %q defined twice", name, m[1])
			}
			keys[m[1]] = true
		}
	}
	if len(keys) < 100 {
		t.Fatalf("%s: found only %d keys; is the catalogue's format still 'key': 'text'?", name, len(keys))
	}
	return keys
}

// TestCataloguesHaveTheSameKeys fails when a key is in one language's
// catalogue and not the other's: English is a full second language.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	zh := catalogueKeys(t, "messages.zh.js")
	en := catalogueKeys(t, "messages.en.js")
	var missing []string
	for k := range zh {
		if !en[k] {
			missing = append(missing, "en lacks "+k)
		}
	}
	for k := range en {
		if !zh[k] {
			missing = append(missing, "zh lacks "+k)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
}

// TestUsedKeysExist fails when a module asks for a literal key that the
// catalogues do not have (it would show as the bare key).
func TestUsedKeysExist(t *testing.T) {
	zh := catalogueKeys(t, "messages.zh.js")
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		t.Fatal(err)
	}
	used := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".js") && !strings.HasSuffix(name, ".html") || strings.HasPrefix(name, "messages.") {
			continue
		}
		b, err := fs.ReadFile(staticFS, "static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range usedKey.FindAllStringSubmatch(string(b), -1) {
			k := m[1] + m[2]
			if strings.HasSuffix(k, ".") {
				continue // a prefix completed at run time: t('state.' + s)
			}
			used++
			if !zh[k] {
				t.Errorf("%s uses key %q, which is in no catalogue", name, k)
			}
		}
	}
	if used < 100 {
		t.Errorf("found only %d uses of keys; is the pattern still t('key')?", used)
	}
}

// cjk matches Chinese text: in the modules it would be a string that
// bypasses the catalogues and stays Chinese in the English page.
var cjk = regexp.MustCompile(`[\p{Han}\x{3000}-\x{303f}\x{ff00}-\x{ffef}]`)

// TestNoTextOutsideCatalogues fails when a module (other than the
// catalogues) carries Chinese text outside comments. modulesNotYetMoved
// lists the modules whose strings still await the move.
func TestNoTextOutsideCatalogues(t *testing.T) {
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".js") || strings.HasPrefix(name, "messages.") || slices.Contains(modulesNotYetMoved, name) {
			continue
		}
		b, err := fs.ReadFile(staticFS, "static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			if cjk.MatchString(line) {
				t.Errorf("%s:%d has text outside the catalogues: %s", name, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// modulesNotYetMoved still carry text in place (bi('中文', 'English'));
// each leaves this list when its strings move into the catalogues.
var modulesNotYetMoved = []string{
	"account.js", "alerts.js", "audit.js", "fleet.js", "pair.js", "playlists.js", "releases.js",
	"review.js", "safemode.js", "schedules.js", "screen.js", "targets.js", "urgent.js", "users.js",
}
