"""Settings as the server and the command line see them, without Flask: the instance folder, the
values from ``settings`` (defaults, ``guide.toml``, ``GUIDE_*`` variables), checked, with the
defaults that depend on the folder filled in."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import settings

PACKAGE = Path(__file__).resolve().parent
# The folder of a checkout (with content/ and pyproject.toml); not there in an installed package.
CHECKOUT = PACKAGE.parent


def in_checkout() -> bool:
    return (CHECKOUT / "pyproject.toml").is_file() and (CHECKOUT / "guide_server").resolve() == PACKAGE


def instance_path() -> str:
    """The instance folder: ``GUIDE_INSTANCE_PATH``, else ``instance/`` in a checkout of the
    repository, else ``<prefix>/var/guide_server-instance`` for an installed package (where
    Flask would put it)."""
    if os.environ.get("GUIDE_INSTANCE_PATH"):
        return os.path.abspath(os.environ["GUIDE_INSTANCE_PATH"])
    if in_checkout():
        return str(CHECKOUT / "instance")
    return os.path.join(sys.prefix, "var", "guide_server-instance")


def load_config(folder: str, test_config: dict | None = None) -> dict:
    """Settings as the server sees them: defaults, then ``guide.toml`` in the instance folder,
    then ``GUIDE_*`` variables (or ``test_config`` instead of those two); checked, with the
    defaults that depend on the folder filled in."""
    cfg = settings.defaults()
    if test_config is None:
        cfg.update(settings.from_file(os.path.join(folder, settings.CONFIG_FILE)))
        cfg.update(settings.from_env())
    else:
        cfg.update(test_config)
    configure(cfg, folder)
    return cfg


def default_content_dir(folder: str) -> str:
    """The repository's content/ in a checkout; an installed package reads INSTANCE/content."""
    return str(CHECKOUT / "content") if in_checkout() else os.path.join(folder, "content")


def configure(cfg, folder: str) -> None:
    """Fill in defaults that depend on the instance folder and check the values."""
    os.makedirs(folder, exist_ok=True)
    cfg["CONTENT_DIR"] = cfg["CONTENT_DIR"] or default_content_dir(folder)
    cfg["INDEX_DIR"] = cfg["INDEX_DIR"] or os.path.join(folder, "index")
    cfg["DATABASE_URL"] = cfg["DATABASE_URL"] or "sqlite:///" + os.path.join(folder, "guide.db")
    cfg["SITES"] = settings.validate_sites(cfg["SITES"])
    for s in settings.SETTINGS:
        if isinstance(s.default, (int, float)) and not isinstance(s.default, bool):
            cfg[s.name] = type(s.default)(cfg[s.name])
    for name in ("SUGGEST_THRESHOLD", "ANSWER_THRESHOLD"):
        if not 0 <= cfg[name] <= 1:
            raise ValueError(f"{name} must be between 0 and 1")
    if not 1 <= cfg["SUGGESTIONS"] <= 10:
        raise ValueError("SUGGESTIONS must be between 1 and 10")
    if cfg["CALIBRATION"] not in ("auto", "shipped"):
        raise ValueError(f"CALIBRATION must be 'auto' or 'shipped', not {cfg['CALIBRATION']!r}")
    cfg["ESCALATION_RETRIES"] = settings.retry_delays(cfg["ESCALATION_RETRIES"])
    cfg["ALERT_RETRIES"] = settings.retry_delays(cfg["ALERT_RETRIES"], "ALERT_RETRIES")
    settings.check_alerts(cfg)
    if cfg["TRUSTED_PROXIES"] < 0:
        raise ValueError("TRUSTED_PROXIES must be 0 or more")
    if not 0 <= cfg["TARGET_MISSING_ALERT"] <= 100:
        raise ValueError("TARGET_MISSING_ALERT must be a percent between 0 and 100")
    if cfg["TARGET_MISSING_MIN_PEOPLE"] < 1 or cfg["TARGET_MISSING_HOURS"] <= 0:
        raise ValueError("TARGET_MISSING_MIN_PEOPLE must be 1 or more and TARGET_MISSING_HOURS more than 0")


def models_of(config) -> dict[str, str]:
    """The dense encoder spec of each locale: ``{"ja": MODEL_JA, "en": MODEL_EN}``."""
    return {"ja": config["MODEL_JA"], "en": config["MODEL_EN"]}


def weights_of(config) -> dict[str, str]:
    """The fusion weights of each locale, as written (``FUSION_JA``, ``FUSION_EN``)."""
    return {"ja": config["FUSION_JA"], "en": config["FUSION_EN"]}
