import shutil

import pytest

needs_rustc = pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")


@pytest.fixture(scope="session")
def micro(tmp_path_factory):
    """A micro model pretrained by the project itself (seconds): (folder, PretrainResult)."""
    from sleepy.model.pretrain import pretrain

    root = tmp_path_factory.mktemp("micro")
    result = pretrain("micro", root / "model", root / "work", show_progress=False)
    return root, result
