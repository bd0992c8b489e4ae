"""Mentoring pages."""

urlpatterns: list = []
