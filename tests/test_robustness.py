"""Nothing lost, nothing shared by accident (issue 25): each case a user met, as a real process with the exact
input (tests/probes.py), and the cases that take several steps, the cache's or the studio's, here."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storyteller.core.cache import Cache
from tests.probes import PROBES, QUIET, ROOT, TINY, run_probe, story, storyteller


@pytest.mark.parametrize("name", sorted(PROBES))
def test_each_case_is_one_line_exit_2_or_done_and_the_users_files_come_through(tmp_path, name):
    outcome = run_probe(PROBES[name], tmp_path)
    assert outcome.passed, outcome


@pytest.fixture
def made(tmp_path_factory):
    """One tiny run, made in its own folder (as from a terminal there)."""
    folder = tmp_path_factory.mktemp("made")
    story(folder)
    done = storyteller("make", "story.txt", *TINY, cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder / "runs" / "story"


def test_outputs_are_files_of_their_own_never_links_to_the_cache_or_another_run(tmp_path):
    story(tmp_path)
    for runs in ("one", "two"):  # the second is made from the cache
        assert storyteller("make", "story.txt", "--runs", runs, *TINY, cwd=tmp_path).returncode == 0
    mine, theirs = (tmp_path / runs / "story" / "keyframes" / "shot_001.png" for runs in ("one", "two"))
    assert mine.read_bytes() == theirs.read_bytes() and mine.stat().st_nlink == 1
    before = theirs.read_bytes()
    with open(mine, "r+b") as edited:  # edited in place, as an image editor saving over it would
        edited.write(b"\x00" * 16)
    assert theirs.read_bytes() == before
    cached = list((Path(os.environ["STORYTELLER_CACHE"]) / "keyframe").rglob("*.png"))
    assert cached and all(p.read_bytes() == before for p in cached if p.stat().st_size == len(before))


def test_export_replaces_a_link_instead_of_writing_through_it_and_asks_before_replacing(tmp_path, made):
    target = tmp_path / "precious.txt"
    target.write_text("not a timeline")
    (tmp_path / "link.otio").symlink_to(target)
    refused = storyteller("export", str(made), "--otio", "link.otio", "-q", cwd=tmp_path)
    assert refused.returncode == 2 and "already exists" in refused.stderr
    done = storyteller("export", str(made), "--otio", "link.otio", "-y", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert target.read_text() == "not a timeline" and not (tmp_path / "link.otio").is_symlink()
    assert json.loads((tmp_path / "link.otio").read_text())["OTIO_SCHEMA"].startswith("Timeline")


def test_export_from_another_folder_keeps_the_sound_and_a_broken_film_is_one_line(tmp_path, made):
    done = storyteller("export", str(made), "--otio", "t.otio", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    tracks = json.loads((tmp_path / "t.otio").read_text())["tracks"]["children"]
    assert [t["kind"] for t in tracks] == ["Video", "Audio"]  # run.json names the film wherever make ran
    broken = tmp_path / "broken"
    shutil.copytree(made, broken)
    film = broken / "story.mp4"
    record = json.loads((broken / "run.json").read_text())
    record["video"] = str(film)
    (broken / "run.json").write_text(json.dumps(record))
    film.write_bytes(film.read_bytes()[:300])  # truncated
    failed = storyteller("export", str(broken), "--otio", "b.otio", "-q", cwd=tmp_path)
    assert failed.returncode == 2 and "cannot be read" in failed.stderr and "Traceback" not in failed.stderr


def test_a_hand_edited_plan_is_never_lost_however_many_makes_follow(tmp_path):
    story(tmp_path)
    assert storyteller("make", "story.txt", *TINY, cwd=tmp_path).returncode == 0
    plan_file = tmp_path / "runs" / "story" / "plan.json"
    edited = plan_file.read_text().replace("The keeper waved at her.", "The keeper waved at her, smiling.")
    plan_file.write_text(edited)
    assert storyteller("render", str(plan_file), *QUIET, cwd=tmp_path).returncode == 0
    mine = plan_file.read_text()  # the edit, as its render wrote it back
    assert "smiling" in mine
    for extra in ([], ["--seed", "1"]):
        done = storyteller("make", "story.txt", *TINY, *extra, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    kept = [p.read_text() for p in sorted((tmp_path / "runs" / "story" / "plans").glob("plan-*.json"))]
    # the edit as typed, as its render wrote it back, and the plan the first make replaced it with
    assert kept[0] == edited and kept[1] == mine and len(kept) == 3


def test_subtitles_show_no_control_characters_or_direction_overrides(tmp_path):
    story(tmp_path, text="Mia\x1b[31m rang the bell\x07. The \u202eboat\u202c came home.")
    done = storyteller("make", "story.txt", *TINY, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    subtitles = (tmp_path / "runs" / "story" / "story.srt").read_text()
    assert "rang the bell" in subtitles and "boat" in subtitles
    assert not any(c in subtitles for c in ("\x1b", "\x07", "\u202e", "\u202c"))


def test_damaged_cache_records_and_leases_of_any_shape_are_rebuilt_or_ignored(tmp_path):
    story(tmp_path)
    assert storyteller("make", "story.txt", *TINY, cwd=tmp_path).returncode == 0
    store = Path(os.environ["STORYTELLER_CACHE"])
    records = [r for r in sorted(store.rglob("*.json")) if r.parent.name != "leases"]
    for record, shape in zip(records, ["[]", "null", "5", '"x"', "{}"] * 100, strict=False):
        record.write_text(shape)
    (store / "leases").mkdir(exist_ok=True)
    (store / "leases" / f"{os.getpid()}.x.json").write_text("5")
    (store / "leases" / f"{os.getpid()}.y.lease").write_bytes(b"\xff\x00/etc/passwd\n../../x\n")
    again = storyteller("make", "story.txt", "--runs", "again", *TINY, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stderr == "" and (tmp_path / "again" / "story" / "story.mp4").is_file()
    pruned = storyteller("cache", "prune", "--cache-size", "0", cwd=tmp_path)
    assert pruned.returncode == 0, pruned.stderr


def test_a_make_beside_a_prune_to_nothing_never_loses_what_it_is_using(tmp_path):
    story(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STORYTELLER_CACHE": str(tmp_path / "store")}
    pruning = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys, time; from pathlib import Path; from storyteller.core.cache import Cache\n"
            "cache = Cache(Path(sys.argv[1]))\n"
            "while True: cache.prune(0); time.sleep(0.005)"
        ), str(tmp_path / "store")],
        env=env,
    )  # fmt: skip
    try:
        for attempt in range(3):
            done = subprocess.run(
                [sys.executable, "-m", "storyteller", "make", "story.txt", "--seed", str(attempt), *TINY],
                cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert (tmp_path / "runs" / "story" / "story.mp4").stat().st_size > 0
    finally:
        pruning.kill()


def test_scratch_files_go_when_the_process_is_stopped_while_a_thread_writes_them(tmp_path):
    code = (
        "import signal, sys, threading, time; from pathlib import Path\n"
        "from storyteller.core.files import temporaries\n"
        "def stop(*_):\n"
        "    raise KeyboardInterrupt  # as the CLI answers SIGTERM\n"
        "signal.signal(signal.SIGTERM, stop)\n"
        "scratch = Path(sys.argv[1])\n"
        "def mix():\n"
        "    with temporaries(scratch):\n"
        "        scratch.write_bytes(b'x' * 1000)\n"
        "        time.sleep(60)\n"
        "try:  # the stop may come as soon as 'ready' is out, before the line after it\n"
        "    threading.Thread(target=mix, daemon=True).start()\n"
        "    print('ready', flush=True)\n"
        "    time.sleep(60)\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(130)\n"
    )
    scratch = tmp_path / ".soundtrack.123.tmp.m4a.mix"
    process = subprocess.Popen([sys.executable, "-c", code, str(scratch)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert process.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    while not scratch.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert scratch.exists()
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 130
    assert not scratch.exists()


def test_espeak_data_is_linked_only_inside_a_private_folder_of_the_process():
    from stitching.sound.espeak import _short_data_path

    _short_data_path.cache_clear()
    linked = _short_data_path("/" + "long-folder-name/" * 12 + "espeak-ng-data")
    folder = os.path.dirname(linked)
    assert os.stat(folder).st_mode & 0o777 == 0o700 and os.stat(folder).st_uid == os.getuid()
    assert os.path.basename(folder) != f"storyteller-espeak-{os.getuid()}"  # not a name another user can guess
    _short_data_path.cache_clear()


def test_the_cache_ignores_a_lease_that_names_paths_outside_the_store(tmp_path):
    cache = Cache(tmp_path)
    (tmp_path / "leases").mkdir()
    (tmp_path / "leases" / f"{os.getpid()}.a.lease").write_text("/etc/passwd\n../x\nclip/ab/ab.mkv\npartial")
    assert cache.leased() == {tmp_path / "clip" / "ab" / "ab.mkv"}
