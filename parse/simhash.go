package parse

import (
	"unicode"
	"unicode/utf8"

	"github.com/cespare/xxhash/v2"
)

// shingleWords is how many consecutive words one shingle of SimHash holds.
const shingleWords = 3

// MinSimHashWords is the fewest words a text needs for SimHash: shorter
// texts (an error page, a bare listing) have too few shingles for the
// fingerprint to tell pages apart.
const MinSimHashWords = 20

// SimHash returns the 64-bit SimHash of a text (Charikar): each shingle of
// three consecutive words, lower-cased, is hashed with xxhash, and bit i of
// the result is set when more shingles have bit i set than not. Texts that
// share most of their shingles get fingerprints a few bits apart. ok is
// false for a text of fewer than MinSimHashWords words.
func SimHash(text string) (h uint64, ok bool) {
	var counts [64]int32
	var ring [shingleWords][]byte // the last words, lower-cased
	var buf []byte                // the current shingle: words joined by a space
	words := 0
	for w := range wordsOf(text) {
		ring[words%shingleWords] = w
		words++
		if words < shingleWords {
			continue
		}
		buf = buf[:0]
		for i := range shingleWords {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, ring[(words+i)%shingleWords]...)
		}
		x := xxhash.Sum64(buf)
		for b := range 64 {
			if x&(1<<b) != 0 {
				counts[b]++
			} else {
				counts[b]--
			}
		}
	}
	if words < MinSimHashWords {
		return 0, false
	}
	for b := range 64 {
		if counts[b] > 0 {
			h |= 1 << b
		}
	}
	return h, true
}

// wordsOf yields the words of a text, lower-cased: runs of letters and
// digits. Each word is a fresh slice.
func wordsOf(text string) func(yield func([]byte) bool) {
	return func(yield func([]byte) bool) {
		var w []byte
		for i := 0; i <= len(text); {
			r, size := utf8.RuneError, 1
			if i < len(text) {
				r, size = utf8.DecodeRuneInString(text[i:])
			}
			if i < len(text) && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				w = utf8.AppendRune(w, unicode.ToLower(r))
			} else if len(w) > 0 {
				if !yield(w) {
					return
				}
				w = nil
			}
			i += size
		}
	}
}
