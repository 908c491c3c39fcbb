// Events for the host page: Guide('on', name, fn), Guide('off', name, fn), and a `guide:<name>`
// CustomEvent on document, both with the same detail (docs/embed.md lists the events).
// A Guide('on') listener that throws is the host's own bug: it shows as a console warning and never
// breaks the widget nor reaches window.onerror. A DOM listener is one of the page's own event
// listeners: the browser reports its exceptions as it does any other's, and dispatchEvent() never
// passes them on to the widget.
// `settled`: every piece of work the widget does for the page (a server call that changes what is
// shown, a step waiting for its page or target, a tour that ends) holds it back; once none is left,
// it fires.
// Uses safe, later (00-safety.js), during (10-state.js).
const { emit, listen, unlisten, hold } = (() => {
  const listeners = {}; // event name -> the host's functions, in the order they were added
  let pending = 0; // work under way (hold() calls not released yet)
  let settleTimer = 0; // `settled` is sent a moment after the last work ends, unless more starts

  const failed = (e) => {
    try { console.warn('[guide] a Guide("on") listener failed:', e) } catch (_) { /* no console */ }
  };
  const emit = safe((name, detail) => {
    detail = detail || {}; // the same object for every listener, both ways
    (listeners[name] || []).slice().forEach((fn) => safe(fn, failed)(detail));
    d.dispatchEvent(new CustomEvent('guide:' + name, { detail }));
  });

  function listen(name, fn) {
    if (typeof name !== 'string' || typeof fn !== 'function') throw new Error('on: give an event name and a function');
    const list = listeners[name] || (listeners[name] = []);
    if (list.indexOf(fn) < 0) list.push(fn);
  }
  function unlisten(name, fn) {
    const list = listeners[name] || [];
    if (list.indexOf(fn) >= 0) list.splice(list.indexOf(fn), 1);
  }

  // hold(promise): `settled` waits for it. hold(): returns the function that ends the work (once).
  function hold(work) {
    let held = 1;
    pending++;
    clearTimeout(settleTimer);
    const release = () => {
      if (!held) return;
      held = 0;
      if (!--pending) {
        settleTimer = later(() => pending || emit('settled', during()), 0);
      }
    };
    if (work) work.then(release, release);
    return release;
  }

  return { emit, listen, unlisten, hold };
})();
