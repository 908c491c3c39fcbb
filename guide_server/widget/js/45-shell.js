// The shell: one <guide-widget> element with a shadow root, out of reach of the host's CSS, our
// stylesheets, and the "?" launcher of the help panel. Everything the widget draws goes in through add().
// Uses on (00-safety.js), config, tag (05-config.js), h (20-dom.js), CSS (40-styles.js);
// the launcher calls chat.toggle() (47-parts.js) when clicked.
const shell = (() => {
  let ui = null; // div.r in the shadow root: the parent of everything the widget draws
  let root = null; // the shadow root
  const shell = {
    host: null, // <guide-widget>, the one element the widget adds to the page
    launcher: null, // the "?" button, or null with data-chat="off"
    mount, attach, add, style,
    all: (sel) => [].slice.call(ui.querySelectorAll(sel)), // what the widget drew, by selector
    // a modal tour is on screen: hints and the survey hide under it (.busy in 40-styles.js)
    dim: (dimmed) => ui.classList.toggle('busy', dimmed),
  };

  function mount() {
    const host = (shell.host = d.createElement('guide-widget'));
    // Inline !important beats any host rule (even `* {all: unset}`); CSSOM writes are allowed under a strict CSP.
    // (outline and box-shadow: a host's :focus rule matches us while the focus is in our shadow root)
    ('position:fixed;top:0;left:0;right:auto;bottom:auto;width:0;height:0;margin:0;padding:0;border:0;overflow:visible;outline:0;box-shadow:none;' +
      'display:block;visibility:visible;opacity:1;transform:none;filter:none;z-index:2147483647;background:none;pointer-events:none')
      .split(';').forEach((p) => host.style.setProperty(p.split(':')[0], p.split(':')[1], 'important'));
    root = host.attachShadow({ mode: 'open' });
    style(CSS);
    ui = h('div', { class: 'r' });
    root.append(ui);
    if (config.chat !== 'off') {
      shell.launcher = h('button', { class: 'go', type: 'button', 'aria-expanded': 'false', onclick: () => chat.toggle() }, '?');
      ui.append(shell.launcher);
    }
    attach();
  }
  // Adds a stylesheet to the shadow root (ours, then each part's).
  function style(css) {
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = root.adoptedStyleSheets.concat(sheet);
    } catch (_) { // older browsers: a <style>, allowed by the script tag's nonce if the page uses one
      root.prepend(h('style', { nonce: tag && tag.nonce }, css));
    }
  }
  // The top layer (popover) puts us above any z-index the host uses; re-attached if a framework removed us.
  function attach() {
    const host = shell.host;
    if (host.isConnected) return;
    d.documentElement.append(host);
    if (host.showPopover) {
      host.popover = 'manual';
      host.showPopover();
    }
  }
  function add() {
    ui.append.apply(ui, arguments);
    attach();
  }

  return shell;
})();
