/*! guide embed.js: tours, hints, checklists and a help chat for any web page. MIT, no dependencies. */
/* <script src="https://HOST/embed.js" data-site="SITE_KEY" async></script>
 * Guide('identify', {id, traits, locale}) · Guide('start', tourId) · Guide('open-chat')
 * Guide('track', name, props) · Guide('on', event, fn) · Guide('reset'). See docs/embed.md.
 * Generated from guide_server/widget/js/ (one file per concern): edit those, not this file. */
(function (w, d) {
'use strict';

if (w.Guide && w.Guide.loaded) return; // the tag was included twice

// Every way into the widget (API calls, events, timers, observers, promises) goes through safe():
// the host page never sees an exception from us, only a console warning.
let errs = 0;
const warn = (e) => {
  try { console.warn('[guide]', e) } catch (_) { /* no console */ }
  // and to the review desk, a few per page at most (an error in track() itself cannot loop: errs counts first)
  if (errs++ < 5) safe(track)('widget_error', 0, { message: String((e && e.message) || e).slice(0, 999) || '?' });
};
const safe = (fn) => function () {
  try {
    const r = fn.apply(this, arguments);
    if (r && typeof r.then === 'function') r.then(null, warn);
    return r;
  } catch (e) { warn(e) }
};
const on = (el, type, fn, opt) => {
  const f = safe(fn);
  el.addEventListener(type, f, opt);
  return () => el.removeEventListener(type, f, opt);
};
const later = (fn, ms) => setTimeout(safe(fn), ms);

// ---- configuration: the data-* attributes of our own <script> tag
const tag = d.currentScript || d.querySelector('script[data-site][src*="embed.js"]');
const cfg = Object.assign({}, tag && tag.dataset);
const SITE = cfg.site;
const API = (cfg.api || (tag ? new URL(tag.src, location.href).origin : '')).replace(/\/$/, '');
const KEY = 'guide:' + SITE;

const S = {
  user: null, traits: null, locale: null, support: null,
  lists: [], runs: new Set(), run: null, // run: the one modal tour on screen
  hints: {}, watch: [], ended: new Set(), q: Promise.resolve(), sv: {}, rp: null, anon: null,
};

// ---- strings, locale
const T = {
  ja: {
    next: '次へ', back: '戻る', done: '完了', ok: 'OK', close: '閉じる', help: 'ヘルプ', hello: 'ご質問をどうぞ。ヘルプ記事からお答えします。',
    ask: '質問を入力', send: '送信', source: '出典', yes: '役に立った', no: '役に立たなかった', thanks: 'フィードバックありがとうございます。',
    sorry: 'お役に立てず申し訳ありません。', support: 'サポートに問い合わせる', wait: '回答を探しています…',
    fail: '接続できませんでした。しばらくしてからお試しください。', show: '見てみる', all: 'すべて完了しました',
    later: 'あとで回答する', thx: 'ご回答ありがとうございました。', lo: 'まったく思わない', hi: '非常にそう思う',
    why: 'そう答えた理由をお聞かせください（任意）', pt: '点',
  },
  en: {
    next: 'Next', back: 'Back', done: 'Done', ok: 'Got it', close: 'Close', help: 'Help', hello: 'Ask a question; answers come from our help articles.',
    ask: 'Type your question', send: 'Send', source: 'Source', yes: 'Helpful', no: 'Not helpful', thanks: 'Thank you for the feedback.',
    sorry: 'Sorry we could not help.', support: 'Contact support', wait: 'Looking for an answer…',
    fail: 'Could not connect. Please try again later.', show: 'Show me', all: 'All done',
    later: 'Ask me later', thx: 'Thank you for your answer.', lo: 'Not at all likely', hi: 'Extremely likely',
    why: 'What is the main reason for your score? (optional)', pt: ' out of 10',
  },
};
const locale = () => S.locale || (T[cfg.locale] && cfg.locale) ||
  ((d.documentElement.lang || '').slice(0, 2).toLowerCase() === 'en' ? 'en' : 'ja');
const t = (k) => T[locale()][k];

// ---- small helpers
let uid = 0;
const clamp = (v, lo, hi) => Math.max(lo, Math.min(v, hi));
const motion = () => !(w.matchMedia && w.matchMedia('(prefers-reduced-motion: reduce)').matches);
const deepActive = () => {
  let a = d.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a;
};
const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]):not([type=hidden]),select:not([disabled]),' +
  'textarea:not([disabled]),[tabindex]:not([tabindex="-1"]),[contenteditable=""],[contenteditable=true]';
const visible = (el) => el.getClientRects().length > 0;
// Patterns as in content/tours: '*' is any run of characters; the query counts only if the pattern has '?'.
const here = (pat) => {
  let s = location.pathname + (pat.indexOf('?') >= 0 ? location.search : '');
  try { s = decodeURIComponent(s) } catch (_) { /* keep it encoded */ }
  return new RegExp('^' + pat.split(/\*+/).map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$').test(s);
};
const safeUrl = (u) => (/^(https?:|mailto:|tel:|\/)/i.test(u || '') ? u : null);

// HTML from the server was sanitised there (allow-list); under Trusted Types it passes through our own policy.
let tt = null;
try { tt = w.trustedTypes && w.trustedTypes.createPolicy('guide', { createHTML: (s) => s }) } catch (_) { /* policy not allowed */ }

function h(tag, attrs) {
  const e = d.createElement(tag);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k.slice(0, 2) === 'on') on(e, k.slice(2), v);
    else if (k === 'html') e.innerHTML = tt ? tt.createHTML(v) : v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (let i = 2; i < arguments.length; i++) {
    [].concat(arguments[i]).forEach((c) => c != null && c !== false && e.append(c));
  }
  return e;
}

// ---- storage: anonymous users keep traits and tour progress in this browser
function local(patch) {
  let v = {};
  try { v = JSON.parse(w.localStorage.getItem(KEY)) || {} } catch (_) { /* blocked or bad JSON */ }
  if (patch) {
    Object.assign(v, patch);
    try { w.localStorage.setItem(KEY, JSON.stringify(v)) } catch (_) { /* full or blocked */ }
  }
  return v;
}

// ---- HTTP: JSON in, JSON out. text/plain keeps cross-origin POSTs "simple" (no preflight).
function http(path, body, keepalive) {
  const init = { credentials: 'omit' };
  if (body) {
    init.method = 'POST';
    init.body = JSON.stringify(Object.assign({ site: SITE }, body));
    init.headers = { 'Content-Type': 'text/plain;charset=UTF-8' };
    init.keepalive = !!keepalive; // progress must survive a click that leaves the page
  }
  return w.fetch(API + '/api/v1/' + path, init)
    .then((r) => (r.ok ? r.json() : Promise.reject(Object.assign(new Error(path + ': HTTP ' + r.status), { status: r.status }))));
}
const query = (o) => {
  const p = new URLSearchParams({ site: SITE });
  for (const k in o) if (o[k] != null && o[k] !== '') p.set(k, o[k]);
  return '?' + p;
};
// Commands that talk to the server run one after another: identify lands before the tours it targets.
const chain = (fn) => (S.q = S.q.then(fn).catch(warn));

// ---- events for the review desk (POST /events): queued, sent in batches in the background, and sent
// again until the server acknowledges them; each has its own id, so a batch sent twice is stored once.
const rid = () => Date.now().toString(36) + crypto.getRandomValues(new Uint32Array(2)).join('');
let SESSION; // per tab: sessionStorage survives reloads, not the tab
try { SESSION = sessionStorage[KEY] || (sessionStorage[KEY] = rid()) } catch (_) { SESSION = rid() }
// the person of anonymous users: a random id kept in this browser (Guide('reset') forgets it)
const anon = () => S.anon || (S.anon = local().anon || local({ anon: rid() }).anon);
let queue = [], batches = [], busy = 0, fails = 0, flushTm = 0;
// ctx: the tour, version, step and step_index the event is about (or nothing)
function track(type, ctx, props) {
  // the page without its #fragment, which may hold tokens (OAuth); the server masks e-mails and numbers
  queue.push(Object.assign({ id: rid(), type, at: Date.now(), url: location.href.split('#')[0].slice(0, 2000) }, ctx, props && { props }));
  if (queue.length > 19) flush();
  else if (!flushTm) flushTm = later(flush, 3000);
}
// Seals the queue into batches under the current person, then sends the oldest batch; beacon (the page
// is going away): hands every batch to the browser. A network error or a 5xx keeps the batch for later.
function flush(beacon) {
  clearTimeout(flushTm);
  flushTm = 0;
  while (queue.length) batches.push({ user: S.user || undefined, anon: S.user ? undefined : anon(), session: SESSION, events: queue.splice(0, 50) });
  batches = batches.slice(-20); // offline for long: the newest are kept
  if (beacon) batches = batches.filter((b) => !navigator.sendBeacon(API + '/api/v1/events', JSON.stringify(Object.assign({ site: SITE }, b))));
  const b = batches[0];
  if (!b || busy) return;
  const sent = http('events', b, true);
  busy = 1;
  sent.then(() => 1, (e) => e.status < 500 && e.status !== 429 && (warn(e), 1)).then((done) => {
    busy = 0;
    if (done) batches = batches.filter((x) => x !== b);
    fails = done ? 0 : fails + 1;
    if (batches.length) flushTm = later(flush, done ? 0 : 1500 << Math.min(fails, 5));
  });
}

// ---- the shadow root: our UI lives here, out of reach of the host's CSS
const CSS = `
.r{all:initial;--a:var(--guide-accent,#2563eb);--at:var(--guide-accent-text,#fff);--bg:var(--guide-bg,#fff);
--fg:var(--guide-text,#1f2933);--mu:var(--guide-muted,#616e7c);--ln:var(--guide-border,#d5dbe1);--rad:var(--guide-radius,10px);
font:14px/1.6 var(--guide-font,system-ui,-apple-system,"Segoe UI","Hiragino Sans","Noto Sans JP",sans-serif);color:var(--fg)}
.r *{box-sizing:border-box}
button,input,textarea{font:inherit;color:inherit}
a{color:var(--a)}
:focus-visible{outline:2px solid var(--a);outline-offset:2px}
.pop:focus{outline:0}
.ov{position:fixed;z-index:2;background:var(--guide-overlay,rgba(15,23,42,.55))}
.ring{position:fixed;z-index:2;border-radius:6px;box-shadow:0 0 0 3px var(--a);pointer-events:none}
.busy .hint,.busy .sv{display:none}
.pop,.chat,.cl,.sv{background:var(--bg);color:var(--fg);border-radius:var(--rad);box-shadow:0 10px 30px rgba(0,0,0,.22)}
.pop,.chat{position:fixed;z-index:3}
.pop{width:min(340px,calc(100vw - 24px));max-height:calc(100vh - 24px);overflow:auto;padding:16px 18px}
.hint{z-index:1;width:min(280px,calc(100vw - 24px));padding:12px 14px;border:1px solid var(--ln)}
h2{margin:0 28px 6px 0;font-size:16px;font-weight:600;line-height:1.4}
.b p{margin:.4em 0}.b img{max-width:100%}
.f{display:flex;gap:8px;align-items:center;margin-top:12px}
.n{margin-right:auto;color:var(--mu);font-size:12px}
.btn{cursor:pointer;padding:6px 14px;border:1px solid var(--ln);border-radius:6px;background:transparent}
.pri{background:var(--a);border-color:var(--a);color:var(--at)}
.x{position:absolute;top:8px;right:8px;width:28px;height:28px;border:0;background:none;cursor:pointer;font-size:20px;line-height:1;color:var(--mu)}
.go{position:fixed;z-index:1;right:20px;bottom:20px;width:52px;height:52px;border-radius:50%;border:0;cursor:pointer;
background:var(--a);color:var(--at);font-size:24px;font-weight:700;box-shadow:0 4px 14px rgba(0,0,0,.25)}
.chat{right:20px;bottom:84px;width:min(370px,calc(100vw - 24px));height:min(540px,calc(100vh - 110px));display:flex;flex-direction:column}
.chat header{display:flex;padding:12px 16px;border-bottom:1px solid var(--ln)}
.chat h2{flex:1;margin:0}
.chat .x{position:static}
.log{flex:1;overflow:auto;padding:12px;display:flex;flex-direction:column;gap:8px}
.m{max-width:88%;padding:8px 12px;border-radius:12px;background:#f1f4f8;align-self:flex-start;overflow-wrap:anywhere}
.m p{margin:0 0 4px}.m ul{margin:4px 0;padding-left:18px}
.u{align-self:flex-end;background:var(--a);color:var(--at)}
.src{display:block;font-size:13px}
.fb{display:flex;gap:6px;margin-top:6px}.fb .btn{padding:2px 10px}
[aria-pressed=true]{border-color:var(--a);background:#e8efff}
form{display:flex;gap:6px;padding:10px;border-top:1px solid var(--ln)}
form input,textarea{flex:1;min-width:0;padding:8px 10px;border:1px solid var(--ln);border-radius:8px;background:var(--bg)}
.sv{position:fixed;z-index:1;left:0;right:0;bottom:20px;margin:auto;width:min(400px,calc(100vw - 24px));padding:14px 16px}
.sc{display:flex;gap:3px;margin:10px 0 4px}.sc .btn{flex:1;padding:4px 0}
.sh{display:flex;justify-content:space-between}
textarea{display:block;width:100%;margin-top:4px;resize:vertical}label{display:block;margin-top:8px}
.cls{position:fixed;z-index:1;left:20px;bottom:20px;width:min(300px,calc(100vw - 100px));display:flex;flex-direction:column;gap:8px}
.cl{padding:10px 14px}
.cl>button{display:flex;width:100%;gap:8px;border:0;background:none;padding:4px 0;cursor:pointer;font-weight:600;text-align:left}
.cl>button span{margin-left:auto;color:var(--mu);font-weight:400}
.bar{height:6px;border-radius:3px;background:var(--ln);overflow:hidden;margin:4px 0}
.bar i{display:block;height:100%;background:var(--a)}
.cl ul{list-style:none;margin:8px 0 0;padding:0}
.cl li{display:flex;gap:8px;align-items:center;padding:5px 0;border-top:1px solid var(--ln)}
.cl li span{flex:1}.cl .ok span{color:var(--mu);text-decoration:line-through}
.cl li .btn{padding:2px 10px;font-size:13px}
@media (max-width:480px){
.pop,.chat,.sv{left:0!important;right:0!important;top:auto!important;bottom:0!important;width:100%;max-height:70vh;border-radius:var(--rad) var(--rad) 0 0}
.chat{height:80vh}}
@media (prefers-reduced-motion:no-preference){.pop,.chat{animation:in .18s ease-out}
@keyframes in{from{opacity:0;transform:translateY(6px)}}}`;

let host, ui, launcher;
function mount() {
  host = d.createElement('guide-widget');
  // Inline !important beats any host rule (even `* {all: unset}`); CSSOM writes are allowed under a strict CSP.
  ('position:fixed;top:0;left:0;right:auto;bottom:auto;width:0;height:0;margin:0;padding:0;border:0;overflow:visible;' +
    'display:block;visibility:visible;opacity:1;transform:none;filter:none;z-index:2147483647;background:none;pointer-events:none')
    .split(';').forEach((p) => host.style.setProperty(p.split(':')[0], p.split(':')[1], 'important'));
  const root = host.attachShadow({ mode: 'open' });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } catch (_) { // older browsers: a <style>, allowed by the script tag's nonce if the page uses one
    root.append(h('style', { nonce: tag && tag.nonce }, CSS));
  }
  ui = h('div', { class: 'r' });
  root.append(ui);
  if (cfg.chat !== 'off') {
    launcher = h('button', { class: 'go', type: 'button', 'aria-expanded': 'false', onclick: () => (chatBox && chatBox.isConnected ? closeChat() : openChat()) }, '?');
    ui.append(launcher);
  }
  attach();
}
// The top layer (popover) puts us above any z-index the host uses; re-attached if a framework removed us.
function attach() {
  if (host.isConnected) return;
  d.documentElement.append(host);
  if (host.showPopover) {
    host.popover = 'manual';
    host.showPopover();
  }
}

// ---- waiting for elements: late targets and `trigger: {element}`
// Calls back with the first visible match, or null after `ms`; returns a cancel function.
function find(sel, ms, cb) {
  let mo = null, tm = null;
  const stop = () => { if (mo) mo.disconnect(); clearTimeout(tm) };
  const look = () => {
    let el = null;
    try { el = d.querySelector(sel) } catch (_) { /* a bad selector is a target that never appears */ }
    if (el && visible(el)) { stop(); cb(el); return true }
  };
  if (look()) return stop;
  mo = new MutationObserver(safe(look));
  mo.observe(d.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['class', 'style', 'hidden'] });
  if (ms < Infinity) tm = later(() => { stop(); cb(null) }, ms);
  return stop;
}

// ---- placement of step popups and the overlay
function position(pop, r, want) {
  const vw = w.innerWidth, vh = w.innerHeight, W = pop.offsetWidth, H = pop.offsetHeight, G = 12;
  let x = (vw - W) / 2, y = (vh - H) / 2, side = 'center';
  if (r) {
    const room = { bottom: vh - r.bottom, top: r.top, right: vw - r.right, left: r.left };
    const fits = (s) => room[s] >= (s === 'top' || s === 'bottom' ? H : W) + G;
    side = fits(want) ? want : Object.keys(room).find(fits) || 'bottom';
    if (side === 'top' || side === 'bottom') {
      y = side === 'top' ? r.top - H - G : r.bottom + G;
      x = r.left + r.width / 2 - W / 2;
    } else {
      x = side === 'left' ? r.left - W - G : r.right + G;
      y = r.top + r.height / 2 - H / 2;
    }
  }
  pop.style.left = clamp(x, 8, vw - W - 8) + 'px';
  pop.style.top = clamp(y, 8, vh - H - 8) + 'px';
  pop.setAttribute('data-side', side);
}
const box = (el, x, y, wd, ht) => {
  const s = el.style;
  s.left = x + 'px'; s.top = y + 'px'; s.width = Math.max(0, wd) + 'px'; s.height = Math.max(0, ht) + 'px';
};
// Four panes around the target: the page is dimmed and blocked except the target, which stays clickable.
function cover(ov, r) {
  const vw = w.innerWidth, vh = w.innerHeight, P = 6;
  const a = r ? { t: r.top - P, l: r.left - P, b: r.bottom + P, e: r.right + P } : { t: vh, l: 0, b: vh, e: 0 };
  box(ov[0], 0, 0, vw, a.t);
  box(ov[1], a.e, a.t, vw - a.e, a.b - a.t);
  box(ov[2], 0, a.b, vw, vh - a.b);
  box(ov[3], 0, a.t, a.l, a.b - a.t);
  if (r) box(ov[4], a.l, a.t, a.e - a.l, a.b - a.t);
  ov[4].hidden = !r;
}
let frame = 0;
const reflow = () => {
  if (!frame) frame = requestAnimationFrame(safe(() => { frame = 0; S.runs.forEach((run) => run.place()) }));
};

// ---- a running tour (modal, with overlay) or hint (light, non-blocking)
class Run {
  constructor(tour, step, resumed) {
    this.tour = tour;
    this.lang = locale();
    this.modal = tour.kind !== 'hint';
    this.i = 0;
    this.stepOff = [];
    this.seen = []; // the steps shown, in order: going back and forth between two of them is a stuck signal
    this.bf = {};
    S.runs.add(this);
    if (this.modal) {
      S.run = this;
      this.ret = deepActive(); // focus goes back here when the tour ends
      this.off = on(d, 'keydown', (e) => this.key(e), true);
    }
    if (!resumed) track('tour_started', this.ctx(step || 0));
    this.show(step || 0, 1);
  }

  step() { return (this.tour.steps || [])[this.i] }

  ctx(i) {
    const s = this.tour.steps[i];
    return { tour: this.tour.id, version: this.tour.version, step: s && s.id, step_index: s && i };
  }

  show(i, dir) { this.go(i, dir).catch(warn) }

  async go(i, dir) {
    if (this.dead) return;
    if (this.pop && i > this.i) track('step_completed', this.ctx(this.i));
    this.clear();
    const steps = this.tour.steps || [];
    if (i >= steps.length) return this.end('completed');
    this.i = i = Math.max(0, i);
    const s = steps[i], adv = s.advance || { type: 'next' };
    if (this.modal && this.saved !== i) { // once per step, not on every re-show
      this.saved = i;
      this.save('active');
    }
    if (adv.type === 'url' && here(adv.url)) return this.show(i + 1, 1);
    if (s.url && !here(s.url)) return; // the step lives on another page: route() shows it there
    const token = (this.token = {});
    const el = s.target ? await new Promise((res) => (this.cancel = find(s.target, s.wait == null ? 3000 : s.wait, res))) : null;
    if (token !== this.token || this.dead) return; // a newer step or the end came first
    if (s.target && !el) {
      const action = s.missing || 'skip', event = { type: 'target_missing', step_id: s.id, action };
      track('target_missing', this.ctx(i), { action });
      if (action === 'abort') return this.end('dismissed', event);
      this.save('active', event);
      if (action === 'skip') {
        const way = i + dir < 0 ? 1 : dir; // going back past a missing first step turns forward
        return this.show(i + way, way);
      }
    }
    this.render(s, adv, el);
  }

  render(s, adv, el) {
    const n = this.tour.steps.length, last = this.i === n - 1, id = 'g' + ++uid, b = s.buttons || {};
    const c = this.ctx(this.i), seen = this.seen, k = seen.length, idle = s.idle_after == null ? 30 : s.idle_after;
    this.el = el;
    if (this.shown !== this.i) { // a new visit to this step (showing it again after a re-render is not)
      this.shown = this.i;
      this.since = Date.now();
      this.idled = 0;
      track('step_shown', c);
      seen.push(this.i);
      if (seen[k] === seen[k - 2] && seen[k - 1] === seen[k - 3] && !this.bf[this.i]) { // a, b, a, b
        this.bf[this.i] = 1;
        track('back_forth', c, { other_step: this.tour.steps[seen[k - 1]].id });
      }
    }
    if (this.modal && idle && !this.idled) { // no progress on this step for idle_after seconds
      const tm = later(() => {
        this.idled = 1;
        track('idle', c, { seconds: Math.round((Date.now() - this.since) / 1000) });
      }, idle * 1000 - (Date.now() - this.since));
      this.stepOff.push(() => clearTimeout(tm));
    }
    // click/input steps advance by themselves; a centred fallback for a missing target still needs a button
    this.nextBtn = adv.type === 'next' || (!el && adv.type !== 'url') ?
      h('button', { class: 'btn pri', type: 'button', onclick: () => this.show(this.i + 1, 1) },
        last ? b.done || t(this.modal ? 'done' : 'ok') : b.next || t('next')) : null;
    this.pop = h('div', {
      class: this.modal ? 'pop' : 'pop hint', role: 'dialog', 'aria-modal': this.modal && 'true',
      'aria-labelledby': id + 't', 'aria-describedby': id + 'b', tabindex: '-1',
    },
    h('h2', { id: id + 't' }, s.title || this.tour.title || ''),
    h('div', { id: id + 'b', class: 'b', html: s.html || '' }),
    h('div', { class: 'f' },
      n > 1 && h('span', { class: 'n' }, this.i + 1 + ' / ' + n),
      this.i > 0 && h('button', { class: 'btn', type: 'button', onclick: () => this.show(this.i - 1, -1) }, b.back || t('back')),
      this.nextBtn),
    // last in the DOM so that Tab reaches the step's own buttons first
    h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: () => this.end('dismissed') }, '×'));
    if (!this.modal) this.stepOff.push(on(this.pop, 'keydown', (e) => e.key === 'Escape' && this.end('dismissed')));
    if (el) {
      const r = el.getBoundingClientRect();
      if (r.bottom < 0 || r.top > w.innerHeight || r.right < 0 || r.left > w.innerWidth) {
        el.scrollIntoView({ block: 'center', inline: 'nearest', behavior: motion() ? 'smooth' : 'auto' });
      }
      if (w.ResizeObserver) {
        this.ro = new ResizeObserver(safe(reflow)); // reflow only schedules a frame: no observer loop errors
        this.ro.observe(el, { box: 'border-box' });
      }
      const inside = (e) => e.composedPath().indexOf(el) >= 0;
      if (adv.type === 'click') this.stepOff.push(on(d, 'click', (e) => inside(e) && this.show(this.i + 1, 1), true));
      if (adv.type === 'input') { // advance once the user pauses typing, or leaves the field
        let tm = 0;
        const go = () => this.show(this.i + 1, 1);
        this.stepOff.push(
          on(d, 'input', (e) => { if (inside(e)) { clearTimeout(tm); tm = later(go, 700) } }, true),
          on(d, 'change', (e) => inside(e) && go(), true),
          () => clearTimeout(tm));
      }
    }
    if (this.modal) { // hints wait under a running tour
      this.ov = [0, 1, 2, 3, 4].map((k) => h('div', { class: k < 4 ? 'ov' : 'ring' }));
      ui.append.apply(ui, this.ov);
      ui.classList.add('busy');
    }
    ui.append(this.pop);
    attach();
    this.place();
    if (this.modal && this.focused !== this.i) { // a new step takes focus; showing it again does not
      this.focused = this.i;
      this.pop.focus({ preventScroll: true });
    }
  }

  // Follows the target on scroll and resize; never touches focus.
  place() {
    if (!this.pop) return;
    if (this.el && !this.el.isConnected) return this.show(this.i, 1); // re-rendered by the host: find it again
    const r = this.el ? this.el.getBoundingClientRect() : null;
    if (this.ov) cover(this.ov, r);
    position(this.pop, r, this.step().placement);
  }

  // The page changed (pushState, popstate): advance, hide or show again.
  route() {
    const s = this.step();
    if (!s || this.dead) return;
    const adv = s.advance || {};
    if (adv.type === 'url' && here(adv.url)) this.show(this.i + 1, 1);
    else if (s.url && !here(s.url)) this.clear();
    else if (!this.pop && !this.token) this.show(this.i, 1);
  }

  key(e) {
    // the chat may be open above a tour (to ask about this step): its keys are its own
    if (!this.pop || (chatBox && chatBox.contains(e.composedPath()[0]))) return;
    const k = e.key, el = e.composedPath()[0] || {};
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable;
    if (k === 'Escape') { e.preventDefault(); this.end('dismissed') }
    else if (k === 'Tab') this.trap(e);
    else if (typing) return;
    else if (k === 'ArrowRight' && this.nextBtn) { e.preventDefault(); this.show(this.i + 1, 1) }
    else if (k === 'ArrowLeft' && this.i > 0) { e.preventDefault(); this.show(this.i - 1, -1) }
  }

  // Tab and Shift+Tab cycle through the step's controls and its target, nothing else.
  trap(e) {
    const el = this.el;
    const list = [].slice.call(this.pop.querySelectorAll(FOCUSABLE))
      .concat(el ? [el].concat([].slice.call(el.querySelectorAll(FOCUSABLE))).filter((x) => x.matches(FOCUSABLE) && visible(x)) : []);
    const k = list.indexOf(deepActive()), n = list.length;
    e.preventDefault();
    if (n) list[e.shiftKey ? (k <= 0 ? n - 1 : k - 1) : (k + 1) % n].focus();
  }

  save(status, event) {
    const tour = this.tour, body = { tour: tour.id, version: tour.version, step: this.i, status, url: location.href, event };
    if (S.user) {
      // Saves can reach the server out of order (quick clicks, several workers): each carries this
      // tab's id and a number that only grows, even across reloads, and the server drops a late older one.
      S.seq = Math.max(Date.now(), (S.seq || 0) + 1);
      Object.assign(body, { user: S.user }, /^[\w-]{1,64}$/.test(SESSION) && { tab: SESSION, seq: S.seq });
      return http('tours/progress', body, true).then((r) => {
        lists(r.checklists, true);
        if (status === 'completed') kick(); // tours gated on this one (`after:`) may start now
      }).catch(warn);
    }
    // Anonymous: progress stays in this browser; reports (target missing) still go to the server.
    const v = local();
    if (status === 'active') {
      if (this.modal) local({ active: { id: tour.id, step: this.i, version: tour.version } });
    } else {
      const key = status === 'completed' ? 'done' : 'dismissed', ids = (v[key] || []).filter((x) => x !== tour.id);
      local({ [key]: ids.concat(tour.id), active: this.modal ? null : v.active });
      if (status === 'completed') kick(); // checklists and `after:` follow the tours done here
    }
    if (event) http('tours/progress', body, true).catch(warn);
  }

  // Hides the current step: listeners, pending wait, popup and overlay.
  clear() {
    this.token = null;
    if (this.cancel) this.cancel();
    this.stepOff.forEach((f) => f());
    this.stepOff = [];
    if (this.ro) this.ro.disconnect();
    if (this.ov) {
      ui.classList.remove('busy');
      reflow(); // the hints that waited under the tour
    }
    (this.ov || []).concat(this.pop || []).forEach((x) => x.remove());
    this.pop = this.ov = this.ro = this.el = this.cancel = null;
  }

  // status: completed | dismissed, or null to stop without saving (reset, another tour started).
  end(status, event) {
    if (this.dead) return;
    this.dead = true;
    const a = deepActive(), inPop = !!this.pop && this.pop.contains(a);
    const ours = inPop || !a || a === d.body || (this.el && this.el.contains(a));
    this.clear();
    S.runs.delete(this);
    if (status) S.ended.add(this.tour.id); // not offered again on this page
    if (S.run === this) S.run = null;
    if (this.off) this.off();
    if (status) {
      track('tour_' + status, this.ctx(this.i)); // tour_completed, tour_dismissed
      this.save(status, event);
    }
    // focus goes back where it was before the tour, unless the user has taken it elsewhere
    if (this.modal ? ours : inPop) {
      const ret = this.modal && this.ret && this.ret.isConnected ? this.ret : launcher;
      if (ret) ret.focus({ preventScroll: true });
    }
  }
}

function run(tour, step, resumed) {
  if (!tour || !(tour.steps || []).length) return;
  if (tour.kind === 'hint') {
    if (S.hints[tour.id]) S.hints[tour.id].end(null);
    S.hints[tour.id] = new Run(tour, step, resumed);
  } else {
    if (S.run) S.run.end(null);
    new Run(tour, step, resumed);
  }
}

// ---- what applies to this page now: GET /tours after load, identify and every navigation
let kickTimer = 0;
const kick = () => { clearTimeout(kickTimer); kickTimer = later(() => chain(refresh), 0) };

async function refresh() {
  const v = local();
  const q = { url: location.href, locale: locale(), user: S.user };
  if (!S.user) {
    Object.assign(q, { traits: S.traits && JSON.stringify(S.traits), done: (v.done || []).join(','),
      dismissed: (v.dismissed || []).join(','), tasks: (v.tasks || []).join(',') });
  }
  const data = await http('tours' + query(q));
  const tours = data.tours || [], byId = {};
  tours.forEach((x) => (byId[x.id] = x));
  S.support = data.support || S.support;
  lists(data.checklists);
  if (launcher) launcher.setAttribute('aria-label', t('help'));
  // hints and element triggers belong to the page they were found on
  S.watch.forEach((f) => f());
  S.watch = [];
  for (const id in S.hints) {
    if (!byId[id]) S.hints[id].end(null);
    if (S.hints[id].dead) delete S.hints[id];
  }
  tours.forEach((x) => {
    const tr = x.trigger || {}, fresh = !S.ended.has(x.id) && !S.hints[x.id];
    // an active tour resumes through `autostart`, not through its trigger
    if (!fresh || tr.type === 'manual' || (x.kind !== 'hint' && (x.progress || {}).status === 'active')) return;
    if (tr.type === 'element') S.watch.push(find(tr.selector, Infinity, () => (x.kind === 'hint' || !S.run) && run(x, 0)));
    else if (x.kind === 'hint') run(x, 0);
  });
  const cur = S.run && byId[S.run.tour.id];
  if (cur && S.run.lang !== q.locale) { // the locale changed: the same step, in the new language
    S.run.lang = q.locale;
    S.run.tour = cur;
    S.run.show(S.run.i, 1);
  }
  survey(data.survey);
  if (S.run) return;
  const saved = !S.user && v.active;
  if (saved) { // an anonymous tour in progress, resumed after a reload
    const tour = byId[saved.id] || await http('tours/' + encodeURIComponent(saved.id) + query({ locale: locale() })).catch(() => null);
    if (tour && tour.version === saved.version && !S.run) return run(tour, saved.step, 1);
    local({ active: null });
  }
  const auto = byId[data.autostart];
  if (auto && !S.ended.has(auto.id)) {
    const resume = (auto.progress || {}).status === 'active';
    run(auto, resume ? auto.progress.step : 0, resume);
  }
}

// ---- SPA navigation: pushState/replaceState/popstate move tours along and fetch the new page's tours
let lastUrl = location.pathname + location.search;
const navigated = () => {
  const now = location.pathname + location.search;
  if (now === lastUrl) return; // replaceState with the same URL, hash changes
  lastUrl = now;
  S.runs.forEach((r) => r.route());
  kick();
};
function watchHistory() {
  ['pushState', 'replaceState'].forEach(safe((m) => {
    const orig = history[m];
    history[m] = function () {
      const r = orig.apply(this, arguments);
      safe(navigated)();
      return r;
    };
  }));
  on(w, 'popstate', navigated);
}

// ---- checklists
let listBox = null;
// All checklists of the page (GET /tours), or only those a call changed (merge: progress, track answers).
// A task once done stays done: merged answers know only their own task, and the server forgets
// anonymous users' tasks, which are remembered here and sent back as `tasks`.
function lists(cls, merge) {
  if (!Array.isArray(cls)) return;
  const seen = S.user ? [] : local().tasks || [], keep = merge || !S.user;
  S.lists.forEach((c) => c.tasks.forEach((task) => task.done && seen.push(c.id + ':' + task.id)));
  if (merge) cls = S.lists.map((old) => cls.filter((x) => x.id === old.id)[0] || old);
  cls.forEach((c) => {
    c.tasks.forEach((task) => (task.done = task.done || (keep && seen.indexOf(c.id + ':' + task.id) >= 0)));
    c.done = c.tasks.filter((task) => task.done).length;
    c.completed = c.done === c.total;
  });
  S.lists = cls;
  if (!S.user) {
    cls.forEach((c) => c.tasks.forEach((task) => task.done && seen.push(c.id + ':' + task.id)));
    local({ tasks: seen.filter((k, i) => seen.indexOf(k) === i) });
  }
  // reported once per person and browser: the panel shown (started), each task done, the list completed
  const rp = (S.rp = S.rp || local().rp || []), who = (S.user || '') + ':';
  const once = (key, type, props) => rp.indexOf(who + key) < 0 && rp.push(who + key) && track(type, 0, props);
  cls.forEach((c) => {
    once('s' + c.id, 'checklist_started', { checklist: c.id });
    c.tasks.forEach((task) => task.done && once('t' + c.id + ':' + task.id, 'checklist_task_completed', { checklist: c.id, task: task.id }));
    if (c.completed) once('c' + c.id, 'checklist_completed', { checklist: c.id });
  });
  local({ rp });
  const focusKey = listBox && listBox.contains(deepActive()) && deepActive().getAttribute('data-k');
  if (listBox) listBox.remove();
  listBox = null;
  if (!cls.length) return;
  const open = !!local().open;
  listBox = h('div', { class: 'cls' }, cls.map((c) => {
    const pct = c.total ? Math.round((100 * c.done) / c.total) : 0;
    const fill = h('i');
    fill.style.width = pct + '%';
    return h('section', { class: 'cl', 'aria-label': c.title },
      h('button', { type: 'button', 'aria-expanded': String(open), 'data-k': 'toggle', onclick: () => { local({ open: !open }); lists(S.lists) } },
        c.title, h('span', null, c.done + ' / ' + c.total)),
      h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(c.total), 'aria-valuenow': String(c.done), 'aria-label': c.title }, fill),
      open && h('ul', null, (c.tasks || []).map((task) => h('li', { class: task.done ? 'ok' : null },
        h('span', null, (task.done ? '✓ ' : '') + task.title),
        !task.done && task.tour && h('button', { class: 'btn', type: 'button', 'data-k': 'show-' + task.id, onclick: () => { local({ open: false }); lists(S.lists); start(task.tour) } }, t('show'))))),
      open && c.completed && h('p', null, t('all')));
  }));
  ui.append(listBox);
  // keep the keyboard user's place across the redraw ("show me" folds the panel: back to its button)
  const prev = focusKey && (listBox.querySelector('[data-k="' + focusKey + '"]') || listBox.querySelector('[data-k=toggle]'));
  if (prev) prev.focus({ preventScroll: true });
}

function start(id) {
  chain(async () => run(await http('tours/' + encodeURIComponent(id) + query({ user: S.user, locale: locale() })), 0));
}

// ---- help chat: WebSocket first, POST /ask when the socket is not available
let sock = null, sockDead = false, sockSeq = 0, pending = {}, chatBox = null, log = null, input = null;
function viaSocket(msg) {
  return new Promise((res, rej) => {
    if (sockDead) throw new Error('no socket');
    if (!sock || sock.readyState > 1) {
      const s = (sock = new WebSocket(API.replace(/^http/, 'ws') + '/ws/chat?site=' + encodeURIComponent(SITE)));
      let opened = false;
      on(s, 'open', () => (opened = true));
      on(s, 'message', (e) => {
        const m = JSON.parse(e.data), p = pending[m.id];
        delete pending[m.id];
        if (p) m.type === 'error' ? p[1](new Error(m.error.message)) : p[0](m);
      });
      on(s, 'close', () => {
        if (!opened) sockDead = true; // blocked or not served: use HTTP from now on
        for (const k in pending) pending[k][1](new Error('socket closed'));
        pending = {};
      });
    }
    const id = ++sockSeq, send = () => sock.send(JSON.stringify(Object.assign(msg, { id })));
    pending[id] = [res, rej];
    if (sock.readyState === 1) send();
    else on(sock, 'open', send);
    later(() => { if (pending[id]) { delete pending[id]; rej(new Error('timeout')) } }, 15000);
  });
}
const converse = (type, body) => viaSocket(Object.assign({ type }, body)).catch(() => http(type, body));

const link = (url, text, cls, click) => (safeUrl(url) ? h('a', { href: url, class: cls, target: '_blank', rel: 'noopener', onclick: click }, text) : h('span', null, text));
// the way to a human: reported when offered and when taken
function supportLink(s, qid) {
  if (!(s = safeUrl(s || S.support))) return null;
  const p = qid ? { question_id: qid } : null;
  track('escalation_offered', 0, p);
  return link(s, t('support'), 'src', () => track('escalation_taken', 0, p));
}
// the tour and step in progress, if any: chat events carry them
const during = () => S.run && S.run.ctx(S.run.i);

function say(node) {
  log.append(node);
  log.scrollTop = log.scrollHeight;
  return node;
}

function answer(a) {
  const ans = a.answer, kids = [];
  if (a.outcome === 'answered' && ans) {
    kids.push(h('p', null, ans.snippet || ''),
      link(ans.url, t('source') + ': ' + ans.title + (ans.section && ans.section.heading ? ' › ' + ans.section.heading : ''), 'src'));
  } else {
    kids.push(h('p', null, a.message || ''));
    if ((a.suggestions || []).length) kids.push(h('ul', null, a.suggestions.map((s) => h('li', null, link(s.url, s.title)))));
    if (a.outcome === 'no_answer') kids.push(supportLink(a.escalation && a.escalation.support, a.question_id));
  }
  if (a.question_id) {
    const row = h('div', { class: 'fb' }, [true, false].map((ok) => h('button', {
      class: 'btn', type: 'button', 'aria-label': t(ok ? 'yes' : 'no'), 'aria-pressed': 'false',
      onclick: (e) => vote(a.question_id, ok, row, e.currentTarget),
    }, ok ? '👍' : '👎')));
    kids.push(row);
  }
  return h('div', { class: 'm a' }, kids);
}

function vote(qid, helpful, row, btn) {
  [].forEach.call(row.children, (b) => (b.disabled = true));
  btn.setAttribute('aria-pressed', 'true');
  track('answer_feedback', 0, { question_id: qid, helpful });
  return converse('feedback', { question_id: qid, helpful })
    .catch(() => ({}))
    .then((r) => say(h('div', { class: 'm a' }, h('p', null, t(helpful ? 'thanks' : 'sorry')),
      !helpful && supportLink(r.escalation && r.escalation.support, qid))));
}

function ask(q) {
  const cur = S.run, step = cur && cur.step(), c = during();
  const body = { question: q, user: S.user || undefined, anon: S.user ? undefined : anon(),
    context: { url: location.href, tour_id: cur ? cur.tour.id : null, step_id: step ? step.id : null } };
  say(h('div', { class: 'm u' }, q));
  const wait = say(h('div', { class: 'm a' }, t('wait')));
  return converse('ask', body)
    .then((a) => {
      if (a.question_id) track('question_asked', c, { question_id: a.question_id });
      return answer(a);
    }, () => h('div', { class: 'm a' }, h('p', null, t('fail')), supportLink()))
    .then((node) => { wait.remove(); say(node) });
}

function openChat() {
  const fresh = !(chatBox && chatBox.isConnected);
  attach();
  if (!chatBox) {
    input = h('input', { type: 'text', maxlength: '1000', autocomplete: 'off' });
    log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite' });
    chatBox = h('div', { class: 'chat', role: 'dialog', 'aria-labelledby': 'gch' },
      h('header', null, h('h2', { id: 'gch' }), h('button', { class: 'x', type: 'button', onclick: closeChat }, '×')),
      log,
      h('form', { onsubmit: (e) => { e.preventDefault(); const q = input.value.trim(); input.value = ''; if (q) return ask(q) } },
        input, h('button', { class: 'btn pri', type: 'submit' })));
    on(chatBox, 'keydown', (e) => e.key === 'Escape' && closeChat());
    say(h('div', { class: 'm a' }, t('hello')));
  }
  // labels follow the current locale each time the panel opens
  chatBox.querySelector('h2').textContent = t('help');
  chatBox.querySelector('.x').setAttribute('aria-label', t('close'));
  chatBox.querySelector('form .btn').textContent = t('send');
  input.setAttribute('aria-label', t('ask'));
  input.setAttribute('placeholder', t('ask') + '…');
  ui.append(chatBox);
  if (launcher) launcher.setAttribute('aria-expanded', 'true');
  input.focus({ preventScroll: true });
  if (fresh) track('chat_opened', during());
}
function closeChat() {
  if (!chatBox) return;
  const had = chatBox.contains(deepActive());
  chatBox.remove();
  if (launcher) {
    launcher.setAttribute('aria-expanded', 'false');
    if (had) launcher.focus({ preventScroll: true });
  }
}

// ---- the survey (NPS) the server says is due: small, at the bottom, never blocking, hidden under a tour
let svBox = null;
function survey(sv) {
  if (!sv || svBox || S.sv[sv.id]) return;
  let score = null;
  const id = 'g' + ++uid, txt = h('textarea', { rows: '3', maxlength: '1000' });
  const more = h('div', { hidden: true }, h('label', null, sv.comment_prompt || t('why'), txt),
    h('div', { class: 'f' }, h('button', { class: 'btn pri', type: 'button', onclick: () => end() }, t('send'))));
  const scale = h('div', { class: 'sc', role: 'group', 'aria-labelledby': id, 'aria-describedby': id + 'h' },
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => h('button', {
      class: 'btn', type: 'button', 'aria-pressed': 'false', 'aria-label': n + t('pt'), onclick: () => {
        score = n;
        [].forEach.call(scale.children, (b, k) => b.setAttribute('aria-pressed', String(k === n)));
        more.hidden = false;
        txt.focus();
      },
    }, String(n))));
  // answered (a score was chosen, whatever closed it), nps_later or nps_dismissed
  const end = (type) => {
    if (S.sv[sv.id]) return; // once: Send, later, close and Escape all end it
    const had = box.contains(deepActive()), answered = score != null;
    S.sv[sv.id] = 1;
    track(answered ? 'nps_answered' : type, 0, Object.assign({ survey: sv.id }, answered && { score, comment: txt.value.trim() }));
    flush(); // the server asks again only once it knows
    svBox = null;
    box.textContent = '';
    if (answered) {
      box.append(h('p', { role: 'status' }, t('thx')));
      later(() => box.remove(), 3000);
    } else box.remove();
    if (had && launcher) launcher.focus({ preventScroll: true });
  };
  const box = (svBox = h('section', { class: 'sv', role: 'dialog', 'aria-labelledby': id },
    h('h2', { id }, sv.question), scale,
    h('div', { class: 'n sh', id: id + 'h' }, h('span', null, '0: ' + t('lo')), h('span', null, '10: ' + t('hi'))),
    more,
    h('div', { class: 'f' }, h('button', { class: 'btn', type: 'button', onclick: () => end('nps_later') }, t('later'))),
    h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: () => end('nps_dismissed') }, '×')));
  on(box, 'keydown', (e) => e.key === 'Escape' && end('nps_dismissed'));
  ui.append(box);
}

// ---- the public API
const commands = {
  identify(o) {
    o = o || {};
    const user = o.id == null || o.id === '' ? null : String(o.id);
    if (user !== S.user) flush(); // what happened so far belongs to the previous person
    if (user !== S.user && S.run) S.run.end(null);
    S.user = user;
    S.traits = o.traits && typeof o.traits === 'object' ? o.traits : S.traits;
    if (T[o.locale]) S.locale = o.locale;
    if (user) chain(() => http('identify', { user, traits: S.traits || {}, locale: S.locale || undefined }));
    else local({ traits: S.traits });
    kick();
  },
  start(id) {
    if (typeof id !== 'string' || !id) throw new Error('start: give a tour id');
    start(id);
  },
  'open-chat': openChat,
  track(name, props) {
    if (typeof name !== 'string' || !name) throw new Error('track: give an event name');
    chain(() => http('track', { user: S.user || undefined, name, props: props || {}, url: location.href }).then((r) => lists(r.checklists, true)));
  },
  reset() {
    flush();
    if (svBox) svBox.remove();
    svBox = S.anon = S.rp = null;
    S.sv = {};
    S.runs.forEach((r) => r.end(null));
    S.hints = {};
    S.ended.clear();
    S.user = S.traits = S.locale = null;
    S.lists = [];
    try { w.localStorage.removeItem(KEY) } catch (_) { /* blocked */ }
    if (log) log.textContent = '';
    closeChat();
    chatBox = null;
    kick();
  },
};

const queued = (w.Guide && w.Guide.q) || [];
function Guide(cmd) {
  try {
    if (!commands.hasOwnProperty(cmd)) throw new Error('unknown command ' + cmd);
    commands[cmd].apply(null, [].slice.call(arguments, 1));
  } catch (e) { warn(e) }
}
Guide.loaded = true;
w.Guide = Guide;

safe(() => {
  if (!SITE) throw new Error('data-site is missing on the embed.js script tag');
  S.traits = local().traits || null;
  mount();
  watchHistory();
  on(d, 'scroll', reflow, { capture: true, passive: true }); // capture: scrolls in nested containers too
  on(w, 'resize', reflow);
  // the page goes away (or to the background): pending events by beacon, and a tour left mid-way
  on(w, 'pagehide', () => {
    const r = S.run;
    if (r && r.pop && (r.step().advance || {}).type !== 'url') track('page_left', r.ctx(r.i)); // not: the way on
    flush(1);
  });
  on(d, 'visibilitychange', () => d.hidden && flush(1));
  // rage clicks: 3 or more within a second, within 30 px, anywhere but on the widget's own controls
  let taps = [], rageTm = 0;
  on(d, 'click', (e) => {
    const el = e.composedPath()[0], now = Date.now(), ours = e.target === host;
    if (!e.detail || !el.tagName || (ours && el.closest('button,a,input,textarea'))) return; // keys, not clicks
    taps = taps.filter((p) => now - p[0] < 1000 && Math.hypot(p[1] - e.clientX, p[2] - e.clientY) < 30).concat([[now, e.clientX, e.clientY]]);
    clearTimeout(rageTm);
    const n = taps.length, sel = (ours ? 'guide-widget ' : '') + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList[0] ? '.' + el.classList[0] : '');
    if (n > 2) rageTm = later(() => track('rage_click', during(), { count: n, selector: sel.slice(0, 200) }), 1000);
  }, true);
  [].forEach.call(queued, (args) => Guide.apply(null, args));
  kick();
})();

})(window, document);
