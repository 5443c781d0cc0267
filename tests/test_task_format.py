"""The on-disk pack format: round trip, and one-line errors naming the file for malformed folders."""

import pytest

from sleepy.tasks.task import Task, TaskFormatError, load_task, load_tasks, save_task

TASK = Task(id="demo-1", pack="rust", family="borrow", source="fn main() {}\n", fix="fn main() { }\n",
            signature="rust:E0382:borrow-of-moved-value", crate_type="lib", description="a demo")


def test_round_trip(tmp_path):
    save_task(TASK, tmp_path / "demo-1")
    loaded = load_task(tmp_path / "demo-1")
    assert loaded == TASK.__class__(**{**TASK.__dict__, "origin": "user"})


def test_load_tasks_reads_a_folder_of_folders_sorted(tmp_path):
    for i in (2, 1):
        save_task(Task(id=f"t{i}", pack="python", family="logic", source="assert 1 == 2\n"), tmp_path / f"t{i}")
    assert [t.id for t in load_tasks(tmp_path, "python")] == ["t1", "t2"]


@pytest.mark.parametrize("setup, needle", [
    (lambda d: None, "missing task.toml"),
    (lambda d: (d / "task.toml").write_text("family = \n"), "invalid TOML"),
    (lambda d: (d / "task.toml").write_text('pack = "rust"\n'), "'family'"),
    (lambda d: (d / "task.toml").write_text('pack = "rust"\nfamily = "x"\n'), "missing program file"),
    (lambda d: ((d / "task.toml").write_text('pack = "cobol"\nfamily = "x"\n')), "cannot tell the language"),
    (lambda d: ((d / "task.toml").write_text('pack = "rust"\nfamily = "x"\ncrate_type = "dylib"\n'),
                (d / "main.rs").write_text("")), "crate_type"),
])
def test_malformed_folders_give_one_line_errors(tmp_path, setup, needle):
    folder = tmp_path / "bad"
    folder.mkdir()
    setup(folder)
    with pytest.raises(TaskFormatError) as info:
        load_task(folder)
    message = str(info.value)
    assert needle in message and "\n" not in message and str(folder) in message


def test_pack_mismatch_is_an_error(tmp_path):
    save_task(TASK, tmp_path / "x")
    with pytest.raises(TaskFormatError, match="pack is 'rust'"):
        load_task(tmp_path / "x", "python")


def test_duplicate_ids_are_an_error(tmp_path):
    save_task(TASK, tmp_path / "a")
    save_task(TASK, tmp_path / "b")
    with pytest.raises(TaskFormatError, match="duplicate task ids"):
        load_tasks(tmp_path)
