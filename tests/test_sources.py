"""Platform importers on hand-written fixtures in each platform's documented shape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import socialaudit
from socialaudit.errors import SourceError
from socialaudit.ingest.records import html_to_text
from tests.test_ingest import snapshot

DATA = Path(__file__).parent / "data" / "sources"

# file, detected format, (read, inserted, duplicates, quarantined) into an empty store
CASES = [
    ("x_v2_twarc2.jsonl", "x_v2", (9, 6, 1, 2)),  # 1001 again in includes
    ("x_v1.json", "x_v1", (6, 4, 1, 1)),
    ("x_archive/data/tweets.js", "x_archive", (2, 2, 0, 0)),
    ("mastodon_statuses.json", "mastodon", (4, 4, 0, 0)),
    ("mastodon_context.json", "mastodon", (4, 4, 0, 0)),
    ("mastodon_export/outbox.json", "mastodon_outbox", (3, 3, 0, 0)),
    ("bluesky_author_feed.json", "bluesky", (6, 5, 1, 0)),
    ("bluesky_thread.json", "bluesky", (4, 4, 0, 0)),
    ("reddit_comments.json", "reddit", (4, 3, 0, 1)),
    ("pushshift.ndjson", "pushshift", (4, 3, 0, 1)),
    ("youtube_comment_threads.json", "youtube", (3, 2, 0, 1)),
    ("youtube_uci.csv", "youtube_csv", (4, 2, 0, 2)),
    ("zeeschuimer.ndjson", "zeeschuimer", (4, 3, 0, 1)),
]


def posts(store: socialaudit.Store, platform: str) -> dict[str, dict]:
    frame = store.frame("SELECT * FROM posts WHERE platform = ?", [platform])
    return {r["post_id"]: r for r in frame.to_dict("records")}


@pytest.mark.parametrize(("name", "fmt", "counts"), CASES)
def test_detected_counts_reconcile_and_reimport_is_idempotent(
    name: str, fmt: str, counts: tuple[int, int, int, int], store: socialaudit.Store
) -> None:
    r = socialaudit.import_file(DATA / name, store=store)
    assert r.format == fmt
    assert (r.read, r.inserted, r.duplicates, r.quarantined) == counts
    assert r.read == r.inserted + r.duplicates + r.quarantined
    before = snapshot(store)
    again = socialaudit.import_file(DATA / name, store=store)
    assert (again.inserted, again.duplicates) == (0, r.inserted + r.duplicates)
    assert {k: v for k, v in snapshot(store).items() if k not in ("imports", "quarantine")} == {
        k: v for k, v in before.items() if k not in ("imports", "quarantine")
    }
    # Every stored post has a permalink except where the format has none to give.
    missing = store.frame("SELECT count(*) AS n FROM posts WHERE permalink IS NULL").n[0]
    if fmt not in ("youtube_csv", "bluesky", "mastodon_outbox"):
        assert missing == 0


def test_x_v2_threads_counts_accounts(store: socialaudit.Store) -> None:
    socialaudit.import_file(DATA / "x_v2_twarc2.jsonl", store=store)
    p = posts(store, "twitter")
    assert p["1002"]["parent_id"] == "1001"
    assert p["1003"]["root_id"] == "1001" and p["1008"]["root_id"] == "1001"
    assert p["1004"]["repost_of"] == "990" and p["1005"]["quote_of"] == "1002"
    assert p["1001"]["text"].startswith("@AcmeHelp my order never arrived & nobody")
    assert p["1003"]["text"] == "@AcmeHelp 注文番号は 4711 です <3"
    assert (p["1001"]["like_count"], p["1001"]["view_count"]) == (3, 120)
    assert list(p["1001"]["mentions"]) == ["AcmeHelp"] and list(p["1001"]["hashtags"]) == ["fail"]
    assert list(p["1001"]["links"]) == ["https://t.co/abc"]
    assert p["1002"]["permalink"] == "https://x.com/AcmeHelp/status/1002"
    acct = store.frame("SELECT * FROM accounts WHERE account_id = '100'").iloc[0]
    assert (acct.handle, acct.followers_count, bool(acct.verified)) == ("AcmeHelp", 5000, True)
    reasons = set(store.frame("SELECT reason FROM quarantine").reason)
    assert reasons == {"missing author", "not a JSON object"}


def test_x_v1_and_archive(store: socialaudit.Store) -> None:
    socialaudit.import_file(DATA / "x_v1.json", store=store)
    p = posts(store, "twitter")
    assert p["1640000000000000002"]["parent_id"] == "1640000000000000001"
    assert p["1640000000000000002"]["root_id"] == "1640000000000000001"
    assert p["1640000000000000003"]["repost_of"] == "1640000000000000002"
    assert p["1640000000000000004"]["quote_of"] == "1640000000000000002"
    r = socialaudit.import_file(DATA / "x_archive" / "data" / "tweets.js", store=store)
    assert r.inserted == 2
    p = posts(store, "twitter")
    reply = p["1700000000000000001"]
    assert reply["author_id"] == "100"  # the archive's owner, from account.js
    assert reply["text"] == "@renee_k We're on it & will DM you 👍"
    assert reply["like_count"] == 3  # archives write counts as strings
    assert reply["parent_id"] == "1699999999999999999"
    assert pd.isna(reply["root_id"])  # parent not in the data: root unknown, not guessed
    assert reply["permalink"] == "https://x.com/AcmeHelp/status/1700000000000000001"


def test_archive_without_account_js_is_refused(tmp_path: Path, store: socialaudit.Store) -> None:
    shutil.copy(DATA / "x_archive" / "data" / "tweets.js", tmp_path / "tweets.js")
    with pytest.raises(SourceError, match="No account.js"):
        socialaudit.import_file(tmp_path / "tweets.js", store=store)
    assert store.count("posts") == 0


def test_mastodon_api_context_and_outbox(store: socialaudit.Store) -> None:
    socialaudit.import_file(DATA / "mastodon_statuses.json", store=store)
    socialaudit.import_file(DATA / "mastodon_context.json", store=store)
    p = posts(store, "mastodon")
    reply = p["110000000000000003"]
    assert reply["text"] == (
        "@jo Sorry about that & thanks for the patience! Fixed in https://status.example.com/x?a=1&b=2"
    )
    assert list(reply["links"]) == ["https://status.example.com/x?a=1&b=2"]
    assert reply["parent_id"] == "110000000000000001"
    assert reply["root_id"] == "110000000000000002"  # walked: reply -> question -> announcement
    assert p["110000000000000005"]["root_id"] == "110000000000000002"
    assert p["110000000000000004"]["repost_of"] == "110000000000000777"
    announcement = p["110000000000000002"]["text"]
    assert announcement == (
        "Nouveautés de mars\xa0: livraison gratuite #acme\nBonne journée ☀️\n\n"
        "<script>alert(1)</script> stays text"
    )
    assert list(p["110000000000000001"]["mentions"]) == ["AcmeHelp"]
    assert "<" not in p["110000000000000005"]["text"]
    assert p["110000000000000001"]["permalink"] == "https://fosstodon.org/@jo/110000000000000001"
    acct = store.frame("SELECT * FROM accounts WHERE account_id = '9001'").iloc[0]
    assert (acct.handle, acct.followers_count) == ("AcmeHelp", 1201)
    # The export's outbox holds the same statuses: they de-duplicate by status id.
    r = socialaudit.import_file(DATA / "mastodon_export" / "outbox.json", store=store)
    assert (r.inserted, r.duplicates) == (0, 3)


def test_mastodon_outbox_alone(store: socialaudit.Store) -> None:
    socialaudit.import_file(DATA / "mastodon_export" / "outbox.json", store=store)
    p = posts(store, "mastodon")
    assert set(p) == {"110000000000000002", "110000000000000003", "110000000000000004"}
    # A parent on another server keeps its URL: its id there is not an id here.
    assert p["110000000000000003"]["parent_id"].startswith("https://fosstodon.org/")
    assert p["110000000000000004"]["repost_of"].startswith("https://fosstodon.org/")
    assert p["110000000000000002"]["lang"] == "fr"
    handles = set(store.frame("SELECT handle FROM accounts").handle)
    assert handles == {"AcmeHelp"}  # from actor.json


def test_bluesky_feed_and_thread(store: socialaudit.Store) -> None:
    socialaudit.import_file(DATA / "bluesky_author_feed.json", store=store)
    socialaudit.import_file(DATA / "bluesky_thread.json", store=store)
    p = posts(store, "bluesky")
    q = "at://did:plc:kenji/app.bsky.feed.post/3kcust1"
    a = "at://did:plc:acme/app.bsky.feed.post/3kacme2"
    assert p[a]["parent_id"] == q and p[a]["root_id"] == q
    thanks = p["at://did:plc:kenji/app.bsky.feed.post/3kcust3"]
    assert (thanks["parent_id"], thanks["root_id"]) == (a, q)
    assert p[a]["permalink"] == "https://bsky.app/profile/acmehelp.bsky.social/post/3kacme2"
    assert list(p[q]["mentions"]) == ["acmehelp.bsky.social"]
    assert p["at://did:plc:acme/app.bsky.feed.post/3kacme1"]["quote_of"] == (
        "at://did:plc:news/app.bsky.feed.post/3knews"
    )
    repost = [v for k, v in p.items() if "#repost-by-" in k]
    assert len(repost) == 1 and repost[0]["author_id"] == "did:plc:acme"
    acct = store.frame("SELECT * FROM accounts WHERE account_id = 'did:plc:acme'").iloc[0]
    assert acct.followers_count == 800  # kept although a reply ref showed the author without it
    assert not any("3kdeleted" in k for k in p)  # notFoundPost is not a post


def test_reddit_tree_and_pushshift(store: socialaudit.Store) -> None:
    socialaudit.import_file(DATA / "reddit_comments.json", store=store)
    p = posts(store, "reddit")
    assert p["t1_j1"]["parent_id"] == "t3_11abcd" and p["t1_j2"]["parent_id"] == "t1_j1"
    assert p["t1_j2"]["root_id"] == "t3_11abcd"
    assert p["t3_11abcd"]["text"] == (
        'Order stuck in "processing" for a week\n\nAnyone else? u/AcmeHelp please look & reply'
    )
    assert list(p["t3_11abcd"]["mentions"]) == ["AcmeHelp"]
    assert p["t1_j1"]["permalink"] == (
        "https://www.reddit.com/r/AcmeSupport/comments/11abcd/order_stuck/j1/"
    )
    raw = store.frame("SELECT raw FROM quarantine").raw[0]
    assert json.loads(raw)["author"] == "[deleted]"
    r = socialaudit.import_file(DATA / "pushshift.ndjson", store=store)
    assert (r.inserted, r.duplicates, r.quarantined) == (1, 2, 1)
    p = posts(store, "reddit")
    assert p["t1_j4"]["parent_id"] == "t1_j1" and p["t1_j4"]["text"].startswith("Привет")


def test_youtube_threads_and_uci(store: socialaudit.Store) -> None:
    socialaudit.import_file(DATA / "youtube_comment_threads.json", store=store)
    p = posts(store, "youtube")
    assert p["UgxTOP1"]["text"] == 'Does this work with model X? "asking" for a friend\n🙂'
    assert p["UgxTOP1.R1"]["parent_id"] == "UgxTOP1"
    assert p["UgxTOP1.R1"]["permalink"] == "https://www.youtube.com/watch?v=vid123&lc=UgxTOP1.R1"
    assert p["UgxTOP1"]["reply_count"] == 1
    socialaudit.import_file(DATA / "youtube_uci.csv", store=store)
    p = posts(store, "youtube")
    assert p["z1aa"]["text"] == "Check this & subscribe"
    assert p["z1bb"]["text"] == "nice song 😍 <3"
    reasons = set(store.frame("SELECT reason FROM quarantine").reason)
    assert {"missing timestamp", "wrong number of fields"} <= reasons


@pytest.mark.skipif(
    not (Path(__file__).resolve().parents[2] / "shared/data/youtube_spam").exists(),
    reason="../shared/data/youtube_spam is absent",
)
def test_uci_youtube_spam_files(store: socialaudit.Store) -> None:
    folder = Path(__file__).resolve().parents[2] / "shared/data/youtube_spam"
    for path in sorted(folder.glob("*.csv")):
        r = socialaudit.import_file(path, store=store)
        assert r.format == "youtube_csv"
        assert r.read == r.inserted + r.duplicates + r.quarantined
        assert r.inserted > 300
    leftovers = store.frame("SELECT count(*) AS n FROM posts WHERE text LIKE '%&amp;%'").n[0]
    assert leftovers == 0


def test_zeeschuimer_keeps_raw(store: socialaudit.Store) -> None:
    socialaudit.import_file(DATA / "zeeschuimer.ndjson", store=store)
    p = posts(store, "twitter")
    reply = p["1750000000000000002"]
    assert (reply["author_id"], reply["parent_id"]) == ("100", "1750000000000000001")
    assert p["1750000000000000001"]["view_count"] == 321
    assert p["1750000000000000001"]["text"] == "@AcmeHelp still waiting & waiting"
    assert posts(store, "truthsocial")["111"]["text"] == "Hello & welcome"
    raw = store.frame("SELECT platform, post_id, format, raw FROM raw_records ORDER BY post_id")
    assert len(raw) == 3 and set(raw.format) == {"zeeschuimer"}
    assert json.loads(raw.raw[0])["source_platform"] in ("x.com", "truthsocial.com")
    q = store.frame("SELECT reason, raw FROM quarantine").iloc[0]
    assert q.reason == "platform not supported"
    assert json.loads(q.raw)["source_platform"] == "instagram.com"
    acct = store.frame("SELECT * FROM accounts WHERE account_id = '100'").iloc[0]
    assert (acct.handle, acct.followers_count) == ("AcmeHelp", 5100)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "cut.json",
            '{"feed": [{"post": {"uri": "at://did:plc:a/app.bsky.feed.post/1"',
            "truncated",
        ),
        (
            "cut.jsonl",
            '{"data": [{"id": "1", "public_metrics": {}}]}\n{"data": [{"id"',
            "truncated",
        ),
        ("bad.json", '[{"id_str": "1", "user": {"screen_name": "x"}} oops]', "not valid JSON"),
    ],
)
def test_broken_json_leaves_store_untouched(
    tmp_path: Path, store: socialaudit.Store, name: str, content: str, message: str
) -> None:
    socialaudit.import_file(DATA / "bluesky_thread.json", store=store)
    before = snapshot(store)
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        socialaudit.import_file(path, store=store)
    assert snapshot(store) == before


def test_roots_fill_in_when_the_parent_arrives_later(
    tmp_path: Path, store: socialaudit.Store
) -> None:
    lines = (DATA / "pushshift.ndjson").read_text(encoding="utf-8").splitlines()
    (tmp_path / "comments.ndjson").write_text(lines[2] + "\n", encoding="utf-8")
    (tmp_path / "rest.ndjson").write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")
    socialaudit.import_file(tmp_path / "comments.ndjson", store=store)
    # Pushshift gives comments their submission as root, so that one is known at once.
    assert posts(store, "reddit")["t1_j4"]["root_id"] == "t3_11abcd"
    tweets = [
        {
            "id": "5",
            "text": "reply",
            "author_id": "2",
            "created_at": "2023-01-01T00:05:00Z",
            "referenced_tweets": [{"type": "replied_to", "id": "4"}],
            "public_metrics": {},
        },
    ]
    (tmp_path / "late.jsonl").write_text(json.dumps({"data": tweets}) + "\n", encoding="utf-8")
    socialaudit.import_file(tmp_path / "late.jsonl", store=store)
    assert pd.isna(posts(store, "twitter")["5"]["root_id"])
    first = [
        {
            "id": "4",
            "text": "q",
            "author_id": "1",
            "created_at": "2023-01-01T00:00:00Z",
            "public_metrics": {},
        }
    ]
    (tmp_path / "early.jsonl").write_text(json.dumps({"data": first}) + "\n", encoding="utf-8")
    socialaudit.import_file(tmp_path / "early.jsonl", store=store)
    assert posts(store, "twitter")["5"]["root_id"] == "4"


def test_html_to_text_is_a_parser_not_a_regex() -> None:
    assert html_to_text("<p>a &amp; b</p><p>c<br/>d</p>") == "a & b\n\nc\nd"
    assert html_to_text('<a href="x>y">link</a> &lt;b&gt;') == "link <b>"
    assert html_to_text("<style>p{}</style><script>x()</script>ok") == "ok"
    assert html_to_text("") == ""
    assert html_to_text(None) is None


def test_cli_import_detects_platform_formats(runner, app, tmp_path: Path) -> None:
    db = tmp_path / "cli.duckdb"
    result = runner.invoke(app, ["--db", str(db), "import", str(DATA / "bluesky_thread.json")])
    assert result.exit_code == 0, result.output
    assert "Imported 4 of 4 records" in result.output
