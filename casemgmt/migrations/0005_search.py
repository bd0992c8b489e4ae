"""Accent- and case-insensitive search over names in both scripts and the case code.

`casemgmt_normalize` lower-cases, strips Latin accents (unaccent with an explicit dictionary, so the
function can be IMMUTABLE) and Arabic diacritics and tatweel, and folds alef, hamza, ya and ta marbuta
variants. A stored generated column holds the normalised text and a trigram GIN index serves
`LIKE '%...%'` on it.
"""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION casemgmt_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT translate(
        regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, value)), '[\u064B-\u0652\u0640]', '', 'g'),
        'أإآٱىئؤة',
        'ااااييوه'
    )
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0004_stagechange_history")]
    operations = [
        TrigramExtension(),
        UnaccentExtension(),
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS casemgmt_normalize(text);"),
    ]
