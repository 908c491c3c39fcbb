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
