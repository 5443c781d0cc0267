"""Reports: the cycle report (HTML with plots)."""
