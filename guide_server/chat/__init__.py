"""The help chat: a question becomes an answer, suggestions or "no answer" with a way to a person
(``answers``), over HTTP (``routes``) and a WebSocket (``ws``); every question and feedback is
logged (``store``); plain pages for every FAQ (``help``)."""
