package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/url"
	"strconv"
)

const (
	// DefaultPageSize is what a list call returns when pageSize is unset,
	// as the protos document for most list calls.
	DefaultPageSize = 50
	// DefaultBalancesPageSize is ListBalances' and ListBalanceDetails'
	// documented default ("at most 25 if unspecified").
	DefaultBalancesPageSize = 25
	// MaxPageSize is the largest page the sandbox returns; a larger pageSize
	// is coerced to it (AIP-158). The real maximum is not documented.
	MaxPageSize = 1000
)

// page is a parsed pageSize/pageToken pair.
type page struct {
	size   int
	offset int
	list   string // what the token is bound to: method, parent, filters
}

// parsePage reads pageSize and pageToken. A token is bound to the list call
// it came from (list) and is authenticated, so a forged or reused token is
// rejected instead of silently returning the wrong rows.
func (s *Server) parsePage(q url.Values, list string, defaultSize int) (page, error) {
	p := page{size: defaultSize, list: list}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 0 {
			return p, invalidArg("pageSize must be a non-negative integer")
		}
		if n > 0 {
			p.size = int(min(n, MaxPageSize))
		}
	}
	if tok := q.Get("pageToken"); tok != "" {
		off, ok := s.openPageToken(tok, list)
		if !ok {
			return p, invalidArg("invalid pageToken: it must be the nextPageToken of the same list request")
		}
		p.offset = off
	}
	return p, nil
}

// window returns the [start, end) rows of a list of n rows and the token for
// the next page ("" on the last page).
func (s *Server) window(p page, n int) (start, end int, next string) {
	start = min(p.offset, n)
	end = min(start+p.size, n)
	if end < n {
		next = s.pageToken(p.list, end)
	}
	return start, end, next
}

func (s *Server) pageToken(list string, offset int) string {
	buf := binary.AppendUvarint(nil, uint64(offset))
	return base64.RawURLEncoding.EncodeToString(append(buf, s.tokenMAC(list, buf)...))
}

func (s *Server) openPageToken(tok, list string) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 1+tokenMACSize {
		return 0, false
	}
	body, mac := raw[:len(raw)-tokenMACSize], raw[len(raw)-tokenMACSize:]
	if subtle.ConstantTimeCompare(mac, s.tokenMAC(list, body)) != 1 {
		return 0, false
	}
	off, n := binary.Uvarint(body)
	if n != len(body) || off > 1<<40 {
		return 0, false
	}
	return int(off), true
}

const tokenMACSize = 12

func (s *Server) tokenMAC(list string, body []byte) []byte {
	m := hmac.New(sha256.New, s.state.TokenSecret)
	m.Write([]byte(list))
	m.Write([]byte{0})
	m.Write(body)
	return m.Sum(nil)[:tokenMACSize]
}
