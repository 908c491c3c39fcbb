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
