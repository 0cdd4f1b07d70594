// Package signing owns the server's manifest signing keys: an Ed25519 key
// created at first start inside the data dir (0600), an optional next key
// announced to players ahead of a rotation, and the serials that make every
// signed manifest newer than the one before, across restarts too.
package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"kiosk/playlists"
)

// Key files inside the data dir.
const (
	Dir         = "keys"
	CurrentFile = "manifest-ed25519.pem"      // signs every manifest
	NextFile    = "manifest-ed25519.next.pem" // announced, trusted by players, not yet signing
	retiredFmt  = "manifest-ed25519.retired-%s.pem"
)

// Serials are the issue time in microseconds, forced to grow by one when
// two fall in the same microsecond, and never below the highest one
// reserved before: a server restored from an older backup, or whose clock
// stepped back, still signs newer serials than its players have seen as
// long as either its clock or its data moved forward. serialBlock serials
// (about 17 s of clock) are reserved per store write, so signing costs no
// disk write per manifest.
const serialBlock = 1 << 24

// SerialStore persists the highest serial reserved.
type SerialStore interface {
	// ReserveSerials reserves n serials starting at least at from and
	// above every earlier reservation, and returns the first.
	ReserveSerials(from, n uint64) (first uint64, err error)
}

// Signer signs manifests for screens.
type Signer struct {
	cur     ed25519.PrivateKey
	curID   string
	nextPub string // base64, or ""
	store   SerialStore
	now     func() time.Time

	mu      sync.Mutex
	serial  uint64 // last issued
	reserve uint64 // last reserved
}

// Open loads the keys in dataDir, creating the current one if none exists.
func Open(dataDir string, st SerialStore, now func() time.Time) (*Signer, error) {
	if now == nil {
		now = time.Now
	}
	dir := filepath.Join(dataDir, Dir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	cur, err := loadKey(filepath.Join(dir, CurrentFile))
	if errors.Is(err, os.ErrNotExist) {
		if cur, err = createKey(filepath.Join(dir, CurrentFile)); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	s := &Signer{cur: cur, curID: playlists.KeyID(cur.Public().(ed25519.PublicKey)), store: st, now: now}
	if next, err := loadKey(filepath.Join(dir, NextFile)); err == nil {
		s.nextPub = playlists.EncodeKey(next.Public().(ed25519.PublicKey))
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return s, nil
}

// Public is the current signing key, for pinning at pairing.
func (s *Signer) Public() ed25519.PublicKey { return s.cur.Public().(ed25519.PublicKey) }

// KeyID names the current key.
func (s *Signer) KeyID() string { return s.curID }

// Sign signs body as the manifest of screenID under the next serial.
func (s *Signer) Sign(screenID string, body []byte) (playlists.ManifestSignature, error) {
	serial, err := s.nextSerial()
	if err != nil {
		return playlists.ManifestSignature{}, err
	}
	sig := playlists.ManifestSignature{KeyID: s.curID, Serial: serial, IssuedAt: s.now().UTC(), NextKey: s.nextPub}
	sig.Sig = ed25519.Sign(s.cur, playlists.SignedMessage(screenID, sig, body))
	return sig, nil
}

func (s *Signer) nextSerial() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := max(s.serial+1, uint64(max(s.now().UnixMicro(), 0)))
	if next > s.reserve {
		first, err := s.store.ReserveSerials(next, serialBlock)
		if err != nil {
			return 0, fmt.Errorf("reserve manifest serials: %w", err)
		}
		next, s.reserve = first, first+serialBlock-1
	}
	s.serial = next
	return next, nil
}

func loadKey(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("signing key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key %s: not an Ed25519 key", path)
	}
	return ek, nil
}

func createKey(path string) (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	// O_EXCL: never overwrite a key another start made meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create signing key: %w", err)
	}
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return priv, f.Close()
}

// PrepareRotation creates the next key (once): manifests announce it,
// signed by the current key, and players start trusting it. Returns its id.
func PrepareRotation(dataDir string) (string, error) {
	path := filepath.Join(dataDir, Dir, NextFile)
	k, err := loadKey(path)
	if errors.Is(err, os.ErrNotExist) {
		k, err = createKey(path)
	}
	if err != nil {
		return "", err
	}
	return playlists.KeyID(k.Public().(ed25519.PublicKey)), nil
}

// CompleteRotation makes the next key the current one and keeps the old
// one as retired (no longer used). Run it once every screen has applied a
// manifest announcing the next key; the server must be restarted.
func CompleteRotation(dataDir string, now time.Time) (oldID, newID string, err error) {
	dir := filepath.Join(dataDir, Dir)
	next, err := loadKey(filepath.Join(dir, NextFile))
	if err != nil {
		return "", "", fmt.Errorf("no next key to rotate to (prepare one first): %w", err)
	}
	cur, err := loadKey(filepath.Join(dir, CurrentFile))
	if err != nil {
		return "", "", err
	}
	oldID = playlists.KeyID(cur.Public().(ed25519.PublicKey))
	retired := filepath.Join(dir, fmt.Sprintf(retiredFmt, now.UTC().Format("20060102T150405Z")))
	if err := os.Rename(filepath.Join(dir, CurrentFile), retired); err != nil {
		return "", "", err
	}
	if err := os.Rename(filepath.Join(dir, NextFile), filepath.Join(dir, CurrentFile)); err != nil {
		return "", "", err
	}
	return oldID, playlists.KeyID(next.Public().(ed25519.PublicKey)), nil
}

// SignBatch signs the root of a push batch (playlists.BatchTree) under
// the next serial: one signature for every screen the batch reaches.
func (s *Signer) SignBatch(root playlists.Digest) (playlists.BatchSig, error) {
	serial, err := s.nextSerial()
	if err != nil {
		return playlists.BatchSig{}, err
	}
	sig := playlists.BatchSig{KeyID: s.curID, Serial: serial, IssuedAt: s.now().UTC(), NextKey: s.nextPub,
		ServerKey: playlists.EncodeKey(s.Public())}
	sig.Sig = ed25519.Sign(s.cur, playlists.BatchMessage(sig, root))
	return sig, nil
}

// PushFrames signs one batch for screenIDs receiving body (the manifest's
// exact bytes, of version) and returns their frames, leaf i being
// screenIDs[i]. A manifest above playlists.MaxInlineManifestBytes is not
// pushed inline: nil, nil.
func (s *Signer) PushFrames(version string, screenIDs []string, body []byte) (*playlists.PushFrames, error) {
	if len(screenIDs) == 0 || len(body) > playlists.MaxInlineManifestBytes {
		return nil, nil
	}
	leaves := make([]playlists.Digest, len(screenIDs))
	// The leaves are most of the work (one hash each) and the push waits
	// for them: spread them over the cores.
	parts := min(runtime.GOMAXPROCS(0), (len(screenIDs)+1023)/1024)
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(leaves)/parts, (p+1)*len(leaves)/parts
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				leaves[i] = playlists.BatchLeaf(screenIDs[i], version)
			}
		})
	}
	wg.Wait()
	tree := playlists.NewBatchTree(leaves)
	sig, err := s.SignBatch(tree.Root())
	if err != nil {
		return nil, err
	}
	return playlists.NewPushFrames(tree, sig, version, body)
}
