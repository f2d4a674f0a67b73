"""Run settings: how a bulk run sends, in one JSON form that the page and the CLI both write.

A run keeps its `RunSettings` in the journal, so that any face (the app, the CLI, another
process after a crash) can open, resume or re-send it as it was set up. The JSON is versioned
(`{"version": 1, …}`) and never holds the vendor key. `RunSettings.from_json` also reads the two
older shapes stored before the settings had one form: the bulk page's (mapping as an object,
`rate` 0 for none, the legend by name) and the CLI's (mapping as a JSON string); old runs still
open. A legend stored by name only is not kept: the run's rows were prepared with it already.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

from leadstream.deliver.target import SettingsError, Target, TargetKind
from leadstream.prepare.legend import Legend, LegendError, LegendField
from leadstream.prepare.mapping import ColumnMapping, MappingError

__all__ = ["SETTINGS_VERSION", "RunSettings", "RunSettingsError"]

SETTINGS_VERSION = 1
_SECRET_NAMES = frozenset({"key", "vendor_key", "token", "access_token"})


class RunSettingsError(ValueError):
    """Run settings that cannot be used or read; the message says which value and why."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RunSettings:
    """How one bulk run sends: where, with which routing defaults, legend and mapping, how fast,
    and when to stop by itself.

    `user_id`/`cm_id` are the routing defaults rows without them were given; `canary` sends
    the first row alone and pauses if it fails; `pause_after_failures` pauses after that many
    failed rows in a row (0: never); `retry_of` names the run whose rows this one re-sends;
    `held_back` counts rows with warnings the person chose to leave out of the run.
    """

    target: Target
    user_id: str = ""
    cm_id: str = ""
    legend: Legend | None = None
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    concurrency: int = 4
    rate_per_s: float | None = None
    canary: bool = True
    pause_after_failures: int = 5
    include_duplicates: bool = False
    retry_of: int | None = None
    held_back: int = 0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise RunSettingsError(
                f"Concurrency is {self.concurrency}; send at least 1 lead at a time."
            )
        if self.rate_per_s is not None and not (
            self.rate_per_s > 0 and math.isfinite(self.rate_per_s)
        ):
            raise RunSettingsError(
                f"The rate is {self.rate_per_s}; give a number of leads a second above 0, or "
                "none for no limit."
            )
        if self.pause_after_failures < 0:
            raise RunSettingsError(
                f"Pause after {self.pause_after_failures} failures makes no sense; use 0 (never) "
                "or more."
            )
        if self.held_back < 0:
            raise RunSettingsError(f"held_back is {self.held_back}; it counts rows, from 0.")

    def with_target(self, target: Target) -> RunSettings:
        return replace(self, target=target)

    def to_json(self) -> str:
        """The settings as stored: `{"version": 1, "target": {"kind", "url"}, …}`."""
        legend = None
        if self.legend is not None:
            legend = {
                "name": self.legend.name,
                "cm_id": self.legend.cm_id,
                "fields": [
                    {"id": f.id, "name": f.name, "type": f.type.value} for f in self.legend.fields
                ],
            }
        document = {
            "version": SETTINGS_VERSION,
            "target": {"kind": self.target.kind.value, "url": self.target.url},
            "user_id": self.user_id,
            "cm_id": self.cm_id,
            "legend": legend,
            "mapping": {k: v for k, v in self.mapping.to_document().items() if k != "version"},
            "concurrency": self.concurrency,
            "rate_per_s": self.rate_per_s,
            "canary": self.canary,
            "pause_after_failures": self.pause_after_failures,
            "include_duplicates": self.include_duplicates,
            "retry_of": self.retry_of,
            "held_back": self.held_back,
        }
        return json.dumps(document, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, *, target: Target | None = None) -> RunSettings:
        """Read stored settings, of this version or an older shape.

        `target` is used when the text names none (the older shapes kept it beside the
        settings, in the run itself); a target in the text wins.
        """
        try:
            document = json.loads(text or "{}")
        except (ValueError, RecursionError):
            raise RunSettingsError(
                "The run's settings are not readable JSON; the run cannot be resumed."
            ) from None
        if not isinstance(document, dict):
            raise RunSettingsError("The run's settings must be a JSON object.")
        if "version" in document:
            return _current(document, target)
        return _legacy(document, target)


# --- reading ------------------------------------------------------------------------------------


def _current(document: dict[str, Any], fallback: Target | None) -> RunSettings:
    version = document.get("version")
    if version != SETTINGS_VERSION:
        raise RunSettingsError(
            f"These run settings are version {version!r}; this LeadStream Desk reads version "
            f"{SETTINGS_VERSION}. Update the app."
        )
    secret = _SECRET_NAMES & {str(name).lower() for name in document}
    if secret:
        raise RunSettingsError("Run settings must never hold a key or a token.")
    target = _target(document.get("target"), fallback)
    try:
        mapping = ColumnMapping.from_json(json.dumps(document.get("mapping") or {}))
    except MappingError as error:
        raise RunSettingsError(f"The run's column mapping: {error}") from None
    return RunSettings(
        target=target,
        user_id=_text(document, "user_id"),
        cm_id=_text(document, "cm_id"),
        legend=_legend(document.get("legend")),
        mapping=mapping,
        concurrency=_int(document, "concurrency", 4),
        rate_per_s=_rate(document.get("rate_per_s"), zero_is_none=False),
        canary=_bool(document, "canary", True),
        pause_after_failures=_int(document, "pause_after_failures", 5),
        include_duplicates=_bool(document, "include_duplicates", False),
        retry_of=_optional_int(document, "retry_of"),
        held_back=_int(document, "held_back", 0),
    )


def _legacy(document: dict[str, Any], fallback: Target | None) -> RunSettings:
    """The shapes stored before version 1: the page's and the CLI's."""
    if fallback is None:
        raise RunSettingsError("These old run settings need the run's target to be read.")
    raw = document.get("mapping")
    mapping = ColumnMapping()
    try:
        if isinstance(raw, str) and raw.strip():  # the CLI stored `ColumnMapping.to_json()`
            mapping = ColumnMapping.from_json(raw)
        elif isinstance(raw, dict):  # the page stored {"columns": …, "constants": …}
            mapping = ColumnMapping.from_json(json.dumps(raw))
    except MappingError:
        # The rows were prepared with it long ago: an unreadable old mapping must not keep
        # the run from opening; it only leaves the run's mapping unknown.
        mapping = ColumnMapping()
    constants = mapping.constants
    return RunSettings(
        target=fallback,
        user_id=constants.get("user_id", ""),
        cm_id=constants.get("cm_id", ""),
        mapping=mapping,
        concurrency=max(_int(document, "concurrency", 4), 1),
        rate_per_s=_rate(document.get("rate"), zero_is_none=True),
        canary=_bool(document, "canary", True),
        pause_after_failures=max(_int(document, "pause_after_failures", 5), 0),
        include_duplicates=_bool(document, "include_duplicates", False),
        retry_of=_optional_int(document, "retry_of"),
        held_back=max(_int(document, "held_back_with_warnings", 0), 0),
    )


def _target(raw: object, fallback: Target | None) -> Target:
    if raw is None and fallback is not None:
        return fallback
    if not isinstance(raw, dict):
        raise RunSettingsError('The run settings name no target ("target": {"kind", "url"}).')
    try:
        kind = TargetKind(str(raw.get("kind", "")))
        url = str(raw.get("url", ""))
        if kind is TargetKind.CUSTOM:
            return Target.custom(url)
        if kind is TargetKind.LIVE:
            return Target.live()
        return Target.sandbox(url)
    except (ValueError, SettingsError) as error:
        raise RunSettingsError(f"The run's target cannot be used: {error}") from None


def _legend(raw: object) -> Legend | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("fields", []), list):
        raise RunSettingsError('The run\'s legend must be {"name", "cm_id", "fields": […]}.')
    try:
        fields = tuple(
            LegendField(id=str(item["id"]), name=str(item["name"]), type=item.get("type", "text"))
            for item in raw.get("fields", [])
        )
    except (KeyError, TypeError, LegendError) as error:
        raise RunSettingsError(
            f"The run's legend has a field that cannot be read ({error})."
        ) from None
    return Legend(fields=fields, name=str(raw.get("name") or ""), cm_id=str(raw.get("cm_id") or ""))


def _text(document: dict[str, Any], name: str) -> str:
    value = document.get(name) or ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise RunSettingsError(f"{name} in the run settings must be text, not {value!r}.")
    return str(value).strip()


def _int(document: dict[str, Any], name: str, default: int) -> int:
    value = document.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise RunSettingsError(f"{name} in the run settings must be a whole number, not {value!r}.")
    return int(value)


def _optional_int(document: dict[str, Any], name: str) -> int | None:
    return None if document.get(name) is None else _int(document, name, 0)


def _bool(document: dict[str, Any], name: str, default: bool) -> bool:
    value = document.get(name, default)
    if not isinstance(value, bool):
        raise RunSettingsError(f"{name} in the run settings must be true or false, not {value!r}.")
    return value


def _rate(value: object, *, zero_is_none: bool) -> float | None:
    """A rate limit: none, or leads a second (the page's older shape stored 0 for none)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RunSettingsError(f"The rate in the run settings must be a number, not {value!r}.")
    if zero_is_none and value <= 0:
        return None
    return float(value)  # RunSettings refuses a rate that is not above 0
