"""``docs/plugins.md`` is checked against the code it describes.

* Every block under an ``<!-- excerpt: PATH -->`` line is a verbatim run of lines of PATH, so
  the tutorial's code cannot drift from the example plugin in ``docs/warranty/``; every code
  block of the tutorial is such an excerpt, and each file of the example is quoted.
* The public API reference names exactly the names of ``core.plugin_api.__all__``.
* The test kit section names every fixture and helper ``schema/testkit.py`` exports.
* Relative links point at files that exist, and ``#anchor`` links (in the guide, and from
  ``README.md`` and ``docs/*.md`` into it) at headings that exist, by GitHub's slug rules.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from core import plugin_api

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GUIDE = DOCS / "plugins.md"
README = ROOT / "README.md"
TESTKIT = ROOT / "schema" / "testkit.py"
EXAMPLE = "docs/warranty/crm_warranty"

TUTORIAL_SECTION = "Write a plugin: the warranty example"
API_SECTION = "Public API: `core.plugin_api`"
TESTKIT_SECTION = "Test kit"
MIN_EXCERPTS = 8
QUOTED_FILES = [
    f"{EXAMPLE}/{name}"
    for name in (
        "models.py",
        "service.py",
        "loaders.py",
        "types.py",
        "inputs.py",
        "queries.py",
        "mutations.py",
        "hooks.py",
        "migrations/versions/warranty_0001.py",
    )
]

_EXCERPT = re.compile(r"^<!-- excerpt: (?P<path>\S+) -->$")
_FENCE = re.compile(r"^```")
_HEADING = re.compile(r"^(?P<level>#{1,6}) (?P<title>.+?)\s*$")
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
_NAME = re.compile(r"`(?P<name>[A-Za-z_][A-Za-z0-9_]*)`")


@dataclass(frozen=True)
class Excerpt:
    path: str
    line: int
    """Line of the guide that holds the marker (1-based)."""
    lines: list[str]


@dataclass(frozen=True)
class CodeBlock:
    line: int
    """Line of the guide that opens the block (1-based)."""
    excerpt: str | None
    """The path of the excerpt marker right above the block, if any."""


def guide_text() -> str:
    return GUIDE.read_text(encoding="utf-8")


# --- Parsing ------------------------------------------------------------------------------


def code_blocks(text: str) -> list[CodeBlock]:
    """Fenced code blocks of ``text``, each with the excerpt marker right above it, if any."""
    blocks: list[CodeBlock] = []
    lines = text.splitlines()
    inside = False
    for index, line in enumerate(lines):
        if not _FENCE.match(line):
            continue
        if not inside:
            marker = _EXCERPT.match(lines[index - 1]) if index else None
            blocks.append(CodeBlock(index + 1, marker["path"] if marker else None))
        inside = not inside
    return blocks


def excerpts(text: str) -> list[Excerpt]:
    """The excerpt markers of ``text`` with the lines of the fenced block that follows each."""
    found: list[Excerpt] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        marker = _EXCERPT.match(line)
        if marker is None:
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        assert _FENCE.match(following), (
            f"docs/plugins.md:{index + 1}: an excerpt marker must be followed by a ``` fence"
        )
        body: list[str] = []
        for code in lines[index + 2 :]:
            if code.startswith("```"):
                break
            body.append(code)
        else:
            raise AssertionError(f"docs/plugins.md:{index + 1}: the excerpt's block never ends")
        found.append(Excerpt(marker["path"], index + 1, body))
    return found


def excerpt_problem(excerpt: Excerpt, source: list[str]) -> str | None:
    """Why ``excerpt`` is not a contiguous run of ``source``'s lines (``None`` when it is)."""
    if not excerpt.lines:
        return "the excerpt is empty"
    size = len(excerpt.lines)
    for start in range(len(source) - size + 1):
        if source[start : start + size] == excerpt.lines:
            return None
    # Report against the start that agrees longest, or the first line if none agrees.
    best_start, best_length = -1, -1
    for start, line in enumerate(source):
        if line != excerpt.lines[0]:
            continue
        length = 0
        while (
            length < size
            and start + length < len(source)
            and source[start + length] == excerpt.lines[length]
        ):
            length += 1
        if length > best_length:
            best_start, best_length = start, length
    if best_start < 0:
        return f"its first line is not in the file: {excerpt.lines[0]!r}"
    offset = best_length
    there = source[best_start + offset] if best_start + offset < len(source) else "<end of file>"
    return (
        f"line {offset + 1} of the excerpt differs from line {best_start + offset + 1} of the "
        f"file: {excerpt.lines[offset]!r} != {there!r}"
    )


def without_code(text: str) -> str:
    """``text`` without fenced blocks and code spans (so their brackets are not links)."""
    kept: list[str] = []
    inside = False
    for line in text.splitlines():
        if _FENCE.match(line):
            inside = not inside
            continue
        if not inside:
            kept.append(line)
    return _CODE_SPAN.sub("", "\n".join(kept))


def headings(text: str) -> list[tuple[int, str]]:
    """``(level, title)`` of the Markdown headings of ``text``, outside code fences."""
    found: list[tuple[int, str]] = []
    inside = False
    for line in text.splitlines():
        if _FENCE.match(line):
            inside = not inside
            continue
        match = None if inside else _HEADING.match(line)
        if match:
            found.append((len(match["level"]), match["title"]))
    return found


def section(text: str, title: str) -> str:
    """The text under the ``## title`` heading, up to the next ``##`` heading."""
    lines = text.splitlines()
    assert f"## {title}" in lines, f"docs/plugins.md has no '## {title}' section"
    start = lines.index(f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start + 1 : end])


def slug(title: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation but ``-`` and ``_`` dropped,
    spaces to ``-``."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The anchors GitHub gives the headings of ``text`` (repeats get ``-1``, ``-2``, ...)."""
    seen: Counter[str] = Counter()
    found: set[str] = set()
    for _, title in headings(text):
        base = slug(title)
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return found


def links(text: str) -> list[str]:
    """Targets of the inline links of ``text`` outside code."""
    return [match["target"] for match in _LINK.finditer(without_code(text))]


def first_column_names(text: str) -> list[str]:
    """Names in backticks in the first cell of every table row of ``text``."""
    names: list[str] = []
    for line in text.splitlines():
        if not line.startswith("|") or re.fullmatch(r"[|\s:-]+", line):
            continue
        first = line.strip().strip("|").split("|")[0]
        names.extend(match["name"] for match in _NAME.finditer(first))
    return names


def kit_exports() -> tuple[list[str], list[str]]:
    """Public fixtures of the test kit, and its other public names (helpers, constants, and
    what it re-exports from its companion modules)."""
    tree = ast.parse(TESTKIT.read_text(encoding="utf-8"))
    fixtures: list[str] = []
    helpers: list[str] = []

    def is_fixture(decorator: ast.expr) -> bool:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        return ast.unparse(target) == "pytest.fixture"

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name.startswith("_"):
                continue
            fixture = any(is_fixture(decorator) for decorator in node.decorator_list)
            (fixtures if fixture else helpers).append(node.name)
        elif isinstance(node, ast.Assign):
            helpers.extend(
                target.id
                for target in node.targets
                if isinstance(target, ast.Name)
                and target.id.isupper()
                and not target.id.startswith("_")
            )
        elif isinstance(node, ast.ImportFrom):  # `from x import name as name`: re-exported
            helpers.extend(
                alias.name
                for alias in node.names
                if alias.asname == alias.name and not alias.name.startswith("_")
            )
    return fixtures, helpers


# --- The parsers ----------------------------------------------------------------------------


def test_slugs_follow_githubs_rules() -> None:
    assert slug("Public API: `core.plugin_api`") == "public-api-coreplugin_api"
    assert slug("`crm_migrations() -> Migrations | None`") == "crm_migrations---migrations--none"
    assert slug("Tickets (the tickets plugin)") == "tickets-the-tickets-plugin"
    assert anchors("# A\n## A\n```\n# not a heading\n```\n### A b\n") == {"a", "a-1", "a-b"}


def test_excerpts_are_compared_line_by_line() -> None:
    source = ["a", "b", "c", "d"]

    def check(*lines: str) -> str | None:
        return excerpt_problem(Excerpt("f.py", 1, list(lines)), source)

    assert check("b", "c") is None
    assert check("b", "x") == "line 2 of the excerpt differs from line 3 of the file: 'x' != 'c'"
    assert check("x") == "its first line is not in the file: 'x'"
    assert check("d", "e") == (
        "line 2 of the excerpt differs from line 5 of the file: 'e' != '<end of file>'"
    )
    assert check() == "the excerpt is empty"


def test_the_parsers_read_blocks_links_and_tables() -> None:
    text = (
        "See [a](x.md#b) and `[c](not-a-link)`.\n\n<!-- excerpt: f.py -->\n```python\n"
        "[d](in-code)\n```\n\n```\nplain\n```\n| `Name`, `other` | `not_this` |\n| --- | --- |\n"
    )

    assert links(text) == ["x.md#b"]
    assert [(e.path, e.line, e.lines) for e in excerpts(text)] == [("f.py", 3, ["[d](in-code)"])]
    assert code_blocks(text) == [CodeBlock(4, "f.py"), CodeBlock(8, None)]
    assert first_column_names(text) == ["Name", "other"]


# --- Excerpts ---------------------------------------------------------------------------------


def test_every_excerpt_is_a_verbatim_run_of_its_file() -> None:
    problems: list[str] = []
    for excerpt in excerpts(guide_text()):
        path = (ROOT / excerpt.path).resolve()
        if ROOT not in path.parents or not path.is_file():
            problems.append(f"docs/plugins.md:{excerpt.line}: no file {excerpt.path}")
            continue
        problem = excerpt_problem(excerpt, path.read_text(encoding="utf-8").splitlines())
        if problem:
            problems.append(f"docs/plugins.md:{excerpt.line}: {excerpt.path}: {problem}")

    assert not problems, "excerpts out of step with their files:\n" + "\n".join(problems)


def test_the_tutorial_quotes_every_file_of_the_example() -> None:
    quoted = Counter(excerpt.path for excerpt in excerpts(guide_text()))

    assert sum(quoted.values()) >= MIN_EXCERPTS
    missing = [path for path in QUOTED_FILES if not quoted[path]]
    assert not missing, f"the tutorial quotes nothing of {missing}"


def test_every_code_block_of_the_tutorial_is_an_excerpt() -> None:
    text = guide_text()
    tutorial = section(text, TUTORIAL_SECTION).splitlines()
    start = text.splitlines().index(f"## {TUTORIAL_SECTION}") + 1
    end = start + len(tutorial)
    unmarked = [
        block.line for block in code_blocks(text) if start < block.line <= end and not block.excerpt
    ]

    assert not unmarked, f"docs/plugins.md: tutorial code without an excerpt marker: {unmarked}"


# --- Public API and test kit --------------------------------------------------------------------


def test_the_public_api_reference_names_exactly_the_public_api() -> None:
    documented = first_column_names(section(guide_text(), API_SECTION))
    public = set(plugin_api.__all__)

    undocumented = sorted(public - set(documented))
    assert not undocumented, f"docs/plugins.md does not describe {undocumented}"
    unknown = sorted(set(documented) - public)
    assert not unknown, f"docs/plugins.md describes names core.plugin_api lacks: {unknown}"
    repeated = sorted(name for name, count in Counter(documented).items() if count > 1)
    assert not repeated, f"documented twice: {repeated}"


def test_the_test_kit_section_names_every_fixture_and_helper() -> None:
    fixtures, helpers = kit_exports()
    text = section(guide_text(), TESTKIT_SECTION)

    assert {"api", "admin", "crm_cli", "crm_plugins", "migrated_db"} <= set(fixtures)
    assert {"Api", "model_drift", "migrate_down", "running_app"} <= set(helpers)
    missing = [name for name in fixtures + helpers if f"`{name}`" not in text]
    assert not missing, f"the test kit section of docs/plugins.md does not name {missing}"


# --- Links ---------------------------------------------------------------------------------------


def link_problems(document: Path, only_into: Path | None = None) -> list[str]:
    """Broken relative links of ``document`` (only those into ``only_into``, if given)."""
    problems: list[str] = []
    for target in links(document.read_text(encoding="utf-8")):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, anchor = target.partition("#")
        path = (document.parent / path_part).resolve() if path_part else document
        if only_into is not None and path != only_into:
            continue
        where = f"{document.relative_to(ROOT)}: {target}"
        if ROOT not in path.parents and path != ROOT:
            problems.append(f"{where} leaves the repository")
        elif not path.exists():
            problems.append(f"{where}: no such file")
        elif anchor and (path.suffix != ".md" or anchor not in anchors(path.read_text("utf-8"))):
            problems.append(f"{where}: no such heading")
    return problems


def test_the_guides_links_point_at_files_and_headings_that_exist() -> None:
    problems = link_problems(GUIDE)

    assert len(links(guide_text())) > 20
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "document", [README, *sorted(DOCS.glob("*.md"))], ids=lambda path: path.name
)
def test_links_into_the_guide_point_at_headings_that_exist(document: Path) -> None:
    problems = link_problems(document, only_into=GUIDE)

    assert not problems, "\n".join(problems)
