"""The studio's HTTP API (issue 17): every endpoint, its token, traversal and upload checks."""

import io
import json
import os

import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image
from starlette.testclient import TestClient

from storyteller import Storyteller
from storyteller.core.models import read_plan
from storyteller.studio.server import TOKEN_HEADER, create_app

STORY = (
    "Mia walked to the old lighthouse with her dog Rex. The waves crashed on the rocks below. "
    "Later that night, a storm rolled in over the sea. Rex barked at the thunder."
)


@pytest.fixture
def studio(tmp_path):
    store = tmp_path / "store"

    def teller(reporter):
        return Storyteller(runs_dir=tmp_path, reporter=reporter, executor="serial", cache_dir=store, speaker=None)

    first = teller(None).make(STORY, name="mia", width=64, height=64, fps=8)
    app = create_app(first.run_dir, teller, token="secret-token")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        client.headers[TOKEN_HEADER] = "secret-token"
        yield client, first.run_dir


def plan_of(response):
    assert response.status_code == 200, response.text
    return response.json()["plan"]


def test_the_page_and_the_api_need_the_session_token(studio):
    client, _ = studio
    bare = TestClient(client.app, base_url="http://127.0.0.1")
    assert bare.get("/").status_code == 403
    assert bare.get("/?token=wrong").status_code == 403
    page = bare.get("/?token=secret-token")
    assert page.status_code == 200 and 'content="secret-token"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    # no cookie: one would go to every server on 127.0.0.1, whatever its port, and two studios would share it
    assert not page.cookies and "set-cookie" not in page.headers
    assert page.headers["referrer-policy"] == "no-referrer"
    assert bare.get("/api/plan").status_code == 403
    assert bare.get("/api/plan?token=secret-token").status_code == 200  # reading: the token in the URL will do
    assert bare.get("/media/keyframes/shot_001.png?token=secret-token").status_code == 200
    # changing: the token must come in the header, which another site's page cannot send
    assert bare.post("/api/undo").status_code == 403
    assert bare.post("/api/render", headers={TOKEN_HEADER: "wrong"}).status_code == 403
    fresh = TestClient(client.app, base_url="http://127.0.0.1")
    assert fresh.get("/api/plan").status_code == 403 and fresh.get("/media/keyframes/shot_001.png").status_code == 403
    # a page on another host name (DNS rebinding) is refused before anything is read
    assert client.get("/api/plan", headers={"host": "evil.example"}).status_code == 400


def test_a_shot_is_edited_and_a_bad_edit_is_refused_with_the_plans_own_message(studio):
    client, run_dir = studio
    plan = plan_of(client.post("/api/shots/1", json={"text": "The sea was wild.", "duration": 2.5}))
    assert plan["shots"][1]["text"] == "The sea was wild." and plan["shots"][1]["duration"] == 2.5
    assert all(a["end"] <= 2.5 for a in plan["shots"][1]["graph"]["actions"])  # scaled with the shot
    assert read_plan(run_dir / "plan.json").shots[1].text == "The sea was wild."  # what render reads
    bad = client.post("/api/shots/1", json={"duration": -1})
    assert (
        bad.status_code == 400
        and bad.json()["error"] == "shots.1.duration: Input should be greater than or equal to 0.25"
    )
    bad = client.post("/api/shots/0", json={"characters": ["nobody"]})
    assert "character 'nobody' is not in the plan's characters" in bad.json()["error"]
    assert client.post("/api/shots/99", json={}).status_code == 400
    assert (
        client.post("/api/shots/0", content=b"{not json").json()["error"] == "the request is not JSON a plan could hold"
    )
    assert client.put("/api/plan", json={"title": "x"}).status_code == 400  # a whole plan, validated whole
    whole = plan_of(client.get("/api/plan"))
    whole["title"] = "Mia's day"
    assert plan_of(client.put("/api/plan", json=whole))["title"] == "Mia's day"


def test_add_delete_split_reorder_undo_and_redo(studio):
    client, run_dir = studio
    ids = [s["id"] for s in plan_of(client.get("/api/plan"))["shots"]]
    moved = plan_of(client.post("/api/shots/2/move", json={"to": 0}))
    assert [s["id"] for s in moved["shots"]] == [ids[2], ids[0], ids[1]]
    added = plan_of(client.post("/api/shots/add", json={"after": 0}))
    assert len(added["shots"]) == 4 and added["shots"][1]["text"] == "A new shot."
    split = plan_of(client.post("/api/shots/2/split"))  # one sentence: split at the word nearest the middle
    assert len(split["shots"]) == 5 and len({s["id"] for s in split["shots"]}) == 5
    halves = split["shots"][2:4]
    assert f"{halves[0]['text']} {halves[1]['text']}" == plan_of(client.post("/api/undo"))["shots"][2]["text"]
    assert plan_of(client.post("/api/redo"))["shots"][2] == halves[0]
    deleted = plan_of(client.post("/api/shots/0/delete"))
    assert len(deleted["shots"]) == 4
    for _ in range(4):
        state = client.post("/api/undo").json()["state"]
    assert [s["id"] for s in plan_of(client.get("/api/plan"))["shots"]] == ids and not state["can_undo"]
    assert client.post("/api/undo").json()["error"] == "nothing to undo"
    assert len(list((run_dir / "history").glob("0*.json"))) == 5  # kept in the run directory
    assert client.post("/api/shots/0/move", json={"to": 9}).status_code == 400
    assert client.post("/api/shots/add", json={}).status_code == 400


def test_character_edits_and_a_reference_upload_is_decoded_and_written_again(studio):
    client, run_dir = studio
    character = plan_of(client.get("/api/plan"))["characters"][0]["id"]
    plan = plan_of(client.post(f"/api/characters/{character}", json={"appearance": "a girl in a red coat"}))
    assert plan["characters"][0]["appearance"] == "a girl in a red coat" and plan["characters"][0]["id"] == character
    upload = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(upload, format="JPEG")
    sent = client.post(f"/api/characters/{character}/reference", files={"image": ("me.jpg", upload.getvalue())})
    reference = plan_of(sent)["characters"][0]["reference"]
    assert reference == str(run_dir.resolve() / "references" / f"{character}.png")
    with Image.open(reference) as stored:
        assert stored.format == "PNG" and stored.size == (40, 30)
    not_image = client.post(f"/api/characters/{character}/reference", files={"image": ("x.png", b"<svg/>")})
    assert not_image.json()["error"] == "the upload is not an image that can be read"
    huge = client.post(f"/api/characters/{character}/reference", files={"image": ("x.png", b"0" * (9 << 20))})
    assert huge.status_code == 400 and "bytes" in huge.json()["error"]
    assert client.post("/api/characters/nobody/reference", files={"image": ("a.png", b"")}).status_code == 400
    nobody = client.post("/api/characters/nobody", json={"name": "x"})
    assert nobody.json()["error"] == "no character 'nobody' in the plan"


def test_media_never_leaves_the_run_directory(studio, tmp_path):
    client, run_dir = studio
    assert client.get("/media/keyframes/shot_001.png").headers["content-type"] == "image/png"
    assert client.get(f"/media/{run_dir.name}.mp4").status_code == 200
    (tmp_path / "secret.png").write_bytes(b"outside")
    os.symlink(tmp_path / "secret.png", run_dir / "keyframes" / "link.png")
    for path in (
        "../secret.png",
        "%2e%2e/secret.png",
        "keyframes/../../secret.png",
        "keyframes/%2e%2e/%2e%2e/secret.png",
        str(tmp_path / "secret.png"),
        "keyframes/link.png",
        "plan.json",
        "run.json",
        "history/000001.json",
        ".hidden.png",
        "keyframes\\..\\..\\secret.png",
        "nothing.png",
    ):
        answer = client.get(f"/media/{path}")
        assert answer.status_code == 404 and b"outside" not in answer.content, path


def test_render_runs_once_in_the_background_and_reports_its_progress(studio):
    client, run_dir = studio
    client.post("/api/shots/1", json={"text": "The waves were huge and grey."})
    with client.stream("GET", "/api/events") as events:
        lines = events.iter_lines()
        hello = json.loads(next(line for line in lines if line.startswith("data: "))[6:])
        assert hello["type"] == "hello" and hello["rendering"] is False
        assert client.post("/api/render").status_code == 202
        assert client.post("/api/render").status_code in (202, 409)
        seen = []
        for line in lines:
            if line.startswith("data: "):
                seen.append(json.loads(line[6:]))
                if seen[-1]["type"] == "render" and seen[-1]["state"] in ("done", "error"):
                    break
    assert seen[-1]["state"] == "done", seen[-1]
    assert seen[-1]["rendered"]["keyframes"] == 1 and seen[-1]["rendered"]["segments"] >= 1
    stages = {e["name"] for e in seen if e["type"] == "stage"}
    assert {"keyframes", "animate", "encode"} <= stages
    assert json.loads((run_dir / "run.json").read_text())["rendered"]["keyframes"] == 1


def test_a_second_render_is_refused_while_one_runs(studio):
    client, _ = studio
    studio_state = client.app.state.studio
    studio_state.rendering.set()  # as if one were running
    answer = client.post("/api/render")
    assert answer.status_code == 409 and answer.json()["error"] == "a render is already running"
    assert client.post("/api/export").status_code == 409
    studio_state.rendering.clear()


def test_export_writes_an_otio_timeline_into_the_run_directory(studio):
    client, run_dir = studio
    answer = client.post("/api/export")
    assert answer.status_code == 200, answer.text
    timeline = otio.adapters.read_from_file(str(run_dir / answer.json()["path"]))
    plan = read_plan(run_dir / "plan.json")
    assert [c.name for c in timeline.find_clips()] == [s.id for s in plan.shots]
    assert timeline.video_tracks()[0].duration().value == plan.total_frames
    # the export is done when its answer comes (the shots' media made in the request): no render left running
    assert client.get("/api/plan").json()["state"]["rendering"] is False


def test_without_the_extra_or_on_another_address_the_studio_says_so_in_one_line(monkeypatch, tmp_path, capsys):
    import storyteller.studio as studio_package
    from storyteller.cli import main
    from storyteller.core.errors import StorytellerError

    def missing(name):
        raise ImportError("No module named 'starlette'", name="starlette")

    with monkeypatch.context() as patch:
        patch.setattr(studio_package, "import_module", missing)
        with pytest.raises(StorytellerError, match=r"the studio needs starlette: pip install 'storyteller\[studio\]'"):
            studio_package.load_server()
    assert main(["studio", str(tmp_path), "--host", "0.0.0.0", "--no-browser"]) == 2
    assert main(["studio", str(tmp_path), "--no-browser"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert "add --allow-remote" in errors[0] and "no plan.json here" in errors[1] and len(errors) == 2


def test_a_plan_changed_by_hand_while_the_studio_was_closed_is_a_version_of_its_own(studio):
    client, run_dir = studio
    client.post("/api/shots/0", json={"text": "Mia ran."})
    plan = read_plan(run_dir / "plan.json")
    (run_dir / "plan.json").write_text(plan.model_copy(update={"title": "By hand"}).model_dump_json())
    reopened = create_app(run_dir, lambda reporter: None, token="t")
    assert reopened.state.studio.plan().title == "By hand" and reopened.state.studio.plan().shots[0].text == "Mia ran."
    assert reopened.state.studio.state()["can_undo"]


def test_who_is_in_a_shot_and_its_scene_graph_stay_in_step(studio):
    client, _ = studio
    plan = plan_of(client.get("/api/plan"))
    ids = {c["id"]: c["kind"] for c in plan["characters"]}
    first, second = list(ids)[:2]
    shot = plan_of(client.post("/api/shots/1", json={"characters": [first]}))["shots"][1]
    assert {"id": first, "label": ids[first], "attributes": []} in shot["graph"]["entities"]  # drawn now
    shot = plan_of(client.post("/api/shots/0", json={"characters": [second]}))["shots"][0]
    entities = {e["id"] for e in shot["graph"]["entities"]}
    assert first not in entities and second in entities
    assert all(first not in (a["agent"], a["object"]) for a in shot["graph"]["actions"])
    added = plan_of(client.post("/api/shots/add", json={"after": 0}))["shots"][1]
    assert {e["id"] for e in added["graph"]["entities"]} == set(added["characters"]) == {second}


# --- the studio trusts nothing the client sends (issue 25) -------------------------------------------


def test_a_reference_image_is_uploaded_never_named_by_a_path_outside_the_run(studio):
    client, run_dir = studio
    character = read_plan(run_dir / "plan.json").characters[0].id
    answer = client.post(f"/api/characters/{character}", json={"reference": "/etc/shadow"})
    assert answer.status_code == 400 and "uploaded, not named by path" in answer.json()["error"]
    whole = plan_of(client.get("/api/plan"))
    whole["characters"][0]["reference"] = "../../../etc/passwd"
    assert client.put("/api/plan", json=whole).status_code == 400
    assert read_plan(run_dir / "plan.json").characters[0].reference is None


def test_a_body_is_read_no_further_than_the_limit_whatever_its_headers_say(studio):
    """On a real server: a chunked 300 MB body that never says its length is refused at the limit, the
    connection closed, not read whole first."""
    import http.client
    import socket
    import threading

    import uvicorn

    client, _ = studio
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(client.app, log_level="critical"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.05)
    connection = http.client.HTTPConnection("127.0.0.1", sock.getsockname()[1], timeout=60)
    sent = 0
    try:
        connection.putrequest("PUT", "/api/plan")
        connection.putheader(TOKEN_HEADER, "secret-token")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        chunk = b"[" * (1 << 20)
        for _ in range(300):
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading, and closed the connection
    finally:
        connection.close()
        server.should_exit = True
        thread.join(10)
    assert sent < 100 << 20  # refused at 20 MB (what sockets had buffered besides), never 300 MB


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/plan", b"[" * 200_000 + b"]" * 200_000),  # nested deeper than any plan
        ("/api/shots/0", json.dumps({"graph": {"actions": 5}}).encode()),
        ("/api/shots/0", json.dumps({"characters": [["mia"]]}).encode()),
        ("/api/shots/0", json.dumps({"duration": "4.17"}).encode()),
        ("/api/shots/add", json.dumps({"after": -50}).encode()),
        ("/api/shots/add", json.dumps({"after": True}).encode()),
        ("/api/shots/0/move", json.dumps({"to": 1e300}).encode()),
    ],
)
def test_a_body_of_a_shape_no_endpoint_takes_is_a_400_in_one_line(studio, path, body):
    client, run_dir = studio
    before = (run_dir / "plan.json").read_text()
    method = client.put if path == "/api/plan" else client.post
    answer = method(path, content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert "\n" not in answer.json()["error"]
    assert (run_dir / "plan.json").read_text() == before


def test_an_edit_made_while_a_render_runs_is_kept_when_it_finishes(tmp_path):
    import threading

    from generators.animatic import AnimaticKeyframes

    started, go_on = threading.Event(), threading.Event()

    class Waiting(AnimaticKeyframes):  # the animatic's keyframes, drawn once the test says so
        def keyframe(self, shot, plan, progress=None):
            started.set()
            go_on.wait(60)
            return super().keyframe(shot, plan, progress)

    def teller(reporter, keyframe="animatic"):
        return Storyteller(
            runs_dir=tmp_path, reporter=reporter, executor="serial", speaker=None, keyframe=keyframe,
            cache_dir=tmp_path / "store",
        )  # fmt: skip

    first = teller(None).make(STORY, name="mia", width=64, height=64, fps=8)
    app = create_app(first.run_dir, lambda reporter: teller(reporter, Waiting()), token="t")
    with TestClient(app, base_url="http://127.0.0.1", headers={TOKEN_HEADER: "t"}) as client:
        plan = plan_of(client.get("/api/plan"))
        plan["shots"][0]["text"] = "Mia ran to the old lighthouse."  # a keyframe to draw
        plan_of(client.put("/api/plan", json=plan))
        assert client.post("/api/render").status_code == 202
        assert started.wait(60)
        plan_of(client.post("/api/shots/1", json={"text": "The waves were grey."}))  # while it draws
        go_on.set()
        studio = app.state.studio
        for _ in range(600):
            if not studio.rendering.is_set():
                break
            threading.Event().wait(0.1)
        assert studio.last_render["state"] == "done" and "edited during the render" in studio.last_render["note"]
        kept = plan_of(client.get("/api/plan"))
    assert kept["shots"][1]["text"] == "The waves were grey."
    assert read_plan(first.run_dir / "plan.json").shots[1].text == "The waves were grey."


def test_a_shot_pins_an_uploaded_first_and_last_frame_and_unpins_them(studio):
    client, run_dir = studio
    upload = io.BytesIO()
    Image.new("RGB", (80, 40), (30, 200, 30)).save(upload, format="PNG")
    shot = read_plan(run_dir / "plan.json").shots[1]
    plan = plan_of(client.post("/api/shots/1/pin/keyframe", files={"image": ("green.png", upload.getvalue())}))
    pinned = run_dir.resolve() / "pinned" / f"{shot.id}-keyframe.png"
    assert plan["shots"][1]["keyframe"] == str(pinned) and pinned.is_file()
    assert client.get(f"/media/pinned/{pinned.name}").status_code == 200  # the page shows it
    plan = plan_of(client.post("/api/shots/1/pin/last_frame", files={"image": ("g.png", upload.getvalue())}))
    assert plan["shots"][1]["last_frame"].endswith(f"{shot.id}-last_frame.png")
    # the render draws no keyframe for the pinned shot: it is read; its clip is drawn again
    with client.stream("GET", "/api/events") as events:
        lines = events.iter_lines()
        assert client.post("/api/render").status_code == 202
        done = next(json.loads(x[6:]) for x in lines if x.startswith("data: ") and '"state": "done"' in x)
    assert done["rendered"]["keyframes"] == 0 and done["rendered"]["segments"] >= 1
    with Image.open(run_dir / "keyframes" / f"{shot.id}.png") as shown:
        assert np.abs(np.asarray(shown.convert("RGB")).astype(int) - [30, 200, 30]).max() <= 1
    # a path is never taken from the page, only an upload; an empty form unpins
    refused = client.post("/api/shots/1", json={"keyframe": "/etc/passwd"})
    assert refused.status_code == 400 and "uploaded, not named by path" in refused.json()["error"]
    assert client.post("/api/shots/1/pin/poster", files={"image": ("g.png", upload.getvalue())}).status_code == 400
    plan = plan_of(client.post("/api/shots/1/pin/keyframe", data={}))
    assert plan["shots"][1]["keyframe"] is None and plan["shots"][1]["last_frame"] is not None
