"""The ``roller-imu v1`` recording format: a small CSV any IMU logger can produce.

A file is a magic line, ``# key=value`` header lines in any order, a column line, then
one sample per line::

    # roller-imu v1
    # sample_rate_hz=100
    # roller_diameter_cm=15
    # user_height_cm=175.0
    # routine=upper_back
    # parts=glutes@65.200,hamstrings@140.512
    t_s,ax_g,ay_g,az_g,gx_dps,gy_dps,gz_dps
    0.0000,0.01000,0.02000,0.99900,0.1000,-0.0500,0.0200

``parts`` is optional: a session of several areas, each after the first named with the
moment (s from the first sample) it was asked for, ``!`` after it when the person got off
the roller at once (a stretch); the routine is the first part's.

Parsing is pure (:func:`parse` takes text) so it can be tested without files; every
problem is a :class:`RecordingError` that names the file, the line and what is wrong.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import itertools
import logging
import math
import os
import shutil
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from tracker.core.body import ROUTINES
from tracker.core.formats.parts import Switch, format_parts, parse_parts
from tracker.core.limits import FileProblem, quote

log = logging.getLogger(__name__)
MAGIC: Final = "# roller-imu v1"
COLUMNS: Final[tuple[str, ...]] = ("t_s", "ax_g", "ay_g", "az_g", "gx_dps", "gy_dps", "gz_dps")
REQUIRED_KEYS: Final[tuple[str, ...]] = (
    "sample_rate_hz",
    "roller_diameter_cm",
    "user_height_cm",
    "routine",
)
_NUMERIC_LIMITS: Final[dict[str, tuple[float, float]]] = {
    "sample_rate_hz": (1.0, 10_000.0),
    "roller_diameter_cm": (2.0, 50.0),
    "user_height_cm": (50.0, 272.0),
}


class RecordingError(FileProblem):
    """A recording that cannot be used, with the place of the first problem."""


@dataclass(frozen=True)
class Header:
    """What a recording says about itself. Unknown keys are kept in ``extra``."""

    sample_rate_hz: float
    roller_diameter_cm: float
    user_height_cm: float
    routine: str
    extra: Mapping[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The header as written: magic, the known keys, then the extra keys."""
        known = {
            "sample_rate_hz": f"{self.sample_rate_hz:g}",
            "roller_diameter_cm": f"{self.roller_diameter_cm:g}",
            "user_height_cm": f"{self.user_height_cm:.1f}",
            "routine": self.routine,
        }
        pairs = [*known.items(), *((k, v) for k, v in self.extra.items() if k not in known)]
        return [MAGIC, *(f"# {k}={v}" for k, v in pairs), ",".join(COLUMNS)]

    def text(self) -> str:
        """The header lines as they open a file."""
        return "\n".join(self.lines()) + "\n"

    @property
    def parts(self) -> list[Switch]:
        """The parts after the first, as they were asked for (session time: s from the
        first sample). Checked when the header was read."""
        return parse_parts(self.extra.get("parts", ""))


@dataclass(frozen=True)
class Recording:
    """A parsed recording: the header and an ``(n, 7)`` float array in :data:`COLUMNS` order."""

    header: Header
    samples: npt.NDArray[np.float64]

    @property
    def t_s(self) -> npt.NDArray[np.float64]:
        return self.samples[:, 0]

    @property
    def accel_g(self) -> npt.NDArray[np.float64]:
        return self.samples[:, 1:4]

    @property
    def gyro_dps(self) -> npt.NDArray[np.float64]:
        return self.samples[:, 4:7]

    def fingerprint(self) -> str:
        """What the recording says (header and samples, not how the file spells them), hashed:
        the same recording imported twice is recognised."""
        import hashlib  # roller import's alone: roller analyze starts without it

        h = self.header
        parts = f",{format_parts(h.parts)}" if h.parts else ""  # older digests unchanged
        digest = hashlib.sha256(f"{h.sample_rate_hz:g},{h.roller_diameter_cm:g},"
                                f"{h.user_height_cm:g},{h.routine}{parts}".encode())
        digest.update(np.ascontiguousarray(self.samples, dtype="<f8").tobytes())
        return digest.hexdigest()


#: Sample lines parsed at a time: memory stays flat however long the file is.
CHUNK_ROWS: Final = 20_000
#: Bytes of a plain file read at a time.
BLOCK_BYTES: Final = 1 << 20
Chunks = Iterator[npt.NDArray[np.float64]]


def read(path: Path | str) -> Recording:
    """Read and validate a recording file."""
    with opened(path) as (header, chunks):
        return Recording(header, np.concatenate(list(chunks)))


@contextmanager
def opened(path: Path | str) -> Iterator[tuple[Header, Chunks]]:
    """A recording file's header, and its samples in chunks of :data:`CHUNK_ROWS` as they
    are read and validated: what analysing a file of any length needs.

    A plain file (ASCII with ``\\n`` line ends, as :func:`write` writes it) is cut into lines
    a block at a time, with no Python step per line. Anything else, and any problem found, is
    read again from the start as a text file, line by line: every file reads to the same
    samples, and fails with the same line and words, either way."""
    source = str(path)
    try:
        with open(path, "rb") as raw:
            _refuse_binary(raw.read(4096), source)
            raw.seek(0)
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline=None)  # read if need be
            lines = _Lines(_plain_blocks(raw.fileno()))
            try:
                plain: tuple[Header, int] | None = _parse_header(lines, source)
            except (_NotPlain, RecordingError):
                plain = None
            yield _text(text, source) if plain is None \
                else (plain[0], _plain_chunks(lines, text, source, plain[1]))
    except OSError as exc:
        raise RecordingError(source, None, exc.strerror or str(exc)) from None


class _NotPlain(Exception):
    """A byte the block reader leaves to the text file: beyond ASCII, or a carriage return."""


def _plain_blocks(fd: int) -> Iterator[list[str]]:
    """A plain file's lines, a block's worth at a time, as the text file would give them.
    Read at offsets (``os.pread``), which leaves the file's position and buffer alone: if the
    text file reads it after all, it reads as if this had not happened (where it names an
    encoding error depends on where its own reads fall)."""
    offset, rest = 0, b""
    while block := os.pread(fd, BLOCK_BYTES, offset):
        data = rest + (block if offset else block.removeprefix(codecs.BOM_UTF8))
        offset += len(block)
        if not data.isascii() or b"\r" in data:
            raise _NotPlain
        end = data.rfind(b"\n") + 1
        rest = data[end:]
        if end:
            yield data[:end - 1].decode("ascii").split("\n")
    if rest:
        yield [rest.decode("ascii")]


class _Lines:
    """Lines from lists of them: one at a time (the header), then :data:`CHUNK_ROWS` at a
    time (the samples)."""

    def __init__(self, lists: Iterator[list[str]]) -> None:
        self._lists = lists
        self._pending: list[str] = []
        self._next = 0  # of the pending lines

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        while self._next == len(self._pending):
            self._pending, self._next = next(self._lists), 0
        self._next += 1
        return self._pending[self._next - 1]

    def batches(self) -> Iterator[list[str]]:
        pending = self._pending[self._next:]
        more: list[str] | None = []
        while more is not None:
            pending += more
            while len(pending) >= CHUNK_ROWS:
                yield pending[:CHUNK_ROWS]
                pending = pending[CHUNK_ROWS:]
            more = next(self._lists, None)
        if pending:
            yield pending


def _plain_chunks(lines: _Lines, text: io.TextIOWrapper, source: str,
                  first_line: int) -> Chunks:
    """The samples of a plain file; from where it turns out not to be plain, or to have a
    problem, those of the text file read from the start (the chunks given already skipped)."""
    given = 0
    try:
        for chunk in _chunks(lines.batches(), source, first_line):
            yield chunk
            given += 1
        return
    except (_NotPlain, RecordingError):
        pass
    _, chunks = _text(text, source)
    yield from itertools.islice(chunks, given, None)


def _text(text: io.TextIOWrapper, source: str) -> tuple[Header, Chunks]:
    """A recording read as a text file (not read before), line by line from its start: any
    line ends, and an encoding error named at the line the decoder stops on."""
    lines = _decoded(text, source)
    header, first = _parse_header(lines, source)
    return header, _chunks(iter(lambda: list(itertools.islice(lines, CHUNK_ROWS)), []),
                           source, first)


def parse_bytes(data: bytes, source: str = "<recording>") -> Recording:
    """Decode and parse; a binary file is refused before any parsing."""
    _refuse_binary(data[:4096] if data.strip() else b"", source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise RecordingError(source, line, "not UTF-8 text (is this a binary file?)") from None
    return parse(text, source)


def parse(text: str, source: str = "<recording>") -> Recording:
    """Parse the text of a recording; raise :class:`RecordingError` on the first problem."""
    lines = iter(text.splitlines())
    header, first = _parse_header(lines, source)
    batches = iter(lambda: list(itertools.islice(lines, CHUNK_ROWS)), [])
    return Recording(header, np.concatenate(list(_chunks(batches, source, first))))


def _refuse_binary(head: bytes, source: str) -> None:
    if not head.strip():
        raise RecordingError(source, None, "empty file, expected a roller-imu v1 recording")
    if b"\x00" in head:
        raise RecordingError(source, None, "binary file, expected a roller-imu v1 CSV recording")


def _decoded(text: io.TextIOWrapper, source: str) -> Iterator[str]:
    number = 0
    try:
        for line in text:
            number += 1
            yield line.rstrip("\n")
    except UnicodeDecodeError:
        raise RecordingError(source, number + 1, "not UTF-8 text (is this a binary file?)") \
            from None


def _parse_header(lines: Iterator[str], source: str) -> tuple[Header, int]:
    """The magic line, the ``# key=value`` lines and the column line; the number of the first
    sample line."""
    first = next(lines, None)
    if first is None or not first.strip():
        raise RecordingError(source, None if first is None else 1,
                             "empty file, expected a roller-imu v1 recording")
    if first.strip() != MAGIC:
        raise RecordingError(source, 1, f"expected '{MAGIC}' as the first line")
    values: dict[str, tuple[str, int]] = {}  # key: (value, line number)
    number = 2
    line = next(lines, None)
    while line is not None and line.startswith("#"):
        key, sep, value = line[1:].partition("=")
        if not sep or not key.strip():
            raise RecordingError(source, number, "header line must be '# key=value'")
        values[key.strip()] = (value.strip(), number)
        number += 1
        line = next(lines, None)
    header = _header(values, source, number)
    if line is None:
        raise RecordingError(source, number, f"missing column line '{','.join(COLUMNS)}'")
    if tuple(c.strip() for c in line.split(",")) != COLUMNS:
        raise RecordingError(source, number, f"expected columns '{','.join(COLUMNS)}'")
    return header, number + 1


def _chunks(batches: Iterator[list[str]], source: str, first_line: int) -> Chunks:
    """Validated samples, a batch of :data:`CHUNK_ROWS` lines at a time; times must rise
    across chunks."""
    number, total, last_t = first_line, 0, None
    for batch in batches:
        array = _samples(batch, source, number, last_t)
        number += len(batch)
        if len(array):
            total += len(array)
            last_t = float(array[-1, 0])
            yield array
    if total < 2:
        raise RecordingError(source, number, f"{total} sample(s): need at least 2")


def _header(values: dict[str, tuple[str, int]], source: str, end_line: int) -> Header:
    missing = [key for key in REQUIRED_KEYS if key not in values]
    if missing:
        raise RecordingError(source, end_line, f"header is missing {', '.join(missing)}")
    numbers: dict[str, float] = {}
    for key, (low, high) in _NUMERIC_LIMITS.items():
        text, line = values[key]
        try:
            number = float(text)
        except ValueError:
            raise RecordingError(source, line, f"{key}={quote(text)} is not a number") from None
        if not (low <= number <= high):  # also refuses nan
            raise RecordingError(source, line,
                                 f"{key}={quote(text)} is outside {low:g}..{high:g}")
        numbers[key] = number
    routine, line = values["routine"]
    if routine not in ROUTINES:
        raise RecordingError(source, line, f"unknown routine {quote(routine)}, expected one "
                             f"of {', '.join(ROUTINES)}")
    if "parts" in values:
        text, line = values["parts"]
        try:
            parse_parts(text)
        except ValueError as exc:
            raise RecordingError(source, line, str(exc)) from None
    extra = {k: v for k, (v, _) in values.items() if k not in REQUIRED_KEYS}
    return Header(
        sample_rate_hz=numbers["sample_rate_hz"],
        roller_diameter_cm=numbers["roller_diameter_cm"],
        user_height_cm=numbers["user_height_cm"],
        routine=routine,
        extra=extra,
    )


def _samples(lines: list[str], source: str, first_line: int,
             last_t: float | None) -> npt.NDArray[np.float64]:
    """Parse sample lines quickly with NumPy, and precisely (to name the line) on failure;
    ``last_t`` is the time of the sample before these."""
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    array: npt.NDArray[np.float64] | None = None
    # Blank lines inside would shift NumPy's row numbers: those lines take the careful path.
    if lines and all(lines):
        try:
            with warnings.catch_warnings():  # only comments: the careful path says what is wrong
                warnings.filterwarnings("ignore", "loadtxt: input contained no data", UserWarning)
                array = np.loadtxt(lines, delimiter=",", ndmin=2)
        except ValueError:
            array = None
    if array is None or array.shape[1] != len(COLUMNS) or not np.isfinite(array).all():
        array = _samples_carefully(lines, source, first_line)
    if not len(array):
        return array
    t_s = array[:, 0] if last_t is None else np.concatenate([[last_t], array[:, 0]])
    shift = 0 if last_t is None else 1  # rows of ``t_s`` before this chunk's first
    _storable(array, t_s, source, first_line - shift)
    backwards = np.flatnonzero(np.diff(t_s) <= 0)
    if backwards.size:
        row = int(backwards[0]) + 1
        raise RecordingError(
            source,
            first_line - shift + row,
            f"timestamp {t_s[row]:.4f} s is not after the previous {t_s[row - 1]:.4f} s",
        )
    return array


#: The largest magnitude a stored (float32) sample keeps.
FLOAT32_MAX: Final = float(np.finfo(np.float32).max)
#: Times are seconds on the sensor's clock: beyond this they lose the 0.1 ms the format keeps.
MAX_T_S: Final = 1e9
#: The finest time step the format writes (``%.4f``), and the fastest sensor rate it allows.
MIN_STEP_S: Final = 1e-4


def _storable(array: npt.NDArray[np.float64], t_s: npt.NDArray[np.float64], source: str,
              first_line: int) -> None:
    """Refuse what would not survive the store and an export: values beyond float32, times
    beyond the clock's range, and time steps finer than the format writes. ``t_s`` may
    start with the sample before ``array`` (whose lines start at ``first_line`` + 1)."""
    offset = first_line + len(t_s) - len(array)
    too_big = np.flatnonzero((np.abs(array) > FLOAT32_MAX).any(axis=1))
    if too_big.size:
        raise RecordingError(source, offset + int(too_big[0]), "a value is beyond what a "
                             "32-bit sample holds (3.4e38)")
    far = np.flatnonzero(np.abs(array[:, 0]) > MAX_T_S)
    if far.size:
        raise RecordingError(source, offset + int(far[0]), f"t_s is beyond +-{MAX_T_S:g} s")
    steps = np.diff(t_s)
    fine = np.flatnonzero((steps > 0) & (steps < MIN_STEP_S - 1e-9))  # back: reported below
    if fine.size:
        row = int(fine[0]) + 1
        raise RecordingError(source, first_line + row, f"t_s is less than {MIN_STEP_S * 1000:g} "
                             "ms after the previous sample (finer than the format keeps)")


def _samples_carefully(lines: list[str], source: str, first_line: int) -> npt.NDArray[np.float64]:
    rows: list[list[float]] = []
    for offset, line in enumerate(lines):
        if not line.strip():
            continue
        number = first_line + offset
        cells = line.split(",")
        if len(cells) != len(COLUMNS):
            raise RecordingError(
                source, number, f"{len(cells)} columns, expected {len(COLUMNS)}"
            )
        row = []
        for name, cell in zip(COLUMNS, cells, strict=True):
            try:
                value = float(cell)
            except ValueError:
                raise RecordingError(
                    source, number, f"{name} is {quote(cell.strip())}, not a number"
                ) from None
            if not math.isfinite(value):
                raise RecordingError(
                    source, number, f"{name} is {quote(cell.strip(), bare=True)}, not a finite "
                    "number"
                )
            row.append(value)
        rows.append(row)
    return np.array(rows, dtype=float).reshape(-1, len(COLUMNS))


#: How each column is written: to the precision the sensors have (0.1 ms, 10 µg, 0.1 mdps).
_FORMATS = ["%.4f", "%.5f", "%.5f", "%.5f", "%.4f", "%.4f", "%.4f"]


def format_recording(header: Header, samples: npt.NDArray[np.float64]) -> str:
    """The text of a recording (the inverse of :func:`parse`, to the written precision)."""
    body = io.StringIO()
    np.savetxt(body, samples, fmt=_FORMATS, delimiter=",")
    return header.text() + body.getvalue()


def target(path: Path | str) -> Path:
    """Where writing ``path`` lands: through a symbolic link to its file; a device, pipe or
    directory is refused (writing would replace it, or never end)."""
    resolved = Path(path).resolve()
    if resolved.exists() and not resolved.is_file():
        raise RecordingError(str(path), None, "not a regular file; give a file name to write")
    return resolved


def write(path: Path | str, header: Header, samples: npt.NDArray[np.float64]) -> None:
    """Write a recording atomically, so an interrupted write never leaves half a file; a
    symbolic link keeps pointing at the written file."""
    final = target(path)
    partial = final.with_name(final.name + ".partial")
    try:
        partial.write_text(format_recording(header, samples), encoding="utf-8")
        partial.replace(final)
    except OSError as exc:
        raise RecordingError(str(path), None, f"cannot write: {exc.strerror or exc}") from None


class RecordingWriter:
    """A recording written as the samples arrive, so a crash keeps everything up to it.
    The path is checked at once (a path that cannot be written fails before a session); an
    existing file is replaced only when the first samples arrive."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._target = target(path)
        folder = self._target.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK) or (
                self._target.exists() and not os.access(self._target, os.W_OK)):
            raise RecordingError(self.path, None, "cannot write: no such directory, or no "
                                 "permission")
        self._file: io.TextIOWrapper | None = None
        self._header: Header | None = None
        self._t0: float | None = None  # the first sample's time

    @property
    def begun(self) -> bool:
        return self._file is not None

    def begin(self, header: Header) -> None:
        self._file = self._target.open("w", encoding="utf-8")
        self._file.write(header.text())
        self._header = header

    def append(self, samples: npt.NDArray[np.float64]) -> None:
        assert self._file is not None
        if self._t0 is None and len(samples):
            self._t0 = float(samples[0, 0])
        np.savetxt(self._file, samples, fmt=_FORMATS, delimiter=",")
        self._file.flush()

    def close(self, parts: Sequence[Switch] = ()) -> None:
        """Close. A session that switched areas (``parts``, on the samples' clock) is given
        its ``parts`` header now, the samples copied beneath it, so the file re-analyses as
        the session was split. A disk that fails now has already been reported by
        :meth:`append`, or loses only the ``parts`` line (logged)."""
        if self._file is None:
            return
        with contextlib.suppress(OSError):
            self._file.close()
        self._file = None
        if parts and self._header is not None and self._t0 is not None:
            t0 = self._t0
            later = format_parts([replace(p, at_s=round(p.at_s - t0, 3)) for p in parts])
            try:
                self._rewrite(replace(self._header,
                                      extra={**self._header.extra, "parts": later}))
            except OSError as exc:
                log.warning("%s: its parts could not be written: %s", self.path,
                            exc.strerror or exc)

    def _rewrite(self, header: Header) -> None:
        partial = self._target.with_name(self._target.name + ".partial")
        with self._target.open(encoding="utf-8") as old, \
                partial.open("w", encoding="utf-8") as new:
            new.write(header.text())
            for line in old:  # past the old header, which ends with the column line
                if line.startswith(COLUMNS[0] + ","):
                    break
            shutil.copyfileobj(old, new)
        partial.replace(self._target)
