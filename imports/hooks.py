"""What imports registers with the core: its navigation entry."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from casemgmt.context_processors import register_nav
from casemgmt.urlcache import fixed_url

from .access import kinds_for


@register_nav
def imports_nav(user):
    if kinds_for(user):
        return [(_("Import"), fixed_url("imports:upload"))]
    return []
