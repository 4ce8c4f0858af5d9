package crawl

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// URLList is a list of URLs in a config file. A single URL may be written
// as a plain value instead of a list of one ("seeds: https://example.com/").
type URLList []string

// UnmarshalYAML implements yaml.Unmarshaler.
func (l *URLList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		*l = URLList{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*l = list
	return nil
}

// valueError is a config value that does not have the form its key needs,
// found while decoding (a size, for instance). yamlError names its key.
type valueError struct {
	line  int
	value string    // a scalar value
	kind  yaml.Kind // the node's kind when it is not a scalar
	msg   string    // what is wrong, with the form to use
}

// got says what the value is: quoted, or its kind.
func (e *valueError) got() string {
	switch e.kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a group of keys"
	}
	return strconv.Quote(e.value)
}

func (e *valueError) Error() string { return fmt.Sprintf("line %d: %s %s", e.line, e.got(), e.msg) }

// wrongType matches yaml's message for a value that does not decode into
// its Go type: "cannot unmarshal !!str `10 seconds` into time.Duration".
var wrongType = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")

// forms says, for the Go types config values decode into, what the value
// must look like.
var forms = map[string]string{
	"time.Duration":  "is not a duration (use e.g. 10s, 1m30s)",
	"int":            "is not a whole number (use e.g. 10)",
	"int64":          "is not a whole number (use e.g. 10)",
	"float64":        "is not a number (use e.g. 2 or 0.5)",
	"bool":           "is not true or false",
	"string":         "is not a single value (write it as text, quoted if need be)",
	"crawl.ByteSize": "is not a size (use e.g. 512KiB, 10MiB, 1GiB)",
}

// kindNames name YAML node kinds in messages.
var kindNames = map[string]string{"seq": "a list", "map": "a group of keys", "null": "empty"}

// teach turns one of yaml's type errors at line into a message that names
// the key and the form its value needs; ok is false when the message is
// not a type error it knows.
func teach(root *yaml.Node, line int, msg string) (key, text string, ok bool) {
	m := wrongType.FindStringSubmatch(msg)
	if m == nil {
		return "", "", false
	}
	tag, value, goType := m[1], m[2], m[3]
	key, n := nodeAtLine(root, line, value)
	got := strconv.Quote(value)
	if n != nil {
		got = strconv.Quote(n.Value)
		if n.Kind != yaml.ScalarNode || tag == "null" {
			got = kindNames[tag]
		}
	} else if name, ok := kindNames[tag]; ok {
		got = name
	}
	switch {
	case strings.HasPrefix(goType, "[]") || goType == "crawl.URLList":
		return key, fmt.Sprintf("%s is not a list (write [a, b], or one \"- item\" per line)", got), true
	case strings.HasPrefix(goType, "map["):
		return key, fmt.Sprintf("%s is not a group of keys (write key: value lines, indented under %s)", got, lastKey(key)), true
	case strings.HasPrefix(goType, "crawl.") || strings.HasPrefix(goType, "parse."):
		if _, known := forms[goType]; !known {
			return key, fmt.Sprintf("%s is not a group of keys (write its keys indented on the lines below %s)", got, lastKey(key)), true
		}
	}
	form, known := forms[goType]
	if !known {
		form = "is not a " + goType
	}
	if tag == "int" && goType == "time.Duration" {
		form = "is not a duration: give it a unit (use e.g. 10s, 1m30s)"
	}
	return key, got + " " + form, true
}

// lastKey returns the last part of a dotted key path.
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[i+1:]
	}
	if path == "" {
		return "it"
	}
	return path
}

// nodeAtLine finds the value at line in a YAML document, and its key path
// ("fetch.total_timeout", "seeds[1]"). Several values may share a line (a
// flow mapping such as {rate: 1, burst: x}): value, yaml's quote of the
// bad one (cut to "abcdefg..." when long), picks among them.
func nodeAtLine(root *yaml.Node, line int, value string) (string, *yaml.Node) {
	var bestKey string
	var best *yaml.Node
	matches := func(n *yaml.Node) bool {
		if value == "" { // yaml quotes scalars only
			return n.Kind != yaml.ScalarNode || n.Tag == "!!null"
		}
		if v, cut := strings.CutSuffix(value, "..."); cut {
			return n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, v)
		}
		return n.Kind == yaml.ScalarNode && n.Value == value
	}
	bestDepth := 0
	var walk func(n *yaml.Node, path string, depth int)
	walk = func(n *yaml.Node, path string, depth int) {
		// The innermost value on the line that is the bad one, else the first value.
		if n.Line == line && path != "" && (best == nil || matches(n) && (!matches(best) || depth > bestDepth)) {
			bestKey, best, bestDepth = path, n, depth
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path, depth+1)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				if path != "" {
					k = path + "." + k
				}
				walk(n.Content[i+1], k, depth+1)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i), depth+1)
			}
		}
	}
	walk(root, "", 0)
	return bestKey, best
}

// keyOfValueError finds the key of a *valueError in the document.
func keyOfValueError(root *yaml.Node, err error) (*valueError, string, bool) {
	var ve *valueError
	if !errors.As(err, &ve) {
		return nil, "", false
	}
	value := ve.value
	if ve.kind != 0 && ve.kind != yaml.ScalarNode {
		value = ""
	}
	key, _ := nodeAtLine(root, ve.line, value)
	return ve, key, true
}
