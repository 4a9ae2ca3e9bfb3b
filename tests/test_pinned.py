"""Pinned frames: a shot's first frame given as an image skips the keyframe model and keys the clip by its
content. (A pinned last frame reaching an animator: tests/test_diffusion.py, tests/test_comfyui.py.)"""

from __future__ import annotations

import shutil

import numpy as np
from PIL import Image

from storyteller.core.models import read_plan
from tests.test_pipeline import STORY, teller


def test_a_pinned_keyframe_is_the_shots_first_frame_and_no_model_draws_it(tmp_path, tiny):
    st, keyframes, animator = teller(tmp_path, speaker=None)
    made = st.make(STORY, name="pinned", **tiny)
    plan = read_plan(made.plan_path)
    pinned = tmp_path / "red.png"
    Image.new("RGB", (128, 96), (200, 30, 30)).save(pinned)  # another aspect: scaled to cover, centred
    second = plan.shots[1].id
    edited = plan.model_copy(
        update={"shots": [s.model_copy(update={"keyframe": str(pinned)}) if s.id == second else s for s in plan.shots]}
    )
    keyframes.calls.clear()
    animator.calls.clear()
    result = st.render(edited, made.run_dir)
    assert keyframes.calls == []  # the pinned shot's keyframe was read, and the others are cached
    assert animator.calls == [second]  # its clip alone is drawn again, from the pinned picture
    shown = np.asarray(Image.open(made.run_dir / "keyframes" / f"{second}.png").convert("RGB")).astype(int)
    assert shown.shape == (64, 64, 3) and np.abs(shown - [200, 30, 30]).max() <= 1
    # the same picture elsewhere is the same keyframe: nothing redrawn; another picture at the path is not
    moved = tmp_path / "elsewhere.png"
    shutil.copy(pinned, moved)
    again = edited.model_copy(
        update={"shots": [s.model_copy(update={"keyframe": str(moved)}) if s.id == second else s for s in edited.shots]}
    )
    animator.calls.clear()
    st.render(again, made.run_dir)
    assert animator.calls == []
    Image.new("RGB", (64, 64), (20, 20, 200)).save(moved)
    st.render(again, made.run_dir)
    assert animator.calls == [second] and result.video.exists()
