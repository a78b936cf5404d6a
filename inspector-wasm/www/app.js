// The page: controls, a Web Worker running the simulator, and the results.
// Charts arrive from the worker as SVG drawn by the Rust side.

const $ = (id) => document.getElementById(id);
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });

let nextId = 1;
const pending = new Map();
let loaded = null; // { name, stats }
let running = false;
let rerun = false;

function call(type, payload = {}, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, type, ...payload }, transfer);
  });
}

function status(text, isError = false) {
  $('status').textContent = text;
  $('status').classList.toggle('error', isError);
}

worker.onmessage = (event) => {
  const m = event.data;
  if (m.type === 'ready') return onReady(m);
  if (m.type === 'fatal') return status(`The simulator failed to load: ${m.message}`, true);
  if (m.type === 'progress') {
    $('progress').max = Math.max(1, m.total);
    $('progress').value = m.done;
    status(`${m.phase}: ${m.done.toLocaleString('en')} / ${m.total.toLocaleString('en')}`);
    return;
  }
  const p = pending.get(m.id);
  if (!p) return;
  pending.delete(m.id);
  if (m.type === 'done') p.resolve(m.value);
  else p.reject(new Error(m.message));
};
worker.onerror = (e) => status(`Worker error: ${e.message}`, true);

// Latency model controls, one row per tier, in the simulator's
// latency-model format (`LatencyConfig`): two parameters whose meaning
// depends on the distribution.
const TIERS = [
  { tier: 'l1', label: 'L1', dist: 'constant', a: 1, b: 1 },
  { tier: 'l2', label: 'L2', dist: 'lognormal', a: 300, b: 2000 },
  { tier: 'l3_read', label: 'L3', dist: 'lognormal', a: 2000, b: 20000 },
];
const DISTS = {
  constant: ['µs', null, (a) => ({ us: a })],
  uniform: ['min', 'max', (a, b) => ({ min_us: a, max_us: b })],
  normal: ['p50', 'p99', (a, b) => ({ p50_us: a, p99_us: b })],
  lognormal: ['p50', 'p99', (a, b) => ({ p50_us: a, p99_us: b })],
  gamma: ['mean', 'std', (a, b) => ({ mean_us: a, std_us: b })],
};

function relabel(tier) {
  const [la, lb] = DISTS[$(`${tier}-dist`).value];
  $(`${tier}-a-label`).firstChild.textContent = `${la} `;
  $(`${tier}-b-label`).firstChild.textContent = `${lb || ''} `;
  $(`${tier}-b`).disabled = lb === null;
}

function buildLatencyControls() {
  const box = $('latency');
  for (const t of TIERS) {
    const row = document.createElement('div');
    row.className = 'tier-latency';
    row.innerHTML = `<span>${t.label}</span>
      <label>model <select id="${t.tier}-dist">${Object.keys(DISTS).map((d) => `<option${d === t.dist ? ' selected' : ''}>${d}</option>`).join('')}</select></label>
      <label id="${t.tier}-a-label">a <input type="number" id="${t.tier}-a" min="0" step="any" value="${t.a}"></label>
      <label id="${t.tier}-b-label">b <input type="number" id="${t.tier}-b" min="0" step="any" value="${t.b}"></label>`;
    box.appendChild(row);
    $(`${t.tier}-dist`).addEventListener('change', () => relabel(t.tier));
    relabel(t.tier);
  }
}

function latencyModel(tier) {
  const dist = $(`${tier}-dist`).value;
  return { dist, ...DISTS[dist][2](num(`${tier}-a`), num(`${tier}-b`)) };
}

function num(id) {
  const v = Number($(id).value);
  return Number.isFinite(v) ? v : 0;
}

/** The settings of the form, as the wasm API's `PageConfig`. */
export function currentConfig() {
  return {
    l1_capacity: Math.max(1, Math.round(num('l1-capacity'))),
    l1_ttl_ms: Math.round(num('l1-ttl')) || null,
    l1_negative_ttl_ms: Math.round(num('l1-negative-ttl')) || null,
    policy: $('policy').value,
    l2_capacity: $('l2-enabled').checked ? Math.max(1, Math.round(num('l2-capacity'))) : null,
    l2_ttl_ms: Math.round(num('l2-ttl')) || null,
    l2_negative_ttl_ms: Math.round(num('l2-negative-ttl')) || null,
    write: $('write').value,
    refresh_threshold: $('refresh-enabled').checked ? num('refresh-threshold') : null,
    sim: {
      arrival: $('use-timestamps').checked ? { mode: 'trace', time_scale: 1 } : { mode: 'rate', per_sec: Math.max(1, num('rate')) },
      latency: Object.fromEntries(TIERS.map((t) => [t.tier, latencyModel(t.tier)])),
    },
  };
}

const fmtInt = (n) => Number(n).toLocaleString('en');
const fmtRatio = (r) => (r === null || r === undefined ? '–' : Number(r).toFixed(4));
const fmtPct = (r) => `${(100 * r).toFixed(1)} %`;
function fmtUs(us) {
  if (us === null || us === undefined) return '–';
  if (us >= 1e3) return `${(us / 1e3).toFixed(2)} ms`;
  return `${us.toFixed(us >= 10 ? 0 : 1)} µs`;
}

function showStats(s) {
  $('trace-name').textContent = s.name;
  const rows = [
    ['Requests', fmtInt(s.requests)],
    ['Distinct keys', fmtInt(s.distinct_keys)],
    ['Reads / writes', `${fmtInt(s.reads)} / ${fmtInt(s.writes)} (${fmtPct(s.requests ? s.writes / s.requests : 0)} writes)`],
    ['Top 1 % of keys get', `${fmtPct(s.top1pct_share)} of requests`],
    ['Keys seen once', fmtPct(s.one_hit_share)],
    ['Fitted Zipf α', s.zipf_alpha === null ? '–' : s.zipf_alpha.toFixed(2)],
    ['Format', `${s.format}${s.has_timestamps ? ', with timestamps' : ', no timestamps'} (${fmtInt(s.bytes)} bytes)`],
  ];
  $('trace-stats').innerHTML = rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
  $('use-timestamps').disabled = !s.has_timestamps;
  $('use-timestamps').checked = s.has_timestamps;
}

function showResult(out, config) {
  const r = out.report;
  const l1 = $('l1-hit-ratio');
  l1.textContent = fmtRatio(r.l1.hit_ratio);
  l1.dataset.hits = r.l1.hits;
  l1.dataset.reads = r.l1.lookups;
  $('l2-hit-ratio').textContent = r.l2 ? fmtRatio(r.l2.hit_ratio) : 'no L2';
  $('hit-ratio').textContent = fmtRatio(r.hit_ratio);
  $('read-latency').textContent = r.read_latency ? `${fmtUs(r.read_latency.p50_us)} / ${fmtUs(r.read_latency.p99_us)}` : '–';
  $('l3-load').textContent = `${fmtInt(r.l3.reads)} (peak ${fmtInt(Math.round(r.l3.qps_peak))}/s)`;
  $('chart-hit-ratio').innerHTML = out.svg.hit_ratio;
  $('chart-mrc').innerHTML = out.svg.mrc;
  $('chart-latency').innerHTML = out.svg.latency;
  $('policy-table').querySelector('thead').innerHTML =
    '<tr><th></th><th colspan="3" class="group">hit ratio</th><th colspan="2" class="group">read latency</th><th></th></tr>' +
    '<tr><th>Policy</th><th>L1</th><th>L2</th><th>overall</th><th>p50</th><th>p99</th><th>L3 reads</th></tr>';
  $('policy-table').querySelector('tbody').innerHTML = out.policies.map((p) => `
    <tr class="${p.policy === config.policy ? 'current' : ''}" data-policy="${p.policy}">
      <td>${p.policy}</td><td>${fmtRatio(p.l1_hit_ratio)}</td>
      <td>${p.l2_hit_ratio === null ? '–' : fmtRatio(p.l2_hit_ratio)}</td><td>${fmtRatio(p.hit_ratio)}</td>
      <td>${fmtUs(p.read_p50_us)}</td><td>${fmtUs(p.read_p99_us)}</td><td>${fmtInt(p.l3_reads)}</td>
    </tr>`).join('');
  $('policy-note').textContent = out.policies.some((p) => p.mode === 'hit-ratio-only')
    ? 'Large trace: the other policies ran in the simulator\'s hit-ratio-only mode (no latencies).'
    : 'Every row is a full simulation with latencies.';
}

async function run() {
  if (!loaded) return;
  if (running) { rerun = true; return; }
  running = true;
  document.body.dataset.ready = '0';
  $('run').disabled = true;
  const started = performance.now();
  try {
    const config = currentConfig();
    const result = await call('run', { config });
    showResult(result, config);
    window.strataInspector.last = { config, result };
    const secs = (performance.now() - started) / 1000;
    status(`${loaded.name}: ${fmtInt(loaded.stats.requests)} requests, replayed with ${result.policies.length} policies in ${secs.toFixed(2)} s.`);
    $('progress').value = $('progress').max;
    document.body.dataset.ready = '1';
  } catch (err) {
    status(err.message, true);
  } finally {
    running = false;
    $('run').disabled = false;
    if (rerun) { rerun = false; run(); }
  }
}

async function loadBytes(name, buffer) {
  status(`Reading ${name}…`);
  document.body.dataset.ready = '0';
  try {
    const stats = await call('load', { name, bytes: buffer, format: $('format').value }, [buffer]);
    loaded = { name, stats };
    showStats(stats);
    await run();
  } catch (err) {
    loaded = null;
    status(`${name}: ${err.message}`, true);
  }
}

async function loadSample(name) {
  status(`Fetching ${name}…`);
  const resp = await fetch(`traces/${encodeURIComponent(name)}`);
  if (!resp.ok) return status(`${name}: HTTP ${resp.status}`, true);
  await loadBytes(name, await resp.arrayBuffer());
}

async function loadFile(file) {
  $('sample').value = '';
  await loadBytes(file.name, await file.arrayBuffer());
}

async function exportConfig() {
  try {
    const toml = await call('export', { config: currentConfig() });
    const url = URL.createObjectURL(new Blob([toml], { type: 'application/toml' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: 'strata.toml' });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    status('Exported strata.toml: load it with CacheConfig::from_toml_str.');
  } catch (err) {
    status(err.message, true);
  }
}

async function onReady({ policies, formats }) {
  $('policy').innerHTML = policies.map((p) => `<option>${p}</option>`).join('');
  $('format').insertAdjacentHTML('beforeend', formats.map((f) => `<option value="${f}">${f}</option>`).join(''));
  $('formats-hint').textContent = 'Formats from the name: .csv, .twitter.csv, .txt (one key a line), .oracleGeneral/.bin, .trace (cache2k); compressed .zst and .xz too.';
  let samples = [];
  try {
    samples = await (await fetch('traces/index.json')).json();
  } catch (_) { /* no samples bundled */ }
  $('sample').innerHTML = '<option value="">(choose a sample)</option>' +
    samples.map((s) => `<option value="${s.name}">${s.name} (${(s.bytes / 1024).toFixed(0)} KiB)</option>`).join('');
  const wanted = new URLSearchParams(location.search).get('trace');
  const first = samples.find((s) => s.name === wanted) || samples.find((s) => s.name.startsWith('web07')) || samples[0];
  if (first) {
    $('sample').value = first.name;
    await loadSample(first.name);
  } else {
    status('Open or drop a trace file.');
  }
}

// For tests and the console: the settings and the last run's output.
window.strataInspector = { currentConfig, last: null };

buildLatencyControls();
$('controls').addEventListener('submit', (e) => { e.preventDefault(); run(); });
$('export').addEventListener('click', exportConfig);
$('sample').addEventListener('change', () => $('sample').value && loadSample($('sample').value));
$('file').addEventListener('change', () => $('file').files[0] && loadFile($('file').files[0]));
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer.files[0];
  if (f) loadFile(f);
});
// Settings changes re-run (after the running one, if any).
for (const el of $('controls').querySelectorAll('input:not([type=file]), select:not(#sample):not(#format)')) {
  el.addEventListener('change', run);
}
