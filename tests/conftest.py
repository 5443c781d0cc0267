import shutil

import pytest

needs_rustc = pytest.mark.skipif(shutil.which("rustc") is None, reason="rustc is not installed")
