package service

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/crawler-dev/crawler/testsite"
)

var screenshotOut = flag.String("screenshot", "", "also save the status page screenshot of TestStatusPageChromium to this file")

// chromium runs headless Chromium on url with extra flags and returns its
// standard output.
func chromium(t *testing.T, bin, url string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=5000",
	}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

func TestStatusPageChromium(t *testing.T) {
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not on PATH")
	}
	site := startSite(t, testsite.Options{Hosts: 2, PagesPerHost: 60, Seed: 8})
	dir := t.TempDir()
	_, srv := startService(t, dir, 2)
	done := submit(t, srv.URL, jobConfig(site.Seeds(), 0, ""))
	paused := submit(t, srv.URL, jobConfig(site.Seeds(), 20, ""))
	finished := waitFor(t, srv.URL, done, "finished", stopped(StateFinished))
	waitFor(t, srv.URL, paused, "progress", func(d jobDetail) bool { return d.Progress.Pages > 0 })
	if resp := call(t, "POST", srv.URL+"/api/jobs/"+paused+"/pause", testToken, nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("pause: status %d", resp.StatusCode)
	}
	pausedJob := waitFor(t, srv.URL, paused, "paused", stopped(StatePaused))

	page := srv.URL + "/?token=" + testToken
	dom := chromium(t, bin, page, "--dump-dom")
	for _, j := range []jobDetail{finished, pausedJob} {
		row := regexp.MustCompile(fmt.Sprintf(`(?s)<tr data-id="%s">.*?</tr>`, j.ID)).Find(dom)
		if row == nil {
			t.Errorf("job %s is not in the rendered page:\n%s", j.ID, dom)
			continue
		}
		for _, want := range []string{
			fmt.Sprintf(`<td class="num pages">%d</td>`, j.Progress.Pages),
			fmt.Sprintf(`<td class="num queued">%d</td>`, j.Progress.Queued),
			fmt.Sprintf(`<td class="num errors">%d</td>`, j.Progress.Errors),
			fmt.Sprintf(`<span class="state %s">%s</span>`, j.State, j.State),
		} {
			if !bytes.Contains(row, []byte(want)) {
				t.Errorf("row of job %s lacks %s:\n%s", j.ID, want, row)
			}
		}
		// The row links to the job's results and exports, and each link answers.
		hrefs := regexp.MustCompile(`href="(/api/jobs/[^"]+)"`).FindAllSubmatch(row, -1)
		want := map[string]bool{"items": false, "pages": false, "hosts": false, "export?table=items&amp;format=csv": false,
			"export?table=items&amp;format=jsonl": false, "export?table=pages&amp;format=jsonl": false,
			"export?table=page_data&amp;format=jsonl": false}
		for _, h := range hrefs {
			path := strings.TrimPrefix(string(h[1]), "/api/jobs/"+j.ID+"/")
			if _, ok := want[path]; ok {
				want[path] = true
			}
			link := srv.URL + strings.ReplaceAll(string(h[1]), "&amp;", "&")
			if resp := call(t, "GET", link, testToken, nil, nil); resp.StatusCode != http.StatusOK {
				t.Errorf("link %s of job %s answers %d", link, j.ID, resp.StatusCode)
			}
		}
		for path, found := range want {
			if !found {
				t.Errorf("row of job %s does not link to %s:\n%s", j.ID, path, row)
			}
		}
	}
	summary := fmt.Sprintf("2 jobs, 0 running, %d pages stored", finished.Progress.Pages+pausedJob.Progress.Pages)
	if !bytes.Contains(dom, []byte(summary)) {
		t.Errorf("page lacks the summary %q:\n%s", summary, dom)
	}

	shot := filepath.Join(t.TempDir(), "status.png")
	chromium(t, bin, page, "--screenshot="+shot, "--window-size=1000,700", "--hide-scrollbars")
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() != 1000 || r.Dy() != 700 {
		t.Errorf("screenshot is %dx%d, want 1000x700", r.Dx(), r.Dy())
	}
	if *screenshotOut != "" {
		if err := os.WriteFile(*screenshotOut, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
