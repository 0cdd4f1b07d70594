package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"kiosk/playlists"
)

// Proof-of-play buckets:
//
//   - plays: start (big-endian unix ms) + screen id + 0x00 + big-endian
//     sequence → binary play record. Keyed by time so a report over a date
//     range is one cursor Seek and a walk, whatever the total history.
//   - play_ids: screen id + 0x00 + play id → the plays key. A play uploaded
//     twice (a retry after a lost answer, in a differently cut batch) is
//     stored once.
//   - play_batches: screen id + 0x00 + batch id → JSON batchRecord. The same
//     batch sent again is answered from here and adds nothing.
//   - play_batches_at: the time a batch record was written (big-endian
//     unix ms) + its play_batches key → nothing. The prune seeks the
//     expired records here instead of reading the 30 days it keeps.
//     Created by the first upload that writes it (no schema step).
var (
	bucketPlays         = []byte("plays")
	bucketPlayIDs       = []byte("play_ids")
	bucketPlayBatches   = []byte("play_batches")
	bucketPlayBatchesAt = []byte("play_batches_at")
)

// Report groupings.
const (
	GroupByItem   = "item"
	GroupByScreen = "screen"
	GroupByGroup  = "group"
	GroupByDay    = "day"
	// GroupByKind counts by the item's kind (legal_story, notice, psa),
	// "urgent" for urgent notices, "" for items deleted since.
	GroupByKind = "kind"
	// GroupByScreenDay counts per screen per calendar day, for a heat-map
	// of where screens were dark; rows carry Screen and Day.
	GroupByScreenDay = "screen_day"
)

// KindUrgent is GroupByKind's key for urgent notices.
const KindUrgent = "urgent"

// reportChunk bounds how many plays one read transaction of a report walks.
// A long read transaction keeps bbolt from growing the file under writers
// (ingest), so a report over millions of plays is cut into short ones. A
// variable so tests can make chunks tiny.
var reportChunk = 50_000

func migratePlays(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketPlays, bucketPlayIDs, bucketPlayBatches} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// StoredPlay is a play as the server keeps it: the screen's upload plus the
// screen and the group it belonged to when the play arrived, so moving a
// screen to another group later does not rewrite past reports.
type StoredPlay struct {
	playlists.Play
	Screen string `json:"screen"`
	Group  string `json:"group,omitempty"`
}

// IngestResult says what IngestPlays did with a batch.
type IngestResult struct {
	Accepted  int  // plays newly stored
	Skipped   int  // plays dated implausibly far in the future, not stored
	Duplicate bool // the batch id was seen before; nothing was stored
}

// maxPlayAhead is how far past the server's clock a play may start. The
// player dates plays on its server-corrected clock, so anything later is a
// broken clock; stored, it would sit in every future report and escape the
// retention prune for years.
const maxPlayAhead = 24 * time.Hour

type batchRecord struct {
	Accepted int       `json:"accepted"`
	At       time.Time `json:"at"`
}

// IngestPlays stores a validated batch from screenID in one transaction.
// It is idempotent twice over: a batch id seen before for this screen adds
// nothing, and within a new batch every play id already stored for this
// screen is skipped. The screen's current group is recorded with each play.
//
// Batches from many screens share one commit (bbolt's DB.Batch): at
// 10,000 screens uploading every few minutes, one fsync per batch would
// queue every other writer behind them. Batch may run the function again
// after another one in the same commit failed; being idempotent, it
// starts its count afresh each time.
func (s *Store) IngestPlays(screenID string, b playlists.PlayBatch) (IngestResult, error) {
	var res IngestResult
	if screenID == "" || b.BatchID == "" {
		return res, errors.New("ingest plays: screen id and batch id are required")
	}
	err := s.db.Batch(func(tx *bolt.Tx) error {
		res = IngestResult{}
		var sc screenRecord
		ok, err := getJSON(tx.Bucket(bucketScreens), screenID, &sc)
		if err != nil {
			return err
		}
		if !ok {
			return NotFoundError{Kind: "screen", ID: screenID}
		}
		batches := tx.Bucket(bucketPlayBatches)
		bk := screenKey(screenID, b.BatchID)
		if batches.Get(bk) != nil {
			res.Duplicate = true
			return nil
		}
		plays, ids := tx.Bucket(bucketPlays), tx.Bucket(bucketPlayIDs)
		latest := s.now().Add(maxPlayAhead).UnixMilli()
		for _, p := range b.Plays {
			if p.Start > latest {
				res.Skipped++
				continue
			}
			ik := screenKey(screenID, p.ID)
			if ids.Get(ik) != nil {
				continue
			}
			seq, err := plays.NextSequence()
			if err != nil {
				return err
			}
			pk := playKey(p.Start, screenID, seq)
			rec := StoredPlay{Play: p, Screen: screenID, Group: sc.Group}
			if err := plays.Put(pk, encodePlay(rec)); err != nil {
				return err
			}
			if err := ids.Put(ik, pk); err != nil {
				return err
			}
			res.Accepted++
		}
		at := s.now().UTC()
		raw, err := json.Marshal(batchRecord{Accepted: res.Accepted, At: at})
		if err != nil {
			return err
		}
		if err := indexBatch(tx, bk, at); err != nil {
			return err
		}
		return batches.Put(bk, raw)
	})
	if err != nil {
		return IngestResult{}, fmt.Errorf("ingest plays from %s: %w", screenID, err)
	}
	return res, nil
}

// screenKey is screen id + 0x00 + rest. Ids never contain NUL (the API
// checks), so the key is unambiguous.
func screenKey(screen, rest string) []byte {
	k := make([]byte, 0, len(screen)+1+len(rest))
	k = append(k, screen...)
	k = append(k, 0)
	return append(k, rest...)
}

func playKey(startMS int64, screen string, seq uint64) []byte {
	k := make([]byte, 8, 8+len(screen)+1+8)
	binary.BigEndian.PutUint64(k, uint64(max(startMS, 0)))
	k = append(k, screen...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// encodePlay writes a compact binary record: a report walks millions of
// these, and decoding JSON would dominate its time. Layout: start (varint),
// duration ms (uvarint), flags (1 byte, bit 0 urgent), then id, screen,
// group, item, playlist, schedule as uvarint length + bytes.
func encodePlay(p StoredPlay) []byte {
	b := make([]byte, 0, 24+len(p.ID)+len(p.Screen)+len(p.Group)+len(p.Item)+len(p.Playlist)+len(p.Schedule))
	b = binary.AppendVarint(b, p.Start)
	b = binary.AppendUvarint(b, uint64(max(p.DurationMS, 0)))
	var flags byte
	if p.Urgent {
		flags |= 1
	}
	b = append(b, flags)
	for _, f := range []string{p.ID, p.Screen, p.Group, p.Item, p.Playlist, p.Schedule} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// playView is a decoded record whose strings still point into bbolt's
// memory: valid only inside the transaction, and free to make.
type playView struct {
	start, durationMS int64
	urgent            bool
	fields            [6][]byte // id, screen, group, item, playlist, schedule
}

const (
	fieldID = iota
	fieldScreen
	fieldGroup
	fieldItem
	fieldPlaylist
	fieldSchedule
)

var errBadPlayRecord = errors.New("corrupt play record")

func decodePlayView(b []byte, v *playView) error {
	start, n := binary.Varint(b)
	if n <= 0 {
		return errBadPlayRecord
	}
	b = b[n:]
	d, n := binary.Uvarint(b)
	if n <= 0 || len(b) < n+1 {
		return errBadPlayRecord
	}
	v.start, v.durationMS, v.urgent = start, int64(d), b[n]&1 != 0
	b = b[n+1:]
	for i := range v.fields {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return errBadPlayRecord
		}
		v.fields[i] = b[n : n+int(l)]
		b = b[n+int(l):]
	}
	return nil
}

func (v *playView) stored() StoredPlay {
	return StoredPlay{
		Play: playlists.Play{
			ID: string(v.fields[fieldID]), Item: string(v.fields[fieldItem]),
			Playlist: string(v.fields[fieldPlaylist]), Schedule: string(v.fields[fieldSchedule]),
			Urgent: v.urgent, Start: v.start, DurationMS: v.durationMS,
		},
		Screen: string(v.fields[fieldScreen]),
		Group:  string(v.fields[fieldGroup]),
	}
}

// ListPlays returns the plays that started in [from, to), oldest first, at
// most limit of them (limit < 1: no limit). Reports should use PlayReport;
// this is for exports and tests.
func (s *Store) ListPlays(from, to time.Time, limit int) ([]StoredPlay, error) {
	out := []StoredPlay{}
	err := s.walkPlays(from, to, func(v *playView) bool {
		out = append(out, v.stored())
		return limit < 1 || len(out) < limit
	})
	return out, err
}

// walkPlays calls fn for every play that started in [from, to), in start
// order, in bounded read transactions. fn returns false to stop.
func (s *Store) walkPlays(from, to time.Time, fn func(*playView) bool) error {
	seek := playKey(from.UnixMilli(), "", 0)[:8]
	end := to.UnixMilli()
	for {
		var next []byte
		err := s.db.View(func(tx *bolt.Tx) error {
			cur := tx.Bucket(bucketPlays).Cursor()
			var v playView
			n := 0
			for k, raw := cur.Seek(seek); k != nil; k, raw = cur.Next() {
				if len(k) < 8 || int64(binary.BigEndian.Uint64(k)) >= end {
					return nil
				}
				if n == reportChunk {
					next = bytes.Clone(k)
					return nil
				}
				n++
				if err := decodePlayView(raw, &v); err != nil {
					return fmt.Errorf("play %x: %w", k, err)
				}
				if !fn(&v) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read plays: %w", err)
		}
		if next == nil {
			return nil
		}
		seek = next
	}
}

// ReportQuery asks for plays that started in [From, To), grouped by one of
// the GroupBy constants. Days are calendar days in Loc. Screen and Group,
// when set, keep only that screen's plays or those of screens that were in
// that group when they played.
type ReportQuery struct {
	From, To time.Time
	GroupBy  string
	Loc      *time.Location
	Screen   string
	Group    string
}

// ReportRow is one line of a play report.
type ReportRow struct {
	Key     string  `json:"key"`
	Label   string  `json:"label"`
	Plays   int64   `json:"plays"`
	Seconds float64 `json:"seconds"`
	// Screen and Day are set by GroupByScreenDay, whose Key is "Day/Screen".
	Screen string `json:"screen,omitempty"`
	Day    string `json:"day,omitempty"`
}

type reportAcc struct {
	plays, ms int64
}

// PlayReport counts plays and the time they were shown per item, screen,
// group or day. Rows are sorted by key; labels are the current title, name
// or the date, and the key itself for something deleted since.
func (s *Store) PlayReport(q ReportQuery) ([]ReportRow, error) {
	loc := q.Loc
	if loc == nil {
		loc = time.UTC
	}
	field := -1
	switch q.GroupBy {
	case GroupByItem:
		field = fieldItem
	case GroupByScreen:
		field = fieldScreen
	case GroupByGroup:
		field = fieldGroup
	case GroupByKind:
		field = fieldItem // by item first; kinds are looked up once per item
	case GroupByDay, GroupByScreenDay:
	default:
		return nil, fmt.Errorf("play report: unknown grouping %q", q.GroupBy)
	}
	acc := map[string]*reportAcc{}
	// Plays arrive in start order, so the current day's bounds are worked
	// out once per day, not once per play.
	var dayKey string
	var dayFrom, dayTo int64 = 1, 0
	urgentItems := map[string]bool{}
	err := s.walkPlays(q.From, q.To, func(v *playView) bool {
		if q.Screen != "" && string(v.fields[fieldScreen]) != q.Screen ||
			q.Group != "" && string(v.fields[fieldGroup]) != q.Group {
			return true
		}
		var a *reportAcc
		if q.GroupBy == GroupByKind && v.urgent && !urgentItems[string(v.fields[fieldItem])] {
			urgentItems[string(v.fields[fieldItem])] = true
		}
		if field >= 0 {
			// The map lookup with string(bytes) does not allocate; only a
			// new key is copied.
			a = acc[string(v.fields[field])]
			if a == nil {
				a = &reportAcc{}
				acc[string(v.fields[field])] = a
			}
		} else {
			if v.start < dayFrom || v.start >= dayTo {
				t := time.UnixMilli(v.start).In(loc)
				y, m, d := t.Date()
				first := time.Date(y, m, d, 0, 0, 0, 0, loc)
				dayFrom, dayTo = first.UnixMilli(), first.AddDate(0, 0, 1).UnixMilli()
				dayKey = first.Format(time.DateOnly)
			}
			key := dayKey
			if q.GroupBy == GroupByScreenDay {
				key = dayKey + "/" + string(v.fields[fieldScreen])
			}
			a = acc[key]
			if a == nil {
				a = &reportAcc{}
				acc[key] = a
			}
		}
		a.plays++
		a.ms += v.durationMS
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("play report: %w", err)
	}
	if q.GroupBy == GroupByKind {
		if acc, err = s.byKind(acc, urgentItems); err != nil {
			return nil, fmt.Errorf("play report: %w", err)
		}
	}
	rows := make([]ReportRow, 0, len(acc))
	for k, a := range acc {
		r := ReportRow{Key: k, Label: k, Plays: a.plays, Seconds: float64(a.ms) / 1000}
		if q.GroupBy == GroupByScreenDay {
			r.Day, r.Screen, _ = strings.Cut(k, "/")
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Key < rows[j].Key })
	if err := s.labelRows(q.GroupBy, rows); err != nil {
		return nil, fmt.Errorf("play report: %w", err)
	}
	return rows, nil
}

// byKind folds per-item counts into per-kind ones, reading each item's
// kind once.
func (s *Store) byKind(perItem map[string]*reportAcc, urgent map[string]bool) (map[string]*reportAcc, error) {
	out := map[string]*reportAcc{}
	err := s.db.View(func(tx *bolt.Tx) error {
		for id, a := range perItem {
			kind := ""
			var it playlists.Item
			if urgent[id] {
				kind = KindUrgent
			} else if ok, _ := getJSON(tx.Bucket(bucketItems), id, &it); ok {
				kind = string(it.Kind)
			}
			k := out[kind]
			if k == nil {
				k = &reportAcc{}
				out[kind] = k
			}
			k.plays += a.plays
			k.ms += a.ms
		}
		return nil
	})
	return out, err
}

// labelRows fills in titles and names in one short transaction. A screen
// × day report names each screen on up to 366 rows: each name is read once.
func (s *Store) labelRows(groupBy string, rows []ReportRow) error {
	names := map[string]string{}
	return s.db.View(func(tx *bolt.Tx) error {
		for i := range rows {
			r := &rows[i]
			switch groupBy {
			case GroupByItem:
				var it playlists.Item
				if ok, _ := getJSON(tx.Bucket(bucketItems), r.Key, &it); ok && it.Title != "" {
					r.Label = it.Title
				} else if title := urgentTitle(tx, r.Key); title != "" {
					r.Label = title
				}
			case GroupByScreen, GroupByScreenDay:
				id := r.Key
				if groupBy == GroupByScreenDay {
					id = r.Screen
				}
				name, seen := names[id]
				if !seen {
					name = id
					var sc screenRecord
					if ok, _ := getJSON(tx.Bucket(bucketScreens), id, &sc); ok && sc.Name != "" {
						name = sc.Name
					}
					names[id] = name
				}
				r.Label = name
			case GroupByKind:
				if r.Key == "" {
					r.Label = "(deleted item)"
				}
			case GroupByGroup:
				if r.Key == "" {
					r.Label = "(no group)"
					continue
				}
				var g playlists.Group
				if ok, _ := getJSON(tx.Bucket(bucketGroups), r.Key, &g); ok && g.Name != "" {
					r.Label = g.Name
				}
			}
		}
		return nil
	})
}

// urgentTitle finds the title of an urgent notice for a report label. Urgent
// notices live in their own bucket (owned by the urgent-notice code); a
// notice deleted since leaves its id as the label.
func urgentTitle(tx *bolt.Tx, id string) string {
	b := tx.Bucket([]byte("urgent"))
	if b == nil {
		return ""
	}
	var u playlists.Urgent
	if ok, _ := getJSON(b, id, &u); ok {
		return u.Title
	}
	return ""
}
