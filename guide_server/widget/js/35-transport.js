// Transport and queues: JSON over HTTP; the queue of commands that talk to the server; the chat's
// WebSocket (HTTP when the socket is not available); and the queue of events for the review desk
// (POST /events): sent in batches in the background, and sent again until the server acknowledges
// them. Each event has its own id, so a batch sent twice is stored once.
// Uses warn, on, later (00-safety.js), SITE, API (05-config.js), state (10-state.js), pageUrl (20-dom.js),
// hold (25-host-events.js), randomId, TAB, anonId (30-storage.js).
const { http, query, chain, converse, track, flush } = (() => {
  // HTTP: text/plain keeps cross-origin POSTs "simple" (no preflight). Always a promise, even when
  // the host's fetch throws: a caller (Guide('reset')) never stops half-way.
  function http(path, body, keepalive) {
    const init = { credentials: 'omit' };
    if (body) {
      init.method = 'POST';
      init.body = JSON.stringify(Object.assign({ site: SITE }, body));
      init.headers = { 'Content-Type': 'text/plain;charset=UTF-8' };
      init.keepalive = !!keepalive; // progress must survive a click that leaves the page
    }
    return new Promise((res) => res(w.fetch(API + '/api/v1/' + path, init)))
      .then((r) => (r.ok ? r.json() : Promise.reject(Object.assign(new Error(path + ': HTTP ' + r.status), { status: r.status }))));
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

  // The chat's WebSocket: opened on the first question; a socket that never opened means HTTP from then on.
  let socket = null, socketDead = false, lastMessage = 0, replies = {}; // message id -> [resolve, reject]
  function viaSocket(msg) {
    return new Promise((res, rej) => {
      if (socketDead) throw new Error('no socket');
      if (!socket || socket.readyState > 1) {
        const s = (socket = new WebSocket(API.replace(/^http/, 'ws') + '/ws/chat?site=' + encodeURIComponent(SITE)));
        let opened = false;
        on(s, 'open', () => (opened = true));
        on(s, 'message', (e) => {
          const m = JSON.parse(e.data), p = replies[m.id];
          delete replies[m.id];
          if (p) m.type === 'error' ? p[1](new Error(m.error.message)) : p[0](m);
        });
        on(s, 'close', () => {
          if (!opened) socketDead = true; // blocked or not served: use HTTP from now on
          for (const k in replies) replies[k][1](new Error('socket closed'));
          replies = {};
        });
      }
      const id = ++lastMessage, send = () => socket.send(JSON.stringify(Object.assign(msg, { id })));
      replies[id] = [res, rej];
      if (socket.readyState === 1) send();
      else on(socket, 'open', send);
      later(() => { if (replies[id]) { delete replies[id]; rej(new Error('timeout')) } }, 15000);
    });
  }
  // ask or feedback: over the socket, else POST /ask or /feedback
  const converse = (type, body) => viaSocket(Object.assign({ type }, body)).catch(() => http(type, body));

  // The review desk's events.
  let queue = []; // events not yet in a batch
  let batches = []; // sealed batches not yet acknowledged, oldest first (at most 20)
  let sending = 0; // 1 while a batch is on its way
  let failures = 0; // batches failed in a row: the next try waits longer
  let flushTimer = 0;
  // ctx: the tour, version, step and step_index the event is about (or nothing)
  function track(type, ctx, props) {
    queue.push(Object.assign({ id: randomId(), type, at: Date.now(), url: pageUrl() }, ctx, props && { props }));
    if (queue.length > 19) flush();
    else if (!flushTimer) flushTimer = later(flush, 3000);
  }
  // Seals the queue into batches under the current person, then sends the oldest batch; beacon (the page
  // is going away): hands every batch to the browser. A network error or a 5xx keeps the batch for later.
  function flush(beacon) {
    clearTimeout(flushTimer);
    flushTimer = 0;
    while (queue.length) batches.push({ user: state.user || undefined, anon: state.user ? undefined : anonId(), session: TAB, events: queue.splice(0, 50) });
    batches = batches.slice(-20); // offline for long: the newest are kept
    if (beacon) batches = batches.filter((b) => !navigator.sendBeacon(API + '/api/v1/events', JSON.stringify(Object.assign({ site: SITE }, b))));
    const b = batches[0];
    if (!b || sending) return;
    const sent = http('events', b, true);
    sending = 1;
    sent.then(() => 1, (e) => e.status < 500 && e.status !== 429 && (warn(e), 1)).then((done) => {
      sending = 0;
      if (done) batches = batches.filter((x) => x !== b);
      failures = done ? 0 : failures + 1;
      if (batches.length) flushTimer = later(flush, done ? 0 : 1500 << Math.min(failures, 5));
    });
  }

  return { http, query, chain, converse, track, flush };
})();
