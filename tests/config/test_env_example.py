"""`.env.example` lists every variable the settings read (README, "Configuration")."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# env("NAME", …), env.int("NAME", …), env.list(…), os.environ.get("NAME") and the like.
READ = re.compile(r"""\b(?:env(?:\.\w+)?|os\.environ\.get)\(\s*["']([A-Z][A-Z0-9_]+)["']""")
LISTED = re.compile(r"^#? ?([A-Z][A-Z0-9_]+)=", re.MULTILINE)


def test_the_example_environment_lists_every_variable_the_settings_read():
    sources = [*ROOT.glob("config/settings/*.py"), ROOT / "common" / "metrics.py"]
    read = {name for source in sources for name in READ.findall(source.read_text())}
    listed = set(LISTED.findall((ROOT / ".env.example").read_text()))

    assert "DATABASE_URL" in read  # the pattern finds what it is meant to find
    assert read - listed == set()
