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
// a warning for whoever reads the console (an editor whose selector matches nothing)
const note = (m) => {
  try { console.warn('[guide]', m) } catch (_) { /* no console */ }
};
const warn = (e) => {
  note(e);
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
  siteLocale: null, // the locale the server chose when the page did not say (the user's, or the site's default) (90-page.js)
  anon: null, // this browser's random id for an anonymous user, read once from localStorage (30-storage.js)
  support: null, // the site's "contact support" URL, or 'form' (a webhook behind the server), from GET /tours (90-page.js)
  library: [], // the tours this user may start again from the help panel, [{id, title}], from GET /tours (90-page.js)
  preview: null, // set by the editor's preview (editor part): nothing is recorded, progress or events
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
// Strings: the texts embed.js writes itself, in Japanese and English (each part adds its own), and
// the locale in use. (Tour, hint, checklist and survey texts come from the server, already in the
// right locale.)
// Uses config (05-config.js), state.locale (10-state.js).
const STRINGS = {
  ja: {
    next: '次へ', back: '戻る', done: '完了', ok: 'OK', close: '閉じる', help: 'ヘルプ', send: '送信', show: '見てみる',
    allDone: 'すべて完了しました', hide: '非表示にする',
  },
  en: {
    next: 'Next', back: 'Back', done: 'Done', ok: 'Got it', close: 'Close', help: 'Help', send: 'Send', show: 'Show me',
    allDone: 'All done', hide: 'Hide',
  },
};
// One rule for every part of the widget: the locale the app identified the user with, else the
// script tag's data-locale, else the page's <html lang> (ja…, en…), else the site's default, as the
// server said it (siteLocale). A change of <html lang> is watched (95-api.js).
const pageLocale = () => state.locale || (STRINGS[config.locale] && config.locale) ||
  ((d.documentElement.lang || '').slice(0, 2).toLowerCase().replace(/^(?!ja|en).*/, '') || null);
const locale = () => pageLocale() || state.siteLocale || 'ja';
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
// a field the user types in (where the keys they press must stay)
const typingIn = (el) => !!el && (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable);
// A hash route (#/path or #!/path, as hash-routed apps use), or '': other fragments (an anchor,
// an OAuth token) are no route and never leave the page; an anchor followed within a route's page
// leaves the app on that route.
let routeSeen = ['', '']; // [path, route]
const route = () => {
  const hash = location.hash, path = location.pathname, isRoute = /^#!?\//.test(hash);
  if (isRoute || !hash || routeSeen[0] !== path) routeSeen = [path, isRoute ? hash : ''];
  return routeSeen[1];
};
// Patterns as in content/tours: '*' is any run of characters; the query counts only if the pattern
// has '?', the hash route only if it has '#'.
const here = (pat) => {
  const hash = pat.indexOf('#'), q = pat.indexOf('?');
  let s = location.pathname + (q >= 0 && (hash < 0 || q < hash) ? location.search : '') + (hash >= 0 ? route() : '');
  try { s = decodeURIComponent(s) } catch (_) { /* keep it encoded */ }
  return new RegExp('^' + pat.split(/\*+/).map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$').test(s);
};
// The page as the widget reports it: with its hash route, without any other #fragment, and cut to
// the 4,096 characters the service takes (a longer address would be refused, and with it the
// answer, the save or the event that carried it); the service masks e-mails and numbers.
const pageUrl = () => (location.href.split('#')[0] + route()).slice(0, 4096);
const safeUrl = (u) => (/^(https?:|mailto:|tel:|\/)/i.test(u || '') ? u : null);

// HTML from the server was sanitised there (allow-list); under Trusted Types it passes through our
// own policy, as do the addresses of the widget's parts (47-parts.js), and only those.
let tt = null;
try {
  tt = w.trustedTypes && w.trustedTypes.createPolicy('guide', {
    createHTML: (s) => s,
    createScriptURL: (s) => (s.indexOf(API + '/embed/') ? '' : s),
  });
} catch (_) { /* policy not allowed */ }

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
// True the first time `what` is asked in this tab (what was reported once per session).
function firstInTab(what) {
  let seen = [];
  try { seen = JSON.parse(sessionStorage[KEY + ':once'] || '[]') } catch (_) { /* blocked */ }
  if (seen.indexOf(what) >= 0) return false;
  try { sessionStorage[KEY + ':once'] = JSON.stringify(seen.concat(what).slice(-200)) } catch (_) { /* full or blocked */ }
  return true;
}
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
  let unanswered = 0; // 1 when the last send got no answer at all (a network failure, or this page's own leaving)
  let flushTimer = 0;
  if (queue.length) local({ q: 0 }), flush();
  on(w, 'online', () => flush(wait = 0));
  // ctx: the tour, version, step and step_index the event is about (or nothing)
  function track(type, ctx, props) {
    if (state.preview) return; // an editor's preview is no use's figures
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
      // The server's own "wait" (429, 5xx) holds the beacons back; a send that got no answer does not:
      // leaving the page cuts the batch on its way, and its events, and those after it, go by beacon.
      for (let b; queue.length && (early <= 0 || unanswered) && navigator.sendBeacon(API + '/api/v1/events', JSON.stringify(Object.assign({ site: SITE }, b = batch())));) done(b);
      if (queue.length) local({ q: queue });
    } else if (queue.length && !sending) {
      if (early > 0) return (flushTimer = later(flush, early));
      const b = batch();
      sending = 1;
      http('events', b, true)
        .then((r) => (r.rejected || []).forEach((x) => warn('event refused: ' + x.error)))
        .then(0, (e) => (e.status < 500 && e.status !== 429 ? warn(e)
          : (unanswered = !e.status, e.after * 1e3 || 1e3 << Math.min(++failures, 6)) * (1 + Math.random())))
        .then((delay = 0) => {
          sending = 0;
          if (!delay) done(b), failures = unanswered = 0;
          wait = Date.now() + delay;
          flush();
        });
    }
  }

  return { http, query, chain, converse, connect, idle, track, flush };
})();
// Styles: the stylesheet of the shadow root (each part adds its own: the panel's, the survey's). Classes:
// .r the root, .pop a step (.hint a hint) with its arrow .ar, .ov/.ring the overlay and the highlight,
// .go the launcher, .cls/.cl the checklists; .busy on the root hides hints and the survey under a
// running tour; .off hides a sheet under another on a narrow screen (50-position.js). Stacking, low
// to high: hints, checklists and the survey; the overlay; the step; the launcher; the help panel.
// The host themes it through the --guide-* custom properties (docs/embed.md).
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
.busy .hint,.busy .sv,.off{display:none!important}
.pop,.pan,.cl,.sv{background:var(--bg);color:var(--fg);border-radius:var(--rad);box-shadow:0 10px 30px rgba(0,0,0,.22)}
.pop{position:fixed;z-index:3}
.pop{width:min(340px,calc(100vw - 24px));padding:16px 18px}
.hint{z-index:1;width:min(280px,calc(100vw - 24px));padding:12px 14px;border:1px solid var(--ln)}
h2{margin:0 28px 6px 0;font-size:16px;font-weight:600;line-height:1.4}
.b{max-height:calc(100vh - 150px);overflow:auto}.b p{margin:.4em 0}.b img{max-width:100%}
.f{display:flex;gap:8px;align-items:center;justify-content:flex-end;margin-top:12px}
.n{margin-right:auto;color:var(--mu);font-size:12px}
.btn{cursor:pointer;padding:6px 14px;border:1px solid var(--ln);border-radius:6px;background:transparent}
.pri{background:var(--a);border-color:var(--a);color:var(--at)}
.x{position:absolute;top:8px;right:8px;width:28px;height:28px;border:0;background:none;cursor:pointer;font-size:20px;line-height:1;color:var(--mu)}
.go{position:fixed;z-index:4;right:20px;bottom:20px;width:52px;height:52px;border-radius:50%;border:0;cursor:pointer;
background:var(--a);color:var(--at);font-size:24px;font-weight:700;box-shadow:0 4px 14px rgba(0,0,0,.25)}
[aria-pressed=true]{border-color:var(--a);background:#e8efff}
.ar{position:absolute;width:12px;height:12px;background:inherit;transform:rotate(45deg)}
[data-side=bottom] .ar{top:-6px;left:var(--ax)}[data-side=top] .ar{bottom:-6px;left:var(--ax)}
[data-side=right] .ar{left:-6px;top:var(--ay)}[data-side=left] .ar{right:-6px;top:var(--ay)}[data-side=center] .ar{display:none}
.cl>.x{top:6px;right:6px;width:24px;height:24px;font-size:16px}
.cls{position:fixed;z-index:1;left:20px;bottom:20px;width:min(300px,calc(100vw - 100px));display:flex;flex-direction:column;gap:8px}
.cl{padding:10px 14px;position:relative}.done>button{padding-right:26px}
.cl>button{display:flex;width:100%;gap:8px;border:0;background:none;padding:4px 0;cursor:pointer;font-weight:600;text-align:left}
.cl>button span{margin-left:auto;color:var(--mu);font-weight:400}
.bar{height:6px;border-radius:3px;background:var(--ln);overflow:hidden;margin:4px 0}
.bar i{display:block;height:100%;background:var(--a)}
.cl ul{list-style:none;margin:8px 0 0;padding:0}
.cl li{display:flex;gap:8px;align-items:center;padding:5px 0;border-top:1px solid var(--ln)}
.cl li span{flex:1}.cl .ok span{color:var(--mu);text-decoration:line-through}
.cl li .btn{padding:2px 10px;font-size:13px}
@media (max-width:480px){
.pop,.pan,.sv,.cls{left:0!important;right:0!important;top:auto!important;bottom:0!important;width:100%!important;max-height:70vh;border-radius:var(--rad) var(--rad) 0 0}
.b{max-height:50vh}.cls{gap:0;max-height:50vh;overflow:auto}.cl{border-radius:0}.ar{display:none}}
@media (prefers-reduced-motion:no-preference){.pop,.pan{animation:in .18s ease-out}
@keyframes in{from{opacity:0;transform:translateY(6px)}}}`;
// The shell: one <guide-widget> element with a shadow root, out of reach of the host's CSS, our
// stylesheets, and the "?" launcher of the help panel. Everything the widget draws goes in through add().
// Uses on (00-safety.js), config, tag (05-config.js), h (20-dom.js), CSS (40-styles.js);
// the launcher calls chat.toggle() (47-parts.js) when clicked.
const shell = (() => {
  let ui = null; // div.r in the shadow root: the parent of everything the widget draws
  let root = null; // the shadow root
  const shell = {
    host: null, // <guide-widget>, the one element the widget adds to the page
    launcher: null, // the "?" button, or null with data-chat="off"
    mount, attach, add, style,
    all: (sel) => [].slice.call(ui.querySelectorAll(sel)), // what the widget drew, by selector
    // a modal tour is on screen: hints and the survey hide under it (.busy in 40-styles.js)
    dim: (dimmed) => ui.classList.toggle('busy', dimmed),
  };

  function mount() {
    const host = (shell.host = d.createElement('guide-widget'));
    // Inline !important beats any host rule (even `* {all: unset}`); CSSOM writes are allowed under a strict CSP.
    // (outline and box-shadow: a host's :focus rule matches us while the focus is in our shadow root)
    ('position:fixed;top:0;left:0;right:auto;bottom:auto;width:0;height:0;margin:0;padding:0;border:0;overflow:visible;outline:0;box-shadow:none;' +
      'display:block;visibility:visible;opacity:1;transform:none;filter:none;z-index:2147483647;background:none;pointer-events:none')
      .split(';').forEach((p) => host.style.setProperty(p.split(':')[0], p.split(':')[1], 'important'));
    root = host.attachShadow({ mode: 'open' });
    style(CSS);
    ui = h('div', { class: 'r' });
    root.append(ui);
    if (config.chat !== 'off') {
      shell.launcher = h('button', { class: 'go', type: 'button', 'aria-expanded': 'false', onclick: () => chat.toggle() }, '?');
      ui.append(shell.launcher);
    }
    attach();
  }
  // Adds a stylesheet to the shadow root (ours, then each part's).
  function style(css) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = root.adoptedStyleSheets.concat(sheet);
    } catch (_) { // older browsers: a <style>, allowed by the script tag's nonce if the page uses one
      root.prepend(h('style', { nonce: tag && tag.nonce }, css));
    }
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
// Parts: what most pages never use is not in embed.js. The help panel (with the chat), the survey and
// the editor's tools are each a script of their own (guide_server/widget/js/<part>/), served at
// /embed/<part>.js and loaded the first time they are needed, by a <script> with the nonce of ours
// (and, under Trusted Types, our policy's URL). A part hands back what it exports through
// Guide._part(name, fn): fn gets the names of embed.js it uses (PARTS_USE, at the end of embed.js).
// A part that fails to load is asked for again next time.
// Uses warn (00-safety.js), API, tag (05-config.js), state.surveysEnded (10-state.js), tt (20-dom.js).
const parts = (() => {
  const loading = {}; // part name -> the promise of its exports
  const done = {}; // part name -> its resolve function while it loads
  const ready = {}; // part name -> its exports, once loaded

  function load(name) {
    return loading[name] || (loading[name] = new Promise((res, rej) => {
      const url = API + '/embed/' + name + '.js', s = d.createElement('script');
      done[name] = res;
      s.src = tt ? tt.createScriptURL(url) : url;
      s.async = true;
      if (tag && tag.nonce) s.nonce = tag.nonce;
      s.onerror = () => {
        delete loading[name];
        s.remove();
        rej(new Error('could not load ' + url));
      };
      (d.head || d.documentElement).append(s);
    }));
  }
  // called by the part's script
  function loaded(name, fn) {
    if (!done[name] || ready[name]) return;
    ready[name] = fn(PARTS_USE);
    done[name](ready[name]);
  }

  return {
    load, loaded,
    // the part's exports if it is loaded, else null: what works without it does not load it
    get: (name) => ready[name] || null,
    // calls `method` of the part with `args`, loading it first if needed; errors are warnings
    call: (name, method, args) => load(name).then((x) => x[method].apply(null, args || [])).catch(warn),
  };
})();

// The help panel and the survey as the rest of embed.js sees them, loaded or not.
const chat = {
  isOpen: () => !!parts.get('panel') && parts.get('panel').isOpen(),
  owns: (node) => !!parts.get('panel') && parts.get('panel').owns(node),
  open: (view) => parts.call('panel', 'open', [view]),
  toggle: () => parts.call('panel', 'toggle'),
  reset: () => parts.get('panel') && parts.get('panel').reset(),
};
const survey = {
  show: (sv) => sv && !state.surveysEnded[sv.id] && parts.call('survey', 'show', [sv]),
  reset() {
    state.surveysEnded = {};
    if (parts.get('survey')) parts.get('survey').reset();
  },
};
// Positioning: waiting for a target to appear, placing a step's popup beside its target (or in the
// centre), the overlay around the target, and placing everything again on scroll and resize.
// Uses safe, later (00-safety.js), state.runs (10-state.js), clamp, visible (20-dom.js);
// reflow() calls placeStep() (69-step-view.js) for every Run on screen.

// Calls back once `sel` has a visible match (with it), or, `gone`, once it has none (with null);
// with null after `ms` in any case. Returns a cancel function. Late targets, `trigger: {element}`
// and the `{appear}` / `{disappear}` ways on (ms: Infinity) wait this way.
function waitFor(sel, ms, cb, gone) {
  let mo = null, tm = null;
  const stop = () => { if (mo) mo.disconnect(); clearTimeout(tm) };
  const look = () => {
    let el = null;
    try { el = d.querySelector(sel) } catch (_) { /* a bad selector matches nothing */ }
    el = el && visible(el) ? el : null;
    if (!!el !== !!gone) { stop(); cb(el); return true }
  };
  if (look()) return stop;
  mo = new MutationObserver(safe(look));
  mo.observe(d.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['class', 'style', 'hidden', 'open'] });
  if (ms < Infinity) tm = later(() => { stop(); cb(null) }, ms);
  return stop;
}

// The popup on the wanted side of the target's rect `r` if it fits, else on a side that does;
// centred without a target. Always inside the viewport; its arrow (.ar) points at the target.
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
  x = clamp(x, 8, vw - W - 8);
  y = clamp(y, 8, vh - H - 8);
  pop.style.left = x + 'px';
  pop.style.top = y + 'px';
  pop.setAttribute('data-side', side);
  if (r) { // the arrow's place along the popup's edge: the target's middle, kept off the corners
    pop.style.setProperty('--ax', clamp(r.left + r.width / 2 - x - 6, 10, W - 22) + 'px');
    pop.style.setProperty('--ay', clamp(r.top + r.height / 2 - y - 6, 10, H - 22) + 'px');
  }
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

// On a narrow screen every part is a sheet at the bottom, and only one shows at a time, the first
// of: the help panel, the tour's step, a hint, the survey, the checklists; the launcher sits just
// above it, so it can always be reached. On a wide screen everything shows, in its own place.
const SHEETS = ['.pan', '.pop:not(.hint)', '.hint', '.sv', '.cls'];
function arrange() {
  const narrow = w.innerWidth <= 480, busy = !!state.tour;
  let top = null;
  SHEETS.forEach((sel) => shell.all(sel).forEach((el) => {
    const hidden = busy && /\b(hint|sv)\b/.test(el.className); // under a running tour anyway
    el.classList.toggle('off', narrow && !!top);
    if (!top && !hidden) top = el;
  }));
  if (shell.launcher) shell.launcher.style.bottom = (narrow && top ? top.offsetHeight + 12 : 20) + 'px';
}

// Everything on screen is placed again in the next frame (once, however many calls). Never throws,
// even where the host broke requestAnimationFrame: a tour that ends calls it on its way out.
let frame = 0;
const reflow = safe(() => {
  if (!frame) frame = requestAnimationFrame(safe(() => { frame = 0; state.runs.forEach(placeStep); arrange() }));
});
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
    h('button', { class: 'btn pri', type: 'button', onclick: () => { run.via = 'button'; run.show(run.i + 1, 1) } },
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
  h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: () => run.end('dismissed') }, '×'),
  el && h('i', { class: 'ar', 'aria-hidden': 'true' }));
  return { pop, next };
}
// The keyboard and the focus during a tour: Escape closes it, → and ← move to the next and previous
// step (not while typing in a field), Tab stays inside the step (its controls, its target and the
// help launcher), and the focus goes back where it was when the tour ends.
// Uses FOCUSABLE, visible, deepActive (20-dom.js), shell.launcher (45-shell.js), chat.owns (55-chat.js);
// drives a Run (70-run.js).

// The keydown listener of a modal Run (on document, capture phase, while the tour runs).
const stepKeys = (run) => (e) => {
  // the chat may be open above a tour (to ask about this step): its keys are its own
  if (!run.pop || chat.owns(e.composedPath()[0])) return;
  const k = e.key, el = e.composedPath()[0] || {};
  const typing = typingIn(el);
  if (k === 'Escape') { e.preventDefault(); run.end('dismissed') }
  else if (k === 'Tab') trapTab(e, run.pop, run.el, shell.launcher);
  else if (typing) return;
  else if (k === 'ArrowRight' && run.nextBtn) { e.preventDefault(); run.via = 'button'; run.show(run.i + 1, 1) }
  else if (k === 'ArrowLeft' && run.i > 0) { e.preventDefault(); run.show(run.i - 1, -1) }
};

// Tab and Shift+Tab cycle through the popup's controls, the target's and the launcher, nothing else.
function trapTab(e, pop, target, launcher) {
  const list = [].slice.call(pop.querySelectorAll(FOCUSABLE))
    .concat(target ? [target].concat([].slice.call(target.querySelectorAll(FOCUSABLE))).filter((x) => x.matches(FOCUSABLE) && visible(x)) : [])
    .concat(launcher && visible(launcher) ? [launcher] : []);
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
  if (state.preview) return; // an editor's preview changes nobody's progress
  const tour = run.tour, body = { tour: tour.id, version: tour.version, step: run.i, status, url: pageUrl(), event, locale: locale() };
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
  // rage clicks: 3 within a second, within 30 px, anywhere but on the widget's own controls; reported
  // at the third click, with the tour step on screen then, and the page's element under the pointer
  // (not the overlay of the tour that dims it); once a burst
  let taps = [];
  on(d, 'click', (e) => {
    let el = e.composedPath()[0];
    const now = Date.now(), ours = e.target === shell.host;
    if (!e.detail || !el.tagName || (ours && el.closest('button,a,input,textarea'))) return; // keys, not clicks
    taps = taps.filter((p) => now - p[0] < 1000 && Math.hypot(p[1] - e.clientX, p[2] - e.clientY) < 30).concat([[now, e.clientX, e.clientY]]);
    if (taps.length !== 3) return;
    if (ours) el = d.elementsFromPoint(e.clientX, e.clientY).filter((x) => x !== shell.host && x !== d.documentElement)[0] || el;
    const sel = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.classList[0] ? '.' + el.classList[0] : '');
    track('rage_click', during(), { count: 3, selector: sel.slice(0, 200) });
  }, true);
}
// A step on screen: its popup beside the target (or centred), the overlay around the target for a
// tour, following the target when the page scrolls, resizes or re-renders it, and what moves the
// step on (the user's click, typing or submit; an element appearing or going; an app event).
// hideStep() takes all of it away again.
// Uses on, safe, later (00-safety.js), h, motion (20-dom.js), emit (25-host-events.js), shell (45-shell.js),
// position, cover, reflow (50-position.js), stepPopup (65-step-popup.js), stepVisited, watchIdle
// (68-signals.js); works on a Run (70-run.js).

// Shows step `s` of `run` (advance `adv`) beside its target `el` (null: centred). waiting: shown in the
// centre while its target is late (70-run.js): not yet a visit (no step_shown, idle, tour:step, focus).
function showStep(run, s, adv, el, waiting) {
  const fresh = !waiting && run.shown !== run.i; // a new visit of this step (showing it again after a re-render is not)
  run.el = el;
  if (fresh) {
    run.shown = run.i;
    run.untold = 1; // tour:step / hint:show is still to be sent for this visit
    stepVisited(run);
  }
  if (!waiting) watchIdle(run, s);
  const p = stepPopup(run, s, adv, el);
  run.pop = p.pop;
  run.nextBtn = p.next;
  if (!run.modal) run.stepOff.push(on(run.pop, 'keydown', (e) => e.key === 'Escape' && run.end('dismissed')));
  if (el) followTarget(run, el);
  watchAdvance(run, adv, el);
  if (run.modal) { // hints wait under a running tour
    run.ov = [0, 1, 2, 3, 4].map((k) => h('div', { class: k < 4 ? 'ov' : 'ring' }));
    shell.add.apply(null, run.ov);
    shell.dim(true);
  }
  shell.add(run.pop);
  placeStep(run);
  if (!run.pop) return; // the target was re-rendered meanwhile (a router's new view): shown again for it
  reflow(); // the other sheets, on a narrow screen
  // A new step takes the focus (showing it again does not), unless the user is typing in the page:
  // the next keys they press go where they were going.
  if (run.modal && !waiting && run.focused !== run.i) {
    run.focused = run.i;
    if (!typingIn(deepActive())) run.pop.focus({ preventScroll: true });
  }
  if (run.untold) {
    run.untold = 0;
    emit(run.modal ? 'tour:step' : 'hint:show', run.ctx(run.i));
  }
}

// The target: scrolled into view, and watched for size changes.
function followTarget(run, el) {
  const r = el.getBoundingClientRect();
  if (r.bottom < 0 || r.top > w.innerHeight || r.right < 0 || r.left > w.innerWidth) {
    el.scrollIntoView({ block: 'center', inline: 'nearest', behavior: motion() ? 'smooth' : 'auto' });
  }
  if (w.ResizeObserver) {
    run.ro = new ResizeObserver(safe(reflow)); // reflow only schedules a frame: no observer loop errors
    run.ro.observe(el, { box: 'border-box' });
  }
}

// What moves the step on, besides its button. click: on the target (on the last step it completes
// the tour); submit: the target's form (the target, or the form holding it), once its fields are
// valid, else Enter in the target; input: once the user has finished typing: Enter, leaving the
// field, or 1.5 s without a key, never during an IME composition; appear / disappear: an element;
// event: the app's Guide('track', name) (70-run.js, tracked()). The url way is 70-run.js's.
function watchAdvance(run, adv, el) {
  const inside = (e) => !!el && e.composedPath().indexOf(el) >= 0, next = () => run.show(run.i + 1, 1), off = run.stepOff;
  const type = adv.type;
  if (type === 'click') off.push(on(d, 'click', (e) => inside(e) && next(), true));
  if (type === 'submit' && el) {
    const form = el.form || (el.closest && el.closest('form'));
    if (form) off.push(on(d, 'submit', (e) => e.target === form && form.checkValidity() && next(), true));
    else off.push(on(d, 'keydown', (e) => e.key === 'Enter' && !e.isComposing && e.keyCode !== 229 && inside(e) && next(), true));
  }
  if (type === 'input' && el) {
    let tm = 0, composing = 0;
    const done = () => { clearTimeout(tm); if (!composing) next() };
    const quiet = () => { clearTimeout(tm); tm = later(() => !composing && el.value !== '' && done(), 1500) };
    off.push(
      on(d, 'compositionstart', (e) => { if (inside(e)) { composing = 1; clearTimeout(tm) } }, true),
      on(d, 'compositionend', (e) => { if (inside(e)) { composing = 0; quiet() } }, true),
      on(d, 'input', (e) => inside(e) && !e.isComposing && !composing && quiet(), true),
      on(d, 'keydown', (e) => e.key === 'Enter' && !e.isComposing && e.keyCode !== 229 && inside(e) && done(), true),
      on(d, 'change', (e) => inside(e) && done(), true),
      () => clearTimeout(tm));
  }
  if (type === 'appear') off.push(waitFor(adv.selector, Infinity, next));
  if (type === 'disappear') off.push(waitFor(adv.selector, Infinity, next, 1));
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
  if (run.ov) shell.dim(false);
  reflow(); // the hints that waited under the tour, the sheets of a narrow screen
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
    // a tour is completed when the user saw every step: one skipped (its target missing) is not
    if (i >= steps.length) return this.end(this.skipped ? 'dismissed' : 'completed', this.skipped);
    this.via = null; // how the step before was left (65-step-popup.js): a new step starts unmarked
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
      let found = 0, early = 0;
      const done = (x) => { found = 1; clearTimeout(early); res(x) };
      const stop = waitFor(s.target, s.wait == null ? 3000 : s.wait, done);
      // a tour's step whose target is late shows in the centre meanwhile (with its Next), not nothing
      if (!found && this.modal) early = later(() => token === this.token && !this.pop && showStep(this, s, { type: 'next' }, null, 1), 600);
      this.cancel = () => { stop(); done(null) };
    }) : null;
    if (token !== this.token || this.dead) return; // a newer step or the end came first
    if (this.pop) hideStep(this); // shown in the centre while waiting
    if (s.target && !el) {
      const action = s.missing || 'skip', event = { type: 'target_missing', step_id: s.id, action };
      missing(this, s, action);
      if (action === 'abort') return this.end('dismissed', event);
      saveProgress(this, 'active', event);
      if (action === 'skip') {
        this.skipped = event;
        const way = i + dir < 0 ? 1 : dir; // going back past a missing first step turns forward
        return this.show(i + way, way);
      }
    }
    showStep(this, s, adv, el);
  }

  // The app tracked an event (Guide('track', name)): the step waiting for it moves on.
  tracked(name) {
    const adv = (this.step() || {}).advance || {};
    if (this.pop && adv.type === 'event' && adv.name === name) this.show(this.i + 1, 1);
  }

  // The page changed (pushState, popstate, a hash route): advance, hide or show again.
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
      // tour_completed, tour_dismissed; a hint done says how: its OK (button) or what its step asked (action)
      track('tour_' + status, this.ctx(this.i), !this.modal && status === 'completed' ? { via: this.via || 'action' } : undefined);
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

// A step's target is missing: a console warning naming tour, step and selector (and whether the
// selector is not even valid), and a target_missing event once per tab and step.
function missing(run, s, action) {
  let bad = '';
  try { d.querySelector(s.target) } catch (_) { bad = ' (not a valid CSS selector)' }
  note('tour "' + run.tour.id + '", step "' + s.id + '": nothing on the page matches ' + JSON.stringify(s.target) + bad + '; ' + action);
  if (firstInTab('m ' + run.tour.id + ' ' + s.id)) track('target_missing', run.ctx(run.i), { action });
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
// tasks and their "show me" tours. A task once done stays done. A completed checklist folds, and the
// user may hide it. A task may be done by a click or a submit on the page (done_when {click} /
// {submit}): watched here, and sent as the app event the server named for it (appEvent).
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
    const focusKey = panel && panel.contains(deepActive()) && deepActive().getAttribute('data-k'), had = !!panel;
    if (panel) panel.remove();
    panel = null;
    const gone = local().gone || [];
    cls = cls.filter((c) => gone.indexOf(c.id) < 0);
    if (!cls.length) return had && reflow();
    panel = h('div', { class: 'cls' }, cls.map((c) => {
      const open = !!local().open && !c.completed;
      const pct = c.total ? Math.round((100 * c.done) / c.total) : 0;
      const fill = h('i');
      fill.style.width = pct + '%';
      return h('section', { class: c.completed ? 'cl done' : 'cl', 'aria-label': c.title },
        h('button', { type: 'button', 'aria-expanded': String(open), 'data-k': 'toggle', onclick: () => { local({ open: !open }); update(state.checklists) } },
          (c.completed ? '✓ ' : '') + c.title, h('span', null, c.completed ? t('allDone') : c.done + ' / ' + c.total)),
        c.completed && h('button', { class: 'x', type: 'button', 'aria-label': t('hide'), 'data-k': 'hide', onclick: () => { local({ gone: gone.concat(c.id) }); update(state.checklists) } }, '×'),
        h('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': String(c.total), 'aria-valuenow': String(c.done), 'aria-label': c.title }, fill),
        open && h('ul', null, (c.tasks || []).map((task) => h('li', { class: task.done ? 'ok' : null },
          h('span', null, (task.done ? '✓ ' : '') + task.title),
          !task.done && task.tour && h('button', { class: 'btn', type: 'button', 'data-k': 'show-' + task.id, onclick: () => { local({ open: false }); update(state.checklists); startTour(task.tour) } }, t('show'))))),
      );
    }));
    shell.add(panel);
    reflow(); // a narrow screen shows one sheet at a time
    // keep the keyboard user's place across the redraw ("show me" folds the panel: back to its button)
    const prev = focusKey && (panel.querySelector('[data-k="' + focusKey + '"]') || panel.querySelector('[data-k=toggle]'));
    if (prev) prev.focus({ preventScroll: true });
  }

  // done_when {click} / {submit}: the user did it on the page
  const did = (type) => (e) => state.checklists.forEach((c) => c.tasks.forEach((task) => {
    const x = task.when;
    if (task.done || !x || x.type !== type) return;
    if (e.composedPath().some((n) => { try { return n.matches && n.matches(x.selector) } catch (_) { return false } })) appEvent(x.event);
  }));
  on(d, 'click', did('click'), true);
  on(d, 'submit', did('submit'), true);

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

// An app event: Guide('track', name, props), or a click or submit a task watches. The step waiting for
// it moves on (70-run.js), and the server ticks the tasks it completes.
function appEvent(name, props) {
  state.runs.forEach((r) => r.tracked(name));
  chain(() => http('track', { user: state.user || undefined, name, props: props || {}, url: pageUrl(), locale: locale() })
    .then((r) => checklists.update(r.checklists, true)));
}
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
    const q = { url: pageUrl(), locale: pageLocale(), user: state.user }; // no locale: the server's choice
    if (!state.user) {
      Object.assign(q, { traits: state.traits && JSON.stringify(state.traits), done: (v.done || []).join(','),
        dismissed: (v.dismissed || []).join(','), tasks: (v.tasks || []).join(',') });
    }
    const data = await http('tours' + query(q));
    state.siteLocale = data.locale;
    const lang = locale();
    const tours = data.tours || [], byId = {};
    tours.forEach((x) => (byId[x.id] = x));
    state.support = data.support || state.support;
    state.library = data.library || [];
    checklists.update(data.checklists);
    if (shell.launcher) shell.launcher.setAttribute('aria-label', t('help'));
    if (chat.isOpen()) parts.get('panel').relabel(); // the language may have changed
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
    if (cur && run.lang !== lang) { // the locale changed: the same step, in the new language
      run.lang = lang;
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
  let lastUrl = location.pathname + location.search + route();
  const navigated = () => {
    const now = location.pathname + location.search + route();
    if (now === lastUrl) return; // replaceState with the same URL, an anchor
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
    on(w, 'hashchange', navigated); // hash routes
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
  // identify({id, token, traits, locale}); identify(id, traits) is taken too
  identify(o, traits) {
    o = o != null && typeof o !== 'object' ? { id: o, traits } : o || {};
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
  'open-chat': () => chat.open('chat'),
  'open-help': () => chat.open(),
  // an editor's preview of a tour, hint or checklist, whatever its targeting (docs/tours.md)
  preview: (id) => parts.call('editor', 'start', [id]),
  track(name, props) {
    if (typeof name !== 'string' || !name) throw new Error('track: give an event name');
    appEvent(name, props);
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
Guide._part = parts.loaded; // how a part hands over what it exports (47-parts.js)
w.Guide = Guide;

safe(() => {
  if (!SITE) throw new Error('data-site is missing on the embed.js script tag');
  state.traits = local().traits || null;
  shell.mount();
  watchHistory();
  // the page's language changes (an app's own language switch): every part follows
  new MutationObserver(safe(kick)).observe(d.documentElement, { attributes: true, attributeFilter: ['lang'] });
  on(d, 'scroll', reflow, { capture: true, passive: true }); // capture: scrolls in nested containers too
  on(w, 'resize', reflow);
  watchPage(); // its pagehide listener (page_left) comes before the beacons below
  // the page goes away (or to the background): pending events leave by beacon
  on(w, 'pagehide', () => flush(1));
  on(d, 'visibilitychange', () => d.hidden && flush(1));
  [].forEach.call(queued, (args) => Guide.apply(null, args));
  emit('ready', { site: SITE });
  // an editor's preview link, or the preview this tab is in: the editor part first, then the page's tours (docs/tours.md)
  let pv = /[?&]guide_preview=/.test(location.search);
  try { pv = pv || !!sessionStorage[KEY + ':preview'] } catch (_) { /* blocked */ }
  if (pv) chain(() => parts.call('editor', 'boot'));
  kick();
})();

const PARTS_USE = { API, CSS, KEY, SITE, STRINGS, anonId, checklists, connect, converse, deepActive, during, emit, flush, h, hints, http, idle, kick, later, listen, local, locale, nextId, note, on, pageUrl, parts, query, reflow, runTour, safeUrl, shell, startTour, state, survey, t, track, visible };
})(window, document);
