// What the part hands to embed.js (47-parts.js): boot (at load, before the page's tours: 95-api.js),
// start (Guide('preview', id)); and, for the editor's console and the tests, exit, pick and selector(el).
return { boot: preview.boot, start: preview.start, exit: preview.exit, pick: picker.start, selector };
