"""docs/deploy.md's table of settings names every setting of fieldwalk/config.py, and only those."""

import re

from fieldwalk import ROOT
from fieldwalk.config import DEFAULTS

# Named by their own variables (load_config reads them), not as FIELDWALK_<NAME>.
OWN_NAMES = {"SQLALCHEMY_DATABASE_URI": "DATABASE_URL", "SECRET_KEY": "SECRET_KEY"}


def _settings_table() -> str:
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    section = text.split("## Every setting", 1)[1].split("\n## ", 1)[0]
    return "\n".join(line for line in section.splitlines() if line.startswith("| `"))


def test_every_setting_is_in_the_deploy_guide():
    table = _settings_table()
    missing = [name for name in DEFAULTS if f"`FIELDWALK_{name}`" not in table and f"`{name}`" not in table]
    assert not missing, f"docs/deploy.md does not describe {missing}"
    assert all(f"`{variable}`" in table for variable in OWN_NAMES.values())


def test_the_deploy_guide_names_no_setting_that_does_not_exist():
    named = set(re.findall(r"`FIELDWALK_([A-Z0-9_]+)`", _settings_table()))
    assert named - set(DEFAULTS) - set(OWN_NAMES.values()) == set()  # FIELDWALK_DATABASE_URL: another name
