package cache

import (
	"errors"
	"fmt"
	"io"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/assets"
	"kiosk/playlists"
)

// AssetWriter stages one asset. Bytes pass through an assets.Verifier before
// they are stored, so more bytes than promised are refused at once, and the
// asset only becomes visible (complete) when Commit finds hash and size right.
// Each full chunk is written in its own short transaction.
type AssetWriter struct {
	c    *Cache
	ref  playlists.AssetRef
	v    *assets.Verifier
	buf  []byte
	next int
	done bool
}

// NewAssetWriter starts staging ref from its first byte. Any earlier
// staging of the same asset is discarded. It fails with ErrBusy while
// another writer stages it.
func (c *Cache) NewAssetWriter(ref playlists.AssetRef) (*AssetWriter, error) {
	w, err := c.lockWriter(ref)
	if err != nil {
		return nil, err
	}
	if err := w.fresh(); err != nil {
		w.release()
		return nil, err
	}
	return w, nil
}

// StageAsset is NewAssetWriter that keeps what an earlier, interrupted
// attempt left (see Keep): the full chunks already staged are hashed again
// from the cache and Offset says where the download should resume, so a
// dropped connection near the end of a big video does not cost the whole
// video again. Staging that does not fit ref, or cannot be read back, is
// discarded.
func (c *Cache) StageAsset(ref playlists.AssetRef) (*AssetWriter, error) {
	w, err := c.lockWriter(ref)
	if err != nil {
		return nil, err
	}
	if ok, err := w.resume(); err != nil || !ok {
		if err := w.fresh(); err != nil {
			w.release()
			return nil, err
		}
	}
	return w, nil
}

func (c *Cache) lockWriter(ref playlists.AssetRef) (*AssetWriter, error) {
	if !playlists.IsSHA256Hex(ref.SHA256) {
		return nil, fmt.Errorf("stage asset: %q is not a sha256", ref.SHA256)
	}
	if ref.Size < 0 {
		return nil, fmt.Errorf("stage asset %s: negative size %d", ref.SHA256, ref.Size)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.staging[ref.SHA256] {
		return nil, fmt.Errorf("stage asset %s: %w", ref.SHA256, ErrBusy)
	}
	c.staging[ref.SHA256] = true
	return &AssetWriter{c: c, ref: ref, v: assets.NewVerifier(ref.SHA256, ref.Size)}, nil
}

// fresh discards any staging of the asset and starts an empty one.
func (w *AssetWriter) fresh() error {
	if err := w.c.remove(w.ref.SHA256); err != nil {
		return err
	}
	w.v = assets.NewVerifier(w.ref.SHA256, w.ref.Size)
	w.next = 0
	w.buf = w.buf[:0]
	err := w.c.db.Update(func(tx *bolt.Tx) error {
		return putInfo(tx, AssetInfo{
			SHA256: w.ref.SHA256, Size: w.ref.Size, MIME: w.ref.MIME,
			ChunkSize: ChunkSize, StagedAt: time.Now().UTC(),
		})
	})
	if err != nil {
		return fmt.Errorf("stage asset %s: %w", w.ref.SHA256, err)
	}
	return nil
}

// resume picks up staged chunks left by Keep, re-hashing them; false means
// there is nothing usable to resume.
func (w *AssetWriter) resume() (bool, error) {
	info, err := w.c.Info(w.ref.SHA256)
	if err != nil || info.Complete || info.Size != w.ref.Size || info.ChunkSize != ChunkSize || info.Chunks <= 0 {
		return false, nil
	}
	for i := 0; i < info.Chunks; i++ {
		err := w.c.db.View(func(tx *bolt.Tx) error {
			v := tx.Bucket(bucketChunks).Get(chunkKey(w.ref.SHA256, i))
			if len(v) != ChunkSize {
				return fmt.Errorf("staged chunk %d: %d bytes", i, len(v))
			}
			_, err := w.v.Write(v)
			return err
		})
		if err != nil {
			return false, err
		}
	}
	w.next = info.Chunks
	return true, nil
}

// Offset is how many bytes were already staged when the writer was
// created: the download resumes there.
func (w *AssetWriter) Offset() int64 { return int64(w.next) * ChunkSize }

// Restart discards what was staged and expects the asset from byte 0, for
// a server that answered a resume request with the whole file.
func (w *AssetWriter) Restart() error {
	if w.done {
		return errors.New("stage asset: restart after commit or abort")
	}
	return w.fresh()
}

// Write verifies and stages p.
func (w *AssetWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("stage asset: write after commit or abort")
	}
	if _, err := w.v.Write(p); err != nil {
		return 0, err
	}
	n := len(p)
	for len(p) > 0 {
		if w.buf == nil {
			w.buf = make([]byte, 0, min(int64(ChunkSize), w.ref.Size))
		}
		take := min(len(p), ChunkSize-len(w.buf))
		w.buf = append(w.buf, p[:take]...)
		p = p[take:]
		if len(w.buf) == ChunkSize {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *AssetWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	// The chunk and the record's count of full chunks change together, so
	// a resume never trusts a chunk that was not written.
	err := w.c.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketChunks).Put(chunkKey(w.ref.SHA256, w.next), w.buf); err != nil {
			return err
		}
		info, err := getInfo(tx, w.ref.SHA256)
		if err != nil {
			return err
		}
		info.Chunks = w.next + 1
		return putInfo(tx, info)
	})
	if err != nil {
		return fmt.Errorf("stage asset %s chunk %d: %w", w.ref.SHA256, w.next, err)
	}
	w.next++
	w.buf = w.buf[:0]
	return nil
}

// Commit checks the bytes against the promised hash and size and, if they
// match, marks the asset complete. On any failure the staged chunks are
// deleted and the error wraps assets.ErrMismatch when the bytes were wrong.
func (w *AssetWriter) Commit() error {
	if w.done {
		return errors.New("stage asset: commit after commit or abort")
	}
	if err := w.v.Check(); err != nil {
		w.Abort()
		return fmt.Errorf("asset %s: %w", w.ref.SHA256, err)
	}
	if err := w.flush(); err != nil {
		w.Abort()
		return err
	}
	err := w.c.db.Update(func(tx *bolt.Tx) error {
		info, err := getInfo(tx, w.ref.SHA256)
		if err != nil {
			return err
		}
		info.Chunks = w.next
		info.Complete = true
		return putInfo(tx, info)
	})
	if err != nil {
		w.Abort()
		return fmt.Errorf("commit asset %s: %w", w.ref.SHA256, err)
	}
	w.done = true
	w.release()
	return nil
}

// Abort discards everything staged. It is safe to call after Commit (it does
// nothing then) so callers can defer it.
func (w *AssetWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	defer w.release()
	return w.c.remove(w.ref.SHA256)
}

// Keep ends this attempt but leaves the full chunks staged, so StageAsset
// can resume after a network failure. Bytes of a partial last chunk are
// dropped. Never Keep after a verification failure: which chunk was wrong
// is unknown, so Commit discards everything then. Staging kept and never
// resumed is removed by the next GC.
func (w *AssetWriter) Keep() {
	if w.done {
		return
	}
	w.done = true
	w.release()
}

func (w *AssetWriter) release() {
	w.c.mu.Lock()
	delete(w.c.staging, w.ref.SHA256)
	w.c.mu.Unlock()
}

// Store stages ref from r and commits it; an asset already complete is left
// alone and r is not read. r's errors and verification failures abort.
func (c *Cache) Store(ref playlists.AssetRef, r io.Reader) error {
	if c.Has(ref.SHA256) {
		return nil
	}
	w, err := c.NewAssetWriter(ref)
	if err != nil {
		return err
	}
	defer w.Abort()
	if _, err := io.Copy(w, r); err != nil {
		return fmt.Errorf("download asset %s: %w", ref.SHA256, err)
	}
	return w.Commit()
}
