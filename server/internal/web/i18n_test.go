package web

import (
	"io/fs"
	"os"
	"path/filepath"
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

// catalogueFiles are the files that make one language's catalogue: the
// page's text and its error texts (i18n.js joins them).
func catalogueFiles(lang string) []string {
	return []string{"messages." + lang + ".js", "messages.errors." + lang + ".js"}
}

// catalogueKeys reads the keys of language lang's catalogue, across its
// files; a key defined twice, in one file or two, is an error.
func catalogueKeys(t *testing.T, lang string) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	for _, name := range catalogueFiles(lang) {
		b, err := fs.ReadFile(staticFS, "static/"+name)
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
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
	}
	if len(keys) < 100 {
		t.Fatalf("%s: found only %d keys; is the catalogue's format still 'key': 'text'?", lang, len(keys))
	}
	return keys
}

// TestCataloguesHaveTheSameKeys fails when a key is in one language's
// catalogue and not the other's: English is a full second language.
func TestCataloguesHaveTheSameKeys(t *testing.T) {
	zh := catalogueKeys(t, "zh")
	en := catalogueKeys(t, "en")
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
	zh := catalogueKeys(t, "zh")
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

// modulesNotYetMoved would list modules whose text is still written in
// place; every module has moved into the catalogues.
var modulesNotYetMoved = []string{}

// catalogueEntry matches an entry with its quoted text.
var catalogueEntry = regexp.MustCompile(`'([A-Za-z][\w.-]*)'\s*:\s*('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")`)

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

// catalogueTexts reads language lang's catalogue, key to text, across
// its files.
func catalogueTexts(t *testing.T, lang string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range catalogueFiles(lang) {
		b, err := fs.ReadFile(staticFS, "static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "//") {
				continue
			}
			for _, m := range catalogueEntry.FindAllStringSubmatch(line, -1) {
				out[m[1]] = m[2]
			}
		}
	}
	return out
}

// TestCataloguePlaceholdersMatch fails when a text's {placeholders} differ
// between the languages: a value the page fills in would go missing in
// one of them, or show as a bare {name}.
func TestCataloguePlaceholdersMatch(t *testing.T) {
	zh := catalogueTexts(t, "zh")
	en := catalogueTexts(t, "en")
	if len(zh) < 100 || len(en) < 100 {
		t.Fatalf("read %d and %d texts; is the catalogue's format still 'key': 'text'?", len(zh), len(en))
	}
	names := func(s string) string {
		set := map[string]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
			set[m[1]] = true
		}
		var out []string
		for k := range set {
			out = append(out, k)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	for k, z := range zh {
		e, ok := en[k]
		if !ok {
			continue // TestCataloguesHaveTheSameKeys says so
		}
		zp, ep := names(z), names(e)
		if strings.HasSuffix(k, ".one") {
			// The singular of a count may say "a screen" instead of "1".
			drop := func(s string) string { return strings.Trim(strings.ReplaceAll(","+s+",", ",n,", ","), ",") }
			zp, ep = drop(zp), drop(ep)
		}
		if zp != ep {
			t.Errorf("%s: zh has {%s}, en has {%s}", k, names(z), names(e))
		}
	}
}

// apiCode matches the codes the API gives refusals: errCode(status,
// "code", ...), the defaults by status ("code",) and the fixed ones in
// errorKey (return "code").
var apiCode = regexp.MustCompile(`errCode\([\w.]+,\s*"([a-z_]+)"|^\s*http\.Status\w+:\s*"([a-z_]+)",|return "([a-z_]+)"$`)

// TestEveryErrorCodeHasText fails when the API can answer with a code
// the page has no text for (err.<code>): the person would read the
// server's English sentence instead of their language.
func TestEveryErrorCodeHasText(t *testing.T) {
	files, err := filepath.Glob("../api/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no API sources next to this package: %v", err)
	}
	zh := catalogueKeys(t, "zh")
	en := catalogueKeys(t, "en")
	codes := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			for _, m := range apiCode.FindAllStringSubmatch(line, -1) {
				if c := m[1] + m[2] + m[3]; c != "" && (m[3] == "" || strings.HasSuffix(f, "errors.go")) {
					codes[c] = true
				}
			}
		}
	}
	if len(codes) < 30 {
		t.Fatalf("found only %d error codes in the API; is it still errCode(status, \"code\", ...)?", len(codes))
	}
	for c := range codes {
		if !zh["err."+c] || !en["err."+c] {
			t.Errorf("the API answers code %q, but a catalogue lacks err.%s", c, c)
		}
	}
}
