"""The LLM planner with scripted models: no network, real langchain message and tool-call types."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from planners import PLANNERS
from planners.heuristic import HeuristicPlanner
from planners.llm import LLMPlanner
from planners.llm.planner import chunks
from storyteller.core.errors import StorytellerError
from storyteller.core.models import PlanConfig

STORY = "A cute golden hamster throwing punches wearing boxing gloves in a boxing ring. The crowd cheered."
HAMSTER_LOOKS = "a cute golden hamster wearing red boxing gloves"


def outline(events=None, characters=None, **extra) -> dict:
    return {
        "title": "Fight night",
        "summary": "A hamster boxes.",
        "characters": characters
        if characters is not None
        else [{"id": "hamster", "name": "Hamster", "kind": "hamster", "appearance": HAMSTER_LOOKS}],
        "locations": [{"id": "ring", "name": "boxing ring"}],
        "events": events
        if events is not None
        else [
            {"id": "e1", "text": STORY.split(". ")[0] + ".", "agent": "hamster", "action": "punch",
             "characters": ["hamster"], "location": "ring", "duration": 4.0},
            {"id": "e2", "text": "The crowd cheered.", "agent": "crowd", "action": "roar",
             "characters": ["hamster"], "location": "ring", "duration": 2.0},
        ],
        **extra,
    }  # fmt: skip


def graphs(end: float = 3.5) -> dict:
    return {
        "shots": [
            {
                "event_id": "e1",
                "camera": "close_up",
                "entities": [{"id": "hamster", "label": "hamster"}, {"id": "gloves", "label": "boxing gloves"}],
                "relations": [{"subject": "hamster", "predicate": "wears", "object": "gloves"}],
                "actions": [{"agent": "hamster", "verb": "punch", "start": 0.5, "end": end}],
            },
            {
                "event_id": "e2",
                "camera": "wide",
                "entities": [{"id": "hamster", "label": "hamster"}, {"id": "crowd", "label": "crowd"}],
                "actions": [{"agent": "crowd", "verb": "roar", "start": 0, "end": 2}],
            },
        ]
    }


def imagination() -> dict:
    return {
        "shots": [
            {"event_id": "e1", "time_of_day": "night", "keyframe_prompt": f"{HAMSTER_LOOKS} boxing",
             "motion_prompt": "quick punches; slow push in", "attributes": {"gloves": ["shiny"]}},
            {"event_id": "e2", "time_of_day": "night", "keyframe_prompt": "a cheering crowd around a ring",
             "motion_prompt": "the crowd waves"},
        ]
    }  # fmt: skip


def script(*answers: dict | str) -> list[str]:
    return [a if isinstance(a, str) else json.dumps(a) for a in answers]


CONFIG = PlanConfig(title="t", minutes=0.1)  # a 6-second target


class Scripted(BaseChatModel):
    """Answers from a script and records every prompt it is sent."""

    answers: list[Any]
    seen: list[Any] = Field(default_factory=list)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.seen.append(messages)
        if len(self.seen) > len(self.answers):
            raise RuntimeError("the script ran out: the model was called once too often")
        answer = self.answers[len(self.seen) - 1]
        message = answer if isinstance(answer, AIMessage) else AIMessage(answer)
        return ChatResult(generations=[ChatGeneration(message=message)])

    @property
    def _llm_type(self) -> str:
        return "scripted"


class ScriptedTools(Scripted):
    """A model with tool calling: `with_structured_output` binds the schema and gets a tool call back."""

    def bind_tools(self, tools, **kwargs):
        return self


def tool_call(name: str, args: dict) -> AIMessage:
    usage = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120}
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": "call"}], usage_metadata=usage)


def test_three_steps_from_json_answers():
    model = FakeListChatModel(responses=script(outline(), graphs(), imagination()))
    plan = LLMPlanner(model).plan(STORY, CONFIG)
    assert [s.id for s in plan.shots] == ["shot_001", "shot_002"]
    first = plan.shots[0]
    assert first.camera == "close_up" and first.duration == 4.0 and first.location == "ring"
    assert first.graph.time_of_day == "night"
    assert [(a.agent, a.verb, a.start, a.end) for a in first.graph.actions] == [("hamster", "punch", 0.5, 3.5)]
    assert ("hamster", "wears", "gloves") in {(r.subject, r.predicate, r.object) for r in first.graph.relations}
    assert next(e for e in first.graph.entities if e.id == "gloves").attributes == ["shiny"]
    assert first.motion_prompt == "quick punches; slow push in"
    assert first.span == (0, STORY.index(" The crowd"))
    # the bible's appearance is in every prompt that shows the character, word for word
    assert [c.appearance for c in plan.characters] == [HAMSTER_LOOKS]
    assert all(HAMSTER_LOOKS in s.prompt for s in plan.shots)


def test_structured_output_through_tool_calls():
    model = ScriptedTools(
        answers=[tool_call("ActionPlan", outline()), tool_call("SceneGraphs", graphs()),
                 tool_call("Imagination", imagination())]
    )  # fmt: skip
    planner = LLMPlanner(model)
    plan = planner.plan(STORY, CONFIG)
    assert len(plan.shots) == 2
    assert planner.stats.calls == 3 and planner.stats.tokens_in == 300 and planner.stats.tokens_out == 60
    # the tool path sends no JSON instructions
    assert "JSON Schema" not in model.seen[0][0].content


def test_invalid_json_then_a_valid_answer_costs_one_retry():
    model = Scripted(answers=script("Sure! {'events': []}", outline(), graphs(), imagination()))
    planner = LLMPlanner(model)
    plan = planner.plan(STORY, CONFIG)
    assert len(plan.shots) == 2 and planner.stats.calls == 4
    retry = model.seen[1]
    assert "invalid JSON" in retry[-1].content and retry[-2].content.startswith("Sure!")


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (script(outline(events=[{**outline()["events"][0], "duration": 60}])), "must add up to 6.0s"),
        (script(outline(events=[{**outline()["events"][0], "characters": ["ghost"], "duration": 6}])), "'ghost'"),
        (script(outline(events=[{**outline()["events"][0], "location": "moon", "duration": 6}])), "'moon'"),
        (script(outline(), graphs(end=9)), "it must lie in 0-4.0s"),
        (script(outline(), {"shots": graphs()["shots"][:1]}), "one graph per event"),
        (script(outline(), {"shots": [{**graphs()["shots"][0], "relations": [
            {"subject": "hamster", "predicate": "wears", "object": "hat"}]}, graphs()["shots"][1]]}), "'hat'"),
        (script(outline(), graphs(), {"shots": imagination()["shots"][:1]}), "one entry per event"),
        (script({"events": []}), "events"),
    ],
)  # fmt: skip
def test_each_broken_invariant_is_fed_back_and_retried(bad, reason):
    good = script(outline(), graphs(), imagination())
    answers = bad + good[len(bad) - 1 :]
    model = Scripted(answers=answers)
    plan = LLMPlanner(model).plan(STORY, CONFIG)
    assert len(plan.shots) == 2
    feedback = [m[-1].content for m in model.seen if len(m) > 1]
    assert len(feedback) == 1 and reason in feedback[0]


def test_a_model_that_never_gets_it_right_is_a_clear_error_or_the_fallback():
    wrong = script(outline(events=[{**outline()["events"][0], "duration": 60}]))
    with pytest.raises(StorytellerError, match="no valid answer in 3 tries; last problem: the durations"):
        LLMPlanner(Scripted(answers=wrong * 3)).plan(STORY, CONFIG)
    fallback = LLMPlanner(Scripted(answers=wrong * 3), fallback="heuristic").plan(STORY, CONFIG)
    assert fallback == HeuristicPlanner().plan(STORY, CONFIG)


def test_nothing_the_model_says_crashes_the_planner():
    junk = ["", "null", "[]", '{"events": "many"}', "{" * 50, json.dumps({"shots": [{"event_id": 3}]})]
    for answer in junk:
        with pytest.raises(StorytellerError):
            LLMPlanner(Scripted(answers=[answer] * 3)).plan(STORY, CONFIG)


def test_a_provider_failure_is_one_line():
    class Broken(Scripted):
        def _generate(self, *args, **kwargs):
            raise ConnectionError("connection refused\nat some address")

    with pytest.raises(StorytellerError, match="ConnectionError: connection refused") as error:
        LLMPlanner(Broken(answers=[])).plan(STORY, CONFIG)
    assert "\n" not in str(error.value)


def test_a_long_story_is_planned_in_chunks_that_share_the_bible():
    paragraphs = [
        "A little girl named Zosia walked home through the snow.",
        "She met a red fox near the path and waved.",
        "Zosia reached her warm little house at dusk and smiled.",
    ]  # ten words each: each chunk's share of the 6-second target is 2 seconds
    story = "\n\n".join(paragraphs)
    assert len(chunks(story, 70)) == 3
    zosia = {"id": "zosia", "name": "Zosia", "kind": "girl", "appearance": "a small girl in a red coat"}
    fox = {"id": "fox", "name": "Fox", "kind": "fox", "appearance": "a slim orange fox"}
    answers = []
    for n, (text, cast) in enumerate(zip(paragraphs, ([zosia], [fox], []), strict=True), 1):
        on_screen = ["zosia", "fox"] if n == 2 else ["zosia"]
        event = {"id": f"e{n}", "text": text, "agent": "zosia", "action": "walk", "characters": on_screen,
                 "location": "path", "duration": 2.0}  # fmt: skip
        entities = [{"id": c, "label": c} for c in on_screen]
        answers += script(
            {"summary": f"part {n}", "characters": cast, "locations": [{"id": "path", "name": "path"}],
             "events": [event]},
            {"shots": [{"event_id": f"e{n}", "entities": entities}]},
            {"shots": [{"event_id": f"e{n}", "keyframe_prompt": text}]},
        )  # fmt: skip
    model = Scripted(answers=answers)
    config = PlanConfig(title="t", minutes=0.1)
    plan = LLMPlanner(model, chunk_chars=70).plan(story, config)
    assert [s.characters for s in plan.shots] == [["zosia"], ["zosia", "fox"], ["zosia"]]
    assert [c.id for c in plan.characters] == ["zosia", "fox"]
    third_chunk_prompt = model.seen[6][0].content
    assert "a small girl in a red coat" in third_chunk_prompt and "a slim orange fox" in third_chunk_prompt
    assert "part 1 part 2" in third_chunk_prompt  # the running summary
    assert all("a small girl in a red coat" in s.prompt for s in plan.shots)


def test_the_call_cache_makes_a_second_plan_free(tmp_path):
    config = CONFIG.model_copy(update={"cache_dir": tmp_path})
    first = LLMPlanner(Scripted(answers=script(outline(), graphs(), imagination())))
    plan = first.plan(STORY, config)
    assert first.stats.calls == 3 and first.stats.cache_hits == 0
    again = LLMPlanner(Scripted(answers=[]))  # would raise if it were called
    assert again.plan(STORY, config) == plan
    assert again.stats.calls == 0 and again.stats.cache_hits == 3


def test_planner_stats_split_the_models_time_from_the_planners_own():
    """What the overhead is made of, not how long it takes (benchmarks/llm_planner.py reports the figure)."""
    planner = LLMPlanner(FakeListChatModel(responses=script(outline(), graphs(), imagination())))
    planner.plan(STORY, CONFIG)
    stats = planner.stats
    assert stats.calls == 3 and stats.cache_hits == 0
    assert 0 < stats.model_seconds <= stats.total_seconds
    assert stats.overhead_per_call() == (stats.total_seconds - stats.model_seconds) / 3


def test_the_registry_builds_it_from_a_spec_and_reports_missing_packages():
    with pytest.raises(StorytellerError, match=r"needs langchain-openai: pip install 'storyteller\[openai\]'"):
        PLANNERS.create("llm:openai:gpt-4o-mini")
    with pytest.raises(StorytellerError, match="provider:model"):
        PLANNERS.create("llm:gpt")


def test_plan_command_reports_calls_tokens_and_cache_hits(tmp_path, monkeypatch, capsys):
    from planners.llm import planner as llm_module
    from storyteller import cli

    answers = [tool_call("ActionPlan", outline()), tool_call("SceneGraphs", graphs()),
               tool_call("Imagination", imagination())]  # fmt: skip
    monkeypatch.setattr(llm_module, "load_chat_model", lambda spec, *_: ScriptedTools(answers=answers))
    story = tmp_path / "fight.txt"
    story.write_text(STORY)
    args = ["plan", str(story), "--llm", "fake:model", "--minutes", "0.1", "--runs", str(tmp_path / "runs")]
    assert cli.main([*args, "-o", str(tmp_path / "a.json")]) == 0
    assert "model: 3 calls, 300 tokens in, 60 out, 0 cache hits" in capsys.readouterr().err
    monkeypatch.setattr(llm_module, "load_chat_model", lambda spec, *_: ScriptedTools(answers=[]))
    assert cli.main([*args, "-o", str(tmp_path / "b.json")]) == 0
    assert "model: 0 calls, 3 cache hits" in capsys.readouterr().err
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()


def test_times_that_only_rounding_breaks_are_kept_inside_the_shot():
    events = [{**e, "duration": e["duration"] + 0.0000004} for e in outline()["events"]]
    long_graphs = graphs(end=4.0000004)
    plan = LLMPlanner(FakeListChatModel(responses=script(outline(events=events), long_graphs, imagination()))).plan(
        STORY, CONFIG
    )
    assert plan.shots[0].duration == 4.0 and plan.shots[0].graph.actions[0].end == 4.0


# --- a local model, in-process (langchain-huggingface), on a tiny random-weight GPT-2 built here ---------------


def tiny_causal_lm(folder) -> str:
    """A random GPT-2 with a whole-word tokenizer and a chat template: real classes, no hub files."""
    torch = pytest.importorskip("torch")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = sorted(set(STORY.lower().replace(".", " ").split()) | {"{", "}", '"', ":", ",", "the", "a"})
    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(words)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>", model_max_length=8192
    )
    fast.chat_template = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(vocab), n_positions=8192, n_embd=16, n_layer=1, n_head=2,
                        bos_token_id=1, eos_token_id=1, pad_token_id=0)  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return str(folder)


def test_a_local_model_gives_only_its_own_text_and_a_visible_fallback(tmp_path, capsys):
    pytest.importorskip("langchain_huggingface")
    model = tiny_causal_lm(tmp_path / "tiny-gpt2")
    capsys.readouterr()
    planner = LLMPlanner.from_spec(f"huggingface:{model}", max_new_tokens=12, fallback="heuristic")
    plan = planner.plan(STORY, PlanConfig(title="t", cache_dir=tmp_path / "cache"))
    # random weights never make a valid plan: the fallback planned it, and said so in one line
    assert planner.outcome["planner"] == "heuristic" and planner.outcome["refused"] == "llm"
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refused" in err[0] and "heuristic" in err[0]
    assert plan.shots and all(set(s.characters) <= {c.id for c in plan.characters} for s in plan.shots)
    # every cached answer holds only generated text: bounded, and never the prompt echoed back
    answers = [json.loads(p.read_text())["text"] for p in (tmp_path / "cache" / "llm").glob("*.json")]
    assert answers and planner.stats.calls == len(answers)
    for text in answers:
        assert len(text.split()) <= 12
        assert "action planning" not in text.lower() and "bible" not in text.lower()


def test_run_json_says_which_planner_made_the_plan(tmp_path, capsys):
    from storyteller.pipeline import Storyteller

    answers = ["not json"] * 9
    planner = LLMPlanner(FakeListChatModel(responses=answers), fallback="heuristic")
    result = Storyteller(planner=planner, runs_dir=tmp_path).make(STORY, name="fight")
    record = json.loads((result.run_dir / "run.json").read_text())
    assert record["plan"]["planner"] == "heuristic" and record["plan"]["refused"] == "llm"
    assert "JSON" in record["plan"]["reason"] or "json" in record["plan"]["reason"]
    assert "planned with heuristic" in capsys.readouterr().err


class Named(Scripted):
    """A custom model whose name langchain's identifying parameters do not report."""

    model_name: str = "a"


def test_two_models_of_one_class_never_share_cached_answers(tmp_path):
    config = CONFIG.model_copy(update={"cache_dir": tmp_path})
    LLMPlanner(Named(model_name="a", answers=script(outline(), graphs(), imagination()))).plan(STORY, config)
    other = LLMPlanner(Named(model_name="b", answers=script(outline(), graphs(), imagination())))
    other.plan(STORY, config)
    assert other.stats.calls == 3 and other.stats.cache_hits == 0  # asked, not handed model a's answers
    same = LLMPlanner(Named(model_name="a", answers=[]))  # would raise if it were called
    same.plan(STORY, config)
    assert same.stats.cache_hits == 3


def test_a_shot_list_keeps_its_shots_the_model_enriches_them_and_may_not_recut_them():
    given = {
        "story_name": "Fight night",
        "story_overview": "A hamster boxes in a ring.",
        "scenes": [
            {"scene_num": 1, "first_frame_prompt": "an empty boxing ring under lights",
             "video_prompts": ["A cute golden hamster throws punches in a boxing ring.", "The crowd cheers."],
             "cut": [True, False]},
        ],
    }  # fmt: skip
    merged = outline(events=[{"id": "e1", "text": "all of it", "agent": "hamster", "action": "punch",
                              "characters": ["hamster"], "location": "ring", "duration": 6.0}])  # fmt: skip
    kept = outline()
    for event, sid in zip(kept["events"], ("s1", "s2"), strict=True):
        event["id"] = sid
    answers = [graphs(), imagination()]
    for answer in answers:
        for shot, sid in zip(answer["shots"], ("s1", "s2"), strict=True):
            shot["event_id"] = sid
    model = Scripted(answers=script(merged, kept, *answers))
    plan = LLMPlanner(model).plan(json.dumps(given), CONFIG)
    asked = model.seen[0][-1].content
    part = asked.split("Part of the story to plan:")[1]
    assert "[s1] A cute golden hamster" in part and "[s2] The crowd cheers." in part and '"scenes"' not in part
    assert "this is a shot list" in model.seen[1][-1].content  # the re-cut answer was sent back
    assert plan.shots_by == "list" and plan.title == "Fight night"
    assert [s.text for s in plan.shots] == given["scenes"][0]["video_prompts"]
    assert [s.continues for s in plan.shots] == [False, True]
    assert plan.shots[0].keyframe_prompt == "an empty boxing ring under lights"
    assert HAMSTER_LOOKS in plan.shots[0].prompt  # the model's enrichment stays
    assert "hamster" in plan.shots[1].characters and plan.shots[1].transition.kind == "cut"


def test_a_book_is_planned_chapter_by_chapter_with_cards_made_here_and_the_bible_carried():
    chapters = [
        ("Chapter 1: The Quay", "Captain Amara walked along the quay of the harbour at dawn."),
        ("Chapter 2: The Salt Market", "Amara bought rope in the crowded market."),
    ]
    story = "The Salt Road\n\n" + "\n\n".join(f"{heading}\n\n{body}" for heading, body in chapters)
    amara = {"id": "amara", "name": "Amara", "kind": "captain", "appearance": "a tall captain in a blue coat"}
    answers = []
    for n, ((_, body), place) in enumerate(zip(chapters, ("quay", "market"), strict=True), 1):
        event = {"id": f"e{n}", "text": body, "agent": "amara", "action": "walk", "characters": ["amara"],
                 "location": place, "duration": len(body.split()) / 2.4}  # fmt: skip
        answers += script(
            {"summary": f"chapter {n}", "characters": [amara] if n == 1 else [],
             "locations": [{"id": place, "name": place}], "events": [event]},
            {"shots": [{"event_id": f"e{n}", "entities": [{"id": "amara", "label": "captain"}]}]},
            {"shots": [{"event_id": f"e{n}", "keyframe_prompt": body, "time_of_day": "dawn"}]},
        )  # fmt: skip
    model = Scripted(answers=answers)
    plan = LLMPlanner(model).plan(story, PlanConfig(title="t"))  # the text's own length: 2.4 words a second
    sent = [messages[0].content for messages in model.seen]
    assert not any("Chapter" in prompt for prompt in sent)  # a heading is never the model's to read
    assert "a tall captain in a blue coat" in sent[3] and "chapter 1" in sent[3]  # bible and summary carried
    assert [s.title for s in plan.scenes] == ["Chapter 1: The Quay", "Chapter 2: The Salt Market"]
    assert [(s.card, s.location, s.scene) for s in plan.shots] == [
        ("Chapter 1: The Quay", None, "scene_01"), (None, "quay", "scene_01"), (None, "quay", "scene_01"),
        ("Chapter 2: The Salt Market", None, "scene_02"), (None, "market", "scene_02"), (None, "market", "scene_02"),
    ]  # fmt: skip
    assert [s.location for s in plan.scenes] == ["quay", "market"]
    assert all(s.said == "" for s in plan.shots if s.card or not s.text)  # cards and establishing shots are silent
