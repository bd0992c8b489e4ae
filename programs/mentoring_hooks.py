"""Mentoring's registrations with the core (access rules, timeline, navigation, demo data)."""
