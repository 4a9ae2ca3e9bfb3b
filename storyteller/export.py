"""A rendered film as an editorial timeline: OpenTimelineIO (the ASWF interchange format), and EDL or
Final Cut Pro XML through OTIO's adapters where they are installed.

One clip per shot, each referencing its shot's own whole clip (`shots/<id>.mp4` in the run directory), cut
where the film cuts; a crossfade is an OTIO transition centred on the cut, each side playing the frames its
shot shares with the other; the shot's text is a marker on its clip, each scene (chapter) a marker on the
track spanning its shots; the film's sound is an audio track.
The track's clips, in order, last exactly as long as the film's shots do on its timeline.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from storyteller.core.errors import StorytellerError
from storyteller.core.models import StoryPlan, read_plan
from storyteller.core.outputs import check_output, published_film
from storyteller.pipeline import Storyteller

ADAPTERS = {".edl": ("cmx_3600", "otio-cmx3600-adapter"), ".xml": ("fcp_xml", "otio-fcp-adapter")}


def _otio() -> Any:
    try:
        import opentimelineio
    except ImportError:
        raise StorytellerError("export needs OpenTimelineIO: pip install 'storyteller[studio]'") from None
    return opentimelineio


def cuts(plan: StoryPlan) -> list[int]:
    """The frame where each shot starts on an editor's timeline (and, last, where the film ends): in the
    middle of the frames a crossfade shares with the shot before, at its first frame after a cut."""
    starts = plan.shot_starts()
    middle = [start + plan.overlap_frames(i) // 2 for i, start in enumerate(starts)]
    return [*middle, plan.total_frames]


def timeline(plan: StoryPlan, media: list[Path], film: Path | None) -> Any:
    """The OTIO timeline of `plan`, its shots' clips in `media` (in shot order); `film`: the finished MP4,
    whose sound becomes the audio track (None, or a silent film: no audio track)."""
    otio = _otio()
    rate = float(plan.fps)

    def span(first: int, frames: int) -> Any:
        return otio.opentime.TimeRange(
            otio.opentime.RationalTime(first, rate), otio.opentime.RationalTime(frames, rate)
        )

    starts, edges = plan.shot_starts(), cuts(plan)
    result = otio.schema.Timeline(name=plan.title, global_start_time=otio.opentime.RationalTime(0, rate))
    video = otio.schema.Track(name="shots", kind=otio.schema.TrackKind.Video)
    for index, (shot, path) in enumerate(zip(plan.shots, media, strict=True)):
        overlap = plan.overlap_frames(index)
        if overlap:
            kind = "SMPTE_Dissolve" if shot.transition.kind == "crossfade" else "Custom_Transition"
            video.append(
                otio.schema.Transition(
                    name=shot.transition.kind,
                    transition_type=kind,
                    in_offset=otio.opentime.RationalTime(edges[index] - starts[index], rate),
                    out_offset=otio.opentime.RationalTime(starts[index] + overlap - edges[index], rate),
                )
            )
        reference = otio.schema.ExternalReference(
            target_url=path.resolve().as_uri(), available_range=span(0, plan.shot_frames(shot))
        )
        clip = otio.schema.Clip(
            name=shot.id,
            media_reference=reference,
            source_range=span(edges[index] - starts[index], edges[index + 1] - edges[index]),
            metadata={"storyteller": {"shot": shot.id, "camera": shot.camera, "characters": shot.characters}},
        )
        clip.markers.append(
            otio.schema.Marker(
                name=shot.text, marked_range=span(edges[index] - starts[index], 0), color=otio.schema.MarkerColor.BLUE
            )
        )
        video.append(clip)
    _mark_scenes(otio, video, plan, edges, span)
    result.tracks.append(video)
    if film is not None and _has_audio(film):
        audio = otio.schema.Track(name="sound", kind=otio.schema.TrackKind.Audio)
        sound = otio.schema.ExternalReference(
            target_url=film.resolve().as_uri(), available_range=span(0, plan.total_frames)
        )
        audio.append(
            otio.schema.Clip(name="soundtrack", media_reference=sound, source_range=span(0, plan.total_frames))
        )
        result.tracks.append(audio)
    return result


def _mark_scenes(otio: Any, video: Any, plan: StoryPlan, edges: list[int], span: Any) -> None:
    """Each scene (a chapter) a marker on the track, as long as it is."""
    chapters = plan.chapters()
    for n, (scene, first) in enumerate(chapters):
        end = edges[chapters[n + 1][1]] if n + 1 < len(chapters) else plan.total_frames
        video.markers.append(
            otio.schema.Marker(
                name=scene.title or f"Scene {n + 1}",
                marked_range=span(edges[first], end - edges[first]),
                color=otio.schema.MarkerColor.GREEN,
                metadata={"storyteller": {"scene": scene.id, "location": scene.location}},
            )
        )


def _has_audio(film: Path) -> bool:
    import av

    try:
        with av.open(str(film)) as container:
            return bool(container.streams.audio)
    except (av.error.FFmpegError, OSError):  # a truncated film, or not a film at all
        raise StorytellerError(f"{film}: the run's film cannot be read; render the run again") from None


def export(teller: Storyteller, run_dir: Path, targets: list[Path], overwrite: bool = False) -> list[Path]:
    """Write the run's timeline to each target (.otio, or .edl / .xml where OTIO's adapter for it is
    installed); each shot's clip is made or found in the cache first. An existing target is replaced only if
    `overwrite` (a link there is replaced, never written through); the run's own files never are."""
    otio = _otio()
    run_dir = Path(run_dir)
    for target in targets:  # before any work: a wrong target costs nothing
        check_output(target, inputs=[run_dir / "plan.json", run_dir / "run.json"], overwrite=overwrite)
        if target.suffix not in (".otio", *ADAPTERS):
            raise StorytellerError(f"{target}: export writes .otio, .edl or .xml (Final Cut Pro XML)")
        if target.suffix in ADAPTERS and ADAPTERS[target.suffix][0] not in otio.adapters.available_adapter_names():
            raise StorytellerError(f"{target}: writing {target.suffix} needs pip install {ADAPTERS[target.suffix][1]}")
    published = published_film(run_dir)
    if published is None:
        raise StorytellerError(f"{run_dir}: not a rendered run directory (no run.json); render it first")
    plan = read_plan(run_dir / "plan.json")
    media = teller.shot_media(plan, run_dir)
    made = timeline(plan, media, published[0] if published[0].is_file() else None)
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        adapter = "otio_json" if target.suffix == ".otio" else ADAPTERS[target.suffix][0]
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")  # then renamed into place
        try:
            otio.adapters.write_to_file(made, str(tmp), adapter_name=adapter)
            os.replace(tmp, target)
        except (ValueError, otio.exceptions.OTIOError) as error:  # e.g. an EDL's timecode at 8 fps
            raise StorytellerError(f"{target}: {adapter} cannot write this timeline ({error})") from None
        except OSError as error:
            raise StorytellerError(f"cannot write {target}: {error.strerror or error}") from None
        finally:
            tmp.unlink(missing_ok=True)
    return targets
