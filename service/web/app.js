// The status page: polls GET /api/jobs every second and renders the table.
// Authentication is the HttpOnly cookie set when the page was opened with
// ?token=..., which fetch sends with every same-origin request.
"use strict";

const actions = {
  queued: ["pause", "cancel"],
  running: ["pause", "cancel"],
  paused: ["resume", "cancel"],
  failed: ["resume", "cancel"],
  finished: [],
  cancelled: [],
};

function showError(msg) {
  document.getElementById("error").textContent = msg ? ` \u00b7 ${msg}` : "";
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// results are the links of a job row: the job's data as the API serves it,
// and exports to download.
const results = [
  ["items", "items", false], ["pages", "pages", false], ["hosts", "hosts", false],
  ["items.csv", "export?table=items&format=csv", true], ["items.jsonl", "export?table=items&format=jsonl", true],
  ["pages.jsonl", "export?table=pages&format=jsonl", true], ["page_data.jsonl", "export?table=page_data&format=jsonl", true],
];

function links(j) {
  const td = cell("", "links");
  if (!j.has_database) {
    td.textContent = "\u2014";
    return td;
  }
  for (const [label, path, download] of results) {
    if (label === "items.csv") td.appendChild(document.createElement("br"));
    const a = document.createElement("a");
    a.href = `/api/jobs/${encodeURIComponent(j.id)}/${path}`;
    a.textContent = label;
    if (download) a.download = `${j.id}-${label}`;
    td.appendChild(a);
    td.appendChild(document.createTextNode(" "));
  }
  return td;
}

async function act(id, what) {
  const notice = document.getElementById("notice");
  const r = await fetch(`/api/jobs/${id}/${what}`, { method: "POST", credentials: "same-origin" });
  const body = await r.json().catch(() => ({}));
  notice.textContent = r.ok ? `${what}: job ${id} is ${body.state}` : (body.error || `${what} failed: HTTP ${r.status}`);
  notice.className = r.ok ? "muted" : "bad";
  notice.hidden = false;
  refresh();
}

function render(jobs) {
  const tbody = document.querySelector("#jobs tbody");
  tbody.replaceChildren();
  let pages = 0, running = 0, rate = 0;
  for (const j of jobs) {
    const p = j.progress || {};
    pages += p.pages || 0;
    rate += p.pages_per_second || 0;
    if (j.state === "running") running++;
    const tr = document.createElement("tr");
    tr.dataset.id = j.id;
    tr.appendChild(cell(j.id, "id"));
    const st = cell("", "");
    const badge = document.createElement("span");
    badge.className = `state ${j.state}`;
    badge.textContent = j.active && j.state !== "running" ? `${j.state} (stopping)` : j.state;
    st.appendChild(badge);
    tr.appendChild(st);
    tr.appendChild(cell(String(p.pages || 0), "num pages"));
    tr.appendChild(cell(String(p.queued || 0), "num queued"));
    tr.appendChild(cell((p.pages_per_second || 0).toFixed(1), "num rate"));
    tr.appendChild(cell(String(p.errors || 0), "num errors"));
    tr.appendChild(cell(when(j.started_at), ""));
    const btns = cell("", "");
    for (const a of actions[j.state] || []) {
      const b = document.createElement("button");
      b.textContent = a;
      b.addEventListener("click", () => act(j.id, a));
      btns.appendChild(b);
    }
    tr.appendChild(btns);
    tr.appendChild(links(j));
    tbody.appendChild(tr);
    if (j.error) {
      const er = document.createElement("tr");
      const td = cell(j.error, "err");
      td.colSpan = 9;
      er.appendChild(td);
      tbody.appendChild(er);
    }
  }
  document.getElementById("empty").hidden = jobs.length > 0;
  document.getElementById("summary").textContent =
    `${jobs.length} job${jobs.length === 1 ? "" : "s"}, ${running} running, ${pages} pages stored, ${rate.toFixed(1)} pages/s`;
}

async function refresh() {
  try {
    const r = await fetch("/api/jobs", { credentials: "same-origin" });
    if (r.status === 401) {
      showError("not signed in: open this page as /?token=YOUR_TOKEN");
      return;
    }
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const body = await r.json();
    render(body.jobs || []);
    document.getElementById("updated").textContent = new Date().toLocaleTimeString();
    showError("");
  } catch (e) {
    showError(`cannot reach the service: ${e.message}`);
  }
}

document.getElementById("submit").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const out = document.getElementById("submit-result");
  const r = await fetch("/api/jobs", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/yaml" },
    body: document.getElementById("config").value,
  });
  const body = await r.json().catch(() => ({}));
  out.textContent = r.ok ? `submitted job ${body.id}` : (body.error || `HTTP ${r.status}`);
  refresh();
});

refresh();
setInterval(refresh, 1000);
