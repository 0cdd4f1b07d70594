package cache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	bolt "go.etcd.io/bbolt"
)

// OpenAsset returns a reader over a complete asset. Every chunk is read in
// its own short read transaction and copied out, so a slow browser pulling a
// video never pins the file. An absent or incomplete asset is an error
// wrapping fs.ErrNotExist.
func (c *Cache) OpenAsset(sha string) (io.ReadSeeker, error) {
	info, err := c.Info(sha)
	if err != nil {
		return nil, err
	}
	if !info.Complete {
		return nil, fmt.Errorf("asset %s: still downloading: %w", sha, fs.ErrNotExist)
	}
	if info.ChunkSize <= 0 {
		return nil, fmt.Errorf("asset %s: bad record: chunk size %d", sha, info.ChunkSize)
	}
	return &assetReader{c: c, info: info, cur: -1}, nil
}

type assetReader struct {
	c    *Cache
	info AssetInfo
	off  int64
	cur  int    // index of the chunk in buf, -1 for none
	buf  []byte // copy of chunk cur
}

func (r *assetReader) Read(p []byte) (int, error) {
	if r.off >= r.info.Size {
		return 0, io.EOF
	}
	cs := int64(r.info.ChunkSize)
	idx := int(r.off / cs)
	if idx != r.cur {
		if err := r.load(idx); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off-int64(idx)*cs:])
	r.off += int64(n)
	return n, nil
}

func (r *assetReader) load(idx int) error {
	cs := int64(r.info.ChunkSize)
	want := min(cs, r.info.Size-int64(idx)*cs)
	err := r.c.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketChunks).Get(chunkKey(r.info.SHA256, idx))
		if v == nil {
			// GC removed it after a newer version was applied.
			return fmt.Errorf("asset %s chunk %d: %w", r.info.SHA256, idx, fs.ErrNotExist)
		}
		if int64(len(v)) != want {
			return fmt.Errorf("asset %s chunk %d: %d bytes, want %d", r.info.SHA256, idx, len(v), want)
		}
		// bbolt's value is only valid inside the transaction.
		r.buf = append(r.buf[:0], v...)
		return nil
	})
	if err != nil {
		r.cur = -1
		return err
	}
	r.cur = idx
	return nil
}

func (r *assetReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.info.Size + offset
	default:
		return 0, errors.New("seek: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("seek: negative position")
	}
	r.off = abs
	return abs, nil
}
