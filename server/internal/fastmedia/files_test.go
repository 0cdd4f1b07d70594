package fastmedia

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOpenFilesShareAndClose: answers for one asset share one open file;
// it is closed only once it has left the map and its last answer is
// done, and nothing is kept after closeAll.
func TestOpenFilesShareAndClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "blob")
	if err := os.WriteFile(path, []byte("bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	opens := 0
	o := newOpenFiles(func(string) (*os.File, error) { opens++; return os.Open(path) })
	a, err := o.get("x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := o.get("x")
	if err != nil {
		t.Fatal(err)
	}
	if a != b || opens != 1 {
		t.Fatalf("two answers: %d opens, same file %v; want 1 open, shared", opens, a == b)
	}
	o.put(a)
	o.closeAll()
	if _, err := b.f.Stat(); err != nil {
		t.Fatalf("file closed while an answer still sends from it: %v", err)
	}
	o.put(b)
	if _, err := b.f.Stat(); err == nil {
		t.Fatal("file still open after its last answer and closeAll")
	}
	c, err := o.get("x")
	if err != nil {
		t.Fatal(err)
	}
	if opens != 2 || len(o.m) != 0 {
		t.Fatalf("after closeAll: %d opens, %d kept; want a fresh open, none kept", opens, len(o.m))
	}
	o.put(c)
	if _, err := c.f.Stat(); err == nil {
		t.Fatal("file opened after closeAll still open after its answer")
	}
}
