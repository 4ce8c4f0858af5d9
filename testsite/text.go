package testsite

import (
	"strconv"
	"time"
)

// mix hashes a seed and a few integers into 64 well-mixed bits
// (splitmix64 finalizer applied after each value). Every pseudo-random
// choice in the site goes through it, so content depends only on its inputs.
func mix(vals ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, v := range vals {
		h ^= v + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h = splitmix(h)
	}
	return h
}

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// strHash is FNV-1a, used to turn a path into a generator seed.
func strHash(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// rng is a tiny deterministic generator (splitmix64). Its sequence is fixed
// by this file, not by the Go release, so pages never change between Go
// versions.
type rng struct{ state uint64 }

func newRNG(vals ...uint64) *rng { return &rng{state: mix(vals...)} }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return splitmix(r.state)
}

// intn returns a value in [0, n); n must be positive.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// between returns a value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r *rng) pick(list []string) string { return list[r.intn(len(list))] }

// sentence appends one sentence of n words, capitalised and ending in a period.
func (r *rng) sentence(b []byte, n int) []byte {
	for i := range n {
		w := words[r.intn(len(words))]
		if i == 0 {
			b = append(b, w[0]-'a'+'A')
			b = append(b, w[1:]...)
			continue
		}
		b = append(b, ' ')
		b = append(b, w...)
	}
	return append(b, '.')
}

// paragraph appends the text of a paragraph of a few sentences (no tags).
func (r *rng) paragraph(b []byte) []byte {
	n := r.between(3, 7)
	for i := range n {
		if i > 0 {
			b = append(b, ' ')
		}
		b = r.sentence(b, r.between(8, 20))
	}
	return b
}

// title returns a title-cased phrase of n words.
func (r *rng) title(n int) string {
	var b []byte
	for i := range n {
		if i > 0 {
			b = append(b, ' ')
		}
		w := words[r.intn(len(words))]
		b = append(b, w[0]-'a'+'A')
		b = append(b, w[1:]...)
	}
	return string(b)
}

// day returns a day in 2025 chosen by r.
func (r *rng) day() time.Time {
	m := r.between(1, 12)
	d := r.between(1, 28)
	return time.Date(2025, time.Month(m), d, 0, 0, 0, 0, time.UTC)
}

// date returns an ISO date in 2025 chosen by r, as day does.
func (r *rng) date() string { return r.day().Format(time.DateOnly) }

func appendPad2(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// capitalize upper-cases the first byte of an ASCII word.
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

var words = []string{
	"about", "above", "across", "action", "active", "actual", "adapter", "admit", "adult", "advance",
	"after", "again", "agent", "agree", "ahead", "allow", "almost", "alone", "along", "already",
	"amount", "anchor", "animal", "answer", "anyone", "appear", "apple", "approach", "area", "argue",
	"around", "arrive", "article", "artist", "aspect", "assume", "autumn", "avoid", "balance", "basket",
	"battery", "beach", "beauty", "become", "before", "begin", "behind", "believe", "better", "beyond",
	"bicycle", "blanket", "bottle", "branch", "breakfast", "bridge", "bright", "bring", "brother", "budget",
	"build", "button", "cabinet", "camera", "candle", "canvas", "capital", "carbon", "career", "careful",
	"carry", "castle", "center", "century", "certain", "chair", "chance", "change", "channel", "chapter",
	"charge", "choice", "circle", "classic", "clean", "clear", "climate", "close", "coffee", "collect",
	"colour", "comfort", "common", "compact", "copper", "corner", "cotton", "country", "couple", "course",
	"cover", "create", "credit", "crystal", "culture", "current", "custom", "daily", "danger", "debate",
	"decade", "decide", "deliver", "depend", "design", "detail", "device", "differ", "dinner", "direct",
	"discover", "display", "distance", "double", "drawer", "driver", "during", "early", "easily", "eastern",
	"effect", "effort", "either", "electric", "element", "energy", "engine", "enough", "entire", "escape",
	"evening", "event", "exact", "example", "expand", "expert", "fabric", "factor", "family", "fashion",
	"feature", "field", "figure", "filter", "final", "finish", "flavour", "flower", "follow", "forest",
	"format", "forward", "frame", "fresh", "friend", "garden", "gather", "gentle", "glass", "global",
	"golden", "ground", "growth", "guitar", "handle", "happen", "harbor", "harvest", "health", "heavy",
	"height", "helmet", "history", "holiday", "honest", "humble", "husband", "impact", "income", "indoor",
	"inside", "island", "jacket", "journey", "kettle", "kitchen", "ladder", "language", "lantern", "later",
	"leather", "lemon", "letter", "level", "light", "linen", "listen", "little", "local", "machine",
	"market", "matter", "meadow", "measure", "medium", "member", "memory", "method", "middle", "minute",
	"mirror", "modern", "moment", "morning", "motion", "mountain", "narrow", "nature", "nearly", "network",
	"normal", "notice", "number", "object", "ocean", "office", "orange", "origin", "outdoor", "paper",
	"parent", "partner", "pattern", "pencil", "people", "period", "person", "pillow", "planet", "plastic",
	"pocket", "police", "portable", "powder", "practice", "prepare", "pretty", "private", "process", "produce",
	"project", "proper", "public", "purple", "quality", "quarter", "quiet", "rabbit", "radio", "random",
	"rather", "reason", "record", "region", "remote", "repair", "report", "result", "return", "ribbon",
	"river", "rocket", "rubber", "saddle", "safety", "salad", "sample", "season", "second", "secret",
	"select", "series", "server", "settle", "shadow", "signal", "silver", "simple", "single", "sister",
	"social", "socket", "source", "speaker", "spring", "square", "stable", "station", "steel", "stone",
	"strong", "studio", "summer", "supply", "switch", "system", "table", "talent", "target", "theory",
	"thread", "timber", "travel", "twelve", "unique", "united", "useful", "valley", "velvet", "village",
	"visual", "volume", "wallet", "weather", "window", "winter", "wooden", "yellow", "yesterday", "zipper",
}

var categoryWords = []string{
	"electronics", "books", "garden", "kitchen", "outdoor", "toys", "music", "office",
	"clothing", "sports", "beauty", "tools", "lighting", "travel", "pets", "games",
}

var productAdjectives = []string{
	"Compact", "Deluxe", "Classic", "Portable", "Wireless", "Vintage", "Heavy-Duty", "Organic",
	"Smart", "Ergonomic", "Foldable", "Premium", "Rustic", "Modern", "Ultra-Light", "Handmade",
}

var productMaterials = []string{
	"Walnut", "Steel", "Bamboo", "Ceramic", "Leather", "Copper", "Linen", "Glass",
	"Oak", "Carbon", "Wool", "Marble", "Titanium", "Cotton", "Cork", "Brass",
}

var productNouns = []string{
	"Desk Lamp", "Kettle", "Backpack", "Speaker", "Notebook", "Chair", "Headphones", "Teapot",
	"Salt & Pepper Mill", "Bike Light", "Blanket", "Watch", "Plant Pot", `12" Skillet`, "Keyboard", "Umbrella",
}

var authors = []string{
	"Ada Park", "Bruno Costa", "Chen Wei", "Dana O'Neil", "Emil Novak", "Fatima Zahra",
	"Grete Holm", "Hiro Tanaka", "Ines Duarte", "Jonas Berg",
}

var articleLangs = []string{"en", "de", "fr", "es", "en-GB", "it"}
