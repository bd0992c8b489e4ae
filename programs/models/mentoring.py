"""Mentoring by religious scholars and peer mentors (issue 6)."""

__all__: list[str] = []
