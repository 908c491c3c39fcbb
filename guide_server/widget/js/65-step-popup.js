// A step's popup: a labelled dialog with the step's title and text, where the user is ("2 / 3"),
// Back, Next (Done on the last step) and Close. It only builds the elements: 69-step-view.js puts
// them on screen and places them.
// Uses t (15-strings.js), h, nextId (20-dom.js); its buttons call run.show() and run.end() (70-run.js).

// run: the Run showing step `s` (advance `adv`), with its target `el` or null. Returns the popup
// and its Next button (null when the user's action is the way on).
function stepPopup(run, s, adv, el) {
  const n = run.tour.steps.length, i = run.i, id = nextId(), b = s.buttons || {};
  // click/input steps advance by themselves; a centred fallback for a missing target still needs a button
  const next = adv.type === 'next' || (!el && adv.type !== 'url') ?
    h('button', { class: 'btn pri', type: 'button', onclick: () => { run.via = 'button'; run.show(run.i + 1, 1) } },
      i === n - 1 ? b.done || t(run.modal ? 'done' : 'ok') : b.next || t('next')) : null;
  const pop = h('div', {
    class: run.modal ? 'pop' : 'pop hint', role: 'dialog', 'aria-modal': run.modal && 'true',
    'aria-labelledby': id + 't', 'aria-describedby': id + 'b', tabindex: '-1',
  },
  h('h2', { id: id + 't' }, s.title || run.tour.title || ''),
  h('div', { id: id + 'b', class: 'b', html: s.html || '' }),
  h('div', { class: 'f' },
    n > 1 && h('span', { class: 'n' }, i + 1 + ' / ' + n),
    i > 0 && h('button', { class: 'btn', type: 'button', onclick: () => run.show(run.i - 1, -1) }, b.back || t('back')),
    next),
  // last in the DOM so that Tab reaches the step's own buttons first
  h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: () => run.end('dismissed') }, '×'),
  el && h('i', { class: 'ar', 'aria-hidden': 'true' }));
  return { pop, next };
}
