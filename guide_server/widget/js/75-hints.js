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
