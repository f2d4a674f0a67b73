"""Lead → ordered query pairs → URL, and back the way a PHP server reads a query string.

The pairs are the single source of truth: the request that is sent, the masked preview, the curl
command and the "what the server will receive" table are all made from them. `decode_query` is
the one definition of how the server reads them, shared by the sandbox and the previews.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote, unquote_plus

from leadstream.protocol.lead import LEAD_FIELDS, STANDARD_FIELDS, Lead, Phone, PhoneType

__all__ = [
    "PHONEBURNER_URL",
    "SAFE_URL_LENGTH",
    "DecodedQuery",
    "LengthWarning",
    "QueryPairs",
    "build_url",
    "check_length",
    "curl_command",
    "decode_pairs",
    "decode_query",
    "encode_pairs",
    "lead_from_query",
    "lead_to_pairs",
    "mask_secret",
    "mask_url",
    "masked_url",
    "split_pairs",
]

PHONEBURNER_URL = "https://www.phoneburner.com/api/vendor/put_contact"
# Many servers and proxies refuse request lines over 8 KiB.
SAFE_URL_LENGTH = 8000

QueryPairs = list[tuple[str, str]]
DecodedQuery = dict[str, "str | list[str] | dict[str, str]"]

_PHONES = "additional_phones[]"
_PHONE_TYPES = "additional_phone_types[]"
_PHONE_LABELS = "additional_phone_labels[]"
_TAGS = "tags[]"
_ROUTING = ("user_id", "cm_id")


def lead_to_pairs(lead: Lead, *, key: str) -> QueryPairs:
    """The lead as ordered `(name, value)` pairs, in the vendor document's order.

    Empty standard fields are left out: an absent field and an empty one mean the same to the
    endpoint, and leaving them out keeps URLs short. Phones always send all three arrays so that
    they stay aligned even when a label is empty.
    """
    pairs: QueryPairs = []
    if key:
        pairs.append(("key", key))
    for spec in STANDARD_FIELDS:
        value = getattr(lead, spec.name)
        if value:
            pairs.append((spec.name, value))
    for field_id, value in lead.custom_fields.items():
        pairs.append((f"custom_field[{field_id}]", value))
    for name in _ROUTING:
        value = getattr(lead, name)
        if value:
            pairs.append((name, value))
    for phone in lead.additional_phones:
        pairs.append((_PHONES, phone.number))
        pairs.append((_PHONE_TYPES, str(int(phone.type))))
        pairs.append((_PHONE_LABELS, phone.label))
    for tag in lead.tags:
        pairs.append((_TAGS, tag))
    return pairs


# Brackets stay readable in names (PHP reads them either way); values are encoded completely,
# so `+`, `&`, `=`, `#` and every non-ASCII character arrive exactly as typed.
_NAME_SAFE = "[]"


def _quote_name(name: str, _cache: dict[str, str] = {}) -> str:  # noqa: B006 - a memo
    quoted = _cache.get(name)
    if quoted is None:
        quoted = _cache[name] = quote(name, safe=_NAME_SAFE)
    return quoted


# Values made only of unreserved characters come out of `quote` unchanged; most values are, and
# skipping `quote` for them halves the cost of a URL (100,000 of them in a dry run).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


# What `quote(value, safe="")` does to each ASCII character, as one table: `str.translate` does
# in C what `quote` does character by character in Python (a third of a dry run's URL cost).
_ASCII_QUOTED = {
    code: chr(code) if _UNRESERVED.fullmatch(chr(code)) else f"%{code:02X}" for code in range(128)
}


def _quote_value(value: str) -> str:
    if _UNRESERVED.fullmatch(value):
        return value
    if value.isascii():
        return value.translate(_ASCII_QUOTED)
    return quote(value, safe="")


def encode_pairs(pairs: Iterable[tuple[str, str]]) -> str:
    """The query string for `pairs`, every value percent-encoded as UTF-8."""
    return "&".join(f"{_quote_name(name)}={_quote_value(value)}" for name, value in pairs)


def build_url(lead: Lead, *, key: str, base_url: str = PHONEBURNER_URL) -> str:
    """The full GET URL that posts `lead`."""
    return f"{base_url}?{encode_pairs(lead_to_pairs(lead, key=key))}"


def mask_secret(secret: str) -> str:
    """A stand-in for a secret that tells two keys apart without revealing either."""
    if len(secret) >= 12:
        return f"****{secret[-2:]}"
    return "****"


_KEY_IN_QUERY = re.compile(r"(?P<lead>[?&]key=)(?P<key>[^&#\s]*)")


def mask_url(url: str) -> str:
    """`url` with the value of its `key` parameter masked; safe to show, log and store."""
    # The stand-in is encoded again: a key ending in `&` or `%` must not leave a stray parameter
    # or a broken escape in the masked URL.
    return _KEY_IN_QUERY.sub(
        lambda m: m.group("lead") + quote(mask_secret(unquote_plus(m.group("key"))), safe="*"),
        url,
    )


def masked_url(lead: Lead, *, key: str, base_url: str = PHONEBURNER_URL) -> str:
    """`mask_url(build_url(lead, key=key, base_url=base_url))`, made without ever holding the
    URL with the key in it (and without searching it again), for showing many URLs."""
    query = encode_pairs(lead_to_pairs(lead, key=""))
    if not key:
        return f"{base_url}?{query}"
    # `key` is the first parameter of every URL (`lead_to_pairs`).
    shown = "key=" + quote(mask_secret(key), safe="*")
    return f"{base_url}?{shown}&{query}" if query else f"{base_url}?{shown}"


def curl_command(url: str) -> str:
    """A copyable curl command for `url` (mask it first when it is for display)."""
    # --globoff: without it curl reads `tags[]` and `custom_field[123]` as its own URL ranges.
    return "curl -sS --globoff '" + url.replace("'", "'\\''") + "'"


@dataclass(frozen=True, slots=True)
class LengthWarning:
    length: int
    limit: int
    largest_fields: tuple[tuple[str, int], ...]

    @property
    def message(self) -> str:
        culprits = ", ".join(f"{name} ({size:,} characters)" for name, size in self.largest_fields)
        return (
            f"This request is {self.length:,} characters long; servers often refuse more than "
            f"{self.limit:,}. The longest parts are {culprits}. Shorten them or move text "
            "out of the lead."
        )


def check_length(
    pairs: Sequence[tuple[str, str]],
    *,
    base_url: str = PHONEBURNER_URL,
    limit: int = SAFE_URL_LENGTH,
) -> LengthWarning | None:
    """A warning naming the largest fields when the URL would be longer than `limit`."""
    sizes: dict[str, int] = {}
    for name, value in pairs:
        # `name=value` and the `?` or `&` in front of it.
        encoded = len(_quote_name(name)) + 1 + len(quote(value, safe="")) + 1
        sizes[name] = sizes.get(name, 0) + encoded
    length = len(base_url) + (sum(sizes.values()) or len("?"))
    if length <= limit:
        return None
    sizes.pop("key", None)
    largest = sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:3]
    return LengthWarning(length=length, limit=limit, largest_fields=tuple(largest))


def split_pairs(query: str) -> QueryPairs:
    """The ordered pairs of a query string, decoded as PHP does (`+` is a space)."""
    pairs: QueryPairs = []
    for part in query.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


class _Name(NamedTuple):
    """A parameter name as PHP reads it: `base`, `base[key]`, or `base[]` (key None)."""

    base: str
    bracketed: bool = False
    key: str | None = None


_NAME_MANGLED = str.maketrans(" .", "__")
_INDEX_MANGLED = str.maketrans(" .[", "___")
_PHP_INT = re.compile(r"-?[1-9][0-9]*|0")
_PHP_INT_MAX = 2**63 - 1


def _php_name(raw: str) -> _Name | None:
    """How PHP reads a decoded parameter name; None for a name PHP ignores (empty)."""
    # PHP's names are C strings (cut at NUL), lose leading spaces, and cannot hold a space or a
    # dot; an unclosed `[` is not an index but part of the name.
    name = raw.partition("\0")[0].lstrip(" ")
    base, bracket, rest = name.partition("[")
    base = base.translate(_NAME_MANGLED)
    if not base:
        return None
    if not bracket:
        return _Name(base)
    start = 1 if rest.startswith(" ") else 0
    if rest[start : start + 1] == "]":
        return _Name(base, bracketed=True)
    close = rest.find("]", start)
    if close < 0:
        return _Name(f"{base}_{rest.translate(_INDEX_MANGLED)}")
    # Anything after the first `]` (a nested `[x][y]`) is left aside: the vendor's names never
    # nest, and a dict of strings cannot hold it.
    return _Name(base, bracketed=True, key=rest[:close])


def _php_int(index: str) -> int | None:
    """The integer PHP makes of an array key such as `297989`, or None for a string key."""
    if _PHP_INT.fullmatch(index) is None:
        return None
    number = int(index)
    return number if -_PHP_INT_MAX - 1 <= number <= _PHP_INT_MAX else None


def decode_query(query: str) -> DecodedQuery:
    """Read a query string into the structure PHP's `$_GET` would hold (see `decode_pairs`)."""
    return decode_pairs(split_pairs(query.removeprefix("?")))


def decode_pairs(pairs: Iterable[tuple[str, str]]) -> DecodedQuery:
    """Read already-split pairs into the structure PHP's `$_GET` would hold.

    `name[]` appends to a list, `name[key]` fills a map, a plain name is a string; a later plain
    value replaces an earlier one, as in PHP. A name that mixes `[]` and `[key]` becomes a map
    whose appended keys are numbered as PHP numbers them. Names are read as PHP reads them
    (`a.b` and `a b` become `a_b`, an empty name is dropped); nested brackets keep the first.
    """
    decoded: DecodedQuery = {}
    # PHP's next free integer key of each map that may receive `name[]` (absent: none yet).
    next_free: dict[str, int] = {}
    for raw_name, value in pairs:
        name = _php_name(raw_name)
        if name is None:
            continue
        base, index = name.base, name.key
        current = decoded.get(base)
        if not name.bracketed:
            decoded[base] = value
            next_free.pop(base, None)
            continue
        if index is None and not isinstance(current, dict):
            if not isinstance(current, list):
                current = decoded[base] = []
                next_free.pop(base, None)
            current.append(value)
            continue
        if not isinstance(current, dict):
            items = current if isinstance(current, list) else []
            current = decoded[base] = {str(position): item for position, item in enumerate(items)}
            next_free.pop(base, None)
            if items:
                next_free[base] = len(items)
        if index is None:
            index = str(next_free.get(base, 0))
            if index in current:
                continue  # PHP drops an append once the integer keys have run out
        current[index] = value
        number = _php_int(index)
        if number is not None and (base not in next_free or number >= next_free[base]):
            next_free[base] = min(number + 1, _PHP_INT_MAX)
    return decoded


def _as_list(value: object) -> list[str]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return [] if value is None else [str(value)]


def lead_from_query(decoded: DecodedQuery) -> Lead:
    """The lead a server would see in `decoded` (the key, and anything unknown, left aside)."""
    scalars = {
        spec.name: value
        for spec in LEAD_FIELDS
        if isinstance(value := decoded.get(spec.name, ""), str)
    }
    custom = decoded.get("custom_field")
    numbers = _as_list(decoded.get("additional_phones"))
    types = _as_list(decoded.get("additional_phone_types"))
    labels = _as_list(decoded.get("additional_phone_labels"))
    phones = []
    for index, number in enumerate(numbers):
        raw_type = types[index] if index < len(types) else ""
        try:
            phone_type = PhoneType.parse(raw_type)
        except ValueError:
            phone_type = PhoneType.OTHER
        phones.append(Phone(number, phone_type, labels[index] if index < len(labels) else ""))
    return Lead(
        **scalars,
        custom_fields=dict(custom) if isinstance(custom, dict) else {},
        additional_phones=phones,
        tags=_as_list(decoded.get("tags")),
    )
