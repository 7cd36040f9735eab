// Rondo web console: plain script, no framework, no build step. Polls this
// node's /console/api/overview and /stats once a second. Every string from
// the server reaches the DOM through textContent or an attribute, never as
// markup.
'use strict';
(function () {
  const POLL_MS = 1000;
  /** Points kept per chart (one per poll). */
  const CHART_POINTS = 60;
  const SVG = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#2563eb', '#16a34a', '#d9480f', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563', '#65a30d', '#7c3aed', '#0d9488', '#b91c1c'];

  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function bytes(n) {
    if (typeof n !== 'number') return '–';
    if (n < 1024) return n + ' B';
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    let v = n / 1024;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return v.toFixed(1) + ' ' + units[i];
  }

  function duration(seconds) {
    if (typeof seconds !== 'number') return '–';
    const d = Math.floor(seconds / 86400), h = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (d > 0) return d + 'd ' + h + 'h';
    if (h > 0) return h + 'h ' + m + 'm';
    if (m > 0) return m + 'm ' + s + 's';
    return s + 's';
  }

  // Colors follow the sorted member names, so a node keeps its color while the ring changes.
  const colors = new Map();
  function colorOf(name) {
    if (!colors.has(name)) colors.set(name, PALETTE[colors.size % PALETTE.length]);
    return colors.get(name);
  }

  function reach(member) {
    if (member.self) return { text: 'up (this node)', cls: 'up' };
    if (member.liveness === 'dead') return { text: 'down', cls: 'down' };
    if (member.liveness === 'suspect') return { text: 'suspect', cls: 'suspect' };
    if (member.liveness === 'alive') return { text: 'up', cls: 'up' };
    return { text: 'unknown', cls: '' };
  }

  function renderFacts(o) {
    $('fact-node').textContent = o.node;
    $('fact-cluster').textContent = o.clusterName;
    $('fact-claimant').textContent = o.claimant;
    $('fact-epoch').textContent = String(o.epoch);
    document.title = 'Rondo console — ' + o.node;
  }

  function renderMembers(o) {
    const body = $('members').tBodies[0];
    clear(body);
    for (const m of o.members) {
      const tr = el('tr');
      tr.dataset.node = m.name;
      tr.dataset.up = String(m.up);
      tr.dataset.status = m.status;
      const name = el('td');
      const swatch = el('span', null, 'swatch');
      swatch.style.backgroundColor = colorOf(m.name);
      name.appendChild(swatch);
      name.appendChild(document.createTextNode(m.name));
      if (m.self) name.appendChild(el('span', 'this node', 'tag'));
      if (m.claimant) name.appendChild(el('span', 'claimant', 'tag'));
      tr.appendChild(name);
      tr.appendChild(el('td', m.address));
      tr.appendChild(el('td', m.status));
      const r = reach(m);
      const cell = el('td');
      cell.appendChild(el('span', r.text, 'badge reach ' + r.cls));
      tr.appendChild(cell);
      tr.appendChild(el('td', m.partitions === m.partitionsAfter ? String(m.partitions) : m.partitions + ' → ' + m.partitionsAfter));
      tr.appendChild(el('td', m.staged || ''));
      body.appendChild(tr);
    }
  }

  function arcPath(i, n, rOuter, rInner) {
    const a0 = (i / n) * 2 * Math.PI - Math.PI / 2;
    const a1 = ((i + 1) / n) * 2 * Math.PI - Math.PI / 2;
    const p = (r, a) => (r * Math.cos(a)).toFixed(3) + ' ' + (r * Math.sin(a)).toFixed(3);
    const large = a1 - a0 > Math.PI ? 1 : 0;
    return 'M ' + p(rOuter, a0) + ' A ' + rOuter + ' ' + rOuter + ' 0 ' + large + ' 1 ' + p(rOuter, a1) +
      ' L ' + p(rInner, a1) + ' A ' + rInner + ' ' + rInner + ' 0 ' + large + ' 0 ' + p(rInner, a0) + ' Z';
  }

  function renderRing(o) {
    const ring = $('ring');
    clear(ring);
    const n = o.owners.length;
    const pendingTo = new Map(o.pending.map((t) => [t.partition, t]));
    const down = new Set(o.members.filter((m) => m.up === false).map((m) => m.name));
    for (let i = 0; i < n; i++) {
      const owner = o.owners[i];
      const pending = pendingTo.get(i);
      const path = svg('path', { d: arcPath(i, n, 100, 62), fill: colorOf(owner), 'data-partition': i, 'data-owner': owner });
      path.setAttribute('class', 'partition' + (pending ? ' pending' : '') + (down.has(owner) ? ' down' : ''));
      const title = svg('title');
      title.textContent = 'partition ' + i + ': ' + owner + (pending ? ' → ' + pending.to + ' (pending)' : '') + (down.has(owner) ? ' (owner down)' : '');
      path.appendChild(title);
      ring.appendChild(path);
      // The inner ring shows where pending partitions are heading.
      if (pending) ring.appendChild(svg('path', { d: arcPath(i, n, 58, 50), fill: colorOf(pending.to), class: 'partition' }));
    }
    const label = svg('text', { x: 0, y: 4, class: 'center' });
    label.textContent = n + ' partitions';
    ring.appendChild(label);
    $('ring-size').textContent = '(' + n + ' partitions; outer: owner now, inner: new owner of pending ones)';
    const legend = $('ring-legend');
    clear(legend);
    const owned = new Map();
    for (const owner of o.owners) owned.set(owner, (owned.get(owner) || 0) + 1);
    for (const m of o.members) {
      const li = el('li');
      const swatch = el('span', null, 'swatch');
      swatch.style.backgroundColor = colorOf(m.name);
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(m.name + ': ' + (owned.get(m.name) || 0)));
      legend.appendChild(li);
    }
  }

  function renderTransfers(o) {
    $('pending-summary').textContent = o.pending.length === 0 ? 'No pending ownership changes.' : 'Pending ownership changes: ' + o.pending.length;
    $('pending-summary').dataset.count = String(o.pending.length);
    const list = $('pending');
    clear(list);
    for (const t of o.pending) list.appendChild(el('li', 'p' + t.partition + ': ' + t.from + ' → ' + t.to));
    const body = $('transfers').tBodies[0];
    clear(body);
    for (const t of o.transfers) {
      const tr = el('tr');
      tr.dataset.partition = String(t.partition);
      tr.appendChild(el('td', t.node));
      const arrow = t.direction === 'outbound' ? ' → ' : ' ← ';
      tr.appendChild(el('td', t.kind + ' p' + t.partition + arrow + t.peer));
      tr.appendChild(el('td', t.phase));
      const progressCell = el('td');
      if (t.percent !== null) {
        const bar = el('progress');
        bar.max = 100;
        bar.value = t.percent;
        progressCell.appendChild(bar);
        progressCell.appendChild(document.createTextNode(' ' + t.percent + '%'));
      } else {
        progressCell.textContent = '–';
      }
      tr.appendChild(progressCell);
      tr.appendChild(el('td', t.items + (t.itemsTotal !== null ? '/' + t.itemsTotal : '') + ' items · ' + bytes(t.bytes)));
      tr.appendChild(el('td', (t.bytesPerSecond / 1e6).toFixed(1) + ' MB/s · ' + t.itemsPerSecond + '/s'));
      body.appendChild(tr);
    }
    $('transfers-empty').hidden = o.transfers.length > 0;
    $('transfers').dataset.count = String(o.transfers.length);
    $('transfer-errors').textContent = o.transferErrors.map((e) => e.node + ': ' + e.error).join('; ');
  }

  function renderHealth(o) {
    const body = $('health').tBodies[0];
    clear(body);
    for (const h of o.health) {
      const tr = el('tr');
      tr.dataset.node = h.node;
      tr.dataset.up = String(h.up);
      tr.appendChild(el('td', h.node + (h.self ? ' (this node)' : '')));
      const cell = el('td');
      cell.appendChild(el('span', h.up === null ? 'unknown' : h.up ? 'up' : 'down', 'badge ' + (h.up === null ? '' : h.up ? 'up' : 'down')));
      tr.appendChild(cell);
      tr.appendChild(el('td', h.self ? duration(h.uptimeSeconds) : '–'));
      tr.appendChild(el('td', h.self ? bytes(h.rssBytes) : '–'));
      tr.appendChild(el('td', h.self ? bytes(h.heapUsedBytes) : '–'));
      tr.appendChild(el('td', h.self && typeof h.cpuPercent === 'number' ? h.cpuPercent.toFixed(1) + '%' : '–'));
      body.appendChild(tr);
    }
  }

  // ---- charts: small inline SVG line charts ------------------------------
  const series = { getRate: [], putRate: [], getP95: [], putP95: [] };
  let lastStats = null;

  function push(list, value) {
    list.push(typeof value === 'number' && Number.isFinite(value) ? value : null);
    while (list.length > CHART_POINTS) list.shift();
  }

  function num(stats, name) {
    const v = stats[name];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }

  function sampleStats(stats, atMs) {
    const gets = num(stats, 'node_gets_total');
    const puts = num(stats, 'node_puts_total');
    const prev = lastStats;
    lastStats = { atMs, gets, puts };
    const dt = prev === null ? 0 : (atMs - prev.atMs) / 1000;
    const rate = (now, before) => (dt > 0 && now !== null && before !== null && now >= before ? (now - before) / dt : null);
    push(series.getRate, prev === null ? null : rate(gets, prev.gets));
    push(series.putRate, prev === null ? null : rate(puts, prev.puts));
    const getUs = num(stats, 'node_get_fsm_time_95');
    const putUs = num(stats, 'node_put_fsm_time_95');
    push(series.getP95, getUs === null ? null : getUs / 1000);
    push(series.putP95, putUs === null ? null : putUs / 1000);
  }

  function drawChart(target, lines, unit) {
    clear(target);
    // Drawn in the element's own pixels, so text keeps its size and the plot fills the box.
    const W = Math.max(160, Math.round(target.clientWidth || 320)), H = Math.max(80, Math.round(target.clientHeight || 120));
    const L = 40, R = 8, T = 10, B = 16;
    target.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    const values = lines.flatMap((l) => l.points).filter((v) => v !== null);
    target.appendChild(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
    target.appendChild(svg('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
    if (values.length === 0) {
      const text = svg('text', { x: (L + W - R) / 2, y: H / 2 + 4, class: 'nodata' });
      text.textContent = 'no data';
      target.appendChild(text);
      target.dataset.state = 'nodata';
      return;
    }
    target.dataset.state = 'data';
    const max = Math.max(1, ...values) * 1.1;
    const x = (i) => L + (i / (CHART_POINTS - 1)) * (W - L - R);
    const y = (v) => H - B - (v / max) * (H - T - B);
    for (const [frac, label] of [[0, '0'], [1, formatTick(max, unit)]]) {
      const t = svg('text', { x: L - 3, y: y(frac * max) + 3, class: 'label', 'text-anchor': 'end' });
      t.textContent = label;
      target.appendChild(t);
    }
    const span = svg('text', { x: W - R, y: H - 3, class: 'label', 'text-anchor': 'end' });
    span.textContent = 'last ' + CHART_POINTS + ' s';
    target.appendChild(span);
    for (const line of lines) {
      const offset = CHART_POINTS - line.points.length;
      let d = '';
      let pen = false;
      line.points.forEach((v, i) => {
        if (v === null) { pen = false; return; }
        d += (pen ? ' L ' : ' M ') + x(i + offset).toFixed(1) + ' ' + y(v).toFixed(1);
        pen = true;
      });
      if (d !== '') target.appendChild(svg('path', { d: d.trim(), class: 'line ' + line.cls }));
    }
  }

  function formatTick(v, unit) {
    return (v >= 100 ? Math.round(v) : v.toFixed(1)) + unit;
  }

  function drawCharts() {
    drawChart($('chart-throughput'), [{ points: series.getRate, cls: 'get' }, { points: series.putRate, cls: 'put' }], '');
    drawChart($('chart-latency'), [{ points: series.getP95, cls: 'get' }, { points: series.putP95, cls: 'put' }], '');
  }

  // ---- polling ------------------------------------------------------------
  function setStatus(state, text) {
    const s = $('status');
    s.dataset.state = state;
    s.textContent = text;
  }

  async function getJson(path) {
    const response = await fetch(path, { cache: 'no-store', headers: { Accept: 'application/json' } });
    if (!response.ok) throw new Error(path + ' answered ' + response.status);
    return response.json();
  }

  async function pollOverview() {
    try {
      const o = await getJson('/console/api/overview');
      for (const m of o.members) colorOf(m.name);
      renderFacts(o);
      renderMembers(o);
      renderRing(o);
      renderTransfers(o);
      renderHealth(o);
      setStatus('live', 'live · updated ' + new Date().toLocaleTimeString());
    } catch (err) {
      // The node may be restarting: say so on the page and keep polling.
      setStatus('error', 'cannot reach this node (' + (err && err.message ? err.message : String(err)) + ')');
    } finally {
      setTimeout(pollOverview, POLL_MS);
    }
  }

  async function pollStats() {
    try {
      sampleStats(await getJson('/stats'), Date.now());
    } catch (err) {
      lastStats = null;
      for (const list of Object.values(series)) push(list, null);
    } finally {
      drawCharts();
      setTimeout(pollStats, POLL_MS);
    }
  }

  drawCharts();
  pollOverview();
  pollStats();
})();
