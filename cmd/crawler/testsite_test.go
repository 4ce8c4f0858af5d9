package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTestsiteCommand serves a changing site with "crawler testsite" and
// checks that it starts at the generation asked for, moves on by itself,
// has the duplicate pages, and stops when its context ends.
func TestTestsiteCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	// Closed readers make the command's writes fail instead of blocking,
	// so it returns when the context ends even if the test stopped early.
	defer outR.Close()
	defer errR.Close()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"testsite", "--hosts", "1", "--pages", "30", "--change-price", "0.5", "--change-new", "0.1",
			"--duplicates", "--generation", "2", "--advance-every", "1ms"}, outW, errW)
		outW.Close()
		errW.Close()
		done <- err
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(errR)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	seed, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("read the seed: %v", err)
	}
	copied := make(chan struct{})
	go func() {
		io.Copy(io.Discard, outR)
		close(copied)
	}()
	seed = strings.TrimSpace(seed)
	for _, want := range []string{"serving generation 2; Ctrl-C to stop", "serving generation 3", "serving generation 4"} {
		if got := <-lines; got != want {
			t.Fatalf("stderr line %q, want %q", got, want)
		}
	}
	resp, err := http.Get(seed)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mod, err := http.ParseTime(resp.Header.Get("Last-Modified"))
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" || err != nil || mod.Before(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("GET %s: status %d, ETag %q, Last-Modified %q, want 200, an ETag and a change on 2026-01-03 or later",
			seed, resp.StatusCode, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
	}
	for _, want := range []string{`class="departments"`, `class="new-arrivals"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("home page lacks %s", want)
		}
	}
	cancel()
	for range lines {
	}
	<-copied
	if err := <-done; err != nil {
		t.Errorf("crawler testsite: %v", err)
	}
}

func TestTestsiteCommandErrors(t *testing.T) {
	for _, args := range [][]string{
		{"testsite", "--advance-every", "-1s"},
		{"testsite", "--generation", "-1"},
		{"testsite", "--change-text", "2"},
		{"testsite", "--fast", "--change-price", "0.1"},
	} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
