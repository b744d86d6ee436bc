"""Tables as French offices make them: Excel's and LibreOffice's CSV exports (BOM, `;`, cp1252, CRLF), .xlsx
workbooks; the delimiter and the encoding detected and named, `--delimiter`, `--encoding`, `--sheet`; damaged
text (replacement characters, mojibake) reported with its line."""

import codecs
import csv
import json
from pathlib import Path

import pytest

from classify.corpus import TableOptions, read_table, require_column, sniff_delimiter
from classify.errors import CorpusError
from classify.io import decode, detect_encoding

from .test_cli import error_line

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "seeds" / "sample.csv"
OFFICE = Path(__file__).parent / "data" / "office"
FIXTURES = {  # file -> (what the note on stderr says, or None when it says nothing about the encoding)
    "excel-csv-utf8-comma.csv": None,
    "excel-csv-utf8-semicolon.csv": None,
    "excel-csv-french-windows.csv": "is not UTF-8: read it as cp1252",
    "libreoffice-csv.csv": None,
    "excel.xlsx": None,
}


def _sample_rows() -> list[list[str]]:
    with open(SAMPLE, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The model trained on the UTF-8 comma version of the rows, and its predictions on them."""
    from typer.testing import CliRunner

    from classify.cli import app

    folder = tmp_path_factory.mktemp("reference")
    model = folder / "sample.joblib"
    result = CliRunner().invoke(app, ["train", str(SAMPLE), "--out", str(model), "--cv", "3", "-q"])
    assert result.exit_code == 0, result.stderr
    result = CliRunner().invoke(
        app, ["predict", str(SAMPLE), "--model", str(model), "--format", "jsonl", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    return model, result.stdout


def _labels(jsonl: str) -> dict:
    return {r["id"]: (r["topics"], r["sentiment"]) for r in map(json.loads, jsonl.splitlines())}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_office_files_train_and_predict_like_the_utf8_comma_version(cli, tmp_path, reference, name):
    ref_model, ref_predictions = reference
    fixture = OFFICE / name
    model = tmp_path / "m.joblib"
    code, _, err = cli("train", fixture, "--out", model, "--cv", "3")
    assert code == 0, err
    assert "Trained on 40 documents" in err and "\ufffd" not in err
    if FIXTURES[name]:
        assert f"{fixture} {FIXTURES[name]}" in err
    if fixture.suffix == ".csv":
        separator = "semicolons ';'" if "semicolon" in name or "french" in name else "commas ','"
        assert f"{fixture}: columns separated by {separator}, detected" in err
    else:
        assert "reading sheet 'Feuil1', the first of 2 (--sheet to choose another: Notes)" in err
    # the same rows give the same model: the same predictions on the reference file...
    code, out, err = cli("predict", SAMPLE, "--model", model, "--format", "jsonl", "-q")
    assert code == 0, err
    assert _labels(out) == _labels(ref_predictions)
    # ...and the reference model reads the fixture as it reads the reference file
    code, out, err = cli("predict", fixture, "--model", ref_model, "--format", "jsonl", "-q")
    assert code == 0, err
    assert out == ref_predictions


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_office_files_read_to_the_same_table(name):
    frame, _ = read_table(OFFICE / name)
    rows = _sample_rows()
    assert list(frame.columns) == rows[0]
    assert frame.values.tolist() == rows[1:]


def test_a_cp1252_file_behind_a_utf8_mark_is_read_as_cp1252(cli, tmp_path):
    """A tool put a UTF-8 byte-order mark before cp1252 bytes: decoding it as UTF-8 gave `plus �lev�e`."""
    path = tmp_path / "marked.csv"
    path.write_bytes(codecs.BOM_UTF8 + (OFFICE / "excel-csv-french-windows.csv").read_bytes())
    frame, _ = read_table(path)
    assert frame.values.tolist() == _sample_rows()[1:]
    code, _, err = cli("train", path, "--out", tmp_path / "m.joblib", "--cv", "0")
    assert code == 0, err
    assert f"{path} starts with a UTF-8 byte-order mark but is not UTF-8: read it as cp1252" in err
    assert "\ufffd" not in err and "Warning" not in err


def test_the_delimiter_and_the_encoding_are_named_once_per_command(cli, tmp_path, reference):
    ref_model, _ = reference
    fixture = OFFICE / "excel-csv-french-windows.csv"
    for command in (
        ["evaluate", fixture, "--model", ref_model],
        ["compare", ref_model, ref_model, fixture],
        ["predict", fixture, "--model", ref_model, "--format", "jsonl"],
    ):
        code, _, err = cli(*command)
        assert code == 0, err
        assert err.count("columns separated by semicolons") == 1, err
        assert err.count("read it as cp1252") == 1, err


@pytest.mark.parametrize(
    "sample, preferred, expected",
    [
        ("id,text,label\n1,un texte,positive\n", ",", ","),
        ("id;text;label\n1;Bonjour, ça va;positive\n2;Nul, nul, nul;negative\n", ",", ";"),  # commas in texts
        ('text;topics\n"Box et forfait";devices;operators\n', ",", ";"),
        ("text,topics\nBox et forfait,devices;operators\n", ",", ","),  # multi-label cells with ;
        ("id\ttext\tlabel\n1\tun, deux; trois\tpositive\n", ",", "\t"),
        ("id|text|label\n1|un, deux|positive\n", ",", "|"),
        ("text\nun seul champ\n", ",", None),  # one column: nothing to detect
        ("a,b;c\n1,2;3\n", ",", ","),  # a tie goes to the extension's delimiter...
        ("a,b;c\n1,2;3\n", ";", ";"),
        ('text;label\n"Il a dit ""oui; non""";positive\n"ligne\nsur deux";neutral\n', ",", ";"),
    ],
)
def test_sniff_delimiter(sample, preferred, expected):
    assert sniff_delimiter(sample, preferred) == expected


@pytest.mark.parametrize(
    "option, expected", [(",", ","), (";", ";"), ("tab", "\t"), ("\\t", "\t"), ("|", "|")]
)
def test_delimiter_option_forces_the_delimiter(tmp_path, option, expected):
    from classify.corpus import check_delimiter

    assert check_delimiter(option) == expected
    path = tmp_path / "t.csv"
    path.write_text(f"text{expected}label\nun{expected}deux\n", encoding="utf-8")
    frame, _ = read_table(path, options=TableOptions(delimiter=expected))
    assert frame.values.tolist() == [["un", "deux"]]


@pytest.mark.parametrize("value", ["::", "a", "", " "])
def test_a_bad_delimiter_is_a_usage_error(cli, value):
    code, _, err = cli("train", SAMPLE, "--delimiter", value)
    assert code == 2 and "--delimiter" in err and "is not a delimiter" in err


def test_no_error_suggests_a_column_name_holding_the_delimiter(cli, tmp_path):
    fixture = OFFICE / "excel-csv-utf8-semicolon.csv"
    code, _, err = cli(
        "train", fixture, "--delimiter", ",", "--skip-bad-lines", "--out", tmp_path / "m.joblib"
    )
    line = error_line(err)
    assert code == 1 and "Did you mean" not in line
    assert "its header 'id;text;topics;sentiment' was read as one column" in line
    assert "--delimiter ';'" in line
    for columns in (["id;text;topics;sentiment"], ["id|texte|label"], ["a\tb"]):
        with pytest.raises(CorpusError) as raised:
            require_column(columns, "text", "f.csv", "--text-column")
        assert "Did you mean" not in str(raised.value)
    with pytest.raises(CorpusError, match="Did you mean 'texte'"):
        require_column(["id", "texte", "label;x"], "text", "f.csv", "--text-column")


def test_wrong_delimiter_errors_name_the_delimiter_and_the_option(cli, tmp_path):
    fixture = OFFICE / "excel-csv-utf8-semicolon.csv"
    code, _, err = cli("train", fixture, "--delimiter", ",", "--out", tmp_path / "m.joblib")
    line = error_line(err)
    assert code == 1 and "line 2 has" in line and "columns separated by commas ','" in line
    assert "--delimiter to choose another" in line


# -- encodings -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "encoding, expected",
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_one_detector_for_every_file(encoding, expected):
    text = "id;text\n1;Très déçu, l’écran est cassé, œuvre à 12 €\n"
    chosen = detect_encoding(text.encode(encoding), "t.csv")
    assert chosen.codec == expected
    assert decode(text.encode(encoding), "t.csv")[0] == text


def test_latin1_french_is_read_right_and_bytes_cp1252_lacks_are_latin1(cli, tmp_path):
    text = "text,label\nRéseau coupé à Besançon,negative\n"
    assert decode(text.encode("latin-1"), "t.csv")[0] == text  # cp1252 and latin-1 agree on French letters
    data = text.encode("latin-1") + b"\x81\x8d,neutral\n"  # undefined in cp1252: latin-1's C1 controls
    assert decode(data, "t.csv") == (data.decode("latin-1"), "latin-1")
    path = tmp_path / "t.csv"
    path.write_bytes(b"\x81\x8d\x90 abc\x9d")  # nothing but control bytes: no candidate reads it as text
    code, _, err = cli("train", path, "--out", tmp_path / "m.joblib")
    assert (
        code == 1
        and "cannot tell its encoding (not UTF-8, cp1252 or latin-1); pass --encoding" in error_line(err)
    )


def test_a_short_cp1252_text_is_not_read_as_another_code_page():
    """Left free, charset-normalizer reads these as cp1250, mac-latin2 or EBCDIC."""
    for text in ("é", "Très déçu", "id;text;label\r\n1;Le débit est nul;negative\r\n"):
        assert decode(text.encode("cp1252"), "t.csv")[0] == text


def test_a_utf8_character_cut_at_the_end_of_the_first_megabyte_is_not_cp1252(tmp_path):
    from classify.corpus import HEAD_BYTES, iter_rows

    path = tmp_path / "big.csv"
    line = "1,Très déçu par le réseau\n"
    body = "text,label\n" + line * (HEAD_BYTES // len(line.encode()) + 10)
    path.write_text(body, encoding="utf-8")
    rows = list(iter_rows(path, "csv"))
    assert rows[-1][1] == {"text": "1", "label": "Très déçu par le réseau"}


def test_encoding_option_decodes_strictly_and_names_the_line(cli, tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("text,sentiment\nbon,positive\nTrès déçu,negative\n".encode("cp1252"))
    code, _, err = cli("train", path, "--encoding", "utf-8", "--out", tmp_path / "m.joblib")
    line = error_line(err)
    assert code == 1 and "is not valid utf-8 at line 3 (byte 0xe8)" in line
    assert "leave --encoding out to detect it" in line
    frame, _ = read_table(path, options=TableOptions(encoding="latin-1"))
    assert frame["text"].tolist() == ["bon", "Très déçu"]


def test_an_unknown_encoding_is_a_usage_error(cli):
    code, _, err = cli("train", SAMPLE, "--encoding", "utf-9")
    assert code == 2 and "'utf-9' is not an encoding" in err


def test_encoding_option_applies_to_txt_documents_in_predict(cli, tmp_path, reference):
    ref_model, _ = reference
    path = tmp_path / "a.txt"
    path.write_bytes("Très déçu".encode("cp1252"))
    code, out, err = cli("predict", path, "--model", ref_model, "--format", "jsonl", "--encoding", "cp1252")
    assert code == 0 and "not UTF-8" not in err
    code, out, err = cli("predict", path, "--model", ref_model, "--format", "jsonl", "--encoding", "utf-8")
    assert code == 1 and "is not valid utf-8" in json.loads(out)["error"]


# -- damaged text --------------------------------------------------------------------------------------------
def test_mojibake_and_replacement_characters_are_reported_with_their_lines(cli, tmp_path, reference):
    path = tmp_path / "t.csv"
    rows = [
        "text,sentiment",
        "Le réseau est nul,negative",
        "Ã‡a marche trÃ¨s bien,positive",
        "bof,neutral",
        "Lâ€™appli plante,negative",
        "plus \ufffdlev\ufffde,neutral",
        "super,positive",
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, _, err = cli("train", path, "--out", tmp_path / "m.joblib", "--cv", "0")
    assert "Warning: " + str(path) + " lines 3, 5: mojibake" in err
    assert "Warning: " + str(path) + " line 6: replacement characters" in err
    assert "If classify chose the wrong encoding, pass --encoding" in err
    code, out, err = cli("predict", path, "--model", reference[0], "--format", "jsonl")
    assert code == 0 and len(out.splitlines()) == 6
    assert err.count("lines 3, 5: mojibake") == 1 and err.count("line 6: replacement characters") == 1


def test_clean_french_text_is_not_reported_as_damaged(cli, tmp_path):
    code, _, err = cli("train", SAMPLE, "--out", tmp_path / "m.joblib", "--cv", "0")
    assert code == 0 and "Warning" not in err
    frame, _ = read_table(ROOT / "seeds" / "corpus.csv")  # the bundled corpus: every row, no warning
    with open(ROOT / "seeds" / "corpus.csv", encoding="utf-8", newline="") as f:
        assert len(frame) == sum(1 for _ in csv.DictReader(f))


# -- workbooks -----------------------------------------------------------------------------------------------
def test_sheet_by_name_or_position(cli, tmp_path):
    book = OFFICE / "excel.xlsx"
    for sheet in ("Feuil1", "1"):
        frame, _ = read_table(book, options=TableOptions(sheet=sheet))
        assert len(frame) == 40
    frame, _ = read_table(book, options=TableOptions(sheet="2"))
    assert list(frame.columns) == ["Étiquetage relu le 3 mars"]
    code, _, err = cli("train", book, "--sheet", "Feuill1", "--out", tmp_path / "m.joblib")
    line = error_line(err)
    assert code == 1 and "has no sheet 'Feuill1' (sheets: Feuil1, Notes). Did you mean 'Feuil1'?" in line
    assert "--sheet NAME or --sheet NUMBER" in line


def test_workbook_cells_are_read_as_text(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in (
        ["id", "text", "label", "note"],
        [12, "Très bien", "positive", None],
        [3.5, "NA", "neutral", 0],
        [None, None, None, None],
    ):
        sheet.append(row)
    sheet["F10"] = None  # formatted but empty cells below and beside the data
    path = tmp_path / "t.xlsx"
    book.save(path)
    frame, _ = read_table(path)
    assert frame.values.tolist() == [["12", "Très bien", "positive", ""], ["3.5", "NA", "neutral", "0"]]


@pytest.mark.parametrize(
    "suffix, kind", [(".xls", "an Excel 97-2003 workbook"), (".ods", "an OpenDocument spreadsheet")]
)
def test_spreadsheets_classify_cannot_read_are_named(cli, tmp_path, suffix, kind):
    path = tmp_path / f"t{suffix}"
    path.write_bytes(b"\xd0\xcf\x11\xe0 not read")
    code, _, err = cli("train", path, "--out", tmp_path / "m.joblib")
    assert code == 1 and f"is {kind}, which classify does not read: save it as .xlsx" in error_line(err)


def test_a_damaged_workbook_is_an_error_not_a_traceback(cli, tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = cli("train", path, "--out", tmp_path / "m.joblib")
    assert code == 1 and "is not a readable .xlsx workbook" in error_line(err)


def test_streaming_and_predict_read_office_files_too(cli, tmp_path, reference):
    fixture = OFFICE / "excel-csv-french-windows.csv"
    code, _, err = cli(
        "train", fixture, "--streaming", "--label-column", "sentiment", "--out", tmp_path / "s.joblib"
    )
    assert code == 0, err
    assert err.count("columns separated by semicolons") == 1 and err.count("read it as cp1252") == 1
    code, out, err = cli("predict", OFFICE / "excel.xlsx", "--model", reference[0], "--format", "jsonl", "-q")
    assert code == 0 and out == reference[1]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".xlsx"])
def test_a_table_read_once_or_twice_gives_the_same_documents(tmp_path, monkeypatch, suffix):
    """Tables up to `KEPT_TABLE_BYTES` are kept by the checking pass; larger ones are read again."""
    import pandas as pd

    from classify import inputs

    frame = pd.DataFrame({"id": ["a", "b", "a", ""], "text": ["Panne ; fibre", "  ", "Réseau « coupé »", "ok"]})
    path = tmp_path / f"t{suffix}"
    if suffix == ".csv":
        frame.to_csv(path, sep=";", index=False, encoding="cp1252")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True, force_ascii=False)
    else:
        frame.to_excel(path, index=False)
    read = []
    for limit in (inputs.KEPT_TABLE_BYTES, 0):
        monkeypatch.setattr(inputs, "KEPT_TABLE_BYTES", limit)
        read.append([(d.id, d.text, d.error, d.empty) for d in inputs.iter_documents([str(path)])])
    assert read[0] == read[1]
    assert [d[0] for d in read[0]] == ["a", "b", "a", f"{path}:4"] and read[0][1][3] is True
