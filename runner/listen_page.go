package runner

// listenPage is the small live status page served at GET / by
// "crawler run --listen": plain HTML and a little JavaScript that polls
// /status every second. No build step, nothing fetched from elsewhere.
const listenPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crawler</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.3em}table{border-collapse:collapse}
td{padding:.25em 1.2em .25em 0;border-bottom:1px solid #eee}
td.n{text-align:right;font-variant-numeric:tabular-nums;font-weight:600}
#err{color:#b00}
</style></head><body>
<h1>crawler <span id="db"></span></h1>
<table id="t"></table>
<p id="err"></p>
<p><a href="/metrics">/metrics</a> · <a href="/status">/status</a></p>
<script>
const rows = [["pages","Pages stored"],["pages_per_second","Pages/s"],["queued","Queued"],
  ["in_flight","In flight"],["failed","Failed"],["skipped","Skipped"],["retries","Retries"],
  ["mb","MB received"],["active","Hosts active"],["throttled","Hosts throttled"],
  ["backing_off","Hosts backing off"],["elapsed","Elapsed (s)"]];
async function tick() {
  try {
    const r = await fetch("/status", {cache: "no-store"});
    const s = await r.json();
    const f = s.frontier || {};
    const v = {pages: s.pages, pages_per_second: (s.pages_per_second || 0).toFixed(1),
      queued: f.queued || 0, in_flight: s.hosts.in_flight, failed: s.failed, skipped: s.skipped,
      retries: s.retries, mb: (s.bytes / 1e6).toFixed(1), active: s.hosts.active,
      throttled: s.hosts.throttled, backing_off: s.hosts.backing_off,
      elapsed: Math.round(s.elapsed_seconds || 0)};
    document.getElementById("db").textContent = s.database;
    document.getElementById("t").innerHTML = rows.map(([k, label]) =>
      "<tr><td>" + label + "</td><td class=n id=" + k + ">" + v[k] + "</td></tr>").join("");
    document.getElementById("err").textContent = "";
  } catch (e) {
    document.getElementById("err").textContent = "crawl not reachable: " + e;
  }
}
tick(); setInterval(tick, 1000);
</script></body></html>
`
