"""The page registry: every page registered once, with the roles that may open it declared beside it; role lists,
the access rules and the navigation are derived from it, never by slicing a list."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from evidence_app.access import PAGES, may_open, open_pages
from evidence_app.access.pages import EVERY_ROLE, REGISTRY, Page, page

PACKAGE = Path(__file__).resolve().parent.parent / "evidence_app"
APP_PAGES = PACKAGE / "ui" / "app_pages"


def test_a_page_without_roles_cannot_be_declared():
    with pytest.raises(TypeError):
        Page("new_page", "New page", ":material/star:")  # type: ignore[call-arg]


def test_a_page_with_no_role_is_refused():
    with pytest.raises(ValueError, match="new_page"):
        Page("new_page", "New page", ":material/star:", frozenset())


def test_a_page_naming_an_unknown_role_is_refused():
    with pytest.raises(ValueError, match="visitor"):
        Page("new_page", "New page", ":material/star:", frozenset({"visitor"}))


def test_every_page_file_is_registered_once():
    stems = [p.stem for p in REGISTRY]
    assert len(stems) == len(set(stems))
    assert set(stems) == {f.stem for f in APP_PAGES.glob("*.py") if f.stem != "__init__"}


def test_pages_are_the_registry_in_order():
    assert PAGES == tuple(p.stem for p in REGISTRY)


@pytest.mark.parametrize("entry", REGISTRY, ids=[p.stem for p in REGISTRY])
def test_each_role_opens_exactly_the_pages_that_name_it(entry):
    assert {role for role in EVERY_ROLE if may_open(role, entry.stem)} == entry.roles


def test_a_page_appended_for_every_role_is_not_admin_only(monkeypatch):
    """The old trap: role lists sliced off the last page, so a page after the access log became admin-only."""
    import evidence_app.access.grants as grants

    extra = Page("zz_new", "New", ":material/star:", EVERY_ROLE)
    monkeypatch.setattr(grants, "REGISTRY", (*REGISTRY, extra))
    assert extra in grants.open_pages("auditor", signed_in=True)


def test_without_sign_in_pages_needing_it_are_not_offered():
    assert [p.stem for p in open_pages(None, signed_in=False)] == [p.stem for p in REGISTRY if not p.needs_sign_in]
    assert page("access_log") not in open_pages(None, signed_in=False)


def test_signed_in_roles_are_offered_their_pages_in_registry_order():
    assert [p.stem for p in open_pages("admin", signed_in=True)] == list(PAGES)
    assert page("access_log") not in open_pages("auditor", signed_in=True)


def test_an_unknown_page_stem_is_a_key_error():
    with pytest.raises(KeyError):
        page("nowhere")


def _slices_of_page_lists(path: Path) -> list[int]:
    """Line numbers where a page list (PAGES, REGISTRY, ROLE_PAGES…) is sliced."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice)
            and isinstance(node.value, ast.Name) and ("PAGE" in node.value.id or node.value.id == "REGISTRY")]


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_role_list_is_derived_by_slicing(path):
    assert not _slices_of_page_lists(path), f"{path.name}: a page list is sliced"
