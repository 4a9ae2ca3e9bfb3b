"""The render plan: every fact of one render resolved once, before anything is drawn.

Keys chain by what makes an artifact, not by its bytes: a clip's key holds its keyframe's key (and its
colour reference's); a film segment's key (a shot's stretch of the film, H.264, with the transition into
it) holds its clip's key and, across a transition, the previous clip's; the film's key holds its
segments' keys. So the whole render is keyed up front: which
keyframes, clips and film are in the cache, which must be made, and how many tasks that is. The driver
(storyteller.pipeline), the executor's pool size, the progress bars and run.json all read this plan;
what the driver learns while rendering (the files it finds or makes) stays in the driver.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from stitching.fill import FillSettings, anchor_count, fill_pays
from stitching.sound.mix import Score
from storyteller.core.backend import Animator, Infiller, KeyframeGenerator
from storyteller.core.cache import Cache
from storyteller.core.files import MAX_LORA_BYTES, MAX_REFERENCE_BYTES, code_digest, file_digest, local_file
from storyteller.core.models import MotionGuide, Shot, StoryPlan
from storyteller.settings import RenderSettings
from storyteller.work import ClipJob

FILM_SEGMENT = "film-segment"  # the cache stage of a shot's stretch of the film (not an infill "segment")
SHOT_MEDIA = "shot-media"  # the cache stage of a shot's whole clip as H.264, for an editor (export)
SOUND_STRETCH = "sound-stretch"  # the cache stage of a shot's stretch of the soundtrack, before normalising


@dataclass(frozen=True, kw_only=True)
class ShotWork:
    """One shot's part of the render."""

    index: int
    shot: Shot
    frames: int
    keyframe_key: str
    clip: ClipJob
    colour_source: int | None  # the shot whose keyframe this one's colours match (colour_match), if another
    memory: dict[str, int]  # character id -> the earlier shot whose keyframe this one is held to
    continues_from: int | None  # its keyframe is this earlier shot's clip's last frame (one take, no cut)
    anchors_key: str | None  # a model-backed infill's shots: their anchors are cached on their own
    segment_key: str  # the shot's stretch of the film, encoded
    keyframe_cached: bool
    clip_cached: bool
    segment_cached: bool
    clip_needed: bool  # its segment, or the next one (which blends its tail), must be encoded


@dataclass(frozen=True, kw_only=True)
class RenderPlan:
    """Everything one render of `plan` does, keyed, and what of it the cache already holds."""

    plan: StoryPlan
    shots: tuple[ShotWork, ...]
    stride: int  # the fill's stride for this frame rate; 1: no fill, every frame rendered
    depth: int
    segments_as_tasks: bool  # a model-backed infill: each infill segment is a task of its own
    direct: bool  # no clip kept: each worker draws a shot and encodes its segment of the film (Animator.keeps_clips)
    fill_choice: dict[str, Any]  # how the fill was chosen: forced or auto, the declared costs and the reason
    film_key: str
    film_cached: bool
    sheet_key: str  # the contact sheet: every keyframe with its shot's text
    chapter_sheet_keys: tuple[tuple[str, str], ...]  # (scene id, key): a sheet per chapter, where there are scenes
    encoder: dict[str, Any]  # the film segments' encoder settings
    score: Score | None  # what the soundtrack is made of, and where (None: a silent film)
    soundtrack_key: str | None
    stretch_keys: tuple[str, ...]  # each shot's stretch of the soundtrack, mixed before normalising
    remembered: dict[str, int]  # character id -> the shot whose keyframe remembers it (character memory)

    @classmethod
    def build(
        cls,
        plan: StoryPlan,
        guides: dict[str, MotionGuide | None],
        cache: Cache,
        keyframer: KeyframeGenerator,
        animator: Animator,
        infill: Infiller | None,
        settings: RenderSettings,
        score: Score | None = None,
    ) -> RenderPlan:
        fill, fill_choice = _choose_fill(settings, animator, infill)
        stride = fill.stride_for(plan.fps) if fill is not None and infill is not None else 1
        depth = fill.depth if stride > 1 and fill is not None else 1
        fill_choice["used"] = "none, every frame drawn"
        if stride > 1 and fill is not None and infill is not None:
            fill_choice["used"] = f"{infill.name}: 1 frame in {stride} drawn, the rest infilled"
        segments_as_tasks = stride > 1 and infill is not None and not infill.cheap
        # (deflicker looks back along the clip: a tail drawn again on its own would not match the kept clip's)
        direct = not animator.keeps_clips and stride == 1 and not settings.deflicker
        remembered = remembered_by(plan, settings, keyframer)
        keyer = _Keyer(
            plan, cache, guides, keyframer, animator, settings, fill, stride, depth, segments_as_tasks, remembered
        )
        for index, shot in enumerate(plan.shots):  # a title card is drawn the same under every backend
            keyer.shots.append(_card_work(index, shot, plan, cache) if shot.card is not None else keyer.work(index))
        shots = keyer.shots
        soundtrack_key, stretch_keys = _sound_keys(cache, score)
        shots, film_key, film_cached = _keyed_film(plan, shots, cache, settings, soundtrack_key, direct)
        sheet_inputs = {"plan": plan.model_dump(mode="json"), "keyframes": [w.keyframe_key for w in shots]}
        return cls(
            plan=plan,
            shots=tuple(shots),
            stride=stride,
            depth=depth,
            segments_as_tasks=segments_as_tasks,
            direct=direct,
            fill_choice=fill_choice,
            film_key=film_key,
            film_cached=film_cached,
            encoder=settings.encoder,
            score=score,
            soundtrack_key=soundtrack_key,
            stretch_keys=stretch_keys,
            remembered=remembered,
            sheet_key=cache.key("sheet", "contact_sheet", {}, sheet_inputs),
            chapter_sheet_keys=tuple(
                (scene.id, cache.key("sheet", "contact_sheet", {}, {**sheet_inputs, "scene": scene.id}))
                for scene, _ in plan.chapters()
            ),
        )

    @property
    def missing_keyframes(self) -> list[ShotWork]:
        """The keyframes a model must draw (a pinned one is only read)."""
        return [work for work in self.shots if not work.keyframe_cached and not work.shot.keyframe]

    @property
    def missing_clips(self) -> list[ShotWork]:
        return [work for work in self.shots if work.clip_needed and not work.clip_cached]

    @property
    def missing_segments(self) -> list[ShotWork]:
        return [] if self.film_cached else [work for work in self.shots if not work.segment_cached]

    @property
    def tasks(self) -> int:
        """How many tasks this render schedules at most at once: the workers started are sized by it."""
        clips = self.missing_clips
        if self.direct:
            return max(len(self.missing_segments), len(self.missing_keyframes))
        if self.segments_as_tasks:  # every gap between anchors is a task, and each shot's anchors
            return sum(anchor_count(work.frames, self.stride) for work in clips)
        return max(len(clips), len(self.missing_keyframes))

    def entries(self, cache: Cache) -> list[Path]:
        """The cache entries this render reads or makes (leased while it runs)."""
        paths = [cache.path("film", self.film_key, ".mp4"), cache.path("sheet", self.sheet_key, ".png")]
        paths += [cache.path("sheet", key, ".png") for _, key in self.chapter_sheet_keys]
        if self.score is not None and self.soundtrack_key is not None:
            paths.append(cache.path("soundtrack", self.soundtrack_key, ".m4a"))
            paths += [cache.path("speech", key, ".npz") for _, _, key in self.score.lines]
            paths += [cache.path(SOUND_STRETCH, key, ".npy") for key in self.stretch_keys]
        for w in self.shots:
            paths.append(cache.path("keyframe", w.keyframe_key, ".png"))
            paths.append(cache.path("clip", w.clip.key, ".mkv"))
            paths.append(cache.path(FILM_SEGMENT, w.segment_key, ".mp4"))
            if w.anchors_key is not None:
                paths.append(cache.path("anchors", w.anchors_key, ".npy"))
        return paths

    def summary(self) -> dict[str, Any]:
        """What run.json records of the plan: the fill used, and what was found and what had to be made."""
        return {
            "fill": {**self.fill_choice, "stride": self.stride, "depth": self.depth},
            "cached": {
                "keyframes": sum(w.keyframe_cached for w in self.shots),
                "clips": sum(w.clip_cached for w in self.shots),
                "segments": sum(w.segment_cached for w in self.shots),
                "film": self.film_cached,
            },
            # the cache entries the film is made of, in timeline order (paths inside the cache)
            "segments": [_entry(FILM_SEGMENT, w.segment_key, ".mp4") for w in self.shots],
            "clips": [_entry("clip", w.clip.key, ".mkv") for w in self.shots],
        }


def _card_work(index: int, shot: Shot, plan: StoryPlan, cache: Cache) -> ShotWork:
    """A title card's part of the render: keyed by its text, size and length, never by a backend."""
    frames = plan.shot_frames(shot)
    card = {"card": shot.card, "size": [plan.width, plan.height]}
    keyframe_key = cache.key("keyframe", "card", {"code": code_digest("storyteller.core")}, card)
    clip_key = cache.key(
        "clip", "card", {"code": code_digest("storyteller.core")}, {**card, "frames": frames, "fps": plan.fps}
    )
    return ShotWork(
        index=index,
        shot=shot,
        frames=frames,
        keyframe_key=keyframe_key,
        clip=ClipJob(index=index, shot=shot, guide=None, key=clip_key),
        colour_source=None,
        memory={},
        continues_from=None,
        anchors_key=None,
        segment_key="",
        keyframe_cached=cache.has("keyframe", keyframe_key, ".png"),
        clip_cached=cache.has("clip", clip_key, ".mkv"),
        segment_cached=False,
        clip_needed=True,
    )


def _entry(stage: str, key: str, suffix: str) -> str:
    return str(Cache(Path()).path(stage, key, suffix))


def clips_needed(plan: StoryPlan, missing_segments: set[int]) -> set[int]:
    """The shots whose clips encoding these segments reads: each one's own, and across a transition into
    it, the previous shot's (whose tail it blends)."""
    return missing_segments | {i - 1 for i in missing_segments if plan.overlap_frames(i)}


def _segment_inputs(plan: StoryPlan, shots: list[ShotWork], index: int) -> dict[str, Any]:
    """What shot `index`'s segment of the film is made from: its clip, how much of it (up to where the next
    shot's transition begins), and across the transition into it, the previous clip and the transition."""
    overlap = plan.overlap_frames(index)
    head = None
    if overlap:
        head = {"clip": shots[index - 1].clip.key, "frames": overlap, "kind": shots[index].shot.transition.kind}
    return {
        "clip": shots[index].clip.key,
        "frames": shots[index].frames,
        "head": head,
        "tail": plan.overlap_frames(index + 1) if index + 1 < len(shots) else 0,
        "fps": plan.fps,
    }


def _choose_fill(
    settings: RenderSettings, animator: Animator, infill: Infiller | None
) -> tuple[FillSettings | None, dict[str, Any]]:
    """The fill this render uses, and why: forced by the caller, or (auto) by the cost per frame the animator
    and the infill declare. Nothing measured here: a choice that flipped with the machine's load would
    make another film, and key it differently."""
    if not settings.auto_fill or settings.fill_settings is None or infill is None:
        return settings.fill_settings, {"mode": "forced"}
    pays, reason = fill_pays(animator.frame_cost, infill.frame_cost)
    costs = {
        "mode": "auto",
        "draw ms/MP (declared)": animator.frame_cost,
        "infill ms/MP (declared)": infill.frame_cost,
        "reason": reason,
    }
    return (settings.fill_settings if pays else None), costs


def remembered_by(plan: StoryPlan, settings: RenderSettings, keyframer: KeyframeGenerator) -> dict[str, int]:
    """Each character without a reference image of its own, and the first shot it is in: that keyframe
    holds its later ones (character memory), where memory is on and the keyframe model takes a reference."""
    first: dict[str, int] = {}
    if not (settings.character_memory and keyframer.takes_references):
        return first
    own = {c.id for c in plan.characters if c.reference}
    for index, shot in enumerate(plan.shots):
        for cid in shot.characters:
            if cid not in own:
                first.setdefault(cid, index)
    return first


def shot_inputs(shot: Shot, plan: StoryPlan) -> dict[str, Any]:
    """What a shot's keyframe is made from."""
    # The id and transition change where a shot sits, not what it shows: renumbering or a new
    # crossfade must not re-render it.
    # A pinned first or last frame is keyed by its content, not by where it lies.
    return {
        "shot": shot.model_dump(mode="json", exclude={"id", "transition", "guide", "scene", "keyframe", "last_frame"}),
        "context": plan.shot_context(shot),
        "frames": plan.shot_frames(shot),
        "references": _reference_digests(shot, plan),
        "pinned": pinned_digests(shot),
        "loras": _lora_digests(shot, plan),
    }


def pinned_digests(shot: Shot) -> dict[str, str]:
    """The content of the shot's pinned first and last frames, where it pins them (checked as references are)."""
    pinned = {"keyframe": shot.keyframe, "last_frame": shot.last_frame}
    return {
        name: _digest_of(local_file(path, f"pinned {name.replace('_', ' ')}", MAX_REFERENCE_BYTES))
        for name, path in pinned.items()
        if path
    }


def _reference_digests(shot: Shot, plan: StoryPlan) -> dict[str, str]:
    """The content of each reference image the shot's characters have: a new picture at the same path
    must make a new keyframe. (Checked here, before anything opens it: a local regular file, size-capped.)"""
    digests = {}
    for cid in shot.characters:
        character = plan.character(cid)
        if character is not None and character.reference:
            digests[cid] = _digest_of(local_file(character.reference, "reference image", MAX_REFERENCE_BYTES))
    return digests


def _lora_digests(shot: Shot, plan: StoryPlan) -> dict[str, str]:
    """The content of the LoRA weights of each character in the shot that has them (each file hashed once)."""
    digests = {}
    for cid in shot.characters:
        character = plan.character(cid)
        if character is not None and character.lora is not None:
            digests[cid] = _digest_of(local_file(character.lora.path, "LoRA weights", MAX_LORA_BYTES))
    return digests


def _digest_of(path: Path) -> str:
    info = path.stat()
    return _digest_cached(str(path), info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=256)
def _digest_cached(path: str, mtime_ns: int, size: int) -> str:
    return file_digest(Path(path))


def _keyed_film(
    plan: StoryPlan,
    shots: list[ShotWork],
    cache: Cache,
    settings: RenderSettings,
    soundtrack_key: str | None,
    direct: bool,
) -> tuple[list[ShotWork], str, bool]:
    """Every shot with its film segment keyed, and the film's key and whether it is cached. Clips are
    content-addressed by what makes them, so their keys (not their bytes) key the segments: a segment can be
    encoded while later shots are still being drawn."""
    segment_keys = [
        cache.key(FILM_SEGMENT, "x264", settings.encoder, _segment_inputs(plan, shots, i)) for i in range(len(shots))
    ]
    segment_cached = [cache.has(FILM_SEGMENT, key, ".mp4") for key in segment_keys]
    joined = {"segments": segment_keys, "fps": plan.fps, "audio": soundtrack_key}
    if plan.scenes:  # a film without scenes keeps the key it always had
        joined["chapters"] = plan.chapter_marks()
    film_key = cache.key("film", "concat", {}, joined)
    film_cached = cache.has("film", film_key, ".mp4")
    missing = set() if film_cached else {i for i, cached in enumerate(segment_cached) if not cached}
    needed = set() if direct else clips_needed(plan, missing)
    keyed = [
        replace(work, segment_key=segment_keys[i], segment_cached=segment_cached[i], clip_needed=i in needed)
        for i, work in enumerate(shots)
    ]
    return keyed, film_key, film_cached


def _sound_keys(cache: Cache, score: Score | None) -> tuple[str | None, tuple[str, ...]]:
    """The soundtrack's key and each stretch of the mix's (none for a silent film)."""
    if score is None:
        return None, ()
    soundtrack_key = cache.key("soundtrack", "mix", {}, score.described())
    return soundtrack_key, tuple(cache.key(SOUND_STRETCH, "mix", {}, score.near(*s)) for s in score.stretches())


@dataclass
class _Keyer:
    """Keys each shot's keyframe, clip and anchors in turn (a shot held to an earlier one's keyframe, or
    coloured like its place's first, is keyed by that one's key): RenderPlan.build's loop."""

    plan: StoryPlan
    cache: Cache
    guides: dict[str, MotionGuide | None]
    keyframer: KeyframeGenerator
    animator: Animator
    settings: RenderSettings
    fill: FillSettings | None
    stride: int
    depth: int
    segments_as_tasks: bool
    remembered: dict[str, int]  # character -> the shot whose keyframe it is remembered by
    shots: list[ShotWork] = field(default_factory=list)
    first_of_place: dict[tuple[Any, ...], int] = field(default_factory=dict)  # (place, time, weather) -> shot
    keyframer_config: dict[str, Any] = field(init=False)  # each backend's share of the keys: asked once
    animator_config: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.keyframer_config, self.animator_config = self.keyframer.config(), self.animator.config()

    def work(self, index: int) -> ShotWork:
        """The shot's keys, and what the cache already holds of it."""
        shot, cache, animator = self.plan.shots[index], self.cache, self.animator
        inputs = shot_inputs(shot, self.plan)
        guide = self.guides.get(shot.id)
        if self.keyframer.takes_structure:  # the retrieved clip's structure steers the keyframe
            inputs["structure"] = guide.structure.model_dump(mode="json") if guide and guide.structure else None
        memory = {cid: self.remembered[cid] for cid in shot.characters if self.remembered.get(cid, index) < index}
        if memory:  # held to earlier keyframes: keyed by theirs (drawn before this one is)
            inputs["memory"] = {cid: self.shots[source].keyframe_key for cid, source in memory.items()}
        continues = shot.continues and animator.continues_from_last_frame and index and not shot.keyframe
        continues_from = index - 1 if continues else None
        if shot.keyframe:  # a pinned first frame: no model draws it, its content keys it
            memory = {}
            pinned = {"image": inputs["pinned"]["keyframe"], "size": [self.plan.width, self.plan.height]}
            keyframe_key = cache.key("keyframe", "pinned", {}, pinned)
        elif continues_from is not None:  # its first frame is where the last clip ended: keyed by that clip
            memory = {}
            keyframe_key = cache.key("keyframe", "last_frame", {}, {"clip": self.shots[continues_from].clip.key})
        else:
            keyframe_key = cache.key("keyframe", self.keyframer.name, self.keyframer_config, inputs)
        clip_inputs, colour_source = self._clip_inputs(index, inputs, keyframe_key, guide)
        clip_key = cache.key("clip", animator.name, self.animator_config, clip_inputs)
        anchors_key = None
        if self.segments_as_tasks:
            anchors = {"clip": clip_key, "stride": self.stride}
            anchors_key = cache.key("anchors", animator.name, self.animator_config, anchors)
        job = ClipJob(
            index=index, shot=shot, guide=guide, key=clip_key, stride=self.stride, depth=self.depth,
            deflicker=self.settings.deflicker,
        )  # fmt: skip
        return ShotWork(
            index=index,
            shot=shot,
            frames=self.plan.shot_frames(shot),
            keyframe_key=keyframe_key,
            clip=job,
            colour_source=colour_source,
            memory=memory,
            continues_from=continues_from,
            anchors_key=anchors_key,
            segment_key="",  # keyed once every clip is
            segment_cached=False,
            clip_needed=True,
            keyframe_cached=cache.has("keyframe", keyframe_key, ".png"),
            clip_cached=cache.has("clip", clip_key, ".mkv"),
        )

    def _clip_inputs(
        self, index: int, inputs: dict[str, Any], keyframe_key: str, guide: MotionGuide | None
    ) -> tuple[dict[str, Any], int | None]:
        """What makes the shot's clip, and the shot whose keyframe's colours it is matched to (if any)."""
        shot, settings = self.plan.shots[index], self.settings
        clip_inputs: dict[str, Any] = {
            **inputs,
            "keyframe": keyframe_key,
            "guide": guide.model_dump(mode="json") if guide is not None else None,
        }
        colour_source = None
        if settings.colour_match and shot.location is not None:
            place = (shot.location, shot.graph.time_of_day, shot.graph.weather)
            source = self.first_of_place.setdefault(place, index)
            # a shot drawn exactly like the place's first keeps its own colours: they are the same
            if source != index and self.shots[source].keyframe_key != keyframe_key:
                colour_source = source
            clip_inputs["colour_reference"] = (
                self.shots[colour_source].keyframe_key if colour_source is not None else None
            )
        if settings.deflicker:
            clip_inputs["deflicker"] = True
        if self.stride > 1 and self.fill is not None:
            clip_inputs["fill"] = {**self.fill.config(), "stride": self.stride}
        return clip_inputs, colour_source
