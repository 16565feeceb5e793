"""What a learner sets in the app, kept from one start to the next: a small settings file.

The file is JSON in the user config folder (`~/.config/studyapp/settings.json` on Linux). A
broken file never stops the app: it starts with the defaults, and `problem` says in one
sentence what is wrong and where; the file is left alone until a preference is changed. Keys
this version does not know are kept, so a newer version's settings survive an older one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studyapp.errors import UserError
from studyapp.files import write_output

SETTINGS_FILE = "settings.json"
# Every preference, with the type its value has.
KNOWN: dict[str, type] = {
    "theme": str,  # the app's colour theme, by name
    "add_deck": str,  # the deck the last card was added to
    "export_format": str,
    "export_folder": str,
}

_KIND_NAMES = {str: "text", int: "a whole number", bool: "true or false"}


def default_path() -> Path:
    from platformdirs import user_config_path

    return user_config_path("studyapp", appauthor=False) / SETTINGS_FILE


class Preferences:
    """The preferences file, read once; `set` writes it whole."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_path()
        self.values: dict[str, Any] = {}
        self.problem: str | None = None  # why the file could not be read, for the learner
        self._load()

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except (OSError, UnicodeError) as exc:
            self._broken(f"cannot be read ({_reason(exc)})")
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self._broken(f"is not valid JSON ({exc.msg} at line {exc.lineno})")
            return
        except RecursionError:
            self._broken("is not valid JSON (nested too deeply)")
            return
        if not isinstance(data, dict):
            self._broken("does not hold a JSON object")
            return
        self.values = data
        for key, kind in KNOWN.items():
            if key in data and not isinstance(data[key], kind):
                self.problem = (
                    f"{self.path}: {key!r} is {json.dumps(data[key])[:40]}, not "
                    f"{_KIND_NAMES.get(kind, kind.__name__)}; the app uses its default {key}"
                )
                break

    def _broken(self, why: str) -> None:
        self.problem = (
            f"{self.path} {why}; the app starts with its default preferences, and changing "
            "one writes the file anew"
        )

    def get(self, key: str) -> Any:
        """The value set for `key`, or None when it is not set (or not of its type)."""
        value = self.values.get(key)
        return value if isinstance(value, KNOWN[key]) else None

    def set(self, key: str, value: Any) -> None:
        """Keep `value` for `key` and write the file; UserError if it cannot be written."""
        if not isinstance(value, KNOWN[key]):
            raise TypeError(f"preference {key!r} takes {KNOWN[key].__name__}")
        if self.values.get(key) == value and self.problem is None:
            return
        self.values[key] = value
        text = json.dumps(self.values, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(
                f"cannot make {self.path.parent} for the preferences: {_reason(exc)}"
            ) from None
        write_output(self.path, text.encode("utf-8"))
        self.problem = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)
