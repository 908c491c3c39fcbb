// Storage: what this browser keeps for the widget. localStorage (key guide:SITE) holds anonymous
// users' traits, tour progress and checklist tasks, the anonymous id, what was reported once, and
// the events a page left unsent while the server was failing (35-transport.js);
// sessionStorage holds this tab's id. Blocked or full storage is never an error.
// Uses KEY (05-config.js), state.anon (10-state.js).

// Reads the stored object; with `patch`, merges it in and writes it back first.
function local(patch) {
  let v = {};
  try { v = JSON.parse(w.localStorage.getItem(KEY)) || {} } catch (_) { /* blocked or bad JSON */ }
  if (patch) {
    Object.assign(v, patch);
    try { w.localStorage.setItem(KEY, JSON.stringify(v)) } catch (_) { /* full or blocked */ }
  }
  return v;
}

const randomId = () => Date.now().toString(36) + crypto.getRandomValues(new Uint32Array(2)).join('');
// This tab's id: sessionStorage survives reloads, not the tab.
let TAB;
try { TAB = sessionStorage[KEY] || (sessionStorage[KEY] = randomId()) } catch (_) { TAB = randomId() }
// True the first time `what` is asked in this tab (what was reported once per session).
function firstInTab(what) {
  let seen = [];
  try { seen = JSON.parse(sessionStorage[KEY + ':once'] || '[]') } catch (_) { /* blocked */ }
  if (seen.indexOf(what) >= 0) return false;
  try { sessionStorage[KEY + ':once'] = JSON.stringify(seen.concat(what).slice(-200)) } catch (_) { /* full or blocked */ }
  return true;
}
// The person, when anonymous: a random id kept in this browser (Guide('reset') forgets it).
const anonId = () => state.anon || (state.anon = local().anon || local({ anon: randomId() }).anon);
