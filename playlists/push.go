package playlists

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Manifests pushed on the socket. A player that says so in its hello
// (Accept holds AcceptManifest) gets each new manifest inside the push
// itself, as a "manifest" frame, instead of a version notice it answers
// with GET /device/manifest. Ten thousand screens then cost the server ten
// thousand socket writes per publish, not ten thousand HTTP requests on
// top of them.
//
// The signature must still bind the bytes to one screen and to a serial
// above any it was given before, but ten thousand Ed25519 signatures per
// publish would cost more than the fan-out itself. So a push is signed in
// a batch: every screen the publish reaches is a leaf of a Merkle tree
// (its id and the manifest version, i.e. the SHA-256 of the bytes), the
// server signs the root once, and each screen's frame carries the path
// from its leaf to the root. Verifying is the leaf hash, one hash per level
// (14 for 10,000 screens) and one Ed25519 verify.
//
// A manifest larger than MaxInlineManifestBytes is announced with a
// version notice as before; so is every manifest for a player that did not
// ask for pushes.
const (
	MsgManifest    = "manifest"
	AcceptManifest = "manifest"

	// MaxInlineManifestBytes is the largest manifest the server pushes
	// inside a frame.
	MaxInlineManifestBytes = 256 << 10
	// MaxPushFrameBytes is the read limit of a player that accepts pushed
	// manifests: the manifest, its signature and a proof for a tree of
	// up to 2^32 screens.
	MaxPushFrameBytes = MaxMessageBytes + MaxInlineManifestBytes
)

// ManifestPush is the data of a "manifest" frame.
type ManifestPush struct {
	Version string   `json:"version"`
	Sig     BatchSig `json:"sig"`
	Proof   []string `json:"proof"` // from the leaf up: "l:<hex>" (sibling on the left) or "r:<hex>"
	// Body is the manifest exactly as it was on the wire: its SHA-256
	// is Version.
	Body json.RawMessage `json:"manifest"`
}

// BatchSig signs the root of a push batch.
type BatchSig struct {
	KeyID     string    `json:"key_id"`
	Serial    uint64    `json:"serial"`
	IssuedAt  time.Time `json:"issued_at"`
	NextKey   string    `json:"next_key,omitempty"`   // base64 key announced for rotation
	ServerKey string    `json:"server_key,omitempty"` // base64 key that signs, for pinning on first use
	Sig       []byte    `json:"sig"`                  // Ed25519 over BatchMessage
}

// Digest is one SHA-256 node of a batch tree.
type Digest = [sha256.Size]byte

// BatchLeaf is the leaf of screenID receiving version.
func BatchLeaf(screenID, version string) Digest {
	var buf [192]byte
	b := append(buf[:0], 0)
	b = appendField(b, screenID)
	b = appendField(b, version)
	return sha256.Sum256(b)
}

// appendField appends f with its length, as labelled writes fields.
func appendField(b []byte, f string) []byte {
	b = strconv.AppendInt(b, int64(len(f)), 10)
	b = append(b, ':')
	b = append(b, f...)
	return append(b, '\n')
}

func batchNode(l, r *Digest) Digest {
	var buf [1 + 2*sha256.Size]byte
	buf[0] = 1
	copy(buf[1:], l[:])
	copy(buf[1+sha256.Size:], r[:])
	return sha256.Sum256(buf[:])
}

// BatchTree is the Merkle tree over a batch's leaves: level 0 is the
// leaves in order, each level above pairs neighbours, and an odd last node
// moves up unchanged. The root is the single node of the top level.
type BatchTree struct {
	levels [][]Digest
}

// NewBatchTree builds the tree over leaves (at least one).
func NewBatchTree(leaves []Digest) *BatchTree {
	t := &BatchTree{levels: [][]Digest{leaves}}
	for cur := leaves; len(cur) > 1; {
		next := make([]Digest, (len(cur)+1)/2)
		for i := 0; i+1 < len(cur); i += 2 {
			next[i/2] = batchNode(&cur[i], &cur[i+1])
		}
		if len(cur)%2 == 1 {
			next[len(next)-1] = cur[len(cur)-1]
		}
		t.levels = append(t.levels, next)
		cur = next
	}
	return t
}

// Root is the tree's root.
func (t *BatchTree) Root() Digest { return t.levels[len(t.levels)-1][0] }

// Len is the number of leaves.
func (t *BatchTree) Len() int { return len(t.levels[0]) }

// AppendProof appends leaf i's proof as JSON array elements (quoted
// strings, comma separated, no brackets) to dst.
func (t *BatchTree) AppendProof(dst []byte, i int) []byte {
	first := true
	for _, lvl := range t.levels[:len(t.levels)-1] {
		sib, side := i^1, byte('r')
		if i%2 == 1 {
			side = 'l'
		}
		if sib < len(lvl) {
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, '"', side, ':')
			dst = hex.AppendEncode(dst, lvl[sib][:])
			dst = append(dst, '"')
		}
		i /= 2
	}
	return dst
}

// Proof is leaf i's proof as ManifestPush.Proof holds it.
func (t *BatchTree) Proof(i int) []string {
	var out []string
	raw := "[" + string(t.AppendProof(nil, i)) + "]"
	json.Unmarshal([]byte(raw), &out)
	return out
}

// BatchMessage is the exact byte string a batch signature covers, laid
// out as SignedMessage lays out a single manifest's.
func BatchMessage(s BatchSig, root Digest) []byte {
	return labelled("kiosk-manifest-batch-v1",
		strconv.FormatUint(s.Serial, 10),
		s.IssuedAt.UTC().Format(time.RFC3339Nano),
		s.KeyID,
		s.NextKey,
		hex.EncodeToString(root[:]),
	)
}

// ProofRoot folds a proof from leaf up to the root it implies.
func ProofRoot(leaf Digest, proof []string) (Digest, error) {
	if len(proof) > 32 {
		return Digest{}, fmt.Errorf("%w: proof of %d steps", ErrSignature, len(proof))
	}
	cur := leaf
	for _, p := range proof {
		if len(p) != 2+2*sha256.Size || p[1] != ':' {
			return Digest{}, fmt.Errorf("%w: malformed proof step %q", ErrSignature, p)
		}
		var sib Digest
		if _, err := hex.Decode(sib[:], []byte(p[2:])); err != nil {
			return Digest{}, fmt.Errorf("%w: malformed proof step %q", ErrSignature, p)
		}
		switch p[0] {
		case 'l':
			cur = batchNode(&sib, &cur)
		case 'r':
			cur = batchNode(&cur, &sib)
		default:
			return Digest{}, fmt.Errorf("%w: malformed proof step %q", ErrSignature, p)
		}
	}
	return cur, nil
}

// VerifyPush checks that p's signature, by one of the trusted keys, covers
// p.Version for screenID. It does not judge the serial (the caller
// compares it with the one it applied) nor the bytes (VerifyManifest ties
// them to p.Version).
func VerifyPush(trusted []ed25519.PublicKey, screenID string, p ManifestPush) error {
	root, err := ProofRoot(BatchLeaf(screenID, p.Version), p.Proof)
	if err != nil {
		return err
	}
	for _, k := range trusted {
		if KeyID(k) != p.Sig.KeyID {
			continue
		}
		if len(p.Sig.Sig) != ed25519.SignatureSize || !ed25519.Verify(k, BatchMessage(p.Sig, root), p.Sig.Sig) {
			return fmt.Errorf("%w: bad batch signature by key %s", ErrSignature, p.Sig.KeyID)
		}
		return nil
	}
	return fmt.Errorf("%w: signed by unknown key %s", ErrSignature, p.Sig.KeyID)
}

// PushFrames builds the "manifest" frames of one batch: every frame is the
// same bytes but for its proof, so the shared parts are encoded once and
// each screen's frame is assembled when it is written. The manifest is the
// frame's last field, so a reader may take its bytes without scanning them
// (the load tool does; it still checks their hash, as every reader must:
// VerifyPush covers the version, VerifyManifest ties the bytes to it).
type PushFrames struct {
	tree *BatchTree
	head []byte // {"type":"manifest","data":{"version":..,"sig":{..},"proof":[
	tail []byte // ],"manifest":<bytes>}}
}

// NewPushFrames prepares the frames of a batch whose tree and signature
// are given, carrying body (the manifest's exact bytes) of version.
func NewPushFrames(tree *BatchTree, sig BatchSig, version string, body []byte) (*PushFrames, error) {
	sigJSON, err := json.Marshal(sig)
	if err != nil {
		return nil, err
	}
	verJSON, err := json.Marshal(version)
	if err != nil {
		return nil, err
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("push frame: manifest of %s is not JSON", version)
	}
	head := make([]byte, 0, 64+len(verJSON)+len(sigJSON))
	head = append(head, `{"type":"`+MsgManifest+`","data":{"version":`...)
	head = append(head, verJSON...)
	head = append(head, `,"sig":`...)
	head = append(head, sigJSON...)
	head = append(head, `,"proof":[`...)
	tail := make([]byte, 0, len(body)+16)
	tail = append(tail, `],"manifest":`...)
	tail = append(tail, body...)
	tail = append(tail, `}}`...)
	return &PushFrames{tree: tree, head: head, tail: tail}, nil
}

// AppendFrame appends leaf i's whole frame to dst.
func (f *PushFrames) AppendFrame(dst []byte, i int) []byte {
	dst = append(dst, f.head...)
	dst = f.tree.AppendProof(dst, i)
	return append(dst, f.tail...)
}

// FrameLen is an upper bound of one frame's length.
func (f *PushFrames) FrameLen() int {
	return len(f.head) + len(f.tail) + (len(f.tree.levels))*(4+2*sha256.Size+1)
}
