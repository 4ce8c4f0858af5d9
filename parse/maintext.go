package parse

import "net/url"

// textBase is the page URL MainText parses against: the main text does not
// depend on it, and HTML needs an absolute one.
var textBase = &url.URL{Scheme: "http", Host: "localhost", Path: "/"}

// MainText returns the visible main text of an HTML body as received
// (charset decoded from contentType or the document, as a crawl does), the
// same text HTML gives with Options.MainText: a store may keep the body
// only and derive the text when it is read.
func MainText(body []byte, contentType string) (string, error) {
	utf8Body, _ := ToUTF8(body, contentType)
	p, err := HTML(textBase, utf8Body, Options{MainText: true})
	if err != nil {
		return "", err
	}
	return p.MainText, nil
}
