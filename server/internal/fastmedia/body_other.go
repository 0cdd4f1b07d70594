//go:build !linux

package fastmedia

import (
	"errors"
	"io"
	"net"
	"os"
)

var errNoPeek = errors.New("no MSG_PEEK on this platform")

func writeHead(nc *net.TCPConn, b []byte, more bool) error {
	_, err := nc.Write(b)
	return err
}

func sendFile(nc *net.TCPConn, f *os.File, off, n int64) error {
	_, err := io.Copy(nc, io.NewSectionReader(f, off, n))
	return err
}

// peek is not available here: every connection's first bytes are read,
// and a connection that is not a media request is handed over with them.
func peek(*net.TCPConn, []byte) (int, error) { return 0, errNoPeek }
