package urlnorm_test

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/crawler-dev/crawler/crawl/urlnorm"
)

func ExampleNormalizer_Resolve() {
	n, err := urlnorm.New(urlnorm.Options{StripParams: urlnorm.DefaultStripParams, SortQuery: true})
	if err != nil {
		panic(err)
	}
	base, _ := url.Parse("https://Example.com:443/news/today.html")
	for _, ref := range []string{
		"../a/./b%7e?utm_source=x&page=2&id=7#top",
		"//BÜCHER.de/path;jsessionid=0A1B",
		"mailto:someone@example.com",
	} {
		got, err := n.Resolve(base, ref)
		if errors.Is(err, urlnorm.ErrScheme) {
			fmt.Println("not crawlable:", ref)
			continue
		}
		fmt.Println(got)
	}
	// Output:
	// https://example.com/a/b~?id=7&page=2
	// https://xn--bcher-kva.de/path
	// not crawlable: mailto:someone@example.com
}
