from . import mentoring_views, placement_views

urlpatterns = [*mentoring_views.urlpatterns, *placement_views.urlpatterns]
