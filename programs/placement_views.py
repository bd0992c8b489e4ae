"""Placement pages."""

urlpatterns: list = []
