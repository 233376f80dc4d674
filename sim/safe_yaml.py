"""A hardened YAML reader for scenario files: bounded size, depth and alias expansion, no duplicate keys,
and the YAML 1.2 core schema for plain scalars (only ``true``/``false`` are booleans).

PyYAML's ``safe_load`` is safe from code execution but not from resource exhaustion (a 10,000-deep
list overflows the recursion limit, a "billion laughs" alias bomb is harmless to parse but expands to
billions of items once walked), silently keeps the last of two equal keys, and speaks YAML 1.1, where
``off``, ``no``, ``yes`` and ``on`` are booleans and ``1:20`` is the integer 80.

:func:`load_text` first walks the event stream (libyaml's parser is iterative: no recursion however deep
the file) counting depth, aliases and the number of nodes the document expands to, then composes and
constructs it with :class:`StrictLoader`. Every problem is a :class:`YamlProblem` with a line and column.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import yaml

#: Largest scenario file read, in bytes (a bigger one, or an endless stream like /dev/zero, is refused).
MAX_BYTES = 1024 * 1024
#: Deepest nesting of mappings and lists.
MAX_DEPTH = 64
#: Most aliases (``*name``) in one document.
MAX_ALIASES = 1_000
#: Largest size the document may expand to, counting every alias as the whole subtree it repeats: each
#: scalar counts its length plus one, each mapping or list one (a file without aliases is at most its size).
MAX_EXPANDED = 4 * MAX_BYTES

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlProblem(ValueError):
    """A file that is not acceptable YAML; ``where`` is ``line L, column C`` (or empty for the whole file)."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


# ---------------------------------------------------------------------------------------------
# YAML 1.2 core schema for plain scalars: booleans, nulls, integers and floats.
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_CORE = (
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:int", _INT, "-+0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT, "-+0123456789."),
    ("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), "<"),
)


class StrictLoader(_Loader):  # type: ignore[misc,valid-type]
    """Safe loading with the YAML 1.2 core schema, duplicate keys refused (naming both lines)."""

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {}

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):
            raise YamlProblem(_where(node.start_mark), f"expected a mapping, found a {node.id}")
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:
                continue  # an unhashable key: the base class names it
            seen[key] = line
            if first is not None:
                raise YamlProblem(
                    _where(key_node.start_mark),
                    f"duplicate key {_short(key)!r} (first on line {first}, again on line {line})",
                )
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def core_scalar(self, node: yaml.ScalarNode) -> Any:
        """A ``!!bool``, ``!!null``, ``!!int`` or ``!!float`` scalar, implicit or tagged, checked against
        the YAML 1.2 core schema (``!!int abc`` or ``!!bool yes`` is an error, not a crash or a guess)."""
        text = str(self.construct_scalar(node))
        name = node.tag.rsplit(":", 1)[-1]
        if not _CORE_PATTERNS[node.tag].match(text):
            raise YamlProblem(_where(node.start_mark), f"{_short(text)!r} is not a valid !!{name}")
        if name == "bool":
            return text.lower() == "true"
        if name == "null":
            return None
        if name == "float":
            return self.construct_yaml_float(node)
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text, 10)

    def construct_undefined(self, node: yaml.Node) -> Any:
        raise YamlProblem(_where(node.start_mark), f"unknown tag {_short(node.tag)!r}")


_CORE_PATTERNS = {tag: regexp for tag, regexp, _ in _CORE}
for _tag, _regexp, _first in _CORE:
    StrictLoader.add_implicit_resolver(_tag, _regexp, list(_first))
    if not _tag.endswith(":merge"):
        StrictLoader.add_constructor(_tag, StrictLoader.core_scalar)
StrictLoader.add_constructor(None, StrictLoader.construct_undefined)
# Timestamps, binary, sets and ordered maps stay out: explicit tags for them are refused as unknown.
for _tag in ("timestamp", "binary", "set", "omap", "pairs"):
    StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", StrictLoader.construct_undefined)


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
def check_limits(text: str) -> None:
    """Raise :class:`YamlProblem` if ``text`` nests too deep, has too many aliases, or expands too far.

    Walks parser events only (nothing is built), keeping for each open collection the size it expands to
    so far (see :data:`MAX_EXPANDED`) and, for each anchor, the size of the subtree an alias repeats.
    """
    depth, aliases = 0, 0
    sizes: list[int] = [0]  # expanded sizes of the open collections (the stream at the bottom)
    anchored: list[str | None] = []
    anchors: dict[str, int] = {}
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise YamlProblem(_where(event.start_mark), f"more than {MAX_ALIASES} aliases")
            size = anchors.get(event.anchor or "")
            if event.anchor in anchored:
                message = f"alias *{_short(event.anchor)} is inside the node it refers to (a cycle)"
                raise YamlProblem(_where(event.start_mark), message)
            if size is None:
                raise YamlProblem(_where(event.start_mark), f"alias *{_short(event.anchor)} is not defined")
            sizes[-1] += size
        elif isinstance(event, yaml.ScalarEvent):
            size = len(event.value) + 1
            sizes[-1] += size
            if event.anchor:
                anchors[event.anchor] = size
        elif isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlProblem(_where(event.start_mark), f"nested deeper than {MAX_DEPTH} levels")
            sizes.append(1)
            anchored.append(event.anchor)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            size = sizes.pop()
            anchor = anchored.pop()
            if anchor:
                anchors[anchor] = size
            sizes[-1] += size
        else:
            continue
        if sum(sizes) > MAX_EXPANDED:
            message = f"aliases expand the document past {MAX_EXPANDED:,} characters (an alias bomb?)"
            raise YamlProblem(_where(event.start_mark), message)


def load_text(text: str) -> Any:
    """Parse one YAML document within the limits above; raise :class:`YamlProblem` on any problem."""
    try:
        check_limits(text)
        return yaml.load(text, Loader=StrictLoader)  # StrictLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own limit (1,000), met while reading ahead
            raise YamlProblem(_where(mark), f"nested deeper than {MAX_DEPTH} levels") from None
        raise YamlProblem(_where(mark), f"not valid YAML: {problem}") from None
    except RecursionError:  # not expected within MAX_DEPTH; never a traceback all the same
        raise YamlProblem("", f"nested deeper than {MAX_DEPTH} levels") from None
    except YamlProblem:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a constructor's own surprise
        raise YamlProblem("", f"not valid YAML: {type(exc).__name__}: {_short(exc, 120)}") from None


def read_limited(path: Path, limit: int = MAX_BYTES) -> str:
    """The file's UTF-8 text, reading at most ``limit + 1`` bytes (OSError / UnicodeDecodeError pass up)."""
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise YamlProblem("", f"the file is larger than {limit:,} bytes (scenario files are small)")
    return data.decode("utf-8")
