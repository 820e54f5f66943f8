package main

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// scryptKey is scrypt (RFC 7914) with p=1, computing what golang.org/x/crypto/scrypt.Key does,
// but with its 128·r·N-byte array V passed in (*v, grown when too short) so that a hashing worker
// reuses one V through a burst of sign-ins. scrypt.Key allocates a fresh 32 MiB V per hash: under
// a sign-in flood that garbage set off a collection for nearly every hash, and every collection
// stops the world, which waits for the workers' low-priority threads to get a core (hashpool.go):
// get-session's tail paid for it. The primitives are x/crypto/scrypt's (BSD licence, The Go
// Authors) with V made a parameter; TestScryptKeyMatchesXCrypto holds them to scrypt.Key and to
// RFC 7914's vectors.
func scryptKey(password string, salt []byte, n, r, keyLen int, v *[]uint32) ([]byte, error) {
	if n <= 1 || n&(n-1) != 0 || n > 1<<24 || r <= 0 || r > 1<<10 {
		return nil, fmt.Errorf("scrypt: bad parameters N=%d r=%d", n, r)
	}
	if len(*v) < 32*r*n {
		*v = make([]uint32, 32*r*n)
	}
	b, err := pbkdf2.Key(sha256.New, password, salt, 1, 128*r)
	if err != nil {
		return nil, fmt.Errorf("scrypt: %w", err)
	}
	romix(b, r, n, *v, make([]uint32, 64*r))
	return pbkdf2.Key(sha256.New, password, b, 1, keyLen)
}

// romix is scrypt's ROMix over the block b (128·r bytes, replaced by the result), with V and the
// scratch xy (64·r words).
func romix(b []byte, r, n int, v, xy []uint32) {
	var tmp [16]uint32
	words := 32 * r
	x, y := xy[:words], xy[words:]
	for i := range x {
		x[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	for i := 0; i < n; i += 2 {
		copy(v[i*words:], x)
		blockMix(&tmp, x, y, r)
		copy(v[(i+1)*words:], y)
		blockMix(&tmp, y, x, r)
	}
	for i := 0; i < n; i += 2 {
		j := int(integerify(x, r) & uint64(n-1))
		blockXOR(x, v[j*words:(j+1)*words])
		blockMix(&tmp, x, y, r)
		j = int(integerify(y, r) & uint64(n-1))
		blockXOR(y, v[j*words:(j+1)*words])
		blockMix(&tmp, y, x, r)
	}
	for i, w := range x {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
}

// integerify reads the first two words of in's last 64-byte block as one little-endian integer.
func integerify(in []uint32, r int) uint64 {
	j := (2*r - 1) * 16
	return uint64(in[j]) | uint64(in[j+1])<<32
}

func blockXOR(dst, src []uint32) {
	for i, w := range src {
		dst[i] ^= w
	}
}

// blockMix is scrypt's BlockMix with Salsa20/8: out gets the even sub-blocks' results in its
// first half and the odd ones' in its second.
func blockMix(tmp *[16]uint32, in, out []uint32, r int) {
	copy(tmp[:], in[(2*r-1)*16:])
	for i := 0; i < 2*r; i += 2 {
		salsaXOR(tmp, in[i*16:], out[i*8:])
		salsaXOR(tmp, in[i*16+16:], out[i*8+r*16:])
	}
}

// salsaXOR applies Salsa20/8 to the XOR of tmp and in's first 16 words, into both tmp and out.
func salsaXOR(tmp *[16]uint32, in, out []uint32) {
	var w [16]uint32
	for i := range w {
		w[i] = tmp[i] ^ in[i]
	}
	x0, x1, x2, x3, x4, x5, x6, x7 := w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]
	x8, x9, x10, x11, x12, x13, x14, x15 := w[8], w[9], w[10], w[11], w[12], w[13], w[14], w[15]
	for range 4 {
		x4 ^= bits.RotateLeft32(x0+x12, 7)
		x8 ^= bits.RotateLeft32(x4+x0, 9)
		x12 ^= bits.RotateLeft32(x8+x4, 13)
		x0 ^= bits.RotateLeft32(x12+x8, 18)
		x9 ^= bits.RotateLeft32(x5+x1, 7)
		x13 ^= bits.RotateLeft32(x9+x5, 9)
		x1 ^= bits.RotateLeft32(x13+x9, 13)
		x5 ^= bits.RotateLeft32(x1+x13, 18)
		x14 ^= bits.RotateLeft32(x10+x6, 7)
		x2 ^= bits.RotateLeft32(x14+x10, 9)
		x6 ^= bits.RotateLeft32(x2+x14, 13)
		x10 ^= bits.RotateLeft32(x6+x2, 18)
		x3 ^= bits.RotateLeft32(x15+x11, 7)
		x7 ^= bits.RotateLeft32(x3+x15, 9)
		x11 ^= bits.RotateLeft32(x7+x3, 13)
		x15 ^= bits.RotateLeft32(x11+x7, 18)
		x1 ^= bits.RotateLeft32(x0+x3, 7)
		x2 ^= bits.RotateLeft32(x1+x0, 9)
		x3 ^= bits.RotateLeft32(x2+x1, 13)
		x0 ^= bits.RotateLeft32(x3+x2, 18)
		x6 ^= bits.RotateLeft32(x5+x4, 7)
		x7 ^= bits.RotateLeft32(x6+x5, 9)
		x4 ^= bits.RotateLeft32(x7+x6, 13)
		x5 ^= bits.RotateLeft32(x4+x7, 18)
		x11 ^= bits.RotateLeft32(x10+x9, 7)
		x8 ^= bits.RotateLeft32(x11+x10, 9)
		x9 ^= bits.RotateLeft32(x8+x11, 13)
		x10 ^= bits.RotateLeft32(x9+x8, 18)
		x12 ^= bits.RotateLeft32(x15+x14, 7)
		x13 ^= bits.RotateLeft32(x12+x15, 9)
		x14 ^= bits.RotateLeft32(x13+x12, 13)
		x15 ^= bits.RotateLeft32(x14+x13, 18)
	}
	x := [16]uint32{x0, x1, x2, x3, x4, x5, x6, x7, x8, x9, x10, x11, x12, x13, x14, x15}
	for i := range x {
		x[i] += w[i]
	}
	*tmp = x
	copy(out[:16], x[:])
}
