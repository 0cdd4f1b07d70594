package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// ReleaseMapped takes the pages a full scan mapped out of the process's
// resident set, and everything still reads back the same afterwards.
func TestReleaseMappedDropsScannedPages(t *testing.T) {
	s := openTest(t)
	bucket := []byte("release_mapped_test")
	value := bytes.Repeat([]byte("x"), 1000)
	const keys = 4000 // about 4 MB of leaf pages
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		for i := range keys {
			if err := b.Put(fmt.Appendf(nil, "k%05d", i), value); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	scan := func() int {
		n := 0
		if err := s.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucket).ForEach(func(_, v []byte) error {
				if !bytes.Equal(v, value) {
					return fmt.Errorf("value changed")
				}
				n++
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	scan()
	dbPath := filepath.Join(s.dir, DBFile)
	before := mappedRSS(t, dbPath)
	if before < 2<<20 {
		t.Fatalf("after a full scan %s has %d KB resident; want the scanned pages (MBs) counted", DBFile, before>>10)
	}
	if err := s.ReleaseMapped(); err != nil {
		t.Fatal(err)
	}
	after := mappedRSS(t, dbPath)
	t.Logf("%s resident: %d KB after a full scan, %d KB after ReleaseMapped", DBFile, before>>10, after>>10)
	if after > before/4 {
		t.Errorf("resident pages of %s: %d KB before ReleaseMapped, %d KB after; want most of them gone", DBFile, before>>10, after>>10)
	}
	if n := scan(); n != keys {
		t.Errorf("after ReleaseMapped the scan read %d records, want %d", n, keys)
	}
}

// mappedRSS sums the Rss of this process's mappings of path.
func mappedRSS(t *testing.T, path string) int64 {
	t.Helper()
	raw, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Skipf("no /proc/self/smaps: %v", err)
	}
	var total int64
	in := false
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && fields[len(fields)-1] == path
			continue
		}
		if in && fields[0] == "Rss:" && len(fields) >= 2 {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q: %v", line, err)
			}
			total += kb << 10
		}
	}
	return total
}
