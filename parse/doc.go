// Package parse turns fetched bytes into facts about a page. It does no I/O
// and keeps no state: every function takes a URL and bytes and returns
// values, so it can be table-tested, golden-tested and fuzzed without a
// network or a database.
//
// A fetched body is first decoded with [ToUTF8], which follows the WHATWG
// encoding sniffing rules (byte order mark, Content-Type charset, <meta>
// prescan). [HTML] then parses the document once into a DOM and reads
// everything the crawler needs in one walk over it: title, description,
// canonical URL, meta robots directives, language, base URL, links with
// their anchor text and rel attributes, and optionally JSON-LD, OpenGraph,
// Twitter card metadata and the visible main text. The parsed tree is handed
// back in [Page.Doc] so that extraction rules can run on it without parsing
// the page again. [RobotsDirectives] reads the X-Robots-Tag header.
//
// Parsing is the crawler's CPU hot path; the functions here avoid needless
// allocation and never panic or fail on malformed input.
package parse
