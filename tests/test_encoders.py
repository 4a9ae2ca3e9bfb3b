"""The encoders on their own: the golden films are digested before x264 and AAC, so these check that what
the encoders are given comes out of them (every frame, in order, close to what went in; the sound as
long, as loud and where it was), whatever their versions."""

from __future__ import annotations

import av
import numpy as np
import pytest

from stitching.sound.levels import RATE
from stitching.sound.mix import write_aac
from storyteller.core.video_io import concat_videos, read_video, write_video
from storyteller.settings import ENCODERS


def moving_square(count: int, width: int = 128, height: int = 72) -> list[np.ndarray]:
    """RGB frames: a lit square crossing a gradient, one step a frame (so a dropped or swapped frame shows)."""
    frames = []
    ramp = np.linspace(30, 200, width, dtype=np.float32)
    for k in range(count):
        frame = np.repeat(np.repeat(ramp[None, :, None], height, axis=0), 3, axis=2).astype(np.uint8)
        frame[20:44, 4 + 3 * k : 28 + 3 * k] = (240, 180, 40)
        frames.append(frame)
    return frames


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if error == 0 else 10 * np.log10(255**2 / error)


def test_a_lossless_clip_gives_back_the_planes_it_was_given(tmp_path):
    """Shot clips are stored lossless: read back as I420, they are what was written, bit for bit."""
    frames = moving_square(10)
    write_video(iter(frames), tmp_path / "clip.mkv", 8, lossless=True)
    planes = list(read_video(tmp_path / "clip.mkv", layout="yuv420p"))
    write_video(iter(planes), tmp_path / "again.mkv", 8, lossless=True)
    again = list(read_video(tmp_path / "again.mkv", layout="yuv420p"))
    assert len(again) == 10
    for a, b in zip(planes, again, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("quality", sorted(ENCODERS))
def test_the_films_encoder_keeps_every_frame_in_order_and_close_to_what_it_was_given(tmp_path, quality):
    settings = ENCODERS[quality]
    frames = moving_square(20)
    count = write_video(iter(frames), tmp_path / "film.mp4", 8, crf=settings["crf"], preset=settings["preset"])
    decoded = list(read_video(tmp_path / "film.mp4"))
    assert count == len(decoded) == 20
    for k, frame in enumerate(decoded):
        assert frame.shape == frames[k].shape
        assert psnr(frame, frames[k]) > 30  # CRF 20: close to what it was given
        others = [psnr(frame, frames[j]) for j in (k - 1, k + 1) if 0 <= j < len(frames)]
        assert all(psnr(frame, frames[k]) > p + 3 for p in others)  # and it is this frame, not a neighbour


def test_joined_segments_play_one_after_another_with_the_soundtrack_under_them(tmp_path):
    frames = moving_square(24)
    parts = []
    for i in range(3):
        parts.append(tmp_path / f"part{i}.mp4")
        write_video(iter(frames[8 * i : 8 * i + 8]), parts[-1], 8)
    t = np.arange(3 * RATE) / RATE
    write_aac((0.25 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), tmp_path / "sound.m4a")
    assert concat_videos(parts, tmp_path / "film.mp4", 8, tmp_path / "sound.m4a") == 24
    decoded = list(read_video(tmp_path / "film.mp4"))
    assert len(decoded) == 24
    assert all(psnr(frame, frames[k]) > 30 for k, frame in enumerate(decoded))
    with av.open(str(tmp_path / "film.mp4")) as container:
        assert container.streams.audio[0].codec_context.name == "aac"


def test_the_aac_encoder_keeps_the_sounds_length_level_and_timing(tmp_path):
    """A tone with a second of silence in the middle comes back as long (within a frame of AAC priming),
    as loud, and silent where it was silent."""
    t = np.arange(3 * RATE) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    tone[RATE : 2 * RATE] = 0
    write_aac(iter([tone[: RATE + 100], tone[RATE + 100 :]]), tmp_path / "tone.m4a")  # given block by block
    with av.open(str(tmp_path / "tone.m4a")) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.sample_rate == RATE
        decoded = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
    assert abs(len(decoded) - len(tone)) <= 2048  # the encoder's priming and last frame, at most
    # AAC's priming delays the start by up to a frame: find where the tone starts again after the silence
    start = int(np.argmax(np.abs(decoded[int(1.5 * RATE) :]) > 0.1)) + int(1.5 * RATE)
    assert abs(start - 2 * RATE) < 2048
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert rms(decoded[int(0.2 * RATE) : int(0.8 * RATE)]) == pytest.approx(rms(tone[: RATE // 2]), rel=0.05)
    assert rms(decoded[int(1.2 * RATE) : int(1.8 * RATE)]) < 0.005  # the silence stays silent


def test_zeroed_heap_memory_stays_on_while_any_encoder_runs(monkeypatch):
    """x264 reads memory it never wrote, so encoders run on zeroed heap memory (M_PERTURB). The setting is
    the process's: a second encoder finishing first must not turn it off under the one still running."""
    from storyteller.core import video_io

    calls = []

    class Libc:
        def mallopt(self, parameter, value):
            calls.append(value)

    monkeypatch.setattr(video_io.ctypes, "CDLL", lambda name: Libc())
    first, second = video_io._defined_heap(), video_io._defined_heap()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert calls == [0xFF]  # on once, and still on: the second encoder runs
    second.__exit__(None, None, None)
    assert calls == [0xFF, 0]
