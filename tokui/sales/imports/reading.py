"""Reading an import file as rows of text, streaming: never the whole file in memory."""

import codecs
import csv
import datetime
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

BOM = codecs.BOM_UTF8
SAMPLE_BYTES = 256 * 1024
ENCODINGS = ("utf-8", "utf-8-sig", "cp932", "cp949")


class FileProblem(Exception):
    """The file cannot be read at all (not a row's problem): no header, bad encoding, …"""


def is_xlsx(path: str | Path) -> bool:
    with open(path, "rb") as file:
        return file.read(4) == b"PK\x03\x04"


def _is_common_hangul(char: str) -> bool:
    """One of the 2,350 syllables of KS X 1001, which real Korean text is almost all made of;
    Shift_JIS bytes read as CP949 give the rare syllables of its extension instead."""
    encoded = char.encode("cp949")
    return len(encoded) == 2 and encoded[0] >= 0xA1 and encoded[1] >= 0xA1


def _japanese_score(text: str) -> int:
    """Kana and kanji read as Japanese; private-use characters mean the wrong encoding.
    Half-width katakana count for nothing: EUC-KR bytes read as CP932 are full of them."""
    score = 0
    for char in text[:65536]:
        code = ord(char)
        if 0x3040 <= code <= 0x30FF:
            score += 2
        elif 0x4E00 <= code <= 0x9FFF:
            score += 1
        elif 0xE000 <= code <= 0xF8FF:
            score -= 10
    return score


def _korean_score(text: str) -> int:
    score = 0
    for char in text[:65536]:
        code = ord(char)
        if 0xAC00 <= code <= 0xD7A3:
            score += 2 if _is_common_hangul(char) else -2
        elif 0xE000 <= code <= 0xF8FF:
            score -= 10
    return score


def _decodes(sample: bytes, encoding: str) -> str | None:
    # The sample may end inside a multi-byte character: decode incrementally, not final.
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return None


def detect_encoding(path: str | Path) -> str:
    """The encoding of a CSV file: BOM → utf-8-sig; valid UTF-8 → utf-8; else CP932 or CP949.

    Shift_JIS and EUC-KR bytes often decode without error in the other encoding too, so
    the choice falls on the one whose text reads as its language: kana and kanji for
    CP932, hangul for CP949.
    """
    with open(path, "rb") as file:
        sample = file.read(SAMPLE_BYTES)
    if sample.startswith(BOM):
        return "utf-8-sig"
    if _decodes(sample, "utf-8") is not None:
        return "utf-8"
    candidates = {}
    for encoding in ("cp932", "cp949"):
        text = _decodes(sample, encoding)
        if text is not None:
            candidates[encoding] = text
    if not candidates:
        raise FileProblem("unknown encoding")
    if len(candidates) == 1:
        return next(iter(candidates))
    japanese = _japanese_score(candidates["cp932"])
    korean = _korean_score(candidates["cp949"])
    return "cp949" if korean > japanese else "cp932"


def count_rows(path: str | Path) -> int:
    """About how many data rows the file holds, for the progress bar (cheap: counts lines)."""
    if is_xlsx(path):
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True)
        try:
            return max((workbook.worksheets[0].max_row or 1) - 1, 0)
        finally:
            workbook.close()
    lines = 0
    last = b"\n"
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    return max(lines - 1, 0)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Table:
    """A file's header and its data rows as lists of text, with spreadsheet row numbers.

    Row 1 is the header, so the first data row is number 2, as Excel shows it. Iterate
    once per ``rows()`` call; each call reopens the file.
    """

    def __init__(self, path: str | Path, encoding: str = ""):
        self.path = Path(path)
        self.xlsx = is_xlsx(self.path)
        self.encoding = "" if self.xlsx else (encoding or detect_encoding(self.path))
        self.headers = self._read_headers()

    def _read_headers(self) -> list[str]:
        for _number, row in self._raw_rows():
            headers = [cell.strip() for cell in row]
            while headers and not headers[-1]:
                headers.pop()
            if not headers:
                break
            return headers
        raise FileProblem("no header row")

    def _raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        if self.xlsx:
            import openpyxl

            workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    yield number, [_cell_text(v) for v in values]
            finally:
                workbook.close()
            return
        try:
            with open(self.path, encoding=self.encoding, newline="") as file:
                # Records, not lines: a quoted cell with a line break is still one Excel row.
                yield from enumerate(csv.reader(file), start=1)
        except UnicodeDecodeError as exc:
            raise FileProblem(f"not {self.encoding}: {exc.reason} at byte {exc.start}") from exc
        except csv.Error as exc:
            raise FileProblem(str(exc)) from exc

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Data rows with their row number, at least as wide as the header; entirely empty
        rows are skipped. One loop, no nested generator: order files have millions of rows."""
        if not self.xlsx:
            yield from self._csv_rows()
            return
        rows = self._raw_rows()
        next(rows, None)
        width = len(self.headers)
        padding = [""] * width
        for number, row in rows:
            if len(row) < width:
                row = (row + padding)[:width] if any(row) else None
            if row:
                yield number, row

    def row_batches(self, size: int) -> Iterator[list[tuple[int, list[str]]]]:
        """``rows()`` in lists of at most ``size``. For CSV the rows are taken from the reader
        a batch at a time: when every row of a batch is at least as wide as the header (the
        usual case) the batch is numbered in one step, not row by row."""
        if self.xlsx:
            rows = self.rows()
            while batch := list(islice(rows, size)):
                yield batch
            return
        width = len(self.headers)
        padding = [""] * width
        try:
            with open(self.path, encoding=self.encoding, newline="") as file:
                reader = csv.reader(file)
                next(reader, None)
                number = 2
                while rows := list(islice(reader, size)):
                    if min(map(len, rows)) >= width:
                        batch = list(zip(range(number, number + len(rows)), rows, strict=True))
                    else:
                        batch = []
                        for offset, row in enumerate(rows):
                            if len(row) < width:
                                row = (row + padding)[:width] if any(row) else None
                            if row:
                                batch.append((number + offset, row))
                    number += len(rows)
                    if batch:
                        yield batch
        except UnicodeDecodeError as exc:
            raise FileProblem(f"not {self.encoding}: {exc.reason} at byte {exc.start}") from exc
        except csv.Error as exc:
            raise FileProblem(str(exc)) from exc

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        # The same as rows() for CSV, in one generator: order files have millions of rows.
        width = len(self.headers)
        padding = [""] * width
        try:
            with open(self.path, encoding=self.encoding, newline="") as file:
                reader = csv.reader(file)
                next(reader, None)
                for number, row in enumerate(reader, start=2):
                    if len(row) < width:
                        row = (row + padding)[:width] if any(row) else None
                    if row:
                        yield number, row
        except UnicodeDecodeError as exc:
            raise FileProblem(f"not {self.encoding}: {exc.reason} at byte {exc.start}") from exc
        except csv.Error as exc:
            raise FileProblem(str(exc)) from exc
