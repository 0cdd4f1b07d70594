package syncer

import "testing"

func TestDiskSpace(t *testing.T) {
	free, total := diskSpace(t.TempDir())
	if free <= 0 || total <= 0 || free > total {
		t.Errorf("diskSpace(temp dir): got free %d total %d, want 0 < free ≤ total", free, total)
	}
	if free, total := diskSpace("/no/such/dir"); free != 0 || total != 0 {
		t.Errorf("diskSpace(missing dir): got free %d total %d, want 0 0 (unknown)", free, total)
	}
}
