package cache

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"kiosk/assets"
)

// VerifyResult says what a Verify pass found.
type VerifyResult struct {
	Checked int      // complete assets whose bytes were hashed
	Bytes   int64    // bytes hashed
	Bad     []string // assets whose bytes did not match; they were removed
}

// Verify re-reads every complete asset and checks its bytes against its
// SHA-256 and size, removing the ones that fail (a bad SD card sector, a
// file edited behind the player's back). Each chunk is read in its own
// short transaction, as the display reads them, so a verify of gigabytes of
// video never pins the file. Assets being staged are skipped, and the
// assets under check are marked as staging so neither GC nor a download
// touches them meanwhile.
//
// A removed asset that the applied manifest needs is simply absent until
// the next update fetches it again: the page shows that item as text.
func (c *Cache) Verify() (VerifyResult, error) {
	var res VerifyResult
	var todo []AssetInfo
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssets).ForEach(func(k, _ []byte) error {
			info, err := getInfo(tx, string(k))
			if err == nil && info.Complete {
				todo = append(todo, info)
			}
			return nil
		})
	})
	if err != nil {
		return res, fmt.Errorf("verify cache: %w", err)
	}
	for _, info := range todo {
		if !c.claim(info.SHA256) {
			continue // a download is writing it right now
		}
		bad, err := c.verifyOne(info)
		if err == nil && bad {
			err = c.remove(info.SHA256)
			if err == nil {
				res.Bad = append(res.Bad, info.SHA256)
			}
		}
		c.unclaim(info.SHA256)
		if err != nil {
			return res, fmt.Errorf("verify cache: %w", err)
		}
		res.Checked++
		res.Bytes += info.Size
	}
	return res, nil
}

// verifyOne reports whether the stored bytes of info are wrong: a missing
// chunk, a chunk of the wrong length or a hash mismatch. Only failures to
// read the file itself are errors.
func (c *Cache) verifyOne(info AssetInfo) (bad bool, err error) {
	if info.ChunkSize <= 0 || info.Size < 0 {
		return true, nil
	}
	cs := int64(info.ChunkSize)
	n := int((info.Size + cs - 1) / cs)
	v := assets.NewVerifier(info.SHA256, info.Size)
	for i := 0; i < n; i++ {
		want := min(cs, info.Size-int64(i)*cs)
		err := c.db.View(func(tx *bolt.Tx) error {
			chunk := tx.Bucket(bucketChunks).Get(chunkKey(info.SHA256, i))
			if int64(len(chunk)) != want {
				bad = true
				return nil
			}
			_, err := v.Write(chunk) // hashes inside the transaction: no copy
			return err
		})
		if err != nil {
			return false, err
		}
		if bad {
			return true, nil
		}
	}
	return v.Check() != nil, nil
}

// DropAssets removes every asset that is not being staged right now,
// including those the applied manifest needs, and reports what it removed.
// The applied manifest stays: the display keeps showing its items (as text
// where media is gone) until an update has fetched the media again.
func (c *Cache) DropAssets() (GCResult, error) {
	var res GCResult
	var all []AssetInfo
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketAssets).ForEach(func(k, _ []byte) error {
			info, err := getInfo(tx, string(k))
			if err != nil {
				info = AssetInfo{SHA256: string(k)}
			}
			all = append(all, info)
			return nil
		})
	})
	if err != nil {
		return res, fmt.Errorf("drop assets: %w", err)
	}
	for _, info := range all {
		if !c.claim(info.SHA256) {
			continue
		}
		err := c.remove(info.SHA256)
		c.unclaim(info.SHA256)
		if err != nil {
			return res, fmt.Errorf("drop assets: %w", err)
		}
		res.Assets++
		res.Bytes += info.Size
	}
	return res, nil
}

// claim marks sha as staging unless a writer (or GC) already holds it.
func (c *Cache) claim(sha string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.staging[sha] {
		return false
	}
	c.staging[sha] = true
	return true
}

func (c *Cache) unclaim(sha string) {
	c.mu.Lock()
	delete(c.staging, sha)
	c.mu.Unlock()
}
