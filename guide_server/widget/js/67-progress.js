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
