// Package testsite serves a deterministic multi-host web site on loopback
// addresses, for the crawler's tests, its benchmark and "crawler demo".
//
// Each host has its own address (127.0.0.2, 127.0.0.3, ... — all of
// 127.0.0.0/8 is local on Linux — skipping .0 and .255 in the last byte)
// and all share one port. The site only ever accepts connections; it never
// opens one, and the links it emits to other addresses are there to be
// refused by the crawler.
//
// All content is a pure function of Options.Seed, the host index, the path,
// the host addresses (which appear in absolute links) and the generation
// (see "Change over time" below), so two sites with the same options serve
// the same bytes.
//
// # Content hosts (normal mode)
//
// With PagesPerHost = N, each content host has about 0.65N products, 0.25N
// articles and a few dozen other pages:
//
//	/                          home: every category, 6 featured products, the 10 latest
//	                           articles, /private/1, /missing/1, /broken/1, /old/1,
//	                           /partner (host 0 only), an article on another host
//	/about, /contact           plain pages
//	/category/<c>?page=<k>     listings of 20 <div class="product-card"> (name, price,
//	                           link) with links to every page of the category;
//	                           /category/<c> alone is page 1
//	/product/<id>              <h1 class="product-name">, <p class="price"> in
//	                           "$1,299.99", "1.299,99 €" or "£12.50" style (USD, EUR,
//	                           GBP by id mod 3), <span class="sku">SKU: AB-123</span>,
//	                           "In stock"/"Out of stock", a JSON-LD Product block,
//	                           OpenGraph tags, rel=canonical; links to related products
//	                           (one rel=nofollow), articles, /files/<id>.pdf (id mod 4
//	                           = 0), /api/item/<id>.json (id mod 3 = 0),
//	                           /missing/manual-<id> (id mod 50 = 0), /broken/stock-<id>
//	                           (id mod 97 = 0), the same product on another host
//	                           (id mod 10 = 0)
//	/article/<id>              <html lang> (en, de, fr, es, en-GB, it), 3 to 55
//	                           paragraphs; id mod 10 = 3 uses <base href="/article/">
//	                           with relative links ("5", "../product/7"); <meta
//	                           name=robots> "noindex" (id mod 30 = 7), "nofollow" (17),
//	                           "noindex, nofollow" (27); links to /old/<id/20> (id mod
//	                           20 = 0), /private/<id> (id mod 25 = 0) and the same
//	                           article on another host (id mod 5 = 0)
//	/old/<id>                  301, Location: /article/<id> (relative)
//	/partner                   host 0 only: 302 to http://<host 1>/article/1
//	/missing/...               404
//	/broken/...                500, always
//	/private/...               200, but robots.txt disallows it
//	/hidden/<id>               200, listed only in /sitemap.xml (SitemapOnly)
//	/files/<id>.pdf            application/pdf, a one-page datasheet
//	/api/item/<id>.json        application/json
//	/robots.txt                "User-agent: *", "Disallow: /private/", and
//	                           "Sitemap: http://<host>/sitemap.xml"
//	/sitemap.xml               urlset with <lastmod>: home, about, contact, category
//	                           first pages, products, articles and the hidden pages
//
// Some links carry "?utm_source=x" (appended with "&" after an existing
// query) or a "#fragment", and some rel=nofollow; every such target is also
// linked plainly and followably from a reachable page, so the set of pages
// does not depend on those choices. Pages with meta nofollow link only to
// pages reachable otherwise. Everything is within 6 links of "/".
// Error pages and redirect bodies contain no links.
//
// [Site.Expected] lists the URLs a correct crawler requests, with their
// statuses; [Site.SitemapOnly] the pages only the sitemap reveals.
//
// # Validators and conditional requests
//
// Every 200 answer of a content host (pages, datasheets, JSON, robots.txt,
// sitemaps) carries a strong ETag and a Last-Modified that change exactly
// when its bytes do: in normal mode the ETag is the quoted hex XXH64 of the
// body, in Fast mode a digest of what the page is made of. Last-Modified
// is, for a page unchanged since generation 0, the date its sitemap entry
// gives (Fast mode: 2025-01-01), and for a page changed since, midnight UTC
// of 2026-01-01 plus one day per generation after the first. Preconditions
// are evaluated in the order of RFC 9110 section 13.2.2: If-Match, else
// If-Unmodified-Since (412 when they fail); then If-None-Match (weak
// comparison, "*" matches), else If-Modified-Since for GET and HEAD (304
// when they match: no body, the same ETag and Last-Modified). Dates compare
// to the second; an invalid date is ignored. Errors and redirects carry no
// validators and ignore preconditions.
//
// The request log counts the requests with a precondition
// (HostStats.Conditional), the 304 answers (HostStats.NotModified) and the
// body bytes sent (HostStats.Bytes), per host; [Site.Requests] lists each
// recent request with its generation, status, bytes and whether it was
// conditional.
//
// # Change over time
//
// The site serves one generation at a time: 0 after [Start], then what
// [Site.Advance] or [Site.SetGeneration] says. Options.Changes
// ([ChangeRates]) sets how much of each content host changes from one
// generation to the next; with the zero value every generation serves
// generation 0. The pages that change are drawn from the seed, the host
// and the generation, in exact numbers: round(rate × live pages) products
// and articles (Fast mode: pages other than "/") each generation, in one
// way each:
//
//	Text     one paragraph of a product's description or an article is
//	         rewritten (Fast mode: a revision note is added)
//	Price    a product gets a price it never had before; its page, its
//	         JSON, its card on a listing and on the home page show it
//	Remove   the page answers 410 Gone (odd id) or 404 (even id) from then
//	         on, with its datasheet and JSON or its print version and
//	         editions; links to it stay, so a crawl still meets it
//	New      new products and articles, ids after the last (Fast mode:
//	         pages /p/<N> and on), linked from the home page ("New
//	         arrivals", "New in the journal"; Fast mode: after its links)
//	         and listed in the sitemap
//
// Nothing else changes: every other URL serves the same bytes at both
// generations. The ground truth for tests: [Site.Changed] lists the URLs
// that differ between two generations and how ([ChangeKind]: text, price,
// links, new, removed); [Site.Truth] gives every URL's status, ETag,
// Last-Modified, body hash and product data at a generation;
// [Site.ExpectedAt] is Expected at any generation.
//
// # Duplicates
//
// Options.Duplicates (normal mode only) adds pages that repeat others, all
// linked, and [Site.Duplicates] lists them in clusters:
//
//	/category/<c>                   exact: the bytes of /category/<c>?page=1,
//	                                linked from the home page ("All departments")
//	/article/<id>/print             print: the article's text and links without
//	                                the site's header, navigation and footer
//	/a/<id>                         exact: the bytes of /article/<id> (ids ending in 2)
//	/article/<id>/edition/<1 or 2>  near: the article with an edition number and
//	                                a later date added, no rel=canonical (ids ending in 5)
//
// Every article without a robots meta tag has a print version, linked with
// its short link and editions from a "More ways to read" list on the
// article. Copies change and go with their article. Without
// Options.Duplicates no two URLs a crawl meets serve the same bytes.
//
// # Fast mode
//
// Options.Fast replaces the content hosts with a cheap benchmark graph:
// "/" and "/p/1" .. "/p/<N-1>" per host, each about 30 KB with 50 links
// (tree links to 40 children, so every page is a few hops from "/", then
// pseudo-random ones, a tenth of them cross-host); robots.txt allows all;
// there are no errors (but for pages Options.Changes removes), redirects or
// sitemaps.
//
// # Hostile hosts
//
// Options.Hostile adds one host per role, after the content hosts (see
// [Site.HostileHosts]; PORT below is [Site.Port]). Each "/" links the role's
// pages; robots.txt allows everything unless stated. What a correct
// crawler does is given after each "=>".
//
//	robots404       /robots.txt is 404. "/" links /page/1, /page/2, /secret/1.
//	                => all allowed: fetches /, /page/1, /page/2, /secret/1.
//	robots500       /robots.txt is 500. "/" links /page/1, /page/2. Other
//	                hosts link its Robots500Late pages (/page/3 .. /page/5)
//	                from pages met late: crawldelay's /page/5, ratelimited's
//	                /item/6.
//	                => all disallowed (RFC 9309 "unreachable"): fetches only
//	                /robots.txt (perhaps again later), never "/"; gives the
//	                host up, and its URLs, also those met later, end with
//	                the host's reason; the crawl still ends.
//	robotsredirect  /robots.txt 301 -> /real-robots.txt: "User-agent: *",
//	                "Disallow: /secret/". "/" links /public/1, /public/2,
//	                /secret/1, /secret/2.
//	                => follows the robots redirect; fetches / and /public/*,
//	                never /secret/*.
//	crawldelay      robots.txt has "Crawl-delay: 1". "/" links /page/1 .. /page/5
//	                and /slow-headers, which answers after SlowHeaders (1 s).
//	                /page/5 links the robots500 host's Robots500Late pages
//	                and the depthorder host's /r.
//	                => at least a second between requests (HostStats.MinGap);
//	                /slow-headers, asked on a connection that waited a second
//	                in the pool, requested once.
//	ratelimited     "/" links /item/1 .. /item/6. The first request of every
//	                path (not robots.txt) gets 429 with "Retry-After: 2"; the
//	                second request of /item/2, /item/4, /item/6 gets 503 with
//	                an HTTP-date Retry-After 3 s ahead; then 200.
//	                /item/6 links a robots500 page.
//	                => waits as told, retries, ends with 200 for all 7 URLs.
//	flaky           "/" links /p/1 .. /p/5. Every path (not robots.txt)
//	                answers 500 to its first 2 requests, then 200.
//	                => with at least 2 retries, 200 for all 6 URLs.
//	drip            /drip sends 200 headers, then one byte per second (the
//	                first at once) until the client leaves.
//	                => gives up after its fetch timeout, without retrying;
//	                the site stops writing.
//	huge            /huge streams HugeSize (50 MiB) of HTML, chunked;
//	                /huge-length the same with Content-Length.
//	                => caps the body, records truncation (or refuses
//	                /huge-length from its header), never holds 50 MiB.
//	bomb            /bomb.html: Content-Encoding: gzip, ~1 MB that inflates
//	                to GzipBombSize (1 GiB) of zeros; /bomb-br.html: the same
//	                with Content-Encoding: br, ~13 KB. /sitemap.xml (named in
//	                robots.txt) and /archive.gz: Content-Type
//	                application/x-gzip and no Content-Encoding, ~1 MB that
//	                inflates to 1 GiB of spaces. All are built on first
//	                request and sent whatever Accept-Encoding says.
//	                => caps decoded bytes, whatever says the body is gzip;
//	                memory stays small.
//	loops           /loop/a 302 -> /loop/b 302 -> /loop/a; /loop/self 301 ->
//	                itself; /chain/0 302 -> /chain/1 ... -> /chain/20, a 200.
//	                => each URL fetched once; a hop limit below 20 stops the chain.
//	traps           /calendar/2026/11 links the previous and next month for
//	                ever (years 1 to 9999); "a/" resolves to /a/, whose "a/" is
//	                /a/a/, and so on; /search?q=1&sort=price links the other
//	                sorts, q+1 and page+1, an endless query space.
//	                => the template chain (/calendar/N/N), path-repetition,
//	                query-variant, depth and per-host page limits end it.
//	charsets        /latin1.html: ISO-8859-1 declared only in the Content-Type
//	                header (Latin1Title, Latin1Text). /cp1252.html: windows-1252
//	                declared only in <meta charset> (CP1252Title, CP1252Text).
//	                /invalid-utf8.html: UTF-8 with invalid bytes (InvalidTitle).
//	                /utf16.html: UTF-16LE with a BOM, no declared charset
//	                (UTF16Title, UTF16Text). /malformed.html: unclosed and
//	                misnested tags, unquoted attributes; it still links
//	                /latin1.html and /utf16.html (MalformedText in the body).
//	                => titles and text decode to the constants; invalid bytes
//	                become U+FFFD; links are still found.
//	ssrf            "/" links http://10.0.0.1/, http://192.168.1.1/,
//	                http://169.254.169.254/latest/meta-data/, http://[::1]:PORT/,
//	                http://localhost:PORT/, http://127.0.0.1:PORT/,
//	                http://0x7f.1:PORT/, http://2130706433:PORT/ and /go-private,
//	                which 302s to http://169.254.169.254/.
//	                => fetches none of them: private, link-local and
//	                unlisted hosts are out of scope, also as redirect targets.
//	depthorder      "/" links /step-a, which links /step-b, and so on to
//	                /step-l (DepthSteps pages, no two of one URL template),
//	                which links /target. /r 302s to /target; crawldelay's
//	                /page/5 links /r.
//	                => with max_depth 12, /target is first met one link too
//	                deep, then through /r at depth 2: fetched, once.
//
// Hostile hosts are not part of [Site.Expected].
package testsite
