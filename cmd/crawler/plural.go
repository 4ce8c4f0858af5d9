package main

import "strings"

// plural writes a count and its noun, in the plural unless the count is
// one: "1 page", "2 pages", "1 retry", "3 retries", "1,234 URLs".
func plural[N int | int64](n N, noun string) string {
	count := groupDigits(int64(n))
	if n == 1 {
		return count + " " + noun
	}
	return count + " " + pluralNoun(noun)
}

// pluralNoun returns the plural of an English noun as the CLI uses them.
func pluralNoun(noun string) string {
	if strings.HasSuffix(noun, "y") && len(noun) > 1 && !strings.ContainsRune("aeiou", rune(noun[len(noun)-2])) {
		return noun[:len(noun)-1] + "ies"
	}
	if strings.HasSuffix(noun, "s") || strings.HasSuffix(noun, "x") || strings.HasSuffix(noun, "ch") || strings.HasSuffix(noun, "sh") {
		return noun + "es"
	}
	return noun + "s"
}
