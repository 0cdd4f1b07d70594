package syncer

import "syscall"

// diskSpace is the space left for unprivileged writers on the file system
// holding dir, and that file system's size, or zeros when it cannot be
// told. Free counts Bavail, not Bfree: the blocks reserved for root are of
// no use to the player. Total is the whole file system, so the server's
// percentage rule sees the same "nearly full" that df shows.
func diskSpace(dir string) (free, total int64) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0
	}
	return int64(st.Bavail) * int64(st.Bsize), int64(st.Blocks) * int64(st.Bsize)
}
