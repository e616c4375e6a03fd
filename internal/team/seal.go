package team

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/waasctl/waasctl/internal/credentials"
	"github.com/waasctl/waasctl/internal/textsafe"
)

// Pins are the team's approved recipients, from config.yaml (state.recipients), which a team
// keeps in its reviewed ops repository. Every write encrypts to them only, and refuses while
// the database's recipients table differs; every read accepts only an item sealed by one of
// them for exactly this set. The database alone cannot add a member (docs/team.md, threat
// model).
type Pins struct {
	recipients []Recipient // sorted by name, PublicKey in age's spelling
	// Where names the config block, for messages: "state.recipients in /path/config.yaml".
	Where string
}

// ErrNoPins: config.yaml pins no recipient, and team mode reads and writes keys only for a
// pinned set.
var ErrNoPins = errors.New("config.yaml pins no team recipient: add 'recipients: {NAME: age1...}' under 'state:' (the members 'waasctl team recipients list' shows, after checking each key with its owner; see docs/team.md)")

// NewPins checks pinned recipients (name to age1... key); where names their config block.
func NewPins(m map[string]string, where string) (*Pins, error) {
	p := &Pins{Where: where}
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if err := CheckRecipientName(name); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		k, err := ParseRecipient(m[name])
		if err != nil {
			return nil, fmt.Errorf("%s: recipient %s: %w", where, name, err)
		}
		if other, ok := seen[k.String()]; ok {
			return nil, fmt.Errorf("%s: recipients %s and %s pin the same key: keep one", where, other, name)
		}
		seen[k.String()] = name
		p.recipients = append(p.recipients, Recipient{Name: name, PublicKey: k.String()})
	}
	return p, nil
}

// Recipients lists the pinned recipients by name.
func (p *Pins) Recipients() []Recipient { return slices.Clone(p.recipients) }

func (p *Pins) byKey(key string) (Recipient, bool) {
	i := slices.IndexFunc(p.recipients, func(r Recipient) bool { return r.PublicKey == key })
	if i < 0 {
		return Recipient{}, false
	}
	return p.recipients[i], true
}

// with is p after adding rs (replacing none) and removing the names in drop.
func (p *Pins) with(rs []Recipient, drop ...string) *Pins {
	out := &Pins{Where: p.Where}
	for _, r := range p.recipients {
		if !slices.Contains(drop, r.Name) && !slices.ContainsFunc(rs, func(x Recipient) bool { return x.Name == r.Name }) {
			out.recipients = append(out.recipients, r)
		}
	}
	out.recipients = append(out.recipients, rs...)
	slices.SortFunc(out.recipients, func(a, b Recipient) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Map is the pins as config.yaml holds them.
func (p *Pins) Map() map[string]string {
	m := map[string]string{}
	for _, r := range p.recipients {
		m[r.Name] = r.PublicKey
	}
	return m
}

// checkMatches says, in one line, how the database's recipients differ from the pins: the
// refusal every encrypting write gives.
func (p *Pins) checkMatches(db []Recipient) error {
	if len(p.recipients) == 0 {
		return ErrNoPins
	}
	for _, r := range db {
		key := r.PublicKey
		if k, err := ParseRecipient(key); err == nil {
			key = k.String()
		}
		pinned, ok := p.byKey(key)
		if !ok {
			return &UnpinnedError{Recipient: r, Where: p.Where}
		}
		if pinned.Name != r.Name {
			return fmt.Errorf("the team store lists %s's key under the name %s: the names in the recipients table and in %s must agree (see docs/team.md)", pinned.Name, r.Name, p.Where)
		}
	}
	for _, r := range p.recipients {
		if !slices.ContainsFunc(db, func(x Recipient) bool { return x.Name == r.Name }) {
			return fmt.Errorf("%s pins recipient %s (%s), which the team store does not list: add it with 'waasctl team recipients add %s %s', or unpin it", p.Where, r.Name, r.PublicKey, r.Name, r.PublicKey)
		}
	}
	return nil
}

// UnpinnedError: the database lists a recipient that config.yaml does not pin.
type UnpinnedError struct {
	Recipient Recipient
	Where     string
}

func (e *UnpinnedError) Error() string {
	return fmt.Sprintf("the team store lists recipient %s (%s) that %s does not pin: if you added them, pin them there; if not, someone wrote to the database: remove it with 'waasctl team recipients remove %s' and see docs/team.md", textsafeName(e.Recipient.Name), shortKey(e.Recipient.PublicKey), e.Where, textsafeName(e.Recipient.Name))
}

// sealInfo is the HKDF info of an item's MAC keys; a new sealing scheme gets a new one.
const sealInfo = "waasctl team item v1"

// itemSeal is stored beside each key item (key_items.seal): who wrote it and, for each pinned
// recipient, an HMAC only that recipient (and the writer) can compute. The writer's key and
// each recipient's agree on a MAC key by X25519, as age itself does, so a database writer, who
// holds no member's private key, can produce none of them.
type itemSeal struct {
	V         int               `json:"v"`
	Writer    string            `json:"writer"`    // the writer's name among the pins
	WriterKey string            `json:"writerKey"` // its age1... key
	SealedFor []string          `json:"sealedFor"` // the pinned keys, sorted
	MACs      map[string]string `json:"macs"`      // recipient key -> base64 HMAC-SHA256
}

// sealItem seals ciphertext, written by id as version of profile, for the pinned set p.
func sealItem(id *Identity, p *Pins, profile string, version int64, ciphertext []byte) (string, error) {
	me, ok := p.byKey(id.Recipient())
	if !ok {
		return "", fmt.Errorf("this host's %s is not pinned in %s: only a pinned member can write the team's keys", id, p.Where)
	}
	priv, err := id.ecdhKey()
	if err != nil {
		return "", err
	}
	s := itemSeal{V: 1, Writer: me.Name, WriterKey: me.PublicKey, MACs: map[string]string{}}
	for _, r := range p.recipients {
		s.SealedFor = append(s.SealedFor, r.PublicKey)
	}
	slices.Sort(s.SealedFor)
	msg := sealMessage(profile, version, me.PublicKey, s.SealedFor, ciphertext)
	for _, key := range s.SealedFor {
		mac, err := itemMAC(priv, me.PublicKey, key, msg)
		if err != nil {
			return "", err
		}
		s.MACs[key] = base64.StdEncoding.EncodeToString(mac)
	}
	out, err := json.Marshal(s)
	return string(out), err
}

// SealError says why a key item was refused: its seal does not show that a pinned member wrote
// it for the pinned set.
type SealError struct {
	Profile string
	Reason  string
}

// Unwrap makes a refused item a damaged one: 'auth remove' deletes it, 'auth add --force'
// replaces it, and checks over every profile skip it.
func (e *SealError) Unwrap() error { return credentials.ErrItemDamaged }

func (e *SealError) Error() string {
	return fmt.Sprintf("profile %s: refusing its key in the team store: %s; if a member stored it, re-store it with 'waasctl auth add %s --force', else remove it with 'waasctl auth remove %s' (see docs/team.md)", e.Profile, e.Reason, e.Profile, e.Profile)
}

// verifySeal checks that the row (profile, version, ciphertext, seal) was sealed by a writer
// in writers for exactly the keys of sealedFor, with a MAC id can check.
func verifySeal(id *Identity, writers, sealedFor *Pins, profile string, version int64, ciphertext []byte, sealText string) error {
	fail := func(format string, args ...any) error {
		return &SealError{Profile: profile, Reason: fmt.Sprintf(format, args...)}
	}
	if sealText == "" {
		return fail("it has no seal (written by a waasctl before sealed items, or by someone who can write the database)")
	}
	var s itemSeal
	if err := json.Unmarshal([]byte(sealText), &s); err != nil || s.V != 1 {
		return fail("its seal is not one this waasctl reads")
	}
	writer, ok := writers.byKey(s.WriterKey)
	if !ok {
		return fail("its writer %s (%s) is not pinned in %s", textsafeName(s.Writer), shortKey(s.WriterKey), writers.Where)
	}
	want := make([]string, 0, len(sealedFor.recipients))
	for _, r := range sealedFor.recipients {
		want = append(want, r.PublicKey)
	}
	slices.Sort(want)
	if !slices.Equal(s.SealedFor, want) {
		return fail("it was sealed for another recipient set than %s pins (a copy from before a member change, or someone who can write the database)", sealedFor.Where)
	}
	mine := id.Recipient()
	got, err := base64.StdEncoding.DecodeString(s.MACs[mine])
	if err != nil || len(got) != sha256.Size {
		return fail("its seal has no MAC for this host's %s", id)
	}
	priv, err := id.ecdhKey()
	if err != nil {
		return err
	}
	mac, err := itemMAC(priv, writer.PublicKey, mine, sealMessage(profile, version, writer.PublicKey, s.SealedFor, ciphertext))
	if err != nil {
		return fail("its writer's key is not usable")
	}
	if !hmac.Equal(mac, got) {
		return fail("its seal does not verify: %s did not write this version of it", writer.Name)
	}
	return nil
}

// sealMessage is what each MAC covers, every field length-prefixed: the profile, the row's
// version, the writer's key, the sorted pinned keys and the ciphertext's SHA-256.
func sealMessage(profile string, version int64, writerKey string, sealedFor []string, ciphertext []byte) []byte {
	var b bytes.Buffer
	field := func(s string) {
		b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(s))))
		b.WriteString(s)
	}
	field(sealInfo)
	field(profile)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(version)))
	field(writerKey)
	b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(sealedFor))))
	for _, k := range sealedFor {
		field(k)
	}
	sum := sha256.Sum256(ciphertext)
	b.Write(sum[:])
	return b.Bytes()
}

// itemMAC is HMAC-SHA256(HKDF-SHA256(X25519(priv, peer), salt = writer's point || recipient's
// point, info = sealInfo), msg). X25519 is symmetric, so the writer (its private key, the
// recipient's point) and the recipient (its private key, the writer's point) get the same key.
func itemMAC(priv *ecdh.PrivateKey, writerKey, recipientKey string, msg []byte) ([]byte, error) {
	w, err := recipientPoint(writerKey)
	if err != nil {
		return nil, err
	}
	r, err := recipientPoint(recipientKey)
	if err != nil {
		return nil, err
	}
	peer := r
	if bytes.Equal(priv.PublicKey().Bytes(), r.Bytes()) {
		peer = w // the reader's side
	}
	shared, err := priv.ECDH(peer) // refuses a low-order point (all-zero output)
	if err != nil {
		return nil, errors.New("X25519 with a team key failed")
	}
	defer clear(shared)
	salt := append(w.Bytes(), r.Bytes()...)
	key, err := hkdf.Key(sha256.New, shared, salt, sealInfo, 32)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	h := hmac.New(sha256.New, key)
	h.Write(msg)
	return h.Sum(nil), nil
}

// recipientPoint is an age1... key's X25519 point.
func recipientPoint(key string) (*ecdh.PublicKey, error) {
	b, err := bech32Bytes(key, "age")
	if err != nil {
		return nil, errors.New("not an age X25519 recipient")
	}
	return ecdh.X25519().NewPublicKey(b)
}

// ecdhKey is the identity's X25519 private key, for sealing. age keeps its scalar private, so
// it is decoded from the identity's own encoding; neither the text nor the error ever leaves.
func (i *Identity) ecdhKey() (*ecdh.PrivateKey, error) {
	b, err := bech32Bytes(i.id.String(), "age-secret-key-")
	if err != nil {
		return nil, errors.New("this host's age identity cannot be decoded for sealing")
	}
	defer clear(b)
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return nil, errors.New("this host's age identity cannot be decoded for sealing")
	}
	if pub, err := recipientPoint(i.Recipient()); err != nil || !pub.Equal(k.PublicKey()) {
		return nil, errors.New("this host's age identity does not match its public key")
	}
	return k, nil
}

// bech32Bytes decodes a bech32 string of human-readable part hrp into 32 bytes. age's strings
// are longer than BIP-173's 90 characters, hence DecodeNoLimit.
func bech32Bytes(s, hrp string) ([]byte, error) {
	gotHRP, data, err := bech32.DecodeNoLimit(s)
	if err != nil || gotHRP != hrp {
		return nil, errors.New("bad bech32")
	}
	b, err := bech32.ConvertBits(data, 5, 8, false)
	clear(data)
	if err != nil || len(b) != 32 {
		clear(b)
		return nil, errors.New("bad length")
	}
	return b, nil
}

// textsafeName is a name or key read from the database, safe to print.
func textsafeName(s string) string {
	if CheckRecipientName(s) == nil {
		return s // letters, digits and . _ @ -: nothing to neutralise
	}
	return textsafe.Value(s)
}

func shortKey(k string) string {
	if r, err := ParseRecipient(k); err == nil {
		return r.String()[:12] + "…"
	}
	return textsafe.Value(k) // read from the database: maybe anything
}
