package crawl

import (
	"bytes"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// Redacted replaces secrets in config text that is recorded or shown.
const Redacted = "REDACTED"

// urlUserinfo matches the user information of a URL ("scheme://user:pass@"):
// up to the last @ before the host's end.
var urlUserinfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/]*@`)

// RedactConfigText returns a config's text as it may be recorded (the
// runs table) or shown (the service's API): without comments, the user
// information of every URL (proxy credentials above all) and every value
// of fetch.headers and fetch.hosts.*.headers (Authorization, API keys)
// and every webhooks[*].secret replaced by REDACTED, so that no secret of the config is stored or
// shown. YAML anchors, aliases and merge keys are followed. Text that is
// not YAML is not kept at all.
func RedactConfigText(text string) string {
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil {
		return "# not recorded: the config is not valid YAML\n"
	}
	if root.Kind == 0 {
		return ""
	}
	visit(&root, map[*yaml.Node]bool{}, func(n *yaml.Node) {
		n.HeadComment, n.LineComment, n.FootComment = "", "", ""
		if n.Kind == yaml.ScalarNode {
			n.Value = urlUserinfo.ReplaceAllString(n.Value, "${1}"+Redacted+"@")
		}
	})
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	for _, hooks := range mapValues(doc, "webhooks") {
		if hooks = deref(hooks); hooks == nil || hooks.Kind != yaml.SequenceNode {
			continue
		}
		for _, h := range hooks.Content {
			for _, secret := range mapValues(h, "secret") {
				redactValues(secret)
			}
		}
	}
	for _, fetch := range mapValues(doc, "fetch") {
		for _, h := range mapValues(fetch, "headers") {
			redactValues(h)
		}
		for _, hosts := range mapValues(fetch, "hosts") {
			for _, host := range mapValues(hosts, "") {
				for _, h := range mapValues(host, "headers") {
					redactValues(h)
				}
			}
		}
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return "# not recorded: the config could not be written back\n"
	}
	enc.Close()
	return b.String()
}

// visit calls f on every node under n once, aliases followed.
func visit(n *yaml.Node, seen map[*yaml.Node]bool, f func(*yaml.Node)) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	f(n)
	visit(n.Alias, seen, f)
	for _, c := range n.Content {
		visit(c, seen, f)
	}
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// mapValues returns the values of key in mapping n (every value when key
// is ""), also those merged in with "<<".
func mapValues(n *yaml.Node, key string) []*yaml.Node {
	return mapValuesDepth(n, key, 0)
}

func mapValuesDepth(n *yaml.Node, key string, depth int) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 100 {
		return nil
	}
	var out []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag != "!!str" {
			src := deref(v)
			if src != nil && src.Kind == yaml.SequenceNode {
				for _, m := range src.Content {
					out = append(out, mapValuesDepth(m, key, depth+1)...)
				}
			} else {
				out = append(out, mapValuesDepth(src, key, depth+1)...)
			}
			continue
		}
		if key == "" || k.Value == key {
			out = append(out, v)
		}
	}
	return out
}

// redactValues replaces every value under n (not the keys of mappings).
func redactValues(n *yaml.Node) {
	redactValuesDepth(n, 0)
}

func redactValuesDepth(n *yaml.Node, depth int) {
	n = deref(n)
	if n == nil || depth > 100 {
		return
	}
	switch n.Kind {
	case yaml.ScalarNode:
		n.Value, n.Tag, n.Style = Redacted, "!!str", 0
	case yaml.MappingNode:
		for _, v := range mapValues(n, "") {
			redactValuesDepth(v, depth+1)
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			redactValuesDepth(c, depth+1)
		}
	}
}
