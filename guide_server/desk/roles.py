"""Who may do what on the review desk: three roles, and the sites an account or API token is given.

| role   | may                                                                        |
|--------|----------------------------------------------------------------------------|
| viewer | read the figures of its sites: every page, every CSV download, the API's GETs |
| editor | also write: draft FAQs from unanswered questions (desk form, API ``POST``),   |
|        | and read the escalations: what people wrote to support, with their e-mail     |
| admin  | also manage: the accounts and tokens page and the audit log; every site      |

An API token is a viewer of its sites, or an editor with ``--write``; it is never an admin.
An admin always has every site: the accounts, the tokens and the audit log concern them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ROLES = ("viewer", "editor", "admin")  # each may do all that the one before it may
READ, WRITE, MANAGE = "read", "write", "manage"
# Escalations hold what a person wrote to be contacted, with their address, unmasked: for the
# CS staff who answer them (editors and admins), not for every reader of figures (viewers, BI tokens).
CONTACT = "contact"
NEEDS = {READ: "viewer", WRITE: "editor", MANAGE: "admin", CONTACT: "editor"}  # the least role for each permission
ALL_SITES = "*"
MAX_SITE_KEY = 64  # as the tables store a site


class ScopeError(ValueError):
    """A role or a site list that cannot be given (unknown role, bad site key, an admin of some sites)."""


@dataclass(frozen=True)
class Access:
    """Who is asking (an account or an API token), in which role, for which sites (None: every site)."""

    name: str
    kind: str  # "account" | "token"
    role: str
    sites: frozenset[str] | None

    def may(self, permission: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(NEEDS[permission])

    def sees(self, site: str) -> bool:
        return self.sites is None or site in self.sites

    def visible(self, configured: Iterable[str]) -> list[str]:
        """The configured sites this one may see, in the configuration's order."""
        return [site for site in configured if self.sees(site)]


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ScopeError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    return role


def parse_sites(text: str | None) -> frozenset[str] | None:
    """``"*"`` (or nothing) is every site (None); ``"a,b"`` those two."""
    if text is None or text.strip() == ALL_SITES:
        return None
    sites = frozenset(s.strip() for s in text.split(",") if s.strip())
    if not sites:
        raise ScopeError("give at least one site, or * for every site")
    bad = sorted(s for s in sites if len(s) > MAX_SITE_KEY or s == ALL_SITES)
    if bad:
        raise ScopeError(f"not a site key: {', '.join(repr(s[:80]) for s in bad)}")
    return sites


def format_sites(sites: frozenset[str] | None) -> str:
    """As stored and shown: ``*`` or the keys in order, comma-separated."""
    return ALL_SITES if sites is None else ",".join(sorted(sites))


def check_scope(role: str, sites: frozenset[str] | None) -> None:
    check_role(role)
    if role == "admin" and sites is not None:
        raise ScopeError("an admin has every site (the accounts, the tokens and the audit log concern them all); "
                         "give some sites to an editor or a viewer instead")
