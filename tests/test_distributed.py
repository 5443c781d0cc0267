"""A skill trained data-parallel on 2 CPU processes (gloo, launched by ``accelerate launch``) is the skill
one process trains: the gradient is summed across processes, not approximated."""

import json

import pytest
from safetensors.torch import load_file

from sleepy.adapters.distributed import LaunchError, train_in_processes
from sleepy.adapters.lora import LoraParams, TrainExample, train_lora

TOLERANCE = 1e-5  # max |difference| of any adapter weight; float32 sums taken in another order differ ~1e-7


def test_two_processes_train_the_same_skill_as_one(tmp_path, micro, monkeypatch):
    monkeypatch.setenv("SLEEPY_TRAIN_DTYPE", "float32")  # a CPU with bf16 would round both runs to ~1e-3
    model = micro[0] / "model"
    examples = [TrainExample(f"fix {i}: let x = {i}", f"let x = {i} + 1;", "test") for i in range(12)]
    params = LoraParams(rank=4, steps=6, batch_tokens=256, seed=3)  # batches of 2-5 rows: uneven shares
    train_lora(str(model), examples, params, tmp_path / "one")
    record = train_in_processes(str(model), examples, params, tmp_path / "two", 2)
    one = load_file(tmp_path / "one" / "adapter_model.safetensors")
    two = load_file(tmp_path / "two" / "adapter_model.safetensors")
    assert one.keys() == two.keys()
    assert max((one[k] - two[k]).abs().max().item() for k in one) <= TOLERANCE
    assert max(one[k].abs().max().item() for k in one) > 100 * TOLERANCE  # the adapter moved: not a vacuous match
    single = json.loads((tmp_path / "one" / "training.json").read_text())
    assert record["losses"] == pytest.approx(single["losses"], abs=1e-3)
    assert record["trainable_parameters"] == single["trainable_parameters"] and record["data_sha256"] == single[
        "data_sha256"]
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())


def test_a_launch_that_fails_is_one_line_naming_the_problem(tmp_path):
    with pytest.raises(LaunchError) as err:
        train_in_processes(str(tmp_path / "no-model"), [TrainExample("a", "b", "test")], LoraParams(steps=1),
                           tmp_path / "out", 2)
    assert "\n" not in str(err.value) and "no-model" in str(err.value)
    assert not (tmp_path / "out").exists()
