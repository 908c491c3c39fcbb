// A step on screen: its popup beside the target (or centred), the overlay around the target for a
// tour, following the target when the page scrolls, resizes or re-renders it, and the click or
// typing that moves a step on. hideStep() takes all of it away again.
// Uses on, safe, later (00-safety.js), h, motion (20-dom.js), emit (25-host-events.js), shell (45-shell.js),
// position, cover, reflow (50-position.js), stepPopup (65-step-popup.js), stepVisited, watchIdle
// (68-signals.js); works on a Run (70-run.js).

// Shows step `s` of `run` (advance `adv`) beside its target `el` (null: centred).
function showStep(run, s, adv, el) {
  const fresh = run.shown !== run.i; // a new visit of this step (showing it again after a re-render is not)
  run.el = el;
  if (fresh) {
    run.shown = run.i;
    stepVisited(run);
  }
  watchIdle(run, s);
  const p = stepPopup(run, s, adv, el);
  run.pop = p.pop;
  run.nextBtn = p.next;
  if (!run.modal) run.stepOff.push(on(run.pop, 'keydown', (e) => e.key === 'Escape' && run.end('dismissed')));
  if (el) followTarget(run, el, adv);
  if (run.modal) { // hints wait under a running tour
    run.ov = [0, 1, 2, 3, 4].map((k) => h('div', { class: k < 4 ? 'ov' : 'ring' }));
    shell.add.apply(null, run.ov);
    shell.dim(true);
  }
  shell.add(run.pop);
  placeStep(run);
  if (run.modal && run.focused !== run.i) { // a new step takes focus; showing it again does not
    run.focused = run.i;
    run.pop.focus({ preventScroll: true });
  }
  if (fresh) emit(run.modal ? 'tour:step' : 'hint:show', run.ctx(run.i));
}

// The target: scrolled into view, watched for size changes, and the step's way on (click, input).
function followTarget(run, el, adv) {
  const r = el.getBoundingClientRect();
  if (r.bottom < 0 || r.top > w.innerHeight || r.right < 0 || r.left > w.innerWidth) {
    el.scrollIntoView({ block: 'center', inline: 'nearest', behavior: motion() ? 'smooth' : 'auto' });
  }
  if (w.ResizeObserver) {
    run.ro = new ResizeObserver(safe(reflow)); // reflow only schedules a frame: no observer loop errors
    run.ro.observe(el, { box: 'border-box' });
  }
  const inside = (e) => e.composedPath().indexOf(el) >= 0, next = () => run.show(run.i + 1, 1);
  if (adv.type === 'click') run.stepOff.push(on(d, 'click', (e) => inside(e) && next(), true));
  if (adv.type === 'input') { // advance once the user pauses typing, or leaves the field
    let tm = 0;
    run.stepOff.push(
      on(d, 'input', (e) => { if (inside(e)) { clearTimeout(tm); tm = later(next, 700) } }, true),
      on(d, 'change', (e) => inside(e) && next(), true),
      () => clearTimeout(tm));
  }
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
  if (run.ov) {
    shell.dim(false);
    reflow(); // the hints that waited under the tour
  }
  (run.ov || []).concat(run.pop || []).forEach((x) => x.remove());
  run.pop = run.ov = run.ro = run.el = null;
}
