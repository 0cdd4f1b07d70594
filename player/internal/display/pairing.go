package display

import "time"

// PairingHint is the instruction under the code, for the technician in
// front of the screen.
const PairingHint = "请在管理后台「添加屏幕」中输入此配对码"

// Pairing is what a screen without credentials shows: the code a
// technician enters in the admin page, until when it is valid, and which
// server it is waiting on.
type Pairing struct {
	Code      string    // as the server gave it, without spaces
	ExpiresAt time.Time // on the server's clock
	Server    string    // the server's base URL, shown small
}

// pairingView is the show event's pairing part; the page covers the
// screen with it while it is set.
type pairingView struct {
	Code      string `json:"code"`       // as given, for tests and copying
	Display   string `json:"display"`    // grouped 4-4 for reading from afar
	ExpiresAt int64  `json:"expires_at"` // unix ms, server clock
	Server    string `json:"server"`
	Hint      string `json:"hint"`
}

// SetPairing shows p over everything, or takes the pairing view down
// (nil). Every connected page follows at once.
func (s *Server) SetPairing(p *Pairing) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p == nil {
		s.pairing = nil
	} else {
		cp := *p
		s.pairing = &cp
	}
	s.notify()
}

// pairingView is the pairing part of the show event. s.mu must be held.
func (s *Server) pairingView() *pairingView {
	p := s.pairing
	if p == nil || p.Code == "" {
		return nil
	}
	return &pairingView{
		Code: p.Code, Display: groupCode(p.Code), ExpiresAt: p.ExpiresAt.UnixMilli(),
		Server: p.Server, Hint: PairingHint,
	}
}

// pairingState is what /state reports. s.mu must be held.
func (s *Server) pairingState() (string, *time.Time) {
	p := s.pairing
	if p == nil || p.Code == "" {
		return "", nil
	}
	at := p.ExpiresAt
	return p.Code, &at
}

// groupCode splits a code into groups of four: "ABCD EFGH" is read and
// typed without losing one's place.
func groupCode(code string) string {
	out := make([]byte, 0, len(code)+len(code)/4)
	for i := 0; i < len(code); i++ {
		if i > 0 && i%4 == 0 {
			out = append(out, ' ')
		}
		out = append(out, code[i])
	}
	return string(out)
}
