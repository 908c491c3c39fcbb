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
