"""`guide sites new` and `guide sites token`: a secret that the settings accept, and tokens the
server believes for that site only."""

from __future__ import annotations

import json
import tomllib

import pytest

from guide_server.settings import validate_sites
from guide_server.web.identity import verify

from .test_cli import guide


def test_sites_new_prints_a_fresh_secret_in_config_lines_the_settings_accept():
    first, second = guide("sites", "new", "acme"), guide("sites", "new", "acme")
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    config = tomllib.loads(first.stdout)
    site = validate_sites(config["sites"])["acme"]
    assert site["identity"] == "verified" and len(site["identity_secrets"][0]) >= 32
    assert tomllib.loads(second.stdout)["sites"]["acme"]["identity_secrets"] != site["identity_secrets"]


def test_sites_token_signs_for_the_configured_site_and_says_why_it_cannot(tmp_path):
    secret = "s" * 40
    sites = {"acme": {"origins": ["https://app.acme.example"], "identity_secrets": [secret]},
             "trial": {"origins": [], "identity": "anonymous"}}
    env = {"GUIDE_INSTANCE_PATH": str(tmp_path), "GUIDE_SITES": json.dumps(sites)}
    out = guide("sites", "token", "acme", "u-42", "--traits", '{"plan": "pro"}', "--ttl", "600", env=env)
    assert out.returncode == 0, out.stderr
    claims = verify(out.stdout.strip(), [secret], "acme")
    assert claims["sub"] == "u-42" and claims["traits"] == {"plan": "pro"}
    with pytest.raises(ValueError):  # a token for site acme is no token for another site
        verify(out.stdout.strip(), [secret], "other")

    unknown = guide("sites", "token", "nope", "u-42", env=env)
    assert unknown.returncode == 2 and "no site 'nope'" in unknown.stderr
    anonymous = guide("sites", "token", "trial", "u-42", env=env)
    assert anonymous.returncode == 2 and "no identity secret" in anonymous.stderr
