"""The design the code cites lives in the repository and every reference points to it; the README's layout
names every package and top-level module; comments leave benchmark figures to bench/RESULTS.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "evidence_app"
README = (ROOT / "README.md").read_text(encoding="utf-8")
SOURCES = sorted([*PACKAGE.rglob("*.py"), *(ROOT / "tests").glob("*.py"), ROOT / "README.md"])


def _layout() -> str:
    return README.split("## Layout", 1)[1]


def test_the_design_and_the_data_map_live_in_docs():
    assert (ROOT / "docs/DESIGN.md").is_file() and (ROOT / "docs/data-forms.md").is_file()


def test_the_readme_links_both_documents():
    assert "(docs/DESIGN.md)" in README and "(docs/data-forms.md)" in README


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_design_reference_points_into_docs(path):
    text = path.read_text(encoding="utf-8")
    stray = [m.start() for m in re.finditer(r"(?<![/\w])DESIGN\.md", text)]
    if path.name == "README.md":  # the layout's docs/ line names the file inside the folder it lists
        stray = [at for at in stray if not text[max(0, at - 20):at].rstrip().endswith("docs/")]
    assert not stray, f"{path.name}: the design cited without its docs/ folder"


TOP_LEVEL = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
PACKAGES = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file())


@pytest.mark.parametrize("name", TOP_LEVEL + PACKAGES)
def test_the_layout_names_every_package_and_top_level_module(name):
    assert re.search(rf"\b{re.escape(name)}(\.py|/)", _layout()), f"README Layout does not name {name}"


_FIGURE = re.compile(
    r"\d(?:\.\d+)?\s?×"                                       # a measured ratio: 8× faster, 2.4×
    r"|\d\s?% (?:faster|slower|less|more)"                       # ~15 % faster
    r"|\d\s?(?:→|->)\s?\d[\d,.]*\s?(?:s|ms|MB|GB|MiB|GiB)\b"      # 941 → 686 MB
    r"|(?:MB|GB|MiB|GiB) (?:less|more|peak)"                     # ~100 MB less peak
    r"|~\d[\d.]*\s?(?:s|ms)\b"                                  # ~0.1 s a figure
    r"|\b(?:two|three|four|five|ten|\d+) times (?:faster|slower)"  # three times faster
)
"""What a benchmark figure looks like in prose; limits and facts (a 2 MB D1 row, 1 GB Logpush batches) are not."""


def _comments_and_docstrings(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    found, inside = [], False
    for n, line in enumerate(lines, 1):
        quotes = line.count('"""')
        if inside or quotes or line.lstrip().startswith("#") or "  # " in line:
            found.append((n, line))
        if quotes % 2:
            inside = not inside
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_comments_quote_no_benchmark_figures(path):
    quoted = [f"{n}: {line.strip()}" for n, line in _comments_and_docstrings(path) if _FIGURE.search(line)]
    assert not quoted, "benchmark figures belong in bench/RESULTS.md:\n" + "\n".join(quoted)
