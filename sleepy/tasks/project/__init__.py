"""A real project (a Cargo package or a Python project) as a source of repair work.

``detect`` tells what a folder is; ``build`` verifies a copy of it in the sandbox and returns the
diagnostics with the file each one is in, so the same candidate sources as for single-file tasks
(the verifier's hints first) can repair it one diagnostic at a time (``sleepy.loop.fix``).
"""

from sleepy.tasks.project.build import ProjectBuild, cargo_path
from sleepy.tasks.project.detect import Project, ProjectError, detect_project

__all__ = ["Project", "ProjectBuild", "ProjectError", "cargo_path", "detect_project"]
