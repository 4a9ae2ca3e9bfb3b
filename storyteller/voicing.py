"""The orchestrator's sound: who speaks each voice, every line timed or spoken (each cached by its text, voice
and backend), the plan fitted to the speech, and the soundtrack mixed beside the drawing.

A line whose backend can time it without speaking it (a neural voice's duration predictor) is only timed
before the render; it is spoken on VOICE_THREADS threads while the workers draw (`_SpokenLater`), to exactly
the timed length. Others are spoken before the render, as their length is needed to time it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import itertools
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stitching.sound import DEFAULT_SPEAKER, SPEAKERS, Line, fitted, lines, placements, with_speaking, with_voices
from stitching.sound.ambience import ambience_of
from stitching.sound.mix import Score, read_music, write_soundtrack
from storyteller.core.backend import Speaker, Speech, SpeechTiming, adopt
from storyteller.core.cache import Cache
from storyteller.core.errors import StorytellerError, first_line
from storyteller.core.files import file_digest
from storyteller.core.models import Location, StoryPlan, Voice
from storyteller.core.progress import Reporter, note
from storyteller.render_plan import SOUND_STRETCH, RenderPlan
from storyteller.settings import RenderSettings

# lines the render is timed by but that are not spoken yet, by cache key: who says them, what, how long
Later = dict[str, tuple[Speaker, Line, SpeechTiming]]
VOICE_THREADS = 2  # lines spoken at once (each on one thread: the voice's own is one); the film is the same


class Voicing:
    """The film's speech and soundtrack, for a Storyteller: who speaks (`speaker`, as the Storyteller takes
    it), and the narration, ambience, music and language of its `settings`."""

    def __init__(
        self, speaker: Speaker | str | Callable[..., Any], settings: RenderSettings, reporter: Reporter
    ) -> None:
        self.speaker = adopt(SPEAKERS.create(speaker) if isinstance(speaker, str) else speaker, Speaker)
        # how plan.json names the film's speech backend ("piper", "espeak"), and whether it was chosen for
        # the user (then another may read a language it has not)
        self.speaker_spec = self.speaker.spec() or (speaker if isinstance(speaker, str) else None)
        self.speaker_chosen = speaker == DEFAULT_SPEAKER
        self.voice_speakers: dict[str, Speaker] = {}  # other backends plan.json's voices name, made when asked
        self.settings = settings
        self.reporter = reporter

    def speak(self, cache: Cache, plan: StoryPlan) -> FilmSpeech:
        """Every line of every shot timed (its backend's duration predictor: spoken later, beside the
        drawing) or spoken (each cached by its text, voice and backend), and the plan fitted to them: voices
        chosen where none is set, shots lengthened to hold what is said in them, each character's line a
        timed `speak` action in its shot."""
        plan = self.voiced(plan)
        said = [lines(plan, shot, self.settings.narration) for shot in plan.shots]
        asked = []  # each line: who says it, its key, its cached samples if any
        for line in (line for shot_lines in said for line in shot_lines):
            voice_speaker = self.speaker_of(line.voice)
            inputs = {"text": line.text, "voice": line.voice.model_dump(mode="json")}
            key = cache.key("speech", voice_speaker.name, voice_speaker.config(), inputs)
            asked.append((line, voice_speaker, key, cache.get("speech", key, ".npz")))
        later: Later = {}
        seconds: list[float] = []
        # the lines not cached are timed where their backend can tell without speaking (on two threads)
        threads = concurrent.futures.ThreadPoolExecutor(VOICE_THREADS)
        with self.reporter.stage("speech", len(asked)) as advance, threads as pool:
            timings = pool.map(lambda a: _timing_of(a[1], a[0]) if a[3] is None else None, asked)
            for (line, voice_speaker, key, found), timing in zip(asked, timings, strict=True):
                if found is not None:
                    seconds.append(_load_speech(found).seconds)
                elif timing is not None:  # timed now, spoken beside the drawing (_soundtrack)
                    later[key] = (voice_speaker, line, timing)
                    seconds.append(timing.seconds)
                else:
                    speech = _spoken(voice_speaker, line)
                    cache.put("speech", key, ".npz", functools.partial(_save_speech, speech=speech))
                    seconds.append(speech.seconds)
                advance(1)
        lengths = iter(zip(asked, seconds, strict=True))
        spoken: list[list[SpokenLine]] = []
        for shot_lines in said:  # its samples wait in the cache
            shot_lengths = itertools.islice(lengths, len(shot_lines))
            spoken.append([SpokenLine(key, length) for (_, _, key, _), length in shot_lengths])
        fitted_plan = with_speaking(fitted(plan, spoken), said, spoken)
        starts = placements(fitted_plan, spoken)
        return FilmSpeech(plan=fitted_plan, lines=said, spoken=spoken, starts=starts, later=later)

    def voiced(self, plan: StoryPlan) -> StoryPlan:
        """The plan in the language it is spoken in, with a voice for the narrator and everyone in it (chosen
        where plan.json names none): planning gives them, so a user sees and edits them before a render."""
        if self.settings.language and self.settings.language != plan.language:
            plan = plan.model_copy(update={"language": self.settings.language})
        if not self.speaker.has_language(plan.language) and self.speaker_chosen:
            fallback = SPEAKERS.create("espeak")
            if fallback.has_language(plan.language):  # the neural voice is English: espeak reads the rest
                note(f"the neural voice has no '{plan.language}': espeak reads this story (about a hundred languages)")
                self.speaker, self.speaker_spec, self.speaker_chosen = fallback, fallback.spec(), False
        if not self.speaker.has_language(plan.language):
            note(f"{self.speaker.name} has no voice for the language '{plan.language}': English is spoken")
            plan = plan.model_copy(update={"language": "en"})
        return with_voices(plan, self.speaker_spec, self.speaker.voice_name)

    def speaker_of(self, voice: Voice) -> Speaker:
        """Who speaks in `voice`: the film's speech backend, unless the voice names another (a character
        given a Piper voice in plan.json, say), which is made once and kept for later renders."""
        if voice.backend is None or voice.backend == self.speaker_spec:
            return self.speaker
        if voice.backend not in self.voice_speakers:
            self.voice_speakers[voice.backend] = adopt(SPEAKERS.create(voice.backend), Speaker)
        return self.voice_speakers[voice.backend]

    def score(self, voiced: FilmSpeech) -> Score:
        """Where every line, bed and the music sit: the soundtrack's key (a change to sound alone re-mixes
        and re-muxes; no frame is drawn again)."""
        plan = voiced.plan
        beds = [ambience_of(s, (plan.location(s.location) or Location(id="x", name="")).name) for s in plan.shots]
        placed = [
            (at, said.seconds, said.key)
            for spoken, starts in zip(voiced.spoken, voiced.starts, strict=True)
            for said, at in zip(spoken, starts, strict=True)
        ]
        music = file_digest(self.settings.music) if self.settings.music is not None else None
        return Score.of(plan, placed, beds if self.settings.ambience else None, music)

    def soundtrack(self, cache: Cache, work: RenderPlan, later: Later, stop: threading.Event) -> Path:
        """The film's soundtrack (on a thread beside the drawing): the lines the render was only timed by
        are spoken meanwhile (`_SpokenLater`), each waited for when the mix first needs it."""
        assert work.soundtrack_key is not None  # a film with sound has its soundtrack keyed
        found = cache.get_with_facts("soundtrack", work.soundtrack_key, ".m4a")
        if found is not None:
            return found
        assert work.score is not None and work.soundtrack_key is not None
        with _SpokenLater(cache, later, stop) as spoken:
            return self._mixed(cache, work, spoken.load)

    def _mixed(self, cache: Cache, work: RenderPlan, load: Callable[[str], Speech]) -> Path:
        assert work.score is not None and work.soundtrack_key is not None

        def premixed(index: int, mix: Callable[[], np.ndarray]) -> np.ndarray:
            key = work.stretch_keys[index]  # a shot's stretch is kept: an edit mixes only what it touched
            found = cache.get(SOUND_STRETCH, key, ".npy")
            if found is not None:
                return np.load(found)
            stretch = mix()
            cache.put(SOUND_STRETCH, key, ".npy", lambda p: np.save(p, stretch))
            return stretch

        with self.reporter.stage("sound", 1) as advance:
            music = read_music(self.settings.music) if self.settings.music is not None else None
            given: dict[str, Any] = {}  # what the encoder was given: sealed with the entry
            write = lambda p: given.update(write_soundtrack(p, work.score, load, music, premixed))  # noqa: E731
            path = cache.put("soundtrack", work.soundtrack_key, ".m4a", write, facts=lambda: given)
            advance(1)
        return path


@dataclass(frozen=True)
class FilmSpeech:
    """A render's speech: the plan fitted to it, each shot's lines, their audio, cache keys and start times."""

    plan: StoryPlan
    lines: list[list[Line]]
    spoken: list[list[SpokenLine]]
    starts: list[list[float]]
    later: Later  # lines only timed yet: spoken by the soundtrack

    @property
    def any_speech(self) -> bool:
        return any(self.spoken)

    def cues(self) -> list[tuple[float, float, str]]:
        """Subtitles timed to the speech: (start, end, text) of every line; a character's own words after
        its name ("Mia: Look at the waves!")."""
        names = {c.id: c.name[:1].upper() + c.name[1:] for c in self.plan.characters}
        return [
            (
                at,
                at + speech.seconds,
                f"{names[line.speaker]}: {line.text}" if line.quoted and line.speaker in names else line.text,
            )
            for shot_lines, speech_of, times in zip(self.lines, self.spoken, self.starts, strict=True)
            for line, speech, at in zip(shot_lines, speech_of, times, strict=True)
        ]


def _timing_of(speaker: Speaker, line: Line) -> SpeechTiming | None:
    """How long a line will last, where its backend can tell without speaking it; errors as `_spoken`'s."""
    with _one_line(speaker, line):
        return speaker.timing(line.text, line.voice)


def _spoken(speaker: Speaker, line: Line) -> Speech:
    """One line from the speech backend; whatever goes wrong in it is one line for the user."""
    with _one_line(speaker, line):
        speech = speaker.speak(line.text, line.voice)
    if not len(speech.samples) or not np.all(np.isfinite(speech.samples)):
        raise StorytellerError(f"the speech backend {speaker.name} gave no usable audio for {line.text[:40]!r}")
    return speech


@contextlib.contextmanager
def _one_line(speaker: Speaker, line: Line) -> Iterator[None]:
    """A backend's own failure, whatever its kind, as one line for the user."""
    try:
        yield
    except StorytellerError:
        raise
    except Exception as error:
        problem = f"the speech backend {speaker.name} failed on {line.text[:40]!r}: {first_line(error)}"
        raise StorytellerError(problem) from error


class _SpokenLater:
    """The lines a render was only timed by, spoken on VOICE_THREADS threads in the film's order while the
    workers draw, each into the cache (the samples are never held: memory does not grow with the film), to
    exactly the length it was timed at. Leaving, it drops the lines not begun and waits for those being
    spoken. Its threads are daemons: a run stopped (whatever it was doing) never waits on them at exit."""

    def __init__(self, cache: Cache, later: Later, stop: threading.Event) -> None:
        self.cache, self.later, self.stop = cache, later, stop
        self.pending: dict[str, Future[None]] = {key: Future() for key in later}
        self.queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        for key in later:
            self.queue.put(key)
        self.threads = [
            threading.Thread(target=self._work, name="storyteller-voice", daemon=True) for _ in range(VOICE_THREADS)
        ]
        for thread in self.threads:
            self.queue.put(None)  # one end for each thread
            thread.start()

    def __enter__(self) -> _SpokenLater:
        return self

    def __exit__(self, *exc: object) -> None:
        for future in self.pending.values():
            future.cancel()  # not begun: never will be
        for thread in self.threads:
            thread.join(timeout=30)

    def _work(self) -> None:
        while (key := self.queue.get()) is not None:
            future = self.pending[key]
            if not future.set_running_or_notify_cancel():
                continue
            try:
                if self.stop.is_set():  # the render is over (stopped, or failed): no voice is left running at exit
                    raise StorytellerError("the soundtrack was stopped")
                self._speak(key)
                future.set_result(None)
            except BaseException as error:  # the mix waiting for this line gets it
                future.set_exception(error)

    def _speak(self, key: str) -> None:
        if self.cache.get("speech", key, ".npz") is not None:
            return
        speaker, line, timing = self.later[key]
        speech = _spoken(speaker, line)
        if len(speech.samples) != timing.samples:  # as long as it was timed, whatever the backend gave
            fitted = np.zeros(timing.samples, np.float32)
            fitted[: min(timing.samples, len(speech.samples))] = speech.samples[: timing.samples]
            speech = Speech(fitted, speech.rate)
        self.cache.put("speech", key, ".npz", lambda p: _save_speech(p, speech))

    def load(self, key: str) -> Speech:
        if key in self.pending:
            self.pending[key].result()
        return _load_speech(self.cache.path("speech", key, ".npz"))


@dataclass(frozen=True)
class SpokenLine:
    """A spoken line, as the render plans with it: its cache key and its length (its samples stay cached)."""

    key: str
    seconds: float


def _load_speech(path: Path) -> Speech:
    with np.load(path) as stored:
        return Speech(stored["samples"], int(stored["rate"]))


def _save_speech(path: Path, speech: Speech) -> None:
    with open(path, "wb") as out:  # np.savez on a path would add its own suffix to the temporary name
        np.savez(out, samples=speech.samples.astype(np.float32), rate=np.int64(speech.rate))
