"""The `storyteller` command. Bad input is one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import signal
import stat
import sys
import traceback
import webbrowser
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from generators import ANIMATORS, KEYFRAME_GENERATORS
from generators.diffusion import Preset, best_fit, presets
from generators.diffusion import preset as find_preset
from generators.diffusion.runtime import gpu_memory_gb
from planners import PLANNERS, shot_lists
from planners.llm import LLMPlanner
from retrieval import RETRIEVERS
from retrieval.demo import build as build_demo_clips
from retrieval.library import Library
from retrieval.retriever import LibraryRetriever
from stitching.extras import read_cues
from stitching.fill import AUTO, FillSettings
from stitching.metrics import evaluate_sound, evaluate_video
from storyteller.arguments import DEFAULT_LIBRARY, EXIT_BAD_INPUT, build_parser
from storyteller.core.backend import Planner
from storyteller.core.cache import Cache, atomic_write_text, user_store
from storyteller.core.errors import StorytellerError, printable
from storyteller.core.models import PlanConfig, StoryPlan, read_plan
from storyteller.core.outputs import check_film_output, check_output, safe_name
from storyteller.core.progress import PlainReporter, QuietReporter, Reporter, RichReporter, note
from storyteller.core.video_io import frame_count
from storyteller.export import export
from storyteller.pipeline import RunResult, Storyteller
from storyteller.settings import RenderSettings
from storyteller.studio import load_server

MAX_STORY_BYTES = 8_000_000  # a story file past this is a mistake (the planner takes 2,000,000 characters)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _terminated)  # SIGTERM is answered like Ctrl-C
    debug = args.debug or os.environ.get("STORYTELLER_DEBUG", "") not in ("", "0")
    try:
        return COMMANDS[args.command](args)
    except StorytellerError as error:
        print(f"storyteller: error: {error}", file=sys.stderr)
        _traceback(debug)
        return EXIT_BAD_INPUT
    except OSError as error:  # a full disk, a read-only or blocked directory: finished work stays cached
        where = f"{error.filename}: " if error.filename else ""
        print(f"storyteller: error: {where}{error.strerror or error}", file=sys.stderr)
        _traceback(debug)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("storyteller: interrupted; finished work is kept in the run directory", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


def _traceback(debug: bool) -> None:
    """For a maintainer (--debug): where the one-line error came from."""
    if debug:
        traceback.print_exc(file=sys.stderr)


def _terminated(signum: int, frame: Any) -> NoReturn:
    raise KeyboardInterrupt


def read_story(path: Path) -> str:
    """The story's text, checked before it is read: a regular file of at most MAX_STORY_BYTES, UTF-8 with no
    NUL bytes. A device or a pipe is refused, never drained."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise StorytellerError(f"{path}: no such file") from None
    except OSError as error:
        raise StorytellerError(f"{path}: cannot read ({error.strerror})") from None
    if stat.S_ISDIR(info.st_mode):
        raise StorytellerError(f"{path}: is a directory, not a story file")
    if not stat.S_ISREG(info.st_mode):
        raise StorytellerError(f"{path}: not a regular file (a device, pipe or socket); give a story file")
    if info.st_size > MAX_STORY_BYTES:
        raise StorytellerError(f"{path}: {info.st_size:,} bytes; a story may have {MAX_STORY_BYTES:,} at most")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_STORY_BYTES + 1)  # the file may have grown since stat
    except OSError as error:
        raise StorytellerError(f"{path}: cannot read ({error.strerror})") from None
    if len(data) > MAX_STORY_BYTES:
        raise StorytellerError(f"{path}: more than {MAX_STORY_BYTES:,} bytes; a story may have no more")
    text = _decode_story(path, data)
    if not text.strip():
        raise StorytellerError(f"{path}: the story is empty")
    return text


def _decode_story(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise StorytellerError(f"{path}: not UTF-8 text (it starts with a UTF-16 byte-order mark); save it as UTF-8")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise StorytellerError(
            f"{path}: not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start}); save it as UTF-8"
        ) from None
    if "\x00" in text:  # UTF-16 without its mark, or a binary file: NULs must not reach plans or subtitles
        offset = text.index("\x00")
        raise StorytellerError(f"{path}: not UTF-8 text (a NUL byte at offset {offset}: UTF-16?); save it as UTF-8")
    return text


def _make(args: argparse.Namespace) -> int:
    story = read_story(args.story)
    if args.output is not None:  # before any work (loading models): a wrong -o costs nothing
        check_film_output(
            args.output, inputs=[args.story], overwrite=args.overwrite, run_dir=args.runs / _run_name(args.story)
        )
    with _Progress(args.quiet) as reporter:
        teller = _storyteller(args, reporter, runs_dir=args.runs, planner=_planner(args, args.story))
        output = {"output": args.output, "overwrite": args.overwrite, "inputs": [args.story]}
        result = _make_story(teller, story, _run_name(args.story), args, **output)
    _summary(result, args.quiet, teller.planner.stats)
    return 0


def _make_story(teller: Storyteller, story: str, name: str, args: argparse.Namespace, **output: Any) -> RunResult:
    """`teller.make` with the look options (size, fps, seed, minutes) as the command line gave them."""
    width, height = args.size
    config = {"seed": args.seed, "fps": args.fps, "width": width, "height": height, "minutes": args.minutes}
    return teller.make(story, name=name, **output, **config)


def _plan(args: argparse.Namespace) -> int:
    story = read_story(args.story)
    if args.output is not None:
        check_output(args.output, inputs=[args.story], overwrite=args.overwrite)
    width, height = args.size
    name = _run_name(args.story)
    config = PlanConfig(
        title=name,
        seed=args.seed,
        fps=args.fps,
        width=width,
        height=height,
        minutes=args.minutes,
        cache_dir=user_store(),
    )
    teller = Storyteller(planner=_planner(args, args.story), executor="serial")
    plan = teller.plan(story, config)
    if args.output is None:
        print(plan.model_dump_json(indent=2))
    else:
        # the file the user named (checked above: replaced only with -y), no run's versions beside it
        atomic_write_text(args.output, plan.model_dump_json(indent=2))
        print(f"wrote {args.output}: {len(plan.shots)} shots, {plan.duration:.1f}s", file=sys.stderr)
    if teller.planner.stats is not None:
        print(_model_line(teller.planner.stats), file=sys.stderr)
    return 0


def _planner(args: argparse.Namespace, story: Path) -> Planner:
    """--llm, else --planner, else by the story's extension."""
    if args.llm:
        return LLMPlanner.from_spec(args.llm, fallback=args.fallback)
    default = "fountain" if story.suffix.lower() == ".fountain" else "heuristic"
    name = args.planner or default
    return PLANNERS.create(name, shots=args.shots) if name == "heuristic" else PLANNERS.create(name)


def _model_line(stats: Any) -> str:
    tokens = f", {stats.tokens_in} tokens in, {stats.tokens_out} out" if stats.tokens_in or stats.tokens_out else ""
    return f"model: {stats.calls} calls{tokens}, {stats.cache_hits} cache hits"


def _is_shot_list(path: Path) -> bool:
    """Whether a .json file is another tool's shot list (a story to plan), not a plan.json."""
    return path.is_file() and shot_lists.read(read_story(path)) is not None


def _render(args: argparse.Namespace) -> int:
    if args.plan.suffix == ".json" and _is_shot_list(args.plan):
        raise StorytellerError(f"{args.plan} is a shot list to plan, not a plan: storyteller make {args.plan}")
    plan = read_plan(args.plan)
    run_dir = args.run_dir or _run_dir_of(args.plan, plan, args.runs)
    with _Progress(args.quiet) as reporter:
        teller = _storyteller(args, reporter, runs_dir=run_dir.parent)
        result = teller.render(plan, run_dir, args.output, overwrite=args.overwrite, inputs=[args.plan])
    _summary(result, args.quiet)
    return 0


def _export(args: argparse.Namespace) -> int:
    targets = [t for t in (args.otio, args.edl, args.fcpxml) if t is not None]
    if not targets:
        raise StorytellerError("export needs at least one of --otio FILE, --edl FILE, --fcpxml FILE")
    for target, suffix in ((args.edl, ".edl"), (args.fcpxml, ".xml"), (args.otio, ".otio")):
        if target is not None and target.suffix != suffix:
            raise StorytellerError(f"{target}: should end in {suffix}")
    with _Progress(args.quiet) as reporter:
        teller = _storyteller(args, reporter, runs_dir=args.run.parent)
        written = export(teller, args.run, targets, overwrite=args.overwrite)
    if not args.quiet:
        for path in written:
            print(f"wrote {printable(str(path))}")
    return 0


def _studio(args: argparse.Namespace) -> int:
    loopback = args.host in ("127.0.0.1", "localhost", "::1")
    if not loopback and not args.allow_remote:
        raise StorytellerError(f"--host {args.host} would let other machines edit this run: add --allow-remote")
    if not 0 <= args.port <= 65535:
        raise StorytellerError(f"--port {args.port}: a port is 0 to 65535")
    server = load_server()  # before any work: a missing extra costs nothing
    # a story is made and a plan rendered first (the cache makes that quick when nothing changed); a run
    # directory is rendered only if it never was
    target, story, plan = args.target, None, None
    if target.is_dir():
        run_dir = target
        if not (run_dir / "plan.json").is_file():
            raise StorytellerError(f"{run_dir}: no plan.json here; give a run directory, a story or a plan")
        if not (run_dir / "run.json").is_file():
            plan = read_plan(run_dir / "plan.json")
    elif target.suffix == ".json" and not _is_shot_list(target):
        plan = read_plan(target)
        run_dir = _run_dir_of(target, plan, args.runs)
    else:
        story, run_dir = read_story(target), args.runs / _run_name(target)
    if story is not None or plan is not None:
        with _Progress(args.quiet) as reporter:
            teller = _storyteller(args, reporter, runs_dir=run_dir.parent, planner=_planner(args, target))
            if story is not None:
                _make_story(teller, story, run_dir.name, args)
            elif plan is not None:
                teller.render(plan, run_dir)
    if not loopback:
        print(
            f"storyteller: warning: the studio listens on {args.host}: anyone who can reach it and has the URL can edit"
        )
    hosts = ("127.0.0.1", "localhost", "::1", args.host)
    terminal = QuietReporter() if args.quiet else PlainReporter()
    make_teller = functools.partial(_storyteller, args, runs_dir=run_dir.parent)  # given each render's reporter
    app = server.create_app(run_dir, make_teller, terminal=terminal, hosts=hosts)

    def ready(url: str) -> None:
        print(f"storyteller studio: {url}", flush=True)
        print("(Ctrl-C to stop)", flush=True)
        if not args.no_browser:
            webbrowser.open(url)

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops the studio; the run directory stays as it is
        server.serve(app, args.host, args.port, ready)
    return 0


def _run_dir_of(path: Path, plan: StoryPlan, runs: Path) -> Path:
    """A run directory's own plan.json renders there; any other plan into RUNS/<its title>, never beside it
    (the cache is shared, so every identical shot is reused wherever the plan is)."""
    home = path.resolve().parent
    if path.name == "plan.json" and (home / "run.json").is_file():
        return home
    return runs / safe_name(plan.title)


def _cache(args: argparse.Namespace) -> int:
    cache = Cache(user_store())
    if args.action == "prune":
        cache.sweep()
        removed, freed = cache.prune(args.cache_size)
        print(f"{cache.root}: removed {removed} entries, freed {freed / 2**20:.1f} MiB")
    table = Table(title=f"storyteller cache: {printable(str(cache.root))}")
    for column, justify in (("stage", "left"), ("entries", "right"), ("size", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    sizes: dict[str, list[int]] = {}
    for entry in cache.entries():
        counted = sizes.setdefault(entry.stage, [0, 0])
        counted[0] += 1
        counted[1] += entry.size
    for stage, (count, size) in sorted(sizes.items()):
        table.add_row(stage, str(count), f"{size / 2**20:.1f} MiB")
    total = sum(size for _, size in sizes.values())
    table.add_row("all", str(sum(count for count, _ in sizes.values())), f"{total / 2**20:.1f} MiB")
    table.caption = (
        f"cap {args.cache_size / 2**30:.1f} GiB (--cache-size); held by running renders: {len(cache.leased())}"
    )
    Console().print(table)
    return 0


def _backends(args: argparse.Namespace) -> int:
    table = Table(title="storyteller backends")
    table.add_column("stage")
    table.add_column("option")
    table.add_column("backends")
    for stage, option, registry in (
        ("plan", "--planner", PLANNERS),
        ("retrieve", "--library", RETRIEVERS),
        ("keyframe", "--keyframe", KEYFRAME_GENERATORS),
        ("animate", "--animator", ANIMATORS),
    ):
        table.add_row(stage, option, ", ".join(registry.names()) or "-")
    Console().print(table)
    return 0


def _schema(args: argparse.Namespace) -> int:
    print(json.dumps(StoryPlan.model_json_schema(), indent=2))
    return 0


def _storyteller(
    args: argparse.Namespace, reporter: Reporter, runs_dir: Path, planner: Planner | None = None
) -> Storyteller:
    """The Storyteller the command line asks for: its backends, and its settings (`render_settings`)."""
    preset = _preset(args)
    return Storyteller(
        planner=planner or "heuristic",
        keyframe=_generator(KEYFRAME_GENERATORS, args.keyframe, preset.keyframe if preset else None, args),
        animator=_generator(ANIMATORS, args.animator, preset.animator if preset else None, args),
        retriever=_retriever(args),
        speaker=None if args.no_audio else args.voice,
        settings=render_settings(args),
        executor=args.executor,
        runs_dir=runs_dir,
        reporter=reporter,
    )


def render_settings(args: argparse.Namespace) -> RenderSettings:
    """The render settings the flags give (each flag's default is RenderSettings' own)."""
    return RenderSettings(
        fill=_fill(args),
        colour_match=args.colour_match,
        deflicker=args.deflicker,
        character_memory=not args.no_character_memory,
        quality=args.quality,
        narration=args.narration,
        ambience=not args.no_ambience,
        music=args.music,
        language=args.language,
        workers=args.workers,
        cache_size=args.cache_size,
    )


def _fill(args: argparse.Namespace) -> FillSettings | str | None:
    if args.stride < 1 or args.depth < 1:
        raise StorytellerError(f"--stride and --depth must be at least 1 (got {args.stride} and {args.depth})")
    if args.fill == "none" or args.stride == 1:
        return None
    if args.fill == AUTO:
        return (
            AUTO
            if (args.stride, args.depth) == (FillSettings.stride, FillSettings.depth)
            else FillSettings(stride=args.stride, depth=args.depth)
        )
    return FillSettings(infill=args.fill, stride=args.stride, depth=args.depth)


def _preset(args: argparse.Namespace) -> Preset | None:
    """--preset NAME, or with `auto` the best that fits this machine's GPU (said once, on stderr)."""
    if args.preset != "auto":
        return find_preset(args.preset) if args.preset else None
    choice = best_fit(gpu_memory_gb())
    note(f"--preset auto: {choice.reason}")
    if choice.low_memory:
        args.low_memory = True
    return choice.preset


def _generator(registry: Any, spec: str | None, preset: dict[str, Any] | None, args: argparse.Namespace) -> Any:
    """--keyframe / --animator by name, else the preset's stage, else the animatic; each given the machine's
    settings its kind takes (a diffusion model's device and memory savers, the ComfyUI server's address)."""
    machine = {
        "diffusers": {"device": args.device, "low_memory": args.low_memory},
        "comfyui": {"url": args.comfyui_url},
    }
    if spec:
        return registry.create(spec, **machine.get(spec.partition(":")[0], {}))
    if preset:
        settings = dict(preset)
        kind = settings.pop("backend", "diffusers")
        return registry.create(kind, **settings, **machine.get(kind, {}))
    return registry.create("animatic")


def _presets(args: argparse.Namespace) -> int:
    for preset in presets().values():
        video = preset.animator
        gpu, low = preset.memory_gb
        print(f"{preset.name:<20} GPU {gpu:g} GB ({low:g} GB with --low-memory)")
        print(f"  keyframe  {preset.keyframe['model']}")
        print(f"  video     {video['model']}  ({video.get('frames', '?')} frames at {video.get('fps', '?')} fps)")
        print(f"  {preset.description}\n")
    print("storyteller make story.txt --preset NAME   (models download on first use, or: huggingface-cli download ID)")
    print("storyteller make story.txt --preset auto   (the best preset this GPU fits)")
    return 0


def _eval(args: argparse.Namespace) -> int:
    if not args.video.is_file():
        raise StorytellerError(f"no video at {args.video}")
    plan_path = args.plan or (args.video.parent / "plan.json")
    plan = read_plan(plan_path) if (args.plan or plan_path.is_file()) else None
    every = args.every or max(1, (plan.total_frames if plan else frame_count(args.video)) // 300)
    try:
        scores = evaluate_video(args.video, plan, smoothness_every=max(1, every), clip_model=args.clip)
    except ValueError as error:
        raise StorytellerError(f"{args.video}: {error}") from None
    if plan is not None and scores.frames != plan.total_frames:
        raise StorytellerError(
            f"{args.video} has {scores.frames} frames but {plan_path} plans {plan.total_frames}: not its plan"
        )
    subtitles = next(
        (p for p in (args.video.with_suffix(".srt"), args.video.parent / "story.srt") if p.is_file()), None
    )
    sound = evaluate_sound(args.video, read_cues(subtitles) if subtitles else None)
    if args.json:
        print(json.dumps({**scores.as_dict(), "sound": sound.as_dict() if sound else None}, indent=2))
        return 0
    table = Table(title=f"{args.video.name}: {scores.frames} frames", show_header=True)
    table.add_column("metric")
    table.add_column("score", justify="right")
    table.add_column("what it measures")
    rows = [
        ("temporal flickering", scores.flicker, "1 - mean change between consecutive frames"),
        ("motion smoothness", scores.smoothness, "1 - error of each frame rebuilt by flow from its neighbours"),
        ("shot-boundary continuity", scores.continuity, "1 - change across each cut (needs the plan)"),
        ("colour stability", scores.colour_stability, "1 - drift of each shot's mean colour"),
        ("CLIP text alignment", scores.clip, "middle frame vs prompt, cosine (needs --clip)"),
    ]
    for name, value, meaning in rows:
        table.add_row(name, "-" if value is None else f"{value:.4f}", meaning)
    if sound is not None:
        for name, said, meaning in (
            ("integrated loudness", f"{sound.loudness:.1f} LUFS", "ITU-R BS.1770, gated (target -16)"),
            ("true peak", f"{sound.true_peak:.1f} dBFS", "4x oversampled (target under -1)"),
            ("speech in its windows", _share(sound.speech_share), "mean share of each line's subtitle time"),
            ("least speech in a window", _share(sound.speech_share_min), "the line with the least"),
            ("audio - video length", f"{sound.av_difference * 1000:+.0f} ms", "at most one frame apart"),
        ):
            table.add_row(name, said, meaning)
    Console().print(table)
    return 0


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _retriever(args: argparse.Namespace) -> LibraryRetriever | None:
    """--library PATH; else ./library when it holds a library; --no-library: none."""
    if args.no_library:
        return None
    path = args.library or (DEFAULT_LIBRARY if (DEFAULT_LIBRARY / "library.sqlite").exists() else None)
    if path is None:
        return None
    return LibraryRetriever(path)


def _index(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    library = Library(args.library, embedder=args.embedder, depth_model=args.depth_model)
    with console.status(f"indexing {args.folder}") as status:
        report = library.index_folder(
            args.folder, args.manifest, progress=lambda name: status.update(f"indexed {name}")
        )
    print(
        f"{args.library}: {report.added} videos added ({report.clips} clips), {report.unchanged} unchanged, "
        f"{report.removed} removed, {report.skipped} skipped as unreadable; {len(library)} clips in all"
    )
    for name in report.skipped_files or []:
        print(f"  skipped: {name}")
    return 0


def _search(args: argparse.Namespace) -> int:
    hits = Library.open_existing(args.library).search(args.text, k=args.k)
    table = Table(title=f"clips for: {args.text}")
    for column in ("score", "caption", "duration", "motion", "path"):
        table.add_column(column)
    for hit in hits:
        where = f"{hit.path}" + (f" @{hit.start:.1f}s" if hit.start else "")
        table.add_row(f"{hit.score:.3f}", hit.caption, f"{hit.duration:.1f}s", f"{hit.motion_score:.3f}", where)
    Console(width=max(120, Console().width)).print(table)
    return 0


def _library(args: argparse.Namespace) -> int:
    clips = build_demo_clips(args.library / "demo_clips")
    report = Library(args.library).index_folder(args.library / "demo_clips")
    print(
        f"{args.library}: {len(clips)} demo clips ({report.added} newly indexed); try: storyteller search 'a dog runs'"
    )
    return 0


def _run_name(path: Path) -> str:
    """The run's folder name, from the story's file name ('...txt' is not '..', '.txt' is not hidden)."""
    return safe_name(path.stem)


class _Progress:
    """Rich bars on a terminal, a plain log in a pipe, nothing with --quiet."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.rich: RichReporter | None = None

    def __enter__(self) -> Reporter:
        if self.quiet:
            return QuietReporter()
        if sys.stdout.isatty():
            self.rich = RichReporter()
            return self.rich.__enter__()
        return PlainReporter()

    def __exit__(self, *exc: object) -> None:
        if self.rich is not None:
            self.rich.__exit__(*exc)


def _summary(result: RunResult, quiet: bool, model_stats: Any = None) -> None:
    if quiet:
        return

    def shown(text: object) -> str:  # the user's own text: no terminal escapes, no rich markup
        return escape(printable(str(text)))

    plan = result.plan
    table = Table(title=f"storyteller: {shown(plan.title)}", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("shots", str(len(plan.shots)))
    table.add_row(
        "video", f"{plan.duration:.1f}s, {plan.total_frames} frames, {plan.width}x{plan.height} @ {plan.fps} fps"
    )
    table.add_row("time", ", ".join(f"{stage} {sec:.1f}s" for stage, sec in result.seconds.items()))
    hits = sum(result.cache_hits.values())
    made = ", ".join(f"{n} {what}" for what, n in result.rendered.items())
    table.add_row("cache", f"{hits} hits; rendered {made}")
    fill = result.fill
    why = f" (auto: {fill['reason']})" if fill.get("mode") == "auto" else ""
    table.add_row("fill", f"{fill.get('used', '-')}{why}")
    for stage, ran_at in result.models.items():
        table.add_row(stage, shown(ran_at))
    if model_stats is not None:
        table.add_row("planner", _model_line(model_stats))
    table.add_row("video file", shown(result.video))
    table.add_row("subtitles", shown(result.subtitles))
    table.add_row("contact sheet", shown(result.contact_sheet))
    table.add_row("plan", shown(result.plan_path))
    Console(width=max(100, Console().width)).print(table)


COMMANDS = {
    "make": _make,
    "plan": _plan,
    "render": _render,
    "index": _index,
    "search": _search,
    "library": _library,
    "backends": _backends,
    "schema": _schema,
    "presets": _presets,
    "eval": _eval,
    "cache": _cache,
    "export": _export,
    "studio": _studio,
}


if __name__ == "__main__":
    raise SystemExit(main())
