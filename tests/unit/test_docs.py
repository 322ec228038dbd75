"""The documentation cites only what exists: every `docs/….md` that code or docs name, every
relative link and its `#anchor`, and every repository path or module the docs write in backticks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from tests.support.repository import ROOT

DOCS = ROOT / "docs"
READERS_DOCS = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
# where a `docs/….md` may be cited: the code, the docs, the image, the scripts, the example
# settings and the project's own configuration
CITING = [ROOT / "monitor", ROOT / "README.md", DOCS, ROOT / "Dockerfile", ROOT / "scripts",
          ROOT / "config", ROOT / "pyproject.toml", ROOT / ".ci"]

DOC_CITATION = re.compile(r"\bdocs/[\w./-]*?\.md\b")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
# a path into the repository: a top-level folder of it (or one that is gone), then path characters
REPOSITORY_PATH = re.compile(r"(?:monitor|config|scripts|benchmarks|tests|docs|dashboards|\.ci)"
                             r"(?:/[\w.-]+)*/?")
MODULE = re.compile(r"monitor(?:\.\w+)+")
EDGES = "\"'(),;:.[]"


def text_files(paths: list[Path]) -> Iterator[tuple[Path, str]]:
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if not file.is_file() or "__pycache__" in file.parts:
                continue
            try:
                yield file, file.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue  # an image or another binary file cites nothing


def prose_and_code(text: str) -> tuple[list[str], list[str]]:
    """The lines outside fenced code blocks, and those inside them."""
    prose, code, fenced = [], [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        (code if fenced else prose).append(line)
    return prose, code


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text only
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_and_code(markdown)[0]:
        match = HEADING.match(line)
        if match:
            name = anchor(match.group(2))
            count = seen.get(name, 0)
            seen[name] = count + 1
            found.add(name if count == 0 else f"{name}-{count}")
    return found


def links(markdown: str) -> Iterator[str]:
    """Relative link targets of the prose (not of code, inline or fenced)."""
    for line in prose_and_code(markdown)[0]:
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                yield target


def code_tokens(markdown: str) -> Iterator[str]:
    """Every word written in backticks: inline code spans and fenced code blocks."""
    prose, code = prose_and_code(markdown)
    for line in prose:
        for span in INLINE_CODE.findall(line):
            yield from span.split()
    for line in code:
        yield from line.split()


def trimmed(token: str) -> str:
    token = token.strip(EDGES)
    return token.removeprefix("./")


def module_exists(dotted: str) -> bool:
    """`monitor.a.b` is a package or module, or a name its last module defines or imports."""
    parts = dotted.split(".")
    path = ROOT / parts[0]
    rest = parts[1:]
    while rest and ((path / rest[0]).is_dir() or (path / f"{rest[0]}.py").is_file()):
        path = path / rest[0] if (path / rest[0]).is_dir() else path / f"{rest[0]}.py"
        rest = rest[1:]
    if not rest:
        return True
    source = path / "__init__.py" if path.is_dir() else path
    return len(rest) == 1 and source.is_file() and re.search(
        rf"\b{re.escape(rest[0])}\b", source.read_text(encoding="utf-8")) is not None


def test_anchors_are_made_as_github_makes_them():
    assert anchor("Webhook payload (version 1)") == "webhook-payload-version-1"
    assert anchor("The daemon: `meshwatch run`") == "the-daemon-meshwatch-run"
    assert anchor("Data Contract Specification 1.x") == "data-contract-specification-1x"
    assert anchor("Looking back in time: `?at=`") == "looking-back-in-time-at"
    assert anchor("Alerts — consumers") == "alerts--consumers"
    assert anchors("# A\n```\n# not a heading\n```\n## A\n") == {"a", "a-1"}


def test_every_doc_that_the_code_or_the_docs_cite_exists():
    cited = {(file.relative_to(ROOT), name) for file, text in text_files(CITING)
             for name in DOC_CITATION.findall(text)}
    missing = sorted(f"{file}: {name}" for file, name in cited if not (ROOT / name).is_file())
    assert {name for _, name in cited} >= {"docs/alerting.md", "docs/dashboard.md",
                                           "docs/deploy.md"}
    assert not missing, "cited but missing:\n" + "\n".join(missing)


def test_every_relative_link_in_the_docs_leads_to_a_file_and_heading():
    broken = []
    for doc in READERS_DOCS:
        for target in links(doc.read_text(encoding="utf-8")):
            path, _, fragment = target.partition("#")
            linked = (doc.parent / path).resolve() if path else doc
            name = f"{doc.relative_to(ROOT)}: {target}"
            if not linked.exists():
                broken.append(f"{name} (no such file)")
            elif fragment and fragment not in anchors(linked.read_text(encoding="utf-8")):
                broken.append(f"{name} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_every_repository_path_the_docs_name_exists():
    missing = sorted({f"{doc.relative_to(ROOT)}: {path}" for doc in READERS_DOCS
                      for path in map(trimmed, code_tokens(doc.read_text(encoding="utf-8")))
                      if REPOSITORY_PATH.fullmatch(path) and not (ROOT / path).exists()})
    assert not missing, "named but missing:\n" + "\n".join(missing)


def test_every_module_the_docs_name_exists():
    missing = sorted({f"{doc.relative_to(ROOT)}: {name}" for doc in READERS_DOCS
                      for name in map(trimmed, code_tokens(doc.read_text(encoding="utf-8")))
                      if MODULE.fullmatch(name) and not module_exists(name)})
    assert not missing, "named but missing:\n" + "\n".join(missing)
