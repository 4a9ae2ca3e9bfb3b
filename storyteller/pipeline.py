"""The orchestrator: plan -> retrieve -> keyframes -> animate -> stitch, every artifact cached.

result = Storyteller().make(open("story.txt").read(), name="story")
result.video  # runs/story/story.mp4
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import errno
import functools
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from generators import ANIMATORS, KEYFRAME_GENERATORS
from planners import PLANNERS
from retrieval import RETRIEVERS
from stitching import write_srt
from stitching.infill import INFILLERS
from stitching.sound import DEFAULT_SPEAKER
from stitching.sound.mix import Score
from stitching.timeline import read_planes
from storyteller.core.backend import (
    Animator,
    Infiller,
    KeyframeGenerator,
    Planner,
    Retriever,
    Speaker,
    adopt,
)
from storyteller.core.cache import (
    Cache,
    atomic_write_text,
    publish,
    unwritable_user_cache,
    user_store,
)
from storyteller.core.errors import StorytellerError
from storyteller.core.executors import Executor
from storyteller.core.executors import executor as make_executor
from storyteller.core.executors.local import apart
from storyteller.core.files import code_digest, file_digest
from storyteller.core.models import MotionGuide, PlanConfig, StoryPlan, read_plan
from storyteller.core.outputs import check_film_output, check_run_dir
from storyteller.core.plan_files import note_edits, save_plan
from storyteller.core.progress import QuietReporter, Reporter, note, still
from storyteller.drawing import Drawing, Workers, encoder
from storyteller.render_plan import SHOT_MEDIA, RenderPlan, remembered_by, shot_inputs
from storyteller.settings import RenderSettings
from storyteller.voicing import FilmSpeech, Voicing
from storyteller.work import Worker

MAX_STORY_CHARS = 2_000_000  # about 20 novels: past this it is a mistake, not a story


T = TypeVar("T")


@dataclass
class RunResult:
    plan: StoryPlan
    run_dir: Path
    plan_path: Path
    video: Path
    subtitles: Path
    contact_sheet: Path
    keyframes: list[Path]
    seconds: dict[str, float] = field(default_factory=dict)
    cache_hits: dict[str, int] = field(default_factory=dict)
    rendered: dict[str, int] = field(default_factory=dict)
    fill: dict[str, Any] = field(default_factory=dict)  # the fill the render used, and how it was chosen
    models: dict[str, str] = field(default_factory=dict)  # what each model ran at (size, frames a call, rate)
    # what the film is made of, before the encoders: frame and sample counts and digests (ContentDigest)
    content: dict[str, Any] = field(default_factory=dict)


class Storyteller:
    """Composes one backend per stage: plan -> retrieve -> keyframes -> animate -> stitch, every artifact cached.

    Args:
        planner: the story's planner: a registered name ("heuristic", "fountain", "llm:PROVIDER:MODEL") or
            any `Planner`, or any object with `plan(story, config)`.
        keyframe: the keyframe backend: a name ("animatic", "diffusers:MODEL") or a `KeyframeGenerator`
            (or any object with `keyframe(shot, plan)`).
        animator: the animator: a name ("animatic", "diffusers:MODEL") or an `Animator` (or any object with
            `animate(keyframe, shot, plan, guide)`).
        retriever: where shots find their motion (Animate-A-Story): a name ("library:PATH"), a `Retriever`,
            or None to render unguided (a guide pinned in plan.json is still used).
        speaker: who reads the story aloud: a speech backend's name ("auto", the default: the neural voice
            where installed, else espeak; "piper", "piper:VOICE.onnx", "piper:FOLDER"; "espeak";
            "transformers:MODEL_OR_FOLDER"), a `Speaker`, or any callable (text, voice) -> samples; None: a
            silent film. A voice in the plan that names its own backend is spoken by that one.
        settings: how the film is rendered beyond its backends (`RenderSettings`: the fill, colour matching,
            deflicker, character memory, the encoder, narration, ambience, music, workers, the cache's cap).
        executor: where the work runs: "local" (processes), "serial", "ray", "ray:auto", "ray://HOST:PORT",
            or an executor object (which sizes itself: set no `workers` with one).
        runs_dir: where run directories go: `make(story, name)` renders into runs_dir/name.
        cache_dir: the content-addressed store of keyframes, clips and film segments (default: the one every
            run on this machine shares, in the user cache directory; STORYTELLER_CACHE moves it).
        reporter: progress (rich bars, a plain log); default: quiet.
        **overrides: RenderSettings' fields, as keywords: `Storyteller(deflicker=True)` is
            `Storyteller(settings=RenderSettings(deflicker=True))`.
    """

    def __init__(
        self,
        planner: Planner | str | Any = "heuristic",
        keyframe: KeyframeGenerator | str | Any = "animatic",
        animator: Animator | str | Any = "animatic",
        retriever: Retriever | str | Any | None = None,
        speaker: Speaker | str | Callable[..., Any] | None = DEFAULT_SPEAKER,
        settings: RenderSettings | None = None,
        *,
        executor: Executor | str = "local",
        runs_dir: Path | str = "runs",
        cache_dir: Path | str | None = None,
        reporter: Reporter | None = None,
        **overrides: Any,
    ) -> None:
        self.settings = (settings or RenderSettings()).but(**overrides)
        self.planner = adopt(PLANNERS.create(planner) if isinstance(planner, str) else planner, Planner)
        self.keyframer = adopt(
            KEYFRAME_GENERATORS.create(keyframe) if isinstance(keyframe, str) else keyframe, KeyframeGenerator
        )
        self.animator = adopt(ANIMATORS.create(animator) if isinstance(animator, str) else animator, Animator)
        self.retriever: Retriever | None = None
        if retriever is not None:
            self.retriever = adopt(RETRIEVERS.create(retriever) if isinstance(retriever, str) else retriever, Retriever)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else user_store()
        self.planned_by: dict[str, Any] | None = None  # set by plan(): which planner made it, and any fallback
        self.runs_dir = Path(runs_dir)
        self.reporter = reporter or QuietReporter()
        self.voicing = Voicing(speaker, self.settings, self.reporter) if speaker is not None else None
        self.executor = make_executor(executor, self.settings.workers)
        self.infill: Infiller | None = None
        fill = self.settings.fill_settings
        if fill is not None:  # an unknown infill backend fails now, not mid-render
            self.infill = adopt(
                INFILLERS.create(fill.infill) if isinstance(fill.infill, str) else fill.infill, Infiller
            )

    # --- the pipeline ---------------------------------------------------------------------------

    def make(
        self,
        story: str,
        name: str = "story",
        output: Path | None = None,
        overwrite: bool = False,
        inputs: Iterable[Path] = (),
        **config: Any,
    ) -> RunResult:
        """Plan the story and render it into runs/<name>/ (`name`: a folder name, never a path).

        `output` (an .mp4, with its subtitles beside it) is replaced only if `overwrite`, or if it is this
        run's own earlier film; `inputs` (the story's file) are never written over. `config`: PlanConfig's
        fields (width, height, fps, seed, minutes)."""
        run_dir = self.runs_dir / name
        check_run_dir(run_dir, overwrite, self.cache_dir)
        if output is not None:  # before any work: a wrong -o costs nothing
            check_film_output(output, inputs=inputs, overwrite=overwrite, run_dir=run_dir)
        plan = self.plan(story, PlanConfig(title=name, cache_dir=self.cache_dir, **config), speaking=True)
        note_edits(run_dir / "plan.json")  # the story's plan replaces it: say where an edited one goes
        return self.render(plan, run_dir, output, overwrite=overwrite, inputs=inputs)

    def plan(self, story: str, config: PlanConfig, speaking: bool = False) -> StoryPlan:
        """The story's plan, from this Storyteller's planner (from the cache, for a deterministic planner
        that planned this story with this config and this code before). `speaking`: the plan will be spoken
        (a make): the speech engine starts loading while a story is planned (not for a plan the cache has:
        its lines are likely cached too, and nothing need load)."""
        check_story(story)
        planner, cache, key = self.planner, Cache(self.cache_dir), None
        if planner.deterministic:
            inputs = {"story": story, "config": config.model_dump(mode="json", exclude={"cache_dir"})}
            code = code_digest(type(planner).__module__.split(".")[0])
            key = cache.key("plan", planner.name, {**planner.config(), "code": code}, inputs)
        with self.reporter.stage("plan", 1) as advance:
            found = cache.get("plan", key, ".json") if key else None
            if found:
                plan = read_plan(found)
            else:
                if speaking and self.voicing is not None:
                    self.voicing.speaker.prepare()
                plan = apart(planner.plan, story, config) if planner.apart else planner.plan(story, config)
            if key and not found and isinstance(plan, StoryPlan):
                text = plan.model_dump_json()
                with contextlib.suppress(OSError, StorytellerError):  # a store that cannot be written: planned again
                    cache.put("plan", key, ".json", lambda p: p.write_text(text))
            advance(1)
        # which planner made the plan (an LLM planner may have fallen back, and says why), for run.json
        self.planned_by = self.planner.outcome or {"planner": self.planner.name}
        if found:
            self.planned_by = {**self.planned_by, "cached": "the same story, settings and planner code as before"}
        if not isinstance(plan, StoryPlan):
            raise StorytellerError(f"planner {self.planner.name} returned {type(plan).__name__}, not a StoryPlan")
        return self.voicing.voiced(plan) if self.voicing is not None else plan

    def render(
        self,
        plan: StoryPlan,
        run_dir: Path,
        output: Path | None = None,
        overwrite: bool = False,
        inputs: Iterable[Path] = (),
    ) -> RunResult:
        """Render a plan into `run_dir` (new, or a run's); everything already in the cache is reused, so only
        changed shots are redone. `output`, `overwrite` and `inputs` as for `make`; the plan's own files (its
        plan.json, reference images, the music) are inputs too."""
        run_dir = Path(run_dir)
        check_run_dir(run_dir, overwrite, self.cache_dir)
        if output is not None:
            read = [*inputs, run_dir / "plan.json", *(Path(c.reference) for c in plan.characters if c.reference)]
            read += [self.settings.music] if self.settings.music is not None else []
            check_film_output(output, inputs=read, overwrite=overwrite, run_dir=run_dir)
        cache = self._store(run_dir)
        cache.sweep()  # temporaries of a run that was killed
        # Every entry the render reads or makes is leased, from the first: a prune by another run sharing
        # the cache leaves them be. Its outputs are copies, so once they are out it may prune its own.
        with cache.lease():
            result, work = self._render(plan, run_dir, output, cache)
        cap = self.settings.cache_size
        pruned, freed = cache.prune(cap)  # least recently used first: this render's entries go last
        store = {"dir": str(cache.root), "cap bytes": cap, "pruned": pruned, "freed bytes": freed}
        _save_record(result, self.executor, work, store, self.planned_by)
        return result

    def _render(
        self, plan: StoryPlan, run_dir: Path, output: Path | None, cache: Cache
    ) -> tuple[RunResult, RenderPlan]:
        seconds: dict[str, float] = {}
        rendered = {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}
        # 1. Retrieve each shot's motion guide
        with _stopwatch(seconds, "retrieve"):
            plan, guides = self._guided(cache, plan)
        # 2. Speak every line: a shot lasts at least as long as what is said in it, so this comes first
        with _stopwatch(seconds, "speech"):
            voiced = self.voicing.speak(cache, plan) if self.voicing is not None else None
            plan = self._remembering(voiced.plan if voiced is not None else plan)
        # 3. Keep the plan as it will be rendered (wherever it came from), once: its guides recorded, so a
        # user can pin or swap them, its durations fitted to the speech, its characters' pictures named
        save_plan(plan, run_dir / "plan.json")
        # 4. Key the whole render once: what is cached, what must be made
        score = self.voicing.score(voiced) if self.voicing is not None and voiced is not None else None
        work = self._keyed(plan, guides, cache, score)
        # 5. Keyframes, clips and the film (the soundtrack made beside them)
        film, keyframes, sheets = self._drawn(cache, work, voiced, rendered, seconds)
        # 6. Publish the film, subtitles, contact sheet and keyframes into the run directory
        with _stopwatch(seconds, "publish"):
            result = self._published(work, run_dir, output, film, keyframes, sheets, voiced)
        content = cache.facts("film", work.film_key, ".mp4")
        result = dataclasses.replace(
            result, seconds=seconds, cache_hits=dict(cache.stats.hits), rendered=rendered, content=content
        )
        return result, work

    def _guided(self, cache: Cache, plan: StoryPlan) -> tuple[StoryPlan, dict[str, MotionGuide | None]]:
        """The plan with each shot's motion guide, and the guides."""
        guides = self._retrieve(cache, plan)
        if any(guides.get(s.id) != s.guide for s in plan.shots):
            plan = plan.model_copy(
                update={"shots": [s.model_copy(update={"guide": guides.get(s.id)}) for s in plan.shots]}
            )
        return plan, guides

    def _drawn(
        self,
        cache: Cache,
        work: RenderPlan,
        voiced: FilmSpeech | None,
        rendered: dict[str, int],
        seconds: dict[str, float],
    ) -> tuple[Path, list[Path], Future[tuple[Path, list[tuple[str, Path]]]]]:
        """The film, the keyframes and the contact sheets (drawn meanwhile): only what the cache lacks is made,
        by workers started only if there is some; the soundtrack is spoken and mixed beside the drawing."""
        plan, drawing = work.plan, self._drawing()
        cache.hold(work.entries(cache))
        if work.missing_keyframes or work.missing_segments:
            for backend in {id(b): b for b in (self.keyframer, self.animator)}.values():
                if (prepare := getattr(backend, "prepare_plan", None)) is not None:
                    prepare(plan)
        soundtrack, stop = None, threading.Event()
        with self._workers(work) as workers, _settling(stop, lambda: soundtrack):
            # the soundtrack needs no frame: it is spoken and mixed beside the drawing (the voice, numpy and the
            # encoder let go of the interpreter), while the workers start and draw
            if self.voicing is not None and voiced is not None and not work.film_cached:
                soundtrack = _in_background(self.voicing.soundtrack, cache, work, voiced.later, stop)
            clock = time.perf_counter()
            keyframes = drawing.keyframes(cache, work, workers, rendered)
            self._note_unremembered(plan)
            sheets = _in_background(drawing.sheet, cache, work, keyframes)  # needs only the keyframes: drawn meanwhile
            seconds["keyframes"], clock = time.perf_counter() - clock, time.perf_counter()
            film = cache.get_with_facts("film", work.film_key, ".mp4")
            if film is None:
                if self.voicing is not None and voiced is not None and soundtrack is None:  # counted cached, but is not
                    soundtrack = _in_background(self.voicing.soundtrack, cache, work, voiced.later, stop)
                film = drawing.film(cache, work, keyframes, workers, rendered, soundtrack)
                rendered["films"] += 1
            seconds["animate+stitch"] = time.perf_counter() - clock
        return film, keyframes, sheets

    def _published(
        self,
        work: RenderPlan,
        run_dir: Path,
        output: Path | None,
        film: Path,
        keyframes: list[Path],
        sheets: Future[tuple[Path, list[tuple[str, Path]]]],
        voiced: FilmSpeech | None,
    ) -> RunResult:
        """The film, its subtitles, the contact sheets, the keyframes and the remembered characters' pictures
        copied into the run directory; what the run made, to be completed with its figures."""
        plan = work.plan
        video = Path(output) if output else run_dir / f"{run_dir.name}.mp4"
        publish(film, video)
        subtitles = video.with_suffix(".srt") if output else run_dir / "story.srt"
        sheet = run_dir / "contact_sheet.png"
        write_srt(plan, subtitles, voiced.cues() if voiced is not None and voiced.any_speech else None)
        whole, chapters = sheets.result()
        publish(whole, sheet)
        for scene, chapter_sheet in chapters:
            publish(chapter_sheet, run_dir / "contact_sheets" / f"{scene}.png")
        shown = []
        for shot, keyframe in zip(plan.shots, keyframes, strict=True):
            publish(keyframe, run_dir / "keyframes" / f"{shot.id}.png")
            shown.append(run_dir / "keyframes" / f"{shot.id}.png")
        for cid, first in work.remembered.items():  # what each remembered character looks like
            publish(keyframes[first], run_dir / "references" / f"{cid}.png")
        return RunResult(
            plan=plan,
            run_dir=run_dir,
            plan_path=run_dir / "plan.json",
            video=video,
            subtitles=subtitles,
            contact_sheet=sheet,
            keyframes=shown,
            fill=work.summary()["fill"],
            models=self._runs_at(work),
        )

    def shot_media(self, plan: StoryPlan, run_dir: Path) -> list[Path]:
        """Each shot's own clip as H.264 in `run_dir/shots/<shot id>.mp4`, whole (with the frames a
        transition shares with its neighbour, unblended): the media an editor cuts and dissolves between.
        Rendered, like everything, only where the cache lacks it; `plan` as its render wrote it."""
        run_dir = Path(run_dir)
        cache = self._store(run_dir)
        work = self._keyed(plan, {shot.id: shot.guide for shot in plan.shots}, cache)
        rendered = {"keyframes": 0, "clips": 0, "segments": 0, "films": 0}
        media = []
        with cache.lease(work.entries(cache)), self._workers(work) as workers:
            keyframes = self._drawing().keyframes(cache, work, workers, rendered)
            with self.reporter.stage("shot media", len(work.shots)) as advance:
                clips = self._drawing().clips(cache, work, list(work.shots), keyframes, workers, still, rendered)
                encode = encoder(work)
                for shot, clip in zip(work.shots, clips, strict=True):
                    key = cache.key(SHOT_MEDIA, "x264", work.encoder, {"clip": shot.clip.key, "fps": plan.fps})
                    found = cache.get(SHOT_MEDIA, key, ".mp4")
                    if found is None:
                        found = cache.put(SHOT_MEDIA, key, ".mp4", functools.partial(_encode_planes, encode, clip))
                    target = run_dir / "shots" / f"{shot.shot.id}.mp4"
                    publish(found, target)
                    media.append(target)
                    advance(1)
        return media

    # --- what render and shot_media share ---------------------------------------------------------

    def _store(self, run_dir: Path) -> Cache:
        """The cache a render into `run_dir` reads and writes: the shared store, else the run's own."""
        return Cache(_writable(self.cache_dir, run_dir))

    def _keyed(
        self, plan: StoryPlan, guides: dict[str, MotionGuide | None], cache: Cache, score: Score | None = None
    ) -> RenderPlan:
        """The render of `plan` keyed up front, by these backends and settings."""
        return RenderPlan.build(plan, guides, cache, self.keyframer, self.animator, self.infill, self.settings, score)

    def _workers(self, work: RenderPlan) -> Workers:
        """The workers that draw what `work` lacks (started only if it lacks something)."""
        worker = Worker(self.keyframer, self.animator, self.infill if work.stride > 1 else None)
        return Workers(self.executor, worker, self.reporter, work.tasks)

    def _drawing(self) -> Drawing:
        return Drawing(self.reporter, self.keyframer, self.infill)

    def _runs_at(self, work: RenderPlan) -> dict[str, str]:
        """What each stage's model ran at, where it says (a diffusion model's size, clip length and rate)."""
        stages = {"keyframes": self.keyframer, "animator": self.animator}
        if work.stride > 1 and self.infill is not None:
            stages["infill"] = self.infill
        said = {stage: backend.runs_at(work.plan) for stage, backend in stages.items()}
        return {stage: text for stage, text in said.items() if text}

    # --- stages ---------------------------------------------------------------------------------

    def _retrieve(self, cache: Cache, plan: StoryPlan) -> dict[str, MotionGuide | None]:
        guides: dict[str, MotionGuide | None] = {s.id: s.guide for s in plan.shots if s.guide is not None}  # by hand
        backend = self.retriever
        if backend is None:
            return guides
        with self.reporter.stage("retrieve", len(plan.shots)) as advance:
            for shot in plan.shots:
                if shot.id not in guides and shot.card is None:  # a title card has no motion to guide
                    key = cache.key("guide", backend.name, backend.config(), shot_inputs(shot, plan))
                    found = cache.get("guide", key, ".json")
                    known = _stored_guide(found) if found else False
                    if known is not False:  # a re-run asks neither the embedder nor the index
                        guides[shot.id] = known
                    else:
                        guide = backend.guide(shot, plan)
                        text = guide.model_dump_json() if guide else "null"
                        cache.put("guide", key, ".json", functools.partial(_write_text, text))
                        guides[shot.id] = guide
                advance(1)
        return guides

    def _note_unremembered(self, plan: StoryPlan) -> None:
        """Once the keyframes are drawn: a note where characters recur and the model could not be held to
        their first picture."""
        keyframer = self.keyframer
        cannot = self.settings.character_memory and not keyframer.takes_references and not keyframer.consistent
        if cannot and any(sum(c.id in s.characters for s in plan.shots) > 1 for c in plan.characters):
            note(f"{self.keyframer.name} takes no reference image: characters are drawn from their prompts alone")

    def _remembering(self, plan: StoryPlan) -> StoryPlan:
        """The plan naming, for each character remembered by its first keyframe, where that picture goes."""
        remembered = remembered_by(plan, self.settings, self.keyframer)
        characters = [
            c.model_copy(update={"remembered": f"references/{c.id}.png" if c.id in remembered else None})
            for c in plan.characters
        ]
        return plan if characters == plan.characters else plan.model_copy(update={"characters": characters})


def _stored_guide(path: Path) -> MotionGuide | Literal[False] | None:
    """A cached guide (None: the shot had none); False: the entry is not a guide, and is made again."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return MotionGuide.model_validate(data) if data is not None else None
    except (OSError, ValueError):  # unreadable, not JSON, or not a guide (pydantic's errors are ValueErrors)
        return False


@contextlib.contextmanager
def _settling(stop: threading.Event, running: Callable[[], Future | None]) -> Iterator[None]:
    """On the way out, however it goes: `stop` set, and the work `running` on a thread beside given a
    moment to see it, so no model is mid-call when the interpreter exits (ONNX Runtime aborts the process
    if its runtime is torn down under a running session)."""
    try:
        yield
    finally:
        stop.set()
        future = running()
        if future is not None:
            concurrent.futures.wait([future], timeout=30)


@contextlib.contextmanager
def _stopwatch(seconds: dict[str, float], stage: str) -> Iterator[None]:
    """`seconds[stage]`: how long the block took (for the summary and run.json; never for a choice)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds[stage] = time.perf_counter() - start


def _in_background(function: Callable[..., T], *args: Any) -> Future[T]:
    """`function(*args)` on a thread of its own. A daemon: a run stopped by Ctrl-C or SIGTERM does not wait
    for it (what it leaves half-written in the cache carries this process's id and is swept next time)."""
    future: Future[T] = Future()

    def run() -> None:
        if future.set_running_or_notify_cancel():
            try:
                future.set_result(function(*args))
            except BaseException as error:  # the caller gets it, as from any future
                future.set_exception(error)

    threading.Thread(target=run, name=getattr(function, "__name__", "beside"), daemon=True).start()
    return future


def _writable(store: Path, run_dir: Path) -> Path:
    """The shared store, or where it cannot be written (a read-only home), the run directory's own."""
    try:
        store.mkdir(parents=True, exist_ok=True)
        if not os.access(store, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(store))
        return store
    except OSError as error:
        unwritable_user_cache(error)
        return run_dir / ".cache"


def _save_record(
    result: RunResult, executor: Executor, work: RenderPlan, store: dict[str, Any], planned_by: dict | None = None
) -> None:
    """run.json: what the last render did (which executor, what it found cached, what it made, how long)."""
    record = {
        **({"plan": planned_by} if planned_by else {}),
        "executor": executor.name,
        "render": work.summary(),
        "cache": store,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        "cache_hits": result.cache_hits,
        "rendered": result.rendered,
        **({"models": result.models} if result.models else {}),
        "video": str(result.video.resolve()),  # absolute: read from any folder (export, the studio)
        "video_sha256": file_digest(result.video),
        "subtitles": str(result.subtitles.resolve()),
        "subtitles_sha256": file_digest(result.subtitles),
        # the same film is the same content: frames and samples digested before x264 and AAC saw them
        "content": result.content,
    }
    atomic_write_text(result.run_dir / "run.json", json.dumps(record, indent=2))


def check_story(story: str) -> None:
    if not story.strip():
        raise StorytellerError("the story is empty: write at least one sentence")
    if len(story) > MAX_STORY_CHARS:
        raise StorytellerError(
            f"the story is {len(story):,} characters; the limit is {MAX_STORY_CHARS:,}: split it into parts"
        )


def _encode_planes(encode: Callable[[Any, Path], Any], clip: Path, path: Path) -> None:
    encode(read_planes(clip), path)


def _write_text(text: str, path: Path) -> None:
    path.write_text(text)
