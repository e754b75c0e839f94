"""Shared test setup: the instance builders live in ``helpers.py`` (imported by name, as pytest
puts this folder on ``sys.path``); their assertions get pytest's detailed messages."""

import pytest

pytest.register_assert_rewrite("helpers")
