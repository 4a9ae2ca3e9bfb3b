"""The `storyteller` command's arguments: the parser, each command's options, and the checks of a value's
form (a size, a rate, a count, a seed, a byte size) that answer a bad value in one line, exit code 2."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from generators.comfyui.client import DEFAULT_URL as COMFYUI_URL
from planners.shot_prose import SHOT_MODES
from stitching.fill import AUTO, FillSettings
from stitching.sound import DEFAULT_SPEAKER, NARRATION_MODES
from storyteller import __version__
from storyteller.core.cache import DEFAULT_CACHE_BYTES
from storyteller.core.executors import DEFAULT_WORKERS
from storyteller.core.models import MAX_ASPECT
from storyteller.settings import ENCODERS, RenderSettings

EXIT_BAD_INPUT = 2
DEFAULT_LIBRARY = Path("library")


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"storyteller: error: {message} (see 'storyteller --help')", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    """The command line: every command and its options."""
    parser = Parser(prog="storyteller", description="Turn a story into a long, coherent, multi-shot video.")
    parser.add_argument("--version", action="version", version=f"storyteller {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="after a one-line error, print its traceback (or STORYTELLER_DEBUG=1)"
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    _story_commands(commands)
    _library_commands(commands)
    _info_commands(commands)
    return parser


def _story_commands(commands: Any) -> None:
    """make, plan, render, export, studio: a story or a run in, a film or a plan out."""
    make = commands.add_parser("make", help="plan and render a story into an MP4")
    make.add_argument("story", type=Path, help="the story, a UTF-8 text file")
    plan_options(make)
    render_options(make)

    plan = commands.add_parser("plan", help="write the plan of a story as editable JSON")
    plan.add_argument("story", type=Path)
    plan.add_argument("-o", "--output", type=Path, help="plan file (default: print it)")
    overwrite_option(plan)
    plan_options(plan)

    render = commands.add_parser("render", help="render a (possibly hand-edited) plan.json")
    render.add_argument("plan", type=Path)
    render.add_argument("--runs", type=Path, default=Path("runs"), help="where run directories go (default ./runs)")
    render.add_argument(
        "--run-dir", type=Path, help="the run directory (default: the plan's own, else RUNS/<the plan's title>)"
    )
    render_options(render)

    export = commands.add_parser(
        "export", help="a rendered run as an editor's timeline: OpenTimelineIO, EDL or Final Cut Pro XML"
    )
    export.add_argument("run", type=Path, help="the run directory (runs/NAME)")
    export.add_argument("--otio", type=Path, help="write an OpenTimelineIO timeline (.otio)")
    export.add_argument("--edl", type=Path, help="write a CMX 3600 EDL (needs otio-cmx3600-adapter)")
    export.add_argument("--fcpxml", type=Path, help="write Final Cut Pro 7 XML (needs otio-fcp-adapter)")
    render_options(export, film=False)
    overwrite_option(export)

    studio = commands.add_parser("studio", help="a storyboard web page to edit and re-render a film shot by shot")
    studio.add_argument("target", type=Path, help="a run directory (runs/NAME), a story .txt or a plan.json")
    studio.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    studio.add_argument("--host", default="127.0.0.1", help="the address to bind (default 127.0.0.1, this machine)")
    studio.add_argument("--allow-remote", action="store_true", help="let --host be an address other machines can reach")
    studio.add_argument("--no-browser", action="store_true", help="print the URL, do not open a browser")
    plan_options(studio)
    render_options(studio, film=False)


def _library_commands(commands: Any) -> None:
    """cache, index, search, library: the shared cache and the clip library."""
    cache = commands.add_parser("cache", help="the cache every run shares: what is in it, and pruning it")
    cache.add_argument("action", choices=["info", "prune"], help="info: size and entries; prune: down to the cap")
    cache.add_argument("--cache-size", type=byte_size, default=DEFAULT_CACHE_BYTES, help="the cap (default 5G)")

    index = commands.add_parser("index", help="add a folder of videos to the clip library")
    index.add_argument("folder", type=Path)
    index.add_argument("--library", type=Path, default=DEFAULT_LIBRARY, help=f"default ./{DEFAULT_LIBRARY}")
    index.add_argument("--manifest", type=Path, help="CSV of captions (WebVid or MSR-VTT layout)")
    index.add_argument("--embedder", help="sentence-transformers model id or path (default: offline MiniLM)")
    index.add_argument("--depth-model", help="local depth-estimation model folder: store depth maps too")

    search = commands.add_parser("search", help="find clips in the library by what happens in them")
    search.add_argument("text")
    search.add_argument("--library", type=Path, default=DEFAULT_LIBRARY, help=f"default ./{DEFAULT_LIBRARY}")
    search.add_argument("-k", type=count, default=5, help="how many clips (default 5)")

    library = commands.add_parser("library", help="manage the clip library")
    library.add_argument("action", choices=["demo"], help="demo: build a small library of motion clips")
    library.add_argument("--library", type=Path, default=DEFAULT_LIBRARY, help=f"default ./{DEFAULT_LIBRARY}")


def _info_commands(commands: Any) -> None:
    """backends, presets, eval, schema: what there is, and how good a film is."""
    commands.add_parser("backends", help="list the backends of every stage")
    commands.add_parser("presets", help="list the diffusion presets and the GPU memory each needs")

    evaluate = commands.add_parser("eval", help="score a film: flicker, motion smoothness, continuity, colour")
    evaluate.add_argument("video", type=Path)
    evaluate.add_argument("--plan", type=Path, help="the film's plan.json (default: plan.json beside the video)")
    evaluate.add_argument("--clip", metavar="FOLDER", help="a local CLIP model: add prompt alignment per shot")
    evaluate.add_argument(
        "--every", type=int, help="rebuild every n-th frame for smoothness (default: about 300 frames in all)"
    )
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    commands.add_parser("schema", help="print the JSON Schema of plan.json")


def plan_options(p: argparse.ArgumentParser) -> None:
    """The picture and the plan: size, rate, seed, planner, shots, length, where runs go."""
    p.add_argument("--size", type=size, default=(512, 288), help="frame size, WIDTHxHEIGHT (default 512x288)")
    p.add_argument("--fps", type=fps, default=24, help="frames per second (default 24)")
    p.add_argument("--seed", type=seed, default=0, help="random seed, 0 to 2**63-1 (default 0)")
    p.add_argument("--planner", help="planner backend (default: fountain for .fountain files, else heuristic)")
    p.add_argument(
        "--shots",
        choices=SHOT_MODES,
        default="auto",
        help="the heuristic planner's shots: a paragraph each (shot prose), by sentences, or auto (the default: "
        "by what the text is)",
    )
    p.add_argument("--llm", metavar="PROVIDER:MODEL", help="plan with a chat model, e.g. openai:gpt-4o-mini")
    p.add_argument("--fallback", metavar="PLANNER", help="planner to use if the LLM gives no valid plan")
    p.add_argument("--minutes", type=minutes, help="target length of the film (default: from the text)")
    p.add_argument("--runs", type=Path, default=Path("runs"), help="where run directories go (default ./runs)")


def overwrite_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("-y", "--overwrite", action="store_true", help="replace an existing -o file")


def render_options(p: argparse.ArgumentParser, film: bool = True) -> None:
    """How a film is rendered: its models, its sound, where and how it runs."""
    if film:
        p.add_argument("-o", "--output", type=Path, help="where to write the MP4")
        overwrite_option(p)
    model_options(p)
    sound_options(p)
    run_options(p)


def model_options(p: argparse.ArgumentParser) -> None:
    """The models that draw and animate, the infill between their frames, and their device."""
    p.add_argument(
        "--preset",
        help="diffusion models for both stages, e.g. sd-turbo+svd (see `storyteller presets`); auto: the best "
        "that fits this GPU",
    )
    p.add_argument(
        "--keyframe",
        help="keyframe backend: animatic (default), diffusers:MODEL_ID_OR_FOLDER (any T2I model), "
        "or comfyui:WORKFLOW.json (your ComfyUI workflow, API format)",
    )
    p.add_argument(
        "--animator",
        help="animator backend: animatic (default), diffusers:MODEL_ID_OR_FOLDER (a video model), "
        "or comfyui:WORKFLOW.json",
    )
    fill = FillSettings()  # the defaults live there
    p.add_argument(
        "--fill",
        default=AUTO,  # RenderSettings' own
        help=f"infill between rendered frames: {AUTO} (default: {fill.infill} where it is faster than drawing "
        "every frame, i.e. for model animators), flow, hold, diffusers:MODEL, or none",
    )
    p.add_argument("--stride", type=int, default=fill.stride, help=f"render every n-th frame (default {fill.stride})")
    p.add_argument("--depth", type=int, default=fill.depth, help=f"levels of infill (default {fill.depth})")
    p.add_argument(
        "--colour-match", action="store_true", help="keep each place's colours: match shots to its first keyframe"
    )
    p.add_argument("--deflicker", action="store_true", help="ease frame-to-frame brightness jitter")
    p.add_argument(
        "--no-character-memory",
        action="store_true",
        help="do not hold a character's later keyframes to its first (IP-Adapter models)",
    )
    p.add_argument("--device", default="auto", help="diffusion device: auto (default), cuda, cuda:1, mps, cpu")
    p.add_argument(
        "--comfyui-url",
        default=COMFYUI_URL,  # ComfyConfig's own
        metavar="URL",
        help=f"the ComfyUI server comfyui:WORKFLOW.json backends run on (default {COMFYUI_URL})",
    )
    p.add_argument(
        "--low-memory",
        action="store_true",
        help="diffusion: offload models to the CPU between steps, tile the VAE, slice attention",
    )


def sound_options(p: argparse.ArgumentParser) -> None:
    """What is heard: narration, voices, music, ambience (and -q: what is printed)."""
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("--no-audio", action="store_true", help="a silent film: no narration, voices or ambience")
    p.add_argument(
        "--narration",
        choices=NARRATION_MODES,
        default=RenderSettings.narration,
        help="story (default: the narrator reads the text, characters speak their lines), dialogue, or none",
    )
    p.add_argument(
        "--voice",
        default=DEFAULT_SPEAKER,
        metavar="BACKEND",
        help="speech backend: auto (default: the neural voice, else espeak), piper, piper:VOICE.onnx, "
        "piper:FOLDER, espeak, transformers:MODEL_OR_FOLDER",
    )
    p.add_argument("--language", help="the story's language for speech, e.g. de, pl (default: the plan's)")
    p.add_argument("--music", type=Path, help="an audio file to play under the film, ducked under speech")
    p.add_argument("--no-ambience", action="store_true", help="no bed of the scene's sound under the speech")


def run_options(p: argparse.ArgumentParser) -> None:
    """The encoding, the cache, the clip library and where the shots render."""
    p.add_argument(
        "--quality",
        choices=sorted(ENCODERS),
        default=RenderSettings.quality,
        help="the film's encoding: fast (default: x264 veryfast) or small (x264 slow: smaller files)",
    )
    p.add_argument(
        "--cache-size",
        type=byte_size,
        default=RenderSettings.cache_size,
        help="cap of the cache every run shares, e.g. 500M or 20G (default 5G): least recently used goes first",
    )
    p.add_argument(
        "--library",
        type=Path,
        help=f"clip library whose motion guides the shots (default ./{DEFAULT_LIBRARY} if it exists)",
    )
    p.add_argument("--no-library", action="store_true", help="render unguided even if a library exists")
    p.add_argument(
        "--workers",
        type=int,
        help=f"shots rendered at once: processes for --executor local, CPUs of a local Ray "
        f"(default {DEFAULT_WORKERS}: up to 2, by the CPUs)",
    )
    p.add_argument(
        "--executor",
        default="local",
        help="where shots render: local (default), serial, ray (a local instance), ray:auto or ray://HOST:PORT",
    )


def size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size '{text}' should look like 512x288") from None
    if not (16 <= width <= 4096 and 16 <= height <= 4096):
        raise argparse.ArgumentTypeError(f"size {width}x{height} is impossible: each side must be 16 to 4096 pixels")
    if width % 2 or height % 2:
        raise argparse.ArgumentTypeError(f"size {width}x{height} must have even sides (H.264 needs them)")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise argparse.ArgumentTypeError(f"size {width}x{height}: one side may be at most {MAX_ASPECT} times the other")
    return width, height


def count(text: str) -> int:
    """A whole number of things, at least one."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"{count}: give at least 1")
    return count


def minutes(text: str) -> float:
    try:
        minutes = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"minutes '{text}' is not a number") from None
    if not 0 < minutes <= 600:
        raise argparse.ArgumentTypeError(f"{minutes} minutes is impossible: use more than 0 and at most 600")
    return minutes


def fps(text: str) -> int:
    try:
        fps = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"fps '{text}' is not a whole number") from None
    if not 1 <= fps <= 120:
        raise argparse.ArgumentTypeError(f"fps {fps} is impossible: use 1 to 120")
    return fps


def seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 0 <= seed < 2**63:
        raise argparse.ArgumentTypeError(f"{seed} is out of range: a seed is 0 to 2**63-1")
    return seed


def byte_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"size '{text}' should look like 500M or 20G")
    return int(float(match.group(1)) * 1024 ** "_kmgt".index(match.group(2) or "_"))
