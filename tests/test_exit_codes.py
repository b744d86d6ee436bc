"""Exit codes as `cat` and `grep` have them: every readable record is written, then exit 1 when an input could
not be read; empty documents are records marked empty and leave the exit code alone; Ctrl-C says what was
kept and exits 130. And the messages around them: unknown options, plurals, progress said once."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import TINY
from .test_cli import error_line

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


@pytest.fixture
def binaries(tmp_path):
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a.txt").write_bytes(b"%PDF-1.4\x00\x01binary")
    (folder / "b.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    return folder


def test_a_folder_of_binaries_exits_1(cli, tiny_model, binaries):
    code, out, err = cli("predict", binaries, "--model", tiny_model, "--format", "jsonl")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1 and len(records) == 2 and all("binary" in r["error"] for r in records)
    assert error_line(err) == (
        "Error: 2 of 2 documents could not be classified (2 unreadable: see the records with an error)."
    )


def test_an_empty_document_is_a_record_marked_empty_and_exits_0(cli, tiny_model, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    code, out, err = cli("predict", empty, "--model", tiny_model, "--format", "jsonl")
    assert code == 0
    assert json.loads(out) == {
        "id": str(empty),
        "topics": None,
        "sentiment": None,
        "scores": None,
        "lang": None,
        "empty": True,
        "error": "empty document",
    }
    assert "Warning: 1 of 1 document could not be classified: empty" in err and "Error" not in err
    code, out, _ = cli("predict", empty, SEEDS[0], "--model", tiny_model, "--format", "csv")
    assert code == 0
    header, first, second = out.splitlines()
    assert (
        header.endswith(",empty,error") and first.endswith(",true,empty document") and second.endswith(",,")
    )
    code, out, _ = cli("predict", empty, "--model", tiny_model)
    assert code == 0 and "(empty)" in out


def test_missing_inputs_do_not_stop_the_others(cli, tiny_model, tmp_path):
    code, out, err = cli(
        "predict", SEEDS[0], tmp_path / "gone.txt", SEEDS[1], "--model", tiny_model, "--format", "jsonl"
    )
    assert code == 1
    assert [json.loads(line)["id"] for line in out.splitlines()] == [str(SEEDS[0]), str(SEEDS[1])]
    assert (
        error_line(err)
        == f"Error: {tmp_path / 'gone.txt'}: no such file or folder. The other 2 records were written."
    )
    code, out, err = cli("predict", tmp_path / "gone.txt", tmp_path / "lost.txt", "--model", tiny_model)
    assert code == 1 and out == ""  # nothing to do: stops before loading the model
    assert "gone.txt: no such file or folder; " in error_line(err) and "lost.txt: no such file" in error_line(
        err
    )


def test_an_unreadable_table_does_not_stop_the_others(cli, tiny_model, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "Panne fibre"}\n{"text": oops}\n', encoding="utf-8")
    binary = tmp_path / "scan.csv"
    binary.write_bytes(b"\x00\x01" * 40)
    code, out, err = cli(
        "predict", SEEDS[0], bad, binary, SEEDS[1], "--model", tiny_model, "--format", "jsonl"
    )
    assert code == 1 and len(out.splitlines()) == 2
    line = error_line(err)
    assert "bad.jsonl line 2 is not valid JSON" in line and "scan.csv is a binary file" in line
    assert line.endswith("The other 2 records were written.")


def test_an_undecodable_document_is_an_error_record(cli, tiny_model, tmp_path):
    doc = tmp_path / "latin.txt"
    doc.write_bytes("Très déçu".encode("cp1252"))
    code, out, err = cli("predict", doc, "--model", tiny_model, "--format", "jsonl", "--encoding", "utf-8")
    assert code == 1 and "is not valid utf-8 at line 1" in json.loads(out)["error"]


def test_strict_counts_in_the_singular_too(cli, tiny_model, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Le réseau Free est en panne", encoding="utf-8")
    (folder / "b.txt").write_bytes(b"")
    code, _, err = cli("predict", folder, "--model", tiny_model, "--strict")
    assert code == 1 and "(--strict stops here; 1 document done)." in error_line(err)


# -- Ctrl-C --------------------------------------------------------------------------------------------------
def _as_from_a_terminal() -> None:
    """The command gets Ctrl-C as from a terminal, whatever the test runner inherited: a runner started in
    the background of a script (`cmd &` without job control) ignores SIGINT, and so would its children."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _interrupt(args, wait_for: str | None = None, delay: float = 0.0, first_output: bool = False):
    """Run the installed `classify` in its own process group, send it Ctrl-C (SIGINT to the group, as a
    terminal does) once `wait_for` shows on stderr (and, with `first_output`, a first line on stdout), then
    after `delay`; returns (code, stdout, stderr)."""
    exe = Path(sys.executable).with_name("classify")
    env = {**os.environ, "TYPER_USE_RICH": "0"}
    # unbuffered: what a readline takes is all it takes, the rest is left to communicate()
    process = subprocess.Popen(
        [str(exe), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
        env=env,
        start_new_session=True,
        preexec_fn=_as_from_a_terminal,
    )
    seen, first = [], b""
    if wait_for:
        while line := process.stderr.readline():
            seen.append(line)
            if wait_for.encode() in line:
                break
    if first_output:
        first = process.stdout.readline()
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return process.returncode, (first + out).decode(), b"".join([*seen, err]).decode()


def test_ctrl_c_during_training_says_the_model_is_unchanged(tiny_model):
    before = tiny_model.read_bytes()
    code, _, err = _interrupt(
        ["train", ROOT / "seeds" / "corpus.csv", "--out", tiny_model], wait_for="extracting features"
    )
    assert code == 130, err
    last = err.strip().splitlines()[-1]
    assert last == f"Interrupted: {tiny_model} unchanged", err
    assert "Traceback" not in err and "Error" not in err
    assert tiny_model.read_bytes() == before


def test_ctrl_c_during_prediction_says_what_was_written(tiny_model, tmp_path):
    big = tmp_path / "big.csv"
    lines = [
        f"{i},Le réseau est en panne depuis {i} jours et le service client ne répond pas"
        for i in range(30_000)
    ]
    big.write_text("id,text\n" + "\n".join(lines) + "\n", encoding="utf-8")
    # after the first line, nobody reads the pipe until the end: it fills (64 KB), and the command waits
    # there when Ctrl-C comes
    code, out, err = _interrupt(
        ["predict", big, "--model", tiny_model, "--format", "jsonl", "--jobs", "2"],
        first_output=True,
        delay=1.0,
    )
    assert code == 130
    last = err.strip().splitlines()[-1]
    assert last.startswith("Interrupted: ") and last.endswith(
        "written, each complete; the documents after them have none."
    ), err
    assert "Traceback" not in err and "ForkPoolWorker" not in err
    written = out.splitlines()
    assert 0 < len(written) < 30_000 and f"Interrupted: {len(written):,} record" in last
    assert all(json.loads(line)["sentiment"] for line in written)  # every line complete


# -- messages ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (["predict", "--bogus", "x"], "Unknown option: --bogus.\n"),
        (["train", "--bogus"], "Unknown option: --bogus.\n"),
        (["--bogus"], "Unknown option: --bogus.\n"),
        (["predict", "--jobz", "2", "x"], "Unknown option: --jobz. Did you mean --jobs?"),
        (["evaluate", "x", "--treshold", "0.5"], "Unknown option: --treshold. Did you mean --threshold?"),
        (["evaluate", "x", "--text", "body"], "Unknown option: --text. Did you mean --text-column?"),
        (["train", "--output", "m.joblib"], "Unknown option: --output. Did you mean --out?"),
    ],
)
def test_an_unknown_option_is_said_to_be_unknown(cli, args, message):
    code, _, err = cli(*args)
    assert code == 2 and message in err
    assert "Possible options" not in err


def test_progress_is_said_once(cli, tiny_model_path):
    code, _, err = cli("evaluate", TINY, "--model", tiny_model_path)
    assert code == 0 and err.count("predicting 36 documents") == 1 and err.count("reading") == 1
    code, _, err = cli("compare", tiny_model_path, tiny_model_path, TINY)
    assert code == 0 and err.count("reading") == 1 and err.count("columns separated by") == 1
    assert err.count("predicting 36 documents with model A") == 1
    assert err.count("predicting 36 documents with model B") == 1


def test_a_ctrl_c_that_python_drops_in_a_finaliser_still_stops_training(cli, tmp_path, monkeypatch):
    """Python prints and ignores a KeyboardInterrupt raised in a finaliser or an at-fork hook, which is where
    a Ctrl-C lands when it comes while workers are forked or objects collected: training must stop all the
    same, before the model is written."""
    import classify.api

    real_train = classify.api.train

    class Finalised:
        def __del__(self):
            raise KeyboardInterrupt  # as the signal handler would, inside a finaliser

    def train(*args, **kwargs):
        Finalised()  # collected at once: Python reports the exception as unraisable and goes on
        return real_train(*args, **kwargs)

    monkeypatch.setattr(classify.api, "train", train)
    out = tmp_path / "m.joblib"
    code, _, err = cli("train", TINY, "--out", out, "--cv", "3")
    assert code == 130 and not out.exists()
    assert err.strip().splitlines()[-1].startswith("Interrupted: ")
