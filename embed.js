/*! guide embed.js: tours, hints, checklists and a help chat for any web page. MIT, no dependencies. */
/* <script src="https://HOST/embed.js" data-site="SITE_KEY" async></script>
 * Guide('identify', {id, traits, locale}) · Guide('start', tourId) · Guide('open-chat')
 * Guide('track', name, props) · Guide('on', event, fn) · Guide('reset'). See docs/embed.md.
 * Generated from guide_server/widget/js/ (one file per concern): edit those, not this file. */
(function (w, d) {
'use strict';

// Safety: the widget runs once per page, and nothing it does throws into the host page.
// Every way into the widget (API calls, events, timers, observers, promises) goes through safe():
// the host page never sees an exception from us, only a console warning.
// Uses nothing from earlier files. warn() reports to the review desk through track()
// (35-transport.js), looked up only when an error happens.
if (w.Guide && w.Guide.loaded) return; // the tag was included twice

let errorsReported = 0; // widget_error events sent from this page view: at most 5
const warn = (e) => {
  try { console.warn('[guide]', e) } catch (_) { /* no console */ }
  // counted first: an error in track() itself cannot loop
  if (errorsReported++ < 5) safe(() => track('widget_error', 0, { message: String((e && e.message) || e).slice(0, 999) || '?' }))();
};
// fn, made unable to throw: its errors (and its promise's rejection) go to onError, else to warn().
const safe = (fn, onError) => function () {
  try {
    const r = fn.apply(this, arguments);
    if (r && typeof r.then === 'function') r.then(null, onError || warn);
    return r;
  } catch (e) { (onError || warn)(e) }
};
// addEventListener through safe(); returns the function that removes the listener.
const on = (el, type, fn, opt) => {
  const f = safe(fn);
  el.addEventListener(type, f, opt);
  return () => el.removeEventListener(type, f, opt);
};
const later = (fn, ms) => setTimeout(safe(fn), ms);

// Configuration: the data-* attributes of our own <script> tag (docs/embed.md lists them).
// Uses nothing from earlier files.
const tag = d.currentScript || d.querySelector('script[data-site][src*="embed.js"]');
const config = Object.assign({}, tag && tag.dataset); // site, locale, chat, api
const SITE = config.site;
const API = (config.api || (tag ? new URL(tag.src, location.href).origin : '')).replace(/\/$/, '');
const KEY = 'guide:' + SITE; // the widget's key in localStorage and sessionStorage

// State: what the widget knows about the person, the page and what is on screen, in one place.
// Later files read it freely; the comment of each field says which file changes it.
// Uses nothing from earlier files.
const state = {
  user: null, // the host app's user id from Guide('identify'), or null: anonymous (95-api.js)
  // token: the user's token signed by the host app's server, sent with each request (95-api.js, 35-transport.js)
  traits: null, // the user's traits for targeting; anonymous users' stay in localStorage (95-api.js)
  locale: null, // 'ja' or 'en' from Guide('identify'), else null: data-locale, then <html lang> (95-api.js)
  anon: null, // this browser's random id for an anonymous user, read once from localStorage (30-storage.js)
  support: null, // the site's "contact support" URL, from GET /tours (90-page.js)
  checklists: [], // the checklists in the panel, each task with its `done` (80-checklist.js)
  milestones: null, // checklist events reported from this browser, "user:key", kept in localStorage (80-checklist.js)
  runs: new Set(), // every Run (the modal tour and the hints) on screen or waiting for its page (70-run.js)
  tour: null, // the Run of the one modal tour, or null (70-run.js)
  hints: {}, // hint id -> its Run, for the hints of this page (75-hints.js)
  triggers: [], // cancel functions of the element triggers waiting on this page (90-page.js)
  ended: new Set(), // ids of tours completed or dismissed in this page view: not offered again (70-run.js)
  surveysEnded: {}, // survey id -> 1 once answered, postponed or closed in this page view (60-survey.js)
  saveSeq: 0, // the number of the last progress save: only grows, even across reloads (67-progress.js)
};

// The tour and step in progress, if any: events about the page (chat, rage clicks, `settled`) carry them.
const during = () => state.tour && state.tour.ctx(state.tour.i);

// Strings: every text the widget writes itself, in Japanese and English, and the locale in use.
// (Tour, hint, checklist and survey texts come from the server, already in the right locale.)
// Uses config (05-config.js), state.locale (10-state.js).
const STRINGS = {
  ja: {
    next: '次へ', back: '戻る', done: '完了', ok: 'OK', close: '閉じる', help: 'ヘルプ', hello: 'ご質問をどうぞ。ヘルプ記事からお答えします。',
    ask: '質問を入力', send: '送信', source: '出典', yes: '役に立った', no: '役に立たなかった', thanks: 'フィードバックありがとうございます。',
    sorry: 'お役に立てず申し訳ありません。', support: 'サポートに問い合わせる', wait: '回答を探しています…',
    fail: '接続できませんでした。しばらくしてからお試しください。', show: '見てみる', allDone: 'すべて完了しました',
    later: 'あとで回答する', answered: 'ご回答ありがとうございました。', low: 'まったく思わない', high: '非常にそう思う',
    why: 'そう答えた理由をお聞かせください（任意）', points: '点',
  },
  en: {
    next: 'Next', back: 'Back', done: 'Done', ok: 'Got it', close: 'Close', help: 'Help', hello: 'Ask a question; answers come from our help articles.',
    ask: 'Type your question', send: 'Send', source: 'Source', yes: 'Helpful', no: 'Not helpful', thanks: 'Thank you for the feedback.',
    sorry: 'Sorry we could not help.', support: 'Contact support', wait: 'Looking for an answer…',
    fail: 'Could not connect. Please try again later.', show: 'Show me', allDone: 'All done',
    later: 'Ask me later', answered: 'Thank you for your answer.', low: 'Not at all likely', high: 'Extremely likely',
    why: 'What is the main reason for your score? (optional)', points: ' out of 10',
  },
};
// identify's locale, else data-locale, else the page's <html lang> (English or else Japanese)
const locale = () => state.locale || (STRINGS[config.locale] && config.locale) ||
  ((d.documentElement.lang || '').slice(0, 2).toLowerCase() === 'en' ? 'en' : 'ja');
const t = (key) => STRINGS[locale()][key];

// DOM helpers: building elements, focus, visibility, and matching the page's URL.
// Uses on (00-safety.js).
let lastId = 0;
const nextId = () => 'g' + ++lastId; // ids for aria-labelledby and the like, unique in our shadow root
const clamp = (v, lo, hi) => Math.max(lo, Math.min(v, hi));
const motion = () => !(w.matchMedia && w.matchMedia('(prefers-reduced-motion: reduce)').matches);
// the focused element, through shadow roots (ours included)
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
// The page as the widget reports it: without its #fragment, which may hold tokens (OAuth), and
// cut to the 4,096 characters the service takes (a longer address would be refused, and with it
// the answer, the save or the event that carried it); the service masks e-mails and numbers.
const pageUrl = () => location.href.split('#')[0].slice(0, 4096);
const safeUrl = (u) => (/^(https?:|mailto:|tel:|\/)/i.test(u || '') ? u : null);

// HTML from the server was sanitised there (allow-list); under Trusted Types it passes through our own policy.
let tt = null;
try { tt = w.trustedTypes && w.trustedTypes.createPolicy('guide', { createHTML: (s) => s }) } catch (_) { /* policy not allowed */ }

// h('button', {class: 'btn', onclick: fn}, 'text', child, [children]): attributes, listeners
// (through on()), `html` (server HTML) and children; null and false are left out.
function h(name, attrs) {
  const e = d.createElement(name);
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

// Events for the host page: Guide('on', name, fn), Guide('off', name, fn), and a `guide:<name>`
// CustomEvent on document, both with the same detail (docs/embed.md lists the events).
// A Guide('on') listener that throws is the host's own bug: it shows as a console warning and never
// breaks the widget nor reaches window.onerror. A DOM listener is one of the page's own event
// listeners: the browser reports its exceptions as it does any other's, and dispatchEvent() never
// passes them on to the widget.
// `settled`: every piece of work the widget does for the page (a server call that changes what is
// shown, a step waiting for its page or target, a tour that ends) holds it back; once none is left,
// it fires.
// Uses safe, later (00-safety.js), during (10-state.js).
const { emit, listen, unlisten, hold } = (() => {
  const listeners = {}; // event name -> the host's functions, in the order they were added
  let pending = 0; // work under way (hold() calls not released yet)
  let settleTimer = 0; // `settled` is sent a moment after the last work ends, unless more starts

  const failed = (e) => {
    try { console.warn('[guide] a Guide("on") listener failed:', e) } catch (_) { /* no console */ }
  };
  const emit = safe((name, detail) => {
    detail = detail || {}; // the same object for every listener, both ways
    (listeners[name] || []).slice().forEach((fn) => safe(fn, failed)(detail));
    d.dispatchEvent(new CustomEvent('guide:' + name, { detail }));
  });

  function listen(name, fn) {
    if (typeof name !== 'string' || typeof fn !== 'function') throw new Error('on: give an event name and a function');
    const list = listeners[name] || (listeners[name] = []);
    if (list.indexOf(fn) < 0) list.push(fn);
  }
  function unlisten(name, fn) {
    const list = listeners[name] || [];
    if (list.indexOf(fn) >= 0) list.splice(list.indexOf(fn), 1);
  }

  // hold(promise): `settled` waits for it. hold(): returns the function that ends the work (once).
  function hold(work) {
    let held = 1;
    pending++;
    clearTimeout(settleTimer);
    const release = () => {
      if (!held) return;
      held = 0;
      if (!--pending) {
        settleTimer = later(() => pending || emit('settled', during()), 0);
      }
    };
    if (work) work.then(release, release);
    return release;
  }

  return { emit, listen, unlisten, hold };
})();

// Storage: what this browser keeps for the widget. localStorage (key guide:SITE) holds anonymous
// users' traits, tour progress and checklist tasks, the anonymous id, what was reported once, and
// the events a page left unsent while the server was failing (35-transport.js);
// sessionStorage holds this tab's id. Blocked or full storage is never an error.
// Uses KEY (05-config.js), state.anon (10-state.js).

// Reads the stored object; with `patch`, merges it in and writes it back first.
function local(patch) {
  let v = {};
  try { v = JSON.parse(w.localStorage.getItem(KEY)) || {} } catch (_) { /* blocked or bad JSON */ }
  if (patch) {
    Object.assign(v, patch);
    try { w.localStorage.setItem(KEY, JSON.stringify(v)) } catch (_) { /* full or blocked */ }
  }
  return v;
}

const randomId = () => Date.now().toString(36) + crypto.getRandomValues(new Uint32Array(2)).join('');
// This tab's id: sessionStorage survives reloads, not the tab.
let TAB;
try { TAB = sessionStorage[KEY] || (sessionStorage[KEY] = randomId()) } catch (_) { TAB = randomId() }
// The person, when anonymous: a random id kept in this browser (Guide('reset') forgets it).
const anonId = () => state.anon || (state.anon = local().anon || local({ anon: randomId() }).anon);

// Transport and queues: JSON over HTTP; the queue of commands that talk to the server; the chat's
// WebSocket (HTTP when the socket is not available); and the queue of events for the review desk
// (POST /events): bounded, sent in batches in the background, and sent again until the server
// acknowledges or refuses them. Each event has its own id, so a batch sent twice is stored once.
// Uses warn, on, later (00-safety.js), SITE, API (05-config.js), state (10-state.js), pageUrl (20-dom.js),
// hold (25-host-events.js), local, randomId, TAB, anonId (30-storage.js); idle() asks chat.isOpen()
// (55-chat.js).
const { http, query, chain, converse, connect, idle, track, flush } = (() => {
  // HTTP: text/plain keeps cross-origin POSTs "simple" (no preflight). Always a promise, even when
  // the host's fetch throws: a caller (Guide('reset')) never stops half-way. A refusal carries the
  // status and the response's Retry-After (null when absent, or hidden by CORS).
  // The signed-in user's token goes with every request: in the body, else (GET) in a header.
  function http(path, body, keepalive) {
    const init = { credentials: 'omit' }, token = state.token;
    if (token && !body) init.headers = { 'X-Guide-Token': token };
    if (body) {
      init.method = 'POST';
      init.body = JSON.stringify(Object.assign({ site: SITE, token }, body)); // a string: text/plain;charset=UTF-8
      init.keepalive = !!keepalive; // progress must survive a click that leaves the page
    }
    return new Promise((res) => res(w.fetch(API + '/api/v1/' + path, init)))
      .then((r) => (r.ok ? r.json() : Promise.reject(Object.assign(new Error(path + ': HTTP ' + r.status), { status: r.status, after: r.headers.get('Retry-After') }))));
  }
  const query = (o) => {
    const p = new URLSearchParams({ site: SITE });
    for (const k in o) if (o[k] != null && o[k] !== '') p.set(k, o[k]);
    return '?' + p;
  };

  // Commands that talk to the server run one after another (identify lands before the tours it
  // targets); `settled` waits for them.
  let lastCommand = Promise.resolve();
  const chain = (fn) => hold(lastCommand = lastCommand.then(fn).catch(warn));

  // The chat's WebSocket: opened when the chat panel opens (or a question needs it), closed once the
  // panel has been closed and the socket idle for a minute. A question is never lost: while there is
  // no socket, or when it fails one, the question goes over HTTP. After a socket the server let go
  // (1000 idle, 1001 restarting, 1006 lost), the next need opens a new one 1-2 s later at the
  // earliest, a wait that doubles (up to 8-16 s) while it keeps happening; after one it refused (a
  // failed handshake such as a 503, 1013 "try again later", any other code), HTTP for 30-60 s,
  // doubling up to 4-8 min. A reply on a socket resets the doubling.
  let socket; // open or opening, else falsy
  let replies = {}; // message id -> [resolve, reject] of what waits for its reply
  let lastMessage = 0, socketFails = 0, socketWait = 0, idleTimer = 0; // no new socket before socketWait (ms)
  function connect() {
    if (socket || Date.now() < socketWait) return socket;
    let opened = 0;
    const down = (e) => {
      socketWait = Date.now() + (opened && e.code < 1008 ? 1e3 : 3e4) * (1 + Math.random()) * (1 << Math.min(socketFails++, 3));
      for (const k in replies) replies[k][1]();
      replies = {};
    };
    try {
      const s = (socket = new WebSocket(API.replace(/^http/, 'ws') + '/ws/chat?site=' + encodeURIComponent(SITE)));
      on(s, 'open', () => (opened = 1));
      on(s, 'message', (e) => {
        const m = JSON.parse(e.data), p = replies[m.id];
        delete replies[m.id];
        if (p) p[m.type === 'error' ? 1 : 0](m);
        socketFails = 0;
        idle();
      });
      // closed by idle() (nothing waits then), or by the server or the network
      on(s, 'close', (e) => {
        if (socket !== s) return;
        socket = 0;
        down(e);
      });
    } catch (_) { down({}) } // WebSocket missing or broken: as if refused
    return socket;
  }
  // A minute after the last message, a socket whose panel is closed (55-chat.js) and that awaits
  // nothing is closed.
  function idle() {
    clearTimeout(idleTimer);
    idleTimer = later(() => {
      for (const k in replies) return idle();
      if (socket && !chat.isOpen()) socket = socket.close();
    }, 6e4);
  }
  // ask or feedback: over the socket, else POST /ask or /feedback
  const converse = (type, body) => new Promise((res, rej) => {
    const s = connect(), id = ++lastMessage, send = () => s.send(JSON.stringify(Object.assign({ type, id, token: state.token }, body)));
    if (!s || s.readyState > 1) throw 0;
    replies[id] = [res, rej];
    s.readyState ? send() : on(s, 'open', send);
    idle();
    later(() => rej(delete replies[id]), 15000); // no reply in time (nothing happens once answered)
  }).catch(() => http(type, body));

  // The review desk's events: one queue of [person, event] in the order they happened, each with the
  // person (user or anon, and this tab) it was about. At most 500: past that, the oldest go, and
  // the next batch tells the server how many (`dropped`). Sent in batches of one person, oldest
  // first, one batch at a time: at most 50 events and 20,000 characters (under 64 KB in UTF-8: the
  // limit of a keepalive request, of a beacon and of the server). What the server stores, what it
  // refuses one by one (`rejected`: sending them again would not help; each is a widget_error, at
  // most 5 a page as every warning) and a batch it refuses as a whole (a 4xx other than 429) leave
  // the queue; a network error, a 5xx or a 429 keep it, and the next try waits: the response's
  // Retry-After, else 2 s doubling up to 64 s, either stretched by up to as much again at random.
  // The queue outlives the page: when the page goes away its events leave by beacon, or, while the
  // server is failing, wait in localStorage for the site's next page.
  const MAX = 500;
  let queue = local().q || []; // [person (JSON), event]; first what the page before this one could not send
  let dropped = 0; // events dropped from the queue that no acknowledged batch has told of yet
  let sending = 0; // 1 while a batch is on its way
  let failures = 0; // sends failed in a row
  let wait = 0; // no send before this time (ms)
  let flushTimer = 0;
  if (queue.length) local({ q: 0 }), flush();
  on(w, 'online', () => flush(wait = 0));
  // ctx: the tour, version, step and step_index the event is about (or nothing)
  function track(type, ctx, props) {
    queue.push([JSON.stringify({ user: state.user || undefined, token: state.token, anon: state.user ? undefined : anonId(), session: TAB }),
      Object.assign({ id: randomId(), type, at: Date.now(), url: pageUrl() }, ctx, props && { props })]);
    if (queue.length > MAX) dropped += queue.splice(0, queue.length - MAX).length;
    if (queue.length > 19) flush();
    else if (!flushTimer) flushTimer = later(flush, 3000);
  }
  // The next batch: the oldest events of the oldest event's person.
  function batch() {
    const events = [];
    let size = 0;
    for (const x of queue) {
      if (x[0] !== queue[0][0] || events.length > 49 || ((size += JSON.stringify(x[1]).length) > 2e4 && events.length)) break;
      events.push(x[1]);
    }
    return Object.assign({ events, dropped: dropped || undefined }, JSON.parse(queue[0][0]));
  }
  const done = (b) => {
    queue = queue.filter((x) => b.events.indexOf(x[1]) < 0);
    dropped -= b.dropped || 0;
  };
  // Sends the next batch, unless one is on its way or the last failure says wait. leaving: the page
  // is going away; every batch goes to the browser's beacons, or to localStorage.
  function flush(leaving) {
    clearTimeout(flushTimer);
    flushTimer = 0;
    const early = wait - Date.now();
    if (leaving) {
      for (let b; queue.length && early <= 0 && navigator.sendBeacon(API + '/api/v1/events', JSON.stringify(Object.assign({ site: SITE }, b = batch())));) done(b);
      if (queue.length) local({ q: queue });
    } else if (queue.length && !sending) {
      if (early > 0) return (flushTimer = later(flush, early));
      const b = batch();
      sending = 1;
      http('events', b, true)
        .then((r) => (r.rejected || []).forEach((x) => warn('event refused: ' + x.error)))
        .then(0, (e) => (e.status < 500 && e.status !== 429 ? warn(e)
          : (e.after * 1e3 || 1e3 << Math.min(++failures, 6)) * (1 + Math.random())))
        .then((delay = 0) => {
          sending = 0;
          if (!delay) done(b), failures = 0;
          wait = Date.now() + delay;
          flush();
        });
    }
  }

  return { http, query, chain, converse, connect, idle, track, flush };
})();

// Styles: the one stylesheet of the shadow root. Classes: .r the root, .pop a step (.hint a hint),
// .ov/.ring the overlay and the highlight, .go the launcher, .chat, .cls/.cl the checklists, .sv the
// survey; .busy on the root hides hints and the survey under a running tour. The host themes it
// through the --guide-* custom properties (docs/embed.md).
// Uses nothing from earlier files.
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

// The shell: one <guide-widget> element with a shadow root, out of reach of the host's CSS, our
// stylesheet, and the "?" launcher of the chat. Everything the widget draws goes in through add().
// Uses on (00-safety.js), config, tag (05-config.js), h (20-dom.js), CSS (40-styles.js);
// the launcher calls chat.toggle() (55-chat.js) when clicked.
const shell = (() => {
  let ui = null; // div.r in the shadow root: the parent of everything the widget draws
  const shell = {
    host: null, // <guide-widget>, the one element the widget adds to the page
    launcher: null, // the "?" button, or null with data-chat="off"
    mount, attach, add,
    // a modal tour is on screen: hints and the survey hide under it (.busy in 40-styles.js)
    dim: (dimmed) => ui.classList.toggle('busy', dimmed),
  };

  function mount() {
    const host = (shell.host = d.createElement('guide-widget'));
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
    if (config.chat !== 'off') {
      shell.launcher = h('button', { class: 'go', type: 'button', 'aria-expanded': 'false', onclick: () => chat.toggle() }, '?');
      ui.append(shell.launcher);
    }
    attach();
  }
  // The top layer (popover) puts us above any z-index the host uses; re-attached if a framework removed us.
  function attach() {
    const host = shell.host;
    if (host.isConnected) return;
    d.documentElement.append(host);
    if (host.showPopover) {
      host.popover = 'manual';
      host.showPopover();
    }
  }
  function add() {
    ui.append.apply(ui, arguments);
    attach();
  }

  return shell;
})();

// Positioning: waiting for a target to appear, placing a step's popup beside its target (or in the
// centre), the overlay around the target, and placing everything again on scroll and resize.
// Uses safe, later (00-safety.js), state.runs (10-state.js), clamp, visible (20-dom.js);
// reflow() calls placeStep() (69-step-view.js) for every Run on screen.

// Calls back with the first visible match of `sel`, or null after `ms`; returns a cancel function.
// Late targets and `trigger: {element}` (ms: Infinity) wait this way.
function waitFor(sel, ms, cb) {
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

// The popup on the wanted side of the target's rect `r` if it fits, else on a side that does;
// centred without a target. Always inside the viewport.
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

const placePane = (el, x, y, wd, ht) => {
  const s = el.style;
  s.left = x + 'px'; s.top = y + 'px'; s.width = Math.max(0, wd) + 'px'; s.height = Math.max(0, ht) + 'px';
};
// Four panes around the target: the page is dimmed and blocked except the target, which stays
// clickable; the fifth element is the ring around the target.
function cover(ov, r) {
  const vw = w.innerWidth, vh = w.innerHeight, P = 6;
  const a = r ? { t: r.top - P, l: r.left - P, b: r.bottom + P, e: r.right + P } : { t: vh, l: 0, b: vh, e: 0 };
  placePane(ov[0], 0, 0, vw, a.t);
  placePane(ov[1], a.e, a.t, vw - a.e, a.b - a.t);
  placePane(ov[2], 0, a.b, vw, vh - a.b);
  placePane(ov[3], 0, a.t, a.l, a.b - a.t);
  if (r) placePane(ov[4], a.l, a.t, a.e - a.l, a.b - a.t);
  ov[4].hidden = !r;
}

// Everything on screen is placed again in the next frame (once, however many calls). Never throws,
// even where the host broke requestAnimationFrame: a tour that ends calls it on its way out.
let frame = 0;
const reflow = safe(() => {
  if (!frame) frame = requestAnimationFrame(safe(() => { frame = 0; state.runs.forEach(placeStep) }));
});

// The help chat: a panel above the launcher where the user asks; answers come from the help
// articles with their source, 👍/👎 feedback, and the way to a human when there is no answer.
// Uses on (00-safety.js), state, during (10-state.js), t (15-strings.js), h, deepActive, safeUrl, pageUrl (20-dom.js),
// emit (25-host-events.js), anonId (30-storage.js), converse, connect, idle, track (35-transport.js),
// shell (45-shell.js).
const chat = (() => {
  let panel = null; // the chat's dialog once opened (kept while closed, so the log stays), or null
  let log = null; // its list of messages (role="log")
  let input = null; // its question field

  const link = (url, text, cls, click) => (safeUrl(url) ? h('a', { href: url, class: cls, target: '_blank', rel: 'noopener', onclick: click }, text) : h('span', null, text));
  // the way to a human: reported when offered and when taken
  function supportLink(s, qid) {
    if (!(s = safeUrl(s || state.support))) return null;
    const p = qid ? { question_id: qid } : null;
    track('escalation_offered', 0, p);
    return link(s, t('support'), 'src', () => track('escalation_taken', 0, p));
  }
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
    const cur = state.tour, step = cur && cur.step(), c = during();
    const body = { question: q, user: state.user || undefined, anon: state.user ? undefined : anonId(),
      context: { url: pageUrl(), tour_id: cur ? cur.tour.id : null, step_id: step ? step.id : null } };
    let got = null; // the server's answer
    say(h('div', { class: 'm u' }, q));
    const wait = say(h('div', { class: 'm a' }, t('wait')));
    return converse('ask', body)
      .then((a) => {
        got = a;
        if (a.question_id) track('question_asked', c, { question_id: a.question_id });
        return answer(a);
      }, () => h('div', { class: 'm a' }, h('p', null, t('fail')), supportLink()))
      .then((node) => {
        wait.remove();
        say(node);
        emit('chat:answer', { question: q, outcome: got ? got.outcome : 'error', question_id: (got && got.question_id) || null });
      });
  }

  const isOpen = () => !!panel && panel.isConnected;
  function open() {
    const fresh = !isOpen();
    shell.attach();
    if (!panel) {
      input = h('input', { type: 'text', maxlength: '1000', autocomplete: 'off' });
      log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite' });
      panel = h('div', { class: 'chat', role: 'dialog', 'aria-labelledby': 'gch' },
        h('header', null, h('h2', { id: 'gch' }), h('button', { class: 'x', type: 'button', onclick: close }, '×')),
        log,
        h('form', { onsubmit: (e) => { e.preventDefault(); const q = input.value.trim(); input.value = ''; if (q) return ask(q) } },
          input, h('button', { class: 'btn pri', type: 'submit' })));
      on(panel, 'keydown', (e) => e.key === 'Escape' && close());
      say(h('div', { class: 'm a' }, t('hello')));
    }
    // labels follow the current locale each time the panel opens
    panel.querySelector('h2').textContent = t('help');
    panel.querySelector('.x').setAttribute('aria-label', t('close'));
    panel.querySelector('form .btn').textContent = t('send');
    input.setAttribute('aria-label', t('ask'));
    input.setAttribute('placeholder', t('ask') + '…');
    shell.add(panel);
    if (shell.launcher) shell.launcher.setAttribute('aria-expanded', 'true');
    input.focus({ preventScroll: true });
    connect(); // the chat's socket opens now, before the first question
    if (fresh) {
      track('chat_opened', during());
      emit('chat:open');
    }
  }
  function close() {
    if (!panel) return;
    const had = panel.contains(deepActive()), was = isOpen();
    panel.remove();
    idle(); // the socket closes a minute after the last message
    if (shell.launcher) {
      shell.launcher.setAttribute('aria-expanded', 'false');
      if (had) shell.launcher.focus({ preventScroll: true });
    }
    if (was) emit('chat:close');
  }

  return {
    open, close, isOpen,
    toggle: () => (isOpen() ? close() : open()),
    // the key handler of a tour leaves the chat's keys alone (66-step-keys.js)
    owns: (node) => !!panel && panel.contains(node),
    // Guide('reset'): closed, and the next person starts with an empty log
    reset() {
      if (log) log.textContent = '';
      close();
      panel = null;
    },
  };
})();

// The survey (NPS) the server says is due: small, at the bottom, never blocking, hidden under a
// tour. A score 0-10, then an optional comment; "later", close and Escape end it too.
// Uses later, on (00-safety.js), state.surveysEnded (10-state.js), t (15-strings.js),
// h, nextId, deepActive (20-dom.js), emit (25-host-events.js), track, flush (35-transport.js), shell (45-shell.js).
const survey = (() => {
  let panel = null; // the survey on screen, or null

  function show(sv) {
    if (!sv || panel || state.surveysEnded[sv.id]) return;
    let score = null;
    const id = nextId(), txt = h('textarea', { rows: '3', maxlength: '1000' });
    const more = h('div', { hidden: true }, h('label', null, sv.comment_prompt || t('why'), txt),
      h('div', { class: 'f' }, h('button', { class: 'btn pri', type: 'button', onclick: () => end() }, t('send'))));
    const scale = h('div', { class: 'sc', role: 'group', 'aria-labelledby': id, 'aria-describedby': id + 'h' },
      [...Array(11).keys()].map((n) => h('button', { // 0 to 10
        class: 'btn', type: 'button', 'aria-pressed': 'false', 'aria-label': n + t('points'), onclick: () => {
          score = n;
          [].forEach.call(scale.children, (b, k) => b.setAttribute('aria-pressed', String(k === n)));
          more.hidden = false;
          txt.focus();
        },
      }, String(n))));
    // answered (a score was chosen, whatever closed it), nps_later or nps_dismissed
    const end = (type) => {
      if (state.surveysEnded[sv.id]) return; // once: Send, later, close and Escape all end it
      const had = box.contains(deepActive()), answered = score != null, comment = txt.value.trim();
      state.surveysEnded[sv.id] = 1;
      track(answered ? 'nps_answered' : type, 0, Object.assign({ survey: sv.id }, answered && { score, comment }));
      flush(); // the server asks again only once it knows
      panel = null;
      box.textContent = '';
      if (answered) {
        box.append(h('p', { role: 'status' }, t('answered')));
        later(() => box.remove(), 3000);
      } else box.remove();
      if (had && shell.launcher) shell.launcher.focus({ preventScroll: true });
      emit(answered ? 'survey:answer' : 'survey:dismiss',
        Object.assign({ survey: sv.id }, answered ? { score, comment } : { later: type === 'nps_later' }));
    };
    const box = (panel = h('section', { class: 'sv', role: 'dialog', 'aria-labelledby': id },
      h('h2', { id }, sv.question), scale,
      h('div', { class: 'n sh', id: id + 'h' }, h('span', null, '0: ' + t('low')), h('span', null, '10: ' + t('high'))),
      more,
      h('div', { class: 'f' }, h('button', { class: 'btn', type: 'button', onclick: () => end('nps_later') }, t('later'))),
      h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: () => end('nps_dismissed') }, '×')));
    on(box, 'keydown', (e) => e.key === 'Escape' && end('nps_dismissed'));
    shell.add(box);
    emit('survey:show', { survey: sv.id });
  }

  return {
    show,
    // Guide('reset'): gone, and any survey may be shown again
    reset() {
      if (panel) panel.remove();
      panel = null;
      state.surveysEnded = {};
    },
  };
})();

// A step's popup: a labelled dialog with the step's title and text, where the user is ("2 / 3"),
// Back, Next (Done on the last step) and Close. It only builds the elements: 69-step-view.js puts
// them on screen and places them.
// Uses t (15-strings.js), h, nextId (20-dom.js); its buttons call run.show() and run.end() (70-run.js).

// run: the Run showing step `s` (advance `adv`), with its target `el` or null. Returns the popup
// and its Next button (null when the user's action is the way on).
function stepPopup(run, s, adv, el) {
  const n = run.tour.steps.length, i = run.i, id = nextId(), b = s.buttons || {};
  // click/input steps advance by themselves; a centred fallback for a missing target still needs a button
  const next = adv.type === 'next' || (!el && adv.type !== 'url') ?
    h('button', { class: 'btn pri', type: 'button', onclick: () => run.show(run.i + 1, 1) },
      i === n - 1 ? b.done || t(run.modal ? 'done' : 'ok') : b.next || t('next')) : null;
  const pop = h('div', {
    class: run.modal ? 'pop' : 'pop hint', role: 'dialog', 'aria-modal': run.modal && 'true',
    'aria-labelledby': id + 't', 'aria-describedby': id + 'b', tabindex: '-1',
  },
  h('h2', { id: id + 't' }, s.title || run.tour.title || ''),
  h('div', { id: id + 'b', class: 'b', html: s.html || '' }),
  h('div', { class: 'f' },
    n > 1 && h('span', { class: 'n' }, i + 1 + ' / ' + n),
    i > 0 && h('button', { class: 'btn', type: 'button', onclick: () => run.show(run.i - 1, -1) }, b.back || t('back')),
    next),
  // last in the DOM so that Tab reaches the step's own buttons first
  h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: () => run.end('dismissed') }, '×'));
  return { pop, next };
}

// The keyboard and the focus during a tour: Escape closes it, → and ← move to the next and previous
// step (not while typing in a field), Tab stays inside the step (its controls and its target), and
// the focus goes back where it was when the tour ends.
// Uses FOCUSABLE, visible, deepActive (20-dom.js), shell.launcher (45-shell.js), chat.owns (55-chat.js);
// drives a Run (70-run.js).

// The keydown listener of a modal Run (on document, capture phase, while the tour runs).
const stepKeys = (run) => (e) => {
  // the chat may be open above a tour (to ask about this step): its keys are its own
  if (!run.pop || chat.owns(e.composedPath()[0])) return;
  const k = e.key, el = e.composedPath()[0] || {};
  const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable;
  if (k === 'Escape') { e.preventDefault(); run.end('dismissed') }
  else if (k === 'Tab') trapTab(e, run.pop, run.el);
  else if (typing) return;
  else if (k === 'ArrowRight' && run.nextBtn) { e.preventDefault(); run.show(run.i + 1, 1) }
  else if (k === 'ArrowLeft' && run.i > 0) { e.preventDefault(); run.show(run.i - 1, -1) }
};

// Tab and Shift+Tab cycle through the popup's controls and the target's, nothing else.
function trapTab(e, pop, target) {
  const list = [].slice.call(pop.querySelectorAll(FOCUSABLE))
    .concat(target ? [target].concat([].slice.call(target.querySelectorAll(FOCUSABLE))).filter((x) => x.matches(FOCUSABLE) && visible(x)) : []);
  const k = list.indexOf(deepActive()), n = list.length;
  e.preventDefault();
  if (n) list[e.shiftKey ? (k <= 0 ? n - 1 : k - 1) : (k + 1) % n].focus();
}

// At the end of a run, while its step is still on screen: returns what gives the focus back. A tour
// gives it back where it was before the tour (else to the launcher), a hint to the launcher; only
// when the focus is still the widget's (in the step, on its target, or nowhere), never when the
// user has taken it elsewhere.
function focusBack(run) {
  const a = deepActive(), inPop = !!run.pop && run.pop.contains(a);
  const ours = inPop || !a || a === d.body || (run.el && run.el.contains(a));
  return () => {
    if (!(run.modal ? ours : inPop)) return;
    const ret = run.modal && run.ret && run.ret.isConnected ? run.ret : shell.launcher;
    if (ret) ret.focus({ preventScroll: true });
  };
}

// Progress: where the user is in a tour, saved at each new step (active) and at the end (completed,
// dismissed). Identified users: on the server. Anonymous users: in this browser, and only reports
// (a target that never appeared) go to the server.
// Uses warn (00-safety.js), state (10-state.js), pageUrl (20-dom.js), hold (25-host-events.js), local, TAB (30-storage.js),
// http (35-transport.js); calls checklists.update() (80-checklist.js) and kick() (90-page.js).

// run: the Run; status: active | completed | dismissed; event: a report that goes with it (target_missing).
function saveProgress(run, status, event) {
  const tour = run.tour, body = { tour: tour.id, version: tour.version, step: run.i, status, url: pageUrl(), event };
  if (state.user) {
    // Saves can reach the server out of order (quick clicks, several workers): each carries this
    // tab's id and a number that only grows, even across reloads, and the server drops a late older one.
    state.saveSeq = Math.max(Date.now(), state.saveSeq + 1);
    Object.assign(body, { user: state.user }, /^[\w-]{1,64}$/.test(TAB) && { tab: TAB, seq: state.saveSeq });
    hold(http('tours/progress', body, true).then((r) => {
      checklists.update(r.checklists, true);
      if (status === 'completed') kick(); // tours gated on this one (`after:`) may start now
    }).catch(warn));
    return;
  }
  const v = local();
  if (status === 'active') {
    if (run.modal) local({ active: { id: tour.id, step: run.i, version: tour.version } });
  } else {
    const key = status === 'completed' ? 'done' : 'dismissed', ids = (v[key] || []).filter((x) => x !== tour.id);
    local({ [key]: ids.concat(tour.id), active: run.modal ? null : v.active });
    if (status === 'completed') kick(); // checklists and `after:` follow the tours done here
  }
  if (event) http('tours/progress', body, true).catch(warn);
}

// Stuck signals, sent as review-desk events (docs/embed.md): idle on a step, going back and forth
// between two steps, rage clicks, and leaving the page with a step on screen.
// Uses on, later (00-safety.js), state.tour, during (10-state.js), track (35-transport.js),
// shell.host (45-shell.js); the first two watch a Run (70-run.js).

// A new visit of a run's step: step_shown, and back_forth when the user went a, b, a, b.
function stepVisited(run) {
  const c = run.ctx(run.i), seen = run.seen, k = seen.length;
  run.since = Date.now();
  run.idled = 0;
  track('step_shown', c);
  seen.push(run.i);
  if (seen[k] === seen[k - 2] && seen[k - 1] === seen[k - 3] && !run.backForth[run.i]) { // a, b, a, b
    run.backForth[run.i] = 1;
    track('back_forth', c, { other_step: run.tour.steps[seen[k - 1]].id });
  }
}

// idle: no progress on a tour's step (s) for its idle_after seconds (30 by default, 0: never), once a visit.
function watchIdle(run, s) {
  const idle = s.idle_after == null ? 30 : s.idle_after, c = run.ctx(run.i);
  if (!run.modal || !idle || run.idled) return;
  const tm = later(() => {
    run.idled = 1;
    track('idle', c, { seconds: Math.round((Date.now() - run.since) / 1000) });
  }, idle * 1000 - (Date.now() - run.since));
  run.stepOff.push(() => clearTimeout(tm));
}

// Once, at start: rage clicks anywhere, and page_left.
function watchPage() {
  // the page goes away mid-tour (not when leaving is the step's way on: advance by URL)
  on(w, 'pagehide', () => {
    const r = state.tour;
    if (r && r.pop && (r.step().advance || {}).type !== 'url') track('page_left', r.ctx(r.i));
  });
  // rage clicks: 3 or more within a second, within 30 px, anywhere but on the widget's own controls
  let taps = [], rageTimer = 0;
  on(d, 'click', (e) => {
    const el = e.composedPath()[0], now = Date.now(), ours = e.target === shell.host;
    if (!e.detail || !el.tagName || (ours && el.closest('button,a,input,textarea'))) return; // keys, not clicks
    taps = taps.filter((p) => now - p[0] < 1000 && Math.hypot(p[1] - e.clientX, p[2] - e.clientY) < 30).concat([[now, e.clientX, e.clientY]]);
    clearTimeout(rageTimer);
    const n = taps.length, sel = (ours ? 'guide-widget ' : '') + el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList[0] ? '.' + el.classList[0] : '');
    if (n > 2) rageTimer = later(() => track('rage_click', during(), { count: n, selector: sel.slice(0, 200) }), 1000);
  }, true);
}

// A step on screen: its popup beside the target (or centred), the overlay around the target for a
// tour, following the target when the page scrolls, resizes or re-renders it, and the click or
// typing that moves a step on. hideStep() takes all of it away again.
// Uses on, safe, later (00-safety.js), h, motion (20-dom.js), emit (25-host-events.js), shell (45-shell.js),
// position, cover, reflow (50-position.js), stepPopup (65-step-popup.js), stepVisited, watchIdle
// (68-signals.js); works on a Run (70-run.js).

// Shows step `s` of `run` (advance `adv`) beside its target `el` (null: centred).
function showStep(run, s, adv, el) {
  const fresh = run.shown !== run.i; // a new visit of this step (showing it again after a re-render is not)
  run.el = el;
  if (fresh) {
    run.shown = run.i;
    stepVisited(run);
  }
  watchIdle(run, s);
  const p = stepPopup(run, s, adv, el);
  run.pop = p.pop;
  run.nextBtn = p.next;
  if (!run.modal) run.stepOff.push(on(run.pop, 'keydown', (e) => e.key === 'Escape' && run.end('dismissed')));
  if (el) followTarget(run, el, adv);
  if (run.modal) { // hints wait under a running tour
    run.ov = [0, 1, 2, 3, 4].map((k) => h('div', { class: k < 4 ? 'ov' : 'ring' }));
    shell.add.apply(null, run.ov);
    shell.dim(true);
  }
  shell.add(run.pop);
  placeStep(run);
  if (run.modal && run.focused !== run.i) { // a new step takes focus; showing it again does not
    run.focused = run.i;
    run.pop.focus({ preventScroll: true });
  }
  if (fresh) emit(run.modal ? 'tour:step' : 'hint:show', run.ctx(run.i));
}

// The target: scrolled into view, watched for size changes, and the step's way on (click, input).
function followTarget(run, el, adv) {
  const r = el.getBoundingClientRect();
  if (r.bottom < 0 || r.top > w.innerHeight || r.right < 0 || r.left > w.innerWidth) {
    el.scrollIntoView({ block: 'center', inline: 'nearest', behavior: motion() ? 'smooth' : 'auto' });
  }
  if (w.ResizeObserver) {
    run.ro = new ResizeObserver(safe(reflow)); // reflow only schedules a frame: no observer loop errors
    run.ro.observe(el, { box: 'border-box' });
  }
  const inside = (e) => e.composedPath().indexOf(el) >= 0, next = () => run.show(run.i + 1, 1);
  if (adv.type === 'click') run.stepOff.push(on(d, 'click', (e) => inside(e) && next(), true));
  if (adv.type === 'input') { // advance once the user pauses typing, or leaves the field
    let tm = 0;
    run.stepOff.push(
      on(d, 'input', (e) => { if (inside(e)) { clearTimeout(tm); tm = later(next, 700) } }, true),
      on(d, 'change', (e) => inside(e) && next(), true),
      () => clearTimeout(tm));
  }
}

// Follows the target on scroll and resize; never touches focus.
function placeStep(run) {
  if (!run.pop) return;
  if (run.el && !run.el.isConnected) return run.show(run.i, 1); // re-rendered by the host: find it again
  const r = run.el ? run.el.getBoundingClientRect() : null;
  if (run.ov) cover(run.ov, r);
  position(run.pop, r, run.step().placement);
}

// Takes the step off the screen: its listeners and timers, popup and overlay.
function hideStep(run) {
  run.stepOff.forEach((f) => f());
  run.stepOff = [];
  if (run.ro) run.ro.disconnect();
  if (run.ov) {
    shell.dim(false);
    reflow(); // the hints that waited under the tour
  }
  (run.ov || []).concat(run.pop || []).forEach((x) => x.remove());
  run.pop = run.ov = run.ro = run.el = null;
}

// The tour runner. A Run is one tour on screen (modal: overlay, focus, keys; one at a time) or one
// hint (light, beside its target; several at a time). It goes from step to step: waits for the
// step's page and target, shows it (69-step-view.js), saves progress (67-progress.js), and ends.
// Uses warn, on (00-safety.js), state (10-state.js), locale (15-strings.js), here, deepActive (20-dom.js),
// emit, hold (25-host-events.js), track, chain, http, query (35-transport.js), waitFor (50-position.js),
// stepKeys, focusBack (66-step-keys.js), saveProgress (67-progress.js),
// showStep, hideStep (69-step-view.js); hints.show() (75-hints.js) for hints.
class Run {
  constructor(tour, step, resumed) {
    this.tour = tour; // the tour from the server, in the locale of `lang`
    this.lang = locale(); // a change of locale fetches the tour again and shows the same step (90-page.js)
    this.modal = tour.kind !== 'hint'; // a tour, or a hint
    this.i = 0; // the current step's index
    this.stepOff = []; // what the current step's listeners and timers need to stop (69-step-view.js)
    this.seen = []; // the steps shown, in order (back_forth, 68-signals.js)
    this.backForth = {}; // step index -> 1 once reported as back_forth
    // set later: pop, nextBtn, el, ov, ro (the step on screen); token, cancel (a step waiting for its target);
    // saved, shown, focused (the step last saved, counted as shown, focused); since, idled (idle signal); dead
    state.runs.add(this);
    if (this.modal) {
      state.tour = this;
      this.ret = deepActive(); // focus goes back here when the tour ends
      this.off = on(d, 'keydown', stepKeys(this), true);
    }
    if (!resumed) track('tour_started', this.ctx(step || 0));
    if (this.modal) emit('tour:start', Object.assign(this.ctx(step || 0), { resumed: !!resumed }));
    this.show(step || 0, 1);
  }

  step() { return (this.tour.steps || [])[this.i] }

  // what events about step i carry
  ctx(i) {
    const s = this.tour.steps[i];
    return { tour: this.tour.id, version: this.tour.version, step: s && s.id, step_index: s && i };
  }

  // Step i, coming from dir (1: forward, -1: back); `settled` waits until it is shown or given up.
  show(i, dir) {
    const shown = hold();
    this.go(i, dir).catch(warn).then(shown);
  }

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
      saveProgress(this, 'active');
    }
    if (adv.type === 'url' && here(adv.url)) return this.show(i + 1, 1);
    if (s.url && !here(s.url)) return; // the step lives on another page: route() shows it there
    const token = (this.token = {});
    const el = s.target ? await new Promise((res) => {
      const stop = waitFor(s.target, s.wait == null ? 3000 : s.wait, res);
      this.cancel = () => { stop(); res(null) };
    }) : null;
    if (token !== this.token || this.dead) return; // a newer step or the end came first
    if (s.target && !el) {
      const action = s.missing || 'skip', event = { type: 'target_missing', step_id: s.id, action };
      track('target_missing', this.ctx(i), { action });
      if (action === 'abort') return this.end('dismissed', event);
      saveProgress(this, 'active', event);
      if (action === 'skip') {
        const way = i + dir < 0 ? 1 : dir; // going back past a missing first step turns forward
        return this.show(i + way, way);
      }
    }
    showStep(this, s, adv, el);
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

  // Hides the current step, and stops waiting for its target.
  clear() {
    this.token = null;
    if (this.cancel) this.cancel();
    this.cancel = null;
    hideStep(this);
  }

  // status: completed | dismissed, or null to stop without saving (reset, another tour started).
  end(status, event) {
    if (this.dead) return;
    this.dead = true;
    hold()(); // an end is news for `settled` too, even when nothing follows it
    const giveFocusBack = focusBack(this); // asked while the step is still on screen
    this.clear();
    state.runs.delete(this);
    if (status) state.ended.add(this.tour.id); // not offered again on this page
    if (state.tour === this) state.tour = null;
    if (this.off) this.off();
    if (status) {
      track('tour_' + status, this.ctx(this.i)); // tour_completed, tour_dismissed
      saveProgress(this, status, event);
    }
    giveFocusBack();
    if (status) {
      const c = this.ctx(this.i);
      emit(this.modal ? (status === 'completed' ? 'tour:complete' : 'tour:dismiss') : 'hint:close',
        this.modal ? c : Object.assign(c, { status }));
    }
  }
}

// A tour or hint from the server, on screen from `step`; resumed: in progress before, not started now.
function runTour(tour, step, resumed) {
  if (!tour || !(tour.steps || []).length) return;
  if (tour.kind === 'hint') return hints.show(tour, step, resumed);
  if (state.tour) state.tour.end(null);
  new Run(tour, step, resumed);
}

// Guide('start', id) and a checklist's "show me": from the first step, whatever the targeting.
function startTour(id) {
  chain(async () => runTour(await http('tours/' + encodeURIComponent(id) + query({ user: state.user, locale: locale() })), 0));
}

// Hints: light, non-blocking steps beside their targets, run by a Run that is not modal. Several
// can be on screen; each belongs to the page it was found on, and waits (hidden) under a tour.
// Uses state.hints (10-state.js), Run (70-run.js).
const hints = {
  // on screen from `step`, instead of the same hint if it is there already
  show(tour, step, resumed) {
    if (state.hints[tour.id]) state.hints[tour.id].end(null);
    state.hints[tour.id] = new Run(tour, step, resumed);
  },
  // a new page: the hints it does not list go away (byId: the page's tours and hints by id)
  keep(byId) {
    for (const id in state.hints) {
      if (!byId[id]) state.hints[id].end(null);
      if (state.hints[id].dead) delete state.hints[id];
    }
  },
};

// Checklists: the panel at the bottom left, one progress bar per checklist, folded or open with its
// tasks and their "show me" tours. A task once done stays done.
// Uses state (10-state.js), t (15-strings.js), h, deepActive (20-dom.js), emit (25-host-events.js),
// local (30-storage.js), track (35-transport.js), shell (45-shell.js), startTour (70-run.js).
const checklists = (() => {
  let panel = null; // the panel on screen, or null
  let doneCounts = {}; // checklist id -> its tasks done as last shown: checklist:update fires on a change

  // All checklists of the page (GET /tours), or only those a call changed (merge: progress, track answers).
  // Merged answers know only their own task, and the server forgets anonymous users' tasks, which are
  // remembered here and sent back as `tasks`.
  function update(cls, merge) {
    if (!Array.isArray(cls)) return;
    const seen = state.user ? [] : local().tasks || [], keep = merge || !state.user;
    state.checklists.forEach((c) => c.tasks.forEach((task) => task.done && seen.push(c.id + ':' + task.id)));
    if (merge) cls = state.checklists.map((old) => cls.filter((x) => x.id === old.id)[0] || old);
    cls.forEach((c) => {
      c.tasks.forEach((task) => (task.done = task.done || (keep && seen.indexOf(c.id + ':' + task.id) >= 0)));
      c.done = c.tasks.filter((task) => task.done).length;
      c.completed = c.done === c.total;
    });
    state.checklists = cls;
    if (!state.user) {
      cls.forEach((c) => c.tasks.forEach((task) => task.done && seen.push(c.id + ':' + task.id)));
      local({ tasks: seen.filter((k, i) => seen.indexOf(k) === i) });
    }
    // reported once per person and browser: the panel shown (started), each task done, the list completed
    const rp = (state.milestones = state.milestones || local().rp || []), who = (state.user || '') + ':';
    const once = (key, type, props) => rp.indexOf(who + key) < 0 && rp.push(who + key) && track(type, 0, props);
    cls.forEach((c) => {
      once('s' + c.id, 'checklist_started', { checklist: c.id });
      c.tasks.forEach((task) => task.done && once('t' + c.id + ':' + task.id, 'checklist_task_completed', { checklist: c.id, task: task.id }));
      if (c.completed) once('c' + c.id, 'checklist_completed', { checklist: c.id });
    });
    local({ rp });
    draw(cls);
    cls.forEach((c) => {
      const before = doneCounts[c.id];
      if (before === c.done) return;
      doneCounts[c.id] = c.done;
      emit('checklist:update', { checklist: c.id, done: c.done, total: c.total });
      if (c.completed && before != null) emit('checklist:complete', { checklist: c.id });
    });
  }

  function draw(cls) {
    const focusKey = panel && panel.contains(deepActive()) && deepActive().getAttribute('data-k');
    if (panel) panel.remove();
    panel = null;
    if (!cls.length) return;
    const open = !!local().open;
    panel = h('div', { class: 'cls' }, cls.map((c) => {
      const pct = c.total ? Math.round((100 * c.done) / c.total) : 0;
      const fill = h('i');
      fill.style.width = pct + '%';
      return h('section', { class: 'cl', 'aria-label': c.title },
        h('button', { type: 'button', 'aria-expanded': String(open), 'data-k': 'toggle', onclick: () => { local({ open: !open }); update(state.checklists) } },
          c.title, h('span', null, c.done + ' / ' + c.total)),
        h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(c.total), 'aria-valuenow': String(c.done), 'aria-label': c.title }, fill),
        open && h('ul', null, (c.tasks || []).map((task) => h('li', { class: task.done ? 'ok' : null },
          h('span', null, (task.done ? '✓ ' : '') + task.title),
          !task.done && task.tour && h('button', { class: 'btn', type: 'button', 'data-k': 'show-' + task.id, onclick: () => { local({ open: false }); update(state.checklists); startTour(task.tour) } }, t('show'))))),
        open && c.completed && h('p', null, t('allDone')));
    }));
    shell.add(panel);
    // keep the keyboard user's place across the redraw ("show me" folds the panel: back to its button)
    const prev = focusKey && (panel.querySelector('[data-k="' + focusKey + '"]') || panel.querySelector('[data-k=toggle]'));
    if (prev) prev.focus({ preventScroll: true });
  }

  return {
    update,
    // Guide('reset'): the next person's lists and reports start afresh (the panel is redrawn by the next page answer)
    reset() {
      state.checklists = [];
      state.milestones = null;
      doneCounts = {};
    },
  };
})();

// The page: what applies to it now (GET /tours after load, after identify and after every
// navigation): its hints, element triggers, checklists, survey, and the tour that starts by itself
// or resumes. SPA navigation (pushState, replaceState, popstate) moves tours along.
// Uses safe, on, later (00-safety.js), state (10-state.js), locale, t (15-strings.js), pageUrl (20-dom.js),
// hold (25-host-events.js), local (30-storage.js), http, query, chain (35-transport.js), shell (45-shell.js),
// waitFor (50-position.js), survey (60-survey.js), runTour (70-run.js), hints (75-hints.js),
// checklists (80-checklist.js).
const { kick, watchHistory } = (() => {
  let kickTimer = 0, kicked = null; // the refresh asked for, and what releases its hold on `settled`
  // Asks the server again, once, after whatever else is happening in this task.
  function kick() {
    clearTimeout(kickTimer);
    kicked = kicked || hold();
    kickTimer = later(() => {
      const release = kicked;
      kicked = null;
      chain(refresh);
      release();
    }, 0);
  }

  async function refresh() {
    const v = local();
    const q = { url: pageUrl(), locale: locale(), user: state.user };
    if (!state.user) {
      Object.assign(q, { traits: state.traits && JSON.stringify(state.traits), done: (v.done || []).join(','),
        dismissed: (v.dismissed || []).join(','), tasks: (v.tasks || []).join(',') });
    }
    const data = await http('tours' + query(q));
    const tours = data.tours || [], byId = {};
    tours.forEach((x) => (byId[x.id] = x));
    state.support = data.support || state.support;
    checklists.update(data.checklists);
    if (shell.launcher) shell.launcher.setAttribute('aria-label', t('help'));
    // hints and element triggers belong to the page they were found on
    state.triggers.forEach((f) => f());
    state.triggers = [];
    hints.keep(byId);
    tours.forEach((x) => {
      const tr = x.trigger || {}, fresh = !state.ended.has(x.id) && !state.hints[x.id];
      // an active tour resumes through `autostart`, not through its trigger
      if (!fresh || tr.type === 'manual' || (x.kind !== 'hint' && (x.progress || {}).status === 'active')) return;
      if (tr.type === 'element') state.triggers.push(waitFor(tr.selector, Infinity, () => (x.kind === 'hint' || !state.tour) && runTour(x, 0)));
      else if (x.kind === 'hint') runTour(x, 0);
    });
    const run = state.tour, cur = run && byId[run.tour.id];
    if (cur && run.lang !== q.locale) { // the locale changed: the same step, in the new language
      run.lang = q.locale;
      run.tour = cur;
      run.show(run.i, 1);
    }
    survey.show(data.survey);
    if (state.tour) return;
    const saved = !state.user && v.active;
    if (saved) { // an anonymous tour in progress, resumed after a reload
      const tour = byId[saved.id] || await http('tours/' + encodeURIComponent(saved.id) + query({ locale: locale() })).catch(() => null);
      if (tour && tour.version === saved.version && !state.tour) return runTour(tour, saved.step, 1);
      local({ active: null });
    }
    const auto = byId[data.autostart];
    if (auto && !state.ended.has(auto.id)) {
      const resume = (auto.progress || {}).status === 'active';
      runTour(auto, resume ? auto.progress.step : 0, resume);
    }
  }

  // SPA navigation: the running tours move along, and the new page's tours are fetched.
  let lastUrl = location.pathname + location.search;
  const navigated = () => {
    const now = location.pathname + location.search;
    if (now === lastUrl) return; // replaceState with the same URL, hash changes
    lastUrl = now;
    state.runs.forEach((r) => r.route());
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

  return { kick, watchHistory };
})();

// The public API, window.Guide(command, ...args) (docs/embed.md), and the start: the shell, the
// listeners on the page, the calls the host queued before the script loaded, `ready`, and the
// first look at what applies to this page.
// Uses everything before it: warn, safe, on (00), SITE, KEY (05), state (10), STRINGS (15), pageUrl (20),
// emit, listen, unlisten (25), local (30), http, chain, flush (35), shell (45), reflow (50),
// chat (55), survey (60), watchPage (68), startTour (70), checklists (80), kick, watchHistory (90).
const commands = {
  identify(o) {
    o = o || {};
    const user = o.id == null || o.id === '' ? null : String(o.id);
    if (user !== state.user && state.tour) state.tour.end(null);
    state.user = user;
    state.token = user && o.token; // signed by the host app's server for this user (docs/embed.md)
    state.traits = o.traits && typeof o.traits === 'object' ? o.traits : state.traits;
    if (STRINGS[o.locale]) state.locale = o.locale;
    if (user) chain(() => http('identify', { user, traits: state.traits || {}, locale: state.locale || undefined }));
    else local({ traits: state.traits });
    kick();
  },
  start(id) {
    if (typeof id !== 'string' || !id) throw new Error('start: give a tour id');
    startTour(id);
  },
  'open-chat': () => chat.open(),
  track(name, props) {
    if (typeof name !== 'string' || !name) throw new Error('track: give an event name');
    chain(() => http('track', { user: state.user || undefined, name, props: props || {}, url: pageUrl() }).then((r) => checklists.update(r.checklists, true)));
  },
  on: listen, // Guide('on', 'tour:complete', fn)
  off: unlisten,
  reset() {
    flush();
    survey.reset();
    state.runs.forEach((r) => r.end(null));
    state.hints = {};
    state.ended.clear();
    state.user = state.token = state.traits = state.locale = state.anon = null;
    checklists.reset();
    try { w.localStorage.removeItem(KEY) } catch (_) { /* blocked */ }
    chat.reset();
    kick();
  },
};

const queued = (w.Guide && w.Guide.q) || []; // calls made through the host's stub before we loaded
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
  state.traits = local().traits || null;
  shell.mount();
  watchHistory();
  on(d, 'scroll', reflow, { capture: true, passive: true }); // capture: scrolls in nested containers too
  on(w, 'resize', reflow);
  watchPage(); // its pagehide listener (page_left) comes before the beacons below
  // the page goes away (or to the background): pending events leave by beacon
  on(w, 'pagehide', () => flush(1));
  on(d, 'visibilitychange', () => d.hidden && flush(1));
  [].forEach.call(queued, (args) => Guide.apply(null, args));
  emit('ready', { site: SITE });
  kick();
})();

})(window, document);
