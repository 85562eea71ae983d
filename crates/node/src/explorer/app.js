// Ward's block explorer: a page of the node itself, over its JSON-RPC
// (POST /rpc) and WebSocket (/ws). No build step, no dependencies. Every
// value from the chain is shown through textContent, never parsed as HTML.
'use strict';

const LATEST = 20;
let nextId = 1;
let homeRows = null; // the home page's <tbody> while it is shown

// ---- JSON-RPC -------------------------------------------------------------

class RpcError extends Error {
  constructor(error) {
    super(error.message);
    this.kind = error.data && error.data.kind;
  }
}

// JSON text parsed with integers too large for a JavaScript number (above
// 2^53, where a double drops digits) kept as their exact decimal strings:
// every integer token of 16 digits or more outside a string is quoted
// before parsing.
function parseJson(text) {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i];
    if (inString) {
      out += c;
      if (c === '\\') { out += text[i + 1] || ''; i += 2; continue; }
      if (c === '"') inString = false;
      i += 1;
      continue;
    }
    if (c === '"') { inString = true; out += c; i += 1; continue; }
    if ((c >= '0' && c <= '9') || c === '-') {
      let j = i + 1;
      while (j < text.length && /[0-9.eE+-]/.test(text[j])) j += 1;
      const token = text.slice(i, j);
      out += /^-?\d{16,}$/.test(token) ? '"' + token + '"' : token;
      i = j;
      continue;
    }
    out += c;
    i += 1;
  }
  return JSON.parse(out);
}

async function rpc(method, params) {
  const response = await fetch('/rpc', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: params || {} }),
  });
  const body = parseJson(await response.text());
  if (body.error) throw new RpcError(body.error);
  return body.result;
}

// Most requests the node takes in one batch (its --max-batch default).
const BATCH = 100;

// Several calls in batches; each answer is a result or an RpcError.
async function rpcBatch(calls) {
  if (calls.length > BATCH) {
    const out = [];
    for (let i = 0; i < calls.length; i += BATCH) out.push(...await rpcBatch(calls.slice(i, i + BATCH)));
    return out;
  }
  if (calls.length === 0) return [];
  const first = nextId;
  nextId += calls.length;
  const response = await fetch('/rpc', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: first + i, method, params }))),
  });
  const answers = parseJson(await response.text());
  const byId = new Map(answers.map((a) => [a.id, a]));
  return calls.map((_, i) => {
    const a = byId.get(first + i);
    return a && !a.error ? a.result : new RpcError(a ? a.error : { message: 'no answer' });
  });
}

// ---- DOM helpers ----------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function link(path, text, cls) {
  return el('a', { href: path, class: cls, 'data-internal': '1' }, text);
}

function short(hex) {
  return typeof hex === 'string' && hex.length > 20 ? hex.slice(0, 10) + '…' + hex.slice(-8) : String(hex);
}

function json(value) {
  return el('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

function when(time) {
  // Blocks made by a node carry milliseconds; the CLI's own blocks count seconds.
  if (typeof time !== 'number') return String(time);
  return time > 1e11 ? new Date(time).toISOString().replace('.000Z', 'Z') : String(time);
}

function statusCell(status) {
  return el('span', { class: status === 'ok' ? 'status-ok' : 'status-bad' }, status);
}

// The chain's native asset (getNetwork), asked once.
let asset = null;
async function chainAsset() {
  if (!asset) asset = (await rpc('getNetwork', {})).asset || { name: 'WARD', decimals: 18 };
  return asset;
}

// An amount (a decimal string in the smallest unit) both ways:
// "1500000000000000000 (1.5 WARD)". Strings throughout: no float rounds it.
function amount(value, a) {
  const digits = String(value).padStart(a.decimals + 1, '0');
  const whole = digits.slice(0, digits.length - a.decimals);
  const fraction = digits.slice(digits.length - a.decimals).replace(/0+$/, '');
  return value + ' (' + whole + (fraction ? '.' + fraction : '') + ' ' + a.name + ')';
}

function kv(rows) {
  return el('table', { class: 'kv' }, el('tbody', {}, rows
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => el('tr', {}, el('th', {}, k), el('td', {}, v)))));
}

function table(headers, rows, attrs) {
  return el('table', attrs || {},
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

function page(title, ...content) {
  const main = document.getElementById('main');
  main.replaceChildren(el('h1', {}, title), ...content);
  document.title = title + ' · Ward explorer';
  homeRows = null;
  return main;
}

function failure(error) {
  return el('p', { class: 'status-bad error' }, error.message || String(error));
}

function signature(name, args, returns) {
  const list = (args || []).map((a) => a.name + ': ' + a.type).join(', ');
  return name + '(' + list + ')' + (returns ? ' -> ' + returns : '');
}

// ---- pages ----------------------------------------------------------------

function blockRow(block, fresh) {
  return el('tr', { class: fresh ? 'new' : null, 'data-height': String(block.height) },
    el('td', {}, link('/block/' + block.height, String(block.height))),
    el('td', { class: 'hash' }, link('/block/' + block.hash, short(block.hash))),
    el('td', {}, when(block.time)),
    el('td', { class: 'txs' }, String(block.txs.length)));
}

async function home() {
  const rows = el('tbody', { id: 'blocks' });
  page('Latest blocks', el('table', {},
    el('thead', {}, el('tr', {}, ['Height', 'Hash', 'Time', 'Transactions'].map((h) => el('th', {}, h)))),
    rows));
  homeRows = rows;
  let latest;
  try {
    latest = await rpc('getLatestBlock');
  } catch (e) {
    if (e.kind === 'not_found') {
      rows.append(el('tr', { class: 'empty' }, el('td', { colSpan: 4, class: 'muted' }, 'No blocks yet: they appear here as they are made.')));
      return;
    }
    throw e;
  }
  const heights = [];
  for (let h = latest.height - 1; h >= 1 && heights.length < LATEST - 1; h--) heights.push(h);
  const older = await rpcBatch(heights.map((height) => ['getBlock', { height }]));
  if (homeRows !== rows) return;
  // A block may have arrived over the WebSocket meanwhile.
  if (!rows.querySelector('tr[data-height="' + latest.height + '"]')) rows.append(blockRow(latest, false));
  for (const block of older) if (!(block instanceof Error)) rows.append(blockRow(block, false));
}

function onBlock(block) {
  if (!homeRows) return;
  if (homeRows.querySelector('tr[data-height="' + block.height + '"]')) return;
  const empty = homeRows.querySelector('tr.empty');
  if (empty) empty.remove();
  homeRows.prepend(blockRow(block, true));
  while (homeRows.children.length > LATEST) homeRows.lastChild.remove();
}

// Transactions a block page shows (and fetches the receipts of) at a time.
const TX_PAGE = 50;

async function txRows(block, from) {
  const txs = block.txs.slice(from, from + TX_PAGE);
  const receipts = await rpcBatch(txs.map((tx) => ['getTransaction', { tx }]));
  return txs.map((tx, k) => {
    const i = from + k;
    const r = receipts[k];
    const t = r instanceof Error ? {} : r.transaction || {};
    const target = t.call ? link('/contract/' + t.call.to, short(t.call.to))
      : r.address ? link('/contract/' + r.address, short(r.address) + ' (new)') : '';
    return el('tr', {},
      el('td', {}, String(i)),
      el('td', { class: 'hash' }, link('/tx/' + tx, short(tx))),
      el('td', {}, r instanceof Error ? r.message : statusCell(r.status)),
      el('td', { class: 'hash' }, t.from ? short(t.from) : ''),
      el('td', { class: 'hash' }, target),
      el('td', {}, (t.call && t.call.method) || (t.deploy ? 'deploy' : '')),
      el('td', {}, r instanceof Error ? '' : String(r.gas_used)));
  });
}

async function blockPage(key) {
  const block = await rpc('getBlock', /^\d+$/.test(key) ? { height: Number(key) } : { hash: key });
  const rows = await txRows(block, 0);
  // More than a page: the rest on demand, a page at a time.
  const more = el('button', { id: 'more', type: 'button' }, 'Show more');
  more.addEventListener('click', async () => {
    more.disabled = true;
    const body = document.querySelector('#txs tbody');
    body.append(...await txRows(block, body.children.length));
    more.disabled = false;
    if (body.children.length >= block.txs.length) more.remove();
  });
  page('Block ' + block.height,
    kv([
      ['Height', String(block.height)],
      ['Hash', el('span', { class: 'mono' }, block.hash)],
      ['Parent', block.height > 1 ? link('/block/' + (block.height - 1), block.parent, 'mono') : el('span', { class: 'mono' }, block.parent)],
      ['Time', when(block.time)],
      ['State root', el('span', { class: 'mono' }, block.state_root)],
      ['Transactions root', el('span', { class: 'mono' }, block.tx_root)],
      ['Receipts root', el('span', { class: 'mono' }, block.receipts_root)],
    ]),
    el('h2', {}, 'Transactions (' + block.txs.length + ')'),
    table(['#', 'Transaction', 'Status', 'From', 'To', 'Method', 'Gas'], rows, { id: 'txs' }),
    ...(block.txs.length > TX_PAGE ? [more] : []));
}

function eventRows(events) {
  return events.map((e, i) => el('tr', { class: 'event' },
    el('td', {}, String(i)),
    el('td', { class: 'hash' }, link('/contract/' + e.contract, short(e.contract))),
    el('td', { class: 'event-name' }, e.name || el('span', { class: 'mono' }, e.topic)),
    el('td', { class: 'event-fields' }, e.fields ? json(e.fields) : el('span', { class: 'mono' }, e.data))));
}

async function txPage(hash) {
  const r = await rpc('getTransaction', { tx: hash });
  if (r.status === 'pending') {
    page('Transaction ' + short(hash), el('p', {}, 'Pending: in the mempool, in no block yet.'));
    return;
  }
  const t = r.transaction || {};
  const a = await chainAsset();
  const call = t.call;
  const deploy = t.deploy;
  const args = (call && call.args) || (deploy && deploy.args);
  const params = (call && call.params) || (deploy && deploy.params) || [];
  const content = [
    kv([
      ['Hash', el('span', { class: 'mono' }, r.tx)],
      ['Status', statusCell(r.status)],
      ['Block', link('/block/' + r.height, String(r.height))],
      ['Index', String(r.index)],
      ['From', t.from ? el('span', { class: 'mono' }, t.from) : null],
      ['Nonce', t.nonce !== undefined ? String(t.nonce) : null],
      ['To', call ? link('/contract/' + call.to, call.to, 'mono') : null],
      ['Deployed', r.address ? link('/contract/' + r.address, r.address, 'mono') : null],
      ['Method', call && call.method ? el('code', { id: 'method' }, call.signature || call.method) : null],
      ['Value', t.value && t.value !== '0' ? el('span', { id: 'value' }, amount(t.value, a)) : null],
      ['Gas used', String(r.gas_used) + (t.gas_limit ? ' of ' + t.gas_limit : '')],
      ['Gas price', t.gas_price !== undefined ? t.gas_price : null],
      ['Fee', r.fee !== undefined ? el('span', { id: 'fee' }, amount(r.fee, a)) : null],
      ['Error', r.error ? r.error.kind + ': ' + r.error.message : null],
    ]),
  ];
  content.push(el('h2', {}, 'Arguments'));
  if (args) {
    content.push(table(['Name', 'Type', 'Value'], params.map((p) =>
      el('tr', { 'data-arg': p.name }, el('td', {}, p.name), el('td', {}, el('code', {}, p.type)),
        el('td', {}, json(args[p.name])))), { id: 'args' }));
  } else {
    const input = call ? call.input : deploy ? deploy.input : '';
    content.push(el('p', { class: 'mono' }, input || '(none)'));
  }
  content.push(el('h2', {}, 'Result'),
    kv([
      ['Output', el('span', { class: 'mono' }, r.output)],
      ['Decoded', r.decoded !== undefined && (r.decoded !== null || r.output !== '0x') ? json(r.decoded) : null],
      ['Not decoded', r.decode_error || null],
    ]));
  content.push(el('h2', {}, 'Events (' + r.events.length + ')'),
    table(['#', 'Contract', 'Event', 'Fields'], eventRows(r.events), { id: 'events' }));
  // The trace is a replay: fetched when asked for.
  const traced = el('div', { id: 'trace' });
  const show = el('button', { id: 'show-trace', type: 'button' }, 'Replay and show the frames');
  show.onclick = async () => {
    show.disabled = true;
    try {
      const t = await rpc('traceTransaction', { tx: hash });
      traced.replaceChildren(
        el('p', {}, 'Gas ' + t.gas_accounted + ': ' +
          t.charged.map((c) => c.what + ' ' + c.gas).join(', ') + ', and the frames\' own below.'),
        t.root ? el('ul', { class: 'frames' }, traceFrame(t.root)) : el('p', {}, 'No frame ran (a plain transfer).'));
    } catch (e) {
      traced.replaceChildren(el('p', { class: 'error' }, String(e.message || e)));
    }
  };
  // The gas profile's flame graph, drawn by the node from a replay.
  const flame = el('a', { id: 'flame-graph', href: '/trace/' + hash + '/flamegraph.svg' },
    'Flame graph of its gas');
  content.push(el('h2', {}, 'Trace'), el('p', {}, show, ' ', flame), traced);
  page('Transaction ' + short(hash), ...content);
}

// One frame of a trace and the frames it called, as nested list items.
function traceFrame(f) {
  const what = f.method ? f.method + (f.args ? ' ' + JSON.stringify(f.args) : '') : 'input ' + short(f.input);
  const lines = (f.accesses || []).map((a) => {
    if (a.read) return 'read ' + a.read.key + ' = ' + (a.read.value || '(none)');
    if (a.write) return 'write ' + a.write.key + ': ' + (a.write.old || '(none)') + ' \u2192 ' + (a.write.new || '(none)');
    const e = a.event;
    return 'event ' + (e.name ? e.name + ' ' + JSON.stringify(e.fields) : e.topic + ' ' + e.data);
  });
  for (const c of f.children || []) lines.push('child ' + c.instance + ': ' + JSON.stringify(c.call) + ' \u2192 ' + JSON.stringify(c.result));
  return el('li', { class: 'frame', 'data-status': f.status },
    el('div', { class: 'frame-head' },
      el('strong', {}, f.call), ' ', link('/contract/' + f.code_address, short(f.code_address), 'mono'),
      ' [' + f.kind + '] ', el('code', { class: 'frame-method' }, what), ' ', statusCell(f.status),
      ' gas ' + f.gas_used + ' (own ' + f.self_gas + ') of ' + f.gas_given +
        (f.runtime_gas !== null ? ', runtime gas ' + f.runtime_gas : '')),
    f.error ? el('div', { class: 'error' }, f.error.kind + ': ' + f.error.message) : null,
    f.backtrace ? el('ol', { class: 'backtrace mono' }, f.backtrace.map((b) => el('li', {}, backtraceLine(b)))) : null,
    f.decoded !== undefined && !(f.decoded === null && f.output === '0x') ? el('div', {}, 'output ', json(f.decoded)) : null,
    lines.length ? el('ul', { class: 'accesses mono' }, lines.map((l) => el('li', {}, l))) : null,
    f.calls.length ? el('ul', { class: 'frames' }, f.calls.map(traceFrame)) : null);
}

// One entry of a frame's backtrace: a function, and where it is.
function backtraceLine(b) {
  let line = b.function || '?';
  if (b.file) line += ' at ' + b.file + (b.line ? ':' + b.line + (b.column ? ':' + b.column : '') : '');
  else if (b.offset !== undefined && b.offset !== null) line += ' at offset 0x' + b.offset.toString(16);
  return line + (b.inlined ? ' (inlined)' : '');
}

// A form input's text as a JSON argument of `type`.
function argValue(type, text) {
  if (type === 'str' || type === 'address' || type === 'bytes' || /^[ui](8|16|32|64|128)$/.test(type)) return text;
  if (type === 'bool') return text === 'true' ? true : text === 'false' ? false : text;
  try {
    return JSON.parse(text);
  } catch (_) {
    return text;
  }
}

function queryForm(address, method) {
  const inputs = method.args.map((a) => el('input', { name: a.name, placeholder: a.type, 'data-type': a.type }));
  const result = el('div', { class: 'result' });
  const form = el('form', { class: 'form query', 'data-method': method.name },
    el('code', {}, signature(method.name, method.args, method.returns)),
    method.args.map((a, i) => el('label', {}, a.name + ' (' + a.type + ')', inputs[i])),
    el('button', { type: 'submit' }, 'Query'),
    result);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const args = {};
    method.args.forEach((a, i) => { args[a.name] = argValue(a.type, inputs[i].value.trim()); });
    result.replaceChildren(el('span', { class: 'muted' }, 'running…'));
    try {
      const r = await rpc('query', { to: address, method: method.name, args });
      result.replaceChildren(statusCell(r.status), ' gas ' + r.gas_used,
        r.decoded !== undefined ? json(r.decoded) : el('pre', {}, r.output),
        r.error ? el('p', { class: 'status-bad' }, r.error.kind + ': ' + r.error.message) : null);
      result.setAttribute('data-status', r.status);
    } catch (e) {
      result.replaceChildren(failure(e));
      result.setAttribute('data-status', 'error');
    }
  });
  return form;
}

async function contractPage(address) {
  const c = await rpc('getContract', { address });
  const b = await rpc('getBalance', { address });
  const s = c.schema;
  const content = [kv([
    ['Address', el('span', { class: 'mono' }, c.address)],
    ['Code hash', el('span', { class: 'mono' }, c.code_hash)],
    ['Code size', c.code_size + ' bytes'],
    ['Deployer', el('span', { class: 'mono' }, c.deployer)],
    ['Created in block', link('/block/' + c.created_at, String(c.created_at))],
    ['Balance', el('span', { id: 'balance' }, amount(b.balance, { name: b.asset, decimals: b.decimals }))],
  ])];
  if (s) {
    content.push(el('h2', {}, 'Schema (version ' + s.version + ')'));
    const rows = [];
    if (s.init) rows.push(el('tr', {}, el('td', {}, 'constructor'), el('td', {}, el('code', {}, signature('init', s.init.args)))));
    for (const m of s.methods) {
      rows.push(el('tr', { class: 'method' }, el('td', {}, m.read_only ? 'read-only' : 'method'), el('td', {}, el('code', {}, signature(m.name, m.args, m.returns)))));
    }
    for (const e of s.events) {
      rows.push(el('tr', {}, el('td', {}, 'event'), el('td', {}, el('code', {}, signature(e.name, e.fields)))));
    }
    content.push(table(['Kind', 'Signature'], rows, { id: 'schema' }));
    const readOnly = s.methods.filter((m) => m.read_only);
    if (readOnly.length) {
      content.push(el('h2', {}, 'Read-only methods'), ...readOnly.map((m) => queryForm(address, m)));
    }
  } else {
    content.push(el('p', { class: 'muted' }, 'This module carries no schema.'));
  }
  const storage = el('tbody', { id: 'storage' });
  const more = el('button', { type: 'button', hidden: true }, 'More');
  let cursor = null;
  async function loadStorage() {
    const p = await rpc('getStorageRange', { address, limit: 50, cursor });
    for (const e of p.entries) {
      storage.append(el('tr', {}, el('td', { class: 'mono' }, e.key), el('td', { class: 'mono' }, e.value)));
    }
    cursor = p.cursor;
    more.hidden = !cursor;
  }
  more.addEventListener('click', () => loadStorage().catch((e) => more.replaceWith(failure(e))));
  content.push(el('h2', {}, 'Storage'), table(['Key', 'Value'], storage, { class: 'storage' }), more);
  page('Contract ' + short(address), ...content);
  await loadStorage();
}

async function search(query) {
  const q = query.trim();
  document.getElementById('search-input').value = q;
  if (/^\d+$/.test(q)) return go('/block/' + q, true);
  if (/^0x[0-9a-fA-F]{64}$/.test(q)) {
    const [block, tx, contract] = await rpcBatch([
      ['getBlock', { hash: q }], ['getTransaction', { tx: q }], ['getContract', { address: q }]]);
    if (!(block instanceof Error)) return go('/block/' + block.height, true);
    if (!(tx instanceof Error)) return go('/tx/' + q, true);
    if (!(contract instanceof Error)) return go('/contract/' + q, true);
    page('Nothing found', el('p', {}, 'No block, transaction or contract ' + q + '.'));
    return;
  }
  page('Search', el('p', {}, 'Search for a block height, or a block hash, transaction hash or contract address (0x and 64 hex digits).'));
}

// ---- routing --------------------------------------------------------------

async function route() {
  const path = location.pathname;
  let m;
  try {
    if (path === '/' || path === '') return await home();
    if ((m = path.match(/^\/block\/(\d+|0x[0-9a-fA-F]{64})$/))) return await blockPage(m[1]);
    if ((m = path.match(/^\/tx\/(0x[0-9a-fA-F]{64})$/))) return await txPage(m[1]);
    if ((m = path.match(/^\/contract\/(0x[0-9a-fA-F]{64})$/))) return await contractPage(m[1]);
    if (path === '/search') return await search(new URLSearchParams(location.search).get('q') || '');
    page('Not found', el('p', {}, 'No page ' + path + '.'));
  } catch (e) {
    page(e.kind === 'not_found' ? 'Not found' : 'Error', failure(e));
  }
}

function go(path, replace) {
  if (replace) history.replaceState({}, '', path);
  else history.pushState({}, '', path);
  return route();
}

function setLive(on) {
  const badge = document.getElementById('live');
  badge.textContent = on ? 'live' : 'offline';
  badge.className = on ? 'badge live' : 'badge';
}

function connectLive() {
  const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
  const socket = new WebSocket(scheme + location.host + '/ws');
  socket.onopen = () => socket.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'subscribe', params: { topic: 'blocks' } }));
  socket.onmessage = (message) => {
    const msg = parseJson(message.data);
    if (msg.id === 1 && msg.result !== undefined) setLive(true);
    if (msg.method === 'subscription' && msg.params) onBlock(msg.params.result);
  };
  socket.onclose = () => {
    setLive(false);
    setTimeout(connectLive, 2000);
  };
}

document.addEventListener('click', (event) => {
  const a = event.target.closest('a[data-internal]');
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  go(a.getAttribute('href'));
});

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  go('/search?q=' + encodeURIComponent(document.getElementById('search-input').value.trim()));
});

window.addEventListener('popstate', route);

rpc('getNetwork').then((n) => {
  document.getElementById('network').textContent = n.chain_id + ' · ' + n.backend;
}).catch(() => {});

connectLive();
route();
