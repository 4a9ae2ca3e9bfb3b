"""Sound (issue 16): every film is narrated, each character speaks in its own voice, over a mixed bed."""

import itertools
import json
import os
import subprocess
import sys

import av
import numpy as np
import pyloudnorm
import pytest

from stitching.sound import lines, with_voices
from stitching.sound.levels import RATE
from stitching.sound.loudness import true_peak
from stitching.sound.neural import TransformersSpeaker
from storyteller import Storyteller
from storyteller.core.errors import StorytellerError
from storyteller.core.models import PlanConfig, Voice, read_plan
from tests.conftest import ROOT
from tests.tiny_voices import tiny_piper_voice, tiny_vits_voice

TINY = {"width": 64, "height": 64, "fps": 8}
DIALOGUE = (
    "Mia walked to the old lighthouse with her dog Rex. "
    '"Look at the waves!" shouted Mia. '
    'The keeper smiled and said, "Storms come in the autumn." '
    "Rex barked at the gulls."
)


def soundtrack(video) -> tuple[np.ndarray, float, float]:
    """(mono samples at RATE, audio seconds, video seconds) of a film."""
    with av.open(str(video)) as film:
        assert [s.type for s in film.streams] == ["video", "audio"]
        audio, video_stream = film.streams.audio[0], film.streams.video[0]
        assert audio.codec_context.name == "aac"
        seconds = float(audio.duration * audio.time_base), float(video_stream.duration * video_stream.time_base)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        samples = [out.to_ndarray().reshape(-1) for f in film.decode(audio=0) for out in resampler.resample(f)]
    return np.concatenate(samples), *seconds


@pytest.fixture(scope="module")
def narrated(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    teller = Storyteller(runs_dir=runs, ambience=False, cache_dir=runs / "store")
    return teller.make(DIALOGUE, name="mia", **TINY)


def test_the_film_has_one_aac_track_as_long_as_the_video_and_at_broadcast_loudness(narrated):
    samples, audio_seconds, video_seconds = soundtrack(narrated.video)
    assert abs(audio_seconds - video_seconds) <= 1 / narrated.plan.fps  # at most one frame apart
    loudness = pyloudnorm.Meter(RATE).integrated_loudness(samples.astype(np.float64))
    assert abs(loudness - -16) <= 1  # ITU-R BS.1770, gated
    assert true_peak(samples) < -1


def test_speech_fills_each_lines_window_and_silence_lies_between(narrated):
    samples, _, _ = soundtrack(narrated.video)
    cues = _cues(narrated.subtitles.read_text())
    plan = narrated.plan
    said = [line.text for shot in plan.shots for line in lines(plan, shot)]
    assert said[1:3] == ["Look at the waves!", "shouted Mia."]  # in the text's order, the quote by Mia
    assert len(cues) == len(said) == 6  # a subtitle per line, timed to it
    level = lambda a, b: float(np.sqrt(np.mean(samples[int(a * RATE) : int(b * RATE)] ** 2)))  # noqa: E731
    for start, end in cues:
        assert level(start, end) > 0.02, (start, end)  # speech inside its window
    quiet = [(end + 0.05, after - 0.05) for (_, end), (after, _) in itertools.pairwise(cues) if after - end > 0.2]
    assert quiet and all(level(a, b) < 0.003 for a, b in quiet)  # no ambience: between lines, silence


def test_every_character_keeps_one_voice_and_speaks_its_own_lines(narrated):
    plan = read_plan(narrated.plan_path)
    voices = {c.id: c.voice for c in plan.characters}
    assert all(voices.values()) and plan.narrator is not None  # chosen, and written into plan.json
    said = [line for shot in plan.shots for line in lines(plan, shot)]
    mia = next(c for c in plan.characters if c.name == "Mia")
    shout = next(line for line in said if line.text.startswith("Look at the waves"))
    assert shout.speaker == mia.id and shout.voice == mia.voice  # "... shouted Mia": Mia's voice
    keeper = next(c for c in plan.characters if c.kind == "keeper")
    storms = next(line for line in said if line.text.startswith("Storms come"))
    assert storms.speaker == keeper.id  # the keeper said, "...", not Rex who barks after it
    for line in said:
        assert line.voice == (plan.narrator if line.speaker == "narrator" else voices[line.speaker])
    assert not any("Look at the waves" in line.text for line in said if line.speaker == "narrator")
    assert with_voices(plan) == plan  # chosen once: a plan that has them keeps them


def test_a_shot_lasts_as_long_as_what_is_said_in_it(narrated):
    for shot in narrated.plan.shots:
        assert shot.duration >= 1.0
        assert all(a.end <= shot.duration + 1e-6 for a in shot.graph.actions)  # times scaled with the shot
    cues = _cues(narrated.subtitles.read_text())
    assert cues[-1][1] <= narrated.plan.duration


class CountingVoice:
    """A speech backend that hums: one tone per line, as long as the text; it counts what it says."""

    name = "hum"

    def __init__(self):
        self.said = []

    def speak(self, text, voice):
        self.said.append(text)
        seconds = 0.05 * len(text)
        t = np.arange(int(seconds * 16000)) / 16000
        return 0.3 * np.sin(2 * np.pi * (100 + voice.pitch * 3) * t), 16000


def test_an_edited_shot_is_spoken_again_alone_and_sound_alone_redraws_no_frame(tmp_path):
    voice = CountingVoice()
    teller = Storyteller(speaker=voice, runs_dir=tmp_path, executor="serial")
    first = teller.make(DIALOGUE, name="mia", **TINY)
    spoken = len(voice.said)
    plan = read_plan(first.plan_path)
    edited = plan.shots[-1].model_copy(update={"text": "Rex barked at the seagulls."})
    voice.said.clear()
    again = teller.render(plan.model_copy(update={"shots": [*plan.shots[:-1], edited]}), first.run_dir)
    assert voice.said == ["Rex barked at the seagulls."] and spoken > 1
    # the soundtrack is mixed again only around the edit: the last shot's stretch, and the one before it
    # (whose ducking reaches half a second into it); every earlier stretch comes from the cache
    assert again.cache_hits["sound-stretch"] == len(plan.shots) - 2 >= 1
    # the narrator's pitch changes the sound, not a frame: the soundtrack is mixed again, the film re-muxed
    plan = read_plan(first.plan_path)
    lower = plan.model_copy(update={"narrator": plan.narrator.model_copy(update={"pitch": 20})})
    voice.said.clear()
    remixed = teller.render(lower, first.run_dir)
    assert remixed.rendered == {"keyframes": 0, "clips": 0, "segments": 0, "films": 1}
    assert len(voice.said) == sum(1 for shot in plan.shots for line in lines(plan, shot) if line.speaker == "narrator")
    assert again.video.read_bytes() != b""


def test_no_audio_makes_a_silent_film_and_narration_modes_choose_what_is_said(tmp_path):
    silent = Storyteller(speaker=None, runs_dir=tmp_path).make(DIALOGUE, name="silent", **TINY)
    with av.open(str(silent.video)) as film:
        assert [s.type for s in film.streams] == ["video"]
    plan = with_voices(read_plan(silent.plan_path))
    shot = next(s for s in plan.shots if '"' in s.text)
    assert [line.speaker for line in lines(plan, shot, "dialogue")] == [
        line.speaker for line in lines(plan, shot) if line.speaker != "narrator"
    ]
    assert lines(plan, shot, "none") == []


def test_a_tiny_transformers_voice_loads_by_path_and_speaks_the_same_every_time(tmp_path):
    tiny_vits_voice(tmp_path / "vits")
    speaker = TransformersSpeaker(str(tmp_path / "vits"))
    first, again = (speaker.speak("the waves are high.", Voice()) for _ in range(2))
    assert first.rate == 16000 and first.seconds > 0 and np.array_equal(first.samples, again.samples)
    teller = Storyteller(speaker=f"transformers:{tmp_path / 'vits'}", runs_dir=tmp_path, executor="serial")
    result = teller.make("The sea was calm.", name="calm", **TINY)  # its own run folder, not the model's
    _, audio_seconds, video_seconds = soundtrack(result.video)
    assert abs(audio_seconds - video_seconds) <= 1 / TINY["fps"]


def test_a_piper_voice_file_speaks_each_character_as_its_own_speaker(tmp_path):
    from stitching.sound.piper import PiperSpeaker

    speaker = PiperSpeaker(str(tiny_piper_voice(tmp_path, speakers=3)))
    line = speaker.speak("The waves are high.", Voice(name="reader1"))
    assert line.rate == 16000 and len(line.samples) % 64 == 0 and len(line.samples) > 64 * 10
    assert np.array_equal(line.samples, speaker.speak("The waves are high.", Voice(name="reader1")).samples)
    other = speaker.speak("The waves are high.", Voice(name="tiny/reader2"))  # by file and speaker
    assert len(other.samples) == len(line.samples) and not np.array_equal(other.samples, line.samples)
    assert speaker.resolve("en")[1] == 0  # a language alone: the first speaker
    assert speaker.timing("The waves are high.", Voice()) is None  # no duration predictor: spoken to be timed
    teller = Storyteller(speaker=f"piper:{tiny_piper_voice(tmp_path)}", runs_dir=tmp_path, executor="serial")
    result = teller.make("The sea was calm.", name="piper", **TINY)
    samples, audio_seconds, video_seconds = soundtrack(result.video)
    assert abs(audio_seconds - video_seconds) <= 1 / TINY["fps"] and np.abs(samples).max() > 0.1
    with pytest.raises(StorytellerError, match="cannot load the Piper voice"):
        (tmp_path / "broken.onnx").write_bytes(b"not a model")
        (tmp_path / "broken.onnx.json").write_text((tmp_path / "tiny.onnx.json").read_text())
        PiperSpeaker(str(tmp_path / "broken.onnx")).speak("Hello.", Voice())
    with pytest.raises(StorytellerError, match="no Piper voice at"):
        PiperSpeaker(str(tmp_path / "missing.onnx"))


def run(*args, cwd):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "storyteller", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)


def test_bad_sound_input_is_one_line_and_keeps_finished_work(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text(DIALOGUE)
    size = ["--size", "64x64", "--fps", "8", "-q"]
    missing = run("make", story, *size, "--music", tmp_path / "nope.mp3", cwd=tmp_path)
    assert missing.returncode == 2 and "music file" in missing.stderr and "Traceback" not in missing.stderr
    not_audio = tmp_path / "notes.mp3"
    not_audio.write_text("not audio at all")
    unreadable = run("make", story, *size, "--music", not_audio, cwd=tmp_path)
    assert unreadable.returncode == 2 and len(unreadable.stderr.strip().splitlines()) == 1, unreadable.stderr
    unknown = run("make", story, *size, "--voice", "nope", cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown speech backend 'nope'" in unknown.stderr
    assert run("make", story, *size, cwd=tmp_path).returncode == 0
    plan_path = tmp_path / "runs" / "story" / "plan.json"
    plan = json.loads(plan_path.read_text())
    plan["characters"][0]["voice"]["name"] = "xx+zz"
    plan_path.write_text(json.dumps(plan))
    bad_voice = run("render", plan_path, "-q", cwd=tmp_path)
    assert bad_voice.returncode == 2 and "no speaker 'xx+zz'" in bad_voice.stderr
    assert len(bad_voice.stderr.strip().splitlines()) == 1
    assert (tmp_path / "runs" / "story" / "story.mp4").is_file()  # the film made before is still there


def test_a_failing_speech_backend_is_one_clear_error():
    def broken(text, voice):
        raise RuntimeError("the model ran out of memory\nand a long trace")

    with pytest.raises(StorytellerError, match=r"speech backend broken failed on .*ran out of memory$"):
        Storyteller(speaker=broken, executor="serial").make("A cat sat.", name="x", **TINY)


def _cues(srt: str) -> list[tuple[float, float]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.replace(",", ".").split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    return [tuple(seconds(t) for t in line.split(" --> ")) for line in srt.splitlines() if " --> " in line]


def test_eval_reports_loudness_peak_speech_in_its_windows_and_the_av_difference(narrated):
    from stitching.extras import read_cues
    from stitching.metrics import evaluate_sound

    sound = evaluate_sound(narrated.video, read_cues(narrated.subtitles))
    assert abs(sound.loudness - -16) <= 1 and sound.true_peak < -1
    assert sound.speech_share > 0.6 and sound.speech_share_min > 0.3
    assert abs(sound.av_difference) <= 1 / narrated.plan.fps
    out = run("eval", narrated.video, "--json", cwd=narrated.run_dir)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["sound"]["loudness"] == pytest.approx(sound.loudness)


def test_a_story_not_in_english_is_spoken_in_its_own_language(tmp_path):
    story = "Była sobie mała dziewczynka, która miała kota. Kot był bardzo mądry i nie mówił wiele."
    voice = CountingVoice()
    result = Storyteller(speaker=voice, runs_dir=tmp_path, executor="serial").make(story, name="kot", **TINY)
    assert result.plan.language == "pl" and result.plan.narrator.name == "pl"
    assert all(c.voice.name == "pl" for c in result.plan.characters)  # a callable's voices: the language
    espeak = Storyteller(speaker="espeak", runs_dir=tmp_path, executor="serial").plan(story, PlanConfig(title="k"))
    assert espeak.narrator.name == "pl" and all(c.voice.name.startswith("pl+") for c in espeak.characters)
    english = Storyteller(speaker=voice, language="en", runs_dir=tmp_path, executor="serial")
    assert english.make(story, name="cat", **TINY).plan.narrator.name == "en"  # --language overrides


def test_music_plays_under_the_film_and_ducks_under_speech(tmp_path):
    tone = tmp_path / "tone.wav"  # a 5 kHz tone: no voice from espeak has much there
    with av.open(str(tone), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=22050, layout="mono")
        t = np.arange(22050 * 3) / 22050
        samples = (0.3 * np.sin(2 * np.pi * 5000 * t) * 32767).astype(np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = 22050
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    teller = Storyteller(runs_dir=tmp_path, ambience=False, music=tone, executor="serial")
    result = teller.make(DIALOGUE, name="music", **TINY)
    samples, _, _ = soundtrack(result.video)
    cues = _cues(result.subtitles.read_text())

    def tone_level(a: float, b: float) -> float:  # the 5 kHz tone's amplitude in [a, b)
        piece = samples[int(a * RATE) : int(b * RATE)]
        spectrum = np.abs(np.fft.rfft(piece * np.hanning(len(piece))))
        return float(spectrum[round(5000 * len(piece) / RATE)] / len(piece))

    during = np.median([tone_level(a + 0.2, b - 0.2) for a, b in cues if b - a > 0.6])
    gaps = [(end + 0.35, after - 0.05) for (_, end), (after, _) in itertools.pairwise(cues) if after - end > 0.6]
    gaps.append((cues[-1][1] + 0.35, result.plan.duration - 0.05))
    between = np.median([tone_level(a, b) for a, b in gaps if b - a > 0.15])
    assert between > 0 and during < 0.5 * between  # ducked under the speech (to about a quarter)


def test_the_true_peak_meter_finds_peaks_between_samples():
    from scipy import signal

    t = np.arange(RATE) / RATE
    # a tone at a quarter of the sample rate, sampled 45 degrees off its crests: every sample is at
    # 0.707 of the true peak of 1.0 (-3 dB), which lies between them
    tone = np.sin(2 * np.pi * RATE / 4 * t + np.pi / 4).astype(np.float32)
    assert 20 * np.log10(np.abs(tone).max()) == pytest.approx(-3.01, abs=0.01)
    assert true_peak(tone) == pytest.approx(0.0, abs=0.2)
    noise = (0.3 * np.random.default_rng(1).standard_normal(RATE)).astype(np.float32)
    reference = 20 * np.log10(np.abs(signal.resample_poly(noise, 4, 1)).max())
    assert true_peak(noise) == pytest.approx(reference, abs=0.3)


def test_the_mixs_numpy_filters_are_scipys_and_pyloudnorms():
    from scipy import ndimage

    from stitching.sound.loudness import k_weighting, moving_average, moving_extreme

    x = np.random.default_rng(0).standard_normal(5003).astype(np.float32)
    for n in (1, 2, 7, 240, 1201):
        assert np.allclose(moving_average(x, n)[n:-n], ndimage.uniform_filter1d(x, n)[n:-n], atol=1e-5)
        assert np.array_equal(moving_extreme(x, n, largest=True), ndimage.maximum_filter1d(x, n))
        assert np.array_equal(moving_extreme(x, n, largest=False), ndimage.minimum_filter1d(x, n))
    for (b, a), designed in zip(k_weighting(RATE), pyloudnorm.Meter(RATE)._filters.values(), strict=True):
        assert np.allclose(b, designed.b) and np.allclose(a, designed.a)


def test_the_streaming_loudness_meter_is_pyloudnorms_bs1770():
    from stitching.sound.loudness import LoudnessMeter

    rng = np.random.default_rng(3)
    t = np.arange(RATE * 20) / RATE
    audio = 0.2 * np.sin(2 * np.pi * 440 * t) * (np.sin(2 * np.pi * 0.3 * t) > 0) + 0.01 * rng.standard_normal(len(t))
    meter = LoudnessMeter()
    for first in range(0, len(audio), 7777):  # blocks of any size
        meter.feed(audio[first : first + 7777].astype(np.float32))
    assert meter.integrated() == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(audio), abs=0.05)


@pytest.mark.parametrize("voice", ["en+f2", "en+f5", "en+f3"])
def test_a_breathy_espeak_voice_speaks_a_line_the_same_whatever_its_noise_was_seeded_with(voice):
    """eSpeak seeds its breath noise from the clock when it starts: two runs (or a run and its resume) would
    speak the same line differently. Each line is reseeded, so the engine's earlier state does not matter."""
    from stitching.sound.espeak import engine, speak_afresh

    line = Voice(name=voice, pitch=47, rate=170)
    spoken = []
    for seed in (12345, 987654321):  # as two processes started at different times would be
        engine().reseed(seed)
        spoken.append(speak_afresh("Your mother's crown has been stolen, said the fox.", line))
    assert len(spoken[0]) > 10_000
    np.testing.assert_array_equal(spoken[0], spoken[1])


def test_a_voice_naming_another_backend_is_spoken_by_it_and_the_rest_by_the_films(tmp_path, monkeypatch):
    """plan.json's voice `backend` is honoured: Mia given the humming backend hums; everyone else speaks in
    the film's own backend (espeak)."""
    from stitching.sound import SPEAKERS

    hum = CountingVoice()
    monkeypatch.setitem(SPEAKERS._factories, "hum", lambda: hum)
    teller = Storyteller(runs_dir=tmp_path, executor="serial", speaker="espeak")
    plan = teller.plan(DIALOGUE, PlanConfig(title="mia", **TINY))
    mia = next(c for c in plan.characters if c.name == "Mia")
    assert all(c.voice is not None and c.voice.backend == "espeak" for c in plan.characters)  # planned, named
    characters = [
        c.model_copy(update={"voice": c.voice.model_copy(update={"backend": "hum"})}) if c.id == mia.id else c
        for c in plan.characters
    ]
    result = teller.render(plan.model_copy(update={"characters": characters}), tmp_path / "mia")
    assert hum.said == ["Look at the waves!"]  # her line, and only hers
    assert result.cache_hits.get("speech", 0) == 0 and result.rendered["films"] == 1


def test_plan_writes_every_voice_and_a_daughter_speaks_as_a_child(tmp_path):
    from stitching.sound import _voice_for
    from storyteller.cli import main
    from storyteller.core.models import Character

    story = tmp_path / "mia.txt"
    story.write_text(DIALOGUE)
    assert main(["plan", str(story), "-o", str(tmp_path / "plan.json")]) == 0
    plan = read_plan(tmp_path / "plan.json")
    assert plan.narrator is not None and plan.characters
    assert all(c.voice is not None for c in plan.characters)  # seen, and editable, before the first render
    base = {"id": "ana", "name": "Ana", "appearance": "a girl"}
    names = lambda language, female, draw: language  # noqa: E731
    adult = _voice_for(Character(**base, kind="woman"), plan, None, names)
    for young in ("daughter", "toddler", "granddaughter"):
        child = _voice_for(Character(**base, kind=young), plan, None, names)
        assert child.pitch > adult.pitch
