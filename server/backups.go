package server

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"kiosk/server/internal/store"
)

// Scheduled backups (-backup-dir, -backup-every, -backup-keep) write the
// same archive as GET /api/v1/backup into a folder, named by their UTC
// time, and keep the newest -backup-keep of them. A run that fails leaves
// no file behind (the .part is removed) and is logged as an error; the
// next tick tries again.
const backupPrefix, backupSuffix = "kiosk-backup-", ".tar"

// DefaultBackupKeep is how many scheduled backups are kept by default.
const DefaultBackupKeep = 7

func scheduledBackups(ctx context.Context, st *store.Store, cfg Config, log *slog.Logger) {
	if cfg.BackupDir == "" || cfg.BackupEvery <= 0 {
		return
	}
	t := time.NewTicker(cfg.BackupEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := time.Now()
		file, m, err := writeBackupFile(st, cfg.BackupDir, cfg.Now())
		if err != nil {
			log.Error("scheduled backup failed", "dir", cfg.BackupDir, "error", err)
			continue
		}
		log.Info("scheduled backup written", "file", file, "files", len(m.Files), "bytes", m.Bytes(), "took", time.Since(start).Round(time.Millisecond))
		if removed, err := pruneBackups(cfg.BackupDir, cfg.BackupKeep); err != nil {
			log.Warn("could not remove old backups", "dir", cfg.BackupDir, "error", err)
		} else if len(removed) > 0 {
			log.Info("removed old backups", "files", removed)
		}
	}
}

// writeBackupFile writes one archive into dir through a .part file.
func writeBackupFile(st *store.Store, dir string, now time.Time) (string, store.BackupManifest, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", store.BackupManifest{}, err
	}
	file := filepath.Join(dir, backupPrefix+now.UTC().Format("20060102T150405Z")+backupSuffix)
	part := file + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", store.BackupManifest{}, err
	}
	m, err := st.WriteBackup(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(part, file)
	}
	if err != nil {
		os.Remove(part)
		return "", m, fmt.Errorf("write %s: %w", file, err)
	}
	return file, m, nil
}

// pruneBackups removes all but the newest keep archives this server wrote
// in dir (names sort by time); other files are never touched.
func pruneBackups(dir string, keep int) ([]string, error) {
	if keep <= 0 {
		keep = DefaultBackupKeep
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var ours []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, backupPrefix) && strings.HasSuffix(n, backupSuffix) {
			ours = append(ours, n)
		}
	}
	sort.Strings(ours)
	var removed []string
	for len(ours) > keep {
		p := filepath.Join(dir, ours[0])
		if err := os.Remove(p); err != nil {
			return removed, err
		}
		removed = append(removed, ours[0])
		ours = ours[1:]
	}
	return removed, nil
}
