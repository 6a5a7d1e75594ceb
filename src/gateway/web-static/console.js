/* global document, fetch, window, URLSearchParams */
// hfmail's web console: polls /api/state every 2 s and draws it; the buttons POST to /api/messages/ID/ACTION.
'use strict';

const POLL_MS = 2000;
let timer;
let busy = false;

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c !== undefined && c !== null) e.append(c instanceof window.Node ? c : String(c));
  return e;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '';
  const s = Math.round(Math.abs(seconds));
  const text = s < 90 ? `${s} s` : s < 5400 ? `${Math.round(s / 60)} min` : s < 172800 ? `${(s / 3600).toFixed(1)} h` : `${Math.round(s / 86400)} d`;
  return seconds < 0 ? `${text} ago` : text;
}

function bytes(n) {
  return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KB` : `${(n / 1048576).toFixed(1)} MB`;
}

function stateBadge(state) {
  return el('span', { class: `state state-${state}`, 'data-state': state }, state);
}

function deadline(name, d) {
  if (!d) return null;
  const left = d.remainingSeconds;
  return el('div', { title: `${d.deadline} (${d.mode}${d.trace ? 'T' : ''}, asked ${d.requestedSeconds} s)` }, `${name} ${left > 0 ? 'in ' + duration(left) : 'passed'} (${d.mode})`);
}

function drawLinks(links, now) {
  const body = document.querySelector('#links tbody');
  body.replaceChildren(
    ...links.map((l) => {
      const cur = l.current;
      let air = '';
      if (cur) {
        air = el(
          'div',
          {},
          el('span', { class: 'mono' }, cur.id),
          ' ',
          el('progress', { max: cur.total, value: cur.sent }),
          ` ${bytes(cur.sent)} of ${bytes(cur.total)}`,
          cur.stalledSeconds !== null && cur.stalledSeconds !== undefined ? ` stalled ${duration(cur.stalledSeconds)}` : cur.etaSeconds !== null && cur.etaSeconds !== undefined ? `, about ${duration(cur.etaSeconds)} left` : '',
        );
      }
      const hello = l.lastHelloAt ? `${duration((Date.parse(l.lastHelloAt) - now) / 1000)}` : 'never';
      return el(
        'tr',
        { 'data-peer': l.peer },
        el('td', {}, l.peer),
        el('td', {}, el('span', { class: l.up ? 'up' : 'down' }, l.up ? 'up' : l.phase), l.problem ? el('div', { class: 'why' }, l.problem) : null),
        el('td', {}, hello),
        el('td', {}, l.answerDelayMs === null || l.answerDelayMs === undefined ? '—' : `${(l.answerDelayMs / 1000).toFixed(1)} s`),
        el('td', {}, l.lossRate === null || l.lossRate === undefined ? 'not measured' : `${(l.lossRate * 100).toFixed(1)} %`),
        el('td', {}, l.frameSize ? `${l.frameSize} B` : ''),
        el('td', {}, l.pending ?? ''),
        el('td', {}, air),
      );
    }),
  );
  if (!links.length) body.append(el('tr', {}, el('td', { colSpan: 8, class: 'muted' }, 'no radio links configured')));
}

function recipientLine(r) {
  const why = r.held ? `held by ${r.held.by}: ${r.held.reason}` : r.corrupt ? r.corrupt.error : r.status ? `${r.status.status} ${r.status.text}` : '';
  return el('div', { class: 'rcpt' }, stateBadge(r.state), ' ', r.address, el('span', { class: 'muted' }, ` via ${r.route}`), why ? el('div', { class: 'why' }, why) : null);
}

function actions(m) {
  const states = new Set(m.recipients.map((r) => r.state));
  const buttons = [];
  if (states.has('queued')) buttons.push(['hold', 'Hold']);
  if (states.has('held') || states.has('corrupt')) buttons.push(['release', 'Release']);
  if (states.has('queued') || states.has('held')) buttons.push(['requeue', 'Requeue']);
  buttons.push(['delete', 'Delete']);
  return buttons.map(([action, label]) => el('button', { type: 'button', 'data-action': action, 'data-id': m.id, onclick: () => act(m.id, action) }, label));
}

function drawQueue(q) {
  document.getElementById('queue-count').textContent = q.total > q.entries.length ? `${q.total} messages, the first ${q.entries.length} shown` : `${q.total} message${q.total === 1 ? '' : 's'}`;
  const body = document.querySelector('#queue tbody');
  body.replaceChildren(
    ...q.entries.map((m) =>
      el(
        'tr',
        { 'data-id': m.id },
        el('td', { title: `source ${m.priority.source}` }, `${m.priority.value} ${m.priority.label}`),
        el('td', { class: 'mono' }, m.id, m.problem ? el('div', { class: 'why' }, m.problem) : null),
        el('td', {}, m.sender || '<>', m.sender === '' ? el('span', { class: 'dsn' }, ' DSN') : null),
        el('td', {}, ...m.recipients.map(recipientLine)),
        el('td', {}, bytes(m.size)),
        el('td', {}, deadline('BY', m.by), deadline('ABY', m.aby), m.eta ? el('div', { class: 'why', title: 'estimated time into the peer\'s custody' }, `to ${m.eta.peer} in about ${duration(m.eta.seconds)}`) : null),
        el('td', {}, duration(m.ageSeconds)),
        el('td', {}, ...actions(m)),
      ),
    ),
  );
  if (!q.entries.length) body.append(el('tr', {}, el('td', { colSpan: 8, class: 'muted' }, 'nothing waiting')));
}

function drawRecent(recent, now) {
  const body = document.querySelector('#recent tbody');
  body.replaceChildren(
    ...recent.map((o) =>
      el(
        'tr',
        { 'data-id': o.id },
        el('td', { title: o.status ? o.status.at : '' }, o.status ? duration((Date.parse(o.status.at) - now) / 1000) : ''),
        el('td', { class: 'mono' }, o.id),
        el('td', {}, o.sender || '<>', o.dsn ? el('span', { class: 'dsn' }, ' DSN') : null),
        el('td', {}, o.address),
        el('td', {}, stateBadge(o.state)),
        el('td', { class: 'why' }, o.status ? `${o.status.status} ${o.status.text}` : ''),
      ),
    ),
  );
  if (!recent.length) body.append(el('tr', {}, el('td', { colSpan: 6, class: 'muted' }, 'no outcomes yet')));
}

function notice(text) {
  document.getElementById('notice').textContent = text;
}

function problem(text) {
  const p = document.getElementById('problem');
  p.hidden = !text;
  p.textContent = text || '';
}

async function refresh() {
  clearTimeout(timer);
  try {
    const limit = new URLSearchParams(window.location.search).get('limit');
    const res = await fetch(`/api/state${limit ? `?limit=${encodeURIComponent(limit)}` : ''}`, { cache: 'no-store' });
    if (!res.ok) throw new Error(`${res.status} ${(await res.json().catch(() => ({}))).error || res.statusText}`);
    const s = await res.json();
    const now = Date.parse(s.now);
    document.getElementById('station').textContent = s.station;
    document.title = `hfmail ${s.station}`;
    document.getElementById('updated').textContent = `updated ${new Date(now).toLocaleTimeString()}`;
    if (!busy) {
      drawLinks(s.links, now);
      drawQueue(s.queue);
      drawRecent(s.recent, now);
    }
    problem('');
  } catch (err) {
    problem(`cannot reach the gateway: ${err.message}`);
  }
  timer = setTimeout(refresh, POLL_MS);
}

async function act(id, action) {
  if (action === 'delete' && !window.confirm(`Delete message ${id}? It will not be delivered.`)) return;
  busy = true;
  try {
    const res = await fetch(`/api/messages/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Hfmail-Console': '1' },
      body: JSON.stringify(action === 'hold' ? { reason: 'held from the web console' } : {}),
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(answer.error || res.statusText);
    notice(`${action} ${id}: done`);
  } catch (err) {
    notice(`${action} ${id}: ${err.message}`);
  } finally {
    busy = false;
  }
  await refresh();
}

refresh();
