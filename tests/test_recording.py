"""The roller-imu v1 parser: valid files, every kind of bad file, and fuzzing."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tracker.core.formats import roller_imu
from tracker.core.formats.roller_imu import (
    Header,
    RecordingError,
    format_recording,
    opened,
    parse,
    parse_bytes,
)

HEADER = """# roller-imu v1
# sample_rate_hz=100
# roller_diameter_cm=15
# user_height_cm=175.0
# routine=upper_back
t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps
"""
ROW = "{t:.4f},0.01000,0.02000,0.99900,0.1000,-0.0500,0.0200\n"
GOOD = HEADER + ROW.format(t=0.0) + ROW.format(t=0.01)


def test_parses_the_documented_example() -> None:
    rec = parse(GOOD, "ok.csv")
    assert rec.header.routine == "upper_back"
    assert rec.header.sample_rate_hz == 100
    assert rec.samples.shape == (2, 7)
    assert rec.accel_g[0].tolist() == [0.01, 0.02, 0.999]


def test_header_keys_in_any_order_and_unknown_keys_kept() -> None:
    lines = GOOD.splitlines()
    text = "\n".join([lines[0], "# logger=acme 2.1", lines[4], lines[3], lines[2], lines[1],
                      *lines[5:]])
    rec = parse(text)
    assert rec.header.extra == {"logger": "acme 2.1"}
    assert rec.header.user_height_cm == 175.0


def test_clock_need_not_start_at_zero_and_may_have_gaps() -> None:
    rec = parse(HEADER + ROW.format(t=812.5) + ROW.format(t=812.51) + ROW.format(t=813.7))
    assert rec.t_s.tolist() == [812.5, 812.51, 813.7]


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (GOOD.replace("# routine=upper_back\n", ""), 5, "missing routine"),
        (GOOD.replace("upper_back", "lower_back"), 5, "unknown routine 'lower_back'"),
        (GOOD.replace("# sample_rate_hz=100", "# sample_rate_hz=fast"), 2, "not a number"),
        (GOOD.replace("0.99900,0.1000", "0.99900,abc", 1), 7, "gx_dps is 'abc'"),
        (GOOD.replace("0.02000", "nan", 1), 7, "ay_g is nan"),
        (GOOD.replace(",0.0200\n", "\n", 1), 7, "6 columns, expected 7"),
        (HEADER + ROW.format(t=1.0) + ROW.format(t=0.5), 8, "not after the previous"),
        (HEADER + ROW.format(t=1.0), 8, "need at least 2"),
        (HEADER, 7, "need at least 2"),
        ("t_s,ax_g\n1,2\n", 1, "expected '# roller-imu v1'"),
        (GOOD.replace("t_s,ax_g", "time,ax_g"), 6, "expected columns"),
    ],
)
def test_bad_files_name_the_line_and_the_problem(text: str, line: int, problem: str) -> None:
    with pytest.raises(RecordingError) as caught:
        parse(text, "bad.csv")
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"bad.csv:{line}: ")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"", "empty file"), (b"\n \n", "empty file"), (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
     (b"# roller-imu v1\n\xff\xfe", "not UTF-8")],
)
def test_empty_and_binary_files(data: bytes, problem: str) -> None:
    with pytest.raises(RecordingError, match=problem):
        parse_bytes(data, "x.csv")


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@given(
    samples=arrays(np.float64, st.tuples(st.integers(2, 40), st.just(6)), elements=finite),
    start=st.floats(0, 1e5, allow_nan=False),
    steps=st.lists(st.floats(0.001, 2.0), min_size=40, max_size=40),
    routine=st.sampled_from(["upper_back", "glutes", "hamstrings", "calves"]),
    extra=st.dictionaries(st.from_regex(r"[a-z][a-z_]{0,8}", fullmatch=True),
                          st.from_regex(r"[A-Za-z0-9 .]{0,12}", fullmatch=True).map(str.strip),
                          max_size=3),
)
@settings(max_examples=150, deadline=None)
def test_written_recordings_read_back(samples, start, steps, routine, extra) -> None:  # type: ignore[no-untyped-def]
    t = start + np.cumsum([0.0, *steps])[: len(samples)]
    t = np.round(t, 4)
    if np.any(np.diff(t) <= 0):
        return
    header = Header(100.0, 15.0, 175.0, routine, extra)
    rec = parse(format_recording(header, np.column_stack([t, samples])))
    assert rec.header.routine == routine
    known = {"sample_rate_hz", "roller_diameter_cm", "user_height_cm", "routine"}
    assert rec.header.extra == {k: v for k, v in extra.items() if k not in known}
    np.testing.assert_allclose(rec.t_s, t, atol=1e-4)
    np.testing.assert_allclose(rec.samples[:, 1:], samples, atol=1e-4, rtol=1e-6)


@given(st.binary(max_size=400))
@settings(max_examples=300, deadline=None)
def test_any_bytes_parse_or_fail_cleanly(data: bytes) -> None:
    try:
        parse_bytes(data, "fuzz.csv")
    except RecordingError as exc:
        assert str(exc).startswith("fuzz.csv")


@given(st.lists(st.text(alphabet="0123456789.,-eEnaif \t#=", max_size=60), max_size=8))
@settings(max_examples=300, deadline=None)
def test_mangled_sample_lines_fail_cleanly(lines: list[str]) -> None:
    try:
        parse(GOOD + "\n".join(lines), "fuzz.csv")
    except RecordingError as exc:
        assert str(exc).startswith("fuzz.csv")


#: What can go wrong in a file: bytes beyond ASCII (good and bad UTF-8), other line ends, a
#: byte-order mark, blank and comment lines, and what is not a number.
MANGLES = [b"\xff", "é".encode(), b"\r", b"\r\n", b"\n", b"\n\n", b"# x\n", b" ", b",", b"nan",
           b"1e400", b"x", b"\x00", b"\xef\xbb\xbf", b"\x0b", "\u2028".encode()]


def outcome(path: Path) -> tuple[str, ...]:
    """What reading a file gives: its header and chunks, or the error's line."""
    try:
        with opened(path) as (header, chunks):
            return (repr(header), *(f"{c.shape} {c.tobytes().hex()}" for c in chunks))
    except RecordingError as exc:
        return (str(exc),)


@given(rows=st.integers(0, 40), edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3),
                                                         st.sampled_from(MANGLES)), max_size=3),
       block=st.integers(16, 300), batch=st.integers(1, 9), crlf=st.booleans())
@settings(max_examples=300, deadline=None)
def test_a_file_reads_the_same_in_blocks_as_line_by_line(
        rows: int, edits: list[tuple[float, int, bytes]], block: int, batch: int,
        crlf: bool) -> None:
    """Cut into lines a block at a time or read line by line as text, any file gives the same
    samples in the same chunks, or the same error on the same line."""
    data = bytearray((HEADER + "".join(ROW.format(t=0.01 * i) for i in range(rows))).encode())
    if crlf:
        data = bytearray(data.replace(b"\n", b"\r\n"))
    for at, length, mangle in edits:
        start = int(at * len(data))
        data[start:start + length] = mangle
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        path = Path(folder) / "rec.csv"
        path.write_bytes(bytes(data))
        patch.setattr(roller_imu, "BLOCK_BYTES", block)
        patch.setattr(roller_imu, "CHUNK_ROWS", batch)
        in_blocks = outcome(path)

        def not_plain(fd: int) -> Iterator[list[str]]:  # every file read line by line
            raise roller_imu._NotPlain
            yield []  # a generator, as the block reader is

        patch.setattr(roller_imu, "_plain_blocks", not_plain)
        assert in_blocks == outcome(path)
