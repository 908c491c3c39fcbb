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
