"""What a careless or hostile user can throw at the CLI: one line and exit 2, never a hang or a traceback,
never a lost file."""

from __future__ import annotations

import os

import pytest

from storyteller import cli


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().err


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_pipe_or_a_device_is_refused_before_it_is_read(tmp_path, capsys):
    fifo = tmp_path / "story.txt"
    os.mkfifo(fifo)  # reading it would block forever: it must not be opened at all
    code, err = run(capsys, "make", str(fifo), "--runs", str(tmp_path / "runs"))
    assert code == 2 and "not a regular file" in one_line(err)
    code, err = run(capsys, "plan", "/dev/zero")  # read only, never written
    assert code == 2 and "not a regular file" in one_line(err)


def test_a_huge_file_is_refused_by_its_size_without_reading_it(tmp_path, capsys):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:
        handle.truncate(cli.MAX_STORY_BYTES + 1)  # sparse: costs no disk
    code, err = run(capsys, "plan", str(huge))
    assert code == 2 and "at most" in one_line(err)


def test_nul_bytes_and_utf16_are_not_taken_for_text(tmp_path, capsys):
    bare = tmp_path / "bare.txt"
    bare.write_bytes("A cat sat on a mat.".encode("utf-16-le"))  # no byte-order mark: NULs everywhere
    code, err = run(capsys, "plan", str(bare))
    assert code == 2 and "NUL" in one_line(err) and "UTF-8" in err
    marked = tmp_path / "marked.txt"
    marked.write_bytes("A cat sat on a mat.".encode("utf-16"))
    code, err = run(capsys, "plan", str(marked))
    assert code == 2 and "UTF-16" in one_line(err)
    assert not (tmp_path / "plan.json").exists()
