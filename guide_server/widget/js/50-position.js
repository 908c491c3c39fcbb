// Positioning: waiting for a target to appear, placing a step's popup beside its target (or in the
// centre), the overlay around the target, and placing everything again on scroll and resize.
// Uses safe, later (00-safety.js), state.runs (10-state.js), clamp, visible (20-dom.js);
// reflow() calls placeStep() (69-step-view.js) for every Run on screen.

// Calls back once `sel` has a visible match (with it), or, `gone`, once it has none (with null);
// with null after `ms` in any case. Returns a cancel function. Late targets, `trigger: {element}`
// and the `{appear}` / `{disappear}` ways on (ms: Infinity) wait this way.
function waitFor(sel, ms, cb, gone) {
  let mo = null, tm = null;
  const stop = () => { if (mo) mo.disconnect(); clearTimeout(tm) };
  const look = () => {
    let el = null;
    try { el = d.querySelector(sel) } catch (_) { /* a bad selector matches nothing */ }
    el = el && visible(el) ? el : null;
    if (!!el !== !!gone) { stop(); cb(el); return true }
  };
  if (look()) return stop;
  mo = new MutationObserver(safe(look));
  mo.observe(d.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['class', 'style', 'hidden', 'open'] });
  if (ms < Infinity) tm = later(() => { stop(); cb(null) }, ms);
  return stop;
}

// The popup on the wanted side of the target's rect `r` if it fits, else on a side that does;
// centred without a target. Always inside the viewport; its arrow (.ar) points at the target.
function position(pop, r, want) {
  const vw = w.innerWidth, vh = w.innerHeight, W = pop.offsetWidth, H = pop.offsetHeight, G = 12;
  let x = (vw - W) / 2, y = (vh - H) / 2, side = 'center';
  if (r) {
    const room = { bottom: vh - r.bottom, top: r.top, right: vw - r.right, left: r.left };
    const fits = (s) => room[s] >= (s === 'top' || s === 'bottom' ? H : W) + G;
    side = fits(want) ? want : Object.keys(room).find(fits) || 'bottom';
    if (side === 'top' || side === 'bottom') {
      y = side === 'top' ? r.top - H - G : r.bottom + G;
      x = r.left + r.width / 2 - W / 2;
    } else {
      x = side === 'left' ? r.left - W - G : r.right + G;
      y = r.top + r.height / 2 - H / 2;
    }
  }
  x = clamp(x, 8, vw - W - 8);
  y = clamp(y, 8, vh - H - 8);
  pop.style.left = x + 'px';
  pop.style.top = y + 'px';
  pop.setAttribute('data-side', side);
  if (r) { // the arrow's place along the popup's edge: the target's middle, kept off the corners
    pop.style.setProperty('--ax', clamp(r.left + r.width / 2 - x - 6, 10, W - 22) + 'px');
    pop.style.setProperty('--ay', clamp(r.top + r.height / 2 - y - 6, 10, H - 22) + 'px');
  }
}

const placePane = (el, x, y, wd, ht) => {
  const s = el.style;
  s.left = x + 'px'; s.top = y + 'px'; s.width = Math.max(0, wd) + 'px'; s.height = Math.max(0, ht) + 'px';
};
// Four panes around the target: the page is dimmed and blocked except the target, which stays
// clickable; the fifth element is the ring around the target.
function cover(ov, r) {
  const vw = w.innerWidth, vh = w.innerHeight, P = 6;
  const a = r ? { t: r.top - P, l: r.left - P, b: r.bottom + P, e: r.right + P } : { t: vh, l: 0, b: vh, e: 0 };
  placePane(ov[0], 0, 0, vw, a.t);
  placePane(ov[1], a.e, a.t, vw - a.e, a.b - a.t);
  placePane(ov[2], 0, a.b, vw, vh - a.b);
  placePane(ov[3], 0, a.t, a.l, a.b - a.t);
  if (r) placePane(ov[4], a.l, a.t, a.e - a.l, a.b - a.t);
  ov[4].hidden = !r;
}

// On a narrow screen every part is a sheet at the bottom, and only one shows at a time, the first
// of: the help panel, the tour's step, a hint, the survey, the checklists; the launcher sits just
// above it, so it can always be reached. On a wide screen everything shows, in its own place.
const SHEETS = ['.pan', '.pop:not(.hint)', '.hint', '.sv', '.cls'];
function arrange() {
  const narrow = w.innerWidth <= 480, busy = !!state.tour;
  let top = null;
  SHEETS.forEach((sel) => shell.all(sel).forEach((el) => {
    const hidden = busy && /\b(hint|sv)\b/.test(el.className); // under a running tour anyway
    el.classList.toggle('off', narrow && !!top);
    if (!top && !hidden) top = el;
  }));
  if (shell.launcher) shell.launcher.style.bottom = (narrow && top ? top.offsetHeight + 12 : 20) + 'px';
}

// Everything on screen is placed again in the next frame (once, however many calls). Never throws,
// even where the host broke requestAnimationFrame: a tour that ends calls it on its way out.
let frame = 0;
const reflow = safe(() => {
  if (!frame) frame = requestAnimationFrame(safe(() => { frame = 0; state.runs.forEach(placeStep); arrange() }));
});
