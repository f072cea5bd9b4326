"""The fast reader gives exactly the strict reader's results, or steps aside.

`yamlfast.read` either returns None (the file goes to the strict reader) or the very
value the strict reader returns, type for type. Checked on the shipped registry, on
generated benchmark registries, on every file of the corpus, on random documents in the
style registry files are written in, and on random lines of YAML's trickier spellings.
Through the loader, a registry loads to the same rows and the same `path:line` problems
with the fast reader as without it.
"""

from __future__ import annotations

import random
import shutil
import signal
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_benchmark_smoke import _generate_module

from radiant_registry import yamlfast, yamlstrict
from radiant_registry.errors import InvalidRegistry
from radiant_registry.loader import Registry, load_registry

CORPUS = Path(__file__).resolve().parent / "corpus"
SHIPPED = sorted((REPO / "registry_data").rglob("*.yaml"))
CORPUS_FILES = sorted(CORPUS.rglob("*.yaml"))
# Tests that the fast reader reads some text: on a Python where it is off, it reads none.
reads_fast = pytest.mark.skipif(
    not yamlfast.ENABLED, reason="the fast reader is off on this Python (before 3.11.5)"
)

# The strict reader runs on libyaml's parser where PyYAML has it, on PyYAML's own
# otherwise; the fast reader must agree with both.
PARSERS = [yamlstrict.PurePythonParser]
if yamlstrict._Parser is not yamlstrict.PurePythonParser:
    PARSERS.insert(0, yamlstrict._Parser)


def strict(text: str, parser: Any) -> tuple[str, Any]:
    """("value", v) or ("error", messages): what the strict reader makes of `text`."""
    default = yamlstrict._Parser
    yamlstrict._Parser = parser
    try:
        return "value", yamlstrict.read(text.encode("utf-8"), fast=False)
    except yamlstrict.YamlProblem as exc:
        return "error", [(exc.line, exc.column, exc.message)]
    except yamlstrict.YamlProblems as exc:
        return "error", [(p.line, p.column, p.message) for p in exc.problems]
    finally:
        yamlstrict._Parser = default


def typed(value: Any) -> str:
    """A rendering that tells 1 from True and from Decimal('1'), and '1.0' from '1.00'."""
    return repr(value)


def assert_agrees(text: str) -> bool:
    """The fast reader agrees with the strict one on `text`; True if it read it."""
    fast = yamlfast.read(text)
    if fast is None:
        return False
    for parser in PARSERS:
        outcome, expected = strict(text, parser)
        refused = f"fast reader accepted what {parser.__name__} refuses: {expected}"
        assert outcome == "value", refused
        assert typed(fast) == typed(expected), parser.__name__
    return True


# --- files that exist -------------------------------------------------------------------


@reads_fast
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_file_is_read_fast_with_the_same_result(path: Path) -> None:
    assert assert_agrees(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_corpus_files_agree(path: Path) -> None:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("not UTF-8: refused before either reader sees it")
    read_fast = assert_agrees(text)
    if path.parent.name == "bad" and read_fast:
        # Its problems are in the values, which the schema finds; the text is plain YAML.
        assert all(strict(text, parser)[0] == "value" for parser in PARSERS)


@reads_fast
def test_generated_registries_are_read_fast_with_the_same_result() -> None:
    generate = _generate_module()
    rng = random.Random(7)
    for file_index in range(6):
        first, count = rng.randrange(100_000), rng.randrange(1, 60)
        edits = {first + i: rng.randint(1, 3) for i in range(0, count, 7)}
        text = generate.provider_text(file_index, first, count, edits)
        assert assert_agrees(text), f"generated file {file_index} fell back"


def _load(data_dir: Path) -> Registry | list[str]:
    try:
        return load_registry(data_dir)
    except InvalidRegistry as exc:
        return [str(problem) for problem in exc.problems]


def _comparable(result: Registry | list[str]) -> Any:
    if isinstance(result, list):
        return result
    return {pid: (f.key, f.provider, f.models) for pid, f in result.files.items()}


@pytest.mark.parametrize("case", sorted((CORPUS / "bad").glob("*.yaml")), ids=lambda p: p.stem)
def test_loader_reports_the_same_problems_without_the_fast_reader(
    case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "providers").mkdir()
    shutil.copy(CORPUS / "capabilities.yaml", tmp_path / "capabilities.yaml")
    shutil.copy(case, tmp_path / "providers" / "acme.yaml")
    with_fast = _load(tmp_path)
    monkeypatch.setattr(yamlfast, "read", lambda text: None)
    without = _load(tmp_path)
    assert isinstance(with_fast, list) and with_fast  # every bad file has a problem
    assert with_fast == without


def test_loader_gives_the_same_rows_without_the_fast_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shutil.copytree(REPO / "registry_data", tmp_path / "shipped")
    generate = _generate_module()
    generate.generate(tmp_path / "generated", 300, 3)
    for folder in ("shipped", "generated"):
        with_fast = _comparable(_load(tmp_path / folder))
        with monkeypatch.context() as patch:
            patch.setattr(yamlfast, "read", lambda text: None)
            without = _comparable(_load(tmp_path / folder))
        assert isinstance(with_fast, dict) and with_fast
        assert with_fast == without


# --- fixed examples ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n",
        "a: text  # a comment\nb: https://x.example/p#frag\n",
        "# only a comment first\na:\n  b: [x, y]\n  c: {d: 1, e: [z]}\n",
        "a: 'it''s'\nb: \"x # y\"\nc: \"\"\n",
        "a:\n  - b: 1\n    c: 2\n  - b: 3\nd: ~\n",
        "a:\n  - x\n  - 2024-02-15\n  - {k: v}\n",
        "a: Grok 3 Fast\nb: -1.5\nc:\n",
        "a: [ ]\nb: {}\nc: [\"q\", 'r', s]\n",
        "a: café au lait\nb: ünïcode ✓\n",
        # Brackets in text after " - " or " ? " open nothing: not too deep for either reader.
        "a: x - " + "[" * 17 + "\nb: y ? " + "{" * 17 + "\n",
    ],
)
@reads_fast
def test_plain_documents_are_read_fast(text: str) -> None:
    assert assert_agrees(text)


@reads_fast
def test_a_value_written_twice_is_read_into_two_separate_collections() -> None:
    # The fast reader reads each distinct text once per file; a list or mapping it hands
    # out twice would be one object, and a change to one model's list a change to both.
    text = "a:\n  - m: {input: [text], n: [[x]]}\n  - m: {input: [text], n: [[x]]}\n"
    first, second = yamlfast.read(text)["a"]
    assert first == second
    first["m"]["input"].append("image")
    first["m"]["n"][0].append("y")
    assert second == {"m": {"input": ["text"], "n": [["x"]]}}


def test_a_file_the_strict_reader_refuses_on_second_reading_still_reports_its_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Positions come from reading a bad file again, strictly. Were the two readers ever to
    disagree there, the problems are still reported (at the positions found so far), never
    a traceback."""
    (tmp_path / "providers").mkdir()
    shutil.copy(REPO / "registry_data" / "capabilities.yaml", tmp_path)
    shutil.copy(REPO / "registry_data" / "providers" / "xai.yaml", tmp_path / "providers")
    xai = tmp_path / "providers" / "xai.yaml"
    xai.write_text(xai.read_text().replace("context_window: 131072", "context_window: -1", 1))
    strict_read = yamlstrict.read

    def refusing_positions(data: bytes, positions: Any = None, **kwargs: Any) -> Any:
        if positions is not None:
            positions[()] = (1, 1)
            raise yamlstrict.YamlProblem(3, 1, "refused")
        return strict_read(data, positions, **kwargs)

    monkeypatch.setattr(yamlstrict, "read", refusing_positions)
    problems = _load(tmp_path)
    assert problems == [f"{xai}:1:1: must be greater than 0, got the number -1"]


@pytest.mark.parametrize(
    "text",
    [
        "",  # empty: the strict reader says so
        "# comments only\n",
        "a: 1\na: 2\n",  # duplicate key
        "yes: 1\n",  # a key YAML 1.1 reads as true
        "a: b: c\n",
        "a: x\n  continued\n",  # a plain scalar over two lines
        "a:\n- b\n",  # a sequence at its key's column
        "a: &x 1\nb: *x\n",
        "a: !tag 1\n",
        "a: |\n  text\n",
        "a: \"esc\\n\"\n",
        "a: [x, [[[y]]]]\n",  # nested deeper than the fast reader goes
        "a: [x, ]\n",
        "a:\tb\n",
        "a: b\r\n",
        "---\na: 1\n",
        "- a\n",
        "a: x\u2028y\n",
        "k" * 1025 + ": v\n",
        "a: {b: 1, b: 2}\n",
        "a: [a?b]\n",  # libyaml reads "a?b"; PyYAML's own parser refuses it
        "a: {b: c?d}\n",
    ],
)
def test_anything_else_goes_to_the_strict_reader(text: str) -> None:
    assert yamlfast.read(text) is None


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
@pytest.mark.parametrize(
    "line",
    [" " * 100_000 + "\x01", "a:" + " " * 100_000 + "\x01", "a: [" + " " * 100_000 + "\x01"],
    ids=["indent", "after-key", "in-flow"],
)
def test_a_line_that_does_not_match_fails_in_linear_time(line: str) -> None:
    """Not a timing test: these took hours when a regular expression backtracked over the
    spaces (cubic time); in linear time each takes a millisecond. The alarm only turns a
    hang into a failure."""

    def hung(signum: int, frame: Any) -> None:
        raise AssertionError("the fast reader backtracks without bound")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        assert yamlfast.read(line + "\n") is None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- random documents -------------------------------------------------------------------

_KEYS = ["id", "a", "b", "name", "x_1", "_k", "yes", "on", "Y", "null", "True", "<<", "=",
         "a b", "-a", "k" * 130]
_SCALARS = [
    "text", "Model 7 v2", "1", "01", "1.50", "-1", "-0", "+1", "1e3", "0o17", "0x1f", "1_000",
    "1:20", "2024-02-15", "2024-02-30", "2024-2-1", ".inf", "-.inf", ".nan", ".5", "-.5", "~",
    "null", "NULL", "no", "yes", "On", "y", "true", "False", "a b", "a  b", "a #b", "a#b",
    "a: b", "a:b", "a:", "http://x.example/y#z", "- a", "-a", "-", "?", "? a", ":a", "@a",
    "`a", "%a", "!a", "&a a", "*a", "|", ">", "'a'", "'it''s'", "'a", '"a"', '"a\\nb"',
    '"a # b"', '""', "''", "[a, b]", "[a, b, ]", "[]", "[ ]", "{}", "{a: 1}",
    "{a: [x, y], b: z}", "{a: 1, a: 2}", "[a: b]", "[a, [b]]", "[[a]]", "{a: {b: c}}",
    "['x', \"y\"]", "[a #c]", "[a]x", "[-1, .5]", "[- a]", "[yes, no]", "{yes: 1}", "{a}",
    "{a: }", "[a,b]", "[a , b]", "{a:1}", "café", "\u00a0x", "x\u00a0", "x\u2028y", "a\x85b",
    "a\tb", "\ufeffa", "a\x7f", "é:", "Ω", "a'b", 'a"b', "a,b", "a]", "{a: [b, c], d: [e]}",
    "[text, image]", "1.0000000001", "9" * 45, "a" * 1100, "a?b", "[a?b]", "{b: c?d}", "[x?]",
    "[a ?b]", "a ?b", "[a] ", "[a]  # c", "[x, '#']", "{a: b}#c",
]
_COMMENTS = ["", " # note", "  #", "# glued", " #\tx", " # ünï"]


@st.composite
def block_documents(draw: st.DrawFn) -> str:
    """Nested mappings and sequences in block style, indented a random width."""
    width = draw(st.sampled_from([1, 2, 3, 4]))
    lines: list[str] = []

    def scalar() -> str:
        return draw(st.sampled_from(_SCALARS))

    def comment() -> str:
        return draw(st.sampled_from(_COMMENTS)) if draw(st.integers(0, 4)) == 0 else ""

    def mapping(indent: int, depth: int, first_prefix: str | None = None) -> None:
        keys = draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=4))
        for i, key in enumerate(keys):
            prefix = first_prefix if (i == 0 and first_prefix is not None) else " " * indent
            kind = draw(st.integers(0, 5)) if depth < 4 else 0
            if kind <= 2:
                lines.append(f"{prefix}{key}: {scalar()}{comment()}")
            elif kind == 3:
                lines.append(f"{prefix}{key}:{comment()}")  # null, or a nested block
                if draw(st.booleans()):
                    mapping(indent + width, depth + 1)
            elif kind == 4:
                lines.append(f"{prefix}{key}:")
                sequence(indent + width, depth + 1)
            else:
                lines.append(f"{prefix}{key}:")
                if draw(st.booleans()):
                    lines.append(draw(st.sampled_from(["", "# between", "   "])))
                mapping(indent + width, depth + 1)

    def sequence(indent: int, depth: int) -> None:
        for _ in range(draw(st.integers(1, 3))):
            if draw(st.booleans()) and depth < 4:
                mapping(indent + 2, depth + 1, first_prefix=" " * indent + "- ")
            else:
                lines.append(f"{' ' * indent}- {scalar()}{comment()}")

    mapping(0, 0)
    # A few mutations: a line moved in or out, a line dropped or doubled.
    for _ in range(draw(st.integers(0, 2))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        change = draw(st.integers(0, 3))
        if change == 0:
            lines[at] = " " + lines[at]
        elif change == 1:
            lines[at] = lines[at][1:]
        elif change == 2:
            del lines[at]
        else:
            lines.insert(at, lines[at])
    ending = draw(st.sampled_from(["\n", "", "\n\n", "\n# end\n"]))
    return "\n".join(lines) + ending


_LINE_PIECES = st.sampled_from(
    ["", " ", "  ", "    ", "- ", "-", "---", "...", "%YAML 1.1", "? ", ": ", "#", "\t"]
)


@st.composite
def random_lines(draw: st.DrawFn) -> str:
    """Lines glued from YAML's trickier pieces: mostly invalid, sometimes not."""
    lines = []
    for _ in range(draw(st.integers(1, 6))):
        parts = [draw(_LINE_PIECES)]
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(_KEYS)) + ":")
            parts.append(draw(st.sampled_from(["", " ", "  "])))
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(_SCALARS)))
        parts.append(draw(st.sampled_from(_COMMENTS)))
        lines.append("".join(parts))
    return "\n".join(lines) + draw(st.sampled_from(["\n", ""]))


FUZZ = settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@FUZZ
@given(block_documents())
def test_random_block_documents_agree(text: str) -> None:
    assert_agrees(text)


@FUZZ
@given(random_lines())
def test_random_lines_agree(text: str) -> None:
    """Nearly all of these are not YAML, or not the fast reader's subset (it reads about 1 in
    300): what this holds is that it steps aside from each, never accepting what the strict
    reader refuses. The block documents above test agreement on what it reads."""
    assert_agrees(text)


@reads_fast
def test_random_block_documents_are_often_read_fast() -> None:
    """The agreement tests above must not pass by the fast reader always stepping aside."""
    read_fast = 0

    @settings(max_examples=300, deadline=None, database=None, derandomize=True)
    @given(block_documents())
    def count(text: str) -> None:
        nonlocal read_fast
        read_fast += assert_agrees(text)

    count()
    print(f"{read_fast} of 300 read fast")
    assert read_fast >= 15


# --- Pythons whose regular expressions the fast reader cannot trust ------------------------

OLD_PYTHON = Path("/usr/bin/python3.11")  # Debian 12's, 3.11.2, where present


def _version(python: Path) -> tuple[int, ...] | None:
    import subprocess

    if not python.exists():
        return None
    out = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:3])"],
                         capture_output=True, text=True, check=False).stdout.split()
    return tuple(map(int, out)) if len(out) == 3 else None


_OLD_VERSION = _version(OLD_PYTHON)


@reads_fast
def test_the_fast_reader_steps_aside_where_disabled(monkeypatch):
    text = (REPO / "registry_data" / "providers" / "xai.yaml").read_text()
    assert yamlfast.read(text) is not None
    monkeypatch.setattr(yamlfast, "ENABLED", False)
    assert yamlfast.read(text) is None


@pytest.mark.skipif(_OLD_VERSION is None or _OLD_VERSION >= (3, 11, 5),
                    reason=f"needs a Python 3.11 before 3.11.5 at {OLD_PYTHON}")
def test_a_python_with_the_possessive_repeat_bug_loads_the_same_registry():
    """Python 3.11.2's `re` reads `4096  # note` as "4096  " with the fast reader's pattern
    (python/cpython#106052); there the loader must still give this Python's rows."""
    import subprocess
    import sys

    script = (
        "import sys; from pathlib import Path\n"
        "from radiant_registry import yamlfast\n"
        "from radiant_registry.loader import load_registry\n"
        "assert not yamlfast.ENABLED\n"
        "print(repr(load_registry(Path(sys.argv[1])).desired()))\n"
    )
    # This environment's packages (built for CPython 3.11, any 3.11.x), not its stdlib.
    packages = [p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]
    paths = [str(REPO), *packages]
    result = subprocess.run(
        [OLD_PYTHON, "-c", script, str(REPO / "registry_data")],
        capture_output=True, text=True, check=False,
        env={"PYTHONPATH": ":".join(paths), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == repr(load_registry(REPO / "registry_data").desired())
