package parse

import "regexp"

// CompilePattern compiles a URL pattern as extraction rules write their
// match: a glob on the full URL ('*' any run of characters, '?' exactly
// one, '\' escapes), or a regular expression after "re:". Other settings
// that pick URLs (recrawl.patterns) take the same syntax from here.
func CompilePattern(pattern string) (*regexp.Regexp, error) { return compileRuleMatch(pattern) }
