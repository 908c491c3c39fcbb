// Preview: an editor sees one tour, hint or checklist (a draft too) on the real page, whatever its
// targeting and frequency, and nothing is recorded (state.preview: track() and saveProgress() stop).
// The review desk's link carries guide_preview=<id>.<token> (docs/tours.md); at load (embed.js asks
// boot() before this page's first look at its tours) it goes to sessionStorage, so the tab keeps the
// preview across the app's navigations and reloads, and leaves the visible URL. While it lasts the
// page's own tours, hints, checklists and survey wait: the shared objects below are wrapped once.
// Uses note (00-safety.js), KEY, SITE, API (05-config.js), state (10-state.js), t, locale (15-strings.js),
// h (20-dom.js), listen (25-host-events.js), local (30-storage.js), http, query (35-transport.js), shell (45-shell.js),
// survey (47-parts.js), runTour (70-run.js), hints (75-hints.js), checklists (80-checklist.js),
// kick (90-page.js); picker (40-picker.js).
const STORE = KEY + ':preview'; // sessionStorage: {id, token, step}
const LINK = /^(.+?)\.(\.?[\w-]+\.[\w-]+)$/; // <id>.<token>: the token is <payload>.<signature> (guide_server/web/preview.py)

const preview = (() => {
  let item = null; // the previewed tour or checklist as the server sent it
  let lang = null; // the locale it was asked in
  let bar = null; // the banner
  let wrapped = false;

  const saved = () => {
    try { return JSON.parse(sessionStorage[STORE] || 'null') } catch (_) { return null }
  };
  const save = (v) => {
    try { v ? (sessionStorage[STORE] = JSON.stringify(v)) : sessionStorage.removeItem(STORE) } catch (_) { /* blocked */ }
  };

  // guide_preview=... taken out of the address bar, the rest of the query and the hash left as they were
  function fromUrl() {
    const parts = location.search.slice(1).split('&');
    const mine = parts.filter((p) => p.split('=')[0] === 'guide_preview');
    if (!mine.length) return null;
    const rest = parts.filter((p) => p && mine.indexOf(p) < 0).join('&');
    history.replaceState(history.state, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
    let v = mine[mine.length - 1].slice('guide_preview='.length);
    try { v = decodeURIComponent(v) } catch (_) { /* as it is */ }
    const m = LINK.exec(v);
    return m && { id: m[1], token: m[2] };
  }

  // At load: a preview link, else the preview this tab was in (from its step).
  function boot() {
    const link = fromUrl();
    if (link) save({ id: link.id, token: link.token, step: 0 });
    const p = saved();
    if (p && p.id && p.token) return open(p.id, p.token, (!link && p.step) || 0);
  }

  // Guide('preview', id): with this tab's token for that id; else say where a token comes from.
  function start(id) {
    if (typeof id !== 'string' || !id) throw new Error('preview: give a tour id');
    const p = saved();
    if (p && p.id === id && p.token) return open(id, p.token, 0);
    note('no preview token for "' + id + '" in this tab: open the preview from the review desk (' + API + '/admin/tours)');
    banner(id, t('noToken'), true);
  }

  async function open(id, token, step) {
    wrap();
    picker.stop();
    state.preview = { id, token };
    state.runs.forEach((r) => r.end(null)); // the page's own tours and hints make way
    banner(id);
    try {
      lang = locale();
      item = await http('preview/' + encodeURIComponent(id) + query({ token, locale: locale() }));
    } catch (e) {
      const why = e.status === 401 ? 'expired' : e.status === 403 ? 'otherItem' : 'failed';
      leave();
      return banner(id, t(why), true);
    }
    if (!state.preview || state.preview.id !== id) return; // exited meanwhile
    banner(id);
    show(step);
  }

  function show(step) {
    if (item.tasks) return checklists.update([item]); // through wrap(): only this list is drawn
    state.runs.forEach((r) => r.tour.id === item.id && r.end(null));
    runTour(item, Math.min(step || 0, (item.steps || []).length - 1));
  }

  // Restart: the item asked again (a file just edited shows as it is now), from its first step.
  function restart() {
    const p = state.preview;
    if (p) open(p.id, p.token, 0);
  }

  // Preview mode ends: what it showed goes, the page's own guidance comes back.
  function leave() {
    const p = state.preview;
    picker.stop();
    save(null);
    state.preview = null;
    if (p) state.runs.forEach((r) => r.tour.id === p.id && r.end(null));
    if (item && item.tasks) {
      forget(item);
      checklists.update([]);
    }
    item = null;
  }
  function exit() {
    leave();
    if (bar) bar.remove();
    bar = null;
    kick();
  }

  // The banner: what is previewed, Restart, Pick an element, Exit; or a message (and the desk's link).
  function banner(id, message, failed) {
    if (bar) bar.remove();
    const title = item && item.id === id && item.title;
    bar = h('div', { class: 'pv-bar', role: 'region', 'aria-label': t('previewing') },
      h('span', null, t('previewing') + ': '), h('b', { title: id }, title || id),
      message && h('span', { class: 'pv-msg', role: 'status' }, message),
      failed && h('a', { href: API + '/admin/tours?site=' + encodeURIComponent(SITE), target: '_blank', rel: 'noopener' }, t('fromDesk')),
      !failed && h('button', { class: 'btn', type: 'button', 'data-pv': 'restart', onclick: restart }, t('restart')),
      !failed && h('button', { class: 'btn', type: 'button', 'data-pv': 'pick', 'aria-pressed': 'false', onclick: () => picker.toggle() }, t('pickEl')),
      h('button', { class: 'btn', type: 'button', 'data-pv': 'exit', onclick: exit }, failed ? t('close') : t('exit')));
    shell.add(bar);
  }
  const pressed = (on) => bar && bar.querySelector('[data-pv=pick]') && bar.querySelector('[data-pv=pick]').setAttribute('aria-pressed', String(on));

  // A previewed checklist is marked nowhere: the browser forgets its tasks and "reported" marks.
  function forget(c) {
    const mine = (k) => k.indexOf(c.id + ':') === 0 || /^[^:]*:[stc]/.test(k) && k.replace(/^[^:]*:[stc]/, '').split(':')[0] === c.id;
    const v = local();
    local({ tasks: (v.tasks || []).filter((k) => !mine(k)), rp: (v.rp || []).filter((k) => !mine(k)) });
    state.milestones = null;
  }

  // What the page does by itself waits while a preview is on: the wrappers ask state.preview at each call.
  function wrap() {
    if (wrapped) return;
    wrapped = true;
    const allowed = (id) => {
      const p = state.preview;
      return !p || id === p.id || !!(item && item.tasks && item.tasks.some((x) => x.tour === id)); // a checklist's "show me"
    };
    const hintShow = hints.show, hintKeep = hints.keep, update = checklists.update, surveyShow = survey.show;
    hints.show = (tour, step, resumed) => allowed(tour.id) && hintShow(tour, step, resumed);
    hints.keep = (byId) => hintKeep(state.preview ? Object.assign({ [state.preview.id]: 1 }, byId) : byId);
    survey.show = (sv) => !state.preview && surveyShow(sv);
    checklists.update = (cls, merge) => {
      if (!state.preview) return update(cls, merge);
      if (merge) return; // an answer about the user's own lists
      // the page's tours were asked again: in another language, the item and the banner follow (same step)
      if (item && lang !== locale()) {
        const run = state.runs.size && [...state.runs].filter((r) => r.tour.id === item.id)[0];
        return open(state.preview.id, state.preview.token, run ? run.i : 0);
      }
      const mine = item && item.tasks ? [item] : [];
      update(mine);
      mine.forEach(forget);
    };
    // a tour that starts by itself (autostart, a trigger, a resumed one) ends at once, unseen and unsaved
    listen('tour:start', (x) => state.tour && !allowed(x.tour) && state.tour.tour.id === x.tour && state.tour.end(null));
    // the step a reload comes back to
    listen('tour:step', (x) => {
      const p = saved();
      if (state.preview && p && p.id === x.tour) save(Object.assign(p, { step: x.step_index || 0 }));
    });
  }

  return { boot, start, exit, restart, pressed };
})();
