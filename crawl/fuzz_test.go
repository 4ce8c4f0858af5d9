package crawl

import "testing"

// FuzzParseConfig checks that no config document makes the loader panic,
// and that whatever it accepts passes its own validation again.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("seeds: [http://a.example/]\nworkers: 4\n"))
	f.Add([]byte("politeness:\n  rate: 1.5\n  hosts:\n    a.example: {rate: 2}\n"))
	f.Add([]byte("extract:\n  - name: p\n    match: '*'\n    fields:\n      - {name: a, selector: h1, type: price}\n"))
	f.Add([]byte("limits: {max_body_size: 10MiB}\nfetch: {total_timeout: 5s}\n"))
	f.Add([]byte("seeds: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("fuzz.yaml", data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := cfg.validate(); err != nil {
			t.Fatalf("accepted config fails validation: %v", err)
		}
	})
}
