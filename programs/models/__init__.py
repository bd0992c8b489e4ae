"""Mentoring (issue 6) and placements (issue 7): one module each, one app."""

from .mentoring import *  # noqa: F403
from .placements import *  # noqa: F403
