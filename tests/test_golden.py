"""Every example renders to exactly the frames it rendered before the house was rebuilt (issue 14).

tests/golden_films.json holds, per example, the frame count and a digest of the decoded frames of its film
(128x72 at 8 fps), recorded by this same function at the commit it names. A refactor that changes a frame
fails here; a deliberate change to the look records new digests (and says so in its commit).
"""

import hashlib
import json
from pathlib import Path

import pytest

from storyteller import cli
from storyteller.core.video_io import read_video

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads((Path(__file__).parent / "golden_films.json").read_text())
VARIANTS = {
    "hamster_fight_night": ["examples/hamster_fight_night.txt"],
    "snow_day": ["examples/snow_day.fountain"],
    "the_lighthouse_cat": ["examples/the_lighthouse_cat.txt"],
    "zosia_walks_home": ["examples/zosia_walks_home.txt"],
    "lighthouse_colour": ["examples/the_lighthouse_cat.txt", "--colour-match", "--deflicker", "--fill", "none"],
}


def film_digest(video: Path) -> tuple[int, str]:
    digest, count = hashlib.sha256(), 0
    for frame in read_video(video, layout="yuv420p"):
        digest.update(frame.tobytes())
        count += 1
    return count, digest.hexdigest()


def test_every_example_has_a_golden_film():
    stories = {p.name for p in (ROOT / "examples").iterdir() if p.suffix in (".txt", ".fountain")}
    assert stories == {Path(args[0]).name for args in VARIANTS.values()}
    assert set(GOLDEN["films"]) == set(VARIANTS)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_examples_render_to_the_frames_they_always_did(tmp_path, name):
    story, *options = VARIANTS[name]
    size = ["--size", GOLDEN["size"], "--fps", str(GOLDEN["fps"])]
    code = cli.main(["make", str(ROOT / story), *options, *size, "--runs", str(tmp_path), "-q", "--no-library"])
    assert code == 0
    (video,) = tmp_path.glob("*/*.mp4")
    assert list(film_digest(video)) == GOLDEN["films"][name]
