"""The reproducible report (``greenopt paper``): the feasibility-domain analysis and the
trace-driven evaluation of the paper's claims, regenerated from the experiments under
``experiments/``. See :func:`greenopt.paper.build.build_paper`."""

from greenopt.paper.build import build_paper, check_report

__all__ = ["build_paper", "check_report"]
