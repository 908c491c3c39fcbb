// The help panel (resource centre), opened by the "?": one field that searches the help centre as
// the user types (Enter asks the chat instead), the onboarding checklists, the tours the user may
// take again, articles read inside the panel, and the chat (50-chat.js). It sits above a running
// tour, which it neither dismisses nor pauses: a question asked during a step carries that step.
// Uses on, later (00-safety.js), API (05-config.js), state (10-state.js), locale, t (15-strings.js),
// h, deepActive, safeUrl (20-dom.js), emit (25-host-events.js), http, query, connect, idle, track
// (35-transport.js), shell (45-shell.js), reflow (50-position.js), during (10-state.js), startTour (70-run.js);
// talk (50-chat.js).
// A link that opens in a new tab; only its text when the address is not one a link may have (safeUrl).
// opened: called when the user opens it (a click, or a middle click: a new tab), for the figures.
const link = (url, text, cls, opened) => (safeUrl(url) ? h('a', { href: url, class: cls, target: '_blank', rel: 'noopener',
  onclick: opened, onauxclick: opened && ((e) => e.button === 1 && opened()) }, text) : h('span', null, text));

const panel = (() => {
  let box = null; // the dialog once opened (kept while closed, so the chat's log stays), or null
  let view = null; // what the panel shows: home, an article or the chat
  let input = null; // the one field: search, or the chat's question
  let current = 'home'; // home | article | chat
  let searches = 0, timer = 0; // the latest search (an older answer is dropped), and its pause

  const row = (text, small, click, cls) => h(click ? 'button' : 'div', { class: cls ? 'li ' + cls : 'li', type: click && 'button', onclick: click },
    h('span', null, text, small && h('small', null, small)));

  function build() {
    input = h('input', { type: 'text', maxlength: '1000', autocomplete: 'off', enterkeyhint: 'send' });
    view = h('div', { class: 'vw' });
    box = h('div', { class: 'pan chat', role: 'dialog', 'aria-labelledby': 'gph' },
      h('header', null,
        h('button', { class: 'bk', type: 'button', hidden: true, onclick: () => home() }, '‹'),
        h('h2', { id: 'gph' }), h('button', { class: 'x', type: 'button', onclick: close }, '×')),
      view,
      // Enter within the search's pause asks the chat: the pending search must not bring home back over it
      h('form', { onsubmit: (e) => { e.preventDefault(); clearTimeout(timer); const q = input.value.trim(); input.value = ''; if (q) { show('chat'); return talk.ask(q) } } },
        input, h('button', { class: 'btn pri', type: 'submit' })));
    // Escape closes the panel, and only the panel (a tour under it stays)
    on(box, 'keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); close() } });
    // search as the user types; never in the middle of an IME composition
    const typed = (e) => {
      clearTimeout(timer);
      if (current === 'home' && !(e && e.isComposing)) timer = later(home, 250);
    };
    on(input, 'input', typed);
    on(input, 'compositionend', () => typed());
  }

  // Labels follow the page's language (opened, or the language changed while open).
  function relabel() {
    if (!box) return;
    box.querySelector('h2').textContent = t('help');
    box.querySelector('.x').setAttribute('aria-label', t('close'));
    box.querySelector('.bk').setAttribute('aria-label', t('back'));
    box.querySelector('form .btn').textContent = t('send');
    input.setAttribute('aria-label', t('search'));
    input.setAttribute('placeholder', t('search') + '…');
    if (current === 'home') home();
  }

  function show(what, node) {
    current = what;
    box.querySelector('.bk').hidden = what === 'home';
    view.textContent = '';
    view.append(node || talk.log());
    view.scrollTop = what === 'chat' ? view.scrollHeight : 0;
    // the control that was clicked is gone: the focus goes to the article's title, else the field
    // (so that Escape and Tab still work in the panel)
    if (isOpen() && !box.contains(deepActive())) (view.querySelector('h1') || input).focus({ preventScroll: true });
  }

  // Home: what the field holds is searched; empty, the checklists, the tours and the ways to help.
  function home() {
    const q = input.value.trim();
    current = 'home';
    if (q) return search(q);
    const sec = (title, kids) => kids.length && h('section', { class: 'sec' }, h('h3', null, title), kids);
    show('home', h('div', null,
      state.checklists.map((c) => sec(c.title + ' · ' + c.done + ' / ' + c.total, c.tasks.map((task) => (task.done ?
        row('✓ ' + task.title, null, null, 'ok') :
        row(task.title, null, task.tour && (() => { close(); startTour(task.tour) })))))),
      sec(t('tours'), (state.library || []).map((x) => row('▶ ' + x.title, null, () => { close(); startTour(x.id) }))),
      sec(t('help'), [row(t('askChat'), null, () => { show('chat'); input.focus() }),
        link(API + '/help/' + query({ lang: locale() }), t('center'), 'li')])));
  }

  async function search(q) {
    const n = ++searches;
    const r = await http('search' + query({ q, locale: locale(), k: 5 })).catch(() => ({ results: [] }));
    if (n !== searches || current !== 'home' || input.value.trim() !== q) return; // the user typed on
    show('home', h('section', { class: 'sec', 'aria-live': 'polite' }, h('h3', null, t('articles')),
      r.results.length ? r.results.map((x) => row(x.title, x.snippet, () => article(x.id))) : h('p', null, t('noHits'))));
  }

  // An article of the help centre inside the panel: its sanitised HTML, with its sections.
  async function article(id, anchor) {
    const a = await http('faq/' + encodeURIComponent(id) + query({ locale: locale() }));
    const jump = (to) => {
      const el = to && view.querySelector('[id="' + to.replace(/["\\]/g, '') + '"]');
      if (el) el.scrollIntoView();
    };
    show('article', h('article', { class: 'art' }, h('h1', { tabindex: '-1' }, a.title),
      (a.sections || []).length > 1 && h('nav', { 'aria-label': t('contents') }, h('ul', { class: 'toc' }, a.sections.map((s) =>
        h('li', null, h('a', { href: '#' + s.anchor, onclick: (e) => { e.preventDefault(); jump(s.anchor) } }, s.heading))))),
      h('div', { html: a.html || '' }),
      h('p', null, link(a.url, t('onPage'), 'src'))));
    jump(anchor);
  }

  const isOpen = () => !!box && box.isConnected;
  function open(what) {
    const fresh = !isOpen();
    shell.attach();
    if (!box) build();
    relabel();
    if (what === 'chat') show('chat');
    shell.add(box);
    if (shell.launcher) shell.launcher.setAttribute('aria-expanded', 'true');
    input.focus({ preventScroll: true });
    reflow(); // a narrow screen: the panel is the one sheet
    connect(); // the chat's socket opens now, before the first question
    if (fresh) {
      track('chat_opened', during());
      emit('chat:open');
    }
  }
  function close() {
    if (!box) return;
    const had = box.contains(deepActive()), was = isOpen();
    box.remove();
    idle(); // the socket closes a minute after the last message
    reflow();
    if (shell.launcher) {
      shell.launcher.setAttribute('aria-expanded', 'false');
      if (had) shell.launcher.focus({ preventScroll: true });
    }
    if (was) emit('chat:close');
  }

  return {
    open, close, isOpen, relabel,
    toggle: () => (isOpen() ? close() : open()),
    // the key handler of a tour leaves the panel's keys alone (66-step-keys.js)
    owns: (node) => !!box && box.contains(node),
    // Guide('reset'): closed, and the next person starts with an empty log
    reset() {
      close();
      talk.reset();
      box = null;
      current = 'home';
    },
  };
})();
