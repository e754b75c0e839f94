"""Parameter sweeps on Dask with resumable Parquet results (``greenopt sweep``, ``plot-sweep``).

- :mod:`~greenopt.sweep.config`: sweep files (pydantic) and their expansion into points;
- :mod:`~greenopt.sweep.transform`: the instance knobs a sweep can turn;
- :mod:`~greenopt.sweep.execute`: Dask execution, retries, progress;
- :mod:`~greenopt.sweep.results`: atomic per-run Parquet files, resume, consolidation;
- :mod:`~greenopt.sweep.slurm`: dask-jobqueue glue (SLURMCluster, SLURMRunner);
- :mod:`~greenopt.sweep.plot`: metric-versus-parameter plots.
"""

from greenopt.sweep.config import Point, Sweep, SweepError, load_sweep, parse_sweep

__all__ = ["Point", "Sweep", "SweepError", "load_sweep", "parse_sweep"]
