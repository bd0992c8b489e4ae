"""Job and training placements with partner employers and training providers (issue 7)."""

__all__: list[str] = []
