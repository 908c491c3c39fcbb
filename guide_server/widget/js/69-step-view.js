// A step on screen: its popup beside the target (or centred), the overlay around the target for a
// tour, following the target when the page scrolls, resizes or re-renders it, and what moves the
// step on (the user's click, typing or submit; an element appearing or going; an app event).
// hideStep() takes all of it away again.
// Uses on, safe, later (00-safety.js), h, motion (20-dom.js), emit (25-host-events.js), shell (45-shell.js),
// position, cover, reflow (50-position.js), stepPopup (65-step-popup.js), stepVisited, watchIdle
// (68-signals.js); works on a Run (70-run.js).

// Shows step `s` of `run` (advance `adv`) beside its target `el` (null: centred). waiting: shown in the
// centre while its target is late (70-run.js): not yet a visit (no step_shown, idle, tour:step, focus).
function showStep(run, s, adv, el, waiting) {
  const fresh = !waiting && run.shown !== run.i; // a new visit of this step (showing it again after a re-render is not)
  run.el = el;
  if (fresh) {
    run.shown = run.i;
    run.untold = 1; // tour:step / hint:show is still to be sent for this visit
    stepVisited(run);
  }
  if (!waiting) watchIdle(run, s);
  const p = stepPopup(run, s, adv, el);
  run.pop = p.pop;
  run.nextBtn = p.next;
  if (!run.modal) run.stepOff.push(on(run.pop, 'keydown', (e) => e.key === 'Escape' && run.end('dismissed')));
  if (el) followTarget(run, el);
  watchAdvance(run, adv, el);
  if (run.modal) { // hints wait under a running tour
    run.ov = [0, 1, 2, 3, 4].map((k) => h('div', { class: k < 4 ? 'ov' : 'ring' }));
    shell.add.apply(null, run.ov);
    shell.dim(true);
  }
  shell.add(run.pop);
  placeStep(run);
  if (!run.pop) return; // the target was re-rendered meanwhile (a router's new view): shown again for it
  reflow(); // the other sheets, on a narrow screen
  // A new step takes the focus (showing it again does not), unless the user is typing in the page:
  // the next keys they press go where they were going.
  if (run.modal && !waiting && run.focused !== run.i) {
    run.focused = run.i;
    if (!typingIn(deepActive())) run.pop.focus({ preventScroll: true });
  }
  if (run.untold) {
    run.untold = 0;
    emit(run.modal ? 'tour:step' : 'hint:show', run.ctx(run.i));
  }
}

// The target: scrolled into view, and watched for size changes.
function followTarget(run, el) {
  const r = el.getBoundingClientRect();
  if (r.bottom < 0 || r.top > w.innerHeight || r.right < 0 || r.left > w.innerWidth) {
    el.scrollIntoView({ block: 'center', inline: 'nearest', behavior: motion() ? 'smooth' : 'auto' });
  }
  if (w.ResizeObserver) {
    run.ro = new ResizeObserver(safe(reflow)); // reflow only schedules a frame: no observer loop errors
    run.ro.observe(el, { box: 'border-box' });
  }
}

// What moves the step on, besides its button. click: on the target (on the last step it completes
// the tour); submit: the target's form (the target, or the form holding it), once its fields are
// valid, else Enter in the target; input: once the user has finished typing: Enter, leaving the
// field, or 1.5 s without a key, never during an IME composition; appear / disappear: an element;
// event: the app's Guide('track', name) (70-run.js, tracked()). The url way is 70-run.js's.
function watchAdvance(run, adv, el) {
  const inside = (e) => !!el && e.composedPath().indexOf(el) >= 0, next = () => run.show(run.i + 1, 1), off = run.stepOff;
  const type = adv.type;
  if (type === 'click') off.push(on(d, 'click', (e) => inside(e) && next(), true));
  if (type === 'submit' && el) {
    const form = el.form || (el.closest && el.closest('form'));
    if (form) off.push(on(d, 'submit', (e) => e.target === form && form.checkValidity() && next(), true));
    else off.push(on(d, 'keydown', (e) => e.key === 'Enter' && !e.isComposing && e.keyCode !== 229 && inside(e) && next(), true));
  }
  if (type === 'input' && el) {
    let tm = 0, composing = 0;
    const done = () => { clearTimeout(tm); if (!composing) next() };
    const quiet = () => { clearTimeout(tm); tm = later(() => !composing && el.value !== '' && done(), 1500) };
    off.push(
      on(d, 'compositionstart', (e) => { if (inside(e)) { composing = 1; clearTimeout(tm) } }, true),
      on(d, 'compositionend', (e) => { if (inside(e)) { composing = 0; quiet() } }, true),
      on(d, 'input', (e) => inside(e) && !e.isComposing && !composing && quiet(), true),
      on(d, 'keydown', (e) => e.key === 'Enter' && !e.isComposing && e.keyCode !== 229 && inside(e) && done(), true),
      on(d, 'change', (e) => inside(e) && done(), true),
      () => clearTimeout(tm));
  }
  if (type === 'appear') off.push(waitFor(adv.selector, Infinity, next));
  if (type === 'disappear') off.push(waitFor(adv.selector, Infinity, next, 1));
}

// Follows the target on scroll and resize; never touches focus.
function placeStep(run) {
  if (!run.pop) return;
  if (run.el && !run.el.isConnected) return run.show(run.i, 1); // re-rendered by the host: find it again
  const r = run.el ? run.el.getBoundingClientRect() : null;
  if (run.ov) cover(run.ov, r);
  position(run.pop, r, run.step().placement);
}

// Takes the step off the screen: its listeners and timers, popup and overlay.
function hideStep(run) {
  run.stepOff.forEach((f) => f());
  run.stepOff = [];
  if (run.ro) run.ro.disconnect();
  if (run.ov) shell.dim(false);
  reflow(); // the hints that waited under the tour, the sheets of a narrow screen
  (run.ov || []).concat(run.pop || []).forEach((x) => x.remove());
  run.pop = run.ov = run.ro = run.el = null;
}
