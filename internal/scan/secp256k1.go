package scan

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
)

// secp256k1 (Bitcoin's and Ethereum's curve) is not a WaaS key, and crypto/x509 does not parse
// it; but it is a private key, reported under --other-keys like any other. Its public key is
// derived here (a scalar multiplication with math/big: slow, constant time not needed, done
// once per key found) to check the stored one and to give it a fingerprint of the same kind
// as every other key's: SHA-256 over its PKIX SubjectPublicKeyInfo.

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}

	k1P, _  = new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F", 16)
	k1N, _  = new(big.Int).SetString("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141", 16)
	k1Gx, _ = new(big.Int).SetString("79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798", 16)
	k1Gy, _ = new(big.Int).SetString("483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8", 16)
)

// otherCurveKey is a private key of a curve Go does not support: only its public key, as a
// PKIX SubjectPublicKeyInfo, for the fingerprint. It cannot sign.
type otherCurveKey struct{ spki []byte }

func (k otherCurveKey) Public() crypto.PublicKey { return k }

func (otherCurveKey) Sign(io.Reader, []byte, crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("secp256k1 keys cannot be used here")
}

func (k otherCurveKey) fingerprint() string {
	sum := sha256.Sum256(k.spki)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// parseSecp256k1 parses a SEC1 or PKCS#8 secp256k1 private key, whose stored public key, if
// any, must be the one its scalar gives.
func parseSecp256k1(der []byte) (crypto.Signer, bool) {
	var sec1 sec1Key
	if rest, err := asn1.Unmarshal(der, &sec1); err != nil || len(rest) > 0 || !sec1.NamedCurveOID.Equal(oidSecp256k1) {
		var p8 struct {
			Version    int
			Algo       pkix.AlgorithmIdentifier
			PrivateKey []byte
		}
		if rest, err := asn1.Unmarshal(der, &p8); err != nil || len(rest) > 0 || !p8.Algo.Algorithm.Equal(oidECPublicKey) {
			return nil, false
		}
		var curve asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(p8.Algo.Parameters.FullBytes, &curve); err != nil || !curve.Equal(oidSecp256k1) {
			return nil, false
		}
		if _, err := asn1.Unmarshal(p8.PrivateKey, &sec1); err != nil || len(sec1.NamedCurveOID) > 0 && !sec1.NamedCurveOID.Equal(oidSecp256k1) {
			return nil, false
		}
	}
	if sec1.Version != 1 || len(sec1.PrivateKey) == 0 || len(sec1.PrivateKey) > 32 {
		return nil, false
	}
	d := new(big.Int).SetBytes(sec1.PrivateKey)
	if d.Sign() == 0 || d.Cmp(k1N) >= 0 {
		return nil, false
	}
	x, y := k1ScalarBaseMult(d)
	point := make([]byte, 65)
	point[0] = 4
	x.FillBytes(point[1:33])
	y.FillBytes(point[33:])
	if stored := sec1.PublicKey.Bytes; len(stored) > 0 {
		compressed := append([]byte{byte(2 + y.Bit(0))}, point[1:33]...)
		if !bytes.Equal(stored, point) && !bytes.Equal(stored, compressed) {
			return nil, false // a damaged key: its stored public key is not its scalar's
		}
	}
	params, _ := asn1.Marshal(oidSecp256k1)
	spki, err := asn1.Marshal(struct {
		Algo      pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}}, asn1.BitString{Bytes: point, BitLength: 8 * len(point)}})
	if err != nil {
		return nil, false
	}
	return otherCurveKey{spki: spki}, true
}

// k1ScalarBaseMult computes d·G on secp256k1 (y² = x³ + 7) in affine coordinates.
func k1ScalarBaseMult(d *big.Int) (*big.Int, *big.Int) {
	var rx, ry *big.Int // the point at infinity while nil
	px, py := new(big.Int).Set(k1Gx), new(big.Int).Set(k1Gy)
	for i := 0; i < d.BitLen(); i++ {
		if d.Bit(i) == 1 {
			rx, ry = k1Add(rx, ry, px, py)
		}
		px, py = k1Add(px, py, px, py)
	}
	return rx, ry
}

func k1Add(x1, y1, x2, y2 *big.Int) (*big.Int, *big.Int) {
	if x1 == nil {
		return new(big.Int).Set(x2), new(big.Int).Set(y2)
	}
	var l *big.Int
	if x1.Cmp(x2) == 0 {
		if y1.Cmp(y2) != 0 || y1.Sign() == 0 {
			return nil, nil // P + (-P)
		}
		// λ = 3x² / 2y
		num := new(big.Int).Mul(x1, x1)
		num.Mul(num, big.NewInt(3))
		den := new(big.Int).Lsh(y1, 1)
		l = num.Mul(num, den.ModInverse(den.Mod(den, k1P), k1P))
	} else {
		// λ = (y2 - y1) / (x2 - x1)
		num := new(big.Int).Sub(y2, y1)
		den := new(big.Int).Sub(x2, x1)
		l = num.Mul(num, den.ModInverse(den.Mod(den, k1P), k1P))
	}
	l.Mod(l, k1P)
	x3 := new(big.Int).Mul(l, l)
	x3.Sub(x3, x1).Sub(x3, x2).Mod(x3, k1P)
	y3 := new(big.Int).Sub(x1, x3)
	y3.Mul(y3, l).Sub(y3, y1).Mod(y3, k1P)
	return x3, y3
}
