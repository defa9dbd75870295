package generator

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	mrand "math/rand/v2"
)

// secretAlphabet is Django's get_random_secret_key alphabet: no quote or backslash, so the
// key can sit in a Go string literal or a shell variable unescaped.
const secretAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"

// SecretKeyLength matches Django's, 50 characters (about 282 bits).
const SecretKeyLength = 50

var cryptoRand io.Reader = rand.Reader

// SecretKey draws a key of SecretKeyLength characters from secretAlphabet. It rejects
// bytes at or above the largest multiple of the alphabet size so every character is
// equally likely.
func SecretKey(r io.Reader) (string, error) {
	const n = len(secretAlphabet)
	limit := 256 - 256%n
	key := make([]byte, 0, SecretKeyLength)
	buf := make([]byte, 64)
	for len(key) < SecretKeyLength {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("generator: reading random bytes for the secret key: %w", err)
		}
		for _, b := range buf {
			if int(b) < limit && len(key) < SecretKeyLength {
				key = append(key, secretAlphabet[int(b)%n])
			}
		}
	}
	return string(key), nil
}

// SeededReader returns a deterministic stream of bytes derived from seed, for golden tests
// and reproducible output (appgen reads the seed from APPGEN_SECRET_SEED). A key made from
// it is public: never use it for a deployed site.
func SeededReader(seed string) io.Reader {
	return mrand.NewChaCha8(sha256.Sum256([]byte(seed)))
}
