package assets

import (
	"bytes"
	"errors"
	"testing"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want string
		ok   bool
	}{
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), MIMEPNG, true},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, MIMEJPEG, true},
		{"webp", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), MIMEWebP, true},
		{"gif", []byte("GIF89a\x01\x00\x01\x00"), MIMEGIF, true},
		{"mp4", []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"), MIMEMP4, true},
		{"webm", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm"), MIMEWebM, true},
		{"html", []byte("<!DOCTYPE html><html><script>alert(1)</script>"), "", false},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", false},
		{"svg bare", []byte(`<svg onload="alert(1)"></svg>`), "", false},
		{"text", []byte("hello"), "", false},
		{"empty", nil, "", false},
		{"mkv", []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"), "", false},
		{"mov not mp4", []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.head)
			if tt.ok {
				if err != nil || got != tt.want {
					t.Fatalf("Sniff = %q, %v; want %q, nil", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("Sniff = %q, %v; want ErrUnsupported", got, err)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	data := []byte("法律故事 legal story bytes")
	sha := Sum(data)
	if err := Verify(bytes.NewReader(data), sha, int64(len(data))); err != nil {
		t.Fatalf("Verify good bytes: %v", err)
	}
	bad := bytes.Clone(data)
	bad[0] ^= 1
	for name, tc := range map[string]struct {
		r    []byte
		size int64
	}{
		"flipped bit": {bad, int64(len(data))},
		"truncated":   {data[:5], int64(len(data))},
		"too long":    {append(bytes.Clone(data), 'x'), int64(len(data))},
	} {
		t.Run(name, func(t *testing.T) {
			err := Verify(bytes.NewReader(tc.r), sha, tc.size)
			if !errors.Is(err, ErrMismatch) {
				t.Fatalf("Verify = %v, want ErrMismatch", err)
			}
		})
	}
	if len(sha) != 64 {
		t.Fatalf("Sum length = %d, want 64", len(sha))
	}
}
