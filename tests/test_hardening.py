"""What a careless or hostile user can throw at the CLI: one line and exit 2, never a hang or a traceback,
never a lost file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from storyteller import cli
from tests.conftest import store


def run(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as exit:  # argparse refuses an option by exiting, as the command line would
        code = exit.code
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


TINY = ("--size", "64x36", "--fps", "4", "-q")


def make(capsys, story, runs, *extra: str) -> tuple[int, str]:
    return run(capsys, "make", str(story), "--runs", str(runs), *TINY, *extra)


def test_output_never_replaces_an_input_a_directory_or_a_pipe(tmp_path, capsys):
    story = tmp_path / "story.txt"
    story.write_text("A cat sat on a mat. The cat jumped.")
    runs = tmp_path / "runs"
    code, err = make(capsys, story, runs, "-o", str(story), "-y")
    assert code == 2 and "input of this run" in one_line(err)
    assert story.read_text() == "A cat sat on a mat. The cat jumped."
    code, err = make(capsys, story, runs, "-o", str(tmp_path))
    assert code == 2 and "is a directory" in one_line(err)
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "film.mp4"
        os.mkfifo(fifo)
        code, err = make(capsys, story, runs, "-o", str(fifo), "-y")
        assert code == 2 and "not a regular file" in one_line(err)
    assert not runs.exists()  # refused before any work


def test_an_existing_file_is_replaced_only_when_asked_or_when_it_is_this_runs_film(tmp_path, capsys):
    story = tmp_path / "story.txt"
    story.write_text("A cat sat on a mat. The cat jumped.")
    runs, film, other = tmp_path / "runs", tmp_path / "film.mp4", tmp_path / "other.mp4"
    other.write_text("keep me")
    code, err = make(capsys, story, runs, "-o", str(other))
    assert code == 2 and "-y/--overwrite" in one_line(err) and other.read_text() == "keep me"
    assert make(capsys, story, runs, "-o", str(film))[0] == 0
    assert make(capsys, story, runs, "-o", str(film))[0] == 0  # its own film from before: no -y needed
    assert make(capsys, story, runs, "-o", str(other), "-y")[0] == 0
    assert other.read_bytes() == film.read_bytes()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not leftovers, f"temporaries left next to the outputs: {leftovers}"
    code, err = run(capsys, "plan", str(story), "-o", str(other))
    assert code == 2 and "already exists" in one_line(err)


def test_render_inside_the_run_directory_names_the_film_after_the_run(tmp_path, capsys, monkeypatch):
    story = tmp_path / "story.txt"
    story.write_text("A cat sat on a mat. The cat jumped.")
    assert make(capsys, story, tmp_path / "runs")[0] == 0
    monkeypatch.chdir(tmp_path / "runs" / "story")
    (tmp_path / "runs" / "story" / "story.mp4").unlink()
    assert run(capsys, "render", "plan.json", *TINY[-1:])[0] == 0
    assert (tmp_path / "runs" / "story" / "story.mp4").is_file()
    assert not (tmp_path / "runs" / "story" / ".mp4").exists()


def test_a_failure_to_publish_names_the_users_path_and_keeps_the_film(tmp_path, capsys, monkeypatch):
    import errno
    import json

    from storyteller.core import cache

    story = tmp_path / "story.txt"
    story.write_text("A cat sat on a mat. The cat jumped.")
    film = tmp_path / "out" / "film.mp4"

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache, "_copy", full)  # publishing copies (never links): the disk fills there
    code, err = make(capsys, story, tmp_path / "runs", "-o", str(film))
    line = one_line(err)
    assert code == 2 and str(film) in line and "No space left" in line and ".tmp" not in line
    assert not [p for p in film.parent.iterdir()], "no temporary outlives the run"
    monkeypatch.undo()
    assert make(capsys, story, tmp_path / "runs", "-o", str(film))[0] == 0
    record = json.loads((tmp_path / "runs" / "story" / "run.json").read_text())
    assert record["rendered"] == {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}, (
        "the film was kept in the cache"
    )


# --- processes: workers die with their parent; SIGTERM and Ctrl-C are one line ---------------------------------

LONG = " ".join(
    ["A fox ran through the forest. A bear climbed a tree. The owl flew over the lake. A girl named Mia walked home."]
    * 3
)


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_make(tmp_path):
    import subprocess
    import sys
    import time

    story = tmp_path / "story.txt"
    story.write_text(LONG)
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "storyteller", "make", str(story), "--runs", str(tmp_path / "runs"),
               "--executor", "local", "--workers", "2", "--minutes", "3", "-q"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, start_new_session=True,
                               env={**os.environ, "PYTHONPATH": str(root)}, preexec_fn=at_a_terminal)  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len([p for p in children(process.pid) if ignores_ctrl_c(p)]) < 3:
        time.sleep(0.1)  # two workers past their start-up (they ignore Ctrl-C from then on) and the tracker
        # (the neural voice speaks in the process itself; espeak would add its speech server)
    assert len(children(process.pid)) >= 3, "the worker pool did not start"
    return process, children(process.pid)


def at_a_terminal() -> None:
    """The make starts as a command typed at a terminal does, with Ctrl-C at its default: a test run started in
    the background by a non-interactive shell (CI) inherits SIGINT ignored, and a process started ignoring
    it keeps ignoring it, as it should."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def ignores_ctrl_c(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    ignored = next(line.split()[1] for line in status.splitlines() if line.startswith("SigIgn:"))
    return bool(int(ignored, 16) & (1 << 1))  # bit 1 is SIGINT (2)


def wait_gone(pids: list[int], seconds: float = 20) -> list[int]:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_workers_die_with_their_parent_whatever_kills_it(tmp_path):
    import signal

    process, workers = start_make(tmp_path)
    os.kill(process.pid, signal.SIGKILL)  # only the parent, as the OOM killer would
    process.wait()
    left = wait_gone(workers)
    details = [Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ")[:120] for p in left if alive(p)]
    assert not left, f"orphaned workers live on: {details}"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_sigterm_and_ctrl_c_are_one_line_without_worker_tracebacks(tmp_path, how):
    import signal

    process, workers = start_make(tmp_path)
    if how == "SIGTERM":
        os.kill(process.pid, signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal reaches the whole group
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, f"the make ended {process.returncode}: {err[-600:]}"
    lines = [
        line for line in err.strip().splitlines() if "resource_tracker" not in line and "warnings.warn" not in line
    ]
    assert lines == ["storyteller: interrupted; finished work is kept in the run directory"], err
    assert not wait_gone(workers)


# --- options and plan values are typed and ranged before use ---------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("--seed", "-1"), "out of range"),
        (("--seed", str(2**64)), "out of range"),
        (("--keyframe", "diffusers:"), "diffusers:MODEL"),
        (("--animator", "diffusers:"), "diffusers:MODEL"),
    ],
)
def test_bad_options_are_one_line(tmp_path, capsys, extra, words):
    story = tmp_path / "story.txt"
    story.write_text("It was raining. A cat ran through the snow.")
    code, err = make(capsys, story, tmp_path / "runs", *extra)
    assert code == 2 and words in one_line(err)


@pytest.mark.parametrize("value", [float("nan"), 1e308, float("inf")])
def test_a_guide_with_nan_or_huge_numbers_is_refused_when_the_plan_is_read(tmp_path, capsys, value):
    import json

    story = tmp_path / "story.txt"
    story.write_text("A cat ran through the snow.")
    assert run(capsys, "plan", str(story), "-o", str(tmp_path / "plan.json"))[0] == 0
    plan = json.loads((tmp_path / "plan.json").read_text())
    plan["shots"][0]["guide"] = {"source": "clip.mp4", "trajectory": [[value, 0.5]]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))  # json writes NaN and Infinity as Python reads them
    code, err = run(capsys, "render", str(tmp_path / "plan.json"), "-q")
    assert code == 2 and "trajectory" in one_line(err)


# --- what a plan names is local, regular, bounded; the cache never follows a link ------------------------------


def planned(tmp_path, capsys, story_text: str = "A girl named Mia walked home. Mia smiled."):
    import json

    story = tmp_path / "story.txt"
    story.write_text(story_text)
    assert make(capsys, story, tmp_path / "runs")[0] == 0
    path = tmp_path / "runs" / "story" / "plan.json"
    return path, json.loads(path.read_text())


def save(path, plan) -> None:
    import json

    path.write_text(json.dumps(plan))


def test_a_reference_that_is_a_url_a_pipe_or_a_folder_is_one_line(tmp_path, capsys):
    path, plan = planned(tmp_path, capsys)
    references = ["https://example.com/mia.png", str(tmp_path)]
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe.png")
        references.append(str(tmp_path / "pipe.png"))
    for reference in references:
        plan["characters"][0]["reference"] = reference
        save(path, plan)
        code, err = run(capsys, "render", str(path), "-q")
        line = one_line(err)
        assert code == 2 and "reference image" in line and reference in line


def test_a_new_picture_at_the_same_reference_path_makes_a_new_keyframe(tmp_path, capsys):
    import json

    from PIL import Image

    path, plan = planned(tmp_path, capsys)
    picture = tmp_path / "mia.png"
    Image.new("RGB", (8, 8), "red").save(picture)
    plan["characters"][0]["reference"] = str(picture)
    save(path, plan)
    assert run(capsys, "render", str(path), "-q")[0] == 0
    Image.new("RGB", (8, 8), "blue").save(picture)  # same path, new content
    assert run(capsys, "render", str(path), "-q")[0] == 0
    record = json.loads((path.parent / "run.json").read_text())
    assert record["rendered"]["keyframes"] == len(plan["shots"])


def test_a_guide_clip_that_is_a_url_is_refused_never_fetched():
    from generators.diffusion.animator import _clip_frames
    from storyteller.core.errors import StorytellerError

    with pytest.raises(StorytellerError, match="not URLs"):
        _clip_frames("http://127.0.0.1:9/clip.mp4", [0.0], (8, 8))
    assert _clip_frames("/no/such/clip.mp4", [0.0], (8, 8)) == []  # moved or gone: animate unguided


def test_a_plan_that_is_a_link_and_a_cache_entry_that_is_a_link_are_not_followed(tmp_path, capsys):
    path, _ = planned(tmp_path, capsys)
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(path.read_text())
    linked = tmp_path / "linked" / "plan.json"
    linked.parent.mkdir()
    linked.symlink_to(elsewhere)
    code, err = run(capsys, "render", str(linked), "-q")
    assert code == 2 and "symbolic link" in one_line(err)
    cache = store()
    entry = next(p for p in cache.glob("film/*/*.mp4"))
    secret = tmp_path / "secret.mp4"
    secret.write_bytes(entry.read_bytes())  # same bytes, so the record still matches
    entry.unlink()
    entry.symlink_to(secret)
    assert run(capsys, "render", str(path), "-q")[0] == 0
    assert not entry.is_symlink() and not (path.parent / "story.mp4").is_symlink()


def test_two_makes_of_one_story_at_once_both_succeed_with_the_same_film(tmp_path):
    import json
    import subprocess
    import sys

    from storyteller.core.cache import Cache, file_digest

    story = tmp_path / "story.txt"
    story.write_text(LONG)
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "storyteller", "make", str(story), "--runs", str(tmp_path / "runs"),
               "--size", "128x72", "--fps", "8", "-q"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(root)}
    runs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    for process in runs:
        _, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    cache = store()
    for record in cache.glob("*/*/*.json"):  # every entry's bytes are the bytes its record sealed
        entry = record.with_suffix("")
        if not entry.is_file():  # a cached plan: the entry is itself JSON, its record is beside it
            continue
        assert json.loads(record.read_text())["sha256"] == file_digest(entry), entry
    assert not [p.name for p in (tmp_path / "runs" / "story").rglob(".*") if p.is_file()], "temporaries left"
    assert Cache(cache).get("film", next(cache.glob("film/*/*.mp4")).stem, ".mp4") is not None


def test_a_title_with_terminal_escapes_is_printed_escaped(tmp_path, capsys):
    story = tmp_path / "story.txt"
    story.write_text("A cat sat on a mat. The cat jumped.")
    runs = tmp_path / "runs"
    code = cli.main(["make", str(story), "--runs", str(runs), "--size", "64x36", "--fps", "4"])
    assert code == 0
    import json

    plan_path = runs / "story" / "plan.json"
    plan = json.loads(plan_path.read_text())
    plan["title"] = "Evil \x1b[2J\x1b]0;owned\x07 [bold]title[/bold]"
    plan_path.write_text(json.dumps(plan))
    capsys.readouterr()
    assert cli.main(["render", str(plan_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out and "\x07" not in out and "\\x1b" in out and "[bold]title" in out


def test_a_failed_write_names_the_users_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    import errno
    from pathlib import Path as P

    from storyteller.core.cache import atomic_write_text
    from storyteller.core.errors import StorytellerError

    real = P.write_text

    def full(self, *args, **kwargs):
        if self.name.endswith(".tmp"):
            real(self, "")  # the temporary exists, empty, as on a full disk
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(P, "write_text", full)
    with pytest.raises(StorytellerError, match=r"cannot write .*plan\.json: No space left"):
        atomic_write_text(tmp_path / "plan.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_user_cache_costs_only_speed(tmp_path):
    import subprocess
    import sys

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    story = tmp_path / "story.txt"
    story.write_text("A hamster with a kazoo sat on a trampoline.")  # nouns no emoji is named after
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "HOME": str(blocker), "XDG_CACHE_HOME": str(blocker / "cache")}
    env.pop("STORYTELLER_CACHE")  # the shared store is in the user cache too: it falls back to the run's own
    result = subprocess.run(
        [sys.executable, "-m", "storyteller", "make", str(story), "--runs", str(tmp_path / "runs"), *TINY],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "runs" / "story" / "story.mp4").is_file()
    assert "cannot be written" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_index_skips_a_file_name_that_is_not_utf8_and_indexes_the_rest(tmp_path, capsys):
    import numpy as np

    from stitching import write_video

    clips = tmp_path / "clips"
    clips.mkdir()
    frames = [np.roll(np.tile(np.arange(64, dtype=np.uint8)[None, :, None], (36, 1, 3)), k, axis=1) for k in range(24)]
    write_video(iter(frames), clips / "good.mp4", 12)
    (clips / "good.mp4").rename(os.fsdecode(os.fsencode(clips) + b"/bad\xff\xfe.mp4"))
    write_video(iter(frames), clips / "good.mp4", 12)
    assert cli.main(["index", str(clips), "--library", str(tmp_path / "library")]) == 0
    report = capsys.readouterr().out
    assert "1 videos added" in report and "1 skipped" in report and "bad\\udcff" in report


# --- preset files: typed, ranged, bounded ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('[p.keyframe]\nmodel = "x"\nsteps = 1e12\n[p.animator]\nmodel = "y"\n', "out of range"),
        ('[p.keyframe]\nmodel = "x"\n[p.animator]\nmodel = "y"\nframes = 1e8\n', "out of range"),
        ('[p.keyframe]\nmodel = 42\n[p.animator]\nmodel = "y"\n', "valid string"),
        ('[p.keyframe]\nmodel = "x"\npipeline = "os.system"\n[p.animator]\nmodel = "y"\n', "class name"),
        ("a = " + "[" * 200_000 + "]" * 200_000 + "\n", "nested too deeply"),
    ],
)
def test_bad_preset_values_are_one_line(tmp_path, capsys, body, words):
    from generators.diffusion.presets import presets

    presets.cache_clear()
    preset = tmp_path / "p.toml"
    preset.write_text(body)
    story = tmp_path / "story.txt"
    story.write_text("A cat sat on a mat.")
    code, err = make(capsys, story, tmp_path / "runs", "--preset", str(preset))
    assert code == 2 and words in one_line(err)


def test_fuzzed_preset_files_are_taken_or_refused_in_one_line(tmp_path):
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from generators.diffusion.presets import preset, presets
    from storyteller.core.errors import StorytellerError

    values = st.one_of(
        st.integers(-(10**15), 10**15), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
        st.booleans(), st.lists(st.integers(), max_size=3),
    )  # fmt: skip
    keys = st.sampled_from(["steps", "guidance", "width", "height", "frames", "fps", "pipeline", "model", "dtype"])

    def toml(value: object) -> str:
        import json

        if isinstance(value, float) and value != value:
            return "nan"
        if isinstance(value, float) and value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return json.dumps(value)

    @settings(max_examples=80, deadline=None)
    @given(st.dictionaries(keys, values, max_size=4), st.dictionaries(keys, values, max_size=4))
    def check(keyframe: dict, animator: dict) -> None:
        presets.cache_clear()
        lines = ["[p.keyframe]", *(f"{k} = {toml(v)}" for k, v in keyframe.items()),
                 "[p.animator]", *(f"{k} = {toml(v)}" for k, v in animator.items())]  # fmt: skip
        path = tmp_path / "fuzz.toml"
        path.write_text("\n".join(lines) + "\n")
        try:
            preset(str(path))
        except StorytellerError as error:
            assert "\n" not in str(error)

    check()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_sigterm_while_a_clip_is_written_leaves_no_temporary(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    story = tmp_path / "story.txt"
    story.write_text(LONG)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "storyteller", "make", str(story), "--runs", str(tmp_path / "runs"),
               "--executor", "serial", "--minutes", "3", "-q"]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not any(scratch.iterdir()) and process.poll() is None:
        time.sleep(0.02)
    assert any(scratch.iterdir()), "no clip was being written"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, f"the make ended {process.returncode}: {err[-600:]}" and "interrupted" in err
    assert not list(scratch.iterdir()), "temporaries outlived the run"


def test_check_output_refuses_a_device_without_touching_it():
    from storyteller.core.errors import StorytellerError
    from storyteller.core.outputs import check_output

    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    with pytest.raises(StorytellerError, match="not a regular file"):
        check_output(Path("/dev/null"), overwrite=True)  # only looked at (lstat), never opened


def test_fuzzed_plan_options_exit_0_or_2_in_one_line(tmp_path, capsys):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    story = tmp_path / "story.txt"
    story.write_text("A cat named Tom sat on a mat. He jumped.")
    junk = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
    option = st.one_of(
        st.tuples(st.just("--size"), st.one_of(junk, st.from_regex(r"-?\d{1,6}x-?\d{1,6}", fullmatch=True))),
        st.tuples(st.just("--fps"), st.one_of(junk, st.integers(-10, 10**6).map(str))),
        st.tuples(st.just("--seed"), st.one_of(junk, st.integers(-(2**70), 2**70).map(str))),
        st.tuples(st.just("--minutes"), st.one_of(junk, st.floats().map(str))),
        st.tuples(st.just("--planner"), junk),
    )

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(option, max_size=3))
    def check(options: list[tuple[str, str]]) -> None:
        argv = ["plan", str(story), "-o", str(tmp_path / "plan.json"), "-y"]
        for name, value in options:
            argv += [name, value]
        code, err = run(capsys, *argv)
        assert code in (0, 2), err
        assert "Traceback" not in err
        if code == 2:
            assert len([line for line in err.strip().splitlines() if line.startswith("storyteller")]) == 1, err

    check()


def test_a_killed_runs_temporary_next_to_the_output_is_swept_by_the_next_run(tmp_path, capsys):
    story = tmp_path / "story.txt"
    story.write_text("A cat sat on a mat. The cat jumped.")
    film = tmp_path / "film.mp4"
    dead = 2**22 + 12345  # above any PID this machine hands out: no such process
    stale = tmp_path / f".film.mp4.{dead}.tmp"
    stale.write_bytes(b"half a film")
    assert make(capsys, story, tmp_path / "runs", "-o", str(film))[0] == 0
    assert not stale.exists() and film.is_file()


def test_debug_prints_the_traceback_after_the_one_line_error(tmp_path, capsys, monkeypatch):
    missing = str(tmp_path / "missing.txt")
    code, err = run(capsys, "plan", missing)
    assert code == 2 and "Traceback" not in err
    code, err = run(capsys, "--debug", "plan", missing)
    assert code == 2 and err.startswith("storyteller: error:") and "Traceback (most recent call last)" in err
    monkeypatch.setenv("STORYTELLER_DEBUG", "1")
    code, err = run(capsys, "plan", missing)
    assert code == 2 and "Traceback" in err
