"""printable: which text shows as nothing, and which passwords messages hide."""

from __future__ import annotations

import json
import signal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from radiant_registry import printable
from radiant_registry.printable import blank, invisible, may_hold_password, redacted


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        # The reason after a URL stays readable; only the password goes.
        ("cannot use postgresql://u@h/db?password=p4ss w0rd: refused",
         "cannot use postgresql://u@h/db?password=***: refused"),
        ("extra argument (postgresql://u@h/db?sslpassword=k3y ph4se)",
         "extra argument (postgresql://u@h/db?sslpassword=***)"),
        ("postgresql://my us3r:s3cr3t@h/db", "postgresql://my us3r:***@h/db"),
        # Digits first, then what follows a port: still a password, as an `@` comes.
        ("postgresql://admin:9/Zq+Ab3@h/reg", "postgresql://admin:***@h/reg"),
        ("postgresql://admin:123?x@h/reg", "postgresql://admin:***@h/reg"),
        ("postgresql://u:pa: ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:12345@h:5432/db", "postgresql://u:***@h:5432/db"),
        ("postgresql://u:s3cr3t@p4ss phr4se@h/db", "postgresql://u:***@h/db"),
        # As long as a cloud's access token, and a user of 140 characters.
        ("postgresql://aad:eyJ" + "a1B2c3" * 250 + "@h/db", "postgresql://aad:***@h/db"),
        ("postgresql://" + "%D0%B0" * 23 + "xx:S3cret@h/db",
         "postgresql://" + "%D0%B0" * 23 + "xx:***@h/db"),
        ("Database: postgresql://u@h/db?sslpassword=*** (--database-url)",
         "Database: postgresql://u@h/db?sslpassword=*** (--database-url)"),
        # Azure's user names hold an `@`: the password still goes, and the message's own
        # mention of the user later on the line is kept.
        ("extra argument (postgresql://admin@srv:S3cret@h/db)",
         "extra argument (postgresql://admin@srv:***@h/db)"),
        ('cannot use postgresql://admin@srv:***@h/db: FATAL: role "admin@srv" does not exist',
         'cannot use postgresql://admin@srv:***@h/db: FATAL: role "admin@srv" does not exist'),
        # A port is no password, nor is what follows a `: ` after the URL.
        ('cannot use postgresql://127.0.0.1:5432/postgres: FATAL: role "ops@corp" does not '
         'exist', 'cannot use postgresql://127.0.0.1:5432/postgres: FATAL: role "ops@corp" '
         'does not exist'),
        ("api_base https://api.x.ai/v1: see vertex/claude@2024",
         "api_base https://api.x.ai/v1: see vertex/claude@2024"),
        ("could not reach https://api.example.com: ask ops@example.com",
         "could not reach https://api.example.com: ask ops@example.com"),
        ('cannot use postgresql://alice%40srv@127.0.0.1: FATAL: role "alice@srv" does not exist',
         'cannot use postgresql://alice%40srv@127.0.0.1: FATAL: role "alice@srv" does not exist'),
        ('cannot use postgresql://alice@[fd00::5]:5432/reg: FATAL: user "alice@corp" failed',
         'cannot use postgresql://alice@[fd00::5]:5432/reg: FATAL: user "alice@corp" failed'),
        # A SQLite path may hold `:` and `@`.
        ("Database: sqlite:///tmp/a:b@c.db", "Database: sqlite:///tmp/a:b@c.db"),
        # A URL given for a folder, its `//` made `/` by the file path it became.
        ("no registry data: postgresql:/u:S3cret@h/db (--data-dir) does not exist",
         "no registry data: postgresql:/u:***@h/db (--data-dir) does not exist"),
    ],
)
def test_a_message_loses_its_passwords_and_nothing_else(message, shown):
    assert redacted(message) == shown


@pytest.mark.skipif(not hasattr(signal, "SIGALRM"), reason="needs SIGALRM")
@pytest.mark.parametrize(("line", "hidden"), [
    (text + end, end == "@" and hidden)
    for text, hidden in (
        ("a." * 200_000, False),
        ("https://a b " * 40_000, True),
        ("x://a:b " * 40_000, True),
        (("x://" + "a" * 600 + " ") * 500, False),  # users over 512 characters are not read
    )
    for end in ("", "@")
])
def test_redaction_takes_linear_time_on_a_long_line(line, hidden):
    """Not a timing test: a URL pattern that tried every dot as the start of a scheme, or
    let a user part run to the end of the line from each URL, took minutes on these. The
    alarm only turns a hang into a failure."""

    def hung(signum, frame):
        raise AssertionError("redaction takes time in the square of the line's length")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    try:
        shown = redacted(line)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if hidden:  # a password would end at the "@": from a URL's to it is hidden
        assert shown.endswith("***@") and line.startswith(shown.removesuffix("***@"))
    else:
        assert shown == line


@pytest.mark.parametrize("text", ["", "   ", "\u3164\u200b", "\u00a0\u2003", "\ufeff\u2060"])
def test_text_of_spaces_and_characters_that_show_as_nothing_is_blank(text):
    assert blank(text)


@pytest.mark.parametrize("text", [
    "x",
    "\uf8ff",  # private use (a logo in some fonts)
    "\U0001fae9",  # an emoji newer than some Pythons' Unicode
    " \u3164a ",
])
def test_text_a_font_may_draw_is_not_blank(text):
    assert not blank(text)


def test_a_name_in_the_audit_trail_refuses_what_a_font_may_not_draw():
    """--by is stricter: a private-use or unassigned character may show as nothing."""
    assert invisible("\uf8ff") and invisible("\U000e01f0") and not invisible("a")


@pytest.mark.parametrize("value", [
    "host=h password=hunter2", "host=h PASSWORD=hunter2", "host=h pa\u017fsword=hunter2",
    "postgresql://u:hunter2@h/db", "n\u00e4me postgresql://u:hunter2@h/db",
])
def test_a_json_log_line_hides_what_redacted_hides(value, capsys):
    """The log reads a record field by field only where it may hold a password: never
    missing one that `redacted` finds (case folding included: U+017F is an `s`)."""
    from radiant_registry.log import EventLog

    assert "hunter2" not in redacted(value)
    EventLog("json").event("test", "a record", dsn=value)
    logged = capsys.readouterr().err
    assert json.loads(logged)["dsn"] == redacted(value)


_SECRET_SHAPES = st.sampled_from([
    "postgresql://u:{}@h/db", "host=h password={}", "x?PASSWORD={}", "pa\u017fsword: {}",
    "PA\u017f\u017fWORD={}", "mysql://root:{}@db", "{}",
])


@given(_SECRET_SHAPES, st.text(min_size=1), st.text(), st.text())
def test_the_quick_test_passes_no_text_redacted_would_change(shape, secret, before, after):
    """`may_hold_password` lets text through unread: it must never let through one that
    the patterns, reading everything, would change."""
    text = before + shape.format(secret) + after
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(printable, "may_hold_password", lambda text: True)
        read_whole = redacted(text)
    assert may_hold_password(text) or read_whole == text
    assert redacted(text) == read_whole
