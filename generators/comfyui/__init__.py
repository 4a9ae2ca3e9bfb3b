"""Keyframes and clips from the user's own ComfyUI server and workflow (`--keyframe comfyui:WORKFLOW.json`,
`--animator comfyui:WORKFLOW.json`, `--comfyui-url`): the models, LoRAs and low-memory loaders people already
run there, driven shot by shot from the plan.

Each shot's job is keyed by the workflow's content and the values filled into it (they come from the shot and
the plan, which key it already), so resume, edit-one-shot and the shared cache work as with any backend: a
render whose shots are all cached never contacts the server.
"""
