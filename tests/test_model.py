"""Core weights on a tiny model the tests build themselves: pretrain, load, generate, evaluate."""

import json
from pathlib import Path

import pytest
from conftest import needs_rustc

from sleepy.adapters.lora import RoutedModel
from sleepy.model.generation import GenerationConfig, _cut, generate
from sleepy.model.loader import ModelLoadError, load_model
from sleepy.model.pretrain import Example, check_leakage, pretrain
from sleepy.tasks.leakage import LeakageError
from sleepy.tasks.packs import get_pack


@needs_rustc
def test_micro_pretrain_writes_a_standard_hf_folder(micro):
    root, result = micro
    model_dir = root / "model"
    for name in ("config.json", "model.safetensors", "tokenizer.json", "training.json"):
        assert (model_dir / name).is_file(), name
    from transformers import AutoModelForCausalLM, AutoTokenizer
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    assert sum(p.numel() for p in model.parameters()) == result.parameters
    assert tok("fn main() {}")["input_ids"][0] == tok.bos_token_id
    card = json.loads((model_dir / "training.json").read_text())
    assert card["known_families"]["rust"] and card["new_families"]["rust"]
    assert set(card["known_families"]["rust"]).isdisjoint(card["new_families"]["rust"])
    data = [json.loads(line) for line in (root / "work" / "data.jsonl").open()]
    assert {d["family"] for d in data if d["pack"] == "rust"} == set(card["known_families"]["rust"])
    from sleepy.model.constrain import introduced_names
    names = json.loads((model_dir / "names.json").read_text())  # what constrained decoding lets it introduce
    assert names == introduced_names((d["pack"], d["prompt"], d["completion"]) for d in data) and names["rust"]
    assert load_model(str(model_dir)).introduced["rust"] == frozenset(names["rust"])
    assert result.steps > 0 and result.final_loss > 0


@needs_rustc
def test_pretrain_resumes_from_its_checkpoint(micro, tmp_path):
    root, first = micro
    work = tmp_path / "work"
    import shutil
    shutil.copytree(root / "work", work)
    resumed = pretrain("micro", tmp_path / "model", work, show_progress=False)
    assert resumed.steps == first.steps  # already finished: nothing left to do, same step count
    assert resumed.tokens_seen == first.tokens_seen


@needs_rustc
def test_a_work_folder_built_by_other_data_code_is_refused_and_kept(micro, tmp_path, monkeypatch):
    """Cached data made by other settings (or another prompt format) would silently train on stale
    data: the run stops with one line naming the folder, and the folder is left as it was."""
    from dataclasses import replace

    from sleepy.model import pretrain as pretrain_module
    from sleepy.model.pretrain import PRESETS, StaleWorkFolder

    root, _ = micro
    work = tmp_path / "work"
    import shutil
    shutil.copytree(root / "work", work)
    before = {p.name: p.read_bytes() for p in work.iterdir() if p.is_file()}
    original = PRESETS["micro"]
    monkeypatch.setitem(PRESETS, "micro", replace(original, memory_rate=0.9))
    with pytest.raises(StaleWorkFolder, match="fingerprint"):
        pretrain("micro", tmp_path / "model", work, show_progress=False)
    monkeypatch.setitem(PRESETS, "micro", original)
    monkeypatch.setattr(pretrain_module, "END", "### stop")  # the rendered completion changes
    with pytest.raises(StaleWorkFolder):
        pretrain("micro", tmp_path / "model", work, show_progress=False)
    assert {p.name: p.read_bytes() for p in work.iterdir() if p.is_file()} == before
    (work / "data.json").unlink()  # a folder from before stamps is not trusted either
    with pytest.raises(StaleWorkFolder, match="before stamps"):
        pretrain("micro", tmp_path / "model", work, show_progress=False)


@needs_rustc
def test_a_continuation_stage_starts_from_a_model_and_makes_names_up(micro, tmp_path, monkeypatch):
    """A stage with ``init_from`` keeps the model's tokenizer and weights shape, generates new-seed tasks
    whose vocabulary names are made up, and records which model it continued from."""
    from dataclasses import replace

    from sleepy.model.loader import model_hash
    from sleepy.model.pretrain import PRESETS
    from sleepy.tasks.vocabulary import NOUNS

    root, first = micro
    stage = replace(PRESETS["micro"], name="micro-copy", init_from=str(root / "model"), made_up_rate=1.0,
                    seed_base=PRESETS["micro"].seed_base + 5_000_000, examples_per_family=4)
    monkeypatch.setitem(PRESETS, "micro-copy", stage)
    result = pretrain("micro-copy", tmp_path / "model", tmp_path / "work", show_progress=False)
    assert result.parameters == first.parameters and result.steps > 0
    assert (tmp_path / "model" / "tokenizer.json").read_text() == (root / "model" / "tokenizer.json").read_text()
    card = json.loads((tmp_path / "model" / "training.json").read_text())
    assert card["initialised_from"]["hash"] == model_hash(str(root / "model"))
    assert card["initialised_from"]["preset"] == "micro"
    first_data = (root / "work" / "data.jsonl").read_text()
    data = [json.loads(line) for line in (tmp_path / "work" / "data.jsonl").open()]
    assert data and not any(d["task_id"] in first_data for d in data)  # new seeds, new tasks
    import re

    def noun_share(prompts) -> float:
        words = [w for p in prompts for w in re.findall(r"[a-z]+", p)]
        return sum(w in NOUNS for w in words) / len(words)

    before = [json.loads(line)["prompt"] for line in first_data.splitlines()]
    assert noun_share(d["prompt"] for d in data) < 0.5 * noun_share(before)  # names no list holds


def test_a_stage_can_continue_another_presets_model_in_the_same_workspace(micro, tmp_path, monkeypatch):
    from dataclasses import replace

    from sleepy.model.loader import ModelLoadError
    from sleepy.model.pretrain import PRESETS, _init_folder

    stage = replace(PRESETS["micro"], name="micro-more", init_from="preset:micro")
    with pytest.raises(ModelLoadError, match="run `sleepy pretrain --preset micro` first"):
        _init_folder(stage, tmp_path / "pretrain" / "micro-more")
    root, _ = micro
    import shutil
    shutil.copytree(root / "model", tmp_path / "pretrain" / "micro" / "model")
    assert _init_folder(stage, tmp_path / "pretrain" / "micro-more") == str(tmp_path / "pretrain" / "micro" / "model")


def test_leakage_guard_aborts_pretraining_data():
    koan = get_pack("rust").frozen()[0]
    clean = Example("### task rust\n", "@@ 1\n+ x\n", "gen-1", "rust", "borrow", "rust:E0382:x")
    dirty = Example("### code\n" + koan.source.replace("    ", "  "), "@@ 1\n", "gen-2", "rust", "borrow", "k")
    check_leakage([clean])
    with pytest.raises(LeakageError, match=koan.id):
        check_leakage([clean, dirty])


@needs_rustc
def test_batched_sampled_generation(micro):
    root, _ = micro
    lm = load_model(str(root / "model"))
    prompts = ["### task rust\n### edit\n", "### task python\n### code\n1| x = 1\n### edit\n"]
    cfg = GenerationConfig(max_new_tokens=8, n=3, temperature=1.0, seed=1, batch_size=4)
    out = generate(lm, prompts, cfg)
    assert [len(o) for o in out] == [3, 3]
    assert all(0 <= c.output_tokens <= 8 and c.input_tokens > 0 for o in out for c in o)
    greedy = GenerationConfig(max_new_tokens=8)
    assert generate(lm, prompts, greedy)[0][0].text == generate(lm, prompts, greedy)[0][0].text


def test_stop_sequences_cut_the_text():
    assert _cut("@@ 1\n+ x\n### end\nmore", ("### end",)) == "@@ 1\n+ x\n"


def test_missing_model_is_a_one_line_error(tmp_path):
    with pytest.raises(ModelLoadError, match="no such folder"):
        load_model(str(tmp_path / "nope"))


def test_hub_id_offline_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError) as info:
        load_model("nobody-here/not-a-real-model-xyz")
    assert "offline" in str(info.value) and "\n" not in str(info.value)


@needs_rustc
def test_eval_reports_every_frozen_task(micro, tmp_path):
    from sleepy.loop.evaluate import evaluate
    root, _ = micro
    # short edits: the rows, not what the model writes, are what this checks (the gate's own tests decode more)
    report = evaluate(RoutedModel(load_model(str(root / "model")), None), "rust", holdout_per_family=1,
                      max_new_tokens=16)
    frozen = get_pack("rust").frozen()
    assert len([r for r in report.rows if r.set == "frozen"]) == len(frozen)
    assert len([r for r in report.rows if r.set == "holdout"]) == len(get_pack("rust").families)
    assert all(r.known is not None for r in report.rows)
    summary = {(row["set"], row["family"]) for row in report.table()}
    assert ("frozen", "[known]") in summary and ("frozen", "[new]") in summary
    # the JSON names the model it measured, even one whose folder is just "model"
    from sleepy.loop.evaluate import EvalReport
    from sleepy.model.loader import model_hash
    report.save(tmp_path / "eval.json")
    saved = EvalReport.load(tmp_path / "eval.json")
    assert saved.model_path == str(root / "model") and saved.model_hash == model_hash(str(root / "model"))


@needs_rustc
def test_instruct_models_get_the_prompt_as_a_chat_message(micro):
    root, _ = micro
    lm = load_model(str(root / "model"), fresh=True)
    assert not lm.chat and lm.format_prompt("x") == "x"
    lm.tokenizer.chat_template = ("{% for m in messages %}<|bos|>user: {{ m['content'] }}\n{% endfor %}"
                                  "{% if add_generation_prompt %}assistant: {% endif %}")
    assert lm.chat and lm.format_prompt("### edit\n") == "<|bos|>user: ### edit\n\nassistant: "
    out = generate(lm, ["### task rust\n### edit\n"], GenerationConfig(max_new_tokens=4))
    assert out[0][0].input_tokens == len(lm.tokenizer(lm.format_prompt("### task rust\n### edit\n"),
                                                      add_special_tokens=False)["input_ids"])


def test_the_bundled_model_is_the_default_and_loads_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lm = load_model(None)
    assert lm.path.endswith("sleepy-tiny-coder") and not lm.chat
    card = json.loads((Path(lm.path) / "training.json").read_text())
    assert card["parameters"] == sum(p.numel() for p in lm.model.parameters())
    assert set(card["known_families"]["rust"]).isdisjoint(card["new_families"]["rust"])
    from sleepy.context.prompt import ContextBuilder
    from sleepy.tasks.verify import verify

    task = get_pack("python").generate("index-key", 3)
    prompt = ContextBuilder(lm.count_tokens).build("python", task.source, verify(task).primary).text
    out = generate(lm, [prompt], GenerationConfig(max_new_tokens=24))
    assert out[0][0].text.startswith("@@")  # it speaks the edit format
