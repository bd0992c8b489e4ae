"""The open default assessment template (handbook section 5). No licensed item text.

Used by a data migration (with historical models) and by seed_demo and tests (a test database
flushed between transactional tests loses migration data).
"""

from django.apps import apps as global_apps

NAME = "Open default risk-and-needs template"
DOMAINS = [
    (
        "beliefs",
        "Beliefs and attitudes",
        [
            ("us_them", "Sees the world as a conflict between an in-group and its enemies", "risk"),
            ("violence_justified", "Holds that violence is justified to reach political or religious aims", "risk"),
            ("grievance", "Strong sense of personal or group injustice", "risk"),
        ],
    ),
    (
        "social",
        "Social context and intention",
        [
            ("network", "Contact with people or groups that promote violence", "risk"),
            ("online", "Consumes or shares extremist material online", "risk"),
            ("intent", "Expresses an intention to act on extremist beliefs", "risk"),
        ],
    ),
    (
        "capability",
        "Capability",
        [
            ("training", "Has combat, weapons or explosives experience", "risk"),
            ("means", "Has access to means or resources to cause harm", "risk"),
        ],
    ),
    (
        "motivation",
        "Motivation",
        [
            ("belonging", "Seeks belonging, identity or meaning through the group", "risk"),
            ("status", "Seeks status, excitement or revenge", "risk"),
        ],
    ),
    (
        "protective",
        "Protective factors",
        [
            ("family_support", "Supportive family relationships", "protective"),
            ("rejects_violence", "Rejects violence and engages with other views", "protective"),
            ("engagement", "Engages with the program and its mentors", "protective"),
        ],
    ),
    (
        "needs",
        "Needs",
        [
            ("housing", "Housing", "need"),
            ("employment", "Employment", "need"),
            ("education", "Education and training", "need"),
            ("health", "Health, including psychological", "need"),
            ("family", "Family", "need"),
            ("legal", "Legal", "need"),
        ],
    ),
]


def ensure_default_template(apps=global_apps) -> None:
    Template = apps.get_model("casemgmt", "AssessmentTemplate")
    Domain = apps.get_model("casemgmt", "AssessmentDomain")
    Item = apps.get_model("casemgmt", "AssessmentItem")
    template, _ = Template.objects.get_or_create(
        name=NAME,
        defaults={
            "description": (
                "Structured professional judgement in six domains; each item rated 0 (absent) to 3 (strongly present)."
            )
        },
    )
    for d_order, (code, name, items) in enumerate(DOMAINS):
        domain, _ = Domain.objects.get_or_create(
            template=template, code=code, defaults={"name": name, "order": d_order}
        )
        for i_order, (item_code, text, kind) in enumerate(items):
            Item.objects.get_or_create(
                domain=domain, code=item_code, defaults={"text": text, "kind": kind, "order": i_order}
            )
