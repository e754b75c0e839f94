"""Reading and writing greenopt's files: instance folders (:mod:`~greenopt.files.instance_files`,
their columns and ranges in :mod:`~greenopt.files.instance_columns`), schedule files
(:mod:`~greenopt.files.schedule_files`) and atomic writing (:mod:`~greenopt.files.atomic`).
The names below are re-exported for ``from greenopt.files import ...``."""

from greenopt.files.atomic import write_csv_atomic, write_text_atomic
from greenopt.files.instance_columns import (
    COLUMN_RANGES,
    DERIVED_LIMITS,
    Range,
    longest_transfer_s,
    ranges_markdown,
)
from greenopt.files.instance_files import InstanceError, load_instance, write_instance
from greenopt.files.schedule_files import ScheduleReadError, read_schedule, write_schedule

__all__ = [
    "COLUMN_RANGES",
    "DERIVED_LIMITS",
    "InstanceError",
    "Range",
    "ScheduleReadError",
    "load_instance",
    "longest_transfer_s",
    "ranges_markdown",
    "read_schedule",
    "write_csv_atomic",
    "write_instance",
    "write_schedule",
    "write_text_atomic",
]
