package store

import (
	"context"
	"fmt"
	"math/bits"
)

// This file is the store side of near-duplicates: a page's SimHash is
// indexed in bands, so that finding the pages of a host within a small
// Hamming distance reads a few index entries, never the host's pages.

// NearBands is how many bands a SimHash is cut into: 4 of 16 bits. Two
// fingerprints at most NearBands-1 bits apart agree on at least one band
// (pigeonhole), so a lookup by band finds every page within
// SureNearDistance; pages further apart are found when one band is equal
// (most pages 4 to 6 bits apart: 5 differing bits leave a given band
// untouched about one time in five), up to MaxNearDistance.
const NearBands = 4

// SureNearDistance is the largest Hamming distance within which the band
// index finds every page.
const SureNearDistance = NearBands - 1

// MaxNearDistance is the largest distance a lookup accepts: beyond, pages
// that share no text start to look alike.
const MaxNearDistance = 10

// NearBandKeys returns the index keys of a SimHash: band i's 16 bits, with
// the band number above them, so that equal bits in different bands never
// meet.
func NearBandKeys(h uint64) [NearBands]int64 {
	var k [NearBands]int64
	for i := range NearBands {
		k[i] = int64(i)<<16 | int64(h>>(16*i)&0xffff)
	}
	return k
}

// NearDistance is the number of bits two SimHashes differ in.
func NearDistance(a, b uint64) int { return bits.OnesCount64(a ^ b) }

// NearMatch is an earlier page of the same host whose SimHash is within
// the distance asked for.
type NearMatch struct {
	PageID   int64
	URL      string
	Distance int
}

// Nearest picks from candidates (pages and their SimHashes) the page
// closest to h within maxDist, the earliest among equals; ok is false
// when none is that close.
func Nearest(h uint64, maxDist int, candidates []NearCandidate) (m NearMatch, ok bool) {
	for _, c := range candidates {
		d := NearDistance(h, c.SimHash)
		if d > maxDist {
			continue
		}
		if !ok || d < m.Distance || (d == m.Distance && c.PageID < m.PageID) {
			m, ok = NearMatch{PageID: c.PageID, URL: c.URL, Distance: d}, true
		}
	}
	return m, ok
}

// NearCandidate is a page the band index returned for a lookup.
type NearCandidate struct {
	PageID  int64
	URL     string
	SimHash uint64
}

// NearDuplicate returns the page of the host stored before that of the
// URL urlID (any page of the host when the URL has none yet) whose SimHash
// is nearest to h within maxDist bits (at most MaxNearDistance) among
// those that share a band with it: the earliest among the nearest. It reads the band index (simhash_bands) and the
// pages it names, never the host's other pages.
func (rd *Reader) NearDuplicate(ctx context.Context, hostID int64, h uint64, maxDist int, urlID int64) (NearMatch, bool, error) {
	k := NearBandKeys(h)
	rows, err := rd.query(ctx, `SELECT DISTINCT p.id, p.url, p.simhash FROM simhash_bands b JOIN pages p ON p.id = b.page_id
		WHERE b.host_id = ? AND b.key IN (?, ?, ?, ?)
		AND NOT EXISTS (SELECT 1 FROM pages o WHERE o.url_id = ? AND o.id <= p.id)`, hostID, k[0], k[1], k[2], k[3], urlID)
	if err != nil {
		return NearMatch{}, false, fmt.Errorf("near duplicate: %w", rd.describe(err))
	}
	defer rows.Close()
	var cs []NearCandidate
	for rows.Next() {
		var c NearCandidate
		var sh int64
		if err := rows.Scan(&c.PageID, &c.URL, &sh); err != nil {
			return NearMatch{}, false, fmt.Errorf("near duplicate: %w", rd.describe(err))
		}
		c.SimHash = uint64(sh)
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return NearMatch{}, false, fmt.Errorf("near duplicate: %w", rd.describe(err))
	}
	m, ok := Nearest(h, min(maxDist, MaxNearDistance), cs)
	return m, ok, nil
}
