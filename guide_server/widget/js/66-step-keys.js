// The keyboard and the focus during a tour: Escape closes it, → and ← move to the next and previous
// step (not while typing in a field), Tab stays inside the step (its controls, its target and the
// help launcher), and the focus goes back where it was when the tour ends.
// Uses FOCUSABLE, visible, deepActive (20-dom.js), shell.launcher (45-shell.js), chat.owns (55-chat.js);
// drives a Run (70-run.js).

// The keydown listener of a modal Run (on document, capture phase, while the tour runs).
const stepKeys = (run) => (e) => {
  // the chat may be open above a tour (to ask about this step): its keys are its own
  if (!run.pop || chat.owns(e.composedPath()[0])) return;
  const k = e.key, el = e.composedPath()[0] || {};
  const typing = typingIn(el);
  if (k === 'Escape') { e.preventDefault(); run.end('dismissed') }
  else if (k === 'Tab') trapTab(e, run.pop, run.el, shell.launcher);
  else if (typing) return;
  else if (k === 'ArrowRight' && run.nextBtn) { e.preventDefault(); run.via = 'button'; run.show(run.i + 1, 1) }
  else if (k === 'ArrowLeft' && run.i > 0) { e.preventDefault(); run.show(run.i - 1, -1) }
};

// Tab and Shift+Tab cycle through the popup's controls, the target's and the launcher, nothing else.
function trapTab(e, pop, target, launcher) {
  const list = [].slice.call(pop.querySelectorAll(FOCUSABLE))
    .concat(target ? [target].concat([].slice.call(target.querySelectorAll(FOCUSABLE))).filter((x) => x.matches(FOCUSABLE) && visible(x)) : [])
    .concat(launcher && visible(launcher) ? [launcher] : []);
  const k = list.indexOf(deepActive()), n = list.length;
  e.preventDefault();
  if (n) list[e.shiftKey ? (k <= 0 ? n - 1 : k - 1) : (k + 1) % n].focus();
}

// At the end of a run, while its step is still on screen: returns what gives the focus back. A tour
// gives it back where it was before the tour (else to the launcher), a hint to the launcher; only
// when the focus is still the widget's (in the step, on its target, or nowhere), never when the
// user has taken it elsewhere.
function focusBack(run) {
  const a = deepActive(), inPop = !!run.pop && run.pop.contains(a);
  const ours = inPop || !a || a === d.body || (run.el && run.el.contains(a));
  return () => {
    if (!(run.modal ? ours : inPop)) return;
    const ret = run.modal && run.ret && run.ret.isConnected ? run.ret : shell.launcher;
    if (ret) ret.focus({ preventScroll: true });
  };
}
