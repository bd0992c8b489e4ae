from . import views

urlpatterns = [*views.urlpatterns]
