"""The studio in a real browser (issue 17): headless Chromium (Debian's package) driven by Playwright, against
`storyteller studio` started as a user starts it."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from storyteller import Storyteller
from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    if os.environ.get("STORYTELLER_BROWSER_TESTS") == "required":  # CI installs it: never skip there
        raise RuntimeError("the browser tests need Chromium (apt-get install chromium)")
    pytest.skip("no Chromium here (apt-get install chromium)", allow_module_level=True)

STORY = (
    "Mia walked to the old lighthouse with her dog Rex. The waves crashed on the rocks below. "
    "Later that night, a storm rolled in over the sea. Rex barked at the thunder."
)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def studio(tmp_path):
    """A rendered run, and `storyteller studio` serving it (its URL, the run directory)."""
    store = tmp_path / "store"
    teller = Storyteller(runs_dir=tmp_path / "runs", executor="serial", cache_dir=store, speaker=None)
    run = teller.make(STORY, name="mia", width=64, height=64, fps=8)
    env = {**os.environ, "STORYTELLER_CACHE": str(store), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "storyteller", "studio", str(run.run_dir), "--no-browser"]
    command += ["--executor", "serial", "--no-audio", "--quiet"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+/\?token=\S+", line)
        assert found, line + server.stderr.read()
        yield found.group(0), run.run_dir
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_edit_a_shot_render_only_it_reorder_and_undo_in_the_browser(studio, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, run_dir = studio
    keyframe = run_dir / "keyframes" / "shot_002.png"
    before = {"keyframe": digest(keyframe), "film": json.loads((run_dir / "run.json").read_text())["video_sha256"]}
    artifacts = Path(os.environ.get("STORYTELLER_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        cards = page.locator("#storyboard .card")
        expect(cards).to_have_count(3)
        halves = [0.5, 1.5, 2.5, 48.5, 49.5, 2.4, 2.6]  # the page counts frames as the render does (round half even)
        assert page.evaluate(f"{halves}.map(pyRound)") == [round(x) for x in halves]
        # 1. the second shot, edited in the form: its text and its length
        cards.nth(1).click()
        expect(page.locator("#shot-number")).to_have_text("#2")
        page.fill("#shot-editor textarea[name=text]", "The grey waves crashed on the black rocks.")
        page.fill("#shot-editor input[name=duration]", "2.5")
        page.click("#save-shot")
        expect(page.locator("#message")).to_have_text("Saved shot #2.")
        expect(cards.nth(1).locator(".facts")).to_contain_text("2.5s")
        # 2. rendered in the background, the progress on the page, until it is done
        page.click("#render")
        expect(page.locator("body")).to_have_attribute("data-render", "done", timeout=120_000)
        expect(page.locator("#message")).to_contain_text("Rendered:")
        page.screenshot(path=str(artifacts / "studio.png"))
        # 3. reorder: the third shot moved up; then undo puts it back
        cards.nth(2).click()
        page.click("#up")
        expect(cards.nth(1)).to_have_attribute("data-shot", "shot_003")
        page.click("#undo")
        expect(cards.nth(1)).to_have_attribute("data-shot", "shot_002")
        expect(cards.nth(1).locator(".text")).to_have_text("The grey waves crashed on the black rocks.")
        assert errors == []
        browser.close()
    record = json.loads((run_dir / "run.json").read_text())
    # that shot alone: its keyframe, its segment (and the next one's, where a transition blends the two)
    assert record["rendered"]["keyframes"] == 1 and 1 <= record["rendered"]["segments"] <= 2
    assert digest(keyframe) != before["keyframe"] and record["video_sha256"] != before["film"]
    plan = json.loads((run_dir / "plan.json").read_text())
    assert plan["shots"][1]["duration"] == 2.5 and plan["shots"][1]["text"].startswith("The grey waves")
    assert (artifacts / "studio.png").stat().st_size > 10_000
