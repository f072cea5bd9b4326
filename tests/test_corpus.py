"""The corpus of bad registry files: every hazard the loader must refuse, and how.

Each file of `corpus/bad/` is copied as `providers/acme.yaml` into an otherwise valid
registry folder (with `corpus/capabilities.yaml`), so each declares provider id `acme`,
except the one about the file name. It declares the problems it must produce, and
nothing else may be reported, as comment lines:

    # expect: LINE:COLUMN: part of the message

with the line and column in the file as it is; the empty file, which cannot hold a
comment, declares them in `empty.expect` as `LINE:COLUMN: part of the message` lines.
Each is loaded through the library and through `registry validate`. Files too big to
keep in the repository (over the size limit, nested a million deep) and files that
cannot be read are made here, in a temporary folder. `corpus/good/` holds valid files,
which must load together, with exactly the values written.

The corpus tests run once per YAML parser, the fast reader off: libyaml's, which the
reader uses when PyYAML was built with it, and PyYAML's pure-Python one, which it uses
otherwise; and once as shipped, the fast reader first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tracemalloc
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import SHIPPED_DATA
from typer.testing import CliRunner

from radiant_registry import yamlfast, yamlstrict
from radiant_registry.cli import app
from radiant_registry.errors import ExitCode, InvalidRegistry, Problem, UsageError
from radiant_registry.loader import Registry, load_registry
from radiant_registry.schema import ProviderFile

CORPUS = Path(__file__).resolve().parent / "corpus"
BAD_CASES = sorted((CORPUS / "bad").glob("*.yaml"))
PROVIDER = "acme"  # every bad file is checked under this name
MAX_MESSAGE = 300  # a message is one readable line, whatever the file holds

PARSERS = [pytest.param(yamlstrict.PurePythonParser, id="pure-python")]
if yamlstrict._Parser is not yamlstrict.PurePythonParser:  # PyYAML was built with libyaml
    PARSERS.insert(0, pytest.param(yamlstrict._Parser, id="libyaml"))
AS_SHIPPED = pytest.param(None, id="fast-first")

# Read as bytes: some corpus files are not valid UTF-8, on purpose.
_EXPECT_LINE = re.compile(rb"^# expect: (\d+):(\d+): (.+?)\r?$", re.MULTILINE)
_SIDECAR_LINE = re.compile(r"(\d+):(\d+): (.+)")


@dataclass(frozen=True)
class Expected:
    line: int
    column: int
    text: str  # a part of the message

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: ...{self.text}..."


def expectations(case: Path) -> list[Expected]:
    """The problems a corpus file declares: `# expect:` lines, or its `.expect` file."""
    sidecar = case.with_suffix(".expect")
    if sidecar.exists():
        found = []
        for row in sidecar.read_text(encoding="utf-8").splitlines():
            match = _SIDECAR_LINE.fullmatch(row)
            assert match, f"{sidecar.name}: not LINE:COLUMN: MESSAGE: {row!r}"
            found.append(Expected(int(match[1]), int(match[2]), match[3]))
        return found
    return [
        Expected(int(m[1]), int(m[2]), m[3].decode("utf-8"))
        for m in _EXPECT_LINE.finditer(case.read_bytes())
    ]


def unmatched(
    problems: list[Problem], expected: list[Expected]
) -> tuple[list[Expected], list[Problem]]:
    """Pair each expectation with a problem at its position whose message contains it."""
    left = list(problems)
    missing = []
    for want in expected:
        for problem in left:
            if (problem.line, problem.column) == (want.line, want.column) and (
                want.text in problem.message
            ):
                left.remove(problem)
                break
        else:
            missing.append(want)
    return missing, left


def assert_problems(problems: list[Problem], expected: list[Expected]) -> None:
    missing, unexpected = unmatched(problems, expected)
    assert not missing and not unexpected, (
        "expected but not reported:\n  " + "\n  ".join(map(str, missing))
        + "\nreported but not expected:\n  " + "\n  ".join(map(str, unexpected))
    )


@pytest.fixture(params=[*PARSERS, AS_SHIPPED])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The parser every file goes to (the fast reader, which reads the plain subset first,
    turned off), or, for `fast-first`, the reader as shipped."""
    if request.param is None:
        return yamlstrict._Parser
    monkeypatch.setattr(yamlfast, "ENABLED", False)  # forked workers inherit it
    monkeypatch.setattr(yamlstrict, "_Parser", request.param)
    return request.param


def registry_folder(root: Path, files: dict[str, bytes] | None = None) -> Path:
    """A registry folder with the corpus vocabulary and the given provider files."""
    data_dir = root / "registry"
    (data_dir / "providers").mkdir(parents=True)
    shutil.copy(CORPUS / "capabilities.yaml", data_dir / "capabilities.yaml")
    for name, content in (files or {}).items():
        (data_dir / "providers" / name).write_bytes(content)
    return data_dir


def problems_of(data_dir: Path) -> list[Problem]:
    with pytest.raises(InvalidRegistry) as raised:
        load_registry(data_dir)
    return raised.value.problems


def validate(data_dir: Path, *options: str) -> Any:
    return CliRunner().invoke(app, ["validate", "--data-dir", str(data_dir), *options])


def case_id(case: Path) -> str:
    return case.stem


# --- the corpus is well formed ---------------------------------------------------------


def test_the_corpus_covers_each_hazard() -> None:
    names = {case.stem for case in BAD_CASES}
    assert len(names) >= 35
    for hazard in ("dup_key_after_typing", "dup_key_merge", "billion_laughs", "tag_python_object",
                   "yaml11_numbers", "price_per_token", "price_5000_digits", "bom", "empty",
                   "invalid_utf8", "tab_indent", "unknown_keys", "unknown_capability"):
        assert hazard in names


@pytest.mark.parametrize("case", BAD_CASES, ids=case_id)
def test_each_bad_file_declares_what_it_expects(case: Path) -> None:
    expected = expectations(case)
    assert expected, f"{case.name} declares no expected problem"
    # A misspelt declaration would silently expect less.
    declared = re.findall(rb"^#\s*expect", case.read_bytes(), re.MULTILINE | re.IGNORECASE)
    assert len(declared) == (0 if case.with_suffix(".expect").exists() else len(expected))


# --- every bad file, through the library and the command ----------------------------------


@pytest.mark.parametrize("case", BAD_CASES, ids=case_id)
def test_library_reports_exactly_the_declared_problems(
    case: Path, parser: Any, tmp_path: Path
) -> None:
    data_dir = registry_folder(tmp_path, {f"{PROVIDER}.yaml": case.read_bytes()})
    problems = problems_of(data_dir)
    assert {problem.file for problem in problems} == {str(data_dir / "providers" / "acme.yaml")}
    assert_problems(problems, expectations(case))
    assert all(len(p.message) < MAX_MESSAGE and "\n" not in p.message for p in problems)


@pytest.mark.parametrize("case", BAD_CASES, ids=case_id)
def test_validate_prints_path_line_column_message_and_exits_65(
    case: Path, parser: Any, tmp_path: Path
) -> None:
    data_dir = registry_folder(tmp_path, {f"{PROVIDER}.yaml": case.read_bytes()})
    result = validate(data_dir)
    assert result.exit_code == ExitCode.DATA_INVALID == 65, result.output
    assert isinstance(result.exception, SystemExit)  # not an error escaping the command
    assert "Traceback" not in result.output
    path = str(data_dir / "providers" / "acme.yaml")
    printed = []
    for row in result.stdout.splitlines():
        match = re.fullmatch(r"(\d+):(\d+): (.+)", row.removeprefix(f"{path}:"))
        assert row.startswith(f"{path}:") and match, f"not {path}:LINE:COLUMN: MESSAGE: {row!r}"
        printed.append(Problem(path, int(match[1]), int(match[2]), match[3]))
    assert_problems(printed, expectations(case))


@pytest.mark.parametrize("case", BAD_CASES, ids=case_id)
def test_validate_json_lists_the_same_problems(case: Path, parser: Any, tmp_path: Path) -> None:
    data_dir = registry_folder(tmp_path, {f"{PROVIDER}.yaml": case.read_bytes()})
    result = validate(data_dir, "--format", "json")
    assert result.exit_code == 65
    assert "Traceback" not in result.output
    listed = json.loads(result.stdout)
    assert isinstance(listed, list)
    assert all(set(entry) == {"file", "line", "column", "message"} for entry in listed)
    assert listed == [problem.as_dict() for problem in problems_of(data_dir)]
    assert_problems([Problem(**entry) for entry in listed], expectations(case))


def test_every_bad_file_is_reported_in_one_run(parser: Any, tmp_path: Path) -> None:
    cases = {"acme": "dup_key_same_mapping", "beta": "yaml11_booleans", "gamma": "bom",
             "delta": "unknown_capability", "eps": "invalid_utf8", "zeta": "price_per_token",
             "eta": "token_limits"}
    files = {}
    for stem, name in cases.items():
        content = (CORPUS / "bad" / f"{name}.yaml").read_bytes()
        # Each declares id acme; give it its file's name, on the same line.
        assert content.count(b"\n  id: acme\n") == 1
        files[f"{stem}.yaml"] = content.replace(b"\n  id: acme\n", f"\n  id: {stem}\n".encode())
    files["fireworks.yaml"] = (CORPUS / "good" / "fireworks.yaml").read_bytes()
    data_dir = registry_folder(tmp_path, files)

    problems = problems_of(data_dir)
    for stem, name in cases.items():
        path = str(data_dir / "providers" / f"{stem}.yaml")
        assert_problems([p for p in problems if p.file == path],
                        expectations(CORPUS / "bad" / f"{name}.yaml"))
    assert {Path(p.file).stem for p in problems} == set(cases)  # the good file adds none

    result = validate(data_dir)
    assert result.exit_code == 65
    assert result.stdout.splitlines() == [str(problem) for problem in problems]


# --- hazards that need more than the declared problems ------------------------------------


def test_billion_laughs_fails_at_the_first_anchor_in_bounded_memory(
    parser: Any, tmp_path: Path
) -> None:
    data_dir = registry_folder(
        tmp_path, {"acme.yaml": (CORPUS / "bad" / "billion_laughs.yaml").read_bytes()}
    )
    tracemalloc.start()
    try:
        problems = problems_of(data_dir)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    path = str(data_dir / "providers" / "acme.yaml")
    assert problems == [Problem(path, 6, 7, "anchors and aliases are not allowed")]
    # Expanded, the last key holds 9^10 strings: even a loader that shares aliased nodes
    # hands over data that takes hours to validate, and a copy would not fit in memory.
    assert peak < 50 * 1024 * 1024


def test_a_python_tag_constructs_nothing(
    parser: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = CORPUS / "bad" / "tag_python_object.yaml"
    # Control: a loader that honours tags creates the folder the file names.
    monkeypatch.chdir(tmp_path)
    yaml.load(case.read_text(encoding="utf-8"), Loader=yaml.UnsafeLoader)
    assert (tmp_path / "tag_was_constructed").is_dir()

    (tmp_path / "tag_was_constructed").rmdir()
    data_dir = registry_folder(tmp_path, {"acme.yaml": case.read_bytes()})
    problems = problems_of(data_dir)
    assert [p.message for p in problems] == [
        "tags are not allowed (found 'tag:yaml.org,2002:python/object/apply:os.mkdir')"
    ]
    assert not (tmp_path / "tag_was_constructed").exists()


def test_a_file_over_the_size_limit_is_refused_without_being_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = yamlstrict.MAX_FILE_BYTES
    head = (CORPUS / "good" / "fireworks.yaml").read_bytes().replace(b"fireworks", b"acme")
    big = head + b"#" * (limit - len(head)) + b"\n"  # valid YAML, one byte over
    assert len(big) == limit + 1
    data_dir = registry_folder(tmp_path, {"acme.yaml": big})

    read = yamlstrict.read

    def read_small_files_only(data: bytes, *args: Any) -> Any:
        assert len(data) <= limit, "the oversized file was read and handed to the YAML reader"
        return read(data, *args)

    monkeypatch.setattr(yamlstrict, "read", read_small_files_only)
    path = str(data_dir / "providers" / "acme.yaml")
    message = f"file is {limit + 1} bytes, over the {limit} byte limit"
    assert problems_of(data_dir) == [Problem(path, 1, 1, message)]
    result = validate(data_dir)
    assert result.exit_code == 65
    assert result.stdout == f"{path}:1:1: {message}\n"


def test_the_reader_refuses_oversized_bytes_before_any_parser(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def must_not_parse(text: str) -> None:
        raise AssertionError("the oversized text reached the parser")

    monkeypatch.setattr(yamlstrict, "_Parser", must_not_parse)
    limit = yamlstrict.MAX_FILE_BYTES
    with pytest.raises(yamlstrict.YamlProblem) as raised:
        yamlstrict.read(b"a: 1\n" + b"#" * (limit - 5) + b"\n")
    assert (raised.value.line, raised.value.column) == (1, 1)
    assert raised.value.message == f"file is {limit + 1} bytes, over the {limit} byte limit"


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    # With the default parser only: the limit is checked before any parser runs.
    head = (CORPUS / "good" / "fireworks.yaml").read_bytes()
    exact = head + b"#" * (yamlstrict.MAX_FILE_BYTES - len(head) - 1) + b"\n"
    assert len(exact) == yamlstrict.MAX_FILE_BYTES
    data_dir = registry_folder(tmp_path, {"fireworks.yaml": exact})
    assert load_registry(data_dir).model_count == 2


@pytest.mark.parametrize("depth", [yamlstrict.MAX_DEPTH + 1, 1_000_000])
def test_deep_flow_nesting_is_refused_before_any_parser(
    depth: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_parse(text: str) -> None:
        raise AssertionError("the deeply nested text reached the parser")

    monkeypatch.setattr(yamlstrict, "_Parser", must_not_parse)
    text = "a: " + "[" * depth + "]" * depth + "\n"
    with pytest.raises(yamlstrict.YamlProblem) as raised:
        yamlstrict.read(text.encode())
    # At the first bracket past the limit.
    assert (raised.value.line, raised.value.column) == (1, len("a: ") + yamlstrict.MAX_DEPTH + 1)
    assert raised.value.message == f"nested deeper than {yamlstrict.MAX_DEPTH} levels"


def test_flow_nesting_at_the_limit_is_read(parser: Any) -> None:
    depth = yamlstrict.MAX_DEPTH
    expected: list[Any] = []
    for _ in range(depth - 1):
        expected = [expected]
    assert yamlstrict.read(("[" * depth + "]" * depth).encode()) == expected


def _nested_mappings(levels: int) -> str:
    """A document of `levels` mappings, each inside the one before."""
    keys = "".join("  " * i + f"k{i}:\n" for i in range(levels - 1))
    return keys + "  " * (levels - 1) + "v: 1\n"


def test_deep_block_nesting_is_refused_at_the_first_level_too_many(
    parser: Any, tmp_path: Path
) -> None:
    limit = yamlstrict.MAX_DEPTH
    assert yamlstrict.read(_nested_mappings(limit).encode()) is not None
    data_dir = registry_folder(tmp_path, {"acme.yaml": _nested_mappings(limit + 1).encode()})
    path = str(data_dir / "providers" / "acme.yaml")
    # Mapping number limit + 1 starts on line limit + 1, indented by two spaces a level.
    assert problems_of(data_dir) == [
        Problem(path, limit + 1, 2 * limit + 1, f"nested deeper than {limit} levels")
    ]


def test_a_million_nested_block_sequences_stop_at_the_limit(parser: Any) -> None:
    text = "a:\n  " + "- " * 1_000_000 + "x\n"
    tracemalloc.start()
    try:
        with pytest.raises(yamlstrict.YamlProblem) as raised:
            yamlstrict.read(text.encode())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The root mapping is level 1, so sequence number MAX_DEPTH is one too many.
    column = len("  ") + 2 * (yamlstrict.MAX_DEPTH - 1) + 1
    assert (raised.value.line, raised.value.column) == (2, column)
    assert peak < 50 * 1024 * 1024


# --- files that cannot be read ------------------------------------------------------------


@pytest.fixture
def empty_registry(tmp_path: Path) -> Path:
    return registry_folder(tmp_path)


def test_a_folder_named_like_a_provider_file(empty_registry: Path) -> None:
    path = empty_registry / "providers" / "acme.yaml"
    path.mkdir()
    assert problems_of(empty_registry) == [
        Problem(str(path), 1, 1, "cannot read file: not a regular file")
    ]
    result = validate(empty_registry)
    assert result.exit_code == 65
    assert result.stdout == f"{path}:1:1: cannot read file: not a regular file\n"
    assert "Traceback" not in result.output


def test_a_file_name_with_a_line_break_and_an_escape_is_printed_escaped(
    empty_registry: Path,
) -> None:
    path = empty_registry / "providers" / "gr\noq\x1b[2J.yaml"
    path.mkdir()
    result = validate(empty_registry)
    assert result.exit_code == 65
    shown = str(path).replace("\n", "\\n").replace("\x1b", "\\x1b")
    assert result.stdout == f"{shown}:1:1: cannot read file: not a regular file\n"
    listed = json.loads(validate(empty_registry, "--format", "json").stdout)
    assert [entry["file"] for entry in listed] == [str(path)]  # JSON escapes it itself


def test_a_broken_link_as_a_provider_file(empty_registry: Path) -> None:
    path = empty_registry / "providers" / "acme.yaml"
    path.symlink_to(empty_registry / "nowhere.yaml")
    assert problems_of(empty_registry) == [
        Problem(str(path), 1, 1, "cannot read file: No such file or directory")
    ]
    assert validate(empty_registry).exit_code == 65


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need a POSIX system")
def test_a_named_pipe_as_a_provider_file_is_not_opened(empty_registry: Path) -> None:
    path = empty_registry / "providers" / "acme.yaml"
    os.mkfifo(path)  # opening it to read would wait for a writer forever
    assert problems_of(empty_registry) == [
        Problem(str(path), 1, 1, "cannot read file: not a regular file")
    ]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="running as root (or on Windows), where file modes do not stop reading; the "
    "folder, broken link, named pipe and simulated read error tests cover it there",
)
def test_a_provider_file_without_read_permission(empty_registry: Path) -> None:
    path = empty_registry / "providers" / "acme.yaml"
    path.write_bytes((CORPUS / "good" / "fireworks.yaml").read_bytes())
    path.chmod(0)
    try:
        assert problems_of(empty_registry) == [
            Problem(str(path), 1, 1, "cannot read file: Permission denied")
        ]
    finally:
        path.chmod(0o644)


def test_a_read_error_is_reported_for_root_too(
    empty_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = empty_registry / "providers" / "acme.yaml"
    path.write_bytes((CORPUS / "good" / "fireworks.yaml").read_bytes())
    read_bytes = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    assert problems_of(empty_registry) == [
        Problem(str(path), 1, 1, "cannot read file: Permission denied")
    ]
    result = validate(empty_registry)
    assert result.exit_code == 65
    assert result.stdout == f"{path}:1:1: cannot read file: Permission denied\n"


def test_a_missing_vocabulary_file(empty_registry: Path) -> None:
    (empty_registry / "capabilities.yaml").unlink()
    path = empty_registry / "capabilities.yaml"
    assert problems_of(empty_registry) == [
        Problem(str(path), 1, 1, "cannot read file: No such file or directory")
    ]
    result = validate(empty_registry)
    assert result.exit_code == 65
    assert "Traceback" not in result.output


@pytest.mark.parametrize("vocabulary", [None, b"- chat\n", b"capabilities: [\n"])
def test_an_unusable_vocabulary_is_one_problem_not_one_per_capability_used(
    tmp_path: Path, vocabulary: bytes | None
) -> None:
    """Missing, not a mapping, or not YAML: the shipped files' capabilities are not each
    reported as unknown on top of it."""
    data_dir = tmp_path / "registry_data"
    shutil.copytree(SHIPPED_DATA, data_dir, ignore=shutil.ignore_patterns("*.md"))
    path = data_dir / "capabilities.yaml"
    if vocabulary is None:
        path.unlink()
    else:
        path.write_bytes(vocabulary)
    problems = problems_of(data_dir)
    assert [p.file for p in problems] == [str(path)]


def test_a_capability_with_a_bad_description_is_not_also_unknown(tmp_path: Path) -> None:
    """Its name is in the vocabulary: the files that use it are not wrong too."""
    data_dir = tmp_path / "registry_data"
    shutil.copytree(SHIPPED_DATA, data_dir, ignore=shutil.ignore_patterns("*.md"))
    path = data_dir / "capabilities.yaml"
    text = path.read_text()
    line = text.splitlines().index(next(x for x in text.splitlines() if x.startswith("  vision:")))
    path.write_text(re.sub(r"(?m)^  vision: .*$", "  vision: ''", text))
    assert problems_of(data_dir) == [
        Problem(str(path), line + 1, 3,
                "capability 'vision' needs a one-line description, got the string ''"),
    ]


@pytest.mark.parametrize(("name", "reading"), [
    ("yes", "a boolean to YAML 1.1 parsers"), ("'on'", "a boolean to YAML 1.1 parsers"),
    ('"null"', "null"), ("'false'", "the boolean false"),
])
def test_a_capability_name_yaml_reads_as_no_string_is_refused(
    empty_registry: Path, name: str, reading: str
) -> None:
    """A model could list it only quoted (`capabilities: [yes]` is a boolean): quoting it
    in the vocabulary does not help."""
    path = empty_registry / "capabilities.yaml"
    path.write_text(f"capabilities:\n  chat: Conversation.\n  {name}: Says so.\n")
    bare = name.strip("'\"")
    assert problems_of(empty_registry) == [
        Problem(str(path), 3, 3, f"capability name {bare!r} reads as {reading} where a model "
                "lists it unquoted: choose another name"),
    ]


def test_a_required_price_written_as_null_is_reported_at_the_null(tmp_path: Path) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    bad = good.replace(b"      output_per_1m: 5.00\n", b"      output_per_1m:   ~\n", 1)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    line = bad.decode().splitlines().index("      output_per_1m:   ~") + 1
    assert [(p.line, p.column, p.message) for p in problems_of(data_dir)] == [
        (line, 7, "pricing.output_per_1m is required for non-embedding models"),  # its key
    ]


def test_the_file_name_rule_holds_beside_the_providers_other_problems(tmp_path: Path) -> None:
    """One run lists every problem: a bad auth_type does not hide a wrong provider id."""
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    bad = good.replace(b"  id: vertex_ai\n", b"  id: vertex\n", 1)
    bad = bad.replace(b"auth_type: service_account", b"auth_type: oauth", 1)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    assert sorted(p.message for p in problems_of(data_dir)) == [
        "expected one of api_key, iam or service_account, got the string 'oauth'",
        "provider id 'vertex' must equal the file name ('vertex_ai')",
    ]


def test_a_capability_description_is_one_line_long_at_most(empty_registry: Path) -> None:
    path = empty_registry / "capabilities.yaml"
    path.write_text(f"capabilities:\n  chat: {'w' * 500}\n  code: {'1:' * 2500}1\n")
    assert problems_of(empty_registry) == [
        Problem(str(path), 3, 3, "capability 'code' needs a one-line description, "
                "got 5001 characters (at most 500)"),
    ]


def test_a_long_plain_text_is_refused_for_its_length_not_typed(tmp_path: Path) -> None:
    """Over 4096 characters, YAML 1.1's base-60 reading (whose pattern takes memory in
    proportion to the text) is not sought: every field refuses such text anyway."""
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    long = "1:" * 3000 + "1"
    data_dir = registry_folder(
        tmp_path, {"vertex_ai.yaml": good.replace(b"Claude Haiku 4.5", long.encode(), 1)}
    )
    [problem] = problems_of(data_dir)
    assert problem.message.startswith("must have at most 200 characters")


def test_each_flaw_of_the_vocabulary_is_reported_where_it_is(empty_registry: Path) -> None:
    path = empty_registry / "capabilities.yaml"
    path.write_text(
        "capabilities:\n  chat: Conversation.\n  Vision: Images.\n  code: yes\n"
        "  long_context: ''\n  tools:\n  audio: \"\\u3164\"\n"
        '  "\\u3164x": A Hangul filler and x.\n  math: "One.\\nTwo."\nversion: 2\n'
    )
    assert problems_of(empty_registry) == [
        Problem(str(path), 3, 3, "capability name 'Vision' is not lowercase snake_case"),
        Problem(str(path), 4, 3, "capability 'code' needs a one-line description, got 'yes', "
                "which YAML 1.1 parsers read as a boolean; quote it"),
        Problem(str(path), 5, 3, "capability 'long_context' needs a one-line description, "
                "got the string ''"),
        Problem(str(path), 6, 3, "capability 'tools' needs a one-line description, got null"),
        Problem(str(path), 7, 3, "capability 'audio' needs a one-line description, "
                "got the string '\u3164'"),
        Problem(str(path), 8, 3, "capability name '\u3164x' is not lowercase snake_case"),
        Problem(str(path), 9, 3, "capability 'math' needs a one-line description: control "
                "characters (line breaks, escapes) are not allowed"),
        Problem(str(path), 10, 1, "unknown key 'version'; the file holds one key, 'capabilities'"),
    ]


@pytest.mark.parametrize(("spelling", "hint"), [
    ("1_000", "; write 1000"), ("0x10", "; write 16"), ("+7", "; write 7"),
    ("0700", ""), ("1:20", ""),  # octal 448, base 60 80: surely not what was meant
    ("2.", ""),  # a float: no spelling of it is an integer
])
def test_a_yaml11_number_says_its_plain_spelling_only_when_that_is_meant(
    tmp_path: Path, spelling: str, hint: str
) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    bad = re.sub(rb"context_window: \d+", f"context_window: {spelling}".encode(), good, count=1)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    [problem] = problems_of(data_dir)
    reading = "a float" if spelling == "2." else "an integer"
    assert problem.message == (
        f"expected an integer, got '{spelling}', which YAML 1.1 parsers read as {reading}{hint}"
    )


@pytest.mark.parametrize(("old", "new", "message"), [
    (rb"input_per_1m: [0-9.]+", b"input_per_1m: 00.5",  # a float to YAML 1.1, not octal
     "expected a number, got '00.5', which YAML 1.1 parsers read as a float; write 0.5"),
    (rb"schema_version: 1", b"schema_version: +1",
     "expected 1, got '+1', which YAML 1.1 parsers read as an integer; write 1"),
    (rb"schema_version: 1", b"schema_version: '1'", "expected 1, got the string '1'; write it "
                                                    "without quotes"),
    # No hint that the field would refuse in turn: "expected 1" says it, a range says why.
    (rb"schema_version: 1", b"schema_version: '2'", "expected 1, got the string '2'"),
    (rb"schema_version: 1", b"schema_version: +2",
     "expected 1, got '+2', which YAML 1.1 parsers read as an integer"),
    (rb"input_per_1m: [0-9.]+", b"input_per_1m: '-1'", "price must not be negative, got -1"),
    (rb"input_per_1m: [0-9.]+", b"input_per_1m: '200000'",
     "price 200000 is above the limit of 100000 per 1M tokens"),
    (rb"input_per_1m: [0-9.]+", b"input_per_1m: '.inf'", "expected a number, got the string "
                                                        "'.inf'"),
    (rb"input_per_1m: [0-9.]+", b"input_per_1m: 00.00001",  # exactly, not 1e-05
     "price 0.00001 per 1M tokens is below 0.0001: is it a per-token price? Multiply by "
     "1,000,000"),
    (rb"input_per_1m: [0-9.]+", b"input_per_1m: .1234567890123456789",  # not a float's digits
     "price 0.1234567890123456789 has more than 10 decimal places"),
])
def test_a_number_field_says_how_to_write_the_number(
    tmp_path: Path, old: bytes, new: bytes, message: str
) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": re.sub(old, new, good, count=1)})
    [problem] = problems_of(data_dir)
    assert problem.message == message


def test_an_unknown_key_in_the_provider_hides_no_rule_on_it(tmp_path: Path) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    bad = good.replace(b"  id: vertex_ai\n", b"  id: vertex\n  region: x\n", 1)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    assert sorted(p.message.split(";")[0] for p in problems_of(data_dir)) == [
        "provider id 'vertex' must equal the file name ('vertex_ai')",
        "unknown key 'region'",
    ]


@pytest.mark.parametrize("key", ["api_key", "API-Key", "apiKey", "client_secret", "password",
                                 "bearer_token", "aws_secret_access_key", "token", "api_keys",
                                 "api_key_2", "private_key_pem", "credentials_json",
                                 "clientSecret", "session_token", "subscription_key"])
def test_a_key_for_a_credential_says_files_hold_none(tmp_path: Path, key: str) -> None:
    """Not "did you mean 'api_base'?": the value must leave the file, not be renamed."""
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    bad = good.replace(b"  id: vertex_ai\n", f"  id: vertex_ai\n  {key}: sk-1\n".encode(), 1)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    [problem] = problems_of(data_dir)
    assert problem.message == (
        f"unknown key {key!r}: registry files hold no credentials (they are reviewed and "
        "committed like code); `auth_type` says how the platform sends its own"
    )
    assert "sk-1" not in problem.message


@pytest.mark.parametrize("key", ["max_output_token", "sort_key", "tokens", "api_key_env",
                                 "password_file", "apiKeyEnv", "secret_ref", "password_policy",
                                 "access_token_url"])
def test_a_key_near_a_field_is_no_credential(tmp_path: Path, key: str) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    bad = good.replace(b"  id: vertex_ai\n", f"  id: vertex_ai\n  {key}: 1\n".encode(), 1)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    [problem] = problems_of(data_dir)
    assert problem.message.startswith(f"unknown key {key!r}")
    assert "credential" not in problem.message


_LONG = "x" * 20_000


@pytest.mark.parametrize(("old", "new"), [
    (b"  id: vertex_ai\n", f"  id: {_LONG}\n"),
    (b"  - id: claude-haiku-4-5@20251001\n", f"  - id: {_LONG}!\n"),
    (b"aliases: [claude-haiku-4-5]", f"aliases: [{_LONG}!]"),
    (b"aliases: [claude-haiku-4-5]", f"aliases: [{_LONG}, {_LONG}]"),
    (b"  api_base: https:", f"  api_base: {_LONG}https:"),
    (b"  auth_header: Authorization", f"  auth_header: {_LONG} x"),
    (b"source_url: https:", f"source_url: {_LONG}https:"),
    (b"[chat, reasoning,", f"[chat, {_LONG},"),
    (b"display_name: Claude Haiku 4.5", f"display_name: !{_LONG} x"),
])
def test_a_message_quotes_a_long_value_cut_short(tmp_path: Path, old: bytes, new: str) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": good.replace(old, new.encode(), 1)})
    problems = problems_of(data_dir)
    assert problems and all(len(p.message) < MAX_MESSAGE for p in problems), problems
    assert any("xxx'..." in p.message for p in problems)  # quoted, cut short


def test_ids_that_differ_late_are_quoted_whole(tmp_path: Path) -> None:
    """Cut short at 40 characters, `...-v2:0-preview` and `...-v2:0-Preview` read alike."""
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    first = "anthropic.claude-3-5-sonnet-20241022-v2:0-preview"
    block = good[good.index(b"  - id: claude-haiku"):]
    twin = block.replace(b"claude-haiku-4-5@20251001", first.title().encode(), 1)
    twin = twin.replace(b"aliases: [claude-haiku-4-5]", b"aliases: []")
    bad = good.replace(b"claude-haiku-4-5@20251001", first.encode(), 1) + twin
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    [problem] = problems_of(data_dir)
    assert problem.message == (
        f"duplicate model id {first.title()!r} (differs only in case from {first!r})"
    )


def test_a_bad_url_is_quoted_far_enough_to_show_its_fault(tmp_path: Path) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    url = "https://cloud.google.com/vertex-ai/generative-ai/pricing#input tokens"
    bad = good.replace(b"https://cloud.google.com/vertex-ai/generative-ai/pricing", url.encode())
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    [problem] = problems_of(data_dir)
    assert repr(url) in problem.message


def test_a_tag_is_quoted_with_its_escapes_decoded_escaped(tmp_path: Path) -> None:
    """YAML decodes `%XX` in a tag: raw, it would erase the line and forge another."""
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    forged = b"display_name: !x%1B%5B2K%0D%0Aother.yaml:3:7:%20fake%1B%5B8m Claude"
    data_dir = registry_folder(
        tmp_path, {"vertex_ai.yaml": good.replace(b"display_name: Claude", forged, 1)}
    )
    [problem] = problems_of(data_dir)
    assert problem.message == (
        "tags are not allowed (found '!x\\x1b[2K\\r\\nother.yaml:3:7: fake\\x1b[8m')"
    )


@pytest.mark.parametrize("where", ["capabilities", "top"])
def test_a_credential_in_the_vocabulary_is_said_so_and_not_shown(
    empty_registry: Path, where: str
) -> None:
    path = empty_registry / "capabilities.yaml"
    if where == "capabilities":
        path.write_text("capabilities:\n  chat: Conversation.\n  api_key: 123456789012\n")
    else:
        path.write_text("capabilities:\n  chat: Conversation.\napi_key: 123456789012\n")
    [problem] = problems_of(empty_registry)
    what = "capability name" if where == "capabilities" else "unknown key"
    assert (problem.line, problem.message) == (3, (
        f"{what} 'api_key': registry files hold no credentials (they are reviewed and "
        "committed like code); `auth_type` says how the platform sends its own"
    ))


@pytest.mark.parametrize(("key", "meant"), [
    ("api_key_header", "auth_header"), ("auth_token_prefix", "auth_prefix"),
    ("api_key_headers", "auth_header"), ("apiKeyHeader", "auth_header"),
])
def test_a_key_that_names_a_header_for_a_credential_gets_its_hint(
    tmp_path: Path, key: str, meant: str
) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    bad = good.replace(b"  id: vertex_ai\n", f"  id: vertex_ai\n  {key}: x\n".encode(), 1)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    [problem] = problems_of(data_dir)
    assert problem.message == f"unknown key {key!r}; did you mean {meant!r}?"


def test_a_key_one_level_too_high_is_found_case_aside(tmp_path: Path) -> None:
    good = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()
    bad = good.replace(b"schema_version: 1\n", b"schema_version: 1\nID: vertex_ai\n", 1)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": bad})
    [problem] = problems_of(data_dir)
    assert problem.message == "unknown key 'ID'; did you mean 'id', under 'provider'?"


def test_a_file_without_the_yaml_suffix(empty_registry: Path) -> None:
    path = empty_registry / "providers" / "acme.yml"
    path.write_bytes((CORPUS / "good" / "fireworks.yaml").read_bytes())
    assert problems_of(empty_registry) == [
        Problem(str(path), 1, 1, "not a provider file: expected <provider id>.yaml")
    ]


def test_with_provider_only_a_stray_named_as_one_asked_for_is_a_problem(
    empty_registry: Path,
) -> None:
    """`--provider xai` reads xai's file alone: a README beside it is none of its business,
    but `xai.yml` is the file asked for under a wrong name."""
    good = (CORPUS / "good" / "fireworks.yaml").read_bytes()
    (empty_registry / "providers" / "fireworks.yaml").write_bytes(good)
    (empty_registry / "providers" / "README.md").write_text("notes")
    assert set(load_registry(empty_registry, ["fireworks"]).files) == {"fireworks"}
    stray = empty_registry / "providers" / "acme.yml"
    stray.write_bytes(good)
    with pytest.raises(InvalidRegistry) as raised:
        load_registry(empty_registry, ["fireworks", "acme"])
    assert raised.value.problems == [
        Problem(str(stray), 1, 1, "not a provider file: expected <provider id>.yaml")
    ]
    # A mistyped --provider is said as such, whatever else the folder holds.
    with pytest.raises(UsageError, match=r"no provider file for 'firewroks'.*'fireworks'"):
        load_registry(empty_registry, ["firewroks"])


# --- the good corpus ----------------------------------------------------------------------


@pytest.fixture
def good_registry(tmp_path: Path) -> Path:
    return registry_folder(
        tmp_path, {case.name: case.read_bytes() for case in (CORPUS / "good").glob("*.yaml")}
    )


def test_validate_counts_in_the_singular_too(tmp_path: Path) -> None:
    vertex = (CORPUS / "good" / "vertex_ai.yaml").read_bytes()  # one model
    vertex = re.sub(rb"capabilities: \[.*\]", b"capabilities: [chat]", vertex)
    data_dir = registry_folder(tmp_path, {"vertex_ai.yaml": vertex})
    (data_dir / "capabilities.yaml").write_text("capabilities:\n  chat: Conversation.\n")
    result = validate(data_dir)
    assert result.exit_code == 0, result.output
    assert "OK: 1 provider, 1 model, 1 capability" in result.stdout


def test_validate_accepts_the_good_files(parser: Any, good_registry: Path) -> None:
    result = validate(good_registry)
    assert result.exit_code == 0, result.output
    assert "OK: 3 providers, 5 models, 7 capabilities" in result.stdout
    result = validate(good_registry, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def _floats(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats(item)]
    if isinstance(value, list):
        return [f for item in value for f in _floats(item)]
    return [value] if isinstance(value, float) else []


def _parsed(registry: Registry, provider_id: str) -> ProviderFile:
    """A loaded file as the schema's objects, exactly as written (rows are normalised)."""
    raw = registry.files[provider_id].path.read_bytes()
    return ProviderFile.model_validate(yamlstrict.read(raw))


def test_good_files_load_with_exact_values(parser: Any, good_registry: Path) -> None:
    registry = load_registry(good_registry)
    assert sorted(registry.files) == ["bedrock", "fireworks", "vertex_ai"]

    fireworks = _parsed(registry, "fireworks")
    assert fireworks.provider.model_dump() == {
        "id": "fireworks",
        "display_name": "Fireworks AI",
        "api_base": "https://api.fireworks.ai/inference/v1",
        "auth_type": "api_key",
        "auth_header": "Authorization",
        "auth_prefix": "Bearer ",
    }
    llama, nomic = fireworks.models
    assert llama.model_dump() == {
        "id": "accounts/fireworks/models/llama-v3p1-405b-instruct",
        "display_name": "Llama 3.1 405B Instruct",
        "model_type": "chat",
        "category": "flagship",
        "context_window": 131072,
        "max_output_tokens": 16384,
        "modalities": {"input": ["text"], "output": ["text"]},
        "pricing": {
            "input_per_1m": Decimal("3.00"),
            "output_per_1m": Decimal("3.00"),
            "cache_read_per_1m": Decimal("1.50"),
            "cache_write_per_1m": Decimal("3.75"),
            "tiers": [
                {"above_tokens": 32768, "input_per_1m": Decimal("6.00"),
                 "output_per_1m": Decimal("6.00")},
                {"above_tokens": 65536, "input_per_1m": Decimal("9"), "output_per_1m": None},
            ],
        },
        "capabilities": ["chat", "code", "function_calling", "streaming"],
        "is_novel": False,
        "status": "preview",
        "release_date": date(2024, 7, 23),
        "deprecation_date": date(2026, 1, 31),
        "aliases": ["llama-v3p1-405b-instruct", "3.1"],
        "source_url": "https://fireworks.ai/pricing#serverless",
        "verified_at": date(2025, 11, 20),
    }
    assert nomic.model_dump() == {
        "id": "nomic-ai/nomic-embed-text-v1.5",
        "display_name": "Nomic Embed Text v1.5",
        "model_type": "embedding",
        "category": "specialized",
        "context_window": 8192,
        "max_output_tokens": 0,
        "modalities": {"input": ["text"], "output": ["embedding"]},
        "pricing": {"input_per_1m": Decimal("0.008"), "output_per_1m": None,
                    "cache_read_per_1m": None, "cache_write_per_1m": None, "tiers": []},
        "capabilities": ["embedding"],
        "is_novel": False,
        "status": "active",
        "release_date": None,
        "deprecation_date": None,
        "aliases": [],
        "source_url": None,
        "verified_at": None,
    }

    bedrock = _parsed(registry, "bedrock")
    assert bedrock.provider.api_base == "https://bedrock-runtime.{region}.amazonaws.com"
    assert (bedrock.provider.auth_type, bedrock.provider.auth_header) == ("iam", None)
    sonnet, nova = bedrock.models
    assert sonnet.id == "anthropic.claude-3-5-sonnet-20240620-v1:0"
    assert sonnet.display_name == "Claude 3.5 Sonnet (June 2024)"
    assert sonnet.modalities.input == ["text", "image", "pdf"]
    assert (sonnet.status, sonnet.deprecation_date) == ("deprecated", date(2025, 10, 22))
    assert sonnet.aliases == ["anthropic.claude-3-5-sonnet-20240620-v1:0:200k"]
    assert (nova.id, nova.is_novel, nova.category) == ("amazon.nova-micro-v1:0", True, "economy")
    assert nova.pricing.output_per_1m == Decimal(0)

    vertex = _parsed(registry, "vertex_ai")
    assert vertex.provider.display_name == "Vertex AI \u00b7 Anthropic"
    assert vertex.provider.auth_type == "service_account"
    (haiku,) = vertex.models
    assert haiku.id == "claude-haiku-4-5@20251001"
    assert haiku.aliases == ["claude-haiku-4-5"]
    assert haiku.pricing.cache_write_per_1m == Decimal("1.2500000001")


def test_prices_are_exact_decimals_never_floats(parser: Any, good_registry: Path) -> None:
    registry = load_registry(good_registry)
    prices = []
    for provider in (_parsed(registry, name) for name in sorted(registry.files)):
        assert _floats(provider.model_dump()) == []
        for model in provider.models:
            pricing = model.pricing
            prices += [pricing.input_per_1m, pricing.output_per_1m, pricing.cache_read_per_1m,
                       pricing.cache_write_per_1m]
            prices += [p for tier in pricing.tiers for p in (tier.input_per_1m, tier.output_per_1m)]
    prices = [price for price in prices if price is not None]
    assert all(type(price) is Decimal for price in prices)
    # As written: 3.00 stays 3.00 (not 3), 0.30 is not 0.299999999999999988897769753748.
    assert sorted(map(str, prices)) == sorted([
        "3.00", "3.00", "1.50", "3.75", "6.00", "6.00", "9",  # Llama 3.1 405B
        "0.008",  # Nomic Embed
        "3", "15", "0.30",  # Claude 3.5 Sonnet on Bedrock
        "0.035", "0",  # Nova Micro
        "1.00", "5.00", "0.10", "1.2500000001",  # Claude Haiku 4.5 on Vertex AI
    ])
