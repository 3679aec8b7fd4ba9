// The live page the agent serves at "/": one self-contained HTML document. Its script polls
// /api/live every second and redraws the numbers, two SVG charts (packet and drop rates;
// detections per interval) and the block list with each host's remaining TTL. No framework, no
// CDN: nothing is fetched from anywhere but the agent.
export const LIVE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>xids live</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
  header { background: #1d2330; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header .muted { color: #aab; }
  main { padding: 16px 20px; display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
  .card { background: #fff; border-radius: 6px; padding: 10px 14px; box-shadow: 0 1px 2px #0002; }
  .card .label { color: #667; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .wide { grid-column: span 2; }
  .full { grid-column: span 4; }
  svg { width: 100%; height: 160px; display: block; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #eee; }
  .err { color: #b00; }
  .legend span { margin-right: 14px; font-size: 12px; }
  .sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: middle; }
</style>
</head>
<body>
<header>
  <h1>xids</h1>
  <span>model <b id="model">-</b> v<b id="model_version">-</b></span>
  <span>interface <b id="interface">-</b> (<span id="xdp_mode">-</span>)</span>
  <span class="muted">up <span id="uptime">-</span></span>
  <span class="muted" id="status">connecting…</span>
</header>
<main>
  <div class="card"><div class="label">packets / s</div><div class="value" id="pkts_rate">-</div></div>
  <div class="card"><div class="label">drops / s</div><div class="value" id="drops_rate">-</div></div>
  <div class="card"><div class="label">detections</div><div class="value" id="detections">-</div></div>
  <div class="card"><div class="label">blocked hosts</div><div class="value" id="blocked_count">-</div></div>
  <div class="card"><div class="label">packets seen</div><div class="value" id="pkts_seen">-</div></div>
  <div class="card"><div class="label">packets dropped</div><div class="value" id="pkts_dropped">-</div></div>
  <div class="card"><div class="label">dropped (blocked sources)</div><div class="value" id="drop_blocked">-</div></div>
  <div class="card"><div class="label">flows received</div><div class="value" id="flows_received">-</div></div>
  <div class="card wide"><div class="label">packet and drop rates (per s)</div>
    <div class="legend"><span><i class="sw" style="background:#2a6fdb"></i>packets</span><span><i class="sw" style="background:#d33"></i>drops</span></div>
    <svg id="rates_chart" viewBox="0 0 600 160" preserveAspectRatio="none"></svg></div>
  <div class="card wide"><div class="label">detections per interval</div>
    <div class="legend"><span><i class="sw" style="background:#e8910c"></i>detections</span></div>
    <svg id="det_chart" viewBox="0 0 600 160" preserveAspectRatio="none"></svg></div>
  <div class="card wide"><div class="label">blocked hosts</div>
    <table><thead><tr><th>address</th><th>TTL left</th><th>reason</th><th>hits</th></tr></thead><tbody id="blocked"></tbody></table></div>
  <div class="card wide"><div class="label">recent detections</div>
    <table><thead><tr><th>time</th><th>source</th><th>destination</th><th>label</th><th>action</th></tr></thead><tbody id="recent"></tbody></table></div>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const fmt = (n) => Math.round(n).toLocaleString("en-US").replace(/,/g, "\\u2009");
const fmtRate = (n) => (n >= 100 ? fmt(n) : n.toFixed(1));
const ttl = (ms) => (ms === 0 ? "permanent" : ms >= 60000 ? Math.floor(ms / 60000) + "m " + Math.floor((ms % 60000) / 1000) + "s" : Math.ceil(ms / 1000) + "s");
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const NS = "http://www.w3.org/2000/svg";

function chart(svg, series, bars) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const W = 600, H = 160, pad = 4;
  const n = Math.max(2, ...series.map((s) => s.values.length));
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const axis = document.createElementNS(NS, "text");
  axis.setAttribute("x", "6"); axis.setAttribute("y", "14"); axis.setAttribute("font-size", "12"); axis.setAttribute("fill", "#667");
  axis.textContent = "max " + fmtRate(max);
  for (const s of series) {
    if (bars) {
      const w = W / n;
      s.values.forEach((v, i) => {
        const r = document.createElementNS(NS, "rect");
        const h = ((H - 2 * pad) * v) / max;
        r.setAttribute("x", String(i * w + 1)); r.setAttribute("width", String(Math.max(1, w - 2)));
        r.setAttribute("y", String(H - pad - h)); r.setAttribute("height", String(h)); r.setAttribute("fill", s.color);
        svg.appendChild(r);
      });
    } else {
      const pts = s.values.map((v, i) => (i * W) / (n - 1) + "," + (H - pad - ((H - 2 * pad) * v) / max)).join(" ");
      const p = document.createElementNS(NS, "polyline");
      p.setAttribute("points", pts); p.setAttribute("fill", "none"); p.setAttribute("stroke", s.color); p.setAttribute("stroke-width", "2");
      svg.appendChild(p);
    }
  }
  svg.appendChild(axis);
}

function render(v) {
  $("model").textContent = v.model || "(none)";
  $("model_version").textContent = String(v.modelVersion);
  $("interface").textContent = v.interface || "(none)";
  $("xdp_mode").textContent = v.xdpMode;
  $("uptime").textContent = ttl(v.uptimeMs);
  $("pkts_rate").textContent = fmtRate(v.rates.pkts_per_s);
  $("drops_rate").textContent = fmtRate(v.rates.drops_per_s);
  for (const k of ["pkts_seen", "pkts_dropped", "drop_blocked", "flows_received", "detections"]) {
    const el = $(k);
    el.textContent = fmt(v.totals[k]);
    el.dataset.value = String(v.totals[k]); // the exact number, for scripts and tests
  }
  $("blocked_count").textContent = String(v.blocked.length);
  $("blocked_count").dataset.value = String(v.blocked.length);
  $("blocked").innerHTML = v.blocked.length
    ? v.blocked.map((b) => "<tr><td>" + esc(b.address) + "</td><td>" + ttl(b.expiresInMs) + "</td><td>" + b.reason + "</td><td>" + b.hits + "</td></tr>").join("")
    : '<tr><td colspan="4">none</td></tr>';
  $("recent").innerHTML = v.recent.length
    ? v.recent.slice().reverse().map((d) =>
        "<tr><td>" + new Date(d.time).toLocaleTimeString() + "</td><td>" + esc(d.src) + "</td><td>" + esc(d.dst) + ":" + d.dstPort + "</td><td>" + esc(d.label) + "</td><td>" + esc(d.action) + "</td></tr>").join("")
    : '<tr><td colspan="5">none</td></tr>';
  // Rates and detections per interval from the sampled history plus the live point.
  const h = v.history.concat([{ t: v.time, pkts: v.totals.pkts_seen, drops: v.totals.pkts_dropped, detections: v.totals.detections }]);
  const rate = (k) => h.slice(1).map((p, i) => Math.max(0, (p[k] - h[i][k]) / Math.max(0.001, (p.t - h[i].t) / 1000)));
  chart($("rates_chart"), [{ values: rate("pkts"), color: "#2a6fdb" }, { values: rate("drops"), color: "#d33" }], false);
  chart($("det_chart"), [{ values: h.slice(1).map((p, i) => Math.max(0, p.detections - h[i].detections)), color: "#e8910c" }], true);
  $("status").textContent = "live, updated " + new Date(v.time).toLocaleTimeString();
  $("status").className = "muted";
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
}

async function tick() {
  try {
    const res = await fetch("/api/live", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    render(await res.json());
  } catch (err) {
    $("status").textContent = "agent unreachable: " + err.message;
    $("status").className = "err";
  }
}
tick();
setInterval(tick, 1000);
</script>
</body>
</html>
`;
