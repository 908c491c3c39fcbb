// Parts: what most pages never use is not in embed.js. The help panel (with the chat), the survey and
// the editor's tools are each a script of their own (guide_server/widget/js/<part>/), served at
// /embed/<part>.js and loaded the first time they are needed, by a <script> with the nonce of ours
// (and, under Trusted Types, our policy's URL). A part hands back what it exports through
// Guide._part(name, fn): fn gets the names of embed.js it uses (PARTS_USE, at the end of embed.js).
// A part that fails to load is asked for again next time.
// Uses warn (00-safety.js), API, tag (05-config.js), state.surveysEnded (10-state.js), tt (20-dom.js).
const parts = (() => {
  const loading = {}; // part name -> the promise of its exports
  const done = {}; // part name -> its resolve function while it loads
  const ready = {}; // part name -> its exports, once loaded

  function load(name) {
    return loading[name] || (loading[name] = new Promise((res, rej) => {
      const url = API + '/embed/' + name + '.js', s = d.createElement('script');
      done[name] = res;
      s.src = tt ? tt.createScriptURL(url) : url;
      s.async = true;
      if (tag && tag.nonce) s.nonce = tag.nonce;
      s.onerror = () => {
        delete loading[name];
        s.remove();
        rej(new Error('could not load ' + url));
      };
      (d.head || d.documentElement).append(s);
    }));
  }
  // called by the part's script
  function loaded(name, fn) {
    if (!done[name] || ready[name]) return;
    ready[name] = fn(PARTS_USE);
    done[name](ready[name]);
  }

  return {
    load, loaded,
    // the part's exports if it is loaded, else null: what works without it does not load it
    get: (name) => ready[name] || null,
    // calls `method` of the part with `args`, loading it first if needed; errors are warnings
    call: (name, method, args) => load(name).then((x) => x[method].apply(null, args || [])).catch(warn),
  };
})();

// The help panel and the survey as the rest of embed.js sees them, loaded or not.
const chat = {
  isOpen: () => !!parts.get('panel') && parts.get('panel').isOpen(),
  owns: (node) => !!parts.get('panel') && parts.get('panel').owns(node),
  open: (view) => parts.call('panel', 'open', [view]),
  toggle: () => parts.call('panel', 'toggle'),
  reset: () => parts.get('panel') && parts.get('panel').reset(),
};
const survey = {
  show: (sv) => sv && !state.surveysEnded[sv.id] && parts.call('survey', 'show', [sv]),
  reset() {
    state.surveysEnded = {};
    if (parts.get('survey')) parts.get('survey').reset();
  },
};
