package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
)

// rawUpload posts body as multipart/form-data with boundary "b0undary".
func rawUpload(v *env, body io.Reader) *httptest.ResponseRecorder {
	v.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/assets", body)
	req.Header.Set("Content-Type", `multipart/form-data; boundary="b0undary"`)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	rec := httptest.NewRecorder()
	v.e.ServeHTTP(rec, req)
	return rec
}

// filePart is a multipart body with one "file" part carrying extra header
// lines; nl is the line end ("\r\n", or "\n", which mime/multipart accepts).
func filePart(nl, extraHeaders string, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("preamble, ignored" + nl)
	b.WriteString("--b0undary" + nl)
	b.WriteString(`Content-Disposition: form-data; name="note"` + nl + nl + "hello" + nl)
	b.WriteString("--b0undary" + nl)
	b.WriteString(`Content-Disposition: form-data; name="file"; filename="a.png"` + nl)
	b.WriteString("Content-Type: image/png" + nl)
	b.WriteString(extraHeaders)
	b.WriteString(nl)
	b.Write(data)
	b.WriteString(nl + "--b0undary--" + nl + "epilogue, ignored")
	return b.Bytes()
}

// Part headers are bounded at a few KB and refused with 400 and a code;
// mime/multipart alone would hold up to 10 MB of them in memory.
func TestUploadPartHeaderBounded(t *testing.T) {
	big := func(n int) string { return "X-Pad: " + strings.Repeat("a", n) + "\r\n" }
	many := strings.Repeat("X-Many: "+strings.Repeat("m", 90)+"\r\n", 200) // 20 KB in short lines
	tests := []struct {
		name    string
		body    []byte
		oneByte bool // feed the body one byte per read
		want    int
	}{
		{"ordinary part", filePart("\r\n", "", pngBytes("ok-1")), false, 201},
		{"ordinary part, one byte per read", filePart("\r\n", "", pngBytes("ok-2")), true, 201},
		{"LF line ends", filePart("\n", "", pngBytes("ok-3")), false, 201},
		{"header just under the bound", filePart("\r\n", big(maxPartHeaderBytes-200), pngBytes("ok-4")), false, 201},
		{"one 32 KB header", filePart("\r\n", big(32<<10), pngBytes("no-1")), false, 400},
		{"one 32 KB header, one byte per read", filePart("\r\n", big(32<<10), pngBytes("no-2")), true, 400},
		{"many short headers", filePart("\r\n", many, pngBytes("no-3")), false, 400},
		{"LF line ends, 32 KB header", filePart("\n", "X-Pad: "+strings.Repeat("a", 32<<10)+"\n", pngBytes("no-4")), false, 400},
		{"a 2 MB header under a 16 MB upload limit", filePart("\r\n", big(2<<20), pngBytes("no-5")), false, 400},
	}
	v := newEnv(t, func(o *Options) { o.MaxUploadBytes = 16 << 20 })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r io.Reader = bytes.NewReader(tt.body)
			if tt.oneByte {
				r = iotest.OneByteReader(r)
			}
			rec := rawUpload(v, r)
			if rec.Code != tt.want {
				t.Fatalf("status: got %d %s, want %d", rec.Code, rec.Body, tt.want)
			}
			if tt.want != 400 {
				return
			}
			var e struct{ Error, Code string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("decode %s: %v", rec.Body, err)
			}
			if e.Code != "part_header_too_large" || !strings.Contains(e.Error, "headers exceed") {
				t.Errorf("answer %+v, want code part_header_too_large and a message naming the headers", e)
			}
		})
	}
	if as, _ := v.st.ListAssets(); len(as) != 4 {
		t.Errorf("assets stored: got %d, want 4 (refused uploads store nothing)", len(as))
	}
}

// A part body may hold anything that is not a delimiter line, including
// "--b0undary" in mid-line and lines that start with it and go on.
func TestPartHeaderLimiterIgnoresBodies(t *testing.T) {
	body := []byte("x--b0undary\r\n--b0undaryX" + strings.Repeat("z", 3*maxPartHeaderBytes) + "\r\n\r\n" + strings.Repeat("y", maxPartHeaderBytes))
	v := newEnv(t, func(o *Options) { o.MaxUploadBytes = 1 << 20 })
	rec := rawUpload(v, bytes.NewReader(filePart("\r\n", "", append(pngBytes("body"), body...))))
	if rec.Code != http.StatusCreated {
		t.Fatalf("status: got %d %s, want 201", rec.Code, rec.Body)
	}
}
