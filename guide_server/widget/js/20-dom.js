// DOM helpers: building elements, focus, visibility, and matching the page's URL.
// Uses on (00-safety.js).
let lastId = 0;
const nextId = () => 'g' + ++lastId; // ids for aria-labelledby and the like, unique in our shadow root
const clamp = (v, lo, hi) => Math.max(lo, Math.min(v, hi));
const motion = () => !(w.matchMedia && w.matchMedia('(prefers-reduced-motion: reduce)').matches);
// the focused element, through shadow roots (ours included)
const deepActive = () => {
  let a = d.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a;
};
const FOCUSABLE = 'a[href],button:not([disabled]),input:not([disabled]):not([type=hidden]),select:not([disabled]),' +
  'textarea:not([disabled]),[tabindex]:not([tabindex="-1"]),[contenteditable=""],[contenteditable=true]';
const visible = (el) => el.getClientRects().length > 0;
// a field the user types in (where the keys they press must stay)
const typingIn = (el) => !!el && (/^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName) || el.isContentEditable);
// A hash route (#/path or #!/path, as hash-routed apps use), or '': other fragments (an anchor,
// an OAuth token) are no route and never leave the page; an anchor followed within a route's page
// leaves the app on that route.
let routeSeen = ['', '']; // [path, route]
const route = () => {
  const hash = location.hash, path = location.pathname, isRoute = /^#!?\//.test(hash);
  if (isRoute || !hash || routeSeen[0] !== path) routeSeen = [path, isRoute ? hash : ''];
  return routeSeen[1];
};
// Patterns as in content/tours: '*' is any run of characters; the query counts only if the pattern
// has '?', the hash route only if it has '#'.
const here = (pat) => {
  const hash = pat.indexOf('#'), q = pat.indexOf('?');
  let s = location.pathname + (q >= 0 && (hash < 0 || q < hash) ? location.search : '') + (hash >= 0 ? route() : '');
  try { s = decodeURIComponent(s) } catch (_) { /* keep it encoded */ }
  return new RegExp('^' + pat.split(/\*+/).map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$').test(s);
};
// The page as the widget reports it: with its hash route, without any other #fragment, and cut to
// the 4,096 characters the service takes (a longer address would be refused, and with it the
// answer, the save or the event that carried it); the service masks e-mails and numbers.
const pageUrl = () => (location.href.split('#')[0] + route()).slice(0, 4096);
const safeUrl = (u) => (/^(https?:|mailto:|tel:|\/)/i.test(u || '') ? u : null);

// HTML from the server was sanitised there (allow-list); under Trusted Types it passes through our
// own policy, as do the addresses of the widget's parts (47-parts.js), and only those.
let tt = null;
try {
  tt = w.trustedTypes && w.trustedTypes.createPolicy('guide', {
    createHTML: (s) => s,
    createScriptURL: (s) => (s.indexOf(API + '/embed/') ? '' : s),
  });
} catch (_) { /* policy not allowed */ }

// h('button', {class: 'btn', onclick: fn}, 'text', child, [children]): attributes, listeners
// (through on()), `html` (server HTML) and children; null and false are left out.
function h(name, attrs) {
  const e = d.createElement(name);
  for (const k in attrs || {}) {
    const v = attrs[k];
    if (v == null || v === false) continue;
    if (k.slice(0, 2) === 'on') on(e, k.slice(2), v);
    else if (k === 'html') e.innerHTML = tt ? tt.createHTML(v) : v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (let i = 2; i < arguments.length; i++) {
    [].concat(arguments[i]).forEach((c) => c != null && c !== false && e.append(c));
  }
  return e;
}
