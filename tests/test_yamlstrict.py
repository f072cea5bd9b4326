"""The strict YAML reader on its own: how plain scalars are typed, what `read` builds and
refuses, and a property: plain data written by PyYAML reads back as the same data."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import yaml
from conftest import same
from hypothesis import given
from hypothesis import strategies as st

from radiant_registry import yamlstrict
from radiant_registry.messages import expected_number
from radiant_registry.yamlscalars import Ambiguous, Unreadable, resolve_plain, yaml11_key
from radiant_registry.yamlstrict import YamlProblem, YamlProblems, read

PARSERS = [pytest.param(yamlstrict.PurePythonParser, id="pure-python")]
if hasattr(yaml, "cyaml"):
    PARSERS.insert(0, pytest.param(yaml.cyaml.CParser, id="libyaml"))


@pytest.fixture(params=PARSERS)
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(yamlstrict, "_Parser", request.param)
    return request.param


def problem_of(data: bytes) -> tuple[int, int, str]:
    with pytest.raises(YamlProblem) as raised:
        read(data)
    return raised.value.line, raised.value.column, raised.value.message


# --- resolve_plain ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None), ("~", None), ("null", None), ("Null", None), ("NULL", None),
        ("true", True), ("True", True), ("TRUE", True),
        ("false", False), ("False", False), ("FALSE", False),
        ("0", 0), ("-5", -5), ("128000", 128000), ("9" * 40, int("9" * 40)),
        ("3.00", Decimal("3.00")), ("3.10", Decimal("3.10")), ("-0.5", Decimal("-0.5")),
        # An exponent as YAML 1.1 spells its floats too: a dot, and a sign after the e.
        ("1.0e-6", Decimal("0.0000010")), ("1.5E+5", Decimal("1.5E+5")),
        ("2.5e-7", Decimal("2.5E-7")),
        (".inf", Decimal("Infinity")), ("+.Inf", Decimal("Infinity")),
        ("-.INF", Decimal("-Infinity")),
        ("2024-06-01", date(2024, 6, 1)),
        ("acme-chat", "acme-chat"), ("Acme Chat", "Acme Chat"), ("3.10.1", "3.10.1"),
        ("v1", "v1"), ("gpt-4o", "gpt-4o"), ("claude-4-5@20251001", "claude-4-5@20251001"),
        # Not YAML 1.1 spellings of a boolean or of infinity: plain text.
        ("yEs", "yEs"), ("oN", "oN"), (".iNf", ".iNf"), ("2024-1-5", "2024-1-5"),
    ],
)
def test_resolve_plain_types_by_a_small_grammar(text: str, expected: Any) -> None:
    assert same(resolve_plain(text), expected)


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN"])
def test_resolve_plain_reads_nan_as_a_decimal_nan(text: str) -> None:
    value = resolve_plain(text)
    assert type(value) is Decimal and value.is_nan()


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("yes", "a boolean"), ("No", "a boolean"), ("ON", "a boolean"), ("off", "a boolean"),
        ("y", "a boolean"), ("N", "a boolean"),
        ("1:20", "an integer"), ("0755", "an integer"), ("0x1F", "an integer"),
        ("1_000", "an integer"), ("+1", "an integer"), ("0b101", "an integer"),
        (".5", "a float"), ("1_000.5", "a float"), ("1:20.5", "a float"),
        ("2024-06-01T10:00:00Z", "a timestamp"), ("2024-6-1 10:00:00", "a timestamp"),
        ("2024-02-30", "a date that does not exist"),
        ("<<", "a merge key"), ("=", "a value key"),
    ],
)
def test_resolve_plain_flags_what_yaml_1_1_would_read_differently(text: str, reading: str) -> None:
    assert resolve_plain(text) == Ambiguous(text, reading)
    assert str(resolve_plain(text)) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9" * 41, "a number of 41 characters (at most 40)"),
        ("0." + "1" * 40, "a number of 42 characters (at most 40)"),
        # Beyond the decimal module's exponent range: Decimal() itself refuses these.
        ("1.0e+99999999999999999999", "a number with an exponent out of range"),
        ("0.0e+99999999999999999999", "a number with an exponent out of range"),
        ("-1.5e-99999999999999999999", "a number with an exponent out of range"),
    ],
)
def test_resolve_plain_refuses_numbers_it_cannot_read_exactly(text: str, reason: str) -> None:
    assert resolve_plain(text) == Unreadable(text, reason)
    assert str(resolve_plain(text)) == text


def test_resolve_plain_never_returns_a_float() -> None:
    for text in ["3.0", "1.0e+400", "-1.0e-400", "0.1", ".inf", "1.7976931348623157e+309"]:
        value = resolve_plain(text)
        assert type(value) is Decimal, text
    assert resolve_plain("1.0e+400") == Decimal("1.0E+400")  # a float would be inf


@pytest.mark.parametrize("text", [
    "1e3", "1E+5", "1.5e3", "1e-6", "-2.5E7", "0e0", "1e400",  # no dot, or no exponent sign
    "+1e6", "1.e3", ".5e3", "-.5e3", "01e3", "0o17",  # and YAML 1.2's other spellings
])
def test_a_number_only_yaml_1_2_reads_is_ambiguous(text: str) -> None:
    """A number in YAML 1.2, a string to YAML 1.1 (PyYAML): neither reading is taken."""
    assert yaml.safe_load(text) == text
    assert resolve_plain(text) == Ambiguous(text, "a string")


@pytest.mark.parametrize("text", ["+" + "1" * 5000, "0x" + "f" * 5000, "0o" + "7" * 5000])
def test_a_number_of_thousands_of_digits_gets_no_plain_spelling(text: str) -> None:
    """Python refuses to convert an integer of over 4,300 digits: it was an exit 70."""
    assert expected_number(resolve_plain(text), integer=True).startswith("expected an integer")


@pytest.mark.parametrize(("text", "integer", "hint"), [
    ("1e3", True, "; write 1000"), ("+1e3", True, "; write 1000"), ("0o17", True, "; write 15"),
    ("1.50e3", False, "; write 1500"), (".5e3", False, "; write 500"),
    ("-1e3", False, "; write -1000"), ("2.5e1", False, "; write 25"),
    ("0e-11", False, "; write 0"), ("-0e999999", True, "; write 0"),
    ("1.5e0", True, ""),  # no integer
    ("1.00000000000000000000000000001e0", False, "; write 1.00000000000000000000000000001"),
    ("1e-39", False, ""), ("1e400", False, ""),  # 41 and 401 characters: over the limit
])
def test_a_number_only_yaml_1_2_reads_is_refused_with_its_plain_spelling(
    text: str, integer: bool, hint: str
) -> None:
    message = expected_number(resolve_plain(text), integer=integer)
    assert message == (
        f"expected {'an integer' if integer else 'a number'}, got {text!r}, a number in "
        f"YAML 1.2 but a string to YAML 1.1 parsers{hint}"
    )


# --- read ---------------------------------------------------------------------------------


def test_read_builds_plain_data(parser: Any) -> None:
    data = b"""# a comment
a: 1
b: [x, 'y', "z", 3.10]
c: {d: null, e: true}
f:
  - g: 2024-06-01
  - |
    two
    lines
"""
    assert same(read(data), {
        "a": 1,
        "b": ["x", "y", "z", Decimal("3.10")],
        "c": {"d": None, "e": True},
        "f": [{"g": date(2024, 6, 1)}, "two\nlines\n"],
    })


def test_read_never_types_a_quoted_or_block_scalar(parser: Any) -> None:
    data = b"""a: '1'
b: "yes"
c: '2024-06-01'
d: "1e-6"
e: |
  3.10
f: >-
  no
"""
    assert same(read(data), {"a": "1", "b": "yes", "c": "2024-06-01", "d": "1e-6",
                             "e": "3.10\n", "f": "no"})


def test_read_keeps_keys_as_text(parser: Any) -> None:
    assert same(read(b"1: a\nno: b\n'3.10': c\nnull: d\n"),
                {"1": "a", "no": "b", "3.10": "c", "null": "d"})


def test_read_records_positions_only_when_asked(parser: Any) -> None:
    data = b"# header\nprovider:\n  id: acme\nmodels:\n  - id: x\n    caps: [chat, code]\n"
    positions: yamlstrict.Positions = {}
    assert read(data, positions) == read(data)
    assert positions == {
        (): (2, 1),
        ("provider",): (2, 1),
        ("provider", "id"): (3, 3),
        ("models",): (4, 1),
        ("models", 0): (5, 5),
        ("models", 0, "id"): (5, 5),
        ("models", 0, "caps"): (6, 5),
        ("models", 0, "caps", 0): (6, 12),
        ("models", 0, "caps", 1): (6, 18),
    }


def test_read_collects_every_duplicate_key(parser: Any) -> None:
    data = b"a: 1\nb:\n  c: 1\n  c: 2\na: 2\n1: x\ntrue: y\n'7': p\n7: q\n"
    with pytest.raises(YamlProblems) as raised:
        read(data)
    assert [(p.line, p.column, p.message) for p in raised.value.problems] == [
        (4, 3, "duplicate key 'c' (first defined on line 3)"),
        (5, 1, "duplicate key 'a' (first defined on line 1)"),
        (7, 1, "duplicate key 'true' (first defined on line 6)"),
        (9, 1, "duplicate key '7' (first defined on line 8)"),
    ]


def test_a_key_beyond_the_simple_key_limit_compares_by_its_text(parser: Any) -> None:
    """Only an explicit `? key` can be that long; read as YAML 1.1 (a base-60 number) it
    would take time in the square of its length. Messages quote it cut short."""
    short, long = "1:" * 10 + "1", "1:" * 600 + "1"
    assert yaml11_key(short) != short  # an integer
    assert yaml11_key(long) == long
    key = "1:" * 20_000 + "1"
    with pytest.raises(YamlProblems) as raised:
        read(f"? {key}\n: a\n? {key}\n: b\n".encode())
    [problem] = raised.value.problems
    assert problem.message == f"duplicate key {key[:40]!r}... (first defined on line 1)"


def test_read_allows_keys_that_only_look_alike(parser: Any) -> None:
    # Different text and different values in YAML 1.1: no collision.
    assert read(b"'true': a\ntrue_: b\nTrue1: c\n'1.0': d\n1.5: e\n") == {
        "true": "a", "true_": "b", "True1": "c", "1.0": "d", "1.5": "e"}


def test_read_refuses_merge_keys(parser: Any) -> None:
    with pytest.raises(YamlProblems) as raised:
        read(b"a:\n  <<: {b: 1}\n  b: 2\n")
    assert [(p.line, p.column, p.message) for p in raised.value.problems] == [
        (2, 3, "merge keys (<<) are not allowed")
    ]
    assert read(b"'<<': quoted, so an ordinary key\n") == {"<<": "quoted, so an ordinary key"}


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"a: &x 1\n", (1, 4, "anchors and aliases are not allowed")),
        (b"a: 1\nb: *x\n", (2, 4, "anchors and aliases are not allowed")),
        (b"&k a: 1\n", (1, 1, "anchors and aliases are not allowed")),
        (b"a: !!int 1\n", (1, 4, "tags are not allowed (found 'tag:yaml.org,2002:int')")),
        (b"a: !foo\n  b: 1\n", (1, 4, "tags are not allowed (found '!foo')")),
        (b"a: ! x\n", (1, 4, "tags are not allowed (found '!')")),
        (b"? [a]\n: 1\n", (1, 3, "keys must be plain strings")),
        (b"", (1, 1, "file is empty")),
        (b"# only\n\n# comments\n", (1, 1, "file holds only comments")),
        (b"a: 1\n---\nb: 2\n", (2, 1, "only one YAML document is allowed per file")),
        (b"a: 1\n...\n---\nb: 2\n", (3, 1, "only one YAML document is allowed per file")),
        (b"\xef\xbb\xbfa: 1\n", (1, 1, "file starts with a byte order mark (BOM); "
                                       "save it as UTF-8 without one")),
        (b"a: 1\nb: caf\xe9\n", (2, 7, "invalid UTF-8 (byte 0xe9)")),
        ("a: 1\nb: \u00e9\u00e9".encode() + b"\xff", (2, 6, "invalid UTF-8 (byte 0xff)")),
        (b"a:\n\tb: 1\n", (2, 1, "tab character in indentation; indent with spaces")),
        (b"a:\n  \tb: 1\n", (2, 3, "tab character in indentation; indent with spaces")),
        ("a: \u00e9\u00e9\x07\n".encode(), (1, 6, "invalid YAML: unacceptable character #x0007")),
        (b"a: b: c\n", (1, 5, "invalid YAML: mapping values are not allowed")),
    ],
)
def test_read_refuses_at_the_right_place(
    parser: Any, data: bytes, expected: tuple[int, int, str]
) -> None:
    line, column, message = problem_of(data)
    assert (line, column) == expected[:2]
    assert message.startswith(expected[2])


def test_read_stops_at_the_first_anchor_of_a_billion_laughs(parser: Any) -> None:
    levels = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 30)]
    assert problem_of("\n".join(levels).encode()) == (
        1, 5, "anchors and aliases are not allowed"
    )


def test_flow_depth_counts_no_bracket_inside_text(parser: Any) -> None:
    many = "[" * (yamlstrict.MAX_DEPTH + 4)
    data = f"""# {many}
a: x{many}
b: x {many}
b2: x - {many}
b3: x ? {many}
c: '{many}'
d: "{many}"
e: some words
  {many}
f: "unclosed {many}
  and closed on the next line"
g: ['{many}
    {many}', "{many}
    {many}", {{h: '{many}'}}]
"""
    assert read(data.encode()) == {
        "a": "x" + many, "b": "x " + many, "b2": "x - " + many, "b3": "x ? " + many,
        "c": many, "d": many,
        "e": "some words " + many, "f": f"unclosed {many} and closed on the next line",
        "g": [f"{many} {many}", f"{many} {many}", {"h": many}],
    }


@pytest.mark.parametrize(
    "prefix",
    ["", "# c\n", "a: ", "a:\n  ", "a:  # c\n\n  ", "- ", "-\n  ", "--- ", "---\n", "? ",
     "  - - ", "- ? ", "- a: ", "-  -\n    ", "a:\t", "- a:\t", "? a\n: - "],
)
def test_flow_depth_counts_each_place_a_flow_collection_starts(
    prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def must_not_parse(text: str) -> None:
        raise AssertionError("reached the parser")

    monkeypatch.setattr(yamlstrict, "_Parser", must_not_parse)
    depth = yamlstrict.MAX_DEPTH + 1
    for opener in "[{":
        text = prefix + opener * depth
        line, column, message = problem_of(text.encode())
        assert message == f"nested deeper than {yamlstrict.MAX_DEPTH} levels"
        last_line = text.split("\n")[-1]
        assert (line, column) == (text.count("\n") + 1, len(last_line))


# --- property: what PyYAML writes, the reader reads back ----------------------------------

# YAML 1.1 reads y/Y/n/N as booleans, but PyYAML does not, so safe_dump writes them
# unquoted and the reader (by design) flags them as Ambiguous instead of reading text.
_YAML11_ONLY_BOOLEANS = {"y", "Y", "n", "N"}
# A number with an exponent and no dot or no exponent sign (1e5, 1.5e5, 1e-6) is text to
# YAML 1.1, so safe_dump writes it unquoted, but it is a number to YAML 1.2: the reader
# takes neither reading (Ambiguous), so a per-token price written 1e-6 cannot pass as text.
_EXPONENT_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?[eE][-+]?[0-9]+")

identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,11}", fullmatch=True)
texts = st.text(max_size=30).filter(
    lambda s: s not in _YAML11_ONLY_BOOLEANS and not _EXPONENT_NUMBER.fullmatch(s)
)
# Longer integers stay unconverted (over 40 characters): the reader bounds number sizes
# on purpose; no registry value comes near that.
integers = st.integers(min_value=-(10**39) + 1, max_value=10**39 - 1)
plain_data = st.recursive(
    st.none() | st.booleans() | integers | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(identifiers, inner, max_size=4),
    max_leaves=20,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


@pytest.mark.parametrize("flow_style", [False, True], ids=["block", "flow"])
@pytest.mark.parametrize("parser_class", PARSERS)
@given(data=plain_data.filter(lambda d: depth(d) <= yamlstrict.MAX_DEPTH))  # the reader's limit
def test_safe_dump_reads_back_as_the_same_data(
    parser_class: Any, flow_style: bool, data: Any
) -> None:
    text = yaml.safe_dump(data, default_flow_style=flow_style)
    original = yamlstrict._Parser
    yamlstrict._Parser = parser_class
    try:
        assert same(read(text.encode("utf-8")), data), text
    finally:
        yamlstrict._Parser = original


def test_the_excluded_strings_read_as_documented() -> None:
    # What the strategies above leave out, and why: read, not round-tripped.
    assert yaml.safe_dump("1e-6") == "1e-6\n...\n"
    assert read(b"1e-6\n") == Ambiguous("1e-6", "a string")
    assert yaml.safe_dump("y") == "y\n...\n"
    assert read(b"y\n") == Ambiguous("y", "a boolean")


# --- the depth check before parsing: a one-line bound, then the exact scan ----------------

LIMIT = yamlstrict.MAX_DEPTH


def _problem(check: Any, text: str) -> tuple[int, int, str] | None:
    try:
        check(text)
    except YamlProblem as exc:
        return exc.line, exc.column, exc.message
    return None


def scan_problem(text: str) -> tuple[int, int, str] | None:
    """What the exact scan finds: the first flow collection nested too deep, or None."""
    return _problem(yamlstrict._scan_flow_depth, text)


def check_problem(text: str) -> tuple[int, int, str] | None:
    """What the check before parsing finds, shortcuts included."""
    return _problem(yamlstrict._check_flow_depth, text)


@pytest.mark.parametrize(
    ("brackets", "expected"),
    [
        ("", 0), ("[]", 1), ("{}", 1), ("[]{}[]", 1), ("[{}]", 2), ("[[][{}]]", 3),
        ("[" * LIMIT + "]" * LIMIT, LIMIT), ("[{" * 8 + "}]" * 8, LIMIT),
        ("[" * (LIMIT + 1) + "]" * (LIMIT + 1), LIMIT + 1),
        ("[}", 1),  # kinds are not matched: the scan does not match them either
        # Not balanced: counted as too deep, so that the full scan decides.
        ("[", LIMIT + 1), ("]", LIMIT + 1), ("][", LIMIT + 1), ("[[]", LIMIT + 1),
        ("[]]", LIMIT + 1), ("[]][[]", LIMIT + 1),
    ],
)
def test_sequence_depth(brackets: str, expected: int) -> None:
    assert yamlstrict._sequence_depth(brackets) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "a: b\nc: d\n",
        "a: [x, {y: z}]\n",
        "a: " + "[" * LIMIT + "x" + "]" * LIMIT + "\n",
        "- [a, b]\n- {c: [d, e]}\n" * 20,  # many brackets, each line shallow
        "a: 'q'\nb: \"q\"\nc: [d]\n# a comment\n",  # quotes and '#' on lines without brackets
        "a: b # comment\nc: [d]\n",
        "a: [x]\n  \nb: {y: [z]}\n",
    ],
)
def test_shallow_lines_accepts_lines_that_close_what_they_open(text: str) -> None:
    assert yamlstrict._shallow_lines(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * (LIMIT + 1) + "x" + "]" * (LIMIT + 1) + "\n",  # depth 17
        "a: [\"x\"]\n",  # a quote on a bracket line: it could hide brackets
        "a: ['x']\n",
        "a: [x] # c\n",  # so could a comment
        "a: [x]#c\n",
        "a: [x,\n  y]\n",  # a flow collection over two lines
        "a: {x: 1,\n  y: [2]}\n",
        "a: x]\n",
        "a: ][\n",
        "ok: [a]\nbad: [\"]\"]\n",  # one bad line is enough
    ],
)
def test_shallow_lines_refuses_what_it_cannot_bound(text: str) -> None:
    assert yamlstrict._shallow_lines(text) is False


@pytest.mark.parametrize(
    ("text", "position"),
    [
        # A quoted closer: the line's brackets balance at depth 16, the collections do not.
        ("a: " + "[" * LIMIT + '"]" [x]' + "]" * (LIMIT - 1) + "\n", (1, 24)),
        # A closer in a comment: the collection stays open into the next line.
        ("a: [ # ]\nb: " + "[" * LIMIT + "]" * LIMIT + "\n", (2, 19)),
    ],
)
def test_what_the_shortcut_refuses_may_nest_too_deep(text: str, position: tuple[int, int]) -> None:
    assert all(
        yamlstrict._sequence_depth(yamlstrict._NOT_BRACKET.sub("", line)) <= LIMIT
        for line in text.splitlines()
    )
    assert yamlstrict._shallow_lines(text) is False
    assert scan_problem(text) == (*position, f"nested deeper than {LIMIT} levels")


def test_the_check_uses_the_shortcuts_and_scans_only_when_they_fail(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scanned: list[str] = []
    monkeypatch.setattr(yamlstrict, "_scan_flow_depth", scanned.append)
    many_shallow = "- [a, {b: c}]\n" * 20
    yamlstrict._check_flow_depth(many_shallow)
    yamlstrict._check_flow_depth("a: [" + "[" * (LIMIT - 1) + "]" * LIMIT + "  # c\n")  # few
    assert scanned == []
    multi_line = "a: [\n" + "  [x],\n" * 20 + "]\n"
    yamlstrict._check_flow_depth(multi_line)
    assert scanned == [multi_line]


@pytest.mark.parametrize("depth", [LIMIT, LIMIT + 1])
def test_the_exact_scan_finds_depth_over_lines_the_shortcut_cannot_bound(depth: int) -> None:
    text = "a:\n" + "".join("  " * i + "- [\n" for i in range(depth)) + "  x" + "]" * depth
    assert yamlstrict._shallow_lines(text) is False
    message = f"nested deeper than {LIMIT} levels"
    expected = None if depth == LIMIT else (depth + 1, 2 * LIMIT + 3, message)
    assert scan_problem(text) == expected
    assert check_problem(text) == expected


# Texts made of lines: lines whose brackets balance (the shortcut's case, up to one level too
# deep), and lines of anything from a small alphabet: quotes, comments, indicators, brackets
# or none (a quote or comment on a line without brackets leaves the shortcut possible).
_FILLERS = ["", "a", "a b", " ", ", ", ": ", "a: b", "- ", "-", "? ", ":", ","]
_ALPHABET = [*"[]{}\"'#,: a-", "- ", ": ", "? ", "---", " #", "  "]
_OPEN, _CLOSE = "[{", "]}"


# Hide brackets from the scan: a quote (a pair of them quotes what lies between) or a
# comment (to the end of the line).
_HIDERS = ['"', "'", ' "', " #", "#"]


@st.composite
def _balanced(draw: Any) -> str:
    """Brackets that balance (of any kinds), with text between, up to LIMIT + 1 deep: up to a
    top depth, a few steps down and up again, then all closed. Now and then one or two
    quotes or comment signs go between them."""
    top = draw(st.one_of(st.integers(1, LIMIT + 1), st.sampled_from([LIMIT, LIMIT + 1])))
    brackets = [draw(st.sampled_from(_OPEN)) for _ in range(top)]
    depth = top
    for up in draw(st.lists(st.booleans(), max_size=6)):
        if up and depth < top:
            brackets.append(draw(st.sampled_from(_OPEN)))
            depth += 1
        elif not up and depth > 0:
            brackets.append(draw(st.sampled_from(_CLOSE)))
            depth -= 1
    brackets += [draw(st.sampled_from(_CLOSE)) for _ in range(depth)]
    gaps = draw(st.lists(st.sampled_from(_FILLERS), min_size=len(brackets) + 1,
                         max_size=len(brackets) + 1))
    for index, hider in draw(st.lists(
        st.tuples(st.integers(0, len(brackets)), st.sampled_from(_HIDERS)), max_size=2
    )):
        gaps[index] = hider
    return "".join(g + b for g, b in zip(gaps, brackets, strict=False)) + gaps[-1]


_bracket_lines = st.builds(
    lambda indent, prefix, parts: indent + prefix + "".join(parts),
    st.sampled_from(["", "  ", "    "]),
    st.sampled_from(["", "a: ", "- ", "? ", "--- ", "- a: ", "a b "]),
    st.lists(st.one_of(_balanced(), st.sampled_from(_FILLERS)), min_size=1, max_size=3),
)
_free_lines = st.one_of(
    st.lists(st.sampled_from(_ALPHABET), max_size=12),
    st.lists(st.sampled_from([c for c in _ALPHABET if not set(c) & set("[]{}")]), max_size=12),
).map("".join)
_texts = st.lists(st.one_of(_bracket_lines, _bracket_lines, _free_lines), max_size=8).map(
    "\n".join
)


@given(text=_texts)
def test_shallow_lines_is_sound(text: str) -> None:
    # Whenever the shortcut says every flow collection is shallow, the exact scan agrees.
    if yamlstrict._shallow_lines(text):
        assert scan_problem(text) is None


@given(text=_texts)
def test_the_shortcuts_never_change_what_the_check_finds(text: str) -> None:
    assert check_problem(text) == scan_problem(text)


@pytest.mark.parametrize("parser_class", PARSERS)
@given(text=_texts)
def test_read_never_refuses_a_shallow_text_before_parsing(parser_class: Any, text: str) -> None:
    # read() may still find the data nested too deep (a flow collection inside block
    # ones), but only from what the parser built: never by the check before it.
    if not yamlstrict._shallow_lines(text):
        return
    parsed: list[str] = []

    def recording_parser(stream: str) -> Any:
        parsed.append(stream)
        return parser_class(stream)

    original = yamlstrict._Parser
    yamlstrict._Parser = recording_parser
    try:
        read(text.encode())
    except YamlProblem as exc:
        if exc.message == f"nested deeper than {LIMIT} levels":
            assert parsed == [text]
    except YamlProblems:
        pass
    finally:
        yamlstrict._Parser = original


def _flow_document(opens: list[str], items: list[str], separator: str) -> tuple[str, int]:
    """One flow collection nesting `opens`, and the index of its opener number LIMIT + 1."""
    heads = []
    for opener, item in zip(opens, items, strict=False):
        if opener == "[":
            heads.append("[" + separator + item)
        else:  # the nested collection is the value of key k, after other entries or none
            heads.append("{" + separator + item.replace("a, ", "a: 1, ") + "k: ")
    closes = {"[": "]", "{": "}"}
    text = "".join(heads) + "x" + "".join(separator + closes[o] for o in reversed(opens))
    return text + "\n", len("".join(heads[:LIMIT]))


@pytest.mark.parametrize("text", [
    "a:\n  " + "[" * (LIMIT + 1) + "\n",
    "a:\n  # note\n\n  - " + "{" * (LIMIT + 1) + "\n",
    "- a\n-\n  " + "[" * (LIMIT + 1) + "x" + "]" * (LIMIT + 1) + "\n",
])
def test_lines_ending_in_crlf_are_checked_as_lines_ending_in_lf(text: str) -> None:
    """The pattern of a node starting on the next line took LF only: with CRLF, libyaml's
    own limit (1000 levels) answered instead, elsewhere."""
    found = check_problem(text)
    assert found is not None and found[2] == f"nested deeper than {LIMIT} levels"
    assert check_problem(text.replace("\n", "\r\n")) == found


@pytest.mark.parametrize("parser_class", PARSERS)
@given(opens=st.lists(st.sampled_from(_OPEN), min_size=1, max_size=LIMIT + 1),
       items=st.lists(st.sampled_from(["", " ", "a, "]), min_size=LIMIT + 1,
                      max_size=LIMIT + 1),
       multi_line=st.booleans(), crlf=st.booleans())
def test_a_flow_document_is_refused_exactly_past_the_limit(
    parser_class: Any, opens: list[str], items: list[str], multi_line: bool, crlf: bool
) -> None:
    # One flow collection as the whole document, on one line or over many: its data nests
    # exactly as deep as its brackets, so read() refuses it exactly past the limit, at the
    # opener one level too deep. Lines ending in CRLF change nothing.
    text, index = _flow_document(opens, items, "\n" if multi_line else "")
    data_bytes = (text.replace("\n", "\r\n") if crlf else text).encode()
    original = yamlstrict._Parser
    yamlstrict._Parser = parser_class
    try:
        if len(opens) <= LIMIT:
            data = read(data_bytes)
            for opener in opens[:-1]:
                data = data[-1] if opener == "[" else data["k"]
            assert data in (["x"], ["a", "x"], {"k": "x"}, {"a": 1, "k": "x"})
        else:
            with pytest.raises(YamlProblem) as raised:
                read(data_bytes)
            assert raised.value.message == f"nested deeper than {LIMIT} levels"
            assert (raised.value.line, raised.value.column) == yamlstrict._position(text, index)
    finally:
        yamlstrict._Parser = original


@pytest.mark.parametrize("opening", ['"Grok 3', "'Grok 3"])
def test_a_quote_never_closed_is_reported_where_it_opens_not_at_the_end(opening):
    lines = ["schema_version: 1", "provider:", "  id: xai", f"  display_name: {opening}",
             "  api_base: https://api.x.ai/v1", "models: []", "", "# the end", ""]
    line, column, message = problem_of("\n".join(lines).encode())
    assert (line, column) == (4, len("  display_name: ") + 1)
    assert message == (
        "invalid YAML: found unexpected end of stream while scanning a quoted scalar"
        " that starts here"
    )


@pytest.mark.parametrize(("char", "name"), [
    ("\r", "a carriage return (CR) not followed by LF"), ("\x85", "next line (NEL, U+0085)"),
    ("\u2028", "line separator (U+2028)"), ("\u2029", "paragraph separator (U+2029)"),
])
def test_a_line_break_editors_do_not_count_is_refused_where_it_is(char, name):
    """libyaml ends a line there: the line of every later problem would be one too many."""
    text = f'schema_version: 1\nprovider:\n  id: xai\n  display_name: "xAI{char}Grok"\n'
    line, column, message = problem_of(text.encode())
    assert (line, column) == (4, len('  display_name: "xAI') + 1)
    assert message == f"{name} is a line break in YAML; end lines with LF or CRLF only"


def test_crlf_line_ends_are_line_ends():
    assert read(b"schema_version: 1\r\nprovider:\r\n  id: xai\r\n") == {
        "schema_version": 1, "provider": {"id": "xai"}
    }


def test_every_problem_of_a_file_cut_short_is_on_a_line_the_file_has(parser):
    """The parser marks an unexpected end of the stream on the line after the last one,
    which editors do not show: the report names the file's last character instead."""
    text = (
        'schema_version: 1\nprovider: {id: xai, display_name: "xAI", api_base: x}\n'
        "models:\n  - id: grok-3\n    aliases: [grok-3-latest, 'grok 3']\n"
    )
    outside = []
    for end in range(len(text) + 1):
        cut = text[:end]
        positions: yamlstrict.Positions = {}
        try:
            read(cut.encode(), positions)
        except YamlProblem as problem:
            places = [(problem.line, problem.column)]
        except YamlProblems as problems:
            places = [(problem.line, problem.column) for problem in problems.problems]
        else:
            places = list(positions.values())
        last_line = cut.rstrip().count("\n") + 1
        outside += [(cut, place) for place in places if place[0] > last_line]
    assert outside == []


@pytest.mark.parametrize(("text", "position", "message"), [
    # A key without its ':' is reported on its own line, not on the next one.
    ("a:\n  b: 1\n  c 2\n  d: 3\n", (3, 3),
     "invalid YAML: could not find expected ':' while scanning a simple key that starts here"),
    # ...also when the file ends with a comment.
    ("a: 1\nb\n# the end\n", (2, 1),
     "invalid YAML: could not find expected ':' while scanning a simple key that starts here"),
    # A line of only a pasted no-break space: named, as it looks like nothing.
    ("a:\n  b: 1\n\u00a0\n  c: 2\n", (3, 1),
     "invalid YAML: could not find expected ':' while scanning a simple key that starts here;"
     " line 3 holds a no-break space (U+00A0), which YAML takes for text, not for a space"),
])
def test_a_syntax_error_is_reported_where_an_editor_should_look(parser, text, position, message):
    assert problem_of(text.encode()) == (*position, message)


def test_a_flow_collection_left_open_names_where_it_starts(parser):
    """The two parsers word the problem itself differently."""
    line, column, message = problem_of(b"a: [x, y\nb: 2\nc: 3\n")
    assert (line, column) == (2, 2)
    assert message.endswith(" (while parsing a flow sequence that starts at line 1, column 4)")


def test_a_no_break_space_after_a_colon_is_named_at_the_next_line_problem(parser):
    line, column, message = problem_of("a:\n  display_name:\u00a0M1\n  c: 2\n".encode())
    assert (line, column) == (3, 4)
    assert message.endswith(
        "; line 2 holds a no-break space (U+00A0), which YAML takes for text, not for a space"
    )
