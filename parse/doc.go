// Package parse turns fetched bytes into facts about a page. It does no I/O
// and keeps no state: every function takes a URL and bytes and returns
// values, so it can be table-tested, golden-tested and fuzzed without a
// network or a database.
//
// A fetched body is first decoded with [ToUTF8], which follows the WHATWG
// encoding sniffing rules (byte order mark, Content-Type charset, <meta>
// prescan). [HTML] then reads everything the crawler needs in one pass over
// the document's tokens, without building a tree or copying the document:
// the tokens are those golang.org/x/net/html's Tokenizer returns (which
// FuzzTokenizer checks), cut out of the document's bytes. It reads title,
// description, canonical URL, meta robots directives, language, base URL,
// links with their anchor text and rel attributes, and optionally JSON-LD,
// OpenGraph, Twitter card metadata and the visible main text. To know which
// element each token belongs to it follows the HTML standard's tree
// construction rules on a stack of open elements; the facts are those of
// the tree golang.org/x/net/html builds, which a differential fuzz test
// (FuzzHTMLFacts) checks. The few documents whose tree the builder
// rearranges after the fact are read from the tree instead. When asked
// (Options.Tree) the document is also parsed into a tree, handed back in
// [Page.Doc] for extraction rules ([Rules.Extract]); the facts do not
// depend on it. [RobotsDirectives] reads the X-Robots-Tag header.
//
// Parsing is the crawler's CPU hot path; the functions here avoid needless
// allocation and never panic or fail on malformed input.
package parse
