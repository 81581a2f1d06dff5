"""TWCS: the "Customer Support on Twitter" CSV (Thought Vector, 2017), 2.8 M tweets.

Brand accounts are marked ``inbound=False`` and become organizations automatically.
Copies re-saved by pandas carry a leading index column and ``.0`` on float-typed reply ids;
both are handled.
"""

from __future__ import annotations

from socialaudit.errors import SourceError
from socialaudit.ingest import base
from socialaudit.ingest.csvimporter import CsvImporter, column_index

REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
PERMALINK = "https://twitter.com/i/web/status/"


@base.register
class TwcsImporter(CsvImporter):
    """Customer Support on Twitter CSV."""

    name = "twcs"
    title = "TWCS CSV"
    description = "The Customer Support on Twitter CSV: brand accounts are marked inbound=False."
    derives_orgs = True

    def sniff(self, sample: base.Sample) -> bool:
        """Recognise the TWCS header (with or without pandas' index column)."""
        header = {h.strip() for h in sample.first_line.split(",")}
        return all(col in header for col in REQUIRED)

    def fields(
        self, header: list[str], options: base.ImportOptions
    ) -> tuple[dict[str, str], list[tuple[str, str]]]:
        """Map TWCS columns; tweet and reply ids must be numeric."""
        index = column_index(header)
        missing = [c for c in REQUIRED if c not in index]
        if missing:
            raise SourceError(
                f"Not a TWCS file: no column {', '.join(missing)}. Expected the header "
                f"{','.join(REQUIRED)}; for other CSVs use --format csv --map field=COLUMN."
            )

        def col(name: str) -> str:
            return f"c{index[name]}"

        post_id = base.id_sql(col("tweet_id"))
        return (
            {
                "platform": "'twitter'",
                "post_id": post_id,
                "author_id": f"nullif(trim({col('author_id')}), '')",
                "author_handle": f"nullif(trim({col('author_id')}), '')",
                "created_at": (
                    f"try_strptime(trim({col('created_at')}), '%a %b %d %H:%M:%S %z %Y')"
                ),
                "created_at_text": col("created_at"),
                "text": col("text"),
                "parent_id": base.id_sql(col("in_response_to_tweet_id")),
                "inbound": base.parse_bool_sql(col("inbound")),
                "permalink": f"'{PERMALINK}' || {post_id}",
            },
            [
                ("NOT regexp_full_match(post_id, '[0-9]+')", base.BAD_POST_ID),
                ("inbound IS NULL", base.BAD_INBOUND),
                (
                    "parent_id IS NOT NULL AND NOT regexp_full_match(parent_id, '[0-9]+')",
                    base.BAD_PARENT_ID,
                ),
            ],
        )
