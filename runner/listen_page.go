package runner

// listenPage is the small live status page served at GET / by
// "crawler run --listen": plain HTML and a little JavaScript that polls
// /status every second and shows the run's figures, a row per host (the
// most queued first) and why URLs failed or were skipped. No build step,
// nothing fetched from elsewhere. Text that comes from crawled sites (host
// names, reasons) is set with textContent, never parsed as HTML.
const listenPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>crawler</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2em;color:#222}
h1{font-size:1.3em}h2{font-size:1.05em;margin-top:1.5em}table{border-collapse:collapse}
td,th{padding:.25em 1.2em .25em 0;border-bottom:1px solid #eee;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.n{font-weight:600}
.muted{color:#777}#err,#waiting{color:#b00}
</style></head><body>
<h1>crawler <span id="db"></span></h1>
<p id="waiting"></p>
<table id="t"></table>
<h2>Errors by class</h2>
<p id="classes" class="muted">none</p>
<h2>Why URLs failed or were skipped (this run)</h2>
<table id="causes"><thead><tr><th class="n">URLs</th><th>state</th><th>reason</th><th>what changes it</th></tr></thead><tbody></tbody></table>
<p id="nocauses" class="muted">none yet</p>
<h2>Hosts (most queued first)</h2>
<table id="hosts"><thead><tr><th>host</th><th>state</th><th class="n">queued</th><th class="n">pages</th>
<th class="n">errors</th><th class="n">delay (ms)</th><th class="n">latency (ms)</th><th>why slow, paused or given up</th></tr></thead><tbody></tbody></table>
<p id="err"></p>
<p><a href="/metrics">/metrics</a> · <a href="/status">/status</a></p>
<script>
const rows = [["pages","Pages stored"],["pages_per_second","Pages/s"],["queued","Queued"],
  ["in_flight","In flight"],["failed","Failed"],["skipped","Skipped"],["retries","Retries"],
  ["mb","MB received"],["active","Hosts active"],["throttled","Hosts throttled"],
  ["backing_off","Hosts backing off"],["elapsed","Elapsed (s)"]];
function tr(cells) {
  const row = document.createElement("tr");
  for (const [text, cls] of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    row.appendChild(td);
  }
  return row;
}
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
    document.getElementById("waiting").textContent = s.waiting || "";
    document.getElementById("t").replaceChildren(...rows.map(([k, label]) => tr([[label], [String(v[k]), "n"]])));
    const classes = Object.entries(s.errors || {}).sort((a, b) => b[1] - a[1]);
    document.getElementById("classes").textContent = classes.length ?
      classes.map(([k, n]) => k + " " + n).join(", ") : "none";
    const causes = s.causes || [];
    document.querySelector("#causes tbody").replaceChildren(...causes.map(c =>
      tr([[String(c.count), "n"], [c.state], [c.reason], [c.hint || "", "muted"]])));
    document.getElementById("nocauses").hidden = causes.length > 0;
    document.querySelector("#hosts tbody").replaceChildren(...(s.host_list || []).map(h =>
      tr([[h.origin], [h.state], [String(h.queued), "n"], [String(h.pages), "n"], [String(h.errors), "n"],
        [String(h.delay_ms), "n"], [String(h.latency_ms), "n"], [h.reason || "", "muted"]])));
    document.getElementById("err").textContent = "";
  } catch (e) {
    document.getElementById("err").textContent = "crawl not reachable: " + e;
  }
}
tick(); setInterval(tick, 1000);
</script></body></html>
`
