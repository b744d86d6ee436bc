"""Regenerate the office fixtures from seeds/sample.csv: `python tests/data/office/make_fixtures.py`.

Each file holds the rows of seeds/sample.csv written byte for byte as a program writes them:

- excel-csv-utf8-comma.csv: Excel, "CSV UTF-8 (comma delimited)", English Windows: UTF-8 with a byte-order
  mark, the locale's list separator `,`, CRLF after every row, a cell quoted only when it holds the
  separator, a quote or a line break (a line break inside a cell, Alt+Enter, is a bare LF);
- excel-csv-utf8-semicolon.csv: the same on a French Windows, whose list separator is `;` (so a
  multi-label cell `devices;operators` is quoted);
- excel-csv-french-windows.csv: Excel, "CSV (separator: semicolon)" on a French Windows: the ANSI code
  page cp1252, no mark, `;`, CRLF;
- libreoffice-csv.csv: LibreOffice Calc's CSV export with its default settings: UTF-8 without a mark, `,`,
  `"` around cells that need it, LF (as on Linux and macOS);
- excel.xlsx: a workbook as openpyxl writes it (pandas' .xlsx engine), the rows on the first sheet,
  "Feuil1" (French Excel's name for it), and a second sheet, "Notes", that is not a table of texts.
"""

import csv
import io
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parents[2] / "seeds" / "sample.csv"


def rows() -> list[list[str]]:
    with open(SAMPLE, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def delimited(delimiter: str, line_end: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=line_end, quoting=csv.QUOTE_MINIMAL).writerows(rows())
    return out.getvalue()


def main() -> None:
    bom = "\ufeff".encode()
    (HERE / "excel-csv-utf8-comma.csv").write_bytes(bom + delimited(",", "\r\n").encode("utf-8"))
    (HERE / "excel-csv-utf8-semicolon.csv").write_bytes(bom + delimited(";", "\r\n").encode("utf-8"))
    (HERE / "excel-csv-french-windows.csv").write_bytes(delimited(";", "\r\n").encode("cp1252"))
    (HERE / "libreoffice-csv.csv").write_bytes(delimited(",", "\n").encode("utf-8"))

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Feuil1"
    for row in rows():
        sheet.append(row)
    notes = book.create_sheet("Notes")
    notes.append(["Étiquetage relu le 3 mars"])
    book.save(HERE / "excel.xlsx")


if __name__ == "__main__":
    main()
