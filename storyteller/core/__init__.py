"""The ground floor: what every stage and the orchestrator share, importing nothing of the project above it.

models      the plan: StoryPlan, Shot, SceneGraph ... (editable JSON)
errors      StorytellerError: the one-line error every bad input gets
registry    backends registered by name, and through entry points
backend     the base every stage backend extends: its optional capabilities and their defaults
cache       the content-addressed store, crash-safe publishing
progress    reporters (rich, plain, quiet)
executors   where the work runs: serial, local processes, Ray
lexicon     word lists shared by the planners and the animatic
embedding   the offline sentence embedder
video_io    streaming video read/write, frame blending
files       file digests and checked local inputs
outputs     what a run may overwrite
"""
