from django.apps import AppConfig


class CasemgmtConfig(AppConfig):
    name = "casemgmt"
    verbose_name = "Case management"
