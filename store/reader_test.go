package store

import "testing"

func TestDollars(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1": "SELECT 1",
		"SELECT a FROM t WHERE x = ? AND y IN (?, ?)": "SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)",
		"SELECT '?', \"?\" FROM t WHERE x = ?":        "SELECT '?', \"?\" FROM t WHERE x = $1",
		"SELECT 'it''s ?' WHERE x = ? -- why?\nAND ?": "SELECT 'it''s ?' WHERE x = $1 -- why?\nAND $2",
		"SELECT 'unterminated ?":                      "SELECT 'unterminated ?",
		"-- ?":                                        "-- ?",
	} {
		if got := dollars(in); got != want {
			t.Errorf("dollars(%q) = %q, want %q", in, got, want)
		}
	}
	if r := NewReader(nil, Dialect{}); r.Rebind("x = ?") != "x = ?" {
		t.Errorf("Rebind without Dollar changed the placeholders")
	}
}
