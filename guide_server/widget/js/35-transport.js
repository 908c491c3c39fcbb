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
