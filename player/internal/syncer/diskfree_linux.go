package syncer

import "syscall"

// diskFree is the space left for unprivileged writers on the file system
// holding dir, or 0 when it cannot be told.
func diskFree(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
