// The element picker (preview mode): a box follows the element under the pointer; a click (which
// the page never sees) picks it and shows a robust selector for it and a tour step in YAML to copy.
// Escape leaves it. selector(el) is exported for the tests.
// Uses on (00-safety.js), state (10-state.js), t (15-strings.js), h, nextId (20-dom.js), shell (45-shell.js);
// preview.pressed (20-preview.js).

// --- a selector that names exactly one element ------------------------------------------------------

const esc = (s) => w.CSS.escape(s); // (CSS alone is embed.js's stylesheet)
const str = (s) => '"' + String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\a ') + '"'; // a CSS string
const TEST_ATTRS = ['data-testid', 'data-test-id', 'data-test', 'data-cy', 'data-qa'];
// what frameworks and CSS-in-JS generate: long digit runs, hashes, React's :r1:, known prefixes
function generated(name) {
  if (!name || name.length > 60 || /\d{3,}|:|^\d/.test(name)) return true;
  if (/^(css|sc|jsx|svelte|emotion|ember|ng-tns|ng-star|data-v|react|mui-\d|makeStyles|jss)[-_]/i.test(name) || /^ember\d/.test(name)) return true;
  return name.split(/[-_]+/).some((part) => part.length >= 5 && (part.match(/\d/g) || []).length >= 2); // 1x2y3z, a1b2c
}
const stateClass = (c) => /^(is|has)-|^(active|current|focus|focused|hover|selected|open|opened|disabled|visible|hidden|show)$/.test(c);
const stableClasses = (el) => [].filter.call(el.classList, (c) => !generated(c) && !stateClass(c)).slice(0, 4);
const tag = (el) => el.tagName.toLowerCase();

function unique(sel, el) {
  try {
    const all = d.querySelectorAll(sel);
    return all.length === 1 && all[0] === el;
  } catch (_) { return false }
}

// The element's own selectors, best first: #id, test attributes, other data-*, ARIA and names, classes.
function ownCandidates(el) {
  const out = [], tg = tag(el), attr = (n) => el.getAttribute(n);
  if (el.id && !generated(el.id)) out.push('#' + esc(el.id));
  const named = (n) => attr(n) != null && attr(n) !== '' && attr(n).length < 100;
  TEST_ATTRS.forEach((n) => named(n) && out.push('[' + n + '=' + str(attr(n)) + ']', tg + '[' + n + '=' + str(attr(n)) + ']'));
  [].forEach.call(el.attributes, (a) => {
    if (a.name.indexOf('data-') || TEST_ATTRS.indexOf(a.name) >= 0 || /^data-(v-|reactid|react|styled|emotion|guide)/.test(a.name) || !named(a.name) || generated(a.value)) return;
    out.push('[' + esc(a.name) + '=' + str(a.value) + ']', tg + '[' + esc(a.name) + '=' + str(a.value) + ']');
  });
  if (named('aria-label')) out.push('[aria-label=' + str(attr('aria-label')) + ']', tg + '[aria-label=' + str(attr('aria-label')) + ']');
  if (named('name') && /^(input|select|textarea|button|form|iframe)$/.test(tg)) out.push(tg + '[name=' + str(attr('name')) + ']');
  if (named('role')) {
    out.push('[role=' + str(attr('role')) + ']');
    if (named('aria-label')) out.push('[role=' + str(attr('role')) + '][aria-label=' + str(attr('aria-label')) + ']');
  }
  ['title', 'placeholder', 'alt'].forEach((n) => named(n) && out.push(tg + '[' + n + '=' + str(attr(n)) + ']'));
  if (tg === 'a' && named('href') && !/^(javascript:|#$)/i.test(attr('href'))) out.push('a[href=' + str(attr('href')) + ']');
  const cls = stableClasses(el).map((c) => '.' + esc(c));
  cls.forEach((c) => out.push(tg + c, c));
  for (let i = 0; i < cls.length; i++) for (let j = i + 1; j < cls.length; j++) out.push(tg + cls[i] + cls[j]);
  return out;
}
const own = (el) => ownCandidates(el).filter((s) => unique(s, el))[0] || null;

// One step down a path: the tag, with :nth-of-type(n) when a sibling shares it.
function stepOf(el) {
  const same = [].filter.call(el.parentElement ? el.parentElement.children : [el], (x) => x.tagName === el.tagName);
  return tag(el) + (same.length > 1 ? ':nth-of-type(' + (same.indexOf(el) + 1) + ')' : '');
}

// The best selector that matches `el` alone: its own, else a short path down from the nearest
// ancestor that has one of its own (up from the body, when none has).
function selector(el) {
  if (!el || el.nodeType !== 1) return null;
  if (el === d.body || el === d.documentElement) return tag(el);
  const mine = own(el);
  if (mine) return mine;
  const path = [stepOf(el)];
  for (let a = el.parentElement; a; a = a.parentElement) {
    const base = a === d.body ? 'body' : a === d.documentElement ? 'html' : own(a);
    if (base) {
      const sel = base + ' > ' + path.join(' > ');
      if (unique(sel, el)) return sel;
    }
    path.unshift(stepOf(a));
  }
  return path.join(' > ');
}

// --- the YAML step ----------------------------------------------------------------------------------

const label = (el) => (el.getAttribute('aria-label') || el.getAttribute('title') || el.getAttribute('placeholder') ||
  (el.innerText || el.textContent || '') || el.value || '').replace(/\s+/g, ' ').trim().slice(0, 60);
function slug(el) {
  const from = (s) => String(s || '').normalize('NFKD').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
  return from(label(el)) || from(el.id) || from(el.getAttribute('name')) || tag(el) + '-step';
}
const yq = (s) => '"' + String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"'; // a YAML double-quoted string
function advanceOf(el) {
  if (el.isContentEditable || tag(el) === 'textarea' || tag(el) === 'select' ||
      (tag(el) === 'input' && !/^(button|submit|reset|checkbox|radio|image|file|color|range|hidden)$/i.test(el.type))) return 'input';
  return tag(el) === 'form' ? 'submit' : 'click';
}
function yamlStep(el, sel) {
  const text = label(el) || '…';
  return ['- id: ' + slug(el),
    '  target: ' + yq(sel),
    '  placement: auto',
    '  title: {ja: ' + yq(text) + ', en: ' + yq(text) + '}',
    '  body: {ja: "…", en: "…"}',
    '  advance: ' + advanceOf(el) + '   # input for a text field, submit for a form'].join('\n') + '\n';
}

// --- the picker on the page -------------------------------------------------------------------------

const picker = (() => {
  let box = null, pan = null; // the highlight and the panel of a picked element
  let boxed = null; // the element the box is around
  let picking = false; // following the pointer (not when a pick is on show)
  let offs = []; // listeners to remove when the picker stops

  // the widget's own UI (the overlay of a tour step aside: under it is the page)
  const ours = (e) => {
    const path = e.composedPath ? e.composedPath() : [];
    return path.indexOf(shell.host) >= 0 && !(path[0] && path[0].classList && path[0].classList.contains('ov'));
  };
  const under = (x, y) => d.elementsFromPoint(x, y).filter((el) => el !== shell.host && el !== d.documentElement)[0] || null;
  const targetOf = (e) => (e.target === shell.host ? under(e.clientX, e.clientY) : e.target); // the overlay: what is under it

  function place() {
    if (!box || !boxed || !boxed.isConnected) return box && (box.hidden = true);
    const r = boxed.getBoundingClientRect();
    Object.assign(box.style, { left: r.left + 'px', top: r.top + 'px', width: r.width + 'px', height: r.height + 'px' });
    box.classList.toggle('low', r.top < 24);
    box.hidden = false;
  }
  function highlight(el) {
    if (!box) {
      box = h('div', { class: 'pk-box', 'aria-hidden': 'true' }, h('span'));
      shell.add(box);
    }
    boxed = el;
    if (el) box.firstChild.textContent = tag(el) + (el.id ? '#' + el.id : '') + (stableClasses(el)[0] ? '.' + stableClasses(el)[0] : '');
    el ? place() : (box.hidden = true);
  }

  function block(e) { // the page never sees a press or click that picks
    if (!picking || ours(e)) return;
    e.preventDefault();
    e.stopImmediatePropagation();
    if (e.type === 'click') pick(targetOf(e));
  }
  function start() {
    stop();
    picking = true;
    preview.pressed(true);
    const opts = { capture: true, passive: false };
    offs = ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click', 'dblclick', 'auxclick'].map((type) => on(w, type, block, opts));
    offs.push(on(w, 'mousemove', (e) => picking && highlight(ours(e) ? null : targetOf(e)), { capture: true, passive: true }));
    offs.push(on(w, 'keydown', (e) => {
      if (e.key !== 'Escape') return;
      e.preventDefault();
      e.stopImmediatePropagation(); // the tour on screen stays
      stop();
    }, true));
    offs.push(on(d, 'scroll', place, { capture: true, passive: true }), on(w, 'resize', place));
  }
  function pick(el) {
    if (!el) return;
    picking = false;
    highlight(el);
    const sel = selector(el), yaml = yamlStep(el, sel), id = nextId();
    const area = h('textarea', { id: id + 'y', readonly: true, spellcheck: 'false' });
    area.value = yaml;
    const copyBtn = h('button', { class: 'btn pri', type: 'button', 'data-pk': 'copy', onclick: () => {
      const done = () => (copyBtn.textContent = t('copied'));
      const fallback = () => {
        area.focus();
        area.select();
        copyBtn.textContent = t('copyFail');
      };
      try { navigator.clipboard.writeText(yaml).then(done, fallback) } catch (_) { fallback() }
    } }, t('copy'));
    if (pan) pan.remove();
    pan = h('section', { class: 'pk-pan', role: 'dialog', 'aria-labelledby': id },
      h('h2', { id }, t('picked')),
      h('label', { for: id + 's' }, t('selector')), h('code', { id: id + 's', 'data-pk': 'selector' }, sel),
      h('label', { for: id + 'y' }, t('yamlStep')), area,
      h('div', { class: 'f' },
        h('button', { class: 'btn', type: 'button', 'data-pk': 'again', onclick: start }, t('again')), copyBtn),
      h('button', { class: 'x', type: 'button', 'aria-label': t('close'), onclick: stop }, '×'));
    shell.add(pan);
    copyBtn.focus({ preventScroll: true });
  }
  function stop() {
    picking = false;
    offs.forEach((off) => off());
    offs = [];
    if (box) box.remove();
    if (pan) pan.remove();
    box = pan = boxed = null;
    preview.pressed(false);
  }

  return {
    start, stop, pick,
    toggle: () => (picking || pan ? stop() : start()),
    active: () => picking || !!pan,
  };
})();
