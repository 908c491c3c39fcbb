// What the part hands to embed.js (47-parts.js: chat.open, chat.toggle, ...).
return panel;
