package playlists

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// slowAcked is the reference: how a frame decodes with encoding/json.
func slowAcked(frame []byte) (typ string, a Applied, hb Heartbeat, ok bool) {
	env, err := Decode(frame)
	if err != nil {
		return "", a, hb, false
	}
	switch env.Type {
	case MsgApplied:
		ok = env.DecodeData(&a) == nil
	case MsgHeartbeat:
		ok = env.DecodeData(&hb) == nil
	}
	return env.Type, a, hb, ok
}

// checkAcked fails t if DecodeAcked accepts frame and decodes it otherwise
// than encoding/json does.
func checkAcked(t *testing.T, frame []byte) bool {
	t.Helper()
	typ, a, hb, ok := DecodeAcked(frame)
	if !ok {
		return false
	}
	styp, sa, shb, sok := slowAcked(frame)
	if !sok || typ != styp || !reflect.DeepEqual(a, sa) || !reflect.DeepEqual(hb, shb) {
		t.Fatalf("frame %s:\nfast %q %+v %+v\njson %q %+v %+v (ok %v)", frame, typ, a, hb, styp, sa, shb, sok)
	}
	return true
}

func randomHeartbeat(r *rand.Rand) Heartbeat {
	num := func() int64 {
		switch r.IntN(6) {
		case 0:
			return 0
		case 1:
			return math.MaxInt64
		case 2:
			return math.MinInt64
		case 3:
			return -r.Int64N(1000)
		}
		return r.Int64()
	}
	str := func() string {
		switch r.IntN(4) {
		case 0:
			return ""
		case 1:
			return "item-" + strings.Repeat("a", r.IntN(40))
		}
		return "9f13c2f837b253f68fc7cddf918e581f5e55d4e8012c867bf9c46f146e58f291"[:r.IntN(64)]
	}
	return Heartbeat{
		CurrentItem: str(), CurrentSince: num(), AppliedVersion: str(), UptimeS: num(),
		CacheBytes: num(), DiskFreeBytes: num(), DiskTotalBytes: num(), PlayerVersion: str(),
		ClockOffsetMS: num(), PageAlive: r.IntN(2) == 0, LastSyncError: str(), ManifestRejected: str(),
		DownloadFailures: int(num()), PlaysPending: num(), PlaysDropped: num(),
	}
}

// Every frame the player writes in the plain shape takes the fast path and
// decodes exactly as encoding/json decodes it.
func TestDecodeAckedMatchesJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		hb := randomHeartbeat(r)
		var frame []byte
		var err error
		switch r.IntN(3) {
		case 0:
			frame, err = Encode(MsgHeartbeat, hb)
		case 1:
			frame, err = Encode(MsgApplied, Applied{Version: hb.AppliedVersion + "v"})
		default:
			frame, err = Encode(MsgApplied, Applied{Version: "v" + hb.AppliedVersion, Heartbeat: &hb})
		}
		if err != nil {
			t.Fatal(err)
		}
		if !checkAcked(t, frame) {
			t.Fatalf("the plain frame %s was not taken by the fast path", frame)
		}
		// The same frame spaced out as a person might write it.
		spaced := bytes.NewBuffer(nil)
		if err := json.Indent(spaced, frame, " ", "\t"); err != nil {
			t.Fatal(err)
		}
		if !checkAcked(t, spaced.Bytes()) {
			t.Fatalf("the indented frame %s was not taken by the fast path", spaced)
		}
	}
}

// Frames outside the plain shape are left to encoding/json (ok false), and
// none of them is decoded differently.
func TestDecodeAckedLeavesTheRest(t *testing.T) {
	for _, frame := range []string{
		``,
		`{}`,
		`{"type":"applied"}`,
		`{"data":{"version":"v"},"type":"applied"}`,
		`{"Type":"applied","data":{"version":"v"}}`,
		`{"type":"applied","data":{"Version":"v"}}`,
		`{"type":"applied","data":{"version":"v"},"extra":1}`,
		`{"type":"applied","data":{"version":"v"}} x`,
		`{"type":"applied","data":{"version":"v"}}}`,
		`{"type":"applied","data":{"version":"v",}}`,
		`{"type":"applied","data":{"version":null}}`,
		`{"type":"applied","data":{"version":"v\u0041"}}`,
		`{"type":"applied","data":{"version":"√"}}`,
		`{"type":"applied","data":{"version":"v","heartbeat":null}}`,
		`{"type":"applied","data":{"version":"v","unknown":1}}`,
		`{"type":"appl\u0069ed","data":{"version":"v"}}`,
		`{"type":"hello","data":{"player_version":"1"}}`,
		`{"type":"heartbeat","data":{"uptime_s":1.5}}`,
		`{"type":"heartbeat","data":{"uptime_s":1e3}}`,
		`{"type":"heartbeat","data":{"uptime_s":01}}`,
		`{"type":"heartbeat","data":{"uptime_s":-}}`,
		`{"type":"heartbeat","data":{"uptime_s":99999999999999999999}}`,
		`{"type":"heartbeat","data":{"uptime_s":"1"}}`,
		`{"type":"heartbeat","data":{"page_alive":tru}}`,
		`{"type":"heartbeat","data":{"page_alive":1}}`,
		`{"type":"heartbeat","data":{"update":{"state":"running"}}}`,
		`{"type":"heartbeat","data":{"current_item":"a"` + "\n" + `b"}}`,
	} {
		if checkAcked(t, []byte(frame)) {
			t.Errorf("fast path took %s", frame)
		}
	}
	// Shapes it does take: an empty heartbeat, a repeated key (the last
	// wins, and a repeated heartbeat fills the same one, as in
	// encoding/json), white space everywhere, a negative zero.
	for _, frame := range []string{
		`{"type":"heartbeat","data":{}}`,
		`{"type":"applied","data":{"version":"a","version":"b"}}`,
		`{"type":"applied","data":{"version":"v","heartbeat":{"uptime_s":1,"page_alive":true},"heartbeat":{"cache_bytes":2}}}`,
		" {\n\"type\" : \"heartbeat\" ,\t\"data\":{ \"clock_offset_ms\" : -0 } } \r\n",
	} {
		if !checkAcked(t, []byte(frame)) {
			t.Errorf("fast path left %s", frame)
		}
	}
}

// FuzzDecodeAcked: whatever the bytes, an accepted frame decodes as
// encoding/json decodes it.
func FuzzDecodeAcked(f *testing.F) {
	hb := Heartbeat{CurrentItem: "it", CurrentSince: 5, AppliedVersion: "v1", UptimeS: 9, PlayerVersion: "1.2", PageAlive: true, PlaysDropped: -3}
	a, _ := Encode(MsgApplied, Applied{Version: "v1", Heartbeat: &hb})
	h, _ := Encode(MsgHeartbeat, hb)
	f.Add(a)
	f.Add(h)
	f.Add([]byte(`{"type":"applied","data":{"version":"v"}}`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		checkAcked(t, frame)
	})
}

func BenchmarkDecodeAcked(b *testing.B) {
	hb := Heartbeat{CurrentItem: "item-123456", CurrentSince: 1764480000000, AppliedVersion: strings.Repeat("9f", 32),
		UptimeS: 12345, CacheBytes: 123456789, DiskFreeBytes: 1234567890, DiskTotalBytes: 9876543210,
		PlayerVersion: "1.4.2", ClockOffsetMS: -12, PageAlive: true, PlaysPending: 3}
	frame, err := Encode(MsgApplied, Applied{Version: hb.AppliedVersion, Heartbeat: &hb})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, ok := DecodeAcked(frame); !ok {
				b.Fatal("not taken")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if _, _, _, ok := slowAcked(frame); !ok {
				b.Fatal("not decoded")
			}
		}
	})
}

// Encode writes exactly what marshalling the envelope would.
func TestEncodeIsMarshalOfEnvelope(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	values := []any{nil, Hello{PlayerVersion: "1 <b>&</b>"}, VersionNote{Version: "v"}, ErrorNote{Error: "a\"b\\c\n\u2028"},
		[]int{1, 2}, map[string]any{"k": []string{"<", ">"}}, "text", 12, json.RawMessage(`{"a": 1}`)}
	for range 200 {
		hb := randomHeartbeat(r)
		values = append(values, hb, Applied{Version: hb.PlayerVersion, Heartbeat: &hb})
	}
	for _, typ := range []string{MsgApplied, MsgHeartbeat, "odd\"type<>", ""} {
		for _, v := range values {
			got, err := Encode(typ, v)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(v)
			want, _ := json.Marshal(Envelope{Type: typ, Data: data})
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode(%q, %#v):\n got %s\nwant %s", typ, v, got, want)
			}
		}
	}
}

func BenchmarkEncodeApplied(b *testing.B) {
	hb := Heartbeat{CurrentItem: "item-123456", CurrentSince: 1764480000000, AppliedVersion: strings.Repeat("9f", 32),
		UptimeS: 12345, CacheBytes: 123456789, PlayerVersion: "1.4.2", PageAlive: true}
	a := Applied{Version: hb.AppliedVersion, Heartbeat: &hb}
	b.Run("Encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := Encode(MsgApplied, a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("marshal-envelope", func(b *testing.B) {
		for b.Loop() {
			data, _ := json.Marshal(a)
			if _, err := json.Marshal(Envelope{Type: MsgApplied, Data: data}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
