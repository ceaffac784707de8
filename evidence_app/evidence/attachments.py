"""A pack's embedded files, read defensively: the /EmbeddedFiles name tree walked with limits, and every
oddity (malformed node, duplicate or misnamed entry, diverging streams, file-attachment annotation) reported
as a problem instead of raised."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_DEPTH = 32
"""A name tree deeper than this is treated as malformed (a genuine pack's is one level)."""
MAX_NODES = 10_000
"""Nodes visited at most, so a crafted tree cannot make verification walk forever."""


@dataclass(frozen=True)
class Attachments:
    """The files embedded in one revision of a PDF, and what was wrong with how they are embedded."""

    files: dict[str, bytes]
    """Name → decoded bytes, for every well-formed entry."""
    problems: tuple[str, ...]
    """Each structural problem in words; any problem means the attachments cannot be vouched for."""


@dataclass
class _Walk:
    """State of one walk over a name tree."""

    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seen: set = field(default_factory=set)
    nodes: int = 0


def read_attachments(root) -> Attachments:  # noqa: ANN001 - a pyHanko catalogue dictionary
    """Every embedded file of the catalogue `root`, and every problem found on the way."""
    walk = _Walk()
    names = _get(root, "/Names", walk, "the catalogue's /Names")
    tree = _get(names, "/EmbeddedFiles", walk, "/Names /EmbeddedFiles") if names is not None else None
    if tree is not None:
        _node(tree, 0, walk)
    _annotations(root, walk)
    return Attachments(dict(walk.files), tuple(walk.problems))


def _get(container, key: str, walk: _Walk, what: str):  # noqa: ANN001, ANN202
    """container[key] resolved, None when absent; a value that is not a dictionary is a problem."""
    from pyhanko.pdf_utils import generic

    if key not in container:
        return None
    value = container[key]
    if not isinstance(value, generic.DictionaryObject):
        walk.problems.append(f"{what} is not a dictionary")
        return None
    return value


def _node(node, depth: int, walk: _Walk) -> None:  # noqa: ANN001
    """One name-tree node: its /Kids recursively, its /Names pairs as files."""
    from pyhanko.pdf_utils import generic

    walk.nodes += 1
    if depth > MAX_DEPTH or walk.nodes > MAX_NODES:
        walk.problems.append("the /EmbeddedFiles tree is too deep or too large")
        return
    if not isinstance(node, generic.DictionaryObject):
        walk.problems.append("an /EmbeddedFiles tree node is not a dictionary")
        return
    if "/Kids" in node:
        kids = node.raw_get("/Kids")
        kids = kids.get_object() if isinstance(kids, generic.IndirectObject) else kids
        if not isinstance(kids, generic.ArrayObject):
            walk.problems.append("an /EmbeddedFiles /Kids entry is not an array")
        else:
            for i in range(len(kids)):
                _kid(kids.raw_get(i), depth, walk)
    if "/Names" in node:
        _pairs(node["/Names"], walk)


def _kid(ref, depth: int, walk: _Walk) -> None:  # noqa: ANN001
    """Follow one /Kids reference once (a cycle is a problem, not an endless loop)."""
    from pyhanko.pdf_utils import generic

    if isinstance(ref, generic.IndirectObject):
        if ref.reference in walk.seen:
            walk.problems.append("the /EmbeddedFiles tree refers to the same node twice")
            return
        walk.seen.add(ref.reference)
        ref = ref.get_object()
    _node(ref, depth + 1, walk)


def _pairs(names, walk: _Walk) -> None:  # noqa: ANN001
    """A /Names array: name, file specification, name, file specification…"""
    from pyhanko.pdf_utils import generic

    if not isinstance(names, generic.ArrayObject) or len(names) % 2:
        walk.problems.append("an /EmbeddedFiles /Names entry is not an array of name/file pairs")
        return
    for i in range(0, len(names), 2):
        name = _text(names[i])
        if name is None:
            walk.problems.append(f"entry {i // 2 + 1} of /EmbeddedFiles has no text name")
            continue
        data = _file_data(name, names[i + 1], walk)
        if data is None:
            continue
        if name in walk.files:
            walk.problems.append(f"{name} is embedded twice")
            continue
        walk.files[name] = data


def _file_data(name: str, spec, walk: _Walk) -> bytes | None:  # noqa: ANN001
    """The bytes of one file specification; its own names and all its streams must agree."""
    from pyhanko.pdf_utils import generic

    if not isinstance(spec, generic.DictionaryObject):
        walk.problems.append(f"{name}: the file specification is not a dictionary")
        return None
    for key in ("/F", "/UF"):
        if key in spec and _text(spec[key]) != name:
            walk.problems.append(f"{name}: its file specification names it {_text(spec[key])!r} ({key})")
            return None
    ef = spec.get("/EF")
    if not isinstance(ef, generic.DictionaryObject) or not len(ef):
        walk.problems.append(f"{name}: the file specification has no embedded stream (/EF)")
        return None
    streams = [ef[k] for k in ef]
    if not all(isinstance(s, generic.StreamObject) for s in streams):
        walk.problems.append(f"{name}: an /EF entry is not a stream")
        return None
    datas = {s.data for s in streams}
    if len(datas) != 1:
        walk.problems.append(f"{name}: its /EF streams hold different bytes")
        return None
    return datas.pop()


def _text(value) -> str | None:  # noqa: ANN001
    """A PDF string as text (None for anything else)."""
    from pyhanko.pdf_utils import generic

    if isinstance(value, generic.TextStringObject):
        return str(value)
    if isinstance(value, generic.ByteStringObject):
        return bytes(value).decode("latin-1")
    return None


def _annotations(root, walk: _Walk) -> None:  # noqa: ANN001
    """File-attachment annotations carry files outside the name tree; a pack has none."""
    from pyhanko.pdf_utils import generic

    pages = _get(root, "/Pages", walk, "the catalogue's /Pages")
    stack, seen = ([(pages, 0)] if pages is not None else []), set()
    while stack:
        node, depth = stack.pop()
        walk.nodes += 1
        if depth > MAX_DEPTH or walk.nodes > MAX_NODES:
            walk.problems.append("the page tree is too deep or too large")
            return
        kids = node.get("/Kids")
        if isinstance(kids, generic.ArrayObject):
            for i in range(len(kids)):
                ref = kids.raw_get(i)
                key = ref.reference if isinstance(ref, generic.IndirectObject) else id(ref)
                kid = ref.get_object() if isinstance(ref, generic.IndirectObject) else ref
                if key not in seen and isinstance(kid, generic.DictionaryObject):
                    seen.add(key)
                    stack.append((kid, depth + 1))
        annots = node.get("/Annots")
        if isinstance(annots, generic.ArrayObject):
            for annot in annots:
                if isinstance(annot, generic.DictionaryObject) and annot.get("/Subtype") == "/FileAttachment":
                    walk.problems.append("a page carries a file-attachment annotation")
