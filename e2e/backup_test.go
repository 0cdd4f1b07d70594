package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kiosk/server/usercmd"
)

// TestBackupAndRestoreWhileServing: a backup taken through the CLI while
// the server accepts a steady stream of writes holds every write
// acknowledged before it started; a backup restored into a fresh data dir
// serves byte-identical manifests and the same media, so the player,
// which pinned the server's key, carries on with what it has: same
// version, nothing to download, no trust error.
func TestBackupAndRestoreWhileServing(t *testing.T) {
	srv := startServer(t)
	img := srv.uploadPNG(color.RGBA{R: 200, G: 40, B: 40, A: 255})
	first := srv.item("notice", "停水通知", "明天 9:00–12:00 3 号楼停水。", img, 10)
	pl := srv.playlist("通知", first)
	srv.scheduleAll(pl, 1)
	creds := srv.screen("东门大屏", "")
	cache := cachePath(t, "player")
	p := startPlayer(t, srv.url(), creds.Token, cache)
	var applied string
	waitFor(t, 20*time.Second, "the player applies the content", func() bool {
		st := p.state()
		applied = st.AppliedVersion
		return st.Online && applied != ""
	})

	// A steady stream of acknowledged writes, as an editor's script would.
	var (
		mu    sync.Mutex
		acked []struct {
			id string
			at time.Time
		}
		stop atomic.Bool
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			body, _ := json.Marshal(map[string]any{"kind": "notice", "title": fmt.Sprintf("通知 %d", i), "duration_s": 10})
			req, _ := http.NewRequest(http.MethodPost, srv.url()+"/api/v1/items", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("write under load: %v", err)
				return
			}
			var out struct{ ID string }
			json.NewDecoder(resp.Body).Decode(&out)
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
				t.Errorf("write under load: HTTP %d", resp.StatusCode)
				return
			}
			mu.Lock()
			acked = append(acked, struct {
				id string
				at time.Time
			}{out.ID, time.Now()})
			mu.Unlock()
		}
	}()
	waitFor(t, 10*time.Second, "writes under way", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 5
	})

	dir := t.TempDir()
	underLoad := filepath.Join(dir, "under-load.tar")
	getenv := func(k string) string {
		if k == "KIOSK_ADMIN_TOKEN" {
			return adminToken
		}
		return ""
	}
	var out, errOut bytes.Buffer
	started := time.Now()
	if code := usercmd.RunBackup([]string{"-to", underLoad, "-server", srv.url()}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("kiosk-server backup under load: exit %d: %s", code, errOut.String())
	}
	stop.Store(true)
	wg.Wait()
	t.Logf("backup under load: %s", bytes.TrimSpace(out.Bytes()))
	var before []string
	for _, a := range acked {
		if a.at.Before(started) {
			before = append(before, a.id)
		}
	}

	// A quiet backup, to compare what the restored server serves.
	quiet := filepath.Join(dir, "quiet.tar")
	if code := usercmd.RunBackup([]string{"-to", quiet, "-server", srv.url()}, getenv, &out, &errOut); code != 0 {
		t.Fatalf("kiosk-server backup: exit %d: %s", code, errOut.String())
	}
	wantManifest := rawGET(t, srv.url()+"/api/v1/screens/"+creds.ID+"/manifest")
	wantAssets := rawGET(t, srv.url()+"/api/v1/assets")
	waitFor(t, 20*time.Second, "the player applies the last write", func() bool {
		st := p.state()
		applied = st.AppliedVersion
		return st.Online && st.LastSyncError == "" && bytes.Contains(wantManifest, []byte(applied))
	})
	p.stop()
	srv.stop()

	// Restore the backup taken under load: every write acknowledged before
	// it started is there.
	loadDir := filepath.Join(dir, "restored-under-load")
	if code := usercmd.RunRestore([]string{"-from", underLoad, "-data", loadDir}, &out, &errOut); code != 0 {
		t.Fatalf("kiosk-server restore: exit %d: %s", code, errOut.String())
	}
	loaded := &testServer{t: t, dataDir: loadDir}
	loaded.start("127.0.0.1:0")
	for _, id := range before {
		if code := loaded.call(http.MethodGet, "/items/"+id, nil, nil); code != http.StatusOK {
			t.Errorf("item %s, acknowledged before the backup started, after restore: HTTP %d", id, code)
		}
	}
	loaded.stop()
	if len(before) == 0 {
		t.Fatal("no write was acknowledged before the backup started; the test proves nothing")
	}
	t.Logf("%d writes acknowledged before the backup under load; all present after restore", len(before))

	// Restore the quiet backup where the server was and start it on the
	// same address: the player reconnects to it by itself.
	quietDir := filepath.Join(dir, "restored")
	if code := usercmd.RunRestore([]string{"-from", quiet, "-data", quietDir}, &out, &errOut); code != 0 {
		t.Fatalf("kiosk-server restore: exit %d: %s", code, errOut.String())
	}
	restored := &testServer{t: t, dataDir: quietDir}
	restored.start(srv.addr)
	t.Cleanup(restored.stop)
	if got := rawGET(t, restored.url()+"/api/v1/screens/"+creds.ID+"/manifest"); !bytes.Equal(got, wantManifest) {
		t.Errorf("manifest after restore differs:\n got %s\nwant %s", got, wantManifest)
	}
	if got := rawGET(t, restored.url()+"/api/v1/assets"); !bytes.Equal(got, wantAssets) {
		t.Errorf("asset listing after restore differs:\n got %s\nwant %s", got, wantAssets)
	}
	p2 := startPlayer(t, restored.url(), creds.Token, cache)
	waitFor(t, 20*time.Second, "the player back online with the restored server", func() bool {
		st := p2.state()
		return st.Online && st.LastSyncError == ""
	})
	time.Sleep(time.Second) // a sync would have happened by now
	if st := p2.state(); st.AppliedVersion != applied || st.LastSyncError != "" {
		t.Errorf("player after restore: version %s (error %q), want %s unchanged", short(st.AppliedVersion), st.LastSyncError, short(applied))
	}

	// A damaged copy is refused and creates nothing.
	b, err := os.ReadFile(quiet)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x01
	damaged := filepath.Join(dir, "damaged.tar")
	if err := os.WriteFile(damaged, b, 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "never")
	errOut.Reset()
	if code := usercmd.RunRestore([]string{"-from", damaged, "-data", target}, io.Discard, &errOut); code != 1 {
		t.Errorf("restore of a damaged archive: exit %d, want 1", code)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("a refused restore created %s", target)
	}
	t.Logf("damaged archive refused: %s", bytes.TrimSpace(errOut.Bytes()))
}

func rawGET(t *testing.T, url string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", url, resp.StatusCode, b)
	}
	return b
}
