"""The project stands alone: its documentation and package point at nothing outside the
repository (the folder ``../shared`` beside it, which users do not have), every relative
Markdown link of the README and docs/ leads to a file of the repository, and none of the
published lists kept in ``../shared/data/official-lists`` is committed."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from taobao_pipeline_tests.prerequisites import require

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_LISTS = ROOT.parent / "shared" / "data" / "official-lists"
OUTSIDE = (b"../shared", b"shared/spec", b"shared/data")

# [text](target) and ![alt](target), target optionally in <...>, optionally with a "title"
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+[\"'(][^)]*)?\)")
# [label]: target
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)", re.MULTILINE)
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _tracked() -> list[str] | None:
    """The repository's tracked files (relative paths), or None without git."""
    if shutil.which("git") is None:
        return None
    done = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=False
    )
    if done.returncode != 0:
        return None
    return [p for p in done.stdout.decode("utf-8").split("\0") if p]


def _files(top: Path) -> list[Path]:
    """Every file under ``top`` (or ``top`` itself), caches left out."""
    if top.is_file():
        return [top]
    return sorted(p for p in top.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _prose(text: str) -> str:
    """The Markdown without its code blocks and code spans (they hold no links)."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _links(text: str) -> list[str]:
    prose = _prose(text)
    found = [m.group(1) for m in INLINE_LINK.finditer(prose)]
    found += [m.group(1) for m in REFERENCE_LINK.finditer(prose)]
    return [t[1:-1] if t.startswith("<") and t.endswith(">") else t for t in found]


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in ("L", "N", "M"))
    return kept.replace(" ", "-")


def _anchors(markdown: Path) -> set[str]:
    anchors: set[str] = set()
    for heading in HEADING.findall(FENCE.sub("", markdown.read_text(encoding="utf-8"))):
        slug, n = _slug(heading), 1
        unique = slug
        while unique in anchors:
            unique, n = f"{slug}-{n}", n + 1
        anchors.add(unique)
    return anchors


def test_nothing_points_outside_the_repository() -> None:
    scanned = [
        *_files(ROOT / "taobao_pipeline"),
        ROOT / "README.md",
        *_files(ROOT / "docs"),
    ]
    found = [
        f"{path.relative_to(ROOT)}: {needle.decode()}"
        for path in scanned
        for needle in OUTSIDE
        if needle in path.read_bytes()
    ]
    assert not found, "files that point at the folder beside the project:\n" + "\n".join(found)


def test_every_relative_markdown_link_leads_to_a_file_of_the_repository() -> None:
    tracked = _tracked()
    in_repo = set(tracked) if tracked is not None else None
    broken = []
    for markdown in _markdown_files():
        for target in _links(markdown.read_text(encoding="utf-8")):
            if SCHEME.match(target) or target.startswith("#"):
                continue  # a URL, or an anchor of the page itself
            path_part, _, anchor = target.partition("#")
            where = f"{markdown.relative_to(ROOT)}: {target}"
            resolved = (markdown.parent / path_part).resolve()
            try:
                relative = resolved.relative_to(ROOT).as_posix()
            except ValueError:
                broken.append(f"{where} (outside the repository)")
                continue
            if not resolved.exists():
                broken.append(f"{where} (no such file)")
            elif in_repo is not None and resolved.is_file() and relative not in in_repo:
                broken.append(f"{where} (not tracked by git: absent from a clone)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{where} (no heading with that anchor)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_no_published_list_is_committed() -> None:
    if not OFFICIAL_LISTS.is_dir():
        # ../shared is outside the repository: CI's clean clone has none and passes without
        # it, so this skips under CI=true too (not ``prerequisites.require``)
        pytest.skip(f"{OFFICIAL_LISTS} is not present")
    tracked = _tracked()
    require(tracked is not None, "not a git work tree: no tracked files to compare")
    lists = {
        hashlib.sha256(p.read_bytes()).hexdigest(): p.relative_to(OFFICIAL_LISTS).as_posix()
        for p in _files(OFFICIAL_LISTS)
    }
    assert lists, f"{OFFICIAL_LISTS} holds no file"
    sizes = {p.stat().st_size for p in _files(OFFICIAL_LISTS)}
    committed = []
    for name in tracked:
        path = ROOT / name
        # only a file of a list's size can be one; one deleted in the work tree is skipped
        if path.is_file() and not path.is_symlink() and path.stat().st_size in sizes:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest in lists:
                committed.append(f"{name} is {lists[digest]}")
    assert not committed, "published lists in the repository:\n" + "\n".join(committed)
