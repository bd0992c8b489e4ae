"""Arabic search, issue 15: all the harakat and the superscript alef are ignored, not only the first eight.

0005's `casemgmt_normalize` removed U+064B–U+0652 and the tatweel. This one removes U+064B–U+065F
(the harakat, maddah, hamza above and below, and the rarer marks after sukun) and U+0670 (superscript
alef) too; the letter folds stay (أ إ آ ٱ → ا, ؤ → و, ئ → ي, ى → ي, ة → ه). Because U+0653–U+0655
are gone as well, a name typed in decomposed form (ا + hamza above) folds like the precomposed letter.

A stored generated column is computed when a row is written: replacing the function changes nothing
already stored. So the column is dropped and added again (PostgreSQL rewrites the table, computing every
row with the new function) and its trigram index is built again. The model state does not change: the
expression still calls `casemgmt_normalize`.
"""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION casemgmt_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT translate(
        regexp_replace(
            lower(public.unaccent('public.unaccent'::regdictionary, value)),
            '[\u064B-\u065F\u0670\u0640]', '', 'g'
        ),
        'أإآٱىئؤة',
        'ااااييوه'
    )
$$;
"""

# 0005's function, for going back
PREVIOUS = r"""
CREATE OR REPLACE FUNCTION casemgmt_normalize(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT translate(
        regexp_replace(lower(public.unaccent('public.unaccent'::regdictionary, value)), '[\u064B-\u0652\u0640]', '', 'g'),
        'أإآٱىئؤة',
        'ااااييوه'
    )
$$;
"""


def rewrite_search_text(apps, schema_editor):
    """Drop and re-add the generated column (every row recomputed) and rebuild its trigram index."""
    participant = apps.get_model("casemgmt", "Participant")
    field = participant._meta.get_field("search_text")
    (index,) = [i for i in participant._meta.indexes if i.name == "participant_search_trgm"]
    schema_editor.remove_index(participant, index)
    schema_editor.remove_field(participant, field)
    schema_editor.add_field(participant, field)
    schema_editor.add_index(participant, index)


class Migration(migrations.Migration):
    dependencies = [("casemgmt", "0019_webhooks")]
    operations = [
        # going back, the rows are rewritten last, once 0005's function is back
        migrations.RunPython(migrations.RunPython.noop, rewrite_search_text),
        migrations.RunSQL(FUNCTION, PREVIOUS),
        migrations.RunPython(rewrite_search_text, migrations.RunPython.noop),
    ]
