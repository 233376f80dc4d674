"""Secrets out of everything stored or printed: config values under secret-like keys, header values,
credentials in URLs.

:func:`redact` returns a copy of a JSON-like value with secrets replaced by :data:`MASK`;
:func:`redact_text` masks credentials inside free text (error messages, URLs).
"""

from __future__ import annotations

import functools
import re
from typing import Any

MASK = "***"

#: Words that make a key secret wherever they appear as one of its parts (``api_token``, ``X-Api-Key``,
#: ``clientSecret``, ``Authorization``); ``max_tokens`` is not one (``tokens`` counts, it does not open).
SECRET_WORDS = frozenset(
    {
        "token",
        "secret",
        "key",
        "apikey",
        "password",
        "passwd",
        "pwd",
        "authorization",
        "auth",
        "credential",
        "credentials",
        "cookie",
        "bearer",
        "signature",
        "session",
    }
)
_PARTS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
#: Keys that hold HTTP headers: every value inside is masked.
HEADER_KEYS = frozenset({"headers", "extra_headers", "default_headers"})
#: Keys whose values are names, not secrets, although they match :data:`SECRET_KEY`.
NOT_SECRET = frozenset({"api_key_env"})

_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@", re.I)
#: ``Bearer …``/``Basic …``/``token …`` followed by something credential-like (12+ characters with a
#: digit), so that prose such as "basic strategy" or "token budget" in prompts and descriptions stays.
_BEARER = re.compile(
    r"(?P<kind>\b(?:bearer|basic|token)\s+)(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}", re.I
)
#: ``?key=…`` / ``&api_key=…`` in URLs: masked when the parameter's name is secret-like.
_QUERY = re.compile(r"(?P<head>[?&](?P<name>[^=&#\s]+)=)(?P<value>[^&#\s]+)")
#: Well-known API key shapes wherever they appear (OpenAI/Anthropic ``sk-…``, Google ``AIza…``).
_KEY_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_-]{16,}|AIza[0-9A-Za-z_-]{30,})")


#: Text without any of these holds nothing :func:`redact_text` masks (one scan instead of four).
_SUSPECT = re.compile(r"://|[?&][^=&#\s]+=|sk-|aiza|bearer|basic|token", re.I)


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether values under ``key`` are secrets."""
    if key in NOT_SECRET:
        return False
    return any(part.lower() in SECRET_WORDS for part in _PARTS.findall(key))


def redact(value: Any, *, _mask_all: bool = False) -> Any:
    """A copy of ``value`` (dicts, lists, strings, numbers) with every secret masked."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            name = str(key)
            if _mask_all or is_secret_key(name):
                out[key] = _masked(item)
            else:
                out[key] = redact(item, _mask_all=name.lower() in HEADER_KEYS)
        return out
    if isinstance(value, list | tuple):
        return type(value)(redact(item, _mask_all=_mask_all) for item in value)
    if isinstance(value, str):
        return MASK if _mask_all else redact_text(value)
    return MASK if _mask_all and value is not None else value


def _masked(item: Any) -> Any:
    if isinstance(item, dict):
        return {key: _masked(v) for key, v in item.items()}
    if isinstance(item, list | tuple):
        return type(item)(_masked(v) for v in item)
    return None if item is None else MASK


def redact_text(text: str) -> str:
    """``text`` with URL credentials (``scheme://user:pass@``), secret-like URL query parameters
    (``?api_key=…``), bearer tokens and well-known API key shapes (``sk-…``) masked."""
    if not _SUSPECT.search(text):
        return text
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    text = _QUERY.sub(lambda m: f"{m['head']}{MASK}" if is_secret_key(m["name"]) else m[0], text)
    text = _KEY_SHAPES.sub(MASK, text)
    return _BEARER.sub(lambda m: f"{m['kind']}{MASK}", text)
