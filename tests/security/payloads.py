"""What an attacker types, table by table. Each script payload calls ``__pwned(name)`` (a binding
the browser tests expose) or ``alert``: a payload that runs is seen, whichever way it got in."""

from __future__ import annotations

# Script injection: each one is also a visible marker, so a test can see that the text arrived.
XSS = {
    "script": '<script>__pwned("script")</script>',
    "img-onerror": '<img src=x onerror="__pwned(\'img\')">',
    "svg-onload": '<svg onload="__pwned(\'svg\')"></svg>',
    "attr-break": '"><img src=x onerror=__pwned("attr")>',
    "js-url": '<a href="javascript:__pwned(\'href\')">click</a>',
    "end-tag": '</textarea></style></script><script>__pwned("end")</script>',
    "template": '{{constructor.constructor("__pwned(`tpl`)")()}}',
    "alert": "<details open ontoggle=alert(1)>",
}

SQL = ["' OR 1=1 --", "'); DROP TABLE events; --", '" OR ""="', "1; SELECT pg_sleep(5)--"]

TRAVERSAL = ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/etc/passwd",
             "..\\..\\windows\\win.ini", "ja-x%00.md"]
