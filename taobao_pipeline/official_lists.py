"""Import the yearly Taobao village lists published by AliResearch.

The lists circulate as spreadsheets and text exports whose layout changes from year
to year: title rows above the header, blank or merged columns, two-line headers,
province names with or without their suffix, several sheets (villages, Taobao towns),
UTF-8, GB18030 or UTF-16 text. :func:`read_official_list` finds the header by meaning
and returns one tidy frame of villages and one of towns. ``official_lists_storage``
stores a list in the warehouse; ``reconciliation.write_official_reconciliation`` compares
it, per province, with the villages the pipeline computed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from taobao_pipeline.provinces import aliases
from taobao_pipeline.tables import TABLES

__all__ = [
    "OfficialList",
    "OfficialListError",
    "normalize_name",
    "normalize_province",
    "read_official_list",
]

# Every spelling of a province a list may use -> its full name (provinces.py).
_PROVINCE_ALIASES = aliases()

# Cell texts that stand for "no such unit" (e.g. the county of 白沟新城 is given as "-").
_PLACEHOLDERS = frozenset({"-", "--", "—", "——", "–", "/", "无"})
# Footnote markers trailing a name (the 2015 list stars 88 villages).
_FOOTNOTE_MARKERS = "*※△▲#"


class OfficialListError(ValueError):
    """A published list that cannot be used as a whole (unreadable, layout not recognised)."""


def _parsed_schema(table: str) -> dict[str, Any]:
    """The declared table's polars types, with the sheet a row came from before its row."""
    schema = TABLES[table].polars_schema()
    row_number = schema.pop("row_number")
    return {**schema, "sheet": pl.String, "row_number": row_number}


VILLAGE_SCHEMA: dict[str, Any] = _parsed_schema("official_villages")
TOWN_SCHEMA: dict[str, Any] = _parsed_schema("official_towns")

SKIPPED_SCHEMA: dict[str, Any] = {
    "source_file": pl.String,
    "sheet": pl.String,
    "row_number": pl.Int32,
    "reason": pl.String,
    "values": pl.String,
}


@dataclass(frozen=True)
class OfficialList:
    """One published list: its villages, its Taobao towns (often none) and skipped rows.

    ``skipped`` holds the non-blank rows below a header that were not taken (notes,
    subtotals, rows without a village name), so nothing is dropped silently.
    """

    villages: pl.DataFrame
    towns: pl.DataFrame
    skipped: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SKIPPED_SCHEMA))


# --------------------------------------------------------------------------- names


def normalize_name(name: str | None) -> str | None:
    """Normalize a place name: NFKC (full-width punctuation and spaces to half-width),
    no whitespace at all, no trailing footnote marker; ``None`` for empty or a placeholder
    such as ``-``. Suffixes are never added or removed."""
    if name is None:
        return None
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name))
    text = text.rstrip(_FOOTNOTE_MARKERS)
    if not text or text in _PLACEHOLDERS:
        return None
    return text


def normalize_province(name: str) -> str:
    """The full official name of a mainland provincial unit (浙江 -> 浙江省,
    广西 -> 广西壮族自治区); names that are not recognised are returned stripped."""
    key = normalize_name(name)
    if key is None:
        return name.strip()
    return _PROVINCE_ALIASES.get(key, name.strip())


def _normalize_products(text: str | None) -> str | None:
    if text is None:
        return None
    cleaned = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()
    return cleaned if cleaned and cleaned not in _PLACEHOLDERS else None


# --------------------------------------------------------------------------- headers

# What each header cell may say once reduced by _header_key (e.g. 省(市、区) -> 省),
# tried in this order; 所在/所属 ("located in") may prefix, 名称/名 ("name") may follow.
_PRE, _NAME = "(所在|所属)?", "(名称|名)?"
_ROLE_PATTERNS: dict[str, re.Pattern[str]] = {
    role: re.compile(pattern)
    for role, pattern in {
        "sequence": r"序号|序|编号|no|number|#",
        "taobao_villages": r"(淘宝村)?(数量|个数|数目|数)个?|.*淘宝村(数量|个数|数目|数).*",
        "main_products": r"主营.*|(主要|主导|特色)?(产品|商品|类目|品类|产业|行业)(类别)?" + _NAME,
        "province": _PRE + r"省(份|区|市|市区|区市|自治区直辖市|级)?(行政区|单位)?" + _NAME,
        "township": _PRE + r"(淘宝)?[乡镇街道办事处]+" + _NAME,
        "village": _PRE + r"(淘宝|行政)?(村|村名|村庄|村居|社区|村委会|村居委会)(名称|名|名单)?",
        "county": _PRE + r"(县|区|区县|县区|县市区?|县区市|区县市|市县|县级市?)(行政区)?" + _NAME,
        "prefecture": _PRE + r"(地级)?(市|地市|地区|城市|市州|州市|地州市|地市州|市级)" + _NAME,
    }.items()
}

VILLAGE_ROLES = ("province", "prefecture", "county", "township", "village")
TOWN_ROLES = ("province", "prefecture", "county", "township", "taobao_villages")
_ROLE_LABELS = {
    "province": "province (省)",
    "prefecture": "prefecture (市)",
    "county": "county (县/区)",
    "township": "township (镇/乡/街道)",
    "village": "village (村)",
    "taobao_villages": "taobao_villages (淘宝村数量)",
}

# Notes ("注：", "数据来源：...") and subtotals ("浙江省合计") below or inside a list.
_NOTE = re.compile(r"(注|备注|说明|来源|资料来源|数据来源)\d*\s*:|备注|资料来源|数据来源")
_SUBTOTAL = re.compile(r"合计|小计|总计|共计")


def _header_key(text: str) -> str:
    """Header text reduced to its meaning: no spaces, line breaks, parenthesised
    qualifiers or punctuation; full-width and half-width forms unified."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()
    key = re.sub(r"\([^()]*\)", "", key)  # 县(市、区) -> 县
    if "(" in key:  # a qualifier cut by a line break: 省(市、
        key = key[: key.index("(")]
    return re.sub(r"[、,，/\\|·.:;\-_—~*\[\]【】\"'“”‘’()]", "", key)


def _classify(text: str | None) -> str | None:
    """The role a header cell stands for, or None."""
    if not text:
        return None
    key = _header_key(text)
    if not key:
        return None
    for role, pattern in _ROLE_PATTERNS.items():
        if pattern.fullmatch(key):
            return role
    return None


@dataclass(frozen=True)
class _Header:
    kind: str  # "villages" or "towns"
    columns: dict[str, int]  # role -> column index
    data_start: int  # index (in the sheet's row list) of the first row below the header


@dataclass(frozen=True)
class _Sheet:
    name: str | None
    rows: list[tuple[int, list[str | None]]]  # (row number in the file, cells)


def _column_roles(lines: Sequence[Sequence[str | None]]) -> tuple[dict[str, int], list[str]]:
    """Roles of the columns under a one- or two-line header, and each column's header text.

    In a two-line header a text split over two rows is read joined (淘宝村 / 名称), else the
    lower cell is the more specific one (所在地区 / 省); a cell merged down reads once.
    """
    width = max(len(line) for line in lines)
    roles: dict[str, int] = {}
    texts: list[str] = []
    for col in range(width):
        cells = [line[col] if col < len(line) else None for line in lines]
        upper, lower = cells[0], cells[-1]
        if len(cells) == 1 or upper == lower or not lower:
            candidates = [upper]
        elif not upper:
            candidates = [lower]
        else:  # joined first (淘宝村 / 名称), then the specific lower cell (所在地区 / 省)
            candidates = [upper + lower, lower, upper]
        role = next((r for r in map(_classify, candidates) if r), None)
        texts.append(" / ".join(dict.fromkeys(c for c in cells if c)))
        if role is not None and role != "sequence":
            roles.setdefault(role, col)
    return roles, texts


def _is_continuation(upper: Sequence[str | None], lower: Sequence[str | None]) -> bool:
    """Whether ``lower`` is the second line of a header whose first line is ``upper``."""
    changed = False
    for col, cell in enumerate(lower):
        if not cell:
            continue
        above = upper[col] if col < len(upper) else None
        if cell == above:
            continue
        if _classify(cell) or (above and _classify(above + cell)) or not _header_key(cell):
            changed = True
            continue
        return False
    return changed


def _complete(roles: dict[str, int]) -> str | None:
    if all(r in roles for r in TOWN_ROLES):
        return "towns"
    if all(r in roles for r in VILLAGE_ROLES):
        return "villages"
    return None


def _header_at(sheet: _Sheet, index: int) -> _Header | None:
    """The header starting at row ``index`` of ``sheet``, if there is one.

    A two-line header is tried first, unless the next row is a whole header by itself
    (then this row is a title or note above it).
    """
    line = sheet.rows[index][1]
    if not any(line):
        return None
    if index + 1 < len(sheet.rows):
        following = sheet.rows[index + 1][1]
        if _is_continuation(line, following) and not _complete(_column_roles([following])[0]):
            roles, _ = _column_roles([line, following])
            kind = _complete(roles)
            if kind:
                return _Header(kind, roles, index + 2)
    roles, _ = _column_roles([line])
    kind = _complete(roles)
    return _Header(kind, roles, index + 1) if kind else None


# --------------------------------------------------------------------------- reading files


def _cell_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        value = value.isoformat()
    text = str(value).strip()
    return text or None


def _read_xlsx(path: Path) -> list[_Sheet]:
    # imported here: every pipeline run imports this module, few read a workbook
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unknown extensions
            workbook = load_workbook(path, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise OfficialListError(f"{path}: cannot read the workbook: {exc}") from exc
    sheets = []
    for ws in workbook.worksheets:
        grid = [[_cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        # A merged range reads, as on screen, as its value in every cell it covers.
        for merged in ws.merged_cells.ranges:
            value = _cell_text(ws.cell(merged.min_row, merged.min_col).value)
            for r in range(merged.min_row, min(merged.max_row, len(grid)) + 1):
                for c in range(merged.min_col, min(merged.max_col, len(grid[r - 1])) + 1):
                    grid[r - 1][c - 1] = value
        sheets.append(_Sheet(ws.title, list(enumerate(grid, start=1))))
    workbook.close()
    return sheets


def _decode(data: bytes, path: Path) -> str:
    """Text in UTF-8 (BOM or not), UTF-16 (BOM or not) or GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    head = data[:4000]
    if 0 in head:  # UTF-16 without BOM: NUL bytes next to the ASCII separators
        little = head[1::2].count(0) >= head[0::2].count(0)
        try:
            return data.decode("utf-16-le" if little else "utf-16-be")
        except UnicodeDecodeError as exc:
            raise OfficialListError(f"{path}: undecodable UTF-16 text: {exc}") from exc
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise OfficialListError(f"{path}: not UTF-8, UTF-16 or GB18030 text")


def _read_text(path: Path, data: bytes) -> list[_Sheet]:
    text = _decode(data, path)
    sample = text.splitlines()[:30]
    delimiter = max(("\t", ",", ";"), key=lambda d: sum(line.count(d) for line in sample))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str | None]]] = []
    line_before = 0
    for record in reader:
        rows.append((line_before + 1, [_cell_text(cell) for cell in record]))
        line_before = reader.line_num
    return [_Sheet(None, rows)]


def _read_sheets(path: Path) -> list[_Sheet]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OfficialListError(f"{path}: cannot read the file: {exc}") from exc
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(path)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise OfficialListError(f"{path}: legacy .xls workbooks are not supported; save as .xlsx")
    return _read_text(path, data)


# --------------------------------------------------------------------------- rows


@dataclass
class _Parsed:
    villages: list[dict[str, Any]] = field(default_factory=list)
    towns: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)  # kinds of the headers found
    unrecognised: list[str | None] = field(default_factory=list)  # non-empty, no header


_FILLED = ("province", "prefecture", "county")


def _fill_down(values: dict[str, str | None], previous: dict[str, str | None]) -> None:
    """Fill province, prefecture, county left empty (merged cells exported flat) from the
    row above, each only while the levels above it are the same as in that row."""
    for level, role in enumerate(_FILLED):
        if values.get(role) is None and all(
            values.get(up) == previous.get(up) for up in _FILLED[:level]
        ):
            values[role] = previous.get(role)


def _note_reason(values: dict[str, str | None]) -> str | None:
    """Why a non-blank row below a header is a note rather than a list entry, if it is."""
    texts = [v for r, v in values.items() if v and r != "main_products"]
    normalized = [unicodedata.normalize("NFKC", t) for t in texts]
    if any(_NOTE.match(t) or _SUBTOTAL.search(t) for t in normalized):
        return "note or subtotal row"
    if len(texts) > 1 and len(set(texts)) == 1:
        return "title or note spanning the row"
    return None


def _parse_count(text: str | None) -> int | None:
    if text is None:
        return None
    match = re.match(r"\d+", re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))
    return int(match.group()) if match else None


def _parse_sheet(sheet: _Sheet, edition: int, source: str, out: _Parsed) -> bool:
    """Append the sheet's entries to ``out``; False when the sheet has no header."""
    header: _Header | None = None
    previous: dict[str, str | None] = {}
    index = 0
    while index < len(sheet.rows):
        found = _header_at(sheet, index)
        if found is not None:  # the first header, a repeated one, or a new table below
            header, previous, index = found, {}, found.data_start
            out.kinds.add(found.kind)
            continue
        row_number, cells = sheet.rows[index]
        index += 1
        if header is None:  # title rows above the first header
            continue
        if not any(cells):
            continue
        values = {
            role: cells[col] if col < len(cells) else None for role, col in header.columns.items()
        }
        key_role = "village" if header.kind == "villages" else "township"
        reason = _note_reason(values)
        if reason is None:
            _fill_down(values, previous)
            previous = values
            if values[key_role] is None:
                reason = f"no {key_role} name"
        if reason is not None:
            out.skipped.append(
                {
                    "source_file": source,
                    "sheet": sheet.name,
                    "row_number": row_number,
                    "reason": reason,
                    "values": " | ".join(c for c in cells if c),
                }
            )
            continue
        record: dict[str, Any] = {
            "edition": edition,
            "province": _province_or_none(values["province"]),
            "prefecture": normalize_name(values["prefecture"]),
            "county": normalize_name(values["county"]),
            "township": normalize_name(values["township"]),
            "province_original": values["province"],
            "prefecture_original": values["prefecture"],
            "county_original": values["county"],
            "township_original": values["township"],
            "source_file": source,
            "sheet": sheet.name,
            "row_number": row_number,
        }
        if header.kind == "villages":
            record["village"] = normalize_name(values["village"])
            record["village_original"] = values["village"]
            record["main_products"] = _normalize_products(values.get("main_products"))
            out.villages.append(record)
        else:
            record["taobao_villages"] = _parse_count(values["taobao_villages"])
            out.towns.append(record)
    return header is not None


def _province_or_none(name: str | None) -> str | None:
    return None if normalize_name(name) is None else normalize_province(name or "")


def _missing_columns_error(path: Path, sheets: Iterable[_Sheet]) -> OfficialListError:
    """Name the best header candidate of the file and the required columns it lacks."""
    best: tuple[int, str | None, int, list[str], dict[str, int]] | None = None
    for sheet in sheets:
        for row_number, cells in sheet.rows[:50]:
            if not any(cells):
                continue
            roles, texts = _column_roles([cells])
            score = sum(r in roles for r in VILLAGE_ROLES)
            if best is None or score > best[0]:
                best = (score, sheet.name, row_number, texts, roles)
    if best is None:
        return OfficialListError(f"{path}: layout not recognised: the file holds no data")
    _, sheet_name, row_number, texts, roles = best
    where = f"sheet {sheet_name!r} row {row_number}" if sheet_name else f"row {row_number}"
    found = ", ".join(t for t in texts if t) or "none"
    missing = ", ".join(_ROLE_LABELS[r] for r in VILLAGE_ROLES if r not in roles)
    return OfficialListError(
        f"{path}: layout not recognised: no header row with the required columns. "
        f"Columns found ({where}): {found}. Missing required columns: {missing}."
    )


def read_official_list(path: Path | str, edition: int) -> OfficialList:
    """Read one published list (XLSX, CSV or TSV) into villages and towns frames.

    Every sheet is searched for a header row recognised by meaning; a sheet with a
    淘宝村数量 column is a towns sheet; sheets without a header (notes) are ignored.
    Raises :class:`OfficialListError` when the file cannot be read, or when no sheet has
    a village header and some sheet has no recognisable header at all.
    """
    path = Path(path)
    sheets = _read_sheets(path)
    parsed = _Parsed()
    for sheet in sheets:
        found = _parse_sheet(sheet, edition, path.name, parsed)
        if not found and any(any(cells) for _, cells in sheet.rows):
            parsed.unrecognised.append(sheet.name)
    # A towns-only file is fine; a file whose village sheet went unrecognised is not.
    if not parsed.kinds or ("villages" not in parsed.kinds and parsed.unrecognised):
        raise _missing_columns_error(path, sheets)
    return OfficialList(
        villages=pl.DataFrame(parsed.villages, schema=VILLAGE_SCHEMA, orient="row"),
        towns=pl.DataFrame(parsed.towns, schema=TOWN_SCHEMA, orient="row"),
        skipped=pl.DataFrame(parsed.skipped, schema=SKIPPED_SCHEMA, orient="row"),
    )
