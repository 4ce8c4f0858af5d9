package parse

import (
	"math/bits"
	"strings"
	"testing"
)

// wordsText is n words drawn from a small vocabulary by a generator
// seeded with seed: texts of different seeds share words, not phrases.
func wordsText(seed uint64, n int) string {
	vocab := strings.Fields("river stone market garden winter paper light copper window bridge table signal " +
		"harbor pencil silver morning forest quiet number engine cotton travel summer castle ladder orange")
	var b strings.Builder
	x := seed
	for i := range n {
		x = x*6364136223846793005 + 1442695040888963407
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocab[(x>>33)%uint64(len(vocab))])
	}
	return b.String()
}

// TestSimHash: the same words give the same fingerprint whatever their
// case, spacing and punctuation; a small edit of a page-long text moves it
// a few bits; a text of the same words in other phrases lands far away; a
// text too short has none.
func TestSimHash(t *testing.T) {
	text := wordsText(1, 600)
	a, ok := SimHash(text)
	if !ok {
		t.Fatal("no SimHash for 600 words")
	}
	if b, _ := SimHash(strings.ToUpper(strings.ReplaceAll(text, " ", " ,\n "))); b != a {
		t.Errorf("case, spacing and punctuation changed the SimHash: %016x, %016x", a, b)
	}
	edited, _ := SimHash(text + " Edition 2 · 2026-01-03")
	if d := bits.OnesCount64(a ^ edited); d > 6 {
		t.Errorf("an edition line moved the SimHash %d bits", d)
	}
	other, _ := SimHash(wordsText(2, 600))
	if d := bits.OnesCount64(a ^ other); d < 16 {
		t.Errorf("two texts of the same words in other phrases are only %d bits apart", d)
	}
	if _, ok := SimHash("Page not found. Back to the home page."); ok {
		t.Error("a text of 8 words has a SimHash")
	}
	if _, ok := SimHash(wordsText(3, MinSimHashWords)); !ok {
		t.Errorf("no SimHash for %d words", MinSimHashWords)
	}
}
