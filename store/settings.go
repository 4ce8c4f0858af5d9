package store

import (
	"fmt"
	"slices"
	"strings"
)

// SettingsDiffer reports a configuration whose settings (crawl.Config
// Settings) differ from those the crawl recorded at its first run.
type SettingsDiffer struct {
	Groups []string // the groups that differ, sorted
}

func (e *SettingsDiffer) Error() string {
	return fmt.Sprintf("the config differs from the crawl's recorded settings in %s: every worker of a crawl (and every "+
		"run that resumes it) must crawl the same thing. Use the crawl's config; or start a new crawl under another "+
		"name (name: in the config); or, if the change is deliberate and every worker runs the new config, record it "+
		"with crawler run --update-settings", strings.Join(e.Groups, ", "))
}

// CompareSettings returns the groups of want that recorded holds with
// another value, sorted.
func CompareSettings(recorded, want map[string]string) []string {
	var differ []string
	for g, v := range want {
		if r, ok := recorded[g]; ok && r != v {
			differ = append(differ, g)
		}
	}
	slices.Sort(differ)
	return differ
}
