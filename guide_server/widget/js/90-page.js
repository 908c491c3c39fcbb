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
